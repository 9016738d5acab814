/** A bulk run's summary: counts by code, and the run's exit code (that of its most basic failure). */
import { causeOf, exitCodeForCategory, rowFor } from '../findings/diagnose.js';
import { isFindingCode } from '../findings/catalog.js';
import { exitCodeForSignal } from '../findings/faults.js';
import type { FindingCode } from '../findings/finding.js';
import type { VerifyResult } from './types.js';

/** Counts by code, and the exit code of the run: 0 when every account is valid. */
export interface VerifySummary {
  total: number;
  ok: number;
  failed: number;
  byCode: Record<string, number>;
  exitCode: number;
  /** The deciding code of the worst account (lowest cause priority), when any failed. */
  worstCode?: FindingCode;
}

export interface SummaryBuilder {
  add(r: Pick<VerifyResult, 'ok' | 'code'>): void;
  addBadLine(): void;
  /**
   * An account a resumed run skipped because an earlier run sent its bind and lost the answer
   * (`code`: that record's code): never resent, so unresolved; it fails the run as unreachable
   * unless a more basic failure decides.
   */
  addLost(code: string): void;
  /**
   * The summary; a run stopped by a signal exits with that signal's code whatever it found (128 +
   * its number: SIGINT 130, SIGTERM 143, SIGHUP 129; `interrupted` without a signal: 130).
   */
  result(o?: { interrupted?: boolean; signal?: string }): VerifySummary;
}

/** Fold results into a summary; the run's exit code is the exit code of its most basic failure. */
export function createSummary(): SummaryBuilder {
  let total = 0;
  let ok = 0;
  let bad = 0;
  const byCode: Record<string, number> = {};
  let worst: FindingCode | undefined;
  let worstP = Infinity;
  const consider = (code: FindingCode, p: number) => {
    if (p < worstP) {
      worstP = p;
      worst = code;
    }
  };
  return {
    add(r) {
      total++;
      if (r.ok) ok++;
      byCode[r.code] = (byCode[r.code] ?? 0) + 1;
      // a failed account's code decided it: judged as an error (no row = internal, exit 70)
      if (!r.ok) consider(r.code, rowFor({ code: r.code, severity: 'error' }).priority);
    },
    addBadLine() {
      bad++;
    },
    addLost(code) {
      const lost: FindingCode = isFindingCode(code) && causeOf(code).category === 'unreachable' ? code : 'net.connection-lost';
      consider(lost, causeOf(lost).priority);
    },
    result(o = {}) {
      const out: VerifySummary = { total, ok, failed: total - ok, byCode, exitCode: 0 };
      if (worst) {
        out.worstCode = worst;
        out.exitCode = exitCodeForCategory(rowFor({ code: worst, severity: 'error' }).category);
      } else if (bad > 0) {
        out.exitCode = exitCodeForCategory(causeOf('input.invalid').category);
      }
      if (o.interrupted || o.signal) out.exitCode = exitCodeForSignal(o.signal ?? 'SIGINT');
      return out;
    },
  };
}
