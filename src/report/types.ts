/**
 * What a report is made from: each input file (or run) read into counts, the rows behind them (the
 * most basic causes first, capped) and the fixes, so the page is built from a bounded summary of
 * any size of input. One shape per kind of input: a verify output, a cache inspection, a cache
 * purge, a doctor verdict.
 */
import type { Remediation } from '../findings/catalog.js';

/** How many rows a report's table shows at most (the counts always cover every row). */
export const ROW_CAP = 1000;

/** A table's rows, capped, and how many there were in all. */
export interface Capped<T> {
  rows: T[];
  total: number;
}

/** One failed account of a verify output. */
export interface AccountRow {
  account: string;
  code: string;
  message: string;
  /** The input line number, when the record carries one. */
  line?: number;
  id?: string;
  url?: string;
  ms: number;
}

/** A latency histogram: bin i counts the times in [edges[i], edges[i + 1]) ms, valid and failed accounts apart. */
export interface Histogram {
  edges: number[];
  ok: number[];
  failed: number[];
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface VerifyReport {
  kind: 'verify';
  /** The file name as given (or "this run"). */
  source: string;
  /** Accounts answered: the last record of each account (a rerun's answer replaces an earlier unreachable one). */
  accounts: number;
  ok: number;
  failed: number;
  /** Input lines the run recorded as bad (input.invalid records without an account). */
  badLines: number;
  /** Earlier records of an account replaced by a later one (a resumed run's answer). */
  superseded: number;
  /** Lines cut short by an interrupted write (never counted; a rerun checks those accounts again). */
  cutLines: number;
  byCode: Record<string, number>;
  /** The failed accounts by their deciding code (what the failure chart and table show). */
  failedByCode: Record<string, number>;
  /** Per directory URL that answered: accounts valid and failed. */
  byUrl: Record<string, { ok: number; failed: number }>;
  /** The run's exit code as verify computes it (the most basic failure's). */
  exitCode: number;
  worstCode?: string;
  /** Time to answer per account whose bind was sent (bound: true). */
  latency: Histogram;
  /** Accounts whose bind was not sent (refused by the lockout guard, unreachable first, bad name). */
  notBound: number;
  /** Failed accounts, the most basic cause first, then in file order. */
  failures: Capped<AccountRow>;
  /** The fixes a record carried for each code (catalog text with the case filled in). */
  fixes: Record<string, Remediation[]>;
  badRows: Capped<{ line: number; error: string }>;
}

/** One finding of a cache inspection (or a purge's fault), as --json writes it. */
export interface FindingRow {
  code: string;
  severity: string;
  message: string;
  machine?: string;
  target?: string;
  username?: string;
}

/** One planned (or executed) purge item. */
export interface PurgeRow {
  machine?: string;
  target: string;
  username?: string;
  rule: string;
  reason: string;
  result?: string;
}

export interface CacheReport {
  kind: 'cache-inspect' | 'cache-purge';
  source: string;
  /** inspect: the verdict --json gives (ok, code, cause, exit code). */
  head?: { ok: boolean; code: string; cause: string; exitCode: number };
  considered?: number;
  unknownAge?: number;
  findingsByCode: Record<string, number>;
  /** Per machine ('' for entries without one): findings by code. */
  byMachine: Record<string, Record<string, number>>;
  findings: Capped<FindingRow>;
  fixes: Record<string, Remediation[]>;
  remediation: Remediation[];
  warnings: Capped<string>;
  purge?: {
    dryRun: boolean;
    mode?: string;
    audit?: string;
    createdAt?: string;
    byRule: Record<string, number>;
    byResult: Record<string, number>;
    byMachine: Record<string, number>;
    items: Capped<PurgeRow>;
  };
}

export interface DoctorStep {
  name: string;
  status: string;
  ms: number;
  note?: string;
  findings: string[];
}

export interface DoctorReport {
  kind: 'doctor';
  source: string;
  ok: boolean;
  code: string;
  cause: string;
  headline: string;
  exitCode: number;
  target: { host?: string; port?: number; account?: string };
  steps: DoctorStep[];
  findings: Array<FindingRow & { evidence?: Record<string, unknown> }>;
  remediation: Remediation[];
  totalMs?: number;
}

export type ReportInput = VerifyReport | CacheReport | DoctorReport;
