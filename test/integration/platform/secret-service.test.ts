// Secret Service modification times against the lab's REAL gnome-keyring (private D-Bus session):
// items written with @github/keytar, their Modified time read with busctl and with gdbus, then
// used as the keychain provider's changedAt and the keychain cache source's lastWritten (so the
// stale-password rule can judge keychain entries).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { labPart } from '../../lab/state.js';
import { loadKeytar, fromKeychain, type KeytarApi } from '../../../src/providers/keychain.js';
import { secretServiceModified } from '../../../src/platform/secret-service.js';
import { keychainCacheSource } from '../../../src/cache/sources/keychain.js';
import { inspectCache } from '../../../src/cache/inspect.js';

interface KeyringState { env: Record<string, string> }

const RUN = `TERMSRV/sstime-${process.pid}-${Date.now().toString(36)}.pamtest.local`; // an RDP host's entry, as a PAM client names it
// quotes, a backslash, spaces and a leading dash: argv-safe for busctl, GVariant-quoted for gdbus
const ODD_SVC = `${RUN} it's a\\b`;
const ODD_ACC = "-o 'x'";
let kt: KeytarApi & { setPassword(s: string, a: string, p: string): Promise<void>; deletePassword(s: string, a: string): Promise<boolean> };
let lab: KeyringState;
let before: number;
let after: number;
const made: Array<[string, string]> = [];

beforeAll(async () => {
  lab = labPart<KeyringState>('keyring');
  Object.assign(process.env, lab.env);
  kt = (await loadKeytar('@github/keytar')) as typeof kt;
  before = Math.floor(Date.now() / 1000) * 1000;
  for (const [s, a] of [[RUN, 'PAMTEST\\alice'], [ODD_SVC, ODD_ACC]] as const) {
    await kt.setPassword(s, a, 'SecretService!Time-1');
    made.push([s, a]);
  }
  after = Date.now();
});

afterAll(async () => {
  for (const [s, a] of made) await kt.deletePassword(s, a).catch(() => false);
});

describe('Secret Service Modified time', () => {
  it.each(['busctl', 'gdbus'] as const)('%s reads the time keytar wrote the item, for plain and odd names', async (tool) => {
    for (const [s, a] of made) {
      const t = await secretServiceModified(s, a, { tool, env: process.env });
      expect(t, `${tool} ${s}`).toBeInstanceOf(Date);
      expect(t!.getTime()).toBeGreaterThanOrEqual(before);
      expect(t!.getTime()).toBeLessThanOrEqual(after + 1000);
    }
  });

  it('unknown when it cannot be known: no item, no tool on PATH, not Linux', async () => {
    expect(await secretServiceModified(RUN, 'nobody')).toBeUndefined();
    expect(await secretServiceModified(RUN, 'PAMTEST\\alice', { env: { ...process.env, PATH: '/nonexistent' } })).toBeUndefined();
    expect(await secretServiceModified(RUN, 'PAMTEST\\alice', { platform: 'darwin' })).toBeUndefined();
    // a bus that does not exist: both tools fail quietly
    expect(await secretServiceModified(RUN, 'PAMTEST\\alice', { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' }, timeoutMs: 2000 })).toBeUndefined();
  });

  it('the keychain provider reports it as changedAt (unless changedAt: false)', async () => {
    const c = await fromKeychain().resolve({ service: RUN, account: 'PAMTEST\\alice' });
    expect(c.changedAt!.getTime()).toBeGreaterThanOrEqual(before);
    expect(c.changedAt!.getTime()).toBeLessThanOrEqual(after + 1000);
    expect((await fromKeychain({ changedAt: false }).resolve({ service: RUN, account: 'PAMTEST\\alice' })).changedAt).toBeUndefined();
  });

  it('the keychain cache source reports it as lastWritten, so a later password change makes the entry stale', async () => {
    const [e] = await keychainCacheSource({ services: [RUN] }).list();
    expect(e!.lastWritten!.getTime()).toBeGreaterThanOrEqual(before);
    const changedLater = new Date(after + 60_000);
    const stale = inspectCache({ entries: [e!], hints: [], changedAt: changedLater });
    expect(stale.findings.map((f) => f.code)).toEqual(['cache.stale-password']);
    const changedBefore = new Date(before - 60_000);
    expect(inspectCache({ entries: [e!], hints: [], changedAt: changedBefore }).findings.map((f) => f.code)).not.toContain('cache.stale-password');
    const [plain] = await keychainCacheSource({ services: [RUN], lastWritten: false }).list();
    expect(plain!.lastWritten).toBeUndefined();
  });

  it('the D-Bus tool gets only what it needs to find the bus: no token or password variable', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-sstool-'));
    try {
      const dump = path.join(dir, 'env.txt');
      fs.writeFileSync(path.join(dir, 'busctl'), `#!/bin/sh\nenv > '${dump}'\nexit 1\n`, { mode: 0o755 });
      const t = await secretServiceModified(RUN, 'PAMTEST\\alice', {
        tool: 'busctl', env: { PATH: `${dir}:/usr/bin:/bin`, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent', VAULT_TOKEN: 'hvs.sstool-token', RDP_PW: 'SecretService!Env-1' },
      });
      expect(t).toBeUndefined();
      const seen = fs.readFileSync(dump, 'utf8');
      expect(seen).toContain('DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent');
      expect(seen).not.toMatch(/hvs\.sstool-token|SecretService!Env-1|VAULT_TOKEN|RDP_PW/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
