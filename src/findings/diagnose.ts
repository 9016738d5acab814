/**
 * Findings → one Verdict: the deciding finding is the failure with the most basic cause (the
 * lowest catalog priority); its category gives the exit code. The judgement itself is data, in
 * the catalog (catalog/).
 */
import type { Finding, Remediation, Verdict } from './finding.js';
import { CATALOG, EXIT_CODES, exitCodeForCategory, type CatalogRow, type Category, type FindingCode } from './catalog.js';

export { EXIT_CODES, exitCodeForCategory, type Category };

export interface CauseRow {
  category: Category;
  /** Lower = more likely the root cause when several findings are present. */
  priority: number;
  /** The cause in the words an RDP admin would use. */
  cause: string;
}

/** Each code's category, priority and cause, as read from the catalog. */
export const CAUSES: Readonly<Record<FindingCode, CauseRow>> = Object.freeze(Object.fromEntries(
  (Object.entries(CATALOG) as Array<[FindingCode, CatalogRow]>).map(([code, r]) => [code, Object.freeze({ category: r.category, priority: r.priority, cause: r.cause })]),
) as Record<FindingCode, CauseRow>);

const OK_PREFERENCE: FindingCode[] = ['rdp.nla-ok', 'ldap.ok', 'krb.ok', 'account.ok', 'rdp.reachable', 'cache.clean', 'provider.ok'];

export function causeOf(code: string): CauseRow {
  return (CAUSES as Record<string, CauseRow>)[code] ?? { category: 'info', priority: 90, cause: code };
}

/**
 * The row diagnose judges a finding by. An error-severity finding whose code has no row is a
 * failure credgate cannot name (internal, exit 70), never informational: a failure must not
 * read as passing.
 */
export function rowFor(f: Pick<Finding, 'code' | 'severity'>): CauseRow {
  const row = (CAUSES as Record<string, CauseRow | undefined>)[f.code];
  if (row) return row;
  return f.severity === 'error' ? { category: 'internal', priority: 70, cause: `An error without a cause row (${f.code}).` } : causeOf(f.code);
}

/** Whether a finding can decide a verdict (a failure), as diagnose judges it. */
export function isFailure(f: Pick<Finding, 'code' | 'severity'>): boolean {
  if (f.severity === 'ok' || f.severity === 'info') return false;
  const c = rowFor(f).category;
  return c !== 'ok' && c !== 'info' && c !== 'not-checked';
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

/** diagnose's decision without the verdict around it, for one account of a bulk run (hot code). */
export interface AccountDecision {
  ok: boolean;
  code: FindingCode;
  category: Category;
  exitCode: number;
}

const DECIDED_OK: AccountDecision = Object.freeze({ ok: true, code: 'ldap.ok', category: 'ok', exitCode: 0 });

/** The deciding finding as diagnose() picks it: the lowest-priority failure (an error without a row is internal, never ok). */
export function decideAccount(findings: readonly Finding[]): AccountDecision {
  if (findings.length === 1 && findings[0]!.code === 'ldap.ok') return DECIDED_OK;
  let best: Finding | undefined;
  let bestP = Infinity;
  for (const f of findings) {
    if (!isFailure(f)) continue;
    const row = rowFor(f);
    if (row.priority < bestP) {
      bestP = row.priority;
      best = f;
    }
  }
  if (!best) {
    const okF = findings.find((f) => f.code === 'ldap.ok') ?? findings.find((f) => causeOf(f.code).category === 'ok');
    return { ok: true, code: okF?.code ?? 'ldap.ok', category: 'ok', exitCode: 0 };
  }
  const row = rowFor(best);
  return { ok: false, code: best.code, category: row.category, exitCode: exitCodeForCategory(row.category) };
}
