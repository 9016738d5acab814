// The Kerberos client against a fake KDC on loopback (UDP and TCP on one port, started by each
// test): the AS exchange and its etype choice, UDP -> TCP on RESPONSE_TOO_BIG, TCP only, failover
// before the password proof and never after, refused / silent / garbage / oversize KDCs, the
// caller's abort vs the deadline, TGS found / unknown / referral, accounts without pre-auth, e-data
// reasons, and that no password or key ever shows in a result or an error.
import { describe, it, expect, afterEach } from 'vitest';
import { asExchange, asProbe, tgsExchange, SENDS_PASSWORD_PROOF, type AsExchangeOptions, type SrvResolver } from '../../../../src/protocols/kerberos/index.js';
import { ctx, derInt, derOctets, fields, readInt32, readTlv, readWhole, sequenceOf, seq } from '../../../../src/protocols/kerberos/der.js';
import { stringToKey } from '../../../../src/protocols/kerberos/crypto.js';
import { CredgateError } from '../../../../src/core/errors.js';
import { Secret } from '../../../../src/core/secret.js';
import { prng } from '../../../helpers/prng.js';
import { closedPort } from '../../../helpers/servers.js';
import { etypeInfo2, ext, krbError, methodData, PASSWORD, REALM, SALT, startFakeKdc, stopFakeKdcs, type Reply } from '../../../helpers/fake-kdc.js';
import { fault } from '../../../helpers/faults.js';

afterEach(stopFakeKdcs);

const opts = (kdcs: string | string[], extra: Partial<AsExchangeOptions> = {}): AsExchangeOptions => ({ username: 'alice@pamtest.local', password: new Secret(PASSWORD), kdcs, timeoutMs: 4000, ...extra });

// ---- tests ------------------------------------------------------------------------------------

describe('AS exchange', () => {
  it('probes without PA-DATA, then sends exactly one PA-ENC-TIMESTAMP with AES256', async () => {
    const kdc = await startFakeKdc();
    const r = await asExchange(opts(kdc.label));
    expect(r).toMatchObject({ outcome: 'ok', etype: 18, etypeName: 'aes256-cts-hmac-sha1-96', preauthRequired: true, proofSent: true, kdc: kdc.label, transport: 'udp', realm: REALM, failover: [], canonicalPrincipal: 'alice@PAMTEST.LOCAL' });
    expect(r.outcome === 'ok' && r.keyExpiration).toBeTruthy();
    expect(Math.abs(r.clock!.skewMs)).toBeLessThan(2000);
    expect([kdc.count('probe'), kdc.count('proof')]).toEqual([1, 1]);
    const padataTypes = (req: Buffer) => {
      const top = readWhole(req, 'req');
      const f = fields(req, readTlv(req, top.start, top.end, 'req'), 'req');
      return f.get(3) ? sequenceOf(req, f.get(3)!, 'pa').map((p) => readInt32(req, fields(req, p, 'pa').get(1)!, 't')) : [];
    };
    expect(padataTypes(kdc.seen[0]!.bytes)).toEqual([]); // the probe: no PA-DATA at all
    expect(padataTypes(kdc.seen[1]!.bytes)).toEqual([2]); // the proof: PA-ENC-TIMESTAMP only
    expect(SENDS_PASSWORD_PROOF).toEqual({ asProbe: false, asExchange: true, tgsExchange: true });
  });

  it('picks AES256 over AES128 over RC4, and RC4 only when nothing else is offered', async () => {
    const aes128 = await startFakeKdc({ entries: [{ etype: 23 }, { etype: 17, salt: SALT }] });
    expect(await asExchange(opts(aes128.label))).toMatchObject({ outcome: 'ok', etype: 17 });
    const both = await startFakeKdc({ entries: [{ etype: 23 }, { etype: 17, salt: SALT }, { etype: 18, salt: SALT }] });
    expect(await asExchange(opts(both.label))).toMatchObject({ outcome: 'ok', etype: 18 });
    const rc4 = await startFakeKdc({ entries: [{ etype: 23 }] });
    expect(await asExchange(opts(rc4.label))).toMatchObject({ outcome: 'ok', etype: 23, etypeName: 'rc4-hmac' });
    const asked = await startFakeKdc({ entries: [{ etype: 18, salt: SALT }, { etype: 23 }] });
    expect(await asExchange(opts(asked.label, { etypes: [23] }))).toMatchObject({ outcome: 'ok', etype: 23 });
  });

  it('a wrong password: PREAUTH_FAILED, the proof sent once and never retried', async () => {
    const kdc = await startFakeKdc();
    const r = await asExchange(opts(kdc.label, { password: new Secret('not-the-password') }));
    expect(r).toMatchObject({ outcome: 'krb-error', phase: 'proof', errorCode: 24, errorName: 'KDC_ERR_PREAUTH_FAILED', reason: 'invalid-credentials', proofSent: true });
    expect(kdc.count('proof')).toBe(1);
  });

  it('asProbe never sends a proof and reports what the KDC offers', async () => {
    const kdc = await startFakeKdc({ entries: [{ etype: 18, salt: SALT, params: Buffer.from('00002000', 'hex') }, { etype: 23 }] });
    const r = await asProbe({ username: 'alice@pamtest.local', kdcs: kdc.label });
    expect(r).toMatchObject({ outcome: 'preauth-required', etype: 18, proofSent: false, padataTypes: [2, 19] });
    expect(r.outcome === 'preauth-required' && r.offeredEtypes).toEqual([{ etype: 18, etypeName: 'aes256-cts-hmac-sha1-96', iterations: 8192 }, { etype: 23, etypeName: 'rc4-hmac' }]);
    expect(kdc.count('proof')).toBe(0);
  });

  it('beforeProof sees the facts and can withhold the proof', async () => {
    const kdc = await startFakeKdc();
    const facts: unknown[] = [];
    const r = await asExchange(opts(kdc.label, { beforeProof: (f) => (facts.push(f), false) }));
    expect(r).toMatchObject({ outcome: 'proof-withheld', proofSent: false, etype: 18 });
    expect(facts).toEqual([expect.objectContaining({ kdc: kdc.label, realm: REALM, etype: 18, clock: expect.objectContaining({ skewMs: expect.any(Number) }) })]);
    expect(kdc.count('proof')).toBe(0);
  });

  it('an account without pre-authentication: checked locally, no proof ever sent', async () => {
    const kdc = await startFakeKdc({ preauth: false });
    expect(await asExchange(opts(kdc.label))).toMatchObject({ outcome: 'ok', preauthRequired: false, proofSent: false });
    expect(await asExchange(opts(kdc.label, { password: new Secret('wrong') }))).toMatchObject({ outcome: 'key-mismatch', reason: 'invalid-credentials', proofSent: false });
    expect(await asProbe({ username: 'alice@pamtest.local', kdcs: kdc.label })).toMatchObject({ outcome: 'no-preauth', etype: 18 });
    expect(kdc.count('proof')).toBe(0);
  });

  it('nothing to prove the password with: no common etype, or no encrypted timestamp', async () => {
    const des = await startFakeKdc({ entries: [{ etype: 3, salt: SALT }] });
    expect(await asExchange(opts(des.label))).toMatchObject({ outcome: 'unsupported', reason: 'etype-unsupported', offeredEtypes: [3], proofSent: false });
    const pkinit = await startFakeKdc({ paTypes: [16] });
    expect(await asExchange(opts(pkinit.label))).toMatchObject({ outcome: 'unsupported', reason: 'preauth-unsupported', padataTypes: [16, 19] });
    expect(des.count('proof') + pkinit.count('proof')).toBe(0);
  });

  it('PREAUTH_REQUIRED without e-data: encrypted timestamp with the default salt (realm + name)', async () => {
    const kdc = await startFakeKdc({ entries: [{ etype: 18, salt: 'PAMTEST.LOCALalice' }], hook: (kind) => (kind === 'probe' ? krbError(25) : undefined) });
    expect(await asExchange(opts(kdc.label, { etypes: [18] }))).toMatchObject({ outcome: 'ok', etype: 18 });
  });

  it('a hostile PBKDF2 iteration count is refused before any proof', async () => {
    const kdc = await startFakeKdc({ entries: [{ etype: 18, salt: SALT, params: Buffer.from('7fffffff', 'hex') }] });
    const e = await fault(asExchange(opts(kdc.label)));
    expect(e.code).toBe('PROTOCOL_ERROR');
    expect(kdc.count('proof')).toBe(0);
  });

  it('KRB-ERROR reasons from codes and e-data (KERB-ERROR-DATA or PA-PW-SALT), with the KDC clock', async () => {
    const cases: [Buffer, Record<string, unknown>][] = [
      [krbError(18, seq(ctx(1, derInt(3)), ctx(2, derOctets(ext(0xc0000234))))), { reason: 'account-locked', ntstatus: 0xc0000234, ntstatusName: 'STATUS_ACCOUNT_LOCKED_OUT', eData: { form: 'kerb-error-data', extendedFrom: 'kerb-ext-error' } }],
      [krbError(18, methodData([{ type: 3, value: ext(0xc0000072) }])), { reason: 'account-disabled', eData: { form: 'method-data', extendedFrom: 'pa-pw-salt' } }],
      [krbError(23, methodData([{ type: 3, value: ext(0xc0000224) }])), { reason: 'password-must-change', errorName: 'KDC_ERR_KEY_EXPIRED' }],
      [krbError(18), { reason: 'account-revoked' }],
      [krbError(14), { reason: 'etype-unsupported' }],
      [krbError(37, undefined, new Date(Date.now() + 3600e3)), { reason: 'clock-skew', errorName: 'KRB_AP_ERR_SKEW' }],
      [krbError(18, Buffer.from('not der')), { reason: 'account-revoked', eData: { form: 'unparsed' } }],
    ];
    for (const [reply, want] of cases) {
      const kdc = await startFakeKdc({ hook: (kind) => (kind === 'proof' ? reply : undefined) });
      const r = await asExchange(opts(kdc.label));
      expect(r).toMatchObject({ outcome: 'krb-error', phase: 'proof', proofSent: true, ...want });
    }
    const skewKdc = await startFakeKdc({ hook: (kind) => (kind === 'proof' ? krbError(37, undefined, new Date(Date.now() + 3600e3)) : undefined) });
    const skew = await asExchange(opts(skewKdc.label));
    expect(skew.outcome === 'krb-error' && Math.abs(skew.clock.skewMs - 3600e3)).toBeLessThan(3000);
    const unknown = await startFakeKdc({ hook: (kind) => (kind === 'probe' ? krbError(6) : undefined) });
    expect(await asExchange(opts(unknown.label))).toMatchObject({ outcome: 'krb-error', phase: 'probe', reason: 'user-not-found', proofSent: false });
    expect(unknown.count('proof')).toBe(0);
  });
});

describe('transport', () => {
  it('UDP first; KRB_ERR_RESPONSE_TOO_BIG: the same request again over TCP', async () => {
    const kdc = await startFakeKdc({ hook: (kind, t) => (kind === 'proof' && t === 'udp' ? krbError(52) : undefined) });
    const r = await asExchange(opts(kdc.label));
    expect(r).toMatchObject({ outcome: 'ok', transport: 'tcp' });
    expect(kdc.seen.map((s) => `${s.kind}/${s.transport}`)).toEqual(['probe/udp', 'proof/udp', 'proof/tcp']);
    expect(kdc.seen[1]!.bytes.equals(kdc.seen[2]!.bytes)).toBe(true);
  });

  it("transport 'tcp' never uses UDP", async () => {
    const kdc = await startFakeKdc({ udp: false });
    expect(await asExchange(opts(kdc.label, { transport: 'tcp' }))).toMatchObject({ outcome: 'ok', transport: 'tcp' });
    expect(kdc.seen.every((s) => s.transport === 'tcp')).toBe(true);
  });

  it('a refused port: CONNECTION_FAILED kind refused (UDP and TCP), fast', async () => {
    const port = await closedPort();
    for (const transport of ['udp', 'tcp'] as const) {
      const t = Date.now();
      const e = await fault(asExchange(opts(`127.0.0.1:${port}`, { transport })));
      expect(e).toMatchObject({ code: 'CONNECTION_FAILED', details: { kind: 'refused', transport, kdc: `127.0.0.1:${port}` } });
      expect(Date.now() - t).toBeLessThan(2000);
    }
  });

  it('a silent KDC: CONNECTION_FAILED kind timeout after kdcTimeoutMs, TIMEOUT at the deadline', async () => {
    const kdc = await startFakeKdc({ hook: () => 'silent' });
    let t = Date.now();
    expect(await fault(asExchange(opts(kdc.label, { timeoutMs: 300 })))).toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - t).toBeLessThan(1500);
    t = Date.now();
    expect(await fault(asExchange(opts(kdc.label, { timeoutMs: 3000, kdcTimeoutMs: 200 })))).toMatchObject({ code: 'CONNECTION_FAILED', details: { kind: 'timeout' } });
    expect(Date.now() - t).toBeLessThan(1500);
  });

  it('garbage, oversize and truncated replies are PROTOCOL_ERROR; a close before any byte is CONNECTION_FAILED', async () => {
    const cases: [Reply, 'udp' | 'tcp', string][] = [
      [Buffer.from('HTTP/1.0 400 Bad Request\r\n\r\n'), 'udp', 'PROTOCOL_ERROR'],
      [Buffer.alloc(3000, 0x41), 'udp', 'PROTOCOL_ERROR'],
      [{ raw: Buffer.from([0x7f, 0xff, 0xff, 0xff]) }, 'tcp', 'PROTOCOL_ERROR'],
      [{ raw: Buffer.from([0x80, 0x00, 0x00, 0x10]) }, 'tcp', 'PROTOCOL_ERROR'],
      [{ raw: Buffer.from([0x00, 0x00, 0x01, 0x00, 0x7e, 0x82]) }, 'tcp', 'PROTOCOL_ERROR'],
      ['close', 'tcp', 'CONNECTION_FAILED'],
    ];
    for (const [reply, transport, code] of cases) {
      const kdc = await startFakeKdc({ hook: () => reply });
      const t = Date.now();
      const e = await fault(asExchange(opts(kdc.label, { transport, maxReplyBytes: 2048 })));
      expect(e.code, JSON.stringify(e)).toBe(code);
      expect(Date.now() - t).toBeLessThan(2000);
    }
  });

  it('the caller abort is ABORTED (also before anything is sent), never confused with the deadline', async () => {
    const kdc = await startFakeKdc({ hook: () => 'silent' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    expect(await fault(asExchange(opts(kdc.label, { signal: ac.signal, timeoutMs: 3000 })))).toMatchObject({ code: 'ABORTED' });
    const idle = await startFakeKdc();
    expect(await fault(asExchange(opts(idle.label, { signal: AbortSignal.abort() })))).toMatchObject({ code: 'ABORTED' });
    expect(idle.seen).toHaveLength(0);
    expect(await fault(asExchange(opts(kdc.label, { signal: AbortSignal.timeout(50), timeoutMs: 3000 })))).toMatchObject({ code: 'TIMEOUT' });
  });

  it('KDCs from DNS SRV records through an injected resolver', async () => {
    const kdc = await startFakeKdc();
    const resolver: SrvResolver = { resolveSrv: async (name) => (name === '_kerberos._udp.pamtest.local' ? [{ name: '127.0.0.1', port: kdc.port, priority: 0, weight: 0 }] : []) };
    expect(await asExchange({ username: 'alice@pamtest.local', password: new Secret(PASSWORD), resolver, timeoutMs: 3000 })).toMatchObject({ outcome: 'ok', kdc: kdc.label });
  });
});

describe('failover: before the proof only', () => {
  it('refused, silent and garbage KDCs are skipped while no proof was sent', async () => {
    const refused = `127.0.0.1:${await closedPort()}`;
    const silent = await startFakeKdc({ hook: () => 'silent' });
    const garbage = await startFakeKdc({ hook: () => Buffer.from('garbage!') });
    const good = await startFakeKdc();
    const r = await asExchange(opts([refused, silent.label, garbage.label, good.label], { kdcTimeoutMs: 200 }));
    expect(r).toMatchObject({ outcome: 'ok', kdc: good.label });
    expect(r.failover).toEqual([
      { kdc: refused, code: 'CONNECTION_FAILED', kind: 'refused' },
      { kdc: silent.label, code: 'CONNECTION_FAILED', kind: 'timeout' },
      { kdc: garbage.label, code: 'PROTOCOL_ERROR' },
    ]);
    expect(silent.count('proof') + garbage.count('proof')).toBe(0);
  });

  it('no failover once the proof is out: the fault says proofSent and no other KDC hears it', async () => {
    const first = await startFakeKdc({ hook: (kind) => (kind === 'proof' ? 'silent' : undefined) });
    const second = await startFakeKdc();
    const e = await fault(asExchange(opts([first.label, second.label], { timeoutMs: 600, kdcTimeoutMs: 200 })));
    expect(e).toMatchObject({ code: 'TIMEOUT', details: { proofSent: true, phase: 'proof' } });
    expect(first.count('proof')).toBe(1);
    expect(second.seen).toHaveLength(0);
    const garbled = await startFakeKdc({ hook: (kind) => (kind === 'proof' ? Buffer.from('garbage') : undefined) });
    const third = await startFakeKdc();
    expect(await fault(asExchange(opts([garbled.label, third.label])))).toMatchObject({ code: 'PROTOCOL_ERROR', details: { proofSent: true } });
    expect(third.seen).toHaveLength(0);
  });

  it('all KDCs down: one error listing each', async () => {
    const a = `127.0.0.1:${await closedPort()}`;
    const b = `127.0.0.1:${await closedPort()}`;
    const e = await fault(asExchange(opts([a, b])));
    expect(e).toMatchObject({ code: 'CONNECTION_FAILED', details: { kdcs: [{ kdc: a, kind: 'refused' }, { kdc: b, kind: 'refused' }] } });
    expect(e.message).toMatch(/No KDC of PAMTEST.LOCAL answered/);
  });
});

describe('TGS exchange', () => {
  it('found, S_PRINCIPAL_UNKNOWN and a referral, from the KDC that issued the TGT', async () => {
    const kdc = await startFakeKdc({ spns: ['HOST/dc1.pamtest.local', 'TERMSRV/rdp01.pamtest.local'] });
    const other = await startFakeKdc();
    const r = await tgsExchange({ ...opts([kdc.label, other.label]), spns: ['TERMSRV/rdp01.pamtest.local', 'TERMSRV/nope.pamtest.local', 'referral/x.other.example'] });
    expect(r.as).toMatchObject({ outcome: 'ok', proofSent: true });
    expect(r.services).toEqual([
      { spn: 'TERMSRV/rdp01.pamtest.local', outcome: 'found', etype: 18, etypeName: 'aes256-cts-hmac-sha1-96', kvno: 5 },
      expect.objectContaining({ spn: 'TERMSRV/nope.pamtest.local', outcome: 'krb-error', errorCode: 7, reason: 'service-not-found' }),
      { spn: 'referral/x.other.example', outcome: 'referral', realm: 'OTHER.EXAMPLE' },
    ]);
    expect(kdc.count('tgs')).toBe(3);
    expect(other.seen).toHaveLength(0);
  });

  it('no TGS when the AS exchange fails; SPNs are checked before anything is sent', async () => {
    const kdc = await startFakeKdc({ spns: ['HOST/x'] });
    const r = await tgsExchange({ ...opts(kdc.label, { password: new Secret('wrong') }), spns: ['HOST/x'] });
    expect(r).toMatchObject({ as: { outcome: 'krb-error', reason: 'invalid-credentials' }, services: [] });
    expect(kdc.count('tgs')).toBe(0);
    const before = kdc.seen.length;
    expect(await fault(tgsExchange({ ...opts(kdc.label), spns: ['not an spn'] }))).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(await fault(tgsExchange({ ...opts(kdc.label), spns: [] }))).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(kdc.seen.length).toBe(before);
  });
});

describe('hostile KDC replies through the real client (seeded)', () => {
  it('mutated probe and proof replies end in a result or a CredgateError, in bounded time', async () => {
    const r = prng(20261204);
    const good = await startFakeKdc();
    const probeReply = krbError(25, methodData([{ type: 2, value: Buffer.alloc(0) }, { type: 19, value: etypeInfo2([{ etype: 18, salt: SALT, params: Buffer.from('00001000', 'hex') }]) }]));
    const started = Date.now();
    for (let i = 0; i < 60; i++) {
      const target = i % 2 ? 'proof' : 'probe';
      const base = target === 'probe' ? probeReply : krbError(24, methodData([{ type: 19, value: etypeInfo2([{ etype: 18 }]) }]));
      const m = Buffer.from(base);
      for (let k = 0, n = 1 + r.int(3); k < n; k++) m[r.int(m.length)] = r.int(256);
      const kdc = await startFakeKdc({ hook: (kind) => (kind === target ? m : undefined) });
      try {
        const res = await asExchange(opts(kdc.label, { timeoutMs: 1500 }));
        expect(typeof res.outcome).toBe('string');
      } catch (e) {
        expect(e).toBeInstanceOf(CredgateError);
        expect(['PROTOCOL_ERROR', 'CONNECTION_FAILED', 'TIMEOUT']).toContain((e as CredgateError).code);
      }
      await kdc.close();
    }
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(good.seen).toHaveLength(0);
  }, 30_000);
});

describe('no secret in any result, error or message', () => {
  it('a distinctive password and its keys never appear', async () => {
    const distinctive = 'Zq9!leak-canary-Ωmega-7731';
    const keys = await Promise.all(([18, 17, 23] as const).map((e) => stringToKey(e, distinctive, Buffer.from(SALT), Buffer.from('00001000', 'hex'))));
    const needles = [distinctive, ...keys.flatMap((k) => [k.bytes.toString('hex'), k.bytes.toString('base64')])];
    const outputs: string[] = [];
    const record = (x: unknown) => {
      if (x instanceof Error) outputs.push(x.message, JSON.stringify(x), String(x.stack), JSON.stringify((x as CredgateError).details ?? {}), String((x as { cause?: unknown }).cause ?? ''));
      else outputs.push(JSON.stringify(x));
    };
    const withPw = (kdcs: string | string[], extra: Partial<AsExchangeOptions> = {}) => opts(kdcs, { password: new Secret(distinctive), ...extra });
    const wrong = await startFakeKdc();
    const silentProof = await startFakeKdc({ hook: (kind) => (kind === 'proof' ? 'silent' : undefined) });
    const garbageProof = await startFakeKdc({ hook: (kind) => (kind === 'proof' ? Buffer.from('x') : undefined) });
    const right = await startFakeKdc({ password: distinctive, spns: ['HOST/a'] });
    const port = await closedPort();
    const calls: (() => Promise<unknown>)[] = [
      () => asExchange(withPw(wrong.label)),
      () => asExchange(withPw(silentProof.label, { timeoutMs: 400 })),
      () => asExchange(withPw(garbageProof.label)),
      () => asExchange(withPw(`127.0.0.1:${port}`)),
      () => asExchange(withPw(right.label)),
      () => tgsExchange({ ...withPw(right.label), spns: ['HOST/a', 'HOST/b'] }),
      () => asExchange(withPw('[::1')),
      () => asExchange({ ...withPw(right.label), username: 'CORP\\alice' }),
      () => asExchange({ ...withPw(right.label), password: distinctive as unknown as Secret }),
    ];
    for (const c of calls) await c().then(record, record);
    expect(outputs.length).toBeGreaterThanOrEqual(9);
    for (const o of outputs) for (const n of needles) expect(o).not.toContain(n);
  });
});
