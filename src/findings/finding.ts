/**
 * Findings are answers: what a check observed, with the raw evidence and the fix. Validators
 * return them; diagnose turns many of them into one Verdict.
 */

export type Severity = 'ok' | 'info' | 'warning' | 'error';

export interface Remediation {
  /** One imperative sentence: what to do. */
  action: string;
  /** Who can do it: the vault/PAM admin, the directory admin, the host admin, the end user. */
  owner?: 'vault' | 'directory' | 'host' | 'client' | 'network' | 'caller';
  /** Lower runs first when several fixes are ranked. */
  priority?: number;
}

export interface Finding {
  /** Stable dotted code: `ldap.invalid-credentials`, `rdp.cert-expired`, `cache.stale-password`. */
  code: string;
  severity: Severity;
  /** The cause in plain words, one sentence. */
  message: string;
  /** Raw observations (server diagnostic text, certificate dates, attribute values). Never a secret. */
  evidence: Record<string, unknown>;
  remediation: Remediation[];
  /** Which check produced it: `ldap-bind`, `account-state`, `rdp-endpoint`, `cache`, ... */
  source: string;
}

export interface Verdict {
  ok: boolean;
  /** The code of the deciding finding (`ldap.ok` when all is well). */
  code: string;
  /** Human summary of the cause. */
  cause: string;
  findings: Finding[];
  remediation: Remediation[];
  exitCode: number;
  timingsMs: Record<string, number>;
}

export function finding(
  source: string,
  code: string,
  severity: Severity,
  message: string,
  evidence: Record<string, unknown> = {},
  remediation: Remediation[] = [],
): Finding {
  return { code, severity, message, evidence, remediation, source };
}

const SEVERITY_RANK: Record<Severity, number> = { ok: 0, info: 1, warning: 2, error: 3 };

export function worstSeverity(findings: readonly Finding[]): Severity {
  let worst: Severity = 'ok';
  for (const f of findings) if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[worst]) worst = f.severity;
  return worst;
}

export function severityRank(s: Severity): number {
  return SEVERITY_RANK[s];
}
