// fromLaps against the lab's real Samba AD DC, whose schema test/lab/samba-laps.mjs extended with
// the Windows LAPS and legacy LAPS attributes (confidential, as on Windows). The reader svc-laps
// holds the read right on OU=LAPS Lab only; svc-reader holds none.
import { describe, it, expect, beforeAll } from 'vitest';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { samba, type SambaState } from '../../lab/state.js';
import { fromLaps, computerFilter } from '../../../src/providers/laps.js';
import { loadConfig, createProvider } from '../../../src/providers/config.js';
import { Secret } from '../../../src/core/secret.js';
import type { CredgateError } from '../../../src/core/errors.js';
import { expectThrow, failsWith } from '../../helpers/provider-conformance.js';

interface LapsComputer { name: string; dn: string; dnsHostName: string; kind: string; account?: string; password?: string; legacyPassword?: string; updatedAt?: string; expiresAt?: string }
interface LapsState { ou: string; reader: { user: string; password: string; upn: string; dn: string }; computers: Record<string, LapsComputer> }

let lab: SambaState;
let laps: LapsState;
let secrets: string[];

const fails = (p: Promise<unknown>, code: string): Promise<CredgateError> => failsWith(p, code, () => secrets);

const reader = (extra: Record<string, unknown> = {}) => fromLaps({ url: lab.ldapsUrl, caFile: lab.caFile, user: laps.reader.upn, password: laps.reader.password, ...extra });

beforeAll(() => {
  lab = samba();
  laps = (lab as unknown as { laps: LapsState }).laps;
  if (!laps) throw new Error('the samba lab part has no LAPS state; restart it (node test/lab/cli.mjs down samba && up samba)');
  secrets = [laps.reader.password, lab.reader.password, ...Object.values(laps.computers).flatMap((c) => [c.password, c.legacyPassword]).filter((x): x is string => !!x)];
});

describe('fromLaps on Samba AD with the LAPS schema', () => {
  it('Windows LAPS: account, password and update time from msLAPS-Password; domain is the computer', async () => {
    const c = laps.computers.windows!;
    const cred = await reader().resolve(c.name);
    expect(cred.secret).toBeInstanceOf(Secret);
    expect(cred.secret.reveal()).toBe(c.password);
    expect(cred.username).toBe(c.account);
    expect(cred.domain).toBe(c.name);
    // the FILETIME in "t" has 100 ns resolution; the lab wrote a millisecond date
    expect(cred.changedAt?.toISOString()).toBe(c.updatedAt);
    expect(cred.source).toBe(`laps msLAPS-Password ${c.dn}`);
    expect(JSON.stringify(cred) + inspect(cred)).not.toContain(c.password!);
  });

  it('finds the computer by NetBIOS name, name$, DNS host name and DN', async () => {
    const c = laps.computers.windows!;
    const p = reader();
    for (const ref of [c.name.toLowerCase(), `${c.name}$`, c.dnsHostName, c.dn, { computer: c.dnsHostName }]) {
      expect((await p.resolve(ref)).secret.reveal(), JSON.stringify(ref)).toBe(c.password);
    }
  });

  it('legacy LAPS: ms-Mcs-AdmPwd with the configured account name and no changedAt', async () => {
    const c = laps.computers.legacy!;
    const cred = await reader({ legacyAccount: 'LocalAdmin' }).resolve(c.name);
    expect(cred.secret.reveal()).toBe(c.password);
    expect(cred.username).toBe('LocalAdmin');
    expect(cred.changedAt).toBeUndefined();
    expect(cred.source).toBe(`laps ms-Mcs-AdmPwd ${c.dn}`);
  });

  it('both present: Windows LAPS wins by default, legacy on request', async () => {
    const c = laps.computers.both!;
    const w = await reader().resolve(c.name);
    expect(w.secret.reveal()).toBe(c.password);
    expect(w.username).toBe(c.account);
    const l = await reader({ prefer: 'legacy' }).resolve(c.name);
    expect(l.secret.reveal()).toBe(c.legacyPassword);
  });

  it('msLAPS-EncryptedPassword only: PROVIDER_UNSUPPORTED with what to do', async () => {
    const e = await fails(reader().resolve(laps.computers.encrypted!.name), 'PROVIDER_UNSUPPORTED');
    expect(e.message).toMatch(/msLAPS-EncryptedPassword/);
    expect(e.message).toMatch(/Get-LapsADPassword/);
  });

  it('no right to read (confidential attribute hidden, expiration visible): PROVIDER_FORBIDDEN', async () => {
    // svc-laps outside its OU
    const e = await fails(reader().resolve(laps.computers.outside!.name), 'PROVIDER_FORBIDDEN');
    expect(e.message).toMatch(/Set-LapsADReadPasswordPermission/);
    // a reader without any LAPS right, on both schemes
    const plain = fromLaps({ url: lab.ldapsUrl, caFile: lab.caFile, user: `${lab.reader.user}@pamtest.local`, password: lab.reader.password });
    await fails(plain.resolve(laps.computers.windows!.name), 'PROVIDER_FORBIDDEN');
    const e2 = await fails(plain.resolve(laps.computers.legacy!.name), 'PROVIDER_FORBIDDEN');
    expect(e2.details).toMatchObject({ scheme: 'legacy' });
  });

  it('not found: an unknown computer, a computer without LAPS, a non-computer DN', async () => {
    await fails(reader().resolve('NOSUCHPC99'), 'PROVIDER_NOT_FOUND');
    const e = await fails(reader().resolve(laps.computers.none!.name), 'PROVIDER_NOT_FOUND');
    expect(e.message).toMatch(/no LAPS password/);
    await fails(reader().resolve(`CN=Nope,${laps.ou}`), 'PROVIDER_NOT_FOUND');
  });

  it('a wrong reader password is PROVIDER_AUTH_FAILED, without the password anywhere', async () => {
    const wrong = 'Wrong!Reader-Pass-1';
    secrets.push(wrong);
    const e = await fails(reader({ password: wrong }).resolve(laps.computers.windows!.name), 'PROVIDER_AUTH_FAILED');
    expect(e.details).toMatchObject({ user: laps.reader.upn });
    expect(String(e.details?.diagnosticMessage)).toMatch(/52e/);
  });

  it('StartTLS on ldap:// works; plain ldap:// without it is refused at the factory', async () => {
    const c = laps.computers.windows!;
    const cred = await reader({ url: lab.ldapUrl, starttls: true }).resolve(c.name);
    expect(cred.secret.reveal()).toBe(c.password);
    expect(() => reader({ url: lab.ldapUrl })).toThrow(/plain/);
  });

  it('unreachable: every URL tried in order, then PROVIDER_UNAVAILABLE; untrusted certificate says so', async () => {
    const port = await new Promise<number>((r) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => r(p));
      });
    });
    const e = await fails(reader({ url: [`ldaps://127.0.0.1:${port}`, `ldaps://127.0.0.1:${port}`] }).resolve('X'), 'PROVIDER_UNAVAILABLE');
    expect((e.details?.attempts as unknown[]).length).toBe(2);
    // failover: a dead URL first, the DC second
    const ok = await reader({ url: [`ldaps://127.0.0.1:${port}`, lab.ldapsUrl] }).resolve(laps.computers.legacy!.name);
    expect(ok.secret.reveal()).toBe(laps.computers.legacy!.password);
    const untrusted = await fails(fromLaps({ url: lab.ldapsUrl, user: laps.reader.upn, password: laps.reader.password }).resolve('X'), 'PROVIDER_UNAVAILABLE');
    expect(untrusted.message).toMatch(/caFile/);
  });

  it('abort: before and during; timeout on a server that never answers', async () => {
    await fails(reader().resolve('X', { signal: AbortSignal.abort() }), 'ABORTED');
    // a TCP server that accepts and stays silent
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const ac = new AbortController();
      const t0 = Date.now();
      const p = reader({ url: `ldaps://127.0.0.1:${port}` }).resolve('X', { signal: ac.signal });
      setTimeout(() => ac.abort(), 100);
      await fails(p, 'ABORTED');
      expect(Date.now() - t0).toBeLessThan(2000);
      const t1 = Date.now();
      await fails(reader({ url: `ldaps://127.0.0.1:${port}`, timeoutMs: 300 }).resolve('X'), 'TIMEOUT');
      expect(Date.now() - t1).toBeLessThan(3000);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('options: validated at the factory (no I/O), password from an env var, dispose idempotent', async () => {
    expect(() => fromLaps({ url: lab.ldapsUrl, user: 'x' } as never)).toThrow(/password/);
    expect(() => fromLaps({ url: 'http://x', user: 'x', password: 'y' })).toThrow(/LDAP URL/);
    expect(() => fromLaps({ url: lab.ldapsUrl, user: 'x', password: 'y', prefer: 'newest' } as never)).toThrow(/prefer/);
    expectThrow(() => fromLaps({ url: lab.ldapsUrl, user: 'x', passwordEnv: 'CG_TEST_UNSET_VAR' }), { code: 'CONFIG_INVALID', message: expect.stringContaining('CG_TEST_UNSET_VAR') }, secrets);
    expectThrow(() => fromLaps({ url: 'http://x', user: 'x', password: laps.reader.password }), { code: 'CONFIG_INVALID' }, secrets);
    const p = fromLaps({ url: lab.ldapsUrl, caFile: lab.caFile, user: laps.reader.upn, passwordEnv: 'LAPS_READER_PW', env: { LAPS_READER_PW: laps.reader.password } });
    expect((await p.resolve(laps.computers.windows!.name)).username).toBe('Administrator');
    p.dispose?.();
    p.dispose?.();
    await p[Symbol.asyncDispose]?.();
    await fails(p.resolve(laps.computers.windows!.name), 'USAGE');
  });

  it('from credgate.config.json: type "laps" with the reader password from an environment variable', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-laps-config-'));
    const env = `CG_LAPS_READER_${process.pid}`;
    process.env[env] = laps.reader.password;
    try {
      fs.writeFileSync(path.join(dir, 'credgate.config.json'), JSON.stringify({
        providers: { laps: { type: 'laps', options: { url: [lab.ldapsUrl], caFile: lab.caFile, user: laps.reader.upn, passwordEnv: env }, testRef: laps.computers.windows!.name } },
      }));
      const config = await loadConfig({ cwd: dir });
      const p = await createProvider(config, 'laps');
      expect(p.name).toBe('laps');
      const cred = await p.resolve(laps.computers.windows!.name);
      expect(cred.secret.reveal()).toBe(laps.computers.windows!.password);
      expect(fs.readFileSync(path.join(dir, 'credgate.config.json'), 'utf8')).not.toContain(laps.reader.password);
    } finally {
      delete process.env[env];
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the search filter escapes the name (no filter injection)', () => {
    const f = computerFilter('WEB*)(cn=*').toString();
    expect(f).not.toContain('(cn=*)');
    expect(f).toContain('\\2a');
  });
});
