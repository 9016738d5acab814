// The preflight with the lab's real KDC: the password tries in order (KDC, bind, NLA) and a
// refusal that stops the later ones; NTLM blocked at NLA (credssp-error-server, as Windows answers)
// weighed against the KDC's word on the host's SPN; CLIENT_REVOKED without a status resolved by a
// real account-state read; createPreflight().verify with the KDC. This suite's krb-p-* accounts only.
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { preflight } from '../../../src/pipeline/preflight.js';
import { createPreflight } from '../../../src/bulk/session.js';
import { validateKerberos } from '../../../src/checks/kerberos.js';
import { readAccountState } from '../../../src/checks/account-state.js';
import { asExchange } from '../../../src/protocols/kerberos/index.js';
import { Secret } from '../../../src/core/secret.js';
import { labPart, samba, sambaDirectory, type SambaState } from '../../lab/state.js';
import { startCredsspErrorServer } from '../../fixtures/credssp-error-server.js';
import { prepareKrbAccounts, sambaLab, suiteAccounts, type PreparedLab } from '../protocols/kerberos/lab.js';

const ACCOUNTS = suiteAccounts('p', ['good', 'wrong', 'locked']);
interface RdpLab { caFile: string; valid: { certFile: string } }

const lab0 = sambaLab();
let lab: PreparedLab;
let dir: SambaState;
let rdp: RdpLab;
const a = (key: string) => lab.accounts[key]!;
const pki = () => ({ cert: fs.readFileSync(rdp.valid.certFile), key: fs.readFileSync(path.join(path.dirname(rdp.valid.certFile), 'valid.key')) });
const step = (r: Awaited<ReturnType<typeof preflight>>, name: string) => r.steps.find((s) => s.name === name)!;
const noLeak = (v: unknown) => {
  const text = JSON.stringify(v);
  for (const x of ACCOUNTS) expect(text).not.toContain(x.password);
};

describe.skipIf(!lab0)('the preflight with the lab\'s KDC', () => {
  beforeAll(async () => {
    lab = prepareKrbAccounts(lab0!, ACCOUNTS, 'krb-p');
    dir = samba();
    rdp = labPart<RdpLab>('rdp');
    for (let i = 0; i < lab.lockoutThreshold; i++) await asExchange({ username: a('locked').upn, password: new Secret(`Not-It-${i}`), kdcs: lab.kdc, transport: 'tcp' });
  }, 90_000);

  it('a password the KDC refused is tried nowhere else: the bind and NLA are not attempted', async () => {
    await using host = await startCredsspErrorServer({ status: 0xc000006d, ...pki() });
    const r = await preflight({ host: `127.0.0.1:${host.port}`, account: a('wrong').upn, password: new Secret('Not!Wrong-KrbP') }, {
      kerberos: { kdc: lab.kdc }, directory: { urls: dir.ldapsUrl, caFile: dir.caFile }, rdp: { caFile: rdp.caFile }, deadlineMs: 10_000,
    });
    expect(r.verdict).toMatchObject({ ok: false, code: 'krb.invalid-credentials', exitCode: 1 });
    expect(step(r, 'ldap-bind')).toMatchObject({ status: 'not-checked', note: expect.stringContaining('the KDC already rejected the credential (krb.invalid-credentials)') });
    expect(step(r, 'rdp-nla')).toMatchObject({ status: 'not-checked', note: expect.stringContaining('krb.invalid-credentials') });
    expect(host.received).toHaveLength(0); // no CredSSP message reached the host
    expect(r.headline).toBe(`The password given for ${a('wrong').upn} is wrong — get the current one from the vault.`);
    noLeak(r);
  });

  it('NTLM blocked at NLA, the host\'s name with an SPN: clients use Kerberos — a pass on the KDC and the directory', async () => {
    await using host = await startCredsspErrorServer({ status: 0xc0000418, ...pki() });
    const r = await preflight({ host: `127.0.0.1:${host.port}`, account: a('good').upn, password: new Secret(a('good').password) }, {
      kerberos: { kdc: lab.kdc, spnHosts: [lab.dcFqdn] }, directory: sambaDirectory(), rdp: { caFile: rdp.caFile }, deadlineMs: 10_000,
    });
    expect(step(r, 'kerberos').findings.map((f) => f.code)).toEqual(['krb.ok', 'krb.spn-ok']);
    expect(step(r, 'rdp-nla').findings.map((f) => [f.code, f.severity])).toEqual([['rdp.ntlm-blocked', 'info']]);
    expect(r.verdict).toMatchObject({ ok: true, code: 'ldap.ok', exitCode: 0 });
    expect(r.headline).toMatch(/^The credential of krb-p-good@pamtest\.local is good: accepted by the directory and the KDC .*Not proved: its right to an RDP session on 127\.0\.0\.1/);
    noLeak(r);
  });

  it('NTLM blocked at NLA and no SPN for the name: "NLA needs NTLM here and NTLM is blocked" (exit 3)', async () => {
    await using host = await startCredsspErrorServer({ status: 0xc0000418, ...pki() });
    const r = await preflight({ host: `127.0.0.1:${host.port}`, account: a('good').upn, password: new Secret(a('good').password) }, {
      kerberos: { kdc: lab.kdc, spnHosts: ['rdp.pamtest.local', lab.dcFqdn] }, directory: sambaDirectory(), rdp: { caFile: rdp.caFile }, deadlineMs: 10_000,
    });
    expect(step(r, 'kerberos').findings.map((f) => f.code)).toEqual(['krb.ok', 'krb.no-spn']);
    expect(r.verdict).toMatchObject({ ok: false, code: 'rdp.ntlm-blocked', exitCode: 3 });
    expect(r.headline).toBe(`NLA needs NTLM here and NTLM is blocked: rdp.pamtest.local has no Kerberos service principal, so clients that connect by it fall back to NTLM — connect by ${lab.dcFqdn}.`);
    expect(r.verdict.remediation[0]!.action).toMatch(/^Connect by the host's fully qualified name that has a TERMSRV\/ or HOST\/ SPN/);
  });

  it('CLIENT_REVOKED without a status, resolved by a real account-state read (lockoutTime): krb.account-locked', async () => {
    const { state } = await readAccountState({ ...sambaDirectory(), serviceUser: sambaDirectory().service.username, servicePassword: sambaDirectory().service.password, target: a('locked').upn });
    expect(state?.locked).toBe(true);
    const opts = { username: a('locked').upn, password: new Secret(a('locked').password), kdcs: lab.kdc };
    expect((await validateKerberos(opts)).findings.map((f) => f.code)).toEqual(['krb.account-revoked']);
    const resolved = await validateKerberos({ ...opts, state: state! });
    expect(resolved.findings.map((f) => f.code)).toEqual(['krb.account-locked']);
    expect(resolved.findings[0]!.message).toMatch(/KDC_ERR_CLIENT_REVOKED without a status; the account state shows it locked out since \d{4}-/);
  });

  it('createPreflight({ kerberos }).verify: one pre-authentication per account', async () => {
    await using pf = createPreflight({ kerberos: { kdc: lab.kdc } });
    const out: Array<[string, string, boolean]> = [];
    for await (const r of pf.verify([
      { username: a('good').upn, password: new Secret(a('good').password) },
      { username: a('wrong').upn, password: new Secret('Not!Wrong-KrbP-2') },
    ])) out.push([r.account, r.code, r.bound]);
    expect(out.sort()).toEqual([[a('good').upn, 'krb.ok', true], [a('wrong').upn, 'krb.invalid-credentials', true]]);
  });
});
