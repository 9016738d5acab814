// What Windows says at NLA: the NTSTATUS in a TSRequest's errorCode (MS-CSSP 2.2.1, CredSSP v3+),
// decoded from bytes laid out by hand as a Windows host sends them, and turned into findings. The
// statuses whose meaning at NLA is the host's own get rdp.* codes; the account states keep the
// bind's codes.
import { describe, it, expect } from 'vitest';
import { decodeTsRequest } from '../../../src/protocols/rdp/credssp.js';
import { ntStatusFinding, NLA_NTSTATUS } from '../../../src/checks/rdp-nla.js';
import { exitCodeFor } from '../../../src/findings/diagnose.js';

/**
 * TSRequest ::= SEQUENCE { version [0] INTEGER, ..., errorCode [4] INTEGER } with version 6 and the
 * NTSTATUS as Windows writes it: a 4-byte two's-complement INTEGER (0xC0000418 is negative as an
 * int32, so its DER content is the four bytes c0 00 04 18).
 *
 *   30 0d                  SEQUENCE, 13 bytes
 *     a0 03 02 01 06       [0] version INTEGER 6
 *     a4 06 02 04 XX XX XX XX  [4] errorCode INTEGER (4 bytes)
 */
const tsRequestWithError = (status: string) => Buffer.from(`300da003020106a4060204${status}`, 'hex');

describe('TSRequest.errorCode at the NLA step', () => {
  it.each([
    ['c0000418', 0xc0000418, 'STATUS_NTLM_BLOCKED', 'rdp.ntlm-blocked', /Connect by the host's fully qualified name that has a TERMSRV\/ or HOST\/ SPN/],
    ['c000015b', 0xc000015b, 'STATUS_LOGON_TYPE_NOT_GRANTED', 'rdp.logon-type-not-granted', /Remote Desktop Users/],
    ['c000006e', 0xc000006e, 'STATUS_ACCOUNT_RESTRICTION', 'rdp.account-restriction', /Protected Users cannot use NTLM/],
  ])('%s → %s (%s): its own rdp.* code, exit 3, with the host\'s fix', (bytes, status, name, code, fix) => {
    const ts = decodeTsRequest(tsRequestWithError(bytes));
    expect(ts).toEqual({ version: 6, errorCode: status });
    const f = ntStatusFinding(ts.errorCode!, { host: 'rdp01', port: 3389 });
    expect(f).toMatchObject({ code, severity: 'error', source: 'rdp-nla', evidence: { ntstatus: `0x${bytes.toUpperCase()}`, ntstatusName: name, host: 'rdp01' } });
    expect(f.message).toContain(`at the NLA step with ${name}`);
    expect(exitCodeFor(code)).toBe(3);
    expect(f.remediation.map((r) => r.action).join(' ')).toMatch(fix);
    expect(NLA_NTSTATUS[status]?.code).toBe(code);
  });

  it('account states keep the bind\'s codes (STATUS_ACCOUNT_LOCKED_OUT → ldap.account-locked)', () => {
    const ts = decodeTsRequest(tsRequestWithError('c0000234'));
    expect(ntStatusFinding(ts.errorCode!, {}).code).toBe('ldap.account-locked');
  });

  it('a status written as a 5-byte positive INTEGER decodes to the same value', () => {
    // 02 05 00 c0 00 04 18: the unsigned form some encoders use
    const ts = decodeTsRequest(Buffer.from('300ea003020106a407020500c0000418', 'hex'));
    expect(ntStatusFinding(ts.errorCode!, {}).code).toBe('rdp.ntlm-blocked');
  });
});
