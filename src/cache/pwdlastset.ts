/**
 * The account's pwdLastSet for the stale-password rule. The read itself is the LDAP validator's
 * (`readAccountState` in src/checks/account-state.ts: LDAPS or StartTLS with a read-only
 * service account, CA bundle, deadline, AbortSignal); this file only picks out what the cache
 * inspector needs and keeps the findings that explain why pwdLastSet could not be read.
 */
import { readAccountState, type AccountStateOptions } from '../checks/account-state.js';
import type { Finding } from '../findings/finding.js';

export type PwdLastSetOptions = AccountStateOptions;

export interface PwdLastSetResult {
  /** When the password last changed; undefined when the account was not found or must change it (pwdLastSet 0). */
  pwdLastSet?: Date;
  /** The account was found but pwdLastSet is 0: the user must change the password at next logon. */
  mustChange?: boolean;
  /** Why the time is missing (net.*, tls.*, ldap.user-not-found, ...), or the account-state findings. */
  findings: Finding[];
}

/** Read the account's pwdLastSet over LDAP(S). Faults (cannot connect, TLS, timeout) surface as findings or CredgateError, as readAccountState does. */
export async function readPwdLastSet(options: PwdLastSetOptions): Promise<PwdLastSetResult> {
  const r = await readAccountState(options);
  return {
    ...(r.state?.pwdLastSet ? { pwdLastSet: r.state.pwdLastSet } : {}),
    ...(r.state?.mustChangePassword ? { mustChange: true } : {}),
    findings: r.findings,
  };
}
