// The preflight's kerberos step against a fake KDC on loopback (no lab): the KDC alone proves the
// credential (a pass that says so and names the logon right as unproven), a refusal decides the
// verdict, an unreachable KDC is net.*, the SPNs of the host are looked up only after a good AS
// exchange, and `rdp.probe: false` or `spnHosts: false` switches that look-up off.
import { describe, it, expect, afterEach } from 'vitest';
import { preflight } from '../../../src/pipeline/preflight.js';
import { Secret } from '../../../src/core/secret.js';
import { PASSWORD, startFakeKdc, stopFakeKdcs } from '../../helpers/fake-kdc.js';
import { closedPort } from '../../helpers/servers.js';

afterEach(stopFakeKdcs);

const step = (r: Awaited<ReturnType<typeof preflight>>, name: string) => r.steps.find((s) => s.name === name)!;
const target = (password = PASSWORD) => ({ host: 'rdp01.pamtest.local', account: 'alice@pamtest.local', password: new Secret(password) });

describe('the kerberos step', () => {
  it('the KDC accepts the password: a pass on krb.ok, which says what it proved and what it did not', async () => {
    const kdc = await startFakeKdc();
    const r = await preflight(target(), { kerberos: { kdc: kdc.label }, rdp: { probe: false }, deadlineMs: 8000 });
    expect(r).toMatchObject({ ok: true, verdict: { code: 'krb.ok', exitCode: 0 } });
    expect(step(r, 'kerberos')).toMatchObject({ status: 'passed' });
    expect(step(r, 'kerberos').findings.map((f) => f.code)).toEqual(['krb.ok']);
    expect(kdc.count('tgs')).toBe(0); // rdp.probe false: no host, no SPN look-up
    expect(r.headline).toMatch(/^The credential of alice@pamtest\.local is good: accepted by the KDC \(not checked: .*\)\. Not proved: its right to an RDP session on rdp01\.pamtest\.local/);
    expect(r.verdict.findings.map((f) => f.code)).toContain('rdp.logon-right-not-checked');
    expect(JSON.stringify(r)).not.toContain(PASSWORD);
  });

  it('a wrong password decides the verdict (exit 1) and names the password as wrong', async () => {
    const kdc = await startFakeKdc({ password: 'Current-Password-5' });
    const r = await preflight(target(), { kerberos: { kdc: kdc.label }, rdp: { probe: false }, deadlineMs: 8000 });
    expect(r).toMatchObject({ ok: false, verdict: { code: 'krb.invalid-credentials', exitCode: 1 } });
    expect(r.headline).toBe('The password given for alice@pamtest.local is wrong — get the current one from the vault.');
    expect(kdc.count('proof')).toBe(1);
  });

  it('an unreachable KDC: net.refused decides (exit 4), and the credential is not proved', async () => {
    const port = await closedPort();
    const r = await preflight(target(), { kerberos: { kdc: `127.0.0.1:${port}` }, rdp: { probe: false }, deadlineMs: 8000 });
    expect(r).toMatchObject({ ok: false, verdict: { code: 'net.refused', exitCode: 4 } });
    expect(step(r, 'kerberos').status).toBe('failed');
  });

  it('the host\'s SPNs after a good AS exchange: the configured names, the host by default, none with spnHosts: false', async () => {
    const kdc = await startFakeKdc({ spns: ['HOST/rdp01.pamtest.local'] });
    const named = await preflight(target(), { kerberos: { kdc: kdc.label, spnHosts: ['rdp01.pamtest.local'] }, rdp: { probe: false }, deadlineMs: 8000 });
    expect(step(named, 'kerberos').findings.map((f) => f.code)).toEqual(['krb.ok', 'krb.spn-ok']);
    // the host itself (a closed loopback port: the RDP steps fail, the Kerberos side does not care)
    const host = `127.0.0.1:${await closedPort()}`;
    const byDefault = await preflight({ ...target(), host }, { kerberos: { kdc: kdc.label }, deadlineMs: 8000 });
    expect(step(byDefault, 'kerberos').findings.map((f) => f.code)).toEqual(['krb.ok', 'krb.no-spn']);
    expect(step(byDefault, 'kerberos').findings[1]!.message).toContain('it is an IP address');
    const off = await preflight({ ...target(), host }, { kerberos: { kdc: kdc.label, spnHosts: false }, deadlineMs: 8000 });
    expect(step(off, 'kerberos').findings.map((f) => f.code)).toEqual(['krb.ok']);
    expect(kdc.count('tgs')).toBe(4);
  });

  it('no KDC configured: not checked, and a preflight with nothing else is inconclusive, naming the step', async () => {
    const r = await preflight(target(), { rdp: { probe: false }, deadlineMs: 4000 });
    expect(step(r, 'kerberos')).toMatchObject({ status: 'not-checked', note: 'no KDC configured' });
    expect(r.verdict.code).toBe('credential.not-checked');
  });
});
