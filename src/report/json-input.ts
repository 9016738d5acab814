/**
 * The JSON outputs a report reads — `cache inspect --json`, `cache purge --json` (dry run or
 * executed) and `doctor --json` — folded into a CacheReport or DoctorReport as their members go
 * by: findings and purge items counted (by code, rule, result, machine) and kept only as the
 * capped rows behind the tables. Which kind an output is, its members say.
 */
import { CredgateError } from '../core/errors.js';
import type { Remediation } from '../findings/catalog.js';
import type { MemberVisitor } from './json-members.js';
import { remediationOf } from './fixes.js';
import { bump, counts, rowsByCode } from './rows.js';
import { ROW_CAP, type CacheReport, type DoctorReport, type DoctorStep, type FindingRow, type PurgeRow } from './types.js';

/** The arrays read one element at a time: a fleet has tens of thousands of findings and plan items. */
const STREAM: ReadonlySet<string> = new Set(['findings', 'faults', 'warnings', 'plan.items', 'items', 'commands']);
/** A purge's PowerShell script: not needed for the report. */
const SKIP: ReadonlySet<string> = new Set(['powershell']);
/** How many findings are kept whole (with their evidence) for a doctor verdict. */
const DOCTOR_FINDINGS = 200;

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => !!x && typeof x === 'object' && !Array.isArray(x);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
const numOr = (x: unknown, d = 0): number => (typeof x === 'number' && Number.isFinite(x) ? x : d);

export interface JsonFold {
  visitor: MemberVisitor;
  /** The report of what was read; throws INPUT_INVALID when it is none of the outputs a report reads. */
  result(): CacheReport | DoctorReport;
}

/** A fold over one JSON output (`source`: how the report names it). */
export function jsonFold(source: string): JsonFold {
  const members: Obj = Object.create(null);
  const findingsByCode = counts();
  const byMachine: Record<string, Record<string, number>> = Object.create(null);
  const fixes: Record<string, Remediation[]> = Object.create(null);
  const findingRows = rowsByCode<FindingRow>(ROW_CAP);
  const whole: DoctorReport['findings'] = [];
  let findings = 0;
  const warnings: string[] = [];
  let warningCount = 0;
  const byRule = counts();
  const byResult = counts();
  const itemsByMachine = counts();
  const itemRows = rowsByCode<PurgeRow>(ROW_CAP);
  let itemCount = 0;
  let bad: string | undefined;

  const finding = (f: unknown) => {
    if (!isObj(f) || typeof f.code !== 'string') {
      bad ??= 'a finding without a "code"';
      return;
    }
    findings++;
    const ev = isObj(f.evidence) ? f.evidence : {};
    const machine = str(ev.machine) ?? '';
    bump(findingsByCode, f.code);
    bump((byMachine[machine] ??= counts()), f.code);
    if (!(f.code in fixes)) {
      const fx = remediationOf(f.remediation);
      if (fx.length) fixes[f.code] = fx;
    }
    const row: FindingRow = { code: f.code, severity: str(f.severity) ?? '', message: str(f.message) ?? '' };
    if (machine) row.machine = machine;
    if (str(ev.target)) row.target = str(ev.target)!;
    if (str(ev.username)) row.username = str(ev.username)!;
    findingRows.add(f.code, row);
    if (whole.length < DOCTOR_FINDINGS) whole.push({ ...row, evidence: ev });
  };
  const item = (x: unknown) => {
    if (!isObj(x) || typeof x.target !== 'string' || typeof x.rule !== 'string') {
      bad ??= 'a purge item without a "target" and "rule"';
      return;
    }
    itemCount++;
    bump(byRule, x.rule);
    bump(byResult, str(x.result) ?? 'planned');
    bump(itemsByMachine, str(x.machine) ?? '');
    itemRows.add(x.rule, {
      target: x.target, rule: x.rule, reason: str(x.reason) ?? '',
      ...(str(x.machine) ? { machine: str(x.machine)! } : {}), ...(str(x.username) ? { username: str(x.username)! } : {}), ...(str(x.result) ? { result: str(x.result)! } : {}),
    });
  };
  const visitor: MemberVisitor = {
    stream: STREAM,
    skip: SKIP,
    member(path, value) {
      members[path] = value;
    },
    element(path, value) {
      if (path === 'findings' || path === 'faults') finding(value);
      else if (path === 'items' || path === 'plan.items') item(value);
      else if (path === 'warnings') {
        warningCount++;
        if (warnings.length < ROW_CAP) warnings.push(typeof value === 'string' ? value : JSON.stringify(value));
      }
    },
  };

  const refuse = (why: string): never => {
    throw new CredgateError(`${source}: ${why}; a report reads credgate verify --output files and the --json output of cache inspect, cache purge and doctor.`, { code: 'INPUT_INVALID', details: { path: source } });
  };

  return {
    visitor,
    result() {
      if (bad) refuse(bad);
      if (Array.isArray(members.steps) && isObj(members.target)) return doctor();
      const common = {
        source, findingsByCode, byMachine, findings: findingRows.take(findings), fixes,
        remediation: remediationOf(members.remediation), warnings: { rows: warnings, total: warningCount },
      };
      if (typeof members.dryRun === 'boolean') {
        const items = itemRows.take(itemCount);
        if (!members.dryRun && byResult.planned) {
          // a purge that deleted nothing itself (fleet input) records no result: its items are left to the emitted commands
          bump(byResult, 'emitted', byResult.planned);
          delete byResult.planned;
          for (const row of items.rows) row.result ??= 'emitted';
        }
        return {
          kind: 'cache-purge', ...common,
          purge: {
            dryRun: members.dryRun, byRule, byResult, byMachine: itemsByMachine, items,
            ...(str(members.mode) ? { mode: str(members.mode)! } : {}), ...(str(members.audit) ? { audit: str(members.audit)! } : {}),
            ...(str(members['plan.createdAt']) ? { createdAt: str(members['plan.createdAt'])! } : {}),
          },
        };
      }
      if (typeof members.considered === 'number' && typeof members.code === 'string') {
        return {
          kind: 'cache-inspect', ...common,
          head: { ok: members.ok === true, code: members.code, cause: str(members.cause) ?? '', exitCode: numOr(members.exitCode) },
          considered: members.considered, unknownAge: numOr(members.unknownAge),
        };
      }
      return refuse('a JSON object that is none of these outputs');
    },
  };

  function doctor(): DoctorReport {
    const t = members.target as Obj;
    const steps: DoctorStep[] = (members.steps as unknown[]).filter(isObj).map((s) => ({
      name: str(s.name) ?? '?', status: str(s.status) ?? '?', ms: numOr(s.ms),
      ...(str(s.note) ? { note: str(s.note)! } : {}), findings: Array.isArray(s.findings) ? s.findings.filter((c): c is string => typeof c === 'string') : [],
    }));
    const timings = isObj(members.timingsMs) ? members.timingsMs : {};
    return {
      kind: 'doctor', source, ok: members.ok === true, code: str(members.code) ?? '', cause: str(members.cause) ?? '',
      headline: str(members.headline) ?? '', exitCode: numOr(members.exitCode),
      target: { ...(str(t.host) ? { host: str(t.host)! } : {}), ...(typeof t.port === 'number' ? { port: t.port } : {}), ...(str(t.account) ? { account: str(t.account)! } : {}) },
      steps, findings: whole, remediation: remediationOf(members.remediation),
      ...(typeof timings.total === 'number' ? { totalMs: timings.total } : {}),
    };
  }
}
