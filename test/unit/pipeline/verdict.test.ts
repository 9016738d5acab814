// The verdict in words: a pass names who proved the credential and the check that remains (the
// RDP logon right); the verdict table's rows for NTLM blocked at NLA, with and without the KDC's
// word on the host's SPN; a blocked NTLM that the KDC's Kerberos makes moot.
import { describe, it, expect } from 'vitest';
import { headline, logonRightNote, provedBy, weighNtlmBlocked, HEADLINES } from '../../../src/pipeline/verdict.js';
import { diagnose } from '../../../src/findings/diagnose.js';
import { finding, type Finding } from '../../../src/findings/finding.js';
import { fixes } from '../../../src/findings/catalog.js';
import type { StepReport } from '../../../src/pipeline/types.js';

const f = (code: Parameters<typeof finding>[1], severity: Finding['severity'] = 'error', evidence: Record<string, unknown> = {}) => finding('t', code, severity, `${code} seen.`, evidence);
const target = { host: 'rdp01.corp.example', port: 3389, account: 'alice@corp.example' };
const steps: StepReport[] = [];

describe('what a pass proved, and what it did not', () => {
  it('provedBy names every proof, in the order host, directory, KDC', () => {
    expect(provedBy([f('krb.ok', 'ok')])).toBe('the KDC');
    expect(provedBy([f('krb.ok', 'ok'), f('ldap.ok', 'ok'), f('rdp.nla-ok', 'ok')])).toBe('the RDP host at NLA, the directory and the KDC');
    expect(provedBy([f('account.ok', 'ok')])).toBeUndefined();
  });

  it('logonRightNote: only on a pass with a proof; names the host and the account in the fix', () => {
    const note = logonRightNote([f('krb.ok', 'ok')], 'alice@corp.example', 'rdp01.corp.example')!;
    expect(note).toMatchObject({ code: 'rdp.logon-right-not-checked', severity: 'info', evidence: { provedBy: ['krb.ok'], host: 'rdp01.corp.example' } });
    expect(note.message).toBe('Proved: the credential (accepted by the KDC). Not proved: the right of alice@corp.example to an RDP session on rdp01.corp.example, which the host checks only after authentication.');
    expect(note.remediation[0]!.action).toMatch(/^If the session is still refused \(0x904, extended 0x7\), add alice@corp\.example to Remote Desktop Users on rdp01\.corp\.example/);
    expect(logonRightNote([f('ldap.ok', 'ok')], undefined)!.remediation[0]!.action).toContain('on that host');
    expect(logonRightNote([f('account.ok', 'ok')], 'a')).toBeUndefined();
    expect(logonRightNote([f('krb.ok', 'ok'), f('cache.stale-password')], 'a')).toBeUndefined();
    // it never turns a pass into anything else
    expect(diagnose([f('krb.ok', 'ok'), note]).ok).toBe(true);
  });

  it('the headline of a pass says who accepted the credential and names the logon right', () => {
    const v = diagnose([f('ldap.ok', 'ok'), f('krb.ok', 'ok')]);
    expect(headline(v, target, steps)).toBe('The credential of alice@corp.example is good: accepted by the directory and the KDC. Not proved: its right to an RDP session on rdp01.corp.example (Remote Desktop Users / "Allow log on through Remote Desktop Services"), which the host checks only after authentication.');
  });
});

describe('the verdict table', () => {
  it('has a row for NTLM blocked and for each wrong-password code', () => {
    expect(Object.keys(HEADLINES)).toEqual(expect.arrayContaining(['rdp.ntlm-blocked', 'krb.invalid-credentials', 'ldap.invalid-credentials', 'rdp.logon-failure', 'cache.stale-password']));
  });

  it('rdp.ntlm-blocked + krb.no-spn: NLA needs NTLM here and NTLM is blocked — connect by the name with the SPN', () => {
    const blocked = finding('rdp-nla', 'rdp.ntlm-blocked', 'error', 'blocked.', {}, fixes('rdp.ntlm-blocked', 'default', { detail: '' }));
    const noSpn = f('krb.no-spn', 'warning', { host: 'rdp01', namesWithSpn: ['rdp01.corp.example'] });
    const v = diagnose([f('krb.ok', 'ok'), noSpn, blocked]);
    expect(v.code).toBe('rdp.ntlm-blocked');
    expect(headline(v, { ...target, host: 'rdp01' }, steps)).toBe('NLA needs NTLM here and NTLM is blocked: rdp01 has no Kerberos service principal, so clients that connect by it fall back to NTLM — connect by rdp01.corp.example.');
    const none = diagnose([f('krb.ok', 'ok'), f('krb.no-spn', 'warning', { host: 'rdp01' }), blocked]);
    expect(headline(none, { ...target, host: 'rdp01' }, steps)).toContain('connect by the host\'s fully qualified name once it has one (setspn -S TERMSRV/<fqdn> <computer>)');
    const noKdc = diagnose([blocked]);
    expect(headline(noKdc, target, steps)).toMatch(/refuses NTLM at NLA — connect by its fully qualified name .*add --kdc/);
  });

  it('krb.invalid-credentials reads like the bind\'s wrong password: the vault named when the password came from one', () => {
    const v = diagnose([f('krb.invalid-credentials')]);
    expect(headline(v, { ...target, credentialSource: 'vault kv-v2 secret/rdp' }, steps)).toBe("The vault's password for alice@corp.example is wrong — rotate or reconcile it in the vault; do not purge the client cache.");
    expect(headline(v, { ...target, credentialSource: 'stdin' }, steps)).toBe('The password given for alice@corp.example is wrong — get the current one from the vault.');
  });

  it('any other code: its message, then its first fix', () => {
    const v = diagnose([finding('kerberos', 'krb.clock-skew', 'error', 'The KDC 10.0.0.5:88 answered KRB_AP_ERR_SKEW.', {}, fixes('krb.clock-skew', 'default', { detail: '1 h 02 min' }))]);
    expect(headline(v, target, steps)).toBe('The KDC 10.0.0.5:88 answered KRB_AP_ERR_SKEW — synchronise the clocks: this machine and the domain controller are 1 h 02 min apart (check NTP here; w32tm /query /status on the DC).');
  });
});

describe('NTLM blocked where the KDC gives Kerberos', () => {
  const blocked = () => finding('rdp-nla', 'rdp.ntlm-blocked', 'error', 'The RDP host refused the logon at the NLA step with STATUS_NTLM_BLOCKED.', {});

  it('with krb.ok and krb.spn-ok the finding stays, as information, and the verdict passes on the Kerberos proof', () => {
    const kdc = [f('krb.ok', 'ok'), f('krb.spn-ok', 'ok', { host: 'rdp01.corp.example' })];
    const out = weighNtlmBlocked([blocked()], kdc);
    expect(out[0]).toMatchObject({ code: 'rdp.ntlm-blocked', severity: 'info', evidence: { kerberosName: 'rdp01.corp.example' } });
    expect(out[0]!.message).toContain('Clients that connect by rdp01.corp.example use Kerberos, which the KDC accepted');
    expect(diagnose([...kdc, ...out])).toMatchObject({ ok: true, code: 'krb.ok' });
  });

  it('without the SPN, or without the KDC\'s acceptance, it stays a failure', () => {
    expect(weighNtlmBlocked([blocked()], [f('krb.ok', 'ok'), f('krb.no-spn', 'warning')])[0]!.severity).toBe('error');
    expect(weighNtlmBlocked([blocked()], [f('krb.spn-ok', 'ok')])[0]!.severity).toBe('error');
    expect(weighNtlmBlocked([blocked()], [])[0]!.severity).toBe('error');
  });
});
