/**
 * The lockout policy: when credgate may send the target account's password. Every caller that
 * sends it (the single check, the preflight, the bulk pool; a bind, NLA) asks here, so the rule
 * is written once:
 *
 * - with a service account, the account's state is read first; a state that stops the password
 *   (locked, one failure from lockout, an unreadable threshold not accepted, no such account, the
 *   directory unreachable or untrusted) means no bind at all;
 * - when the state could not be read, the password is not tried anywhere;
 * - a second try of the same password (NLA after the bind) only after the directory accepted it;
 * - a failed try is never repeated;
 * - once the caller asks the run to stop (a terminating signal), no password is sent, not even the
 *   service account's: what is in flight finishes and is reported.
 */
import { finding, type Finding, type FindingCode } from '../findings/finding.js';
import { isFailure } from '../findings/diagnose.js';
import { oneFailureFromLockout, type AccountState } from '../checks/account-state.js';

/** States in which a bind as the target cannot succeed and could only add a bad-password count. */
export const NO_BIND: ReadonlySet<FindingCode> = new Set<FindingCode>(['ldap.lockout-risk', 'ldap.account-locked', 'ldap.user-not-found']);

/** An account-state finding after which the target is not bound: a state above, or the directory unreachable, untrusted or speaking the protocol wrongly. */
export const stopsBind = (f: Finding): boolean => NO_BIND.has(f.code) || f.code.startsWith('net.') || f.code.startsWith('tls.') || f.code === 'ldap.protocol-error';

/** The account-state finding that stops the password, if any. */
export function bindStop(stateFindings: readonly Finding[]): Finding | undefined {
  return stateFindings.find(stopsBind);
}

/**
 * Whether the directory accepted the password: an `ldap.ok` among its findings and no failure.
 * Returns undefined when it did, else the code (or note) of why not — the reason a second try of
 * the same password (NLA) is not made: on a domain-joined host a wrong password at NLA is one
 * more bad-password count on the DC.
 */
export function directoryRefusal(directoryFindings: readonly Finding[], note?: string): string | undefined {
  const failure = directoryFindings.find(isFailure);
  if (failure) return failure.code;
  if (directoryFindings.some((f) => f.code === 'ldap.ok')) return undefined;
  return note ?? 'the LDAP bind did not run';
}

export interface NlaGateInput {
  /** A directory is configured (so NLA waits for its answer). */
  directory: boolean;
  /** Why the account state could not be read, when a service account is configured. */
  guardFailed?: string;
  /** The directory's refusal (directoryRefusal), or undefined when it accepted the password. */
  refusal?: string;
  /** The bind was answered with a rejection (the code), as opposed to not having run. */
  rejectedBy?: string;
  state?: AccountState;
}

/**
 * Whether NLA may present the password; a `not checked` reason when it may not. NLA sends a
 * proof of the password to a host that checks it against the DC, so it counts like a bind.
 */
export function nlaGate(g: NlaGateInput): string | undefined {
  if (g.guardFailed) return `not attempted: ${g.guardFailed}; a wrong password at NLA is a bad-password count on the DC too`;
  if (g.rejectedBy) return `not attempted: the directory already rejected the credential (${g.rejectedBy}), another try could only add a bad-password count`;
  if (g.directory && g.refusal !== undefined) {
    return `not attempted: the directory did not accept the credential (${g.refusal}); a wrong password at NLA is a bad-password count on the DC too`;
  }
  if (g.state && (g.state.locked || oneFailureFromLockout(g.state))) return 'not attempted: one more failure could lock the account';
  return undefined;
}

/** How the caller stopped the run ("stopped by SIGTERM"); undefined while it has not. */
export function stopNote(stop: AbortSignal | undefined): string | undefined {
  if (!stop?.aborted) return undefined;
  const r: unknown = stop.reason;
  return r instanceof Error && r.message ? r.message.replace(/\.$/, '').replace(/^Stopped/, 'stopped') : 'stopped';
}

/** Why no further password may be sent: the caller asked the run to stop. Undefined while it has not. */
export function stopRefusal(stop: AbortSignal | undefined): string | undefined {
  const why = stopNote(stop);
  return why && `not attempted: the run was ${why} before this step sent its credential`;
}

/** A step that a stop kept from sending its credential, as the `not-checked` finding that says so. */
export function stoppedFinding(source: string, step: string, stop: AbortSignal): Finding {
  return finding(source, 'not-checked', 'info', `${step}: ${stopRefusal(stop) ?? 'not attempted: the run was stopped'}.`, { step, stopped: true });
}
