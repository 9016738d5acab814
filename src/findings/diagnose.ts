/**
 * Findings → one Verdict. The table below is the whole of credgate's judgement: for each
 * finding code, what category of failure it is (which decides the exit code), how strongly it
 * explains an RDP 0x904/0x7 failure (priority: lower wins), and the cause in plain words.
 *
 * It is data, tested row by row (test/diagnose.test.ts). A new check adds rows here and nowhere else.
 */
import type { Finding, Remediation, Verdict } from './finding.js';

export type Category = 'ok' | 'rejected' | 'unusable' | 'unreachable' | 'provider' | 'stale-cache' | 'usage' | 'internal' | 'info' | 'not-checked';

export const EXIT_CODES = {
  ok: 0,
  rejected: 1,
  usage: 2,
  unusable: 3,
  unreachable: 4,
  provider: 5,
  'stale-cache': 6,
  internal: 70,
} as const;

export interface CauseRow {
  category: Category;
  /** Lower = more likely the root cause when several findings are present. */
  priority: number;
  /** The cause in the words an RDP admin would use. */
  cause: string;
}

// Priority bands: 10 provider faults; 20 the host/DNS/network; 30 TLS; 40 account state;
// 50 the password itself; 60 stale client cache; 80 warnings; 100 ok / informational.
export const CAUSES: Record<string, CauseRow> = {
  // --- ok / informational
  'ldap.ok': { category: 'ok', priority: 100, cause: 'The directory accepted the credential.' },
  'rdp.nla-ok': { category: 'ok', priority: 100, cause: 'The RDP host accepted the credential at the NLA step.' },
  'rdp.reachable': { category: 'ok', priority: 100, cause: 'The RDP host answered and negotiated a security protocol.' },
  'account.ok': { category: 'ok', priority: 100, cause: 'The account is enabled, unlocked and its password is current.' },
  'cache.clean': { category: 'ok', priority: 100, cause: 'No cached credential for the host conflicts with the target account.' },
  'provider.ok': { category: 'ok', priority: 100, cause: 'The vault returned a credential.' },
  'not-checked': { category: 'not-checked', priority: 95, cause: 'This part of the check did not run.' },

  // --- the credential itself
  'ldap.invalid-credentials': { category: 'rejected', priority: 50, cause: 'The password is wrong for this account (or the account does not exist).' },
  'ldap.user-not-found': { category: 'rejected', priority: 50, cause: 'The directory has no such account.' },
  'rdp.logon-failure': { category: 'rejected', priority: 50, cause: 'The RDP host rejected the user name or password at the NLA step.' },

  // --- account state (AD sub-codes, ppolicy, NTSTATUS)
  'ldap.account-locked': { category: 'unusable', priority: 40, cause: 'The account is locked out.' },
  'ldap.account-disabled': { category: 'unusable', priority: 40, cause: 'The account is disabled.' },
  'ldap.account-expired': { category: 'unusable', priority: 40, cause: 'The account has expired.' },
  'ldap.password-expired': { category: 'unusable', priority: 40, cause: 'The account\'s password has expired.' },
  'ldap.password-must-change': { category: 'unusable', priority: 40, cause: 'The account must change its password before it can log on.' },
  'ldap.logon-hours': { category: 'unusable', priority: 40, cause: 'The account may not log on at this time of day.' },
  'ldap.workstation-restricted': { category: 'unusable', priority: 40, cause: 'The account may not log on from this workstation.' },
  'ldap.account-restricted': { category: 'unusable', priority: 40, cause: 'An account restriction prevents this logon.' },
  'ldap.logon-type-denied': { category: 'unusable', priority: 40, cause: 'The account has not been granted this logon type on the server.' },
  'ldap.too-many-contexts': { category: 'unusable', priority: 42, cause: 'Too many security contexts are open for this account.' },
  'ldap.lockout-risk': { category: 'unusable', priority: 41, cause: 'One more failed logon would lock the account out, so credgate did not try.' },
  'ldap.password-expiring': { category: 'info', priority: 80, cause: 'The password expires soon.' },
  'ldap.lockout-threshold-unknown': { category: 'info', priority: 84, cause: 'The lockout threshold could not be read; the caller accepted the risk (allowUnknownThreshold) and the password was tried.' },
  'ldap.grace-logins': { category: 'info', priority: 80, cause: 'The password has expired; only grace logins remain.' },
  'ldap.workstation-list': { category: 'info', priority: 86, cause: 'The account may log on only from listed computers.' },
  'ldap.plain-bind': { category: 'info', priority: 87, cause: 'The password was sent over plain LDAP without TLS.' },
  'tls.verification-disabled': { category: 'info', priority: 87, cause: 'TLS certificate verification was switched off for this check.' },

  // --- directory transport
  'ldap.strong-auth-required': { category: 'unreachable', priority: 30, cause: 'The directory refuses simple binds without TLS.' },
  'ldap.plain-bind-refused': { category: 'usage', priority: 30, cause: 'credgate refused to send a password over plain LDAP.' },
  'ldap.bind-error': { category: 'unreachable', priority: 35, cause: 'The directory answered the bind with an unexpected error.' },

  // --- network / TLS (shared by LDAP and RDP)
  'net.dns-failure': { category: 'unreachable', priority: 20, cause: 'The host name does not resolve.' },
  'net.refused': { category: 'unreachable', priority: 21, cause: 'Nothing accepts connections on that port (service stopped or wrong port).' },
  'net.timeout': { category: 'unreachable', priority: 22, cause: 'The host did not answer in time (firewall, port forward or a hung service).' },
  'net.unreachable': { category: 'unreachable', priority: 22, cause: 'There is no route to the host.' },
  'net.connection-lost': { category: 'unreachable', priority: 22, cause: 'The connection to the server was lost before it answered.' },
  'tls.untrusted': { category: 'unreachable', priority: 30, cause: 'The server\'s certificate is not trusted.' },
  'tls.name-mismatch': { category: 'unreachable', priority: 30, cause: 'The server\'s certificate is not for this host name.' },
  'tls.expired': { category: 'unreachable', priority: 30, cause: 'The server\'s certificate has expired.' },
  'tls.handshake-failed': { category: 'unreachable', priority: 31, cause: 'The TLS handshake failed.' },

  // --- RDP endpoint
  'rdp.not-rdp': { category: 'unreachable', priority: 23, cause: 'Something answers on the port, but it does not speak RDP.' },
  'rdp.nla-required': { category: 'info', priority: 85, cause: 'The host requires Network Level Authentication (CredSSP).' },
  'rdp.neg-failure': { category: 'unreachable', priority: 25, cause: 'The host refused every security protocol credgate offered.' },
  'rdp.ssl-required': { category: 'unreachable', priority: 25, cause: 'The host requires TLS security, which the client did not offer.' },
  'rdp.ssl-not-allowed': { category: 'unreachable', priority: 25, cause: 'The host only allows legacy RDP security.' },
  'rdp.ssl-cert-missing': { category: 'unreachable', priority: 25, cause: 'The host has no certificate for TLS.' },
  'rdp.hybrid-required': { category: 'unreachable', priority: 25, cause: 'The host requires NLA (CredSSP), which the client did not offer.' },
  'rdp.inconsistent-flags': { category: 'unreachable', priority: 25, cause: 'The host found the requested security protocols inconsistent with the security already in effect (a proxy or load balancer in front of it started TLS or rewrote the negotiation).' },
  'rdp.ssl-user-auth-required': { category: 'unreachable', priority: 25, cause: 'The host requires TLS with a client certificate, which the client did not offer.' },
  'rdp.cert-expired': { category: 'unreachable', priority: 30, cause: 'The host\'s RDP certificate has expired.' },
  'rdp.cert-not-yet-valid': { category: 'unreachable', priority: 30, cause: 'The host\'s RDP certificate is not valid yet (clock skew or a wrong certificate).' },
  'rdp.cert-expiring': { category: 'info', priority: 80, cause: 'The host\'s RDP certificate expires soon.' },
  'rdp.cert-self-signed': { category: 'info', priority: 82, cause: 'The host presents a self-signed RDP certificate.' },
  'rdp.cert-untrusted': { category: 'unreachable', priority: 30, cause: 'The host\'s RDP certificate does not chain to the given CA.' },
  'rdp.cert-name-mismatch-ca': { category: 'unreachable', priority: 30, cause: 'The host\'s RDP certificate is not issued for this host name (checked against the given CA).' },
  'rdp.cert-name-mismatch': { category: 'info', priority: 81, cause: 'The host\'s RDP certificate is not issued for this host name (no CA was given, or the certificate is pinned, so it is not a failure).' },
  'rdp.legacy-security': { category: 'info', priority: 83, cause: 'The host offers only legacy RDP security (no TLS, no NLA).' },
  'rdp.cert-weak': { category: 'info', priority: 83, cause: 'The host\'s RDP certificate uses a weak key or signature.' },

  // --- client credential cache
  'cache.stale-password': { category: 'stale-cache', priority: 60, cause: 'The client caches a password written before the account\'s password last changed.' },
  'cache.wrong-user': { category: 'stale-cache', priority: 61, cause: 'The client caches a credential for another user for this host.' },
  'cache.conflicting-entries': { category: 'info', priority: 85, cause: 'The client caches the same host under several names with different users or times.' },
  'cache.unknown-age': { category: 'not-checked', priority: 86, cause: 'A cached entry has no write time, so whether it predates the password change could not be judged.' },
  'cache.username-hint-mismatch': { category: 'info', priority: 84, cause: 'The RDP client remembers another user name for this host.' },
  'cache.cert-changed': { category: 'info', priority: 84, cause: 'The host\'s certificate differs from the one the client remembers.' },
  'cache.orphan': { category: 'info', priority: 90, cause: 'The client caches a credential for a host not in the inventory.' },

  // --- providers
  'provider.not-found': { category: 'provider', priority: 10, cause: 'The vault has no credential under that reference.' },
  'provider.auth-failed': { category: 'provider', priority: 10, cause: 'credgate could not authenticate to the vault.' },
  'provider.unavailable': { category: 'provider', priority: 11, cause: 'The vault could not be reached.' },
  'provider.error': { category: 'provider', priority: 12, cause: 'The vault answered with an error or something unusable.' },

  // --- bulk input
  'input.invalid': { category: 'usage', priority: 15, cause: 'The input line could not be used (malformed, or no user name or password), so it was not checked.' },

  // --- a preflight step that could not give an answer (a CredgateError inside the step): never passing
  'config.invalid': { category: 'usage', priority: 15, cause: 'A configuration value is invalid (a path, an option, the service account), so a step could not run.' },
  'step.connection-failed': { category: 'unreachable', priority: 22, cause: 'A connection a step needed could not be made or was lost.' },
  'step.protocol-error': { category: 'unreachable', priority: 26, cause: 'A server answered with bytes that do not follow the protocol (a proxy, a broken server, or not the service expected).' },
  'step.tls-failed': { category: 'unreachable', priority: 30, cause: 'A step stopped at TLS: the server\'s certificate was rejected or its identity proof did not match (possibly a TLS-intercepting proxy).' },
  'step.error': { category: 'internal', priority: 70, cause: 'A step failed unexpectedly, so its part of the check has no answer.' },
  'step.aborted': { category: 'internal', priority: 71, cause: 'The caller aborted the check before this step answered.' },
  // preflight: nothing failed, but nothing proved the credential either (no ldap.ok, no rdp.nla-ok)
  'credential.not-checked': { category: 'usage', priority: 96, cause: 'Nothing proved the credential: neither the directory nor the RDP host (NLA) checked it.' },
};

const OK_PREFERENCE = ['rdp.nla-ok', 'ldap.ok', 'account.ok', 'rdp.reachable', 'cache.clean', 'provider.ok'];

export function causeOf(code: string): CauseRow {
  return CAUSES[code] ?? { category: 'info', priority: 90, cause: code };
}

/**
 * The row diagnose judges a finding by. An error-severity finding whose code has no row is a
 * failure credgate cannot name (internal, exit 70), never informational: a failure must not
 * read as passing.
 */
export function rowFor(f: Pick<Finding, 'code' | 'severity'>): CauseRow {
  const row = CAUSES[f.code];
  if (row) return row;
  return f.severity === 'error' ? { category: 'internal', priority: 70, cause: `An error without a cause row (${f.code}).` } : causeOf(f.code);
}

/** Whether a finding can decide a verdict (a failure), as diagnose judges it. */
export function isFailure(f: Pick<Finding, 'code' | 'severity'>): boolean {
  if (f.severity === 'ok' || f.severity === 'info') return false;
  const c = rowFor(f).category;
  return c !== 'ok' && c !== 'info' && c !== 'not-checked';
}

/** The exit code for a category (README "Exit codes"). */
export function exitCodeForCategory(c: Category): number {
  return c === 'ok' || c === 'info' || c === 'not-checked' ? EXIT_CODES.ok : EXIT_CODES[c];
}

/** The exit code for one finding code. */
export function exitCodeFor(code: string): number {
  return exitCodeForCategory(causeOf(code).category);
}

/**
 * Pick the deciding finding: the non-ok, non-info finding with the lowest priority (the most
 * basic cause), ties broken by order. When there is none, the verdict is ok.
 */
export function diagnose(findings: readonly Finding[], timingsMs: Record<string, number> = {}): Verdict {
  let decider: Finding | undefined;
  let best = Number.POSITIVE_INFINITY;
  for (const f of findings) {
    if (!isFailure(f)) continue;
    const row = rowFor(f);
    if (row.priority < best) {
      best = row.priority;
      decider = f;
    }
  }
  if (!decider) {
    // the strongest proof names an ok verdict: the host itself accepting the credential, then the directory
    const okFinding = OK_PREFERENCE.map((c) => findings.find((f) => f.code === c)).find(Boolean)
      ?? findings.find((f) => causeOf(f.code).category === 'ok');
    const remediation = rankRemediation(findings.filter((f) => f.severity === 'warning' || f.severity === 'info'));
    return {
      ok: true,
      code: okFinding?.code ?? 'ok',
      cause: okFinding?.message ?? causeOf(okFinding?.code ?? 'ldap.ok').cause,
      findings: [...findings],
      remediation,
      exitCode: EXIT_CODES.ok,
      timingsMs,
    };
  }
  const ranked = rankRemediation([decider, ...findings.filter((f) => f !== decider && f.severity !== 'ok')]);
  return {
    ok: false,
    code: decider.code,
    cause: decider.message,
    findings: [...findings],
    remediation: ranked,
    exitCode: exitCodeForCategory(rowFor(decider).category),
    timingsMs,
  };
}

function rankRemediation(ordered: readonly Finding[]): Remediation[] {
  const seen = new Set<string>();
  const out: Remediation[] = [];
  for (const f of ordered) {
    for (const r of f.remediation) {
      if (seen.has(r.action)) continue;
      seen.add(r.action);
      out.push({ ...r, priority: out.length + 1 });
    }
  }
  return out;
}
