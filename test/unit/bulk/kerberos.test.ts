// verifyMany with `kerberos`: one AS exchange per account against a fake KDC on loopback — the
// same result shape as the LDAP pool (bound = the proof was sent, the KDC that answered), the same
// rules: a bad input line is input.invalid, the same account twice waits for the first answer and
// is not tried again after a refusal, a stopped run sends no proof, concurrency and the rate limit
// hold, and no password reaches a result line.
import { describe, it, expect, afterEach } from 'vitest';
import { verifyMany, type AccountLine, type VerifyResult } from '../../../src/bulk/verify-many.js';
import { resultLine } from '../../../src/bulk/results.js';
import { Secret } from '../../../src/core/secret.js';
import { PASSWORD, startFakeKdc, stopFakeKdcs, krbError } from '../../helpers/fake-kdc.js';
import { closedPort } from '../../helpers/servers.js';

afterEach(stopFakeKdcs);

const acct = (username: string, password = PASSWORD, line?: number): AccountLine => ({ username, password: new Secret(password), ...(line !== undefined ? { line } : {}) });
async function all(it: AsyncIterable<VerifyResult>): Promise<VerifyResult[]> {
  const out: VerifyResult[] = [];
  for await (const r of it) out.push(r);
  return out.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

describe('verifyMany with kerberos', () => {
  it('one pre-authentication per account: ok, wrong, unknown, a DN and an empty password as input.invalid', async () => {
    const kdc = await startFakeKdc({ hook: (kind, _t, seen) => (kind === 'probe' && seen.at(-1)!.bytes.includes(Buffer.from('nobody')) ? krbError(6) : undefined) });
    const rs = await all(verifyMany([
      acct('alice@pamtest.local', PASSWORD, 1),
      acct('alice2@pamtest.local', 'Wrong-Password-9', 2),
      acct('nobody@pamtest.local', 'x-123456', 3),
      acct('CN=alice,CN=Users,DC=pamtest,DC=local', PASSWORD, 4),
      acct('carol@pamtest.local', '', 5),
    ], { kerberos: { kdc: kdc.label }, concurrency: 2, timeoutMs: 4000 }));
    expect(rs.map((r) => [r.line, r.code, r.exitCode, r.bound, r.kdc])).toEqual([
      [1, 'krb.ok', 0, true, kdc.label],
      [2, 'krb.invalid-credentials', 1, true, kdc.label],
      [3, 'krb.user-not-found', 1, false, kdc.label],
      [4, 'input.invalid', 2, false, undefined],
      [5, 'input.invalid', 2, false, undefined],
    ]);
    expect(rs[3]!.findings[0]!.message).toContain('not by a DN');
    expect(kdc.count('proof')).toBe(2);
    const lines = rs.map(resultLine).join('');
    expect(lines).toContain(`"kdc":"${kdc.label}"`);
    expect(lines).not.toContain(PASSWORD);
    expect(lines).not.toContain('Wrong-Password-9');
  });

  it('the same account twice: the second waits for the first; after a refusal it is not tried again (ldap.lockout-risk, repeat)', async () => {
    const kdc = await startFakeKdc({ password: 'The-Real-One-7' });
    const rs = await all(verifyMany([acct('alice@pamtest.local', 'Guess-1', 1), acct('ALICE@pamtest.local', 'Guess-2', 2)], { kerberos: { kdc: kdc.label }, concurrency: 4, timeoutMs: 4000 }));
    expect(rs.map((r) => [r.code, r.bound])).toEqual([['krb.invalid-credentials', true], ['ldap.lockout-risk', false]]);
    expect(rs[1]!.findings[0]!.source).toBe('kerberos');
    expect(kdc.count('proof')).toBe(1);
  });

  it('an unreachable KDC: every account net.refused, nothing bound, exit 4', async () => {
    const port = await closedPort();
    const rs = await all(verifyMany([acct('a@pamtest.local', PASSWORD, 1), acct('b@pamtest.local', PASSWORD, 2)], { kerberos: { kdc: `127.0.0.1:${port}` }, timeoutMs: 2000 }));
    expect(rs.map((r) => [r.code, r.exitCode, r.bound])).toEqual([['net.refused', 4, false], ['net.refused', 4, false]]);
  });

  it('a run stopped while the first AS-REQ was answered sends no proof, reports nothing for it and ends with an AbortError', async () => {
    const ac = new AbortController();
    const kdc = await startFakeKdc({ hook: (kind) => { if (kind === 'probe') ac.abort(); return undefined; } });
    const rs: VerifyResult[] = [];
    const e = await (async () => {
      for await (const r of verifyMany([acct('alice@pamtest.local', PASSWORD, 1)], { kerberos: { kdc: kdc.label }, signal: ac.signal, timeoutMs: 4000 })) rs.push(r);
    })().then(() => undefined, (x: unknown) => x);
    expect(rs).toEqual([]);
    expect(e).toMatchObject({ name: 'AbortError', code: 'ABORTED' });
    expect([kdc.count('probe'), kdc.count('proof')]).toEqual([1, 0]);
  });

  it('concurrency bounds the AS exchanges in flight; the rate limit spaces them', async () => {
    let inFlight = 0;
    let peak = 0;
    const kdc = await startFakeKdc({
      // an account is in flight from its first AS-REQ until its proof arrives (a worker takes the next one only after the answer)
      hook: (kind) => {
        if (kind === 'probe') peak = Math.max(peak, ++inFlight);
        if (kind === 'proof') inFlight--;
        return undefined;
      },
    });
    const accounts = Array.from({ length: 12 }, (_, i) => acct(`u${i}@pamtest.local`, PASSWORD, i + 1));
    const rs = await all(verifyMany(accounts, { kerberos: { kdc: kdc.label }, concurrency: 3, timeoutMs: 4000 }));
    expect(rs.every((r) => r.code === 'krb.ok')).toBe(true);
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1); // the pool does run accounts in parallel
    const t0 = performance.now();
    const rated = await all(verifyMany(accounts.slice(0, 5), { kerberos: { kdc: kdc.label }, rate: 20, timeoutMs: 4000 }));
    expect(rated).toHaveLength(5);
    expect(performance.now() - t0).toBeGreaterThan(150); // 5 tries at 20/s take at least 4 intervals of 50 ms
  });

  it('options: kerberos or urls; a service account needs urls (the guard reads the directory)', async () => {
    await expect(all(verifyMany([acct('a@pamtest.local')], {}))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(all(verifyMany([acct('a@pamtest.local')], { kerberos: { kdc: '127.0.0.1' }, service: { username: 'svc', password: new Secret('s-123456') } }))).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('give urls too') });
  });
});
