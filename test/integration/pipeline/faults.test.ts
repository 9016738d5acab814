// preflight when a step fails to answer: a fault decides the verdict by its error code (never
// "will work"), the lockout guard holds when the account state cannot be read, the deadline is
// raced (a provider that ignores its signal cannot hold the verdict), steps overlap, and the
// onFinding hook can neither miss the not-checked findings nor break the check.
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { preflight } from '../../../src/pipeline/preflight.js';
import { Secret } from '../../../src/core/secret.js';
import { defineProvider } from '../../../src/providers/types.js';
import { CredgateError, type ErrorCode } from '../../../src/core/errors.js';
import { CC_NLA } from '../../helpers/rdp-fakes.js';
import { labPart, samba, sambaScenario, allLabPasswords, type SambaState, sambaDirectory } from '../../lab/state.js';

interface RdpLab { nla: { port: number }; valid: { port: number }; expired: { port: number }; caFile: string }
let lab: SambaState;
let rdp: RdpLab;
beforeAll(() => {
  lab = samba();
  rdp = labPart<RdpLab>('rdp');
});
const directory = sambaDirectory;
const step = (r: { steps: Array<{ name: string }> }, name: string) => r.steps.find((x) => x.name === name) as { name: string; status: string; note?: string; ms: number; startMs: number; findings: Array<{ code: string; evidence: Record<string, unknown> }> };
const noLeak = (r: unknown) => {
  const text = JSON.stringify(r);
  for (const p of allLabPasswords()) expect(text.includes(p), 'a lab password in the report').toBe(false);
};

describe('a step that throws decides the verdict by its error code', () => {
  it.each<[string, ErrorCode | 'plain Error', string, number]>([
    ['vault not found', 'PROVIDER_NOT_FOUND', 'provider.not-found', 5],
    ['vault forbids', 'PROVIDER_FORBIDDEN', 'provider.error', 5],
    ['provider timed out itself', 'TIMEOUT', 'provider.unavailable', 5],
    ['TLS failed', 'TLS_FAILED', 'step.tls-failed', 4],
    ['connection failed', 'CONNECTION_FAILED', 'step.connection-failed', 4],
    ['protocol error', 'PROTOCOL_ERROR', 'step.protocol-error', 4],
    ['bad configuration', 'CONFIG_INVALID', 'config.invalid', 2],
    ['internal error', 'INTERNAL', 'step.error', 70],
    ['a plain Error', 'plain Error', 'step.error', 70],
  ])('%s (%s) → %s, exit %i', async (_label, errorCode, code, exit) => {
    const p = defineProvider({
      name: 'faulty',
      async resolve() {
        if (errorCode === 'plain Error') throw new Error('boom');
        throw new CredgateError(`faulty: ${errorCode}`, { code: errorCode });
      },
    });
    const r = await preflight({ host: '127.0.0.1', provider: p, ref: 'x' }, { rdp: { probe: false } });
    expect(r.ok).toBe(false);
    expect(r.verdict).toMatchObject({ ok: false, code, exitCode: exit });
    expect(step(r, 'provider').status).toBe('error');
    expect(r.headline).not.toMatch(/is good/);
  });

  it('the NLA step hitting a protocol fault (the host garbles CredSSP) while the directory accepted the password: not ok, exit 4', async () => {
    // a loopback RDP host: negotiates NLA, completes TLS with the lab's certificate, then answers
    // the CredSSP TSRequest with bytes that are not one — the endpoint step passes, the NLA step throws
    const key = fs.readFileSync(path.join(path.dirname(rdp.caFile), 'valid.key'));
    const cert = fs.readFileSync(path.join(path.dirname(rdp.caFile), 'valid.crt'));
    const socks = new Set<net.Socket>();
    const srv = net.createServer((sock) => {
      socks.add(sock);
      sock.on('error', () => {});
      sock.once('data', () => {
        sock.write(CC_NLA);
        const t = new tls.TLSSocket(sock, { isServer: true, key, cert });
        t.on('error', () => {});
        t.once('data', () => t.end(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')));
      });
    });
    await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', () => ok()));
    try {
      const s = sambaScenario('good');
      const r = await preflight({ host: `127.0.0.1:${(srv.address() as net.AddressInfo).port}`, account: s.upn, password: new Secret(s.password) }, {
        directory: directory(), rdp: { caFile: rdp.caFile }, deadlineMs: 10_000,
      });
      expect(r.steps.map((x) => [x.name, x.status])).toEqual([
        ['provider', 'not-checked'], ['account-state', 'passed'], ['kerberos', 'not-checked'], ['ldap-bind', 'passed'], ['rdp-endpoint', 'passed'], ['rdp-nla', 'error'], ['cache', 'not-checked'],
      ]);
      expect(step(r, 'rdp-nla').findings[0]?.evidence.errorCode).toBe('PROTOCOL_ERROR');
      expect(r.verdict).toMatchObject({ ok: false, code: 'step.protocol-error', exitCode: 4 });
      expect(r.headline).not.toMatch(/is good/);
      noLeak(r);
    } finally {
      for (const x of socks) x.destroy();
      await new Promise((ok) => srv.close(ok));
    }
  });

  it('the NLA step failing TLS against the caller\'s RDP CA (a certificate that does not chain): not ok, exit 4, though the directory accepted the password', async () => {
    const s = sambaScenario('good');
    const r = await preflight({ host: `127.0.0.1:${rdp.nla.port}`, account: s.downLevel, password: new Secret(s.password) }, {
      directory: directory(), rdp: { caFile: rdp.caFile }, deadlineMs: 15_000,
    });
    expect(step(r, 'ldap-bind').status).toBe('passed');
    const nla = step(r, 'rdp-nla');
    expect(nla.status).toBe('error');
    expect(nla.findings[0]).toMatchObject({ code: 'step.tls-failed', evidence: { errorCode: 'TLS_FAILED', kind: 'untrusted' } });
    // the endpoint step fails on the same certificate (rdp.cert-untrusted, also exit 4); either
    // way the NLA step's fault is part of the verdict, never "will work"
    expect(r.ok).toBe(false);
    expect(r.verdict).toMatchObject({ ok: false, exitCode: 4 });
    expect(r.verdict.findings.map((f) => f.code)).toContain('step.tls-failed');
    expect(r.headline).not.toMatch(/is good/);
    noLeak(r);
  });
});

describe('lockout guard: the account state could not be read', () => {
  it('the service account is rejected (wrong service password): no bind, no NLA, a usage verdict', async () => {
    // the service account here is the lab's never-locking account (its PSO has no lockout), so a
    // wrong service password cannot lock anything in the shared lab
    const svc = sambaScenario('wrong-password');
    const s = sambaScenario('good');
    const r = await preflight({ host: `127.0.0.1:${rdp.nla.port}`, account: s.downLevel, password: new Secret(s.password) }, {
      directory: { urls: lab.ldapsUrl, caFile: lab.caFile, service: { username: svc.upn, password: new Secret(svc.tryPassword) } },
      deadlineMs: 15_000,
    });
    expect(step(r, 'account-state')).toMatchObject({ status: 'error', findings: [{ code: 'config.invalid' }] });
    expect(step(r, 'ldap-bind')).toMatchObject({ status: 'not-checked', note: expect.stringContaining('the account state could not be read (config.invalid)') });
    expect(step(r, 'rdp-nla')).toMatchObject({ status: 'not-checked', note: expect.stringContaining('the account state could not be read (config.invalid)') });
    expect(step(r, 'rdp-endpoint').status).toBe('passed');
    expect(r.verdict).toMatchObject({ ok: false, code: 'config.invalid', exitCode: 2 });
    noLeak(r);
  });

  it('the directory is unreachable: no bind, no NLA, an unreachable verdict', async () => {
    const s = sambaScenario('good');
    const r = await preflight({ host: `127.0.0.1:${rdp.nla.port}`, account: s.downLevel, password: new Secret(s.password) }, {
      directory: { ...directory(), urls: 'ldaps://127.0.0.1:1' }, deadlineMs: 15_000,
    });
    expect(step(r, 'ldap-bind').status).toBe('not-checked');
    expect(step(r, 'rdp-nla')).toMatchObject({ status: 'not-checked', note: expect.stringMatching(/account state could not be read \(net\./) });
    expect(r.verdict).toMatchObject({ ok: false, exitCode: 4 });
    expect(r.verdict.code).toMatch(/^net\./);
  });
});

describe('one deadline, raced', () => {
  it('a provider that never settles and ignores its signal: the verdict comes at the deadline, the step timed out', async () => {
    const hung = defineProvider({ name: 'hung', resolve: () => new Promise(() => {}) });
    const s = sambaScenario('good');
    const t0 = performance.now();
    const r = await preflight({ host: `127.0.0.1:${rdp.nla.port}`, account: s.downLevel, provider: hung, ref: 'x' }, {
      directory: directory(), deadlineMs: 400,
    });
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(380);
    expect(elapsed).toBeLessThan(400 + 600);
    expect(step(r, 'provider')).toMatchObject({ status: 'error', note: expect.stringContaining('timed out'), findings: [{ code: 'provider.unavailable', evidence: { errorCode: 'TIMEOUT' } }] });
    expect(step(r, 'ldap-bind').status).toBe('not-checked');
    expect(step(r, 'rdp-nla').status).toBe('not-checked');
    expect(r.verdict).toMatchObject({ ok: false, code: 'provider.unavailable', exitCode: 5 });
  }, 5_000);

  it('a provider that answers only after the deadline does not change the report', async () => {
    const s = sambaScenario('good');
    const late = defineProvider({ name: 'late', resolve: () => new Promise((ok) => setTimeout(() => ok({ username: s.upn, secret: new Secret(s.password), source: 'late' }), 500)) });
    const r = await preflight({ host: '127.0.0.1', provider: late, ref: 'x' }, { rdp: { probe: false }, deadlineMs: 200 });
    await new Promise((ok) => setTimeout(ok, 500));
    expect(r.verdict).toMatchObject({ ok: false, code: 'provider.unavailable' });
    expect(r.target.credentialSource).toBeUndefined();
  }, 5_000);

  it('independent steps run in parallel: the account state and the RDP probe overlap the provider', async () => {
    const s = sambaScenario('good');
    const slow = defineProvider({
      name: 'slow',
      resolve: () => new Promise((ok) => setTimeout(() => ok({ username: s.upn, secret: new Secret(s.password), source: 'slow' }), 400)),
    });
    const r = await preflight({ host: `127.0.0.1:${rdp.valid.port}`, account: s.upn, provider: slow, ref: 'x' }, {
      directory: directory(), rdp: { caFile: rdp.caFile }, deadlineMs: 15_000,
    });
    const [pv, st, ep, bind] = ['provider', 'account-state', 'rdp-endpoint', 'ldap-bind'].map((n) => step(r, n));
    expect([pv!.status, st!.status, ep!.status, bind!.status]).toEqual(['passed', 'passed', 'passed', 'passed']);
    const providerEnd = pv!.startMs + pv!.ms;
    expect(pv!.ms).toBeGreaterThanOrEqual(380);
    // both started before the provider answered, and finished while it was still busy
    expect(st!.startMs).toBeLessThan(providerEnd);
    expect(ep!.startMs).toBeLessThan(providerEnd);
    expect(st!.startMs + st!.ms).toBeLessThan(providerEnd);
    expect(ep!.startMs + ep!.ms).toBeLessThan(providerEnd);
    // the bind waits for both the credential and the lockout guard
    expect(bind!.startMs).toBeGreaterThanOrEqual(providerEnd - 1);
    expect(r.timingsMs.total!).toBeLessThan(pv!.ms + st!.ms + ep!.ms + bind!.ms);
    expect(r.verdict).toMatchObject({ ok: true, code: 'ldap.ok' });
  }, 10_000);
});

describe('the caller\'s signal', () => {
  it('aborted by the caller: an AbortError (as from every entry point), nothing was tried', async () => {
    const s = sambaScenario('good');
    let asked = 0;
    const p = defineProvider({ name: 'p', resolve: async () => { asked++; return { username: s.upn, secret: new Secret(s.password), source: 'p' }; } });
    await expect(preflight({ host: `127.0.0.1:${rdp.nla.port}`, provider: p, ref: 'x', account: s.upn }, { directory: directory(), signal: AbortSignal.abort() }))
      .rejects.toMatchObject({ name: 'AbortError', code: 'ABORTED' });
    expect(asked).toBe(0);
  });
});

describe('onFinding', () => {
  it('is called for every finding, including the final not-checked ones, with their step', async () => {
    const s = sambaScenario('good');
    const seen: Array<[string, string]> = [];
    const r = await preflight({ host: '127.0.0.1', account: s.upn, password: new Secret(s.password) }, {
      directory: directory(), rdp: { probe: false }, onFinding: (f, st) => seen.push([st, f.code]),
    });
    expect(r.ok).toBe(true);
    expect(seen).toEqual(expect.arrayContaining([
      ['account-state', 'account.ok'], ['ldap-bind', 'ldap.ok'],
      ['provider', 'not-checked'], ['kerberos', 'not-checked'], ['rdp-endpoint', 'not-checked'], ['rdp-nla', 'not-checked'], ['cache', 'not-checked'],
      ['rdp-nla', 'rdp.logon-right-not-checked'],
    ]));
    // every finding of the report went through the hook
    expect(seen.length).toBe(r.verdict.findings.length);
  });

  it('a hook that throws, or returns a rejected promise, does not break the preflight', async () => {
    const s = sambaScenario('wrong-password');
    const base = { directory: directory(), rdp: { probe: false } } as const;
    const target = { host: '127.0.0.1', account: s.upn, password: new Secret(s.tryPassword) };
    let calls = 0;
    const throwing = await preflight(target, { ...base, onFinding: () => { calls++; throw new Error('audit sink down'); } });
    const rejecting = await preflight(target, { ...base, onFinding: (async () => { calls++; throw new Error('audit sink down'); }) as unknown as () => void });
    for (const r of [throwing, rejecting]) {
      expect(r.verdict).toMatchObject({ ok: false, code: 'ldap.invalid-credentials', exitCode: 1 });
      expect(r.steps.map((x) => x.status)).toEqual(['not-checked', 'passed', 'not-checked', 'failed', 'not-checked', 'not-checked', 'not-checked']);
    }
    expect(calls).toBe(throwing.verdict.findings.length + rejecting.verdict.findings.length);
    // give a rejected promise the chance to surface as an unhandled rejection (vitest fails the run on one)
    await new Promise((ok) => setTimeout(ok, 20));
  });
});
