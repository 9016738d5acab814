/**
 * The lockout-safe LDAP check: read the account's state with a service account first (when one
 * is given), and bind as the target only when the lockout policy allows it. Then one bind,
 * never retried. When the service account cannot read the lockout threshold (or badPwdCount),
 * "cannot make things worse" is unknown: credgate does not bind (ldap.lockout-risk) unless the
 * caller passes allowUnknownThreshold: true.
 */
import type { Finding } from '../findings/finding.js';
import type { Secret } from '../core/secret.js';
import { readAccountState, type AccountState } from '../checks/account-state.js';
import { bindStop, stoppedFinding } from './lockout-policy.js';
import { validateLdapBind, type LdapBindOptions } from '../checks/ldap-bind.js';

export interface CredentialCheckOptions extends LdapBindOptions {
  /** Read-only service account for the account-state read and the lockout guard. */
  service?: { username: string; password: Secret };
  /**
   * Bind even when the service account cannot read the lockout threshold or badPwdCount (the
   * state read then reports a `ldap.lockout-threshold-unknown` warning instead of
   * `ldap.lockout-risk`). Default false: no bind when the lockout risk is unknown.
   */
  allowUnknownThreshold?: boolean;
  /**
   * The caller's stop (a terminating signal): once aborted, no credential is sent (neither the
   * service account's nor the target's); a read or bind already in flight finishes and is reported.
   */
  stop?: AbortSignal;
}

export interface CredentialCheckResult {
  findings: Finding[];
  state?: AccountState;
  /** Whether credgate bound as the target (false when the lockout guard or a fatal state stopped it). */
  bound: boolean;
  timingsMs: Record<string, number>;
}


/** The account-state read that guards every password try; `stop` is the finding that forbids any. */
export interface AccountGuard {
  findings: Finding[];
  state?: AccountState;
  stop?: Finding;
}

/**
 * The lockout guard: with a service account, read the target's state (costs the target nothing)
 * and name the finding that stops the password, if any. Without one: nothing read, no stop.
 */
export async function guardAccount(opts: CredentialCheckOptions, timingsMs: Record<string, number> = {}): Promise<AccountGuard> {
  if (!opts.service) return { findings: [] };
  const t0 = performance.now();
  const r = await readAccountState({
    ...opts,
    serviceUser: opts.service.username,
    servicePassword: opts.service.password,
    target: opts.username,
    allowUnknownThreshold: opts.allowUnknownThreshold === true,
  });
  timingsMs.accountState = performance.now() - t0;
  const stop = bindStop(r.findings);
  return { findings: r.findings, ...(r.state ? { state: r.state } : {}), ...(stop ? { stop } : {}) };
}

export async function checkCredential(opts: CredentialCheckOptions): Promise<CredentialCheckResult> {
  const timingsMs: Record<string, number> = {};
  if (opts.stop?.aborted) return { findings: [stoppedFinding('check', 'ldap-bind', opts.stop)], bound: false, timingsMs };
  const guard = await guardAccount(opts, timingsMs);
  const { findings, state } = guard;
  if (guard.stop) return { findings, ...(state ? { state } : {}), bound: false, timingsMs };
  if (opts.stop?.aborted) return { findings: [...findings, stoppedFinding('check', 'ldap-bind', opts.stop)], ...(state ? { state } : {}), bound: false, timingsMs };
  const t1 = performance.now();
  const bind = await validateLdapBind(opts);
  timingsMs.bind = performance.now() - t1;
  // the bind's answer first: it is the direct evidence
  return { findings: [...bind, ...findings], ...(state ? { state } : {}), bound: true, timingsMs };
}
