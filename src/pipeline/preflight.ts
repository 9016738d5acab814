/**
 * The pipeline: will this credential work on that host? One deadline over all steps; independent
 * steps run in parallel:
 *
 *   provider ──┬──────────────► ldap-bind (lockout-safe: waits for account-state) ─┐
 *              ├──────────────► rdp-nla (waits for rdp-endpoint)                    ├─► diagnose → verdict
 *   account-state ─────────────► cache (needs pwdLastSet / changedAt) ──────────────┤
 *   rdp-endpoint ───────────────────────────────────────────────────────────────────┘
 *
 * A step that cannot run (no directory configured, no cache source, a capability missing) is
 * reported as "not checked" — never as passing. A step that throws decides the verdict by its
 * error code (never info); a step still running at the deadline is reported as timed out (the
 * deadline is raced, so a provider that ignores its AbortSignal cannot hold the verdict). When
 * nothing proved the credential (no ldap.ok, no rdp.nla-ok) the verdict is
 * `credential.not-checked` (ok: false, exit 2), never "will work".
 */
import type { Finding, Verdict } from '../findings/finding.js';
import { finding } from '../findings/finding.js';
import type { CredentialRef } from '../core/credential.js';
import { parseAccountName } from '../core/credential.js';
import { CredgateError, ConfigError } from '../core/errors.js';
import { parseHostPort } from '../core/target.js';
import { withSignal } from '../core/abort.js';
import type { Secret } from '../core/secret.js';
import type { Provider } from '../providers/types.js';
import { diagnose, isFailure } from '../findings/diagnose.js';
import { verifyMany, type AccountLine, type VerifyManyOptions, type VerifyResult } from '../bulk/verify-many.js';
import { readAccountState, stopsBind } from '../checks/account-state.js';
import { validateLdapBind } from '../checks/ldap-bind.js';
import type { LdapTransportOptions } from '../protocols/ldap/transport.js';
import { PREFLIGHT_STEPS, type StepDeps } from './steps.js';

export type StepName = 'provider' | 'account-state' | 'ldap-bind' | 'rdp-endpoint' | 'rdp-nla' | 'cache';
export type StepStatus = 'passed' | 'failed' | 'not-checked' | 'error';

export interface StepReport {
  name: StepName;
  status: StepStatus;
  findings: Finding[];
  ms: number;
  /** When the step started, in ms from the start of the preflight (0 for a step that never ran). */
  startMs: number;
  /** Why a step did not run, or the fault that stopped it. */
  note?: string;
}

export interface PreflightTarget {
  /** RDP host: `web01.corp.example`, `web01:3390`, `[2001:db8::1]:3389`. */
  host: string;
  /** Target account, in any form (UPN, DOMAIN\user, DN, bare). Optional when the provider names it. */
  account?: string;
  /** The credential: a provider reference, or the password itself. */
  provider?: string | Provider;
  ref?: CredentialRef;
  password?: Secret;
}

export interface DirectoryConfig extends Omit<LdapTransportOptions, 'signal' | 'timeoutMs'> {
  defaultDomain?: string;
  /** Read-only service account: account state, lockout guard, pwdLastSet for the cache rule. */
  service?: { username: string; password: Secret };
  /**
   * Accept an unknown lockout threshold (the service account cannot read it, or badPwdCount):
   * a `ldap.lockout-threshold-unknown` warning instead of `ldap.lockout-risk`, and the bind may
   * go ahead. Default false. Applies to check() and verify().
   */
  allowUnknownThreshold?: boolean;
}

export interface PreflightOptions {
  /** Named providers a target can refer to. */
  providers?: Record<string, Provider>;
  directory?: DirectoryConfig;
  /** The RDP host checks. `probe: false` skips them (reported as not checked). */
  rdp?: { port?: number; caFile?: string | string[]; expiringDays?: number; nla?: boolean; domain?: string; probe?: boolean };
  cache?: StepDeps['cacheConfig'];
  /**
   * One deadline over the whole preflight. Default 20,000 ms. Every step is raced against it: a
   * step still running then is reported as timed out, one not started yet as not checked.
   */
  deadlineMs?: number;
  /** Per network step. Default: the deadline. */
  stepTimeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Called for every finding as it is produced (the vendor's own logging / audit), and for the
   * final `not-checked` finding of each step that did not run. A hook that throws (or returns a
   * rejected promise) is ignored: it never breaks the check.
   */
  onFinding?: (f: Finding, step: StepName) => void;
}

export interface PreflightReport {
  ok: boolean;
  verdict: Verdict;
  /** One sentence an RDP admin can act on. */
  headline: string;
  target: { host: string; port: number; account?: string; credentialSource?: string; changedAt?: string };
  steps: StepReport[];
  timingsMs: Record<string, number>;
}

export { parseHostPort };

type Ctx = StepDeps['ctx'];

/** The codes that prove the credential itself; without one of them the verdict is never ok. */
const PROOF = new Set(['ldap.ok', 'rdp.nla-ok']);

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
    return await runPreflight(target, options, { t0, host, port, deadlineMs, overall, deadline: deadlineCtl.signal });
  } finally {
    clearTimeout(timer);
  }
}

interface RunCtx {
  t0: number;
  host: string;
  port: number;
  deadlineMs: number;
  /** The caller's signal and the deadline. */
  overall: AbortSignal;
  /** The deadline alone (tells a timeout from a caller's abort). */
  deadline: AbortSignal;
}

async function runPreflight(target: PreflightTarget, options: PreflightOptions, rc: RunCtx): Promise<PreflightReport> {
  const { t0, host, port, deadlineMs, overall } = rc;
  const stepTimeoutMs = options.stepTimeoutMs ?? deadlineMs;
  const reports = new Map<StepName, StepReport>();
  const ctx: Ctx = {};
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
  const stopped = (name: StepName) => rc.deadline.aborted
    ? new CredgateError(`The ${name} step did not finish within the preflight deadline of ${deadlineMs} ms.`, { code: 'TIMEOUT', details: { deadlineMs } })
    : new CredgateError(`The ${name} step was aborted by the caller.`, { code: 'ABORTED' });
  const run = async (name: StepName, fn: () => Promise<{ findings: Finding[]; note?: string } | { notChecked: string }>): Promise<StepReport> => {
    const s0 = performance.now();
    const startMs = s0 - t0;
    let rep: StepReport;
    if (rc.deadline.aborted) {
      rep = { name, status: 'not-checked', findings: [], ms: 0, startMs, note: `not started: the preflight deadline of ${deadlineMs} ms had passed` };
    } else {
      try {
        if (overall.aborted) throw stopped(name);
        const r = await withSignal(fn(), overall, undefined, () => stopped(name));
        if ('notChecked' in r) {
          rep = { name, status: 'not-checked', findings: [], ms: performance.now() - s0, startMs, note: r.notChecked };
        } else {
          const bad = r.findings.some(isFailure);
          rep = { name, status: bad ? 'failed' : 'passed', findings: r.findings, ms: performance.now() - s0, startMs, ...(r.note ? { note: r.note } : {}) };
        }
      } catch (e) {
        const err = e instanceof CredgateError ? e : new CredgateError(`The ${name} step failed: ${e instanceof Error ? e.message : String(e)}`, { code: 'INTERNAL', cause: e });
        rep = { name, status: 'error', findings: [faultFinding(name, err)], ms: performance.now() - s0, startMs, note: err.code === 'TIMEOUT' ? `timed out: ${err.message}` : err.message };
      }
    }
    reports.set(name, rep);
    emit(name, rep.findings);
    return rep;
  };

  const account = target.account;
  const dir = options.directory;
  const deps: StepDeps = {
    host, port, overall, stepTimeoutMs, options, target, ctx,
  };

  // provider (or the given password)
  const providerStep = run('provider', async () => {
    if (target.password) {
      if (!account) throw new ConfigError('A target with a password needs the account name too.', { code: 'CONFIG_INVALID' });
      ctx.credential = { username: account, secret: target.password, source: 'caller' };
      return { notChecked: 'the caller supplied the password; no vault was asked' };
    }
    const p = typeof target.provider === 'string' ? options.providers?.[target.provider] : target.provider;
    if (!p) {
      if (target.provider) throw new ConfigError(`No provider named "${String(target.provider)}" is configured; configured: ${Object.keys(options.providers ?? {}).join(', ') || 'none'}.`, { code: 'CONFIG_INVALID' });
      return { notChecked: 'no provider and no password given: the credential itself cannot be checked' };
    }
    if (target.ref === undefined) throw new ConfigError(`Provider ${p.name} needs a reference (--ref).`, { code: 'CONFIG_INVALID' });
    const c = await p.resolve(target.ref, { signal: overall });
    // answered after the deadline (a provider that ignored the signal): the step already timed out
    if (overall.aborted) throw stopped('provider');
    ctx.credential = { ...c, username: account ?? c.username };
    return {
      findings: [finding('provider', 'provider.ok', 'ok', `${p.name} returned the credential for ${ctx.credential.username}.`, {
        source: c.source, ...(c.changedAt ? { changedAt: c.changedAt.toISOString() } : {}),
      })],
    };
  });

  // account state (with the service account), in parallel with the provider
  const stateStep = run('account-state', async () => {
    if (!dir) return { notChecked: 'no directory configured' };
    if (!dir.service) return { notChecked: 'no read-only service account configured (lockout guard off)' };
    const name = account ?? (await providerStep, ctx.credential?.username);
    if (!name) return { notChecked: 'the account name is not known' };
    const r = await readAccountState({
      ...dir, serviceUser: dir.service.username, servicePassword: dir.service.password, target: name,
      timeoutMs: stepTimeoutMs, signal: overall,
    });
    if (r.state) ctx.state = r.state;
    return { findings: r.findings };
  }).then((sr) => {
    // lockout guard: with a service account configured, the target is tried (bind, NLA) only once
    // its state has been read, as checkCredential does
    if (dir?.service && sr.status !== 'not-checked' && !ctx.state && !sr.findings.some((f) => f.code === 'ldap.user-not-found')) {
      const why = sr.findings.find((f) => f.severity === 'error')?.code ?? 'no state returned';
      ctx.guardFailed = `the account state could not be read (${why}), so the lockout guard could not run`;
    }
    return sr;
  });

  const bindStep = (async () => {
    const [pr, sr] = await Promise.all([providerStep, stateStep]);
    const rep = await run('ldap-bind', async () => {
      if (!dir) return { notChecked: 'no directory configured' };
      if (!ctx.credential) return { notChecked: pr.status === 'error' ? 'the provider failed' : 'no credential to check' };
      if (ctx.guardFailed) return { notChecked: `not attempted: ${ctx.guardFailed}; with a service account configured credgate binds as the target only after reading its state` };
      const stop = sr.findings.find(stopsBind);
      if (stop) return { notChecked: `not attempted: ${stop.code} (binding could only add a bad-password count)` };
      const f = await validateLdapBind({
        ...dir, username: ctx.credential.username, password: ctx.credential.secret,
        ...(dir.defaultDomain ? { defaultDomain: dir.defaultDomain } : ctx.credential.domain ? { defaultDomain: ctx.credential.domain } : {}),
        timeoutMs: stepTimeoutMs, signal: overall,
      });
      const rejected = f.find((x) => x.severity === 'error' && x.code.startsWith('ldap.'));
      if (rejected) ctx.bindRejected = rejected.code;
      return { findings: f };
    });
    // what NLA waits for: 'ldap.ok' only when the directory accepted the credential; a lost answer
    // (net.connection-lost / net.timeout after the bind was written), a skipped or failed bind is not
    if (rep.status === 'passed' && rep.findings.some((x) => x.code === 'ldap.ok')) ctx.bindOutcome = 'ldap.ok';
    else ctx.bindOutcome = rep.findings.find(isFailure)?.code ?? (rep.note ? `LDAP bind ${rep.status}: ${rep.note}` : `LDAP bind ${rep.status}`);
    return rep;
  })();

  const extra = PREFLIGHT_STEPS.map((s) => (async () => {
    await Promise.all(s.after.map((n) => (n === 'provider' ? providerStep : n === 'account-state' ? stateStep : n === 'ldap-bind' ? bindStep : Promise.resolve())));
    for (const dep of s.afterExtra ?? []) await extraDone.get(dep);
    return run(s.name, () => s.run(deps));
  })());
  const extraDone = new Map<StepName, Promise<StepReport>>(PREFLIGHT_STEPS.map((s, i) => [s.name, extra[i]!]));

  await Promise.all([providerStep, stateStep, bindStep, ...extra]);
  const order: StepName[] = ['provider', 'account-state', 'ldap-bind', 'rdp-endpoint', 'rdp-nla', 'cache'];
  const steps = order.map((n) => reports.get(n) ?? { name: n, status: 'not-checked' as const, findings: [], ms: 0, startMs: 0, note: 'not available in this build' });
  const timingsMs: Record<string, number> = {};
  for (const s of steps) if (s.status !== 'not-checked') timingsMs[s.name] = s.ms;
  timingsMs.total = performance.now() - t0;
  const findings = steps.flatMap((s) => s.findings);
  const reportTarget = {
    host, port,
    ...(ctx.credential?.username ?? account ? { account: ctx.credential?.username ?? account } : {}),
    ...(ctx.credential?.source ? { credentialSource: ctx.credential.source } : {}),
    ...(ctx.credential?.changedAt ? { changedAt: ctx.credential.changedAt.toISOString() } : {}),
  };
  let verdict = diagnose(findings, timingsMs);
  if (verdict.ok && !findings.some((f) => PROOF.has(f.code))) {
    // nothing failed, but nothing proved the credential either: inconclusive, never "will work"
    verdict = diagnose([...findings, notProven(steps, reportTarget, !!ctx.credential, !!dir)], timingsMs);
  }
  for (const s of steps.filter((x) => x.status === 'not-checked')) {
    const f = finding('preflight', 'not-checked', 'info', `${s.name}: not checked — ${s.note}.`, { step: s.name });
    verdict.findings.push(f);
    emit(s.name, [f]);
  }
  return { ok: verdict.ok, verdict, headline: headline(verdict, reportTarget, steps), target: reportTarget, steps, timingsMs };
}


/** The inconclusive verdict's finding: what ran, what did not, and what to add. */
function notProven(steps: StepReport[], t: PreflightReport['target'], haveCredential: boolean, haveDirectory: boolean): Finding {
  const note = (n: StepName) => steps.find((s) => s.name === n)?.note ?? 'it did not run';
  const acct = t.account ?? 'the account';
  if (!haveCredential) {
    return finding('preflight', 'credential.not-checked', 'warning',
      `Cannot tell whether a credential will work on ${t.host}: no credential was given, so only the host side was checked.`,
      { provider: note('provider') },
      [{ action: 'Give the credential (--provider with --ref, --password-env or --password-stdin; SDK: provider + ref, or password), or use `credgate probe` to check the host alone.', owner: 'caller' }]);
  }
  const fixes = [];
  if (!haveDirectory) fixes.push({ action: 'Add the directory (--ldap <url> with --ca-file; SDK: directory) so one bind checks the password.', owner: 'caller' as const });
  else fixes.push({ action: `Let the LDAP bind run (it did not: ${note('ldap-bind')}).`, owner: 'caller' as const });
  fixes.push({ action: 'Or allow the NLA check (no --no-nla; SDK: rdp.nla / rdp.probe not false) against a host that offers NLA, so the RDP host itself checks the credential.', owner: 'caller' as const });
  return finding('preflight', 'credential.not-checked', 'warning',
    `Cannot tell whether ${acct} can log on to ${t.host}: nothing checked the password (LDAP bind: ${note('ldap-bind')}; NLA: ${note('rdp-nla')}).`,
    { ldapBind: note('ldap-bind'), rdpNla: note('rdp-nla') }, fixes);
}

/**
 * A step's fault (a CredgateError) as the finding that decides the verdict by its code:
 * PROVIDER_* → provider (exit 5); TLS / connection / timeout / protocol → unreachable (exit 4);
 * configuration → usage (exit 2); anything else → internal (exit 70). Never informational.
 */
function faultFinding(step: StepName, e: CredgateError): Finding {
  const ev = { errorCode: e.code, ...(e.details ?? {}) };
  if (e.code.startsWith('PROVIDER_') || (step === 'provider' && e.code === 'TIMEOUT')) {
    // a vault that does not answer in time is the vault's fault, not the RDP host's
    const code = e.code === 'PROVIDER_NOT_FOUND' ? 'provider.not-found' : e.code === 'PROVIDER_AUTH_FAILED' ? 'provider.auth-failed'
      : e.code === 'PROVIDER_UNAVAILABLE' || e.code === 'PROVIDER_RATE_LIMITED' || e.code === 'TIMEOUT' ? 'provider.unavailable' : 'provider.error';
    return finding(step, code, 'error', e.message, ev, [
      { action: 'Fix the vault reference or credgate\'s access to the vault, then run the check again.', owner: 'vault' },
    ]);
  }
  switch (e.code) {
    case 'TIMEOUT':
      return finding(step, 'net.timeout', 'error', `${step}: ${e.message}`, ev, [{ action: 'Raise the deadline or check the server that did not answer.', owner: 'network' }]);
    case 'ABORTED':
      return finding(step, 'step.aborted', 'error', `${step}: ${e.message}`, ev, [{ action: 'Run the check again without aborting it.', owner: 'caller' }]);
    case 'CONFIG_INVALID':
    case 'USAGE':
    case 'INPUT_INVALID':
      return finding(step, 'config.invalid', 'error', e.message, ev, [{ action: 'Fix the configuration named above.', owner: 'caller' }]);
    case 'TLS_FAILED':
      return finding(step, 'step.tls-failed', 'error', `${step}: ${e.message}`, ev, [
        { action: 'Check the certificate the server presents against the CA you gave (--rdp-ca-file / --ca-file); an identity proof that does not match the certificate can mean a TLS-intercepting proxy.', owner: 'network' },
      ]);
    case 'CONNECTION_FAILED':
      return finding(step, 'step.connection-failed', 'error', `${step}: ${e.message}`, ev, [{ action: 'Check that the server is up and reachable from here.', owner: 'network' }]);
    case 'PROTOCOL_ERROR':
      return finding(step, 'step.protocol-error', 'error', `${step}: ${e.message}`, ev, [{ action: 'Check that the port is the real service (not a proxy or another protocol) and the server\'s logs.', owner: 'network' }]);
    default:
      return finding(step, 'step.error', 'error', `${step} could not run: ${e.message}`, ev, [{ action: 'See the error above; report it if it persists.', owner: 'caller' }]);
  }
}

/** One sentence: the cause and the fix, in the words of the 0x904/0x7 story. */
export function headline(v: Verdict, t: PreflightReport['target'], steps: StepReport[]): string {
  const acct = t.account ?? 'the account';
  const fromVault = !!t.credentialSource && t.credentialSource !== 'caller' && !t.credentialSource.startsWith('stdin') && !t.credentialSource.startsWith('env');
  const decider = v.findings.find((f) => f.code === v.code);
  const fix = v.remediation[0]?.action;
  if (v.ok) {
    const nc = steps.filter((s) => s.status === 'not-checked').map((s) => s.name);
    return `${acct} can log on to ${t.host}: ${v.cause}${nc.length ? ` (not checked: ${nc.join(', ')})` : ''}`;
  }
  switch (v.code) {
    case 'ldap.invalid-credentials':
    case 'rdp.logon-failure': {
      const sub = decider?.evidence.adSubCode ? ` (AD ${String(decider.evidence.adSubCode)})` : '';
      return fromVault
        ? `The vault's password for ${acct} is wrong${sub} — rotate or reconcile it in the vault; do not purge the client cache.`
        : `The password given for ${acct} is wrong${sub} — get the current one from the vault.`;
    }
    case 'cache.stale-password': {
      const target = String(decider?.evidence.target ?? `TERMSRV/${t.host}`);
      const proven = steps.some((s) => (s.name === 'ldap-bind' || s.name === 'rdp-nla') && s.status === 'passed');
      const whose = fromVault ? `The vault's password for ${acct}` : `The password given for ${acct}`;
      return `${proven ? `${whose} is right; t` : 'T'}he client caches an older one for ${target}, written before the password last changed — purge ${target}.`;
    }
    default:
      return `${v.cause.replace(/\.$/, '')}${fix ? ` — ${fix.charAt(0).toLowerCase()}${fix.slice(1)}` : '.'}`;
  }
}

/**
 * For many targets with one configuration: `createPreflight(config)` gives `check(target)` (the
 * whole pipeline), `verify(accounts)` (bulk directory check with the same directory settings, see
 * verifyMany) and `dispose()` (closes open verify runs, then disposes the providers once).
 */
export function createPreflight(options: PreflightOptions) {
  let disposed = false;
  const open = new Set<AsyncIterableIterator<VerifyResult> & AsyncDisposable>();
  const gone = () => new CredgateError('This preflight was disposed; create a new one.', { code: 'USAGE' });
  return {
    check(target: PreflightTarget, extra: Partial<PreflightOptions> = {}): Promise<PreflightReport> {
      if (disposed) return Promise.reject(gone());
      return preflight(target, { ...options, ...extra });
    },
    /**
     * verifyMany over the preflight's directory (URLs, TLS, service account for the lockout guard,
     * defaultDomain), the per-step timeout and signal; `extra` overrides any of them (concurrency,
     * rate, ...). Throws CONFIG_INVALID at once when there is no directory to verify against.
     */
    verify(accounts: AsyncIterable<AccountLine> | Iterable<AccountLine>, extra: Partial<VerifyManyOptions> = {}): AsyncIterableIterator<VerifyResult> & AsyncDisposable {
      if (disposed) throw gone();
      const dir = options.directory;
      if (!dir && extra.urls === undefined) {
        throw new ConfigError('verify needs a directory: createPreflight({ directory: { urls, ... } }), or verify(accounts, { urls }).', { code: 'CONFIG_INVALID', details: { option: 'directory' } });
      }
      const inner = verifyMany(accounts, {
        ...(dir ?? {}),
        ...(options.stepTimeoutMs !== undefined ? { timeoutMs: options.stepTimeoutMs } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...extra,
      } as VerifyManyOptions);
      open.add(inner);
      const forget = () => open.delete(inner);
      const it: AsyncIterableIterator<VerifyResult> & AsyncDisposable = {
        async next() {
          try {
            const r = await inner.next();
            if (r.done) forget();
            return r;
          } catch (e) {
            forget();
            throw e;
          }
        },
        async return() {
          forget();
          return inner.return ? inner.return() : { value: undefined, done: true };
        },
        async throw(e?: unknown) {
          forget();
          if (inner.throw) return inner.throw(e);
          throw e;
        },
        [Symbol.asyncIterator]() {
          return it;
        },
        async [Symbol.asyncDispose]() {
          forget();
          await inner[Symbol.asyncDispose]();
        },
      };
      return it;
    },
    async dispose(): Promise<void> {
      if (disposed) return;
      disposed = true;
      for (const v of [...open]) await v.return?.().catch(() => undefined);
      open.clear();
      for (const p of Object.values(options.providers ?? {})) await p.dispose?.();
    },
    async [Symbol.asyncDispose](): Promise<void> {
      await this.dispose();
    },
  };
}

export { parseAccountName };
