// `credgate check --kdc` against the lab's real Samba 4.17 KDC, as a script runs it: the code and
// exit status for every account state Samba can produce, awkward passwords, name forms, a refused
// KDC port and failover, UDP -> TCP, the lockout order with the directory (one bad-password count,
// not two), the RDP host's SPN, KDC discovery through a DNS server on loopback, and a clock an
// hour off (the CLI run under Debian's faketime). This suite's own krb-c-* accounts only.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { runCli } from '../../helpers/cli.js';
import { closedPort } from '../../helpers/servers.js';
import { labPart, samba, sambaScenario, type SambaState } from '../../lab/state.js';
import { prepareKrbAccounts, sambaLab, suiteAccounts, type PreparedLab } from '../protocols/kerberos/lab.js';
import { asExchange } from '../../../src/protocols/kerberos/index.js';
import { readAccountState } from '../../../src/checks/account-state.js';
import { Secret } from '../../../src/core/secret.js';
import { startDnsServer } from '../../fixtures/dns-server.js';

const ACCOUNTS = suiteAccounts('c', ['good', 'wrong', 'unknown', 'disabled', 'locked', 'expired', 'must-change', 'password-expired', 'logon-hours', 'workstation', 'special', 'long'], [
  { key: 'once', user: 'krb-once', password: 'Once!KrbC-2026' }, // the domain's lockout policy: its badPwdCount is read
]);
const lab0 = sambaLab();
let lab: PreparedLab;
let dir: SambaState;
const a = (key: string) => lab.accounts[key]!;
const secrets = () => ACCOUNTS.map((x) => x.password);
const kdcCheck = (key: string, extra: string[] = [], password = a(key).password) =>
  runCli(['check', '--kdc', lab.kdc, '--user', a(key).upn, '--password-stdin', '--json', ...extra], { stdin: password, secrets: secrets() });
const faketime = (() => {
  try {
    return execFileSync('which', ['faketime'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
})();

describe.skipIf(!lab0)('credgate check --kdc (the lab\'s Samba KDC)', () => {
  beforeAll(async () => {
    lab = prepareKrbAccounts(lab0!, ACCOUNTS, 'krb-c');
    dir = samba();
    // lock this suite's own account with bad pre-authentications, as many as the lockout threshold
    for (let i = 0; i < lab.lockoutThreshold; i++) await asExchange({ username: a('locked').upn, password: new Secret(`Not-It-${i}`), kdcs: lab.kdc, transport: 'tcp' });
  }, 90_000);

  it.each([
    ['good', [], 'krb.ok', 0, undefined],
    ['special', [], 'krb.ok', 0, undefined],
    ['long', [], 'krb.ok', 0, undefined],
    ['disabled', [], 'krb.account-disabled', 3, 'STATUS_ACCOUNT_DISABLED'],
    ['expired', [], 'krb.account-expired', 3, 'STATUS_ACCOUNT_EXPIRED'],
    ['must-change', [], 'krb.password-must-change', 3, 'STATUS_PASSWORD_MUST_CHANGE'],
    ['password-expired', [], 'krb.password-expired', 3, 'STATUS_PASSWORD_EXPIRED'],
    ['logon-hours', [], 'krb.logon-hours', 3, 'STATUS_INVALID_LOGON_HOURS'],
    ['workstation', ['--workstation', 'OTHERPC'], 'krb.workstation-restricted', 3, 'STATUS_INVALID_WORKSTATION'],
    ['locked', [], 'krb.account-revoked', 3, undefined],
  ] as const)('%s %j → %s, exit %i', async (key, extra, code, exit, status) => {
    const r = await kdcCheck(key, [...extra]);
    expect([r.code, r.json.code, r.json.exitCode, r.json.ok]).toEqual([exit, code, exit, exit === 0]);
    const f = r.json.findings.find((x: { code: string }) => x.code === code);
    expect(f.evidence).toMatchObject({ kdc: '127.0.0.1:88', realm: 'PAMTEST.LOCAL', transport: 'tcp', proofSent: true });
    if (status) expect(f.evidence.ntstatusName).toBe(status);
    expect(f.remediation.length > 0).toBe(exit !== 0);
    expect(r.json.timingsMs.kerberos).toBeGreaterThan(0);
  });

  it('a wrong password: krb.invalid-credentials, exit 1; an unknown user: krb.user-not-found, exit 1, no password sent', async () => {
    const wrong = await kdcCheck('wrong', [], 'Not!The-Password-2026');
    expect([wrong.code, wrong.json.code, wrong.json.findings[0].evidence.errorName]).toEqual([1, 'krb.invalid-credentials', 'KDC_ERR_PREAUTH_FAILED']);
    const unknown = await kdcCheck('unknown');
    expect([unknown.code, unknown.json.code]).toEqual([1, 'krb.user-not-found']);
    expect(unknown.json.findings[0].evidence).toMatchObject({ phase: 'probe', proofSent: false });
  });

  it('a lockout (CLIENT_REVOKED without a status): the candidates and how to tell them apart, in words', async () => {
    const r = await runCli(['check', '--kdc', lab.kdc, '--user', a('locked').upn, '--password-stdin'], { stdin: a('locked').password, secrets: secrets() });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^FAIL {2}krb-c-locked@pamtest\.local — The KDC 127\.0\.0\.1:88 answered KDC_ERR_CLIENT_REVOKED without a status: the account is disabled, locked out, expired or outside its logon hours/);
    expect(r.stdout).toContain('--service-user');
  });

  it('with the directory and a service account: a locked account is not tried at all (the guard), and a good one is proved by both', async () => {
    const svc = ['--ldap', dir.ldapsUrl, '--ca-file', dir.caFile, '--service-user', `${dir.reader.user}@pamtest.local`, '--service-password-env', 'SVC_PW'];
    const env = { SVC_PW: dir.reader.password };
    const locked = await runCli(['check', '--kdc', lab.kdc, '--user', a('locked').upn, '--password-stdin', '--json', ...svc], { stdin: a('locked').password, env, secrets: secrets() });
    expect([locked.code, locked.json.code]).toEqual([3, 'ldap.account-locked']);
    const skipped = locked.json.findings.filter((f: { code: string }) => f.code === 'not-checked').map((f: { evidence: { step: string } }) => f.evidence.step);
    expect(skipped).toContain('kerberos');
    expect(locked.json.timingsMs.kerberos).toBeUndefined();
    const good = await runCli(['check', '--kdc', lab.kdc, '--user', a('good').upn, '--password-stdin', '--json', ...svc], { stdin: a('good').password, env, secrets: secrets() });
    expect(good.code).toBe(0);
    expect(good.json.findings.map((f: { code: string }) => f.code)).toEqual(['krb.ok', 'ldap.ok', 'account.ok', 'rdp.logon-right-not-checked']);
    expect(Object.keys(good.json.timingsMs)).toEqual(expect.arrayContaining(['accountState', 'kerberos', 'bind']));
  });

  it('the KDC first: a wrong password refused by it is not tried in the directory — one bad-password count, not two', async () => {
    const reader = { serviceUser: `${dir.reader.user}@pamtest.local`, servicePassword: new Secret(dir.reader.password), urls: dir.ldapsUrl, caFile: dir.caFile, target: a('once').upn };
    expect((await readAccountState(reader)).state?.badPwdCount).toBe(0);
    const r = await runCli(['check', '--kdc', lab.kdc, '--ldap', dir.ldapsUrl, '--ca-file', dir.caFile, '--user', a('once').upn, '--password-stdin', '--json'], { stdin: 'Not!Once-2026', secrets: secrets() });
    expect([r.code, r.json.code]).toEqual([1, 'krb.invalid-credentials']);
    const nc = r.json.findings.find((f: { code: string }) => f.code === 'not-checked');
    expect(nc.evidence.step).toBe('ldap-bind');
    expect(nc.message).toContain('the KDC already rejected the credential (krb.invalid-credentials)');
    expect(r.json.timingsMs.bind).toBeUndefined();
    expect((await readAccountState(reader)).state?.badPwdCount).toBe(1);
  });

  it('with --rdp: the KDC first, then NLA; a password the KDC refused never reaches the host', async () => {
    const rdp = labPart<{ nla: { port: number } }>('rdp');
    const alice = sambaScenario('good');
    const good = await runCli(['check', '--kdc', lab.kdc, '--realm', 'pamtest.local', '--rdp', `127.0.0.1:${rdp.nla.port}`, '--user', alice.downLevel, '--password-stdin', '--json'], { stdin: alice.password });
    expect(good.code).toBe(0);
    expect(good.json.findings.map((f: { code: string }) => f.code)).toEqual(expect.arrayContaining(['krb.ok', 'rdp.nla-ok', 'krb.no-spn']));
    expect(good.json.timingsMs.rdpNla).toBeGreaterThan(0);
    const wrong = await runCli(['check', '--kdc', lab.kdc, '--rdp', `127.0.0.1:${rdp.nla.port}`, '--user', a('wrong').upn, '--password-stdin', '--json'], { stdin: 'Not!Wrong-KrbC-3', secrets: secrets() });
    expect([wrong.code, wrong.json.code]).toEqual([1, 'krb.invalid-credentials']);
    const nc = wrong.json.findings.find((f: { code: string }) => f.code === 'not-checked');
    expect(nc.evidence).toMatchObject({ step: 'rdp-nla', because: 'krb.invalid-credentials' });
    expect(wrong.json.timingsMs.rdpNla).toBeUndefined();
  });

  it('name forms: DOMAIN\\user with --realm, a bare name with --default-domain; a DN is a usage error', async () => {
    for (const extra of [['--user', `PAMTEST\\${a('good').user}`, '--realm', 'pamtest.local'], ['--user', a('good').user, '--default-domain', 'pamtest.local']]) {
      const r = await runCli(['check', '--kdc', lab.kdc, ...extra, '--password-stdin', '--json'], { stdin: a('good').password, secrets: secrets() });
      expect([r.code, r.json.code]).toEqual([0, 'krb.ok']);
      expect(r.json.findings[0].evidence.canonicalPrincipal).toBe('krb-c-good@PAMTEST.LOCAL');
    }
    const dn = await runCli(['check', '--kdc', lab.kdc, '--user', 'CN=krb-c-good,CN=Users,DC=pamtest,DC=local', '--password-stdin'], { stdin: a('good').password, secrets: secrets() });
    expect(dn.code).toBe(2);
    expect(dn.stderr).toContain('not by a DN');
    const noRealm = await runCli(['check', '--kdc', lab.kdc, '--user', 'PAMTEST\\krb-c-good', '--password-stdin'], { stdin: a('good').password, secrets: secrets() });
    expect(noRealm.code).toBe(2);
    expect(noRealm.stderr).toMatch(/NetBIOS domain name, not a realm/);
  });

  it('a refused KDC port: net.refused, exit 4; listed first, it is skipped for the real KDC', async () => {
    const port = await closedPort();
    const r = await runCli(['check', '--kdc', `127.0.0.1:${port}`, '--user', a('good').upn, '--password-stdin', '--json'], { stdin: a('good').password, secrets: secrets() });
    expect([r.code, r.json.code]).toEqual([4, 'net.refused']);
    expect(r.json.remediation[0].action).toContain(`listens on port ${port}`);
    const both = await runCli(['check', '--kdc', `127.0.0.1:${port},${lab.kdc}`, '--user', a('good').upn, '--password-stdin', '--json'], { stdin: a('good').password, secrets: secrets() });
    expect([both.code, both.json.code]).toEqual([0, 'krb.ok']);
    expect(both.json.findings[0].evidence.failover).toEqual([{ kdc: `127.0.0.1:${port}`, code: 'CONNECTION_FAILED', kind: 'refused' }]);
  });

  it('--kdc-transport udp: Samba answers the ticket with RESPONSE_TOO_BIG and the client moves to TCP', async () => {
    const r = await kdcCheck('good', ['--kdc-transport', 'udp']);
    expect([r.code, r.json.code, r.json.findings[0].evidence.transport]).toEqual([0, 'krb.ok', 'tcp']);
  });

  it('--spn-host: HOST/<dc fqdn> exists (krb.spn-ok); a name without an SPN is krb.no-spn, a warning', async () => {
    const ok = await kdcCheck('good', ['--spn-host', lab.dcFqdn]);
    expect([ok.code, ok.json.findings.map((f: { code: string }) => f.code)]).toEqual([0, ['krb.ok', 'krb.spn-ok', 'rdp.logon-right-not-checked']]);
    expect(ok.json.findings[1].evidence.spns).toEqual({ [`TERMSRV/${lab.dcFqdn}`]: 'KDC_ERR_S_PRINCIPAL_UNKNOWN', [`HOST/${lab.dcFqdn}`]: 'found' });
    const none = await kdcCheck('good', ['--spn-host', 'rdp.pamtest.local', '--spn-host', lab.dcFqdn]);
    expect(none.code).toBe(0);
    const f = none.json.findings.find((x: { code: string }) => x.code === 'krb.no-spn');
    expect(f).toMatchObject({ severity: 'warning', evidence: { host: 'rdp.pamtest.local', namesWithSpn: [lab.dcFqdn] } });
    expect(f.remediation[0].action).toBe(`Connect by a name that has the SPN: ${lab.dcFqdn}.`);
  });

  it('--kerberos finds the KDC in DNS (a DNS server on loopback); a realm without SRV records is a usage error', async () => {
    const dns = await startDnsServer({ '_kerberos._tcp.pamtest.local': [{ priority: 0, weight: 100, port: 88, target: '127.0.0.1' }] });
    try {
      const r = await runCli(['check', '--kerberos', '--dns-server', dns.address, '--user', a('good').upn, '--password-stdin', '--json'], { stdin: a('good').password, secrets: secrets() });
      expect([r.code, r.json.code, r.json.findings[0].evidence.kdc]).toEqual([0, 'krb.ok', '127.0.0.1:88']);
      expect(dns.asked).toContainEqual({ name: '_kerberos._tcp.pamtest.local', type: 33 });
      const none = await runCli(['check', '--kerberos', '--dns-server', dns.address, '--user', 'someone@elsewhere.example', '--password-stdin'], { stdin: 'x-123456' });
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('DNS has no _kerberos._tcp.elsewhere.example SRV record');
    } finally {
      await dns.close();
    }
  });

  it.skipIf(!faketime)('a clock an hour ahead (the CLI under faketime): krb.clock-skew, exit 4, with the measured offset', async () => {
    const r = await runCli(['check', '--kdc', lab.kdc, '--user', a('good').upn, '--password-stdin', '--json'], { stdin: a('good').password, secrets: secrets(), wrapper: [faketime!, '-f', '+1h'] });
    expect([r.code, r.json.code]).toEqual([4, 'krb.clock-skew']);
    const f = r.json.findings[0];
    expect(Math.abs(f.evidence.skewMs + 3600_000)).toBeLessThan(10_000);
    expect(f.message).toMatch(/its clock is (59 min \d\d s|1 h 00 min) behind this machine's/);
    expect(r.json.remediation[0].action).toMatch(/are (59 min \d\d s|1 h 00 min) apart/);
  });

  it('Kerberos-only options without --kdc, and --kdc with --kerberos, are usage errors', async () => {
    for (const args of [['--ldap', dir.ldapsUrl, '--ca-file', dir.caFile, '--realm', 'PAMTEST.LOCAL'], ['--kdc', lab.kdc, '--kerberos'], ['--kdc', lab.kdc, '--kdc-transport', 'sctp']]) {
      const r = await runCli(['check', ...args, '--user', a('good').upn, '--password-stdin'], { stdin: a('good').password, secrets: secrets() });
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});
