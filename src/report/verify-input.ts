/**
 * A verify output (JSON Lines, one result record per line, appended by resumed runs) read into a
 * VerifyReport: read from its end, so each account's last record — its answer — is met first and
 * its earlier ones are skipped (AccountStates: 13 bytes an account); counts, the run's exit code
 * (bulk/summary, as verify computes it), the latency histogram and the failed accounts (capped).
 */
import { CredgateError } from '../core/errors.js';
import { AccountStates } from '../bulk/resume.js';
import { createSummary } from '../bulk/summary.js';
import type { Remediation } from '../findings/catalog.js';
import { linesFromEnd } from './lines-from-end.js';
import { addFixes, remediationOf } from './fixes.js';
import { latencySamples } from './latency.js';
import { bump, counts, rowsByCode } from './rows.js';
import { ROW_CAP, type AccountRow, type VerifyReport } from './types.js';

/** A result record as verify writes it (bulk/results.ts), or a bad input line's record. */
interface ResultRecord {
  account?: string;
  ok?: boolean;
  code: string;
  line?: number;
  id?: string;
  url?: string;
  bound?: boolean;
  ms?: number;
  error?: string;
  findings?: Array<{ code?: unknown; message?: unknown; remediation?: unknown }>;
}

/** Why a parsed line is not a verify record, or undefined when it is one. */
export function recordProblem(r: unknown): string | undefined {
  if (!r || typeof r !== 'object' || Array.isArray(r)) return 'not a JSON object';
  const x = r as Record<string, unknown>;
  if (typeof x.code !== 'string') return 'a record without a "code"';
  if (typeof x.account === 'string') return typeof x.ok === 'boolean' ? undefined : 'an account record without "ok"';
  if (x.code === 'input.invalid' && typeof x.line === 'number') return undefined;
  return 'a record without an "account"';
}

/** Read a verify output file (`source`: how the report names it). Throws INPUT_INVALID naming the file and line of the first line that is not a record. */
export async function readVerifyOutput(file: string, source: string = file): Promise<VerifyReport> {
  const seen = new AccountStates();
  const summary = createSummary();
  const byCode = counts();
  const failedByCode = counts();
  const byUrl: Record<string, { ok: number; failed: number }> = Object.create(null);
  const fixes: Record<string, Remediation[]> = Object.create(null);
  const failures = rowsByCode<AccountRow>(ROW_CAP, true);
  const latency = latencySamples();
  let fromEnd = 0;
  let accounts = 0;
  let ok = 0;
  let badLines = 0;
  let superseded = 0;
  let cutLines = 0;
  let notBound = 0;
  let badAt = 0;
  let badWhy = '';
  // bad input lines met from the end: the last ones added are the first in the file
  const badFromEnd: Array<{ line: number; error: string }> = [];
  for await (const raw of linesFromEnd(file, source)) {
    fromEnd++;
    const text = raw.trim();
    if (!text) continue;
    let r: ResultRecord;
    try {
      r = JSON.parse(text) as ResultRecord;
    } catch {
      // a record cut short by an interrupted write (a rerun checks that account again), or not a record at all
      if (text.startsWith('{"')) cutLines++;
      else [badAt, badWhy] = [fromEnd, 'not a JSON record'];
      continue;
    }
    const problem = recordProblem(r);
    if (problem) {
      [badAt, badWhy] = [fromEnd, problem];
      continue;
    }
    if (typeof r.account !== 'string') {
      badLines++;
      summary.addBadLine();
      badFromEnd.push({ line: r.line!, error: typeof r.error === 'string' ? r.error : 'bad input line' });
      if (badFromEnd.length >= 2 * ROW_CAP) badFromEnd.splice(0, ROW_CAP);
      continue;
    }
    if (seen.state(r.account) !== 'new') {
      superseded++;
      continue;
    }
    seen.record(r.account, true, false);
    accounts++;
    const good = r.ok === true;
    if (good) ok++;
    bump(byCode, r.code);
    summary.add({ ok: good, code: r.code as never });
    if (typeof r.url === 'string') {
      const u = (byUrl[r.url] ??= { ok: 0, failed: 0 });
      if (good) u.ok++;
      else u.failed++;
    }
    const ms = typeof r.ms === 'number' ? r.ms : 0;
    if (r.bound === true) latency.add(ms, good);
    else notBound++;
    if (good) continue;
    bump(failedByCode, r.code);
    const decider = Array.isArray(r.findings) ? r.findings.find((f) => f && f.code === r.code) : undefined;
    if (decider) addFixes(fixes, r.code, remediationOf(decider.remediation));
    failures.add(r.code, {
      account: r.account, code: r.code, message: typeof decider?.message === 'string' ? decider.message : '', ms,
      ...(typeof r.line === 'number' ? { line: r.line } : {}), ...(typeof r.id === 'string' ? { id: r.id } : {}), ...(typeof r.url === 'string' ? { url: r.url } : {}),
    });
  }
  if (badAt) {
    throw new CredgateError(`${source} line ${fromEnd - badAt + 1}: ${badWhy}; a verify output has one result record per line (credgate verify --output).`, {
      code: 'INPUT_INVALID', details: { path: source, line: fromEnd - badAt + 1 },
    });
  }
  const s = summary.result();
  const bad = badFromEnd.slice(-ROW_CAP).reverse();
  return {
    kind: 'verify', source, accounts, ok, failed: accounts - ok, badLines, superseded, cutLines, byCode, failedByCode, byUrl,
    exitCode: s.exitCode, ...(s.worstCode ? { worstCode: s.worstCode } : {}),
    latency: latency.histogram(), notBound,
    failures: failures.take(accounts - ok), fixes,
    badRows: { rows: bad, total: badLines },
  };
}
