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
 * reported as "not checked" — never as passing.
 */
import type { Finding, Verdict } from './core/findings.js';
import { finding } from './core/findings.js';
import type { CredentialRef, FetchedCredential } from './core/credential.js';
import { parseAccountName } from './core/credential.js';
import { CredgateError, ConfigError, abortError } from './core/errors.js';
import { parseHostPort } from './core/host.js';
import type { Secret } from './core/secret.js';
import type { Provider } from './providers/types.js';
import { diagnose, causeOf } from './diagnose.js';
import { readAccountState, type AccountState } from './validators/account-state.js';
import { validateLdapBind } from './validators/ldap-bind.js';
import type { LdapTransportOptions } from './validators/ldap-common.js';
import { PREFLIGHT_STEPS, type StepDeps } from './preflight-steps.js';

export type StepName = 'provider' | 'account-state' | 'ldap-bind' | 'rdp-endpoint' | 'rdp-nla' | 'cache';
export type StepStatus = 'passed' | 'failed' | 'not-checked' | 'error';

export interface StepReport {
  name: StepName;
  status: StepStatus;
  findings: Finding[];
  ms: number;
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
}

export interface PreflightOptions {
  /** Named providers a target can refer to. */
  providers?: Record<string, Provider>;
  directory?: DirectoryConfig;
  /** The RDP host checks. `probe: false` skips them (reported as not checked). */
  rdp?: { port?: number; caFile?: string | string[]; expiringDays?: number; nla?: boolean; domain?: string; probe?: boolean };
  cache?: StepDeps['cacheConfig'];
  /** One deadline over the whole preflight. Default 20,000 ms. */
  deadlineMs?: number;
  /** Per network step. Default: the deadline. */
  stepTimeoutMs?: number;
  signal?: AbortSignal;
  /** Called for every finding as it is produced (the vendor's own logging / audit). */
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

interface Ctx {
  credential?: FetchedCredential;
  state?: AccountState;
  reachableRdp?: boolean;
  nlaOffered?: boolean;
  presentedThumbprints?: string[];
  hostAliases?: string[];
  bindRejected?: string;
}

export async function preflight(target: PreflightTarget, options: PreflightOptions = {}): Promise<PreflightReport> {
  const t0 = performance.now();
  const { host, port } = parseHostPort(target.host, options.rdp?.port ?? 3389);
  const deadlineMs = options.deadlineMs ?? 20_000;
  const overall = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(deadlineMs)]) : AbortSignal.timeout(deadlineMs);
  const stepTimeoutMs = options.stepTimeoutMs ?? deadlineMs;
  const reports = new Map<StepName, StepReport>();
  const ctx: Ctx = {};
  const emit = (step: StepName, fs: Finding[]) => {
    if (options.onFinding) for (const f of fs) {
      try {
        options.onFinding(f, step);
      } catch {
        // a vendor's hook must not break the check
      }
    }
  };
  const run = async (name: StepName, fn: () => Promise<{ findings: Finding[]; note?: string } | { notChecked: string }>): Promise<StepReport> => {
    const s0 = performance.now();
    let rep: StepReport;
    try {
      if (overall.aborted) throw abortError(overall, `The ${name} step`);
      const r = await fn();
      if ('notChecked' in r) {
        rep = { name, status: 'not-checked', findings: [], ms: performance.now() - s0, note: r.notChecked };
      } else {
        const bad = r.findings.some((f) => f.severity === 'error' && causeOf(f.code).category !== 'info');
        rep = { name, status: bad ? 'failed' : 'passed', findings: r.findings, ms: performance.now() - s0, ...(r.note ? { note: r.note } : {}) };
      }
    } catch (e) {
      const err = e instanceof CredgateError ? e : new CredgateError(`The ${name} step failed: ${e instanceof Error ? e.message : String(e)}`, { code: 'INTERNAL', cause: e });
      rep = { name, status: 'error', findings: [faultFinding(name, err)], ms: performance.now() - s0, note: err.message };
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
  });

  const bindStep = (async () => {
    const [pr, sr] = await Promise.all([providerStep, stateStep]);
    return run('ldap-bind', async () => {
      if (!dir) return { notChecked: 'no directory configured' };
      if (!ctx.credential) return { notChecked: pr.status === 'error' ? 'the provider failed' : 'no credential to check' };
      const stop = sr.findings.find((f) => ['ldap.lockout-risk', 'ldap.account-locked', 'ldap.user-not-found'].includes(f.code) || f.code.startsWith('net.') || f.code.startsWith('tls.'));
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
  })();

  const extra = PREFLIGHT_STEPS.map((s) => (async () => {
    await Promise.all(s.after.map((n) => (n === 'provider' ? providerStep : n === 'account-state' ? stateStep : n === 'ldap-bind' ? bindStep : Promise.resolve())));
    for (const dep of s.afterExtra ?? []) await extraDone.get(dep);
    return run(s.name, () => s.run(deps));
  })());
  const extraDone = new Map<StepName, Promise<StepReport>>(PREFLIGHT_STEPS.map((s, i) => [s.name, extra[i]!]));

  await Promise.all([providerStep, stateStep, bindStep, ...extra]);
  const order: StepName[] = ['provider', 'account-state', 'ldap-bind', 'rdp-endpoint', 'rdp-nla', 'cache'];
  const steps = order.map((n) => reports.get(n) ?? { name: n, status: 'not-checked' as const, findings: [], ms: 0, note: 'not available in this build' });
  const timingsMs: Record<string, number> = {};
  for (const s of steps) if (s.status !== 'not-checked') timingsMs[s.name] = s.ms;
  timingsMs.total = performance.now() - t0;
  const findings = steps.flatMap((s) => s.findings);
  const verdict = diagnose(findings, timingsMs);
  const notChecked = steps.filter((s) => s.status === 'not-checked');
  for (const s of notChecked) {
    verdict.findings.push(finding('preflight', 'not-checked', 'info', `${s.name}: not checked — ${s.note}.`, { step: s.name }));
  }
  const reportTarget = {
    host, port,
    ...(ctx.credential?.username ?? account ? { account: ctx.credential?.username ?? account } : {}),
    ...(ctx.credential?.source ? { credentialSource: ctx.credential.source } : {}),
    ...(ctx.credential?.changedAt ? { changedAt: ctx.credential.changedAt.toISOString() } : {}),
  };
  return { ok: verdict.ok, verdict, headline: headline(verdict, reportTarget, steps), target: reportTarget, steps, timingsMs };
}

function faultFinding(step: StepName, e: CredgateError): Finding {
  if (e.code.startsWith('PROVIDER_')) {
    const code = e.code === 'PROVIDER_NOT_FOUND' ? 'provider.not-found' : e.code === 'PROVIDER_AUTH_FAILED' ? 'provider.auth-failed' : e.code === 'PROVIDER_UNAVAILABLE' || e.code === 'PROVIDER_RATE_LIMITED' ? 'provider.unavailable' : 'provider.error';
    return finding(step, code, 'error', e.message, { errorCode: e.code, ...(e.details ?? {}) }, [
      { action: 'Fix the vault reference or credgate\'s access to the vault, then run the check again.', owner: 'vault' },
    ]);
  }
  if (e.code === 'TIMEOUT' || e.code === 'ABORTED') {
    return finding(step, 'net.timeout', 'error', `${step}: ${e.message}`, { errorCode: e.code }, [{ action: 'Raise the deadline or check the server that did not answer.', owner: 'network' }]);
  }
  if (e.code === 'CONFIG_INVALID' || e.code === 'USAGE') {
    return finding(step, 'config.invalid', 'error', e.message, { errorCode: e.code }, [{ action: 'Fix the configuration named above.', owner: 'caller' }]);
  }
  return finding(step, 'step.error', 'error', `${step} could not run: ${e.message}`, { errorCode: e.code }, [{ action: 'See the error above.', owner: 'caller' }]);
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
      const bindOk = steps.find((s) => s.name === 'ldap-bind')?.status === 'passed';
      return `${bindOk ? `The vault's password for ${acct} is right; t` : 'T'}he client caches an older one for ${target}, written before the password last changed — purge ${target}.`;
    }
    default:
      return `${v.cause.replace(/\.$/, '')}${fix ? ` — ${fix.charAt(0).toLowerCase()}${fix.slice(1)}` : '.'}`;
  }
}

/** For many targets with one configuration: `createPreflight(config).check(target)`. */
export function createPreflight(options: PreflightOptions) {
  let disposed = false;
  return {
    check(target: PreflightTarget, extra: Partial<PreflightOptions> = {}): Promise<PreflightReport> {
      if (disposed) return Promise.reject(new CredgateError('This preflight was disposed; create a new one.', { code: 'USAGE' }));
      return preflight(target, { ...options, ...extra });
    },
    async dispose(): Promise<void> {
      if (disposed) return;
      disposed = true;
      for (const p of Object.values(options.providers ?? {})) await p.dispose?.();
    },
    async [Symbol.asyncDispose](): Promise<void> {
      await this.dispose();
    },
  };
}

export { parseAccountName };
