// `credgate verify --kdc` and `credgate doctor --kdc` against the lab's real KDC, as scripts run
// them: codes, exit status, the output file (with the KDC that answered, and `bound` = the proof
// was sent), resume, the lockout guard before any proof; the doctor's Kerberos step, the order of
// the tries, and a pass that says what it proved. This suite's own krb-v-* accounts, plus alice's
// right password (never a wrong one for a shared scenario account).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../helpers/cli.js';
import { labPart, samba, sambaScenario, type SambaState } from '../../lab/state.js';
import { prepareKrbAccounts, sambaLab, suiteAccounts, type PreparedLab } from '../protocols/kerberos/lab.js';
import { asExchange } from '../../../src/protocols/kerberos/index.js';
import { Secret } from '../../../src/core/secret.js';

const ACCOUNTS = suiteAccounts('v', ['good', 'special', 'wrong', 'disabled', 'locked', 'unknown']);
const lab0 = sambaLab();
let lab: PreparedLab;
let dir: SambaState;
let tmp: string;
const a = (key: string) => lab.accounts[key]!;
const secrets = () => ACCOUNTS.map((x) => x.password);
const csvCell = (s: string) => `"${s.replace(/"/g, '""')}"`;

describe.skipIf(!lab0)('credgate verify --kdc and doctor --kdc (the lab\'s KDC)', () => {
  beforeAll(async () => {
    lab = prepareKrbAccounts(lab0!, ACCOUNTS, 'krb-v');
    dir = samba();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-kdc-bulk-'));
    for (let i = 0; i < lab.lockoutThreshold; i++) await asExchange({ username: a('locked').upn, password: new Secret(`Not-It-${i}`), kdcs: lab.kdc, transport: 'tcp' });
  }, 90_000);
  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const input = () => {
    const rows = [
      ['good', a('good').password], ['special', a('special').password], ['wrong', 'Not!Wrong-KrbV'], ['disabled', a('disabled').password],
      ['locked', a('locked').password], ['unknown', a('unknown').password],
    ].map(([k, pw], i) => `${csvCell(a(k!).upn)},${csvCell(pw!)},v${i}`);
    const file = path.join(tmp, 'accounts.csv');
    fs.writeFileSync(file, ['username,password,id', ...rows].join('\n') + '\n');
    return file;
  };
  const records = (file: string) => fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

  it('verify --kdc: one pre-authentication per account, results with the KDC, the worst code\'s exit; a rerun skips them', async () => {
    const out = path.join(tmp, 'results.jsonl');
    const r = await runCli(['verify', '--input', input(), '--output', out, '--kdc', lab.kdc, '--concurrency', '4', '--json'], { secrets: [...secrets(), 'Not!Wrong-KrbV'] });
    expect(r.code).toBe(3); // the most basic failure: an unusable account (disabled, revoked)
    expect(r.json).toMatchObject({ total: 6, valid: 2, failed: 4, byCode: { 'krb.ok': 2, 'krb.invalid-credentials': 1, 'krb.account-disabled': 1, 'krb.account-revoked': 1, 'krb.user-not-found': 1 } });
    const byId = Object.fromEntries(records(out).map((x) => [x.id, x]));
    expect(byId.v0).toMatchObject({ account: a('good').upn, ok: true, code: 'krb.ok', bound: true, kdc: '127.0.0.1:88' });
    expect(byId.v1).toMatchObject({ code: 'krb.ok', bound: true });
    expect(byId.v2).toMatchObject({ code: 'krb.invalid-credentials', exitCode: 1, bound: true });
    expect(byId.v5).toMatchObject({ code: 'krb.user-not-found', bound: false }); // answered before any password left
    const again = await runCli(['verify', '--input', input(), '--output', out, '--kdc', lab.kdc, '--json'], { secrets: [...secrets(), 'Not!Wrong-KrbV'] });
    expect(again.json).toMatchObject({ total: 0, skipped: 6 });
    expect(records(out)).toHaveLength(6);
  });

  it('verify --kdc with the directory\'s lockout guard: the locked account gets no proof (bound: false)', async () => {
    const out = path.join(tmp, 'guarded.jsonl');
    const r = await runCli(['verify', '--input', input(), '--output', out, '--kdc', lab.kdc, '--ldap', dir.ldapsUrl, '--ca-file', dir.caFile,
      '--service-user', `${dir.reader.user}@pamtest.local`, '--service-password-env', 'SVC_PW', '--json'], { env: { SVC_PW: dir.reader.password }, secrets: [...secrets(), 'Not!Wrong-KrbV'] });
    expect(r.code).toBe(3);
    const byId = Object.fromEntries(records(out).map((x) => [x.id, x]));
    expect(byId.v4).toMatchObject({ code: 'ldap.account-locked', bound: false });
    expect(byId.v4.kdc).toBeUndefined();
    expect(byId.v5).toMatchObject({ code: 'ldap.user-not-found', bound: false }); // the guard knows there is no such account
    expect(byId.v0).toMatchObject({ code: 'krb.ok', bound: true });
    expect(byId.v0.findings.map((f: { code: string }) => f.code)).toEqual(['krb.ok', 'account.ok']);
  });

  it('verify: --kdc beside --ldap without a service account, and --spn-host, are usage errors', async () => {
    const out = path.join(tmp, 'usage.jsonl');
    for (const extra of [['--ldap', dir.ldapsUrl], ['--spn-host', 'rdp01']]) {
      const r = await runCli(['verify', '--input', input(), '--output', out, '--kdc', lab.kdc, ...extra]);
      expect(r.code, extra.join(' ')).toBe(2);
    }
  });

  it('doctor --kdc: a pass names the RDP host, the directory and the KDC, and the logon right it did not prove', async () => {
    const s = sambaScenario('good');
    const rdp = labPart<{ nla: { port: number } }>('rdp');
    const args = ['doctor', '--host', `127.0.0.1:${rdp.nla.port}`, '--account', s.downLevel, '--password-stdin', '--kdc', lab.kdc, '--realm', 'pamtest.local', '--spn-host', lab.dcFqdn,
      '--ldap', dir.ldapsUrl, '--ca-file', dir.caFile, '--service-user', `${dir.reader.user}@pamtest.local`, '--service-password-env', 'SVC_PW'];
    const r = await runCli([...args, '--json'], { stdin: s.password, env: { SVC_PW: dir.reader.password } });
    expect([r.code, r.json.ok, r.json.code]).toEqual([0, true, 'rdp.nla-ok']);
    const steps = Object.fromEntries(r.json.steps.map((x: { name: string; status: string; findings: string[] }) => [x.name, [x.status, x.findings]]));
    expect(steps.kerberos).toEqual(['passed', ['krb.ok', 'krb.spn-ok']]);
    expect(steps['ldap-bind']).toEqual(['passed', ['ldap.ok']]);
    expect(r.json.headline).toMatch(/^The credential of PAMTEST\\alice is good: accepted by the RDP host at NLA, the directory and the KDC/);
    const human = await runCli(args, { stdin: s.password, env: { SVC_PW: dir.reader.password } });
    expect(human.stdout.split('\n')[0]).toBe(`PASS  PAMTEST\\alice → 127.0.0.1:${rdp.nla.port}  [rdp.nla-ok, exit 0]`);
    expect(human.stdout).toMatch(/kerberos {7}✔ passed/);
  });

  it('doctor --kdc: a password the KDC refused is not tried by the bind or at NLA (exit 1)', async () => {
    const rdp = labPart<{ nla: { port: number } }>('rdp');
    const r = await runCli(['doctor', '--host', `127.0.0.1:${rdp.nla.port}`, '--account', a('wrong').upn, '--password-stdin', '--kdc', lab.kdc,
      '--ldap', dir.ldapsUrl, '--ca-file', dir.caFile, '--json'], { stdin: 'Not!Wrong-KrbV-2', secrets: secrets() });
    expect([r.code, r.json.code]).toEqual([1, 'krb.invalid-credentials']);
    const steps = Object.fromEntries(r.json.steps.map((x: { name: string; status: string; note?: string }) => [x.name, [x.status, x.note ?? '']]));
    expect(steps['ldap-bind'][0]).toBe('not-checked');
    expect(steps['ldap-bind'][1]).toContain('the KDC already rejected the credential');
    expect(steps['rdp-nla'][0]).toBe('not-checked');
  });
});
