/**
 * A cache inspection's verdict: exit 6 exactly when a purge would remove something (stale-password
 * or wrong-user entries), whatever else was found; otherwise the most basic fault's exit code, a
 * stale-cache verdict with nothing to purge being no failure. And its headline word: STALE, CLEAN
 * (every entry judged, nothing found), UNKNOWN (entries whose age could not be judged), NOTHING STALE.
 */
import { causeOf, diagnose } from '../findings/diagnose.js';
import { EXIT_CODES } from '../findings/catalog.js';
import type { Finding, FindingCode, Verdict } from '../findings/finding.js';

export interface CacheVerdict {
  verdict: Verdict;
  /** Nothing to purge and nothing that kept a rule from running. */
  ok: boolean;
  exitCode: number;
  word: 'STALE' | 'CLEAN' | 'UNKNOWN' | 'NOTHING STALE';
  code: FindingCode | 'ok';
  cause: string;
}

/** `purgeable`: whether the purge plan is (or would be) non-empty. */
export function cacheVerdict(findings: readonly Finding[], purgeable: boolean): CacheVerdict {
  const verdict = diagnose(findings);
  const stale = verdict.exitCode === EXIT_CODES['stale-cache'];
  const exitCode = purgeable ? EXIT_CODES['stale-cache'] : stale ? EXIT_CODES.ok : verdict.exitCode;
  const head = purgeable && !stale ? headline(diagnose(findings.filter((f) => causeOf(f.code).category === 'stale-cache')), findings) : headline(verdict, findings);
  return { verdict, ok: exitCode === EXIT_CODES.ok, exitCode, ...head };
}

function headline(verdict: Verdict, findings: readonly Finding[]): Pick<CacheVerdict, 'word' | 'code' | 'cause'> {
  if (!verdict.ok) return { word: 'STALE', code: verdict.code, cause: verdict.cause };
  const clean = findings.find((f) => f.code === 'cache.clean');
  if (clean) return { word: 'CLEAN', code: clean.code, cause: clean.message };
  const unknown = findings.filter((f) => f.code === 'cache.unknown-age');
  if (unknown.length) {
    return { word: 'UNKNOWN', code: 'cache.unknown-age', cause: `Nothing is known to be stale, but ${unknown.length} entr${unknown.length === 1 ? 'y has' : 'ies have'} no write time to compare with the password change.` };
  }
  const first = findings.find((f) => f.severity === 'warning') ?? findings.find((f) => f.severity === 'info') ?? findings[0];
  return { word: 'NOTHING STALE', code: first?.code ?? verdict.code, cause: first?.message ?? verdict.cause };
}

/** What a purge ends with: 70 when a planned entry could not be deleted; else a fault that kept a rule from judging keeps its code; else 0. */
export function purgeExitCode(failed: number, faults: readonly Finding[]): number {
  if (failed) return EXIT_CODES.internal;
  return faults.length ? diagnose(faults).exitCode : EXIT_CODES.ok;
}

/** The faults beside a purge plan: what kept a rule from running (an unreachable probe or directory, a user not found). */
export function purgeFaults(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.severity === 'error' && causeOf(f.code).category !== 'stale-cache');
}
