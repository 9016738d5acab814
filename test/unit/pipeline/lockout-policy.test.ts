// The lockout policy as data: one gate for every password try (Kerberos pre-authentication, bind,
// NLA), the order of the tries, and what counts as the KDC's or the directory's acceptance.
import { describe, it, expect } from 'vitest';
import { directoryRefusal, kerberosRefusal, nlaGate, passwordGate, TRY_ORDER } from '../../../src/pipeline/lockout-policy.js';
import { finding } from '../../../src/findings/finding.js';
import type { AccountState } from '../../../src/checks/account-state.js';

const f = (code: Parameters<typeof finding>[1], severity: 'ok' | 'info' | 'warning' | 'error' = 'error') => finding('t', code, severity, code);
const state = (over: Partial<AccountState>): AccountState => ({
  dn: 'CN=a', userAccountControl: 512, computedFlags: 0, disabled: false, locked: false, mustChangePassword: false,
  passwordNeverExpires: false, lockoutThreshold: 3, lockoutThresholdSource: 'domain', badPwdCount: 0, ...over,
});

describe('the order of the password tries', () => {
  it('the KDC first (its first request carries no password), then the bind, then NLA', () => {
    expect(TRY_ORDER).toEqual(['kerberos', 'ldap-bind', 'rdp-nla']);
  });
});

describe('kerberosRefusal / directoryRefusal: acceptance is an ok code and no failure', () => {
  it.each([
    [[f('krb.ok', 'ok')], undefined],
    [[f('krb.ok', 'ok'), f('krb.no-spn', 'warning')], undefined],
    [[f('krb.ok', 'ok'), f('krb.preauth-not-required', 'warning')], undefined],
    [[f('krb.invalid-credentials')], 'krb.invalid-credentials'],
    [[f('krb.clock-skew')], 'krb.clock-skew'],
    [[f('net.refused')], 'net.refused'],
    [[f('not-checked', 'info')], 'the Kerberos pre-authentication did not run'],
    [[], 'the Kerberos pre-authentication did not run'],
  ])('%j → %s', (fs, want) => expect(kerberosRefusal(fs)).toBe(want));

  it('the note given when nothing ran', () => {
    expect(kerberosRefusal([], 'Kerberos not-checked: no KDC configured')).toBe('Kerberos not-checked: no KDC configured');
    expect(directoryRefusal([f('ldap.ok', 'ok')])).toBeUndefined();
    expect(directoryRefusal([f('krb.ok', 'ok')])).toBe('the LDAP bind did not run');
  });
});

describe('passwordGate: one gate before any try', () => {
  it('goes when nothing stops it', () => {
    expect(passwordGate({})).toBeUndefined();
    expect(passwordGate({ earlier: [{ who: 'the KDC' }], state: state({ badPwdCount: 1 }) })).toBeUndefined();
  });

  it.each([
    [{ guardFailed: 'the account state could not be read (net.timeout), so the lockout guard could not run' }, /not attempted: the account state could not be read/],
    [{ stop: f('ldap.lockout-risk') }, /not attempted: ldap\.lockout-risk/],
    [{ stop: f('ldap.account-locked') }, /ldap\.account-locked/],
    [{ state: state({ locked: true }) }, /one more failure could lock the account/],
    [{ state: state({ badPwdCount: 2 }) }, /one more failure could lock the account/],
    [{ earlier: [{ who: 'the KDC', refusal: 'krb.invalid-credentials', rejectedBy: 'krb.invalid-credentials' }] }, /the KDC already rejected the credential \(krb\.invalid-credentials\)/],
    [{ earlier: [{ who: 'the KDC', refusal: 'net.refused' }] }, /the KDC did not accept the credential \(net\.refused\)/],
    [{ earlier: [{ who: 'the KDC' }, { who: 'the directory', refusal: 'ldap.invalid-credentials', rejectedBy: 'ldap.invalid-credentials' }] }, /the directory already rejected/],
  ])('stops on %j', (g, why) => expect(passwordGate(g)).toMatch(why));

  it('the guard comes before everything else', () => {
    expect(passwordGate({ guardFailed: 'x', stop: f('ldap.lockout-risk'), earlier: [{ who: 'the KDC', refusal: 'y' }] })).toMatch(/^not attempted: x;/);
  });
});

describe('nlaGate: NLA is the last try and waits for the KDC and the directory', () => {
  it('no KDC, no directory: NLA goes (it is the only try)', () => {
    expect(nlaGate({ directory: false })).toBeUndefined();
  });

  it('the directory accepted, no KDC: goes; refused: stops', () => {
    expect(nlaGate({ directory: true })).toBeUndefined();
    expect(nlaGate({ directory: true, refusal: 'ldap.invalid-credentials', rejectedBy: 'ldap.invalid-credentials' })).toMatch(/directory already rejected/);
    expect(nlaGate({ directory: true, refusal: 'the LDAP bind did not run' })).toMatch(/directory did not accept the credential \(the LDAP bind did not run\)/);
  });

  it('a KDC that refused stops NLA, with or without a directory', () => {
    expect(nlaGate({ directory: false, kerberos: { who: 'the KDC', refusal: 'krb.account-revoked', rejectedBy: 'krb.account-revoked' } })).toMatch(/the KDC already rejected the credential \(krb\.account-revoked\)/);
    expect(nlaGate({ directory: true, kerberos: { who: 'the KDC', refusal: 'net.timeout' } })).toMatch(/the KDC did not accept the credential \(net\.timeout\)/);
    expect(nlaGate({ directory: false, kerberos: { who: 'the KDC' } })).toBeUndefined();
  });

  it('a guard that could not run stops NLA too', () => {
    expect(nlaGate({ directory: true, guardFailed: 'the account state could not be read (tls.untrusted)' })).toMatch(/tls\.untrusted/);
  });
});
