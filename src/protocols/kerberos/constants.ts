// Kerberos numbers the client uses (RFC 4120, RFC 3961/3962, RFC 4757, RFC 6806, MS-KILE) and
// the names it reports: KRB-ERROR codes, NTSTATUS values from KERB-EXT-ERROR, and the mapping of
// both to a stable failure reason the check module turns into findings.

export const PVNO = 5;

export const MSG = {
  AS_REQ: 10,
  AS_REP: 11,
  TGS_REQ: 12,
  TGS_REP: 13,
  AP_REQ: 14,
  KRB_ERROR: 30,
  ENC_AS_REP_PART: 25,
  ENC_TGS_REP_PART: 26,
  AUTHENTICATOR: 2,
  TICKET: 1,
} as const;

export const PA = {
  TGS_REQ: 1,
  ENC_TIMESTAMP: 2,
  PW_SALT: 3,
  ETYPE_INFO: 11,
  ETYPE_INFO2: 19,
  PAC_REQUEST: 128,
} as const;

export const NT = {
  PRINCIPAL: 1,
  SRV_INST: 2,
  SRV_HST: 3,
  ENTERPRISE: 10,
} as const;

/** Encryption types this client implements, best first. */
export const ETYPE = {
  AES256_CTS_HMAC_SHA1_96: 18,
  AES128_CTS_HMAC_SHA1_96: 17,
  RC4_HMAC: 23,
} as const;
export type SupportedEtype = (typeof ETYPE)[keyof typeof ETYPE];
export const SUPPORTED_ETYPES: readonly SupportedEtype[] = [18, 17, 23];

const ETYPE_NAMES: Record<number, string> = {
  1: 'des-cbc-crc',
  3: 'des-cbc-md5',
  16: 'des3-cbc-sha1',
  17: 'aes128-cts-hmac-sha1-96',
  18: 'aes256-cts-hmac-sha1-96',
  19: 'aes128-cts-hmac-sha256-128',
  20: 'aes256-cts-hmac-sha384-192',
  23: 'rc4-hmac',
  24: 'rc4-hmac-exp',
  25: 'camellia128-cts-cmac',
  26: 'camellia256-cts-cmac',
};
export function etypeName(e: number): string {
  return ETYPE_NAMES[e] ?? `etype-${e}`;
}

export const CKSUM = {
  HMAC_SHA1_96_AES128: 15,
  HMAC_SHA1_96_AES256: 16,
  HMAC_MD5: -138,
} as const;

/** RFC 4120 section 7.5.1 key usage numbers. */
export const USAGE = {
  PA_ENC_TIMESTAMP: 1,
  AS_REP_ENC_PART: 3,
  TGS_REQ_AUTH_CKSUM: 6,
  TGS_REQ_AUTHENTICATOR: 7,
  TGS_REP_ENC_PART_SESSION: 8,
  TGS_REP_ENC_PART_SUBKEY: 9,
} as const;

/** KDCOptions bits (bit 0 is the most significant bit). */
export const KDC_OPT = {
  FORWARDABLE: 0x40000000,
  RENEWABLE: 0x00800000,
  CANONICALIZE: 0x00010000,
  RENEWABLE_OK: 0x00000010,
} as const;

export const KRB_ERR = {
  C_PRINCIPAL_UNKNOWN: 6,
  S_PRINCIPAL_UNKNOWN: 7,
  POLICY: 12,
  ETYPE_NOSUPP: 14,
  CLIENT_REVOKED: 18,
  KEY_EXPIRED: 23,
  PREAUTH_FAILED: 24,
  PREAUTH_REQUIRED: 25,
  BAD_INTEGRITY: 31,
  SKEW: 37,
  RESPONSE_TOO_BIG: 52,
  WRONG_REALM: 68,
} as const;

const ERROR_NAMES: Record<number, string> = {
  0: 'KDC_ERR_NONE', 1: 'KDC_ERR_NAME_EXP', 2: 'KDC_ERR_SERVICE_EXP', 3: 'KDC_ERR_BAD_PVNO',
  4: 'KDC_ERR_C_OLD_MAST_KVNO', 5: 'KDC_ERR_S_OLD_MAST_KVNO', 6: 'KDC_ERR_C_PRINCIPAL_UNKNOWN',
  7: 'KDC_ERR_S_PRINCIPAL_UNKNOWN', 8: 'KDC_ERR_PRINCIPAL_NOT_UNIQUE', 9: 'KDC_ERR_NULL_KEY',
  10: 'KDC_ERR_CANNOT_POSTDATE', 11: 'KDC_ERR_NEVER_VALID', 12: 'KDC_ERR_POLICY', 13: 'KDC_ERR_BADOPTION',
  14: 'KDC_ERR_ETYPE_NOSUPP', 15: 'KDC_ERR_SUMTYPE_NOSUPP', 16: 'KDC_ERR_PADATA_TYPE_NOSUPP',
  17: 'KDC_ERR_TRTYPE_NOSUPP', 18: 'KDC_ERR_CLIENT_REVOKED', 19: 'KDC_ERR_SERVICE_REVOKED',
  20: 'KDC_ERR_TGT_REVOKED', 21: 'KDC_ERR_CLIENT_NOTYET', 22: 'KDC_ERR_SERVICE_NOTYET',
  23: 'KDC_ERR_KEY_EXPIRED', 24: 'KDC_ERR_PREAUTH_FAILED', 25: 'KDC_ERR_PREAUTH_REQUIRED',
  26: 'KDC_ERR_SERVER_NOMATCH', 27: 'KDC_ERR_MUST_USE_USER2USER', 28: 'KDC_ERR_PATH_NOT_ACCEPTED',
  29: 'KDC_ERR_SVC_UNAVAILABLE', 31: 'KRB_AP_ERR_BAD_INTEGRITY', 32: 'KRB_AP_ERR_TKT_EXPIRED',
  33: 'KRB_AP_ERR_TKT_NYV', 34: 'KRB_AP_ERR_REPEAT', 35: 'KRB_AP_ERR_NOT_US', 36: 'KRB_AP_ERR_BADMATCH',
  37: 'KRB_AP_ERR_SKEW', 38: 'KRB_AP_ERR_BADADDR', 39: 'KRB_AP_ERR_BADVERSION', 40: 'KRB_AP_ERR_MSG_TYPE',
  41: 'KRB_AP_ERR_MODIFIED', 42: 'KRB_AP_ERR_BADORDER', 44: 'KRB_AP_ERR_BADKEYVER', 45: 'KRB_AP_ERR_NOKEY',
  46: 'KRB_AP_ERR_MUT_FAIL', 47: 'KRB_AP_ERR_BADDIRECTION', 48: 'KRB_AP_ERR_METHOD', 49: 'KRB_AP_ERR_BADSEQ',
  50: 'KRB_AP_ERR_INAPP_CKSUM', 51: 'KRB_AP_PATH_NOT_ACCEPTED', 52: 'KRB_ERR_RESPONSE_TOO_BIG',
  60: 'KRB_ERR_GENERIC', 61: 'KRB_ERR_FIELD_TOOLONG', 62: 'KDC_ERR_CLIENT_NOT_TRUSTED',
  63: 'KDC_ERR_KDC_NOT_TRUSTED', 64: 'KDC_ERR_INVALID_SIG', 65: 'KDC_ERR_KEY_TOO_WEAK',
  66: 'KDC_ERR_CERTIFICATE_MISMATCH', 67: 'KRB_AP_ERR_NO_TGT', 68: 'KDC_ERR_WRONG_REALM',
  69: 'KRB_AP_ERR_USER_TO_USER_REQUIRED', 70: 'KDC_ERR_CANT_VERIFY_CERTIFICATE',
  71: 'KDC_ERR_INVALID_CERTIFICATE', 72: 'KDC_ERR_REVOKED_CERTIFICATE',
  73: 'KDC_ERR_REVOCATION_STATUS_UNKNOWN', 74: 'KDC_ERR_REVOCATION_STATUS_UNAVAILABLE',
  75: 'KDC_ERR_CLIENT_NAME_MISMATCH', 76: 'KDC_ERR_KDC_NAME_MISMATCH', 90: 'KDC_ERR_PREAUTH_EXPIRED',
  91: 'KDC_ERR_MORE_PREAUTH_DATA_REQUIRED', 93: 'KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTIONS',
};
export function krbErrorName(code: number): string {
  return ERROR_NAMES[code] ?? `KRB_ERROR_${code}`;
}

/** NTSTATUS values an AD KDC puts in KERB-EXT-ERROR / PA-PW-SALT. */
export const NTSTATUS = {
  NO_SUCH_USER: 0xc0000064,
  WRONG_PASSWORD: 0xc000006a,
  LOGON_FAILURE: 0xc000006d,
  ACCOUNT_RESTRICTION: 0xc000006e,
  INVALID_LOGON_HOURS: 0xc000006f,
  INVALID_WORKSTATION: 0xc0000070,
  PASSWORD_EXPIRED: 0xc0000071,
  ACCOUNT_DISABLED: 0xc0000072,
  TIME_DIFFERENCE_AT_DC: 0xc0000133,
  LOGON_TYPE_NOT_GRANTED: 0xc000015b,
  ACCOUNT_EXPIRED: 0xc0000193,
  PASSWORD_MUST_CHANGE: 0xc0000224,
  ACCOUNT_LOCKED_OUT: 0xc0000234,
  AUTHENTICATION_FIREWALL_FAILED: 0xc0000413,
} as const;

const NTSTATUS_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(NTSTATUS).map(([k, v]) => [v, `STATUS_${k}`]),
);
export function ntstatusName(status: number): string {
  return NTSTATUS_NAMES[status >>> 0] ?? `0x${(status >>> 0).toString(16).padStart(8, '0').toUpperCase()}`;
}

/** Why a request was refused, in the words the findings use (krb.<reason>). */
export type KerberosFailureReason =
  | 'invalid-credentials'
  | 'user-not-found'
  | 'account-disabled'
  | 'account-locked'
  | 'account-expired'
  | 'account-revoked'
  | 'logon-hours'
  | 'workstation-restricted'
  | 'password-expired'
  | 'password-must-change'
  | 'clock-skew'
  | 'etype-unsupported'
  | 'preauth-unsupported'
  | 'wrong-realm'
  | 'policy'
  | 'service-not-found'
  | 'other';

const BY_STATUS: Record<number, KerberosFailureReason> = {
  [NTSTATUS.ACCOUNT_DISABLED]: 'account-disabled',
  [NTSTATUS.ACCOUNT_LOCKED_OUT]: 'account-locked',
  [NTSTATUS.ACCOUNT_EXPIRED]: 'account-expired',
  [NTSTATUS.INVALID_LOGON_HOURS]: 'logon-hours',
  [NTSTATUS.INVALID_WORKSTATION]: 'workstation-restricted',
  [NTSTATUS.PASSWORD_EXPIRED]: 'password-expired',
  [NTSTATUS.PASSWORD_MUST_CHANGE]: 'password-must-change',
  [NTSTATUS.WRONG_PASSWORD]: 'invalid-credentials',
  [NTSTATUS.NO_SUCH_USER]: 'user-not-found',
  [NTSTATUS.TIME_DIFFERENCE_AT_DC]: 'clock-skew',
};

const BY_CODE: Record<number, KerberosFailureReason> = {
  1: 'account-expired',
  6: 'user-not-found',
  7: 'service-not-found',
  12: 'policy',
  14: 'etype-unsupported',
  18: 'account-revoked',
  23: 'password-expired',
  24: 'invalid-credentials',
  37: 'clock-skew',
  68: 'wrong-realm',
};

/**
 * The reason for a KRB-ERROR: the NTSTATUS (when the KDC sent one) is more precise than the code
 * (CLIENT_REVOKED covers disabled, locked, expired and logon hours alike). BAD_INTEGRITY answers a
 * wrong pre-authentication only on older KDCs, so it counts as invalid credentials only then.
 */
export function failureReason(errorCode: number, ntstatus: number | undefined, proofSent: boolean): KerberosFailureReason {
  if (ntstatus !== undefined) {
    const r = BY_STATUS[ntstatus >>> 0];
    if (r) return r;
  }
  if (errorCode === KRB_ERR.BAD_INTEGRITY && proofSent) return 'invalid-credentials';
  return BY_CODE[errorCode] ?? 'other';
}
