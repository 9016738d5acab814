// The Kerberos client against the lab's real Samba AD KDC (Samba 4.17): every account state with
// the KRB-ERROR code and e-data NTSTATUS Samba actually sends, name forms, awkward passwords,
// AES / RC4, UDP -> TCP (Samba answers a ticket over UDP with RESPONSE_TOO_BIG), TCP only, IPv6,
// a refused KDC port, failover, and TGS for an SPN that exists and one that does not. Only this
// suite's own krb-* accounts ever see a wrong password.
import { describe, it, expect, beforeAll } from 'vitest';
import net from 'node:net';
import { asExchange, asProbe, tgsExchange, type AsExchangeOptions, type AsExchangeResult } from '../../../../src/protocols/kerberos/index.js';
import { Secret } from '../../../../src/core/secret.js';
import { CredgateError } from '../../../../src/core/errors.js';
import { ALT_UPN, prepareKrbAccounts, sambaLab, type PreparedLab } from './lab.js';

const lab0 = sambaLab();
let lab: PreparedLab;
const lockoutTrail: AsExchangeResult[] = [];

const acct = (key: string) => lab.accounts[key]!;
const opts = (key: string, extra: Partial<AsExchangeOptions> = {}): AsExchangeOptions => ({
  username: acct(key).upn,
  password: new Secret(acct(key).password),
  kdcs: lab.kdc,
  timeoutMs: 10_000,
  ...extra,
});
const pick = (r: AsExchangeResult) => ({
  outcome: r.outcome,
  ...('errorCode' in r ? { errorCode: r.errorCode, errorName: r.errorName, reason: r.reason, ntstatus: r.ntstatus, phase: r.phase } : {}),
});

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', () => res()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

describe.skipIf(!lab0)('Samba AD KDC', () => {
  beforeAll(async () => {
    lab = prepareKrbAccounts(lab0!);
    // lock our own account with bad pre-authentications, as many as the lockout threshold
    for (let i = 0; i < lab.lockoutThreshold; i++) {
      lockoutTrail.push(await asExchange(opts('locked', { password: new Secret(`Not-The-Password-${i}`) })));
    }
  }, 60_000);

  it('good password: AES256, proved over TCP after Samba answers the UDP request with RESPONSE_TOO_BIG', async () => {
    const r = await asExchange(opts('good'));
    expect(r).toMatchObject({ outcome: 'ok', etype: 18, preauthRequired: true, proofSent: true, transport: 'tcp', kdc: '127.0.0.1:88', realm: 'PAMTEST.LOCAL', canonicalPrincipal: 'krb-good@PAMTEST.LOCAL' });
    expect(r.outcome === 'ok' && r.keyExpiration).toBeTruthy();
    expect(Math.abs(r.clock!.skewMs)).toBeLessThan(5000);
    const udpOnlyProbe = await asProbe({ username: acct('good').upn, kdcs: lab.kdc });
    expect(udpOnlyProbe).toMatchObject({ outcome: 'preauth-required', transport: 'udp', etype: 18, offeredEtypes: [{ etype: 18, iterations: 4096 }] });
    expect(udpOnlyProbe.outcome === 'preauth-required' && udpOnlyProbe.padataTypes).toContain(2);
  });

  it('TCP only, and the KDC over IPv6', async () => {
    expect(await asExchange(opts('good', { transport: 'tcp' }))).toMatchObject({ outcome: 'ok', transport: 'tcp' });
    expect(await asExchange(opts('good', { kdcs: '[::1]:88' }))).toMatchObject({ outcome: 'ok', kdc: '[::1]:88' });
  });

  it('every name form: UPN (NT-ENTERPRISE and NT-PRINCIPAL), DOMAIN\\user with realm, bare name with defaultDomain', async () => {
    const user = acct('good').user;
    for (const extra of [{}, { enterprise: false }, { username: `PAMTEST\\${user}`, realm: 'pamtest.local' }, { username: user, defaultDomain: 'pamtest.local' }]) {
      expect(await asExchange(opts('good', extra))).toMatchObject({ outcome: 'ok', canonicalPrincipal: `${user}@PAMTEST.LOCAL` });
    }
  });

  it('a UPN whose prefix is not the sAMAccountName and whose suffix is not the realm: found only as NT-ENTERPRISE', async () => {
    const base = opts('alt-upn', { username: ALT_UPN, realm: 'pamtest.local' });
    expect(await asExchange(base)).toMatchObject({ outcome: 'ok', canonicalPrincipal: 'krb-altupn@PAMTEST.LOCAL' });
    expect(pick(await asExchange({ ...base, enterprise: false }))).toMatchObject({ outcome: 'krb-error', phase: 'probe', errorCode: 6 });
  });

  it('wrong password: KDC_ERR_PREAUTH_FAILED (24), no NTSTATUS, e-data = METHOD-DATA with ETYPE-INFO2', async () => {
    const r = await asExchange(opts('wrong', { password: new Secret('Wrong!Krb-2025') }));
    expect(pick(r)).toEqual({ outcome: 'krb-error', phase: 'proof', errorCode: 24, errorName: 'KDC_ERR_PREAUTH_FAILED', reason: 'invalid-credentials', ntstatus: undefined });
    expect(r.outcome === 'krb-error' && r.eData).toEqual({ form: 'method-data', padataTypes: [19] });
  });

  it('unknown user: KDC_ERR_C_PRINCIPAL_UNKNOWN (6) answers the probe, so no password proof is ever sent', async () => {
    for (const enterprise of [true, false]) {
      const r = await asExchange(opts('unknown', { enterprise }));
      expect(pick(r)).toEqual({ outcome: 'krb-error', phase: 'probe', errorCode: 6, errorName: 'KDC_ERR_C_PRINCIPAL_UNKNOWN', reason: 'user-not-found', ntstatus: undefined });
      expect(r.proofSent).toBe(false);
    }
  });

  const states: [string, number, number | undefined, string][] = [
    ['disabled', 18, 0xc0000072, 'account-disabled'],
    ['expired', 18, 0xc0000193, 'account-expired'],
    ['must-change', 23, 0xc0000224, 'password-must-change'],
    ['password-expired', 23, 0xc0000071, 'password-expired'],
    ['logon-hours', 18, 0xc000006f, 'logon-hours'],
  ];
  it.each(states)('%s: error %i with NTSTATUS %s in a PA-PW-SALT (after the proof)', async (key, code, status, reason) => {
    const probe = await asProbe({ username: acct(key).upn, kdcs: lab.kdc });
    expect(probe.outcome).toBe('preauth-required'); // Samba checks the account state only after pre-authentication
    const r = await asExchange(opts(key));
    expect(pick(r)).toMatchObject({ outcome: 'krb-error', phase: 'proof', errorCode: code, ntstatus: status, reason });
    expect(r.outcome === 'krb-error' && r.eData).toEqual({ form: 'method-data', padataTypes: [19, 3], extendedFrom: 'pa-pw-salt', extendedFlags: 1 });
  });

  it('locked out by our own bad pre-authentications: CLIENT_REVOKED (18) without an NTSTATUS', async () => {
    expect(lockoutTrail.map((r) => pick(r).errorCode)).toEqual(Array(lab.lockoutThreshold).fill(24));
    const r = await asExchange(opts('locked'));
    expect(pick(r)).toEqual({ outcome: 'krb-error', phase: 'proof', errorCode: 18, errorName: 'KDC_ERR_CLIENT_REVOKED', reason: 'account-revoked', ntstatus: undefined });
    expect(r.outcome === 'krb-error' && r.eData).toEqual({ form: 'method-data', padataTypes: [19] });
  });

  it('workstation restriction: enforced only when the AS-REQ names the workstation (KDC_ERR_POLICY + STATUS_INVALID_WORKSTATION)', async () => {
    expect(await asExchange(opts('workstation'))).toMatchObject({ outcome: 'ok' });
    expect(await asExchange(opts('workstation', { workstation: 'NOTTHISONE' }))).toMatchObject({ outcome: 'ok' });
    const r = await asExchange(opts('workstation', { workstation: 'OTHERPC' }));
    expect(pick(r)).toMatchObject({ outcome: 'krb-error', errorCode: 12, errorName: 'KDC_ERR_POLICY', ntstatus: 0xc0000070, reason: 'workstation-restricted' });
    expect(await asExchange(opts('good', { workstation: 'OTHERPC' }))).toMatchObject({ outcome: 'ok' });
  });

  it('special characters and a long non-ASCII password', async () => {
    expect(acct('long').password.length).toBeGreaterThan(120);
    expect(await asExchange(opts('special'))).toMatchObject({ outcome: 'ok', etype: 18 });
    expect(await asExchange(opts('long'))).toMatchObject({ outcome: 'ok', etype: 18 });
  });

  it('RC4-HMAC: an account with only an NT hash is offered RC4 alone; asking only for RC4 works too', async () => {
    const probe = await asProbe({ username: acct('rc4-only').upn, kdcs: lab.kdc });
    expect(probe).toMatchObject({ outcome: 'preauth-required', etype: 23, offeredEtypes: [{ etype: 23 }] });
    expect(await asExchange(opts('rc4-only'))).toMatchObject({ outcome: 'ok', etype: 23 });
    expect(await asExchange(opts('good', { etypes: [23] }))).toMatchObject({ outcome: 'ok', etype: 23 });
    expect(await asExchange(opts('good', { etypes: [17] }))).toMatchObject({ outcome: 'ok', etype: 17 });
  });

  it('DONT_REQUIRE_PREAUTH: Samba 4.17 still answers PREAUTH_REQUIRED, so the normal proof is used', async () => {
    const probe = await asProbe({ username: acct('no-preauth').upn, kdcs: lab.kdc });
    if (probe.outcome === 'no-preauth') {
      // a KDC that honours the flag: the password is checked locally, nothing is sent
      expect(await asExchange(opts('no-preauth'))).toMatchObject({ outcome: 'ok', preauthRequired: false, proofSent: false });
    } else {
      expect(probe.outcome).toBe('preauth-required');
      expect(await asExchange(opts('no-preauth'))).toMatchObject({ outcome: 'ok', preauthRequired: true });
    }
  });

  it('a refused KDC port: CONNECTION_FAILED kind refused; listed first, it is skipped for the real KDC', async () => {
    const port = await closedPort();
    for (const transport of ['udp', 'tcp'] as const) {
      await expect(asExchange(opts('good', { kdcs: `127.0.0.1:${port}`, transport }))).rejects.toMatchObject({ code: 'CONNECTION_FAILED', details: { kind: 'refused' } });
    }
    const r = await asExchange(opts('good', { kdcs: [`127.0.0.1:${port}`, lab.kdc] }));
    expect(r).toMatchObject({ outcome: 'ok', kdc: lab.kdc, failover: [{ kdc: `127.0.0.1:${port}`, code: 'CONNECTION_FAILED', kind: 'refused' }] });
  });

  it('TGS: HOST/<dc fqdn> exists, TERMSRV/<dc fqdn> does not (S_PRINCIPAL_UNKNOWN)', async () => {
    const host = `HOST/${lab.dcFqdn}`;
    const termsrv = `TERMSRV/${lab.dcFqdn}`;
    const r = await tgsExchange({ ...opts('good'), spns: [host, termsrv] });
    expect(r.as).toMatchObject({ outcome: 'ok' });
    expect(r.services[0]).toMatchObject({ spn: host, outcome: 'found', etype: 18 });
    expect(r.services[1]).toMatchObject({ spn: termsrv, outcome: 'krb-error', errorCode: 7, errorName: 'KDC_ERR_S_PRINCIPAL_UNKNOWN', reason: 'service-not-found' });
    const rc4 = await tgsExchange({ ...opts('rc4-only'), spns: [host] });
    expect(rc4.services[0]).toMatchObject({ outcome: 'found' });
  });

  it('a distinctive wrong password never shows in a result or an error', async () => {
    const canary = 'Kq7!krb-leak-canary-Ωmega-2026';
    const outputs: string[] = [];
    outputs.push(JSON.stringify(await asExchange(opts('wrong', { password: new Secret(canary) }))));
    outputs.push(JSON.stringify(await tgsExchange({ ...opts('wrong', { password: new Secret(canary) }), spns: [`HOST/${lab.dcFqdn}`] })));
    try {
      await asExchange(opts('wrong', { password: new Secret(canary), kdcs: `127.0.0.1:${await closedPort()}` }));
    } catch (e) {
      expect(e).toBeInstanceOf(CredgateError);
      outputs.push((e as Error).message, JSON.stringify(e), String((e as Error).stack));
    }
    expect(outputs).toHaveLength(5);
    for (const o of outputs) expect(o).not.toContain(canary);
  });
});
