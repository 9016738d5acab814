// The keychain cache source against a REAL Secret Service: the lab's gnome-keyring in a private
// D-Bus session (test/lab/keyring.mjs). Items are written with @github/keytar and secret-tool,
// listed through keychainCacheSource (service + account only), rated by the rules, and removed.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { inspect } from 'node:util';
import { labPart } from '../../../lab/state.js';
import { loadKeytar } from '../../../../src/providers/keychain.js';
import { keychainCacheSource, keychainRawTarget, parseKeychainRawTarget } from '../../../../src/cache/sources/keychain.js';
import { inspectCache } from '../../../../src/cache/inspect.js';
import { planPurge, executePurge, cmdkeyCommands } from '../../../../src/cache/purge.js';
import { isCredgateError, type CredgateError } from '../../../../src/core/errors.js';
import { runCli } from '../../../helpers/cli.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

interface KeyringState { env: Record<string, string> }
interface Kt {
  setPassword(s: string, a: string, p: string): Promise<void>;
  deletePassword(s: string, a: string): Promise<boolean>;
  getPassword(s: string, a: string): Promise<string | null>;
  findCredentials(s: string): Promise<Array<{ account: string; password: string }>>;
}

const RUN = `cg-cache-${process.pid}-${Date.now().toString(36)}`;
const SVC = `TERMSRV/${RUN}.pamtest.local`; // how a PAM client would name an RDP host's credential
const OTHER = `${RUN}-other:svc`;
const PW = 'Cached!Keychain-ü-41';
const PW2 = 'Cached!Keychain-42';
let kt: Kt;
let lab: KeyringState;
const made: Array<[string, string]> = [];

beforeAll(async () => {
  lab = labPart<KeyringState>('keyring');
  Object.assign(process.env, lab.env); // before the first keytar call: libsecret reads the bus address then
  kt = (await loadKeytar('@github/keytar')) as unknown as Kt;
  for (const [s, a, p] of [[SVC, 'PAMTEST\\svc-rdp', PW], [SVC, 'PAMTEST\\olduser', PW2], [OTHER, 'a:b/c', PW]] as const) {
    await kt.setPassword(s, a, p);
    made.push([s, a]);
  }
  // one item written by another Secret Service client (libsecret's secret-tool) with keytar's schema
  execFileSync('secret-tool', ['store', '--label', 'credgate test', 'service', OTHER, 'account', 'from-secret-tool', 'xdg:schema', 'org.freedesktop.Secret.Generic'], { input: PW2, env: { ...process.env, ...lab.env }, timeout: 5000 });
  made.push([OTHER, 'from-secret-tool']);
});

afterAll(async () => {
  for (const [s, a] of made) await kt.deletePassword(s, a).catch(() => false);
});

describe('keychain cache source on the lab Secret Service', () => {
  it('lists service and account for every item, never the password', async () => {
    const src = keychainCacheSource({ services: [SVC, OTHER, `${RUN}-absent`] });
    const list = await src.list();
    const key = (x: string[]) => x.join('\u0000');
    expect(list.map((e) => [e.target, e.username!, e.type, e.source]).sort((a, b) => (key(a) < key(b) ? -1 : 1))).toEqual([
      [SVC, 'PAMTEST\\olduser', 'keychain', 'keychain'],
      [SVC, 'PAMTEST\\svc-rdp', 'keychain', 'keychain'],
      [OTHER, 'a:b/c', 'keychain', 'keychain'],
      [OTHER, 'from-secret-tool', 'keychain', 'keychain'],
    ]);
    expect(list.find((e) => e.target === SVC)!.normalizedHost).toBe(`${RUN}.pamtest.local`);
    const dump = JSON.stringify(list) + inspect(list, { depth: 6 });
    for (const s of [PW, PW2]) expect(dump.includes(s), 'password leaked').toBe(false);
    for (const e of list) expect(Object.keys(e).sort()).toEqual(expect.not.arrayContaining(['password', 'secret']));
  });

  it('the rules rate keychain entries: another user cached for the host is wrong-user', async () => {
    const entries = await keychainCacheSource({ services: [SVC] }).list();
    const r = inspectCache({ entries, account: 'svc-rdp@pamtest.local', host: `${RUN}.pamtest.local` });
    expect(r.findings.map((f) => [f.code, f.evidence.username])).toEqual([['cache.wrong-user', 'PAMTEST\\olduser']]);
  });

  it('purge removes exactly the planned keychain item through deletePassword, idempotently; cmdkey is not offered for it', async () => {
    const src = keychainCacheSource({ services: [SVC] });
    const entries = await src.list();
    // wrong-user judges the account for one host: without it nothing is planned
    expect(planPurge(inspectCache({ entries, account: 'PAMTEST\\svc-rdp' }).findings, entries).items).toEqual([]);
    const r = inspectCache({ entries, account: 'PAMTEST\\svc-rdp', host: `${RUN}.pamtest.local` });
    const plan = planPurge(r.findings, entries);
    expect(plan.items.map((i) => i.rawTarget)).toEqual([keychainRawTarget(SVC, 'PAMTEST\\olduser')]);
    expect(cmdkeyCommands(plan)).toEqual([]);
    const audit = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cg-kc-')), 'audit.jsonl');
    const rec = await executePurge(plan, { yes: true, auditFile: audit, source: src });
    expect(rec.items.map((i) => i.result)).toEqual(['deleted']);
    expect(await kt.getPassword(SVC, 'PAMTEST\\olduser')).toBeNull();
    expect(await kt.getPassword(SVC, 'PAMTEST\\svc-rdp')).toBe(PW); // outside the plan: untouched
    const again = await executePurge(plan, { yes: true, auditFile: audit, source: src });
    expect(again.items.map((i) => i.result)).toEqual(['already-gone']);
    const lines = fs.readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { phase: string });
    expect(lines.map((l) => l.phase)).toEqual(['planned', 'done', 'planned', 'done']);
    expect(fs.readFileSync(audit, 'utf8')).not.toContain(PW);
  });

  it('raw targets split back unambiguously; a foreign raw target is refused without deleting', async () => {
    expect(parseKeychainRawTarget(keychainRawTarget('a:b/c', 'x:y%z'))).toEqual({ service: 'a:b/c', account: 'x:y%z' });
    const e = await keychainCacheSource({ services: [SVC] }).remove!('Domain:target=TERMSRV/x').then(() => undefined, (x: unknown) => x);
    expect(isCredgateError(e) && (e as CredgateError).code).toBe('INPUT_INVALID');
    expect(await kt.getPassword(SVC, 'PAMTEST\\svc-rdp')).toBe(PW);
  });

  it('credgate cache purge --keychain --yes deletes the planned item on the real Secret Service, and only it', async () => {
    const svc = `TERMSRV/${RUN}-cli.pamtest.local`;
    for (const [a, p] of [['PAMTEST\\svc-rdp', PW], ['PAMTEST\\former', PW2]] as const) {
      await kt.setPassword(svc, a, p);
      made.push([svc, a]);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-kc-cli-'));
    const args = ['cache', 'purge', '--keychain', svc, '--account', 'svc-rdp@pamtest.local', '--host', `${RUN}-cli.pamtest.local`];
    try {
      const dry = await runCli([...args, '--json'], { env: lab.env, secrets: [PW, PW2], cwd: dir });
      expect(dry.code).toBe(6);
      expect(dry.json.plan.items.map((i: { rawTarget: string; rule: string }) => [i.rawTarget, i.rule])).toEqual([[keychainRawTarget(svc, 'PAMTEST\\former'), 'cache.wrong-user']]);
      expect(await kt.getPassword(svc, 'PAMTEST\\former')).toBe(PW2); // a dry run deletes nothing
      const yes = await runCli([...args, '--yes'], { env: lab.env, secrets: [PW, PW2], cwd: dir });
      expect(yes.code).toBe(0);
      expect(yes.stdout).toContain(`deleted: ${svc} (PAMTEST\\former)`);
      expect(yes.stdout).not.toContain('cmdkey'); // a keychain item is not a Credential Manager entry
      expect(await kt.getPassword(svc, 'PAMTEST\\former')).toBeNull();
      expect(await kt.getPassword(svc, 'PAMTEST\\svc-rdp')).toBe(PW); // outside the plan: untouched
      const audit = fs.readFileSync(path.join(dir, 'credgate-purge-audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { phase: string; mode: string; items: Array<{ result?: string }> });
      expect(audit.map((l) => [l.phase, l.mode, l.items.map((i) => i.result)])).toEqual([['planned', 'delete', [undefined]], ['done', 'delete', ['deleted']]]);
      for (const s of [PW, PW2]) expect(fs.readFileSync(path.join(dir, 'credgate-purge-audit.jsonl'), 'utf8')).not.toContain(s);
      // idempotent: the second run finds nothing to purge
      const again = await runCli([...args, '--yes', '--json'], { env: lab.env, secrets: [PW, PW2], cwd: dir });
      expect(again.json.items).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('credgate cache list --keychain in a child process on the same bus: no password on stdout or stderr', async () => {
    const r = await runCli(['cache', 'list', '--keychain', OTHER, '--json'], { env: lab.env, secrets: [PW, PW2] });
    expect(r.code).toBe(0);
    expect(r.json.entries.map((e: { username: string }) => e.username).sort()).toEqual(['a:b/c', 'from-secret-tool']);
  });
});
