/**
 * Findings are answers: what a check observed, with the raw evidence and the fix. Checks return
 * them; diagnose turns many of them into one Verdict. The code names a catalog row (catalog/):
 * its cause, category and exit code are there, and so are its fixes.
 */
import type { FindingCode } from './catalog.js';
import type { Remediation } from './catalog.js';

export type { Remediation } from './catalog.js';
export type { FindingCode } from './catalog.js';

export type Severity = 'ok' | 'info' | 'warning' | 'error';

export interface Finding {
  /** Stable dotted code from the catalog: `ldap.invalid-credentials`, `rdp.cert-expired`, `cache.stale-password`. */
  code: FindingCode;
  severity: Severity;
  /** What was observed, in plain words, one sentence. */
  message: string;
  /** Raw observations (server diagnostic text, certificate dates, attribute values). Never a secret. */
  evidence: Record<string, unknown>;
  remediation: Remediation[];
  /** Which check produced it: `ldap-bind`, `account-state`, `rdp-endpoint`, `cache`, ... */
  source: string;
}

export interface Verdict {
  ok: boolean;
  /** The code of the deciding finding (`ldap.ok` when all is well; `ok` when there was no finding at all). */
  code: FindingCode | 'ok';
  /** Human summary of the cause. */
  cause: string;
  findings: Finding[];
  remediation: Remediation[];
  exitCode: number;
  timingsMs: Record<string, number>;
}

/** A finding; its fixes come from the catalog (`fixes(code, context)`). */
export function finding(
  source: string,
  code: FindingCode,
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
