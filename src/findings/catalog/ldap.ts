/**
 * Catalog rows for the directory: the LDAP bind's answers (AD `data` sub-codes, ppolicy), the
 * account state read before it, and the lockout guard. Fix lists by context: `ad` (Active
 * Directory's sub-codes and attributes), `ppolicy` (OpenLDAP's password policy control), `nla`
 * (the same cause reported by an RDP host at the NLA step), `default` otherwise.
 */
import { fixed, type CatalogRow } from './types.js';

const dir = 'directory' as const;
const vault = 'vault' as const;

/** The NLA step's fixes for a rejected logon: the host gives one answer for several causes. */
export const NLA_LOGON_FAILURE_FIX = fixed(
  { action: 'Reconcile the password in the vault with the account (rotate it from the vault, or set it on the host/directory and update the vault).', owner: vault, priority: 1 },
  { action: 'Check the user name and domain in the vault entry: the host gives the same answer for an unknown user or a wrong domain.', owner: vault, priority: 2 },
);

const UNREADABLE_THRESHOLD = 'Let the read-only service account read lockoutThreshold on the domain object, msDS-LockoutThreshold on password settings objects, and badPwdCount on users.';

export const LDAP_ROWS = {
  'ldap.ok': { category: 'ok', priority: 100, cause: 'The directory accepted the credential.' },
  'account.ok': { category: 'ok', priority: 100, cause: 'The account is enabled, unlocked and its password is current.' },

  'ldap.invalid-credentials': {
    category: 'rejected', priority: 50, cause: 'The password is wrong for this account (or the account does not exist).',
    fix: {
      default: fixed(
        { action: 'Reconcile the password in the vault with the directory (rotate it from the vault, or set it and update the vault).', owner: vault },
        { action: 'Check that the account name (DN / UPN / DOMAIN\\user) in the vault entry is right.', owner: vault },
      ),
      ad: fixed(
        { action: 'Reconcile the password in the vault with the directory (rotate it from the vault, or set it in AD and update the vault).', owner: vault },
        { action: 'Check that the account name and domain in the vault entry are right.', owner: vault },
        { action: 'Do not purge the client credential cache for this: the vault\'s copy itself is wrong.', owner: 'client' },
      ),
      nla: NLA_LOGON_FAILURE_FIX,
    },
  },
  'ldap.user-not-found': {
    category: 'rejected', priority: 50, cause: 'The directory has no such account.',
    fix: {
      ad: fixed(
        { action: 'Check the account name in the vault entry (sAMAccountName, UPN suffix, domain).', owner: vault },
        { action: 'If the account was renamed or deleted, update or remove the vault entry.', owner: vault },
      ),
    },
  },

  'ldap.account-locked': {
    category: 'unusable', priority: 40, cause: 'The account is locked out.',
    fix: {
      ad: fixed(
        { action: 'Unlock the account in Active Directory (or wait for the lockout duration to pass).', owner: dir },
        { action: 'Find what keeps sending the bad password (a stale cached credential, a service, a mapped drive) before unlocking, or it will lock again.', owner: 'client' },
      ),
      ppolicy: fixed({ action: 'Unlock the account (remove pwdAccountLockedTime) or wait for pwdLockoutDuration; find what sent the bad passwords first.', owner: dir }),
    },
  },
  'ldap.account-disabled': {
    category: 'unusable', priority: 40, cause: 'The account is disabled.',
    fix: { ad: fixed({ action: 'Enable the account in Active Directory if it should still be used, or retire the vault entry.', owner: dir }) },
  },
  'ldap.account-expired': {
    category: 'unusable', priority: 40, cause: 'The account has expired.',
    fix: { ad: fixed({ action: 'Extend the account\'s expiry date in Active Directory (Account tab → Account expires), or retire the vault entry.', owner: dir }) },
  },
  'ldap.password-expired': {
    category: 'unusable', priority: 40, cause: 'The account\'s password has expired.',
    fix: {
      ad: fixed(
        { action: 'Rotate the password from the vault now (a rotation resets pwdLastSet).', owner: vault },
        { action: 'Shorten the vault\'s rotation interval below the domain\'s maximum password age, or exempt the account by policy.', owner: vault },
      ),
      ppolicy: fixed({ action: 'Rotate the password from the vault (an administrator reset clears the expiry).', owner: vault }),
    },
  },
  'ldap.password-must-change': {
    category: 'unusable', priority: 40, cause: 'The account must change its password before it can log on.',
    fix: {
      ad: fixed(
        { action: 'Rotate the password from the vault (it sets a new password and clears "must change").', owner: vault },
        { action: 'Or clear "User must change password at next logon" in Active Directory and reconcile the vault.', owner: dir },
      ),
      ppolicy: fixed({ action: 'Rotate the password from the vault (an administrator reset set "must change").', owner: vault }),
    },
  },
  'ldap.logon-hours': {
    category: 'unusable', priority: 40, cause: 'The account may not log on at this time of day.',
    fix: { ad: fixed({ action: 'Widen the account\'s logon hours (Account tab → Logon Hours), or connect within the allowed hours.', owner: dir }) },
  },
  'ldap.workstation-restricted': {
    category: 'unusable', priority: 40, cause: 'The account may not log on from this workstation.',
    fix: { ad: fixed({ action: 'Add the target host (and the DC used for the check) to the account\'s "Log On To" list, or clear the restriction.', owner: dir }) },
  },
  'ldap.account-restricted': {
    category: 'unusable', priority: 40, cause: 'An account restriction prevents this logon.',
    fix: { ad: fixed({ action: 'Review the account\'s restrictions in Active Directory Users and Computers (Account tab).', owner: dir }) },
  },
  'ldap.logon-type-denied': {
    category: 'unusable', priority: 40, cause: 'The account has not been granted this logon type on the server.',
    fix: { ad: fixed({ action: 'Grant the account "Allow log on through Remote Desktop Services" (and network logon) by group policy, or add it to Remote Desktop Users.', owner: 'host' }) },
  },
  'ldap.too-many-contexts': {
    category: 'unusable', priority: 42, cause: 'Too many security contexts are open for this account.',
    fix: { ad: fixed({ action: 'Reduce the account\'s group memberships (nested groups count) below the token size limit.', owner: dir }) },
  },
  'ldap.lockout-risk': {
    category: 'unusable', priority: 41, cause: 'One more failed logon would lock the account out, so credgate did not try.',
    fix: {
      // badPwdCount is one short of the threshold
      near: fixed(
        { action: 'Wait for the lockout observation window to reset badPwdCount, then check again.', owner: 'caller' },
        { action: 'Find what is sending bad passwords for this account (a stale cached credential, a service, a script).', owner: 'client' },
      ),
      // the threshold or badPwdCount cannot be read
      unreadable: fixed(
        { action: UNREADABLE_THRESHOLD, owner: dir },
        { action: 'Or accept the risk explicitly (SDK option allowUnknownThreshold: true) if a lockout would be acceptable.', owner: 'caller' },
      ),
      // the same account a second time in one bulk run, after its first bind failed
      repeat: fixed({ action: 'Give each account once per run; check the earlier result for this account.', owner: 'caller' }),
    },
  },
  'ldap.password-expiring': {
    category: 'info', priority: 80, cause: 'The password expires soon.',
    fix: { default: fixed({ action: 'Rotate the password from the vault before it expires.', owner: vault }) },
  },
  'ldap.lockout-threshold-unknown': {
    category: 'info', priority: 84, cause: 'The lockout threshold could not be read; the caller accepted the risk (allowUnknownThreshold) and the password was tried.',
    fix: { default: fixed({ action: UNREADABLE_THRESHOLD, owner: dir }) },
  },
  'ldap.grace-logins': {
    category: 'info', priority: 80, cause: 'The password has expired; only grace logins remain.',
    fix: { default: fixed({ action: 'Rotate the password from the vault now, before the grace logins run out.', owner: vault }) },
  },
  'ldap.workstation-list': {
    category: 'info', priority: 86, cause: 'The account may log on only from listed computers.',
    fix: { default: fixed({ action: 'Make sure the RDP target host is in the account\'s "Log On To" list.', owner: dir }) },
  },
  'ldap.plain-bind': {
    category: 'info', priority: 87, cause: 'The password was sent over plain LDAP without TLS.',
    fix: { default: fixed({ action: 'Use ldaps:// or --starttls.', owner: 'caller' }) },
  },
  'ldap.strong-auth-required': {
    category: 'unreachable', priority: 30, cause: 'The directory refuses simple binds without TLS.',
    fix: { default: fixed({ action: 'Use ldaps:// (port 636) or --starttls; this is the directory working as intended.', owner: 'caller' }) },
  },
  'ldap.plain-bind-refused': { category: 'usage', priority: 30, cause: 'credgate refused to send a password over plain LDAP.' },
  'ldap.bind-error': {
    category: 'unreachable', priority: 35, cause: 'The directory answered the bind with an unexpected error.',
    fix: {
      default: fixed({ action: 'Read the server\'s diagnostic message above; check the directory\'s logs for this bind.', owner: dir }),
      // an AD sub-code credgate has no row for (detail: the hex code)
      'unknown-subcode': (c) => [{ action: `Look up Win32 error 0x${c.detail ?? '?'} and check the account in Active Directory.`, owner: dir }],
    },
  },
} as const satisfies Record<string, CatalogRow>;
