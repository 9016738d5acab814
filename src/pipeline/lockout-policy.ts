/**
 * The lockout policy: when credgate may send the target account's password, or a proof of it.
 * Every caller that does (the single check, the preflight, the bulk pool; a Kerberos
 * pre-authentication, a bind, NLA) asks here, so the rule is written once:
 *
 * - with a service account, the account's state is read first; a state that stops the password
 *   (locked, one failure from lockout, an unreadable threshold not accepted, no such account, the
 *   directory unreachable or untrusted) means no try at all;
 * - when the state could not be read, the password is not tried anywhere;
 * - the tries run in one order, TRY_ORDER: the KDC's pre-authentication, then the bind, then NLA;
 *   each runs only after every earlier one that is configured accepted the password — a try that
 *   was refused, lost or did not run stops the later ones (each is a bad-password count on the DC);
 * - a failed try is never repeated;
 * - once the caller asks the run to stop (a terminating signal), no password is sent, not even the
 *   service account's: what is in flight finishes and is reported.
 *
 * Why the KDC first: its first AS-REQ carries no password, so an unknown account, a wrong realm,
 * an unsupported etype or a missing pre-authentication is known before any password leaves; the
 * KDC is what an RDP client asks first when it connects by a name with an SPN (Kerberos inside
 * NLA's Negotiate), so its answer is the one the session meets; and its refusals carry the same
 * NTSTATUS as the bind's AD sub-codes (Samba's one exception, a lockout without a status, is named
 * krb.account-revoked and resolved by the account-state read).
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

/** The order of the password tries when several are configured (see the header). */
export const TRY_ORDER = ['kerberos', 'ldap-bind', 'rdp-nla'] as const;
export type PasswordTry = (typeof TRY_ORDER)[number];

/**
 * Whether the KDC accepted the password: a `krb.ok` among its findings and no failure. Returns
 * undefined when it did, else the code (or note) of why not: no later try (bind, NLA) is made.
 */
export function kerberosRefusal(kdcFindings: readonly Finding[], note?: string): string | undefined {
  const failure = kdcFindings.find(isFailure);
  if (failure) return failure.code;
  if (kdcFindings.some((f) => f.code === 'krb.ok')) return undefined;
  return note ?? 'the Kerberos pre-authentication did not run';
}

/** An earlier password try, as a later one sees it. */
export interface EarlierTry {
  /** "the KDC", "the directory". */
  who: string;
  /** Why it did not accept the password (kerberosRefusal / directoryRefusal); undefined: it accepted it. */
  refusal?: string;
  /** It answered with a rejection (the code), as opposed to not having run or not answering. */
  rejectedBy?: string;
}

export interface PasswordGateInput {
  /** Why the account state could not be read, when a service account is configured. */
  guardFailed?: string;
  /** The account-state finding that stops the password (bindStop), if any. */
  stop?: Finding;
  /** The configured tries before this one (TRY_ORDER), in order. */
  earlier?: readonly EarlierTry[];
  state?: AccountState;
}

/**
 * The one gate before any password try (a pre-authentication, a bind, NLA): undefined when it may
 * go, else the `not checked` reason. A Kerberos pre-authentication counts as a bad-password try
 * exactly like a bind, so after one was refused no second try is made anywhere.
 */
export function passwordGate(g: PasswordGateInput): string | undefined {
  if (g.guardFailed) return `not attempted: ${g.guardFailed}; with a service account configured credgate tries the password only after reading the account's state`;
  if (g.stop) return `not attempted: ${g.stop.code} (trying the password could only add a bad-password count)`;
  for (const t of g.earlier ?? []) {
    if (t.rejectedBy) return `not attempted: ${t.who} already rejected the credential (${t.rejectedBy}), another try could only add a bad-password count`;
    if (t.refusal !== undefined) return `not attempted: ${t.who} did not accept the credential (${t.refusal}); each try of a wrong password is a bad-password count on the DC`;
  }
  if (g.state && (g.state.locked || oneFailureFromLockout(g.state))) return 'not attempted: one more failure could lock the account';
  return undefined;
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
  /** The KDC's answer when Kerberos is configured (it runs before the bind). */
  kerberos?: EarlierTry;
}

/**
 * Whether NLA may present the password; a `not checked` reason when it may not. NLA sends a
 * proof of the password to a host that checks it against the DC, so it counts like a bind: it is
 * the last of TRY_ORDER and waits for the KDC's and the directory's acceptance.
 */
export function nlaGate(g: NlaGateInput): string | undefined {
  const earlier: EarlierTry[] = g.kerberos ? [g.kerberos] : [];
  if (g.directory || g.rejectedBy) earlier.push({ who: 'the directory', ...(g.directory && g.refusal !== undefined ? { refusal: g.refusal } : {}), ...(g.rejectedBy ? { rejectedBy: g.rejectedBy } : {}) });
  return passwordGate({ ...(g.guardFailed ? { guardFailed: g.guardFailed } : {}), earlier, ...(g.state ? { state: g.state } : {}) });
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
