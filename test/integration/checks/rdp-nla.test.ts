// The NLA check against the lab's real FreeRDP NLA server (good / wrong password, unknown user,
// wrong domain), and against credssp-error-server (a test server named as such) for the NTSTATUS
// answers only Windows gives. Every TLS write of the client is captured: credgate sends exactly two
// TSRequests (NEGOTIATE; AUTHENTICATE + pubKeyAuth), never TSCredentials, never the password.
import { describe, it, expect, beforeAll, afterEach, vi } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { validateRdpNla, ntlmIdentity } from '../../../src/checks/rdp-nla.js';
import { decodeTsRequest } from '../../../src/protocols/rdp/credssp.js';
import { parseAuthenticate } from '../../../src/protocols/rdp/ntlm/ntlm.js';
import { Secret } from '../../../src/core/secret.js';
import { CredgateError } from '../../../src/core/errors.js';
import { diagnose } from '../../../src/findings/diagnose.js';
import { labPart } from '../../lab/state.js';
import { startCredsspErrorServer } from '../../fixtures/credssp-error-server.js';
import { fakeServer, negFailure } from '../../helpers/rdp-fakes.js';

interface RdpLab {
  host: string;
  caFile: string;
  users: Array<{ user: string; domain: string; password: string }>;
  nla: { port: number; certFile: string };
  expired: { port: number };
  valid: { port: number; certFile: string };
}

let lab: RdpLab;
let alice: { user: string; domain: string; password: string };
let bob: { user: string; domain: string; password: string };
const WRONG = 'Wrong!Rdp-2026-x';

beforeAll(() => {
  lab = labPart<RdpLab>('rdp');
  alice = lab.users.find((u) => u.domain)!;
  bob = lab.users.find((u) => !u.domain)!;
});

/** Capture every plaintext write on TLS sockets (that is, what goes inside TLS). */
function captureTlsWrites() {
  const writes: Buffer[] = [];
  const orig = tls.TLSSocket.prototype.write;
  const spy = vi.spyOn(tls.TLSSocket.prototype, 'write').mockImplementation(function (this: tls.TLSSocket, ...args: unknown[]) {
    const [chunk] = args;
    if (typeof chunk === 'string' || Buffer.isBuffer(chunk) || chunk instanceof Uint8Array) writes.push(Buffer.from(chunk as Uint8Array));
    return (orig as (...a: unknown[]) => boolean).apply(this, args);
  });
  return { writes, restore: () => spy.mockRestore() };
}

function assertNoSecretSent(frames: Buffer[], password: string) {
  for (const f of frames) {
    expect(f.includes(Buffer.from(password, 'utf8'))).toBe(false);
    expect(f.includes(Buffer.from(password, 'utf16le'))).toBe(false);
    const r = decodeTsRequest(f);
    expect(r.authInfo, 'TSCredentials (authInfo) must never be sent').toBeUndefined();
  }
}

function assertNoLeak(value: unknown, password: string) {
  const text = JSON.stringify(value) + String((value as Error)?.message ?? '');
  expect(text.includes(password)).toBe(false);
}

afterEach(() => vi.restoreAllMocks());

describe('NLA against the lab FreeRDP server', () => {
  it('good password: rdp.nla-ok; two TSRequests sent, the second with AUTHENTICATE and pubKeyAuth, no TSCredentials', async () => {
    const cap = captureTlsWrites();
    const f = await validateRdpNla({ host: lab.host, port: lab.nla.port, username: alice.user, domain: alice.domain, password: new Secret(alice.password), timeoutMs: 8000 });
    cap.restore();
    expect(f.map((x) => x.code)).toEqual(['rdp.nla-ok']);
    expect(f[0]!.severity).toBe('ok');
    expect(f[0]!.source).toBe('rdp-nla');
    expect(f[0]!.evidence).toMatchObject({ credsspVersion: 6, user: alice.user, domain: alice.domain, server: { nbComputer: expect.any(String) } });
    expect(cap.writes.length).toBe(2);
    const [first, second] = cap.writes.map((w) => decodeTsRequest(w));
    expect(first!.negoTokens?.[0]?.readUInt32LE(8)).toBe(1);
    const auth = parseAuthenticate(second!.negoTokens![0]!);
    expect([auth.user, auth.domain]).toEqual([alice.user, alice.domain]);
    expect(auth.mic?.length).toBe(16);
    expect(second!.pubKeyAuth?.length).toBe(16 + 32);
    expect(second!.clientNonce?.length).toBe(32);
    assertNoSecretSent(cap.writes, alice.password);
    assertNoLeak(f, alice.password);
    expect(diagnose(f).code).toBe('rdp.nla-ok');
  });

  it('DOMAIN\\user form and an account of the SAM file\'s any-domain entry', async () => {
    const a = await validateRdpNla({ host: lab.host, port: lab.nla.port, username: `${alice.domain}\\${alice.user}`, password: new Secret(alice.password), timeoutMs: 8000 });
    expect(a[0]!.code).toBe('rdp.nla-ok');
    const b = await validateRdpNla({ host: lab.host, port: lab.nla.port, username: bob.user, domain: 'ANYDOMAIN', password: new Secret(bob.password), timeoutMs: 8000 });
    expect(b[0]!.code).toBe('rdp.nla-ok');
  });

  it.each([2, 3, 4, 5, 6])('CredSSP version %i: the real server proves its key (v2–4: key + 1, v5+: SHA-256 with the nonce)', async (v) => {
    const cap = captureTlsWrites();
    const f = await validateRdpNla({ host: lab.host, port: lab.nla.port, username: alice.user, domain: alice.domain, password: new Secret(alice.password), timeoutMs: 8000, credsspVersion: v });
    cap.restore();
    expect(f[0]).toMatchObject({ code: 'rdp.nla-ok', evidence: { credsspVersion: v } });
    const second = decodeTsRequest(cap.writes[1]!);
    expect(second.version).toBe(v);
    if (v >= 5) {
      expect(second.clientNonce?.length).toBe(32);
      expect(second.pubKeyAuth?.length).toBe(16 + 32);
    } else {
      expect(second.clientNonce).toBeUndefined();
      expect(second.pubKeyAuth!.length).toBeGreaterThan(16 + 200); // the sealed RSA public key itself
    }
    assertNoSecretSent(cap.writes, alice.password);
  });

  it('a CredSSP version outside 2–6 is CONFIG_INVALID', async () => {
    for (const v of [1, 7, 2.5]) {
      await expect(validateRdpNla({ host: lab.host, port: lab.nla.port, username: 'a', password: new Secret('p'), credsspVersion: v })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    }
  });

  it.each([
    ['wrong password', () => ({ username: alice.user, domain: alice.domain, password: WRONG })],
    ['unknown user', () => ({ username: 'nobody-here', domain: alice.domain, password: alice.password })],
    ['wrong domain', () => ({ username: alice.user, domain: 'NOTTHEDOMAIN', password: alice.password })],
  ])('%s: rdp.logon-failure (FreeRDP drops the connection after AUTHENTICATE), no TSCredentials', async (_n, who) => {
    const c = who();
    const cap = captureTlsWrites();
    const f = await validateRdpNla({ host: lab.host, port: lab.nla.port, ...c, password: new Secret(c.password), timeoutMs: 8000 });
    cap.restore();
    expect(f.map((x) => x.code)).toEqual(['rdp.logon-failure']);
    expect(f[0]!.severity).toBe('error');
    expect(f[0]!.evidence.serverAnswer).toMatch(/after AUTHENTICATE/);
    expect(f[0]!.remediation.length).toBeGreaterThan(0);
    expect(cap.writes.length).toBe(2);
    assertNoSecretSent(cap.writes, c.password);
    assertNoLeak(f, c.password);
    expect(diagnose(f).exitCode).toBe(1);
  });

  it('a TLS-only host (no NLA) is a finding, and nothing is sent inside TLS', async () => {
    const cap = captureTlsWrites();
    const f = await validateRdpNla({ host: lab.host, port: lab.expired.port, username: 'x', password: new Secret(WRONG), timeoutMs: 8000 });
    cap.restore();
    expect(f.map((x) => x.code)).toEqual(['rdp.ssl-required']);
    expect(f[0]!.evidence.failureName).toBe('SSL_REQUIRED_BY_SERVER');
    expect(cap.writes.length).toBe(0);
  });

  it.each([
    [4, 'rdp.inconsistent-flags', /bypass the proxy or load balancer/],
    [6, 'rdp.ssl-user-auth-required', /stop demanding TLS client certificates/],
  ] as const)('RDP_NEG_FAILURE %i to the NLA offer is %s (the probe\'s code) with its own fix first; nothing is sent', async (code, expected, fix) => {
    const fake = await fakeServer(() => negFailure(code));
    try {
      const cap = captureTlsWrites();
      const f = await validateRdpNla({ host: '127.0.0.1', port: fake.port, username: 'x', password: new Secret(WRONG), timeoutMs: 3000 });
      cap.restore();
      expect(f.map((x) => x.code)).toEqual([expected]);
      expect(f[0]!.evidence).toMatchObject({ failureCode: code, requested: ['HYBRID'] });
      expect(f[0]!.remediation[0]!.action).toMatch(fix);
      expect(f[0]!.remediation[1]!.action).toMatch(/Network Level Authentication/);
      expect(diagnose(f)).toMatchObject({ code: expected, exitCode: 4 });
      expect(cap.writes.length).toBe(0);
    } finally {
      await fake.close();
    }
  });

  it('with --ca, an untrusted host certificate stops the check before any NTLM message (TLS_FAILED)', async () => {
    const cap = captureTlsWrites();
    const err = await validateRdpNla({ host: lab.host, port: lab.nla.port, username: alice.user, domain: alice.domain, password: new Secret(alice.password), caFile: lab.caFile, timeoutMs: 8000 }).catch((e: unknown) => e);
    cap.restore();
    expect(err).toBeInstanceOf(CredgateError);
    expect((err as CredgateError).code).toBe('TLS_FAILED');
    expect((err as CredgateError).details?.kind).toBe('untrusted');
    expect(cap.writes.length).toBe(0);
    assertNoLeak((err as CredgateError).toJSON(), alice.password);
  });

  it('with --ca holding the host\'s own self-signed certificate (a pin), the check runs although the certificate names another host', async () => {
    const cap = captureTlsWrites();
    const f = await validateRdpNla({ host: lab.host, port: lab.nla.port, username: alice.user, domain: alice.domain, password: new Secret(alice.password), caFile: lab.nla.certFile, timeoutMs: 8000 });
    cap.restore();
    expect(f.map((x) => x.code)).toEqual(['rdp.nla-ok']);
    expect(f[0]!.evidence).toMatchObject({ pinnedCertificate: true });
    // node's own verdict names the mismatch; the pin overrides it
    expect(f[0]!.evidence.tlsAuthorizationError).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    assertNoSecretSent(cap.writes, alice.password);
    assertNoLeak(f, alice.password);
  });

  it('an unreadable --ca file is a CONFIG_INVALID error before connecting', async () => {
    await expect(validateRdpNla({ host: lab.host, port: lab.nla.port, username: 'a', password: new Secret('p'), caFile: '/nonexistent/ca.pem' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('faults throw CredgateError', () => {
  it('connection refused', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const err = await validateRdpNla({ host: '127.0.0.1', port, username: 'a', password: new Secret('p'), timeoutMs: 3000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredgateError);
    expect((err as CredgateError).code).toBe('CONNECTION_FAILED');
    expect((err as CredgateError).details?.kind).toBe('refused');
  });

  it('a silent server: TIMEOUT within the deadline', async () => {
    const socks: net.Socket[] = [];
    const srv = net.createServer((s) => socks.push(s.on('error', () => {})));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const t0 = Date.now();
    const err = await validateRdpNla({ host: '127.0.0.1', port: (srv.address() as net.AddressInfo).port, username: 'a', password: new Secret('p'), timeoutMs: 300 }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect((err as CredgateError).code).toBe('TIMEOUT');
    socks.forEach((s) => s.destroy());
    await new Promise<void>((r) => srv.close(() => r()));
  });

  it('a caller abort', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(validateRdpNla({ host: lab.host, port: lab.nla.port, username: 'a', password: new Secret('p'), signal: ac.signal })).rejects.toBeInstanceOf(CredgateError);
  });

  it('user name parsing', () => {
    expect(ntlmIdentity('DOM\\bob')).toEqual({ user: 'bob', domain: 'DOM' });
    expect(ntlmIdentity('bob@dom.example')).toEqual({ user: 'bob@dom.example', domain: '' });
    expect(ntlmIdentity('bob', 'D')).toEqual({ user: 'bob', domain: 'D' });
    expect(ntlmIdentity('DOM\\bob', 'OTHER')).toEqual({ user: 'bob', domain: 'DOM' });
    expect(ntlmIdentity('bob@dom.example', 'DOM')).toEqual({ user: 'bob@dom.example', domain: '' });
    expect(() => ntlmIdentity('  ')).toThrow(CredgateError);
    expect(() => ntlmIdentity('DOM\\')).toThrow(CredgateError);
  });
});

describe('NTSTATUS answers (credssp-error-server, as Windows sends them)', () => {
  const pki = () => ({ cert: fs.readFileSync(lab.valid.certFile), key: fs.readFileSync(path.join(path.dirname(lab.valid.certFile), 'valid.key')) });

  it.each([
    [0xc000006d, 'STATUS_LOGON_FAILURE', 'ldap.invalid-credentials'],
    [0xc000006a, 'STATUS_WRONG_PASSWORD', 'ldap.invalid-credentials'],
    [0xc0000064, 'STATUS_NO_SUCH_USER', 'ldap.user-not-found'],
    [0xc0000234, 'STATUS_ACCOUNT_LOCKED_OUT', 'ldap.account-locked'],
    [0xc0000071, 'STATUS_PASSWORD_EXPIRED', 'ldap.password-expired'],
    [0xc0000224, 'STATUS_PASSWORD_MUST_CHANGE', 'ldap.password-must-change'],
    [0xc0000072, 'STATUS_ACCOUNT_DISABLED', 'ldap.account-disabled'],
    [0xc0000193, 'STATUS_ACCOUNT_EXPIRED', 'ldap.account-expired'],
    [0xc000006e, 'STATUS_ACCOUNT_RESTRICTION', 'rdp.account-restriction'],
    [0xc000006f, 'STATUS_INVALID_LOGON_HOURS', 'ldap.logon-hours'],
    [0xc0000070, 'STATUS_INVALID_WORKSTATION', 'ldap.workstation-restricted'],
    [0xc000015b, 'STATUS_LOGON_TYPE_NOT_GRANTED', 'rdp.logon-type-not-granted'],
    [0xc0000418, 'STATUS_NTLM_BLOCKED', 'rdp.ntlm-blocked'],
    [0xc0000022, 'STATUS_ACCESS_DENIED', 'rdp.logon-failure'],
  ])('errorCode %i = %s → %s', async (status, name, code) => {
    await using srv = await startCredsspErrorServer({ status, ...pki() });
    const password = 'Err!Srv-Pass-2026';
    const f = await validateRdpNla({ host: srv.host, port: srv.port, username: 'carol', domain: 'LABWIN', password: new Secret(password), timeoutMs: 5000 });
    expect(f.map((x) => x.code)).toEqual([code]);
    expect(f[0]!.source).toBe('rdp-nla');
    expect(f[0]!.evidence.ntstatus).toBe(`0x${status.toString(16).toUpperCase()}`);
    expect(f[0]!.evidence.ntstatusName).toBe(name);
    expect(f[0]!.evidence.server).toMatchObject({ nbComputer: 'RDSH01', dnsDomain: 'lab.example' });
    // what the server saw in plaintext: NEGOTIATE, then AUTHENTICATE with pubKeyAuth; never TSCredentials or the password
    expect(srv.received.length).toBe(2);
    assertNoSecretSent(srv.received, password);
    assertNoLeak(f, password);
  });

  it('with --ca: a certificate from that CA but for another name stops before any NTLM message; the right name goes on', async () => {
    await using srv = await startCredsspErrorServer({ status: 0xc0000234, ...pki() });
    // "127.1" resolves to 127.0.0.1 but is not a name on the lab certificate (rdp.pamtest.local, localhost, 127.0.0.1)
    const err = await validateRdpNla({ host: '127.1', port: srv.port, username: 'carol', password: new Secret('p-1'), caFile: lab.caFile, timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredgateError);
    expect((err as CredgateError)).toMatchObject({ code: 'TLS_FAILED', details: { kind: 'untrusted', nameMismatch: true, reason: 'ERR_TLS_CERT_ALTNAME_INVALID' } });
    expect((err as CredgateError).message).toMatch(/chains to the given CA but is not issued for 127\.1 .*sent no proof of the password/);
    expect(srv.received.length).toBe(0);
    const f = await validateRdpNla({ host: 'localhost', port: srv.port, username: 'carol', password: new Secret('p-1'), caFile: lab.caFile, timeoutMs: 5000 });
    expect(f.map((x) => x.code)).toEqual(['ldap.account-locked']);
    expect(srv.received.length).toBe(2);
  });

  it('an unknown NTSTATUS is rdp.logon-failure with the status in evidence', async () => {
    await using srv = await startCredsspErrorServer({ status: 0xc00000aa, ...pki() });
    const f = await validateRdpNla({ host: srv.host, port: srv.port, username: 'carol', password: new Secret('p-1'), timeoutMs: 5000 });
    expect(f[0]).toMatchObject({ code: 'rdp.logon-failure', evidence: { ntstatus: '0xC00000AA' } });
  });

  it('errorCode already after NEGOTIATE (before any proof of the password)', async () => {
    await using srv = await startCredsspErrorServer({ status: 0xc0000234, mode: 'error-first', ...pki() });
    const f = await validateRdpNla({ host: srv.host, port: srv.port, username: 'carol', password: new Secret('p-1'), timeoutMs: 5000 });
    expect(f[0]).toMatchObject({ code: 'ldap.account-locked', evidence: { phase: 'negotiate' } });
    expect(srv.received.length).toBe(1);
  });

  it('a CredSSP v2 server closes instead of sending errorCode: rdp.logon-failure', async () => {
    await using srv = await startCredsspErrorServer({ status: 0xc0000234, version: 2, ...pki() });
    const f = await validateRdpNla({ host: srv.host, port: srv.port, username: 'carol', password: new Secret('p-1'), timeoutMs: 5000 });
    expect(f.map((x) => x.code)).toEqual(['rdp.logon-failure']);
    expect(f[0]!.evidence.credsspVersion).toBe(2);
    const second = decodeTsRequest(srv.received[1]!);
    expect(second.version).toBe(6); // the client announces its own version; the binding follows the negotiated one
    expect(second.clientNonce).toBeUndefined(); // v2 uses the public key itself, no nonce
    expect(second.pubKeyAuth!.length).toBeGreaterThan(16 + 200); // signature + sealed RSA public key
  });

  it('a server whose pubKeyAuth does not prove the key: TLS_FAILED, and credgate sends nothing more', async () => {
    await using srv = await startCredsspErrorServer({ mode: 'bad-proof', ...pki() });
    const err = await validateRdpNla({ host: srv.host, port: srv.port, username: 'carol', password: new Secret('p-1'), timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredgateError);
    expect((err as CredgateError).code).toBe('TLS_FAILED');
    expect((err as CredgateError).details?.kind).toBe('pubkey-mismatch');
    await new Promise((r) => setTimeout(r, 50));
    expect(srv.received.length).toBe(2);
  });

  it.each([
    ['an announced 2 GiB TSRequest', '30847fffffff'],
    ['a TSRequest without negoTokens', '3005a003020106'],
    ['a negoToken that is not NTLM', '3013a003020106a10c300a3008a0060404deadbeef'],
    ['a BER indefinite length', '3080a0030201060000'],
  ])('%s after NEGOTIATE: PROTOCOL_ERROR, at once', async (_n, h) => {
    await using srv = await startCredsspErrorServer({ mode: 'raw', leg1Reply: Buffer.from(h, 'hex'), ...pki() });
    const t0 = Date.now();
    const err = await validateRdpNla({ host: srv.host, port: srv.port, username: 'carol', password: new Secret('p-1'), timeoutMs: 5000 }).catch((e: unknown) => e);
    expect((err as CredgateError).code).toBe('PROTOCOL_ERROR');
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('a server that goes silent after TLS: TIMEOUT at the deadline, not a hang', async () => {
    await using srv = await startCredsspErrorServer({ mode: 'silent', ...pki() });
    const t0 = Date.now();
    const err = await validateRdpNla({ host: srv.host, port: srv.port, username: 'carol', password: new Secret('p-1'), timeoutMs: 400 }).catch((e: unknown) => e);
    expect((err as CredgateError).code).toBe('TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(srv.received.length).toBe(1);
  });

  it('bounded network fuzz: mutated CHALLENGE answers give a finding or a CredgateError, within the deadline', async () => {
    // a real CHALLENGE TSRequest from the lab FreeRDP server, mutated
    const base = Buffer.from('30819fa003020106a17430723070a06e046c4e544c4d53535000020000000400040038000000358288e21f1802a855f468940000000000000000300030003c0000000601b11d0000000f56004d000200040056004d000100040056004d000400040076006d000300040076006d000700080080cdb622a07cdd0100000000a522042043a0c454137de74e78cd0bd85529d3ff406c471df2adb750c413ae5b7c0d35b4', 'hex');
    let seed = 0xfade;
    const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const m = Buffer.from(base);
      for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) m[Math.floor(rnd() * m.length)] = Math.floor(rnd() * 256);
      await using srv = await startCredsspErrorServer({ mode: 'raw', leg1Reply: rnd() < 0.2 ? m.subarray(0, Math.floor(rnd() * m.length)) : m, ...pki() });
      const r = await validateRdpNla({ host: srv.host, port: srv.port, username: 'carol', password: new Secret('p-1'), timeoutMs: 2000 }).catch((e: unknown) => e);
      const key = Array.isArray(r) ? r[0].code : (r as CredgateError).code;
      if (!Array.isArray(r)) expect(r).toBeInstanceOf(CredgateError);
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    // a mutated CHALLENGE can still be accepted, then the server closes: logon failure; never ok, never TIMEOUT
    expect(outcomes.has('rdp.nla-ok')).toBe(false);
    expect(outcomes.has('TIMEOUT')).toBe(false);
    expect([...outcomes.values()].reduce((a, b) => a + b, 0)).toBe(30);
  });
});
