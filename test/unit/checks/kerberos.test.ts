// The Kerberos check against a fake KDC on loopback (test/helpers/fake-kdc.ts: real DER, real
// crypto): each KDC answer → its krb.* finding, category and exit code; CLIENT_REVOKED without a
// status named with its candidates, or resolved by the account state; the measured skew; the
// RDP host's SPNs; KDC faults as net.* findings with the KDC's fixes (and "not resent" after the
// proof); the proof withheld by beforeProof; and no password in any finding.
import { describe, it, expect, afterEach } from 'vitest';
import { validateKerberos, formatSkew, type KerberosCheckOptions } from '../../../src/checks/kerberos.js';
import { exitCodeFor } from '../../../src/findings/diagnose.js';
import { CATALOG } from '../../../src/findings/catalog.js';
import { Secret } from '../../../src/core/secret.js';
import { CredgateError } from '../../../src/core/errors.js';
import type { AccountState } from '../../../src/checks/account-state.js';
import { ctx, derInt, derOctets, seq } from '../../../src/protocols/kerberos/der.js';
import { closedPort } from '../../helpers/servers.js';
import { ext, krbError, methodData, PASSWORD, startFakeKdc, stopFakeKdcs } from '../../helpers/fake-kdc.js';

afterEach(stopFakeKdcs);

const check = (kdc: string, extra: Partial<KerberosCheckOptions> = {}) =>
  validateKerberos({ username: 'alice@pamtest.local', password: new Secret(PASSWORD), kdcs: kdc, timeoutMs: 4000, ...extra });
/** A KERB-ERROR-DATA e-data carrying an NTSTATUS (Windows), or a PA-PW-SALT one (Samba). */
const kerbExt = (status: number) => seq(ctx(1, derInt(3)), ctx(2, derOctets(ext(status))));
const pwSalt = (status: number) => methodData([{ type: 3, value: ext(status) }]);

function noSecret(v: unknown, ...secrets: string[]) {
  const text = JSON.stringify(v);
  for (const s of [PASSWORD, ...secrets]) expect(text).not.toContain(s);
}

const state = (over: Partial<AccountState>): AccountState => ({
  dn: 'CN=alice,CN=Users,DC=pamtest,DC=local', userAccountControl: 512, computedFlags: 0, disabled: false, locked: false,
  mustChangePassword: false, passwordNeverExpires: false, lockoutThreshold: 3, lockoutThresholdSource: 'domain', badPwdCount: 0, ...over,
});

describe('the KDC accepts or rejects the password', () => {
  it('a good password: krb.ok with the KDC, realm, principal and etype as evidence, one proof sent', async () => {
    const kdc = await startFakeKdc();
    const r = await check(kdc.label);
    expect(r.findings.map((f) => f.code)).toEqual(['krb.ok']);
    expect(r.findings[0]!.evidence).toMatchObject({ kdc: kdc.label, realm: 'PAMTEST.LOCAL', principal: 'alice\\@pamtest.local@PAMTEST.LOCAL', etype: 'aes256-cts-hmac-sha1-96', transport: 'tcp', proofSent: true });
    expect(r).toMatchObject({ proofSent: true, withheld: false, kdc: kdc.label });
    expect([kdc.count('probe'), kdc.count('proof'), kdc.count('proof', 'udp')]).toEqual([1, 1, 0]);
    noSecret(r);
  });

  it('a wrong password: krb.invalid-credentials (exit 1), the proof sent once', async () => {
    const kdc = await startFakeKdc({ password: 'Some-Other-Password-1' });
    const r = await check(kdc.label);
    expect(r.findings.map((f) => [f.code, exitCodeFor(f.code)])).toEqual([['krb.invalid-credentials', 1]]);
    expect(r.findings[0]!.evidence).toMatchObject({ errorName: 'KDC_ERR_PREAUTH_FAILED', phase: 'proof' });
    expect(r.findings[0]!.remediation.length).toBeGreaterThan(0);
    expect(kdc.count('proof')).toBe(1);
    noSecret(r);
  });

  it('an account without pre-authentication: checked locally (no proof), with the AS-REP-roasting warning', async () => {
    const good = await startFakeKdc({ preauth: false });
    expect((await check(good.label)).findings.map((f) => f.code)).toEqual(['krb.ok', 'krb.preauth-not-required']);
    const bad = await startFakeKdc({ preauth: false, password: 'Another-One-2' });
    const r = await check(bad.label);
    expect(r.findings.map((f) => f.code)).toEqual(['krb.invalid-credentials', 'krb.preauth-not-required']);
    expect(r.proofSent).toBe(false);
    expect(bad.count('proof')).toBe(0);
  });

  it.each([
    ['STATUS_ACCOUNT_DISABLED in a PA-PW-SALT (Samba)', krbError(18, pwSalt(0xc0000072)), 'krb.account-disabled', 3],
    ['STATUS_ACCOUNT_LOCKED_OUT in KERB-EXT-ERROR (Windows)', krbError(18, kerbExt(0xc0000234)), 'krb.account-locked', 3],
    ['STATUS_ACCOUNT_EXPIRED', krbError(18, pwSalt(0xc0000193)), 'krb.account-expired', 3],
    ['STATUS_PASSWORD_EXPIRED', krbError(23, pwSalt(0xc0000071)), 'krb.password-expired', 3],
    ['STATUS_PASSWORD_MUST_CHANGE', krbError(23, pwSalt(0xc0000224)), 'krb.password-must-change', 3],
    ['STATUS_INVALID_LOGON_HOURS', krbError(18, pwSalt(0xc000006f)), 'krb.logon-hours', 3],
    ['STATUS_INVALID_WORKSTATION', krbError(12, pwSalt(0xc0000070)), 'krb.workstation-restricted', 3],
    ['KDC_ERR_POLICY without a status', krbError(12), 'krb.policy', 3],
    ['KDC_ERR_ETYPE_NOSUPP', krbError(14), 'krb.etype-unsupported', 3],
    ['KDC_ERR_WRONG_REALM', krbError(68), 'krb.wrong-realm', 2],
    ['KRB_ERR_GENERIC', krbError(60), 'krb.error', 4],
  ])('%s after the proof → %s (exit %i)', async (_name, reply, code, exit) => {
    const kdc = await startFakeKdc({ hook: (kind) => (kind === 'proof' ? reply : undefined) });
    const r = await check(kdc.label, { workstation: 'WS0042' });
    expect(r.findings.map((f) => f.code)).toEqual([code]);
    expect(exitCodeFor(code)).toBe(exit);
    expect(r.findings[0]!.remediation.length).toBeGreaterThan(0);
    expect(r.findings[0]!.remediation.every((x) => !/\{(host|port|detail|items|url)\}/.test(x.action))).toBe(true);
    expect(CATALOG[r.findings[0]!.code].cause.length).toBeGreaterThan(10);
    expect(r.proofSent).toBe(true);
  });

  it('the workstation restriction names the workstation in the fix', async () => {
    const kdc = await startFakeKdc({ hook: (kind) => (kind === 'proof' ? krbError(12, pwSalt(0xc0000070)) : undefined) });
    const r = await check(kdc.label, { workstation: 'WS0042' });
    expect(r.findings[0]!.remediation[0]!.action).toContain('(WS0042)');
    expect(r.findings[0]!.evidence).toMatchObject({ ntstatus: '0xC0000070', ntstatusName: 'STATUS_INVALID_WORKSTATION' });
  });

  it('an unknown principal answers the first AS-REQ: krb.user-not-found (exit 1), no password sent', async () => {
    const kdc = await startFakeKdc({ hook: (kind) => (kind === 'probe' ? krbError(6) : undefined) });
    const r = await check(kdc.label);
    expect(r.findings.map((f) => f.code)).toEqual(['krb.user-not-found']);
    expect(r.findings[0]!.message).toContain('which carries no password');
    expect([r.proofSent, kdc.count('proof'), exitCodeFor('krb.user-not-found')]).toEqual([false, 0, 1]);
  });

  it('no common etype, or no encrypted timestamp: unsupported, nothing sent', async () => {
    const des = await startFakeKdc({ entries: [{ etype: 3, salt: 'x' }] });
    expect((await check(des.label)).findings.map((f) => [f.code, exitCodeFor(f.code)])).toEqual([['krb.etype-unsupported', 3]]);
    const fast = await startFakeKdc({ paTypes: [136, 138] });
    expect((await check(fast.label)).findings.map((f) => [f.code, exitCodeFor(f.code)])).toEqual([['krb.preauth-unsupported', 4]]);
    expect(des.count('proof') + fast.count('proof')).toBe(0);
  });

  it('clock skew: krb.clock-skew (exit 4) with the measured offset in the message, the evidence and the fix', async () => {
    const kdc = await startFakeKdc({ hook: (kind) => (kind === 'proof' ? krbError(37, undefined, new Date(Date.now() + 3723_000)) : undefined) });
    const r = await check(kdc.label);
    const f = r.findings[0]!;
    expect([f.code, exitCodeFor(f.code)]).toEqual(['krb.clock-skew', 4]);
    expect(Math.abs((f.evidence.skewMs as number) - 3723_000)).toBeLessThan(5000);
    expect(f.message).toMatch(/its clock is 1 h 02 min ahead of this machine's/);
    expect(f.remediation[0]!.action).toContain('1 h 02 min apart');
  });

  it('formatSkew', () => {
    expect([formatSkew(850), formatSkew(-190_000), formatSkew(3_723_000), formatSkew(-7_200_000)]).toEqual(['850 ms', '3 min 10 s', '1 h 02 min', '2 h 00 min']);
  });
});

describe('CLIENT_REVOKED without a status (a Samba lockout)', () => {
  const revoked = () => startFakeKdc({ hook: (kind) => (kind === 'proof' ? krbError(18, methodData([{ type: 19, value: Buffer.from('3000', 'hex') }])) : undefined) });

  it('without an account state: krb.account-revoked naming the candidates', async () => {
    const r = await check((await revoked()).label);
    expect(r.findings.map((f) => [f.code, exitCodeFor(f.code)])).toEqual([['krb.account-revoked', 3]]);
    expect(r.findings[0]!.evidence.candidates).toEqual(['disabled', 'locked out', 'expired', 'outside its logon hours']);
    expect(r.findings[0]!.message).toContain('disabled, locked out, expired or outside its logon hours');
    expect(r.findings[0]!.remediation.map((x) => x.action).join(' ')).toMatch(/--service-user .*disabled, locked out, expired, outside its logon hours/s);
  });

  it.each([
    [{ locked: true, lockoutTime: new Date('2026-11-25T05:49:16Z') }, 'krb.account-locked', 'locked out since 2026-11-25T05:49:16.000Z'],
    [{ disabled: true }, 'krb.account-disabled', 'disabled'],
    [{ accountExpires: new Date(Date.now() - 86400e3) }, 'krb.account-expired', 'expired on'],
    [{ logonHoursDenyAll: true }, 'krb.logon-hours', 'no logon allowed'],
  ])('resolved by the account state %o → %s', async (over, code, words) => {
    const r = await check((await revoked()).label, { state: state(over) });
    expect(r.findings.map((f) => f.code)).toEqual([code]);
    expect(r.findings[0]!.message).toContain(words);
    expect(r.findings[0]!.evidence.accountState).toBeDefined();
  });

  it('a state that shows none of them: still krb.account-revoked, and it says so', async () => {
    const r = await check((await revoked()).label, { state: state({}) });
    expect(r.findings.map((f) => f.code)).toEqual(['krb.account-revoked']);
    expect(r.findings[0]!.message).toContain('shows none of');
  });
});

describe('the RDP host\'s service principal', () => {
  it('TERMSRV/<name> found: krb.spn-ok; HOST/<name> only: krb.spn-ok naming HOST', async () => {
    const a = await startFakeKdc({ spns: ['TERMSRV/rdp01.pamtest.local'] });
    const r1 = await check(a.label, { spnHosts: ['rdp01.pamtest.local'] });
    expect(r1.findings.map((f) => f.code)).toEqual(['krb.ok', 'krb.spn-ok']);
    expect(r1.findings[1]!.message).toContain('TERMSRV/rdp01.pamtest.local');
    const b = await startFakeKdc({ spns: ['HOST/rdp02.pamtest.local'] });
    const r2 = await check(b.label, { spnHosts: ['rdp02.pamtest.local'] });
    expect(r2.findings[1]).toMatchObject({ code: 'krb.spn-ok', evidence: { spns: { 'TERMSRV/rdp02.pamtest.local': 'KDC_ERR_S_PRINCIPAL_UNKNOWN', 'HOST/rdp02.pamtest.local': 'found' } } });
    expect(r2.findings[1]!.message).toMatch(/HOST\/rdp02\.pamtest\.local .*maps it to the HOST\/ principal/);
    expect([a.count('proof'), a.count('tgs')]).toEqual([1, 2]);
  });

  it('no SPN for the name clients use: krb.no-spn (a warning, exit 0), naming another name that has one', async () => {
    const kdc = await startFakeKdc({ spns: ['HOST/rdp01.pamtest.local'] });
    const r = await check(kdc.label, { spnHosts: ['rdp01', 'rdp01.pamtest.local'] });
    const f = r.findings.find((x) => x.code === 'krb.no-spn')!;
    expect([f.severity, exitCodeFor(f.code)]).toEqual(['warning', 0]);
    expect(f.evidence.namesWithSpn).toEqual(['rdp01.pamtest.local']);
    expect(f.remediation[0]!.action).toBe('Connect by a name that has the SPN: rdp01.pamtest.local.');
    expect(f.remediation[1]!.action).toContain('setspn -S TERMSRV/rdp01 ');
  });

  it('an IP address: krb.no-spn with the IP fix', async () => {
    const kdc = await startFakeKdc();
    const r = await check(kdc.label, { spnHosts: ['10.0.0.5'] });
    const f = r.findings.find((x) => x.code === 'krb.no-spn')!;
    expect(f.message).toContain('it is an IP address');
    expect(f.remediation[0]!.action).toContain('does not use Kerberos for an IP address');
  });

  it('no SPN look-up when the password was not accepted', async () => {
    const kdc = await startFakeKdc({ password: 'Not-This-One-3', spns: ['HOST/rdp01'] });
    const r = await check(kdc.label, { spnHosts: ['rdp01'] });
    expect(r.findings.map((f) => f.code)).toEqual(['krb.invalid-credentials']);
    expect(kdc.count('tgs')).toBe(0);
  });

  it('a KDC that hangs up on the TGS-REQ: krb.ok stands, the SPN look-up is not checked', async () => {
    const kdc = await startFakeKdc({ hook: (kind) => (kind === 'tgs' ? 'close' : undefined) });
    const r = await check(kdc.label, { spnHosts: ['rdp01'] });
    expect(r.findings.map((f) => [f.code, f.severity])).toEqual([['krb.ok', 'ok'], ['not-checked', 'info']]);
    expect(r.proofSent).toBe(true);
  });
});

describe('KDC faults are net.* findings with the KDC\'s fixes', () => {
  it('a refused port: net.refused (exit 4), nothing sent', async () => {
    const port = await closedPort();
    const r = await check(`127.0.0.1:${port}`);
    expect(r.findings.map((f) => [f.code, exitCodeFor(f.code)])).toEqual([['net.refused', 4]]);
    expect(r.findings[0]!.remediation[0]!.action).toContain(`listens on port ${port} (Kerberos: TCP and UDP 88)`);
    expect(r.proofSent).toBe(false);
  });

  it('a silent KDC before the proof: net.timeout; after it: net.timeout that says it was not resent', async () => {
    const quiet = await startFakeKdc({ hook: () => 'silent' });
    const before = await check(quiet.label, { timeoutMs: 250 });
    expect(before.findings.map((f) => f.code)).toEqual(['net.timeout']);
    expect(before.proofSent).toBe(false);
    const late = await startFakeKdc({ hook: (kind) => (kind === 'proof' ? 'silent' : undefined) });
    const after = await check(late.label, { timeoutMs: 800 }); // room for the first AS-REQ and the key under load; the proof then waits it out
    expect(after.findings[0]).toMatchObject({ code: 'net.timeout', evidence: { proofSent: true } });
    expect(after.findings[0]!.message).toContain('did not resend it');
    expect(after.findings[0]!.remediation[0]!.action).toContain('credgate does not resend the proof');
    expect([after.proofSent, late.count('proof')]).toEqual([true, 1]);
  });

  it('a reply that is not Kerberos: step.protocol-error (exit 4)', async () => {
    const kdc = await startFakeKdc({ hook: () => Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n') });
    const r = await check(kdc.label);
    expect(r.findings.map((f) => [f.code, exitCodeFor(f.code)])).toEqual([['step.protocol-error', 4]]);
  });

  it('two KDCs down: one finding naming both', async () => {
    const [p1, p2] = [await closedPort(), await closedPort()];
    const r = await check(`127.0.0.1:${p1},127.0.0.1:${p2}`);
    expect(r.findings[0]!.code).toBe('net.refused');
    expect(r.findings[0]!.remediation[0]!.action).toContain(`127.0.0.1:${p1}, 127.0.0.1:${p2}`);
  });
});

describe('what the check refuses or withholds', () => {
  it('a DN is not a Kerberos name: CONFIG_INVALID before anything is sent', async () => {
    const kdc = await startFakeKdc();
    await expect(check(kdc.label, { username: 'CN=alice,CN=Users,DC=pamtest,DC=local' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(check(kdc.label, { username: 'PAMTEST\\alice' })).rejects.toBeInstanceOf(CredgateError);
    expect(kdc.seen).toHaveLength(0);
  });

  it('beforeProof false: the first AS-REQ only, no findings, withheld', async () => {
    const kdc = await startFakeKdc();
    const r = await check(kdc.label, { beforeProof: () => false });
    expect(r).toEqual({ findings: [], proofSent: false, withheld: true, kdc: kdc.label });
    expect([kdc.count('probe'), kdc.count('proof')]).toEqual([1, 0]);
  });

  it('a distinctive password never appears in a finding, whatever the answer', async () => {
    const canary = 'Zq9!krb-check-canary-Ωmega';
    const outputs: unknown[] = [];
    for (const hook of [undefined, (kind: string) => (kind === 'proof' ? krbError(18, pwSalt(0xc0000072)) : undefined), () => 'close' as const]) {
      const kdc = await startFakeKdc({ password: canary, ...(hook ? { hook } : {}) });
      outputs.push(await check(kdc.label, { password: new Secret(canary), spnHosts: ['rdp01'] }));
    }
    expect(outputs).toHaveLength(3);
    noSecret(outputs, canary);
  });
});
