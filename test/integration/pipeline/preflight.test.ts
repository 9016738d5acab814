// preflight() against the lab's Samba DC: one verdict, steps reported, missing parts "not checked".
import { describe, it, expect, beforeAll } from 'vitest';
import { preflight } from '../../../src/pipeline/preflight.js';
import { parseHostPort } from '../../../src/core/target.js';
import { createPreflight } from '../../../src/bulk/session.js';
import { Secret } from '../../../src/core/secret.js';
import { defineProvider } from '../../../src/providers/types.js';
import { CredgateError } from '../../../src/core/errors.js';
import { samba, sambaScenario, type SambaState, sambaDirectory } from '../../lab/state.js';

let lab: SambaState;
beforeAll(() => {
  lab = samba();
});
const directory = sambaDirectory;

describe('parseHostPort', () => {
  it.each([
    ['web01', 'web01', 3389],
    ['web01:3390', 'web01', 3390],
    ['[::1]:3389', '::1', 3389],
    ['[::1]', '::1', 3389],
    ['2001:db8::1', '2001:db8::1', 3389],
    ['10.0.0.5:13389', '10.0.0.5', 13389],
  ])('%s', (input, host, port) => expect(parseHostPort(input)).toEqual({ host, port }));
  it('rejects bad ports', () => expect(() => parseHostPort('web01:99999')).toThrow(/not a host\[:port\]/));
});

describe('preflight', () => {
  it('a good account: ok, and every part it could not check is named', async () => {
    const s = sambaScenario('good');
    const seen: string[] = [];
    const r = await preflight({ host: '127.0.0.1', account: s.upn, password: new Secret(s.password) }, { directory: directory(), rdp: { probe: false }, onFinding: (f) => seen.push(f.code) });
    expect(r.ok).toBe(true);
    expect(r.verdict.exitCode).toBe(0);
    expect(r.steps.find((x) => x.name === 'ldap-bind')?.status).toBe('passed');
    expect(r.steps.find((x) => x.name === 'account-state')?.status).toBe('passed');
    expect(r.steps.find((x) => x.name === 'provider')?.status).toBe('not-checked');
    expect(seen).toEqual(expect.arrayContaining(['ldap.ok', 'account.ok']));
    // a pass names what proved the credential and what it did not prove
    expect(r.headline).toMatch(/^The credential of .* is good: accepted by the directory \(not checked: .*\)\. Not proved: its right to an RDP session on 127\.0\.0\.1/);
    expect(r.verdict.findings.find((f) => f.code === 'rdp.logon-right-not-checked')).toMatchObject({ severity: 'info', evidence: { provedBy: ['ldap.ok'], host: '127.0.0.1' } });
  });

  it('a wrong vault password: names the vault and says not to purge the cache', async () => {
    const s = sambaScenario('wrong-password');
    const vault = defineProvider({
      name: 'test-vault',
      async resolve() {
        return { username: s.upn, secret: new Secret(s.tryPassword), source: 'test-vault rdp/bob', changedAt: new Date('2026-01-01T00:00:00Z') };
      },
    });
    const r = await preflight({ host: 'web01', provider: 'v', ref: 'rdp/bob' }, { providers: { v: vault }, directory: directory(), rdp: { probe: false } });
    expect(r.ok).toBe(false);
    expect(r.verdict.code).toBe('ldap.invalid-credentials');
    expect(r.verdict.exitCode).toBe(1);
    expect(r.headline).toBe(`The vault's password for ${s.upn} is wrong (AD 52e) — rotate or reconcile it in the vault; do not purge the client cache.`);
    expect(r.target.changedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(JSON.stringify(r)).not.toContain(s.tryPassword);
  });

  it('one failure from lockout: does not bind, says why', async () => {
    const r = await preflight({ host: 'web01', account: `${lab.nearLocked.user}@pamtest.local`, password: new Secret('would-lock-it') }, { directory: directory(), rdp: { probe: false } });
    expect(r.verdict.code).toBe('ldap.lockout-risk');
    expect(r.steps.find((x) => x.name === 'ldap-bind')).toMatchObject({ status: 'not-checked', note: expect.stringContaining('ldap.lockout-risk') });
  });

  it('a provider fault is a provider verdict (exit 5), not a crash', async () => {
    const broken = defineProvider({
      name: 'broken',
      async resolve() {
        throw new CredgateError('The vault at https://127.0.0.1:1 is unavailable.', { code: 'PROVIDER_UNAVAILABLE' });
      },
    });
    // no probe: it would look up web01 through the machine's resolver, off loopback
    const r = await preflight({ host: 'web01', provider: broken, ref: 'x' }, { directory: directory(), rdp: { probe: false } });
    expect(r.verdict).toMatchObject({ code: 'provider.unavailable', exitCode: 5 });
    expect(r.steps.find((x) => x.name === 'ldap-bind')?.status).toBe('not-checked');
  });

  it('createPreflight: check many targets, dispose the providers once', async () => {
    let disposed = 0;
    const p = createPreflight({ directory: directory(), rdp: { probe: false }, providers: { x: defineProvider({ name: 'x', resolve: async () => { throw new Error('unused'); }, dispose: () => { disposed++; } }) } });
    const s = sambaScenario('disabled');
    const r = await p.check({ host: 'web01', account: s.upn, password: new Secret(s.password) });
    expect(r.verdict.code).toBe('ldap.account-disabled');
    await p.dispose();
    await p.dispose();
    expect(disposed).toBe(1);
    await expect(p.check({ host: 'h', account: 'a', password: new Secret('p') })).rejects.toThrow(/disposed/);
  });
});

describe('preflight with the RDP host and the client cache', () => {
  const staleCache = async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-pf-'));
    const file = path.join(dir, 'ws.json');
    fs.writeFileSync(file, JSON.stringify({
      schema: 'credgate-collector/1', machine: 'WS-1',
      credentials: [{ target: 'Domain:target=TERMSRV/127.0.0.1', type: 'domain-password', userName: 'PAMTEST\\alice', lastWritten: '2020-01-01T00:00:00Z' }],
    }));
    return file;
  };

  it('password given by the caller right, client cache stale: exit 6, and the headline does not credit a vault', async () => {
    const { labPart } = await import('../../lab/state.js');
    const rdp = labPart<{ valid: { port: number }; caFile: string }>('rdp');
    const s = sambaScenario('good');
    const r = await preflight({ host: `127.0.0.1:${rdp.valid.port}`, account: s.upn, password: new Secret(s.password) }, {
      directory: directory(), rdp: { caFile: rdp.caFile }, cache: { files: [await staleCache()] },
    });
    expect(r.steps.map((x) => [x.name, x.status])).toEqual([
      ['provider', 'not-checked'], ['account-state', 'passed'], ['kerberos', 'not-checked'], ['ldap-bind', 'passed'], ['rdp-endpoint', 'passed'], ['rdp-nla', 'not-checked'], ['cache', 'failed'],
    ]);
    expect(r.verdict).toMatchObject({ code: 'cache.stale-password', exitCode: 6 });
    expect(r.headline).toBe(`The password given for ${s.upn} is right; the client caches an older one for TERMSRV/127.0.0.1, written before the password last changed — purge TERMSRV/127.0.0.1.`);
  });

  it('the vault\'s password right, client cache stale: the headline names the vault', async () => {
    const { labPart } = await import('../../lab/state.js');
    const rdp = labPart<{ valid: { port: number }; caFile: string }>('rdp');
    const s = sambaScenario('good');
    const vault = defineProvider({ name: 'test-vault', resolve: async () => ({ username: s.upn, secret: new Secret(s.password), source: 'test-vault rdp/alice' }) });
    const r = await preflight({ host: `127.0.0.1:${rdp.valid.port}`, provider: vault, ref: 'rdp/alice' }, {
      directory: directory(), rdp: { caFile: rdp.caFile }, cache: { files: [await staleCache()] },
    });
    expect(r.verdict).toMatchObject({ code: 'cache.stale-password', exitCode: 6 });
    expect(r.headline).toBe(`The vault's password for ${s.upn} is right; the client caches an older one for TERMSRV/127.0.0.1, written before the password last changed — purge TERMSRV/127.0.0.1.`);
    expect(JSON.stringify(r)).not.toContain(s.password);
  });
});

describe('preflight with NLA', () => {
  it('a good account is proven by the RDP host itself at the NLA step', async () => {
    const { labPart } = await import('../../lab/state.js');
    const rdp = labPart<{ nla: { port: number } }>('rdp');
    const s = sambaScenario('good');
    const r = await preflight({ host: `127.0.0.1:${rdp.nla.port}`, account: s.downLevel, password: new Secret(s.password) }, { directory: directory() });
    expect(r.verdict).toMatchObject({ ok: true, code: 'rdp.nla-ok', exitCode: 0 });
    expect(r.steps.find((x) => x.name === 'rdp-nla')?.status).toBe('passed');
  });

  it('a password the directory rejects is not tried again at the host', async () => {
    const { labPart } = await import('../../lab/state.js');
    const rdp = labPart<{ nla: { port: number } }>('rdp');
    const s = sambaScenario('wrong-password');
    const r = await preflight({ host: `127.0.0.1:${rdp.nla.port}`, account: s.upn, password: new Secret(s.tryPassword) }, { directory: directory() });
    expect(r.verdict.code).toBe('ldap.invalid-credentials');
    expect(r.steps.find((x) => x.name === 'rdp-nla')).toMatchObject({ status: 'not-checked', note: expect.stringContaining('already rejected') });
  });
});
