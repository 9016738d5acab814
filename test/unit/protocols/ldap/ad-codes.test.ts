import { describe, it, expect } from 'vitest';
import { AD_SUBCODES, adSubCode, adSubCodeByNtStatus, parseAdDiagnostic } from '../../../../src/protocols/ldap/ad-codes.js';
import { CAUSES, exitCodeFor } from '../../../../src/findings/diagnose.js';

// The sub-codes the issue names, with the finding and exit code each must produce.
const EXPECTED: Array<[string, string, number]> = [
  ['525', 'ldap.user-not-found', 1],
  ['52e', 'ldap.invalid-credentials', 1],
  ['52f', 'ldap.account-restricted', 3],
  ['530', 'ldap.logon-hours', 3],
  ['531', 'ldap.workstation-restricted', 3],
  ['532', 'ldap.password-expired', 3],
  ['533', 'ldap.account-disabled', 3],
  ['534', 'ldap.logon-type-denied', 3],
  ['568', 'ldap.too-many-contexts', 3],
  ['701', 'ldap.account-expired', 3],
  ['773', 'ldap.password-must-change', 3],
  ['775', 'ldap.account-locked', 3],
];

describe('AD bind sub-codes', () => {
  it.each(EXPECTED)('data %s → %s (exit %i)', (hex, code, exit) => {
    const msg = `80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data ${hex}, v1db1`;
    const d = parseAdDiagnostic(msg);
    expect(d).toEqual({ hex, dsid: '0C0903A9', hresult: '80090308' });
    const row = adSubCode(d!.hex);
    expect(row?.finding).toBe(code);
    expect(row!.remediation.length).toBeGreaterThan(0);
    expect(CAUSES[code as keyof typeof CAUSES]).toBeDefined();
    expect(exitCodeFor(code)).toBe(exit);
    expect(adSubCodeByNtStatus(row!.ntstatus)?.hex).toBe(hex);
  });

  it('covers exactly the table', () => {
    expect(AD_SUBCODES.map((r) => r.hex).sort()).toEqual(EXPECTED.map((e) => e[0]).sort());
  });

  it('reads upper-case and padded forms, and ignores text without a sub-code', () => {
    expect(parseAdDiagnostic('... data 52E, v4563')?.hex).toBe('52e');
    expect(adSubCode('0775')?.finding).toBe('ldap.account-locked');
    expect(parseAdDiagnostic('Invalid credentials')).toBeUndefined();
    expect(parseAdDiagnostic('')).toBeUndefined();
  });
});
