/**
 * Active Directory simple-bind failures: AD answers resultCode 49 with a diagnostic message like
 *   80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v1db1
 * The `data` field is a Win32 error code in hex. MS-ADTS 3.1.1.3.4.1 / [MS-ERREF] 2.2.
 * This table turns each into a finding code and the cause in plain words; the fix is the
 * catalog's for that code in the `ad` context.
 */
import { fixes, type FindingCode, type FixVariant, type Remediation } from '../../findings/catalog.js';

/** The finding codes an AD sub-code can stand for (those with fixes written for AD). */
type AdFindingCode = { [C in FindingCode]: 'ad' extends FixVariant<C> ? C : never }[FindingCode];

export interface AdSubCode {
  /** hex as AD prints it after `data` */
  hex: string;
  win32: number;
  win32Name: string;
  /** the NTSTATUS a Windows host returns for the same cause (CredSSP errorCode / logon event) */
  ntstatus: number;
  ntstatusName: string;
  finding: AdFindingCode;
  message: string;
  /** The catalog's fixes for the code, in the `ad` context. */
  remediation: Remediation[];
}

const ROWS: ReadonlyArray<Omit<AdSubCode, 'remediation'>> = [
  {
    hex: '525', win32: 1317, win32Name: 'ERROR_NO_SUCH_USER', ntstatus: 0xc0000064, ntstatusName: 'STATUS_NO_SUCH_USER',
    finding: 'ldap.user-not-found', message: 'The directory has no account with this name.',
  },
  {
    hex: '52e', win32: 1326, win32Name: 'ERROR_LOGON_FAILURE', ntstatus: 0xc000006d, ntstatusName: 'STATUS_LOGON_FAILURE',
    finding: 'ldap.invalid-credentials', message: 'The password is wrong for this account (or the account does not exist).',
  },
  {
    hex: '52f', win32: 1327, win32Name: 'ERROR_ACCOUNT_RESTRICTION', ntstatus: 0xc000006e, ntstatusName: 'STATUS_ACCOUNT_RESTRICTION',
    finding: 'ldap.account-restricted', message: 'An account restriction prevents this logon (for example a blank password is not allowed).',
  },
  {
    hex: '530', win32: 1328, win32Name: 'ERROR_INVALID_LOGON_HOURS', ntstatus: 0xc000006f, ntstatusName: 'STATUS_INVALID_LOGON_HOURS',
    finding: 'ldap.logon-hours', message: 'The account is not allowed to log on at this time (logonHours).',
  },
  {
    hex: '531', win32: 1329, win32Name: 'ERROR_INVALID_WORKSTATION', ntstatus: 0xc0000070, ntstatusName: 'STATUS_INVALID_WORKSTATION',
    finding: 'ldap.workstation-restricted', message: 'The account may only log on from certain computers (userWorkstations).',
  },
  {
    hex: '532', win32: 1330, win32Name: 'ERROR_PASSWORD_EXPIRED', ntstatus: 0xc0000071, ntstatusName: 'STATUS_PASSWORD_EXPIRED',
    finding: 'ldap.password-expired', message: 'The account\'s password has expired.',
  },
  {
    hex: '533', win32: 1331, win32Name: 'ERROR_ACCOUNT_DISABLED', ntstatus: 0xc0000072, ntstatusName: 'STATUS_ACCOUNT_DISABLED',
    finding: 'ldap.account-disabled', message: 'The account is disabled.',
  },
  {
    hex: '534', win32: 1385, win32Name: 'ERROR_LOGON_TYPE_NOT_GRANTED', ntstatus: 0xc000015b, ntstatusName: 'STATUS_LOGON_TYPE_NOT_GRANTED',
    finding: 'ldap.logon-type-denied', message: 'The account has not been granted the requested logon type on this server.',
  },
  {
    hex: '568', win32: 1384, win32Name: 'ERROR_TOO_MANY_CONTEXT_IDS', ntstatus: 0xc000015a, ntstatusName: 'STATUS_TOO_MANY_CONTEXT_IDS',
    finding: 'ldap.too-many-contexts', message: 'The account\'s security token is too large (it is a member of too many groups).',
  },
  {
    hex: '701', win32: 1793, win32Name: 'ERROR_ACCOUNT_EXPIRED', ntstatus: 0xc0000193, ntstatusName: 'STATUS_ACCOUNT_EXPIRED',
    finding: 'ldap.account-expired', message: 'The account has expired (accountExpires is in the past).',
  },
  {
    hex: '773', win32: 1907, win32Name: 'ERROR_PASSWORD_MUST_CHANGE', ntstatus: 0xc0000224, ntstatusName: 'STATUS_PASSWORD_MUST_CHANGE',
    finding: 'ldap.password-must-change', message: 'The account must change its password before it can log on (pwdLastSet is 0).',
  },
  {
    hex: '775', win32: 1909, win32Name: 'ERROR_ACCOUNT_LOCKED_OUT', ntstatus: 0xc0000234, ntstatusName: 'STATUS_ACCOUNT_LOCKED_OUT',
    finding: 'ldap.account-locked', message: 'The account is locked out after too many bad passwords.',
  },
];

export const AD_SUBCODES: readonly AdSubCode[] = ROWS.map((r) => ({ ...r, remediation: fixes(r.finding, 'ad') }));

const BY_HEX = new Map(AD_SUBCODES.map((c) => [c.hex, c]));
const BY_NTSTATUS = new Map(AD_SUBCODES.map((c) => [c.ntstatus >>> 0, c]));

/** Extract the `data XXX` sub-code from an AD diagnostic message. */
export function parseAdDiagnostic(message: string): { hex: string; dsid?: string; hresult?: string } | undefined {
  const m = /\bdata\s+([0-9a-f]{1,8})\b/i.exec(message);
  if (!m || !m[1]) return undefined;
  const dsid = /DSID-([0-9A-F]+)/i.exec(message)?.[1];
  const hresult = /^([0-9A-F]{8}):/i.exec(message.trim())?.[1];
  return { hex: m[1].toLowerCase(), ...(dsid ? { dsid } : {}), ...(hresult ? { hresult } : {}) };
}

export function adSubCode(hex: string): AdSubCode | undefined {
  return BY_HEX.get(hex.toLowerCase().replace(/^0+(?=.)/, ''));
}

export function adSubCodeByNtStatus(status: number): AdSubCode | undefined {
  return BY_NTSTATUS.get(status >>> 0);
}
