/**
 * The pipeline: will this credential work on that host? One deadline over all steps; each step
 * starts once the steps it waits for are over, so independent steps run in parallel:
 *
 *   provider ──┬─► kerberos ─► ldap-bind (lockout-safe: each waits for account-state ──┐
 *              │               and the try before it, TRY_ORDER)                     │
 *              ├──────────────► rdp-nla (waits for rdp-endpoint, the KDC and the bind) ├─► diagnose → verdict
 *   account-state ─────────────► cache (needs pwdLastSet / changedAt) ─────────────────┤
 *   rdp-endpoint ──────────────────────────────────────────────────────────────────────┘
 *
 * A step that cannot run (no directory configured, no cache source) is reported as "not checked"
 * — never as passing. A step that throws decides the verdict by its error code (never info); a
 * step still running at the deadline is reported as timed out (the deadline is raced, so a
 * provider that ignores its AbortSignal cannot hold the verdict). When nothing proved the
 * credential (no krb.ok, ldap.ok or rdp.nla-ok) the verdict is `credential.not-checked` (ok:
 * false, exit 2), never a pass; a pass carries rdp.logon-right-not-checked: it proved the
 * credential, not the right to an RDP session.
 */
import { finding, type Finding } from '../findings/finding.js';
import { CredgateError, abortError, timedOut } from '../core/errors.js';
import { parseHostPort } from '../core/target.js';
import { withSignal } from '../core/abort.js';
import { CHANNELS, traced, withLogger } from '../core/telemetry.js';
import { diagnose, isFailure } from '../findings/diagnose.js';
import { stepFaultFinding } from '../findings/faults.js';
import { STEPS } from './steps/index.js';
import { stepStopped } from './step-errors.js';
import { stopNote } from './lockout-policy.js';
import { headline, logonRightNote, notProven, PROOF } from './verdict.js';
import type { PreflightOptions, PreflightReport, PreflightTarget, Step, StepDeps, StepName, StepReport } from './types.js';

export async function preflight(target: PreflightTarget, options: PreflightOptions = {}): Promise<PreflightReport> {
  const t0 = performance.now();
  const { host, port } = parseHostPort(target.host, options.rdp?.port ?? 3389);
  const deadlineMs = options.deadlineMs ?? 20_000;
  // our own timer, not AbortSignal.timeout: that one is unref'd, so a provider promise that never
  // settles (and holds no handle) would let a CLI process exit before the deadline ever fires
  const deadlineCtl = new AbortController();
  const timer = setTimeout(() => deadlineCtl.abort(new DOMException(`The preflight deadline of ${deadlineMs} ms passed.`, 'TimeoutError')), deadlineMs);
  const overall = options.signal ? AbortSignal.any([options.signal, deadlineCtl.signal]) : deadlineCtl.signal;
  try {
    if (callerAbort(options.signal)) throw abortError(options.signal!, `The preflight of ${host}:${port}`);
    const report = await withLogger(options.logger, () => runSteps(target, options, { t0, host, port, deadlineMs, overall, deadline: deadlineCtl.signal }));
    // the caller's abort is an AbortError, as in every entry point; a timed-out signal is a deadline (the report says which steps ran out)
    if (callerAbort(options.signal)) throw abortError(options.signal!, `The preflight of ${host}:${port}`);
    return report;
  } finally {
    clearTimeout(timer);
  }
}

/** The caller aborted (a signal that timed out is a deadline instead: its steps are reported as timed out). */
function callerAbort(signal: AbortSignal | undefined): boolean {
  return !!signal?.aborted && !timedOut(signal);
}

interface RunCtx {
  t0: number;
  host: string;
  port: number;
  deadlineMs: number;
  overall: AbortSignal;
  deadline: AbortSignal;
}

/** Run one step raced against the deadline and the caller's signal; a fault becomes the step's finding. */
async function runStep(step: Step, deps: StepDeps, rc: RunCtx, s0: number, startMs: number): Promise<StepReport> {
  const { name } = step;
  try {
    if (rc.overall.aborted) throw stepStopped(deps, name);
    const r = await withSignal(step.run(deps), rc.overall, undefined, () => stepStopped(deps, name));
    if ('notChecked' in r) return { name, status: 'not-checked', findings: [], ms: performance.now() - s0, startMs, note: r.notChecked };
    const bad = r.findings.some(isFailure);
    return { name, status: bad ? 'failed' : 'passed', findings: r.findings, ms: performance.now() - s0, startMs, ...(r.note ? { note: r.note } : {}) };
  } catch (e) {
    const err = e instanceof CredgateError ? e : new CredgateError(`The ${name} step failed: ${e instanceof Error ? e.message : String(e)}`, { code: 'INTERNAL', cause: e });
    return { name, status: 'error', findings: [stepFaultFinding(name, err)], ms: performance.now() - s0, startMs, note: err.code === 'TIMEOUT' ? `timed out: ${err.message}` : err.message };
  }
}

async function runSteps(target: PreflightTarget, options: PreflightOptions, rc: RunCtx): Promise<PreflightReport> {
  const { t0, host, port, deadlineMs } = rc;
  const reports = new Map<StepName, StepReport>();
  const emit = (step: StepName, fs: Finding[]) => {
    if (options.onFinding) for (const f of fs) {
      try {
        const r = options.onFinding(f, step) as unknown;
        // an async hook that rejects must not become an unhandled rejection either
        if (r && typeof (r as PromiseLike<unknown>).then === 'function') (r as PromiseLike<unknown>).then(undefined, () => {});
      } catch {
        // a vendor's hook must not break the check
      }
    }
  };
  const done = new Map<StepName, Promise<StepReport>>();
  const deps: StepDeps = {
    host, port, overall: rc.overall, deadline: rc.deadline, deadlineMs, stepTimeoutMs: options.stepTimeoutMs ?? deadlineMs, options, target, ctx: {},
    report: (name) => done.get(name)!,
  };
  const run = async (step: Step): Promise<StepReport> => {
    for (const dep of step.after) await done.get(dep);
    const { name } = step;
    const s0 = performance.now();
    const startMs = s0 - t0;
    let rep: StepReport;
    const stopped = stopNote(options.stop);
    if (rc.deadline.aborted) {
      rep = { name, status: 'not-checked', findings: [], ms: 0, startMs, note: `not started: the preflight deadline of ${deadlineMs} ms had passed` };
    } else if (stopped) {
      rep = { name, status: 'not-checked', findings: [], ms: 0, startMs, note: `not started: the run was ${stopped}` };
    } else {
      rep = await traced(CHANNELS.step, { step: name, host, port }, () => runStep(step, deps, rc, s0, startMs), (r) => ({
        status: r.status, codes: r.findings.map((f) => f.code), errorCode: r.status === 'error' ? r.findings[0]?.evidence.errorCode : undefined,
      }));
    }
    reports.set(name, rep);
    emit(name, rep.findings);
    step.settle?.(rep, deps);
    return rep;
  };
  // each step's promise exists before any step runs, so a step can wait for any other
  const gates = new Map<StepName, () => void>();
  for (const s of STEPS) done.set(s.name, new Promise<void>((r) => gates.set(s.name, r)).then(() => run(s)));
  for (const s of STEPS) gates.get(s.name)!();
  await Promise.all(done.values());

  const steps = STEPS.map((s) => reports.get(s.name)!);
  const timingsMs: Record<string, number> = {};
  for (const s of steps) if (s.status !== 'not-checked') timingsMs[s.name] = s.ms;
  timingsMs.total = performance.now() - t0;
  const findings = steps.flatMap((s) => s.findings);
  const { ctx } = deps;
  const note = logonRightNote(findings, ctx.credential?.username ?? target.account, host);
  if (note) {
    // what the pass did not prove is about the RDP host's session: reported with the host's last step, first among the notes
    findings.unshift(note);
    emit('rdp-nla', [note]);
  }
  const account = target.account;
  const reportTarget = {
    host, port,
    ...(ctx.credential?.username ?? account ? { account: ctx.credential?.username ?? account } : {}),
    ...(ctx.credential?.source ? { credentialSource: ctx.credential.source } : {}),
    ...(ctx.credential?.changedAt ? { changedAt: ctx.credential.changedAt.toISOString() } : {}),
  };
  let verdict = diagnose(findings, timingsMs);
  if (verdict.ok && !findings.some((f) => PROOF.has(f.code))) {
    // nothing failed, but nothing proved the credential either: inconclusive, never "will work"
    verdict = diagnose([...findings, notProven(steps, reportTarget, !!ctx.credential, !!options.directory, !!options.kerberos)], timingsMs);
  }
  for (const s of steps.filter((x) => x.status === 'not-checked')) {
    const f = finding('preflight', 'not-checked', 'info', `${s.name}: not checked — ${s.note}.`, { step: s.name });
    verdict.findings.push(f);
    emit(s.name, [f]);
  }
  return { ok: verdict.ok, verdict, headline: headline(verdict, reportTarget, steps), target: reportTarget, steps, timingsMs };
}
