/**
 * Verify many accounts against one directory, fast and without making any account worse.
 *
 * - A pool of persistent LDAPS (or StartTLS) connections, `concurrency` of them (default 8), each
 *   re-binding once per account: a TLS handshake per account costs ~50× a re-bind here.
 * - A rate limit in binds per second, shared by the pool. After a stop (signal aborted), a bind
 *   still waiting on it (or on a connection) is not sent: only binds already sent finish.
 * - DC failover: the URLs are replicas of one directory, tried in order. A connection that dies
 *   makes its worker reconnect starting at the next URL. When a whole round of URLs refuses,
 *   every remaining account is reported with the connection finding (net.* / tls.*): none is
 *   lost, none is reported valid.
 * - Never a second bind for an account: a bind whose connection dies before the answer is
 *   reported as `net.connection-lost`, not retried. A bind is only re-sent on another connection
 *   when it provably never left (the socket was already closed).
 * - With a read-only service account, a lockout guard for every account: batched reads of the
 *   AD account-state attributes before binding, judged by account-state's `stateFindings`; an
 *   account one failure short of lockout, locked or unknown is not bound.
 * - Results stream out as soon as each account is answered (not in input order; each carries
 *   its `line`/`id`). Input is pulled only as fast as the pool works, so memory stays flat.
 *
 * Findings use the same codes as validateLdapBind (AD sub-codes, ppolicy).
 */
import type { Client, Entry } from 'ldapts';
import { ConfigError, CredgateError } from '../core/errors.js';
import { finding, type Finding, type Remediation } from '../findings/finding.js';
import { parseAccountName, type AccountName } from '../core/credential.js';
import { scrub, Secret as SecretCtor, type Secret } from '../core/secret.js';
import { causeOf, exitCodeFor, exitCodeForCategory, isFailure, rowFor, type Category } from '../findings/diagnose.js';
import { adSubCode, parseAdDiagnostic } from '../protocols/ldap/ad-codes.js';
import { ACCOUNT_STATE_ATTRS, NO_BIND, accountStateFrom, readThreshold, stateFindings, thresholdObject } from '../checks/account-state.js';
import {
  assertBindTransport, closeClient, connectionFinding, loadCa, newClient, parseLdapUrls, tlsOptionsFor,
  withSignal, deadline, type LdapTransportOptions, type ParsedUrl,
} from '../protocols/ldap/transport.js';
import { LdapWireConnection, WireConnectionError, type LdapResponse } from '../protocols/ldap/wire.js';
import type { PasswordPolicyResponse } from '../protocols/ldap/ppolicy.js';

/** One account to verify. */
export interface AccountLine {
  /** alice@corp.example, CORP\alice, a DN, or alice with `defaultDomain`. */
  username: string;
  password: Secret;
  /** The input line number, echoed in the result. */
  line?: number;
  /** The caller's own identifier, echoed in the result. */
  id?: string;
}

/** The answer for one account. */
export interface VerifyResult {
  line?: number;
  id?: string;
  /** The account as given. */
  account: string;
  /** True when the directory accepted the credential and nothing blocks its use. */
  ok: boolean;
  /** The deciding finding's code (ldap.ok, ldap.invalid-credentials, net.refused, ...). */
  code: string;
  category: Category;
  /** The exit code this account alone would give (src/findings/diagnose.ts). */
  exitCode: number;
  /** Whether credgate sent a bind as this account. */
  bound: boolean;
  /** The directory URL that answered (or was last tried). */
  url?: string;
  findings: Finding[];
  /** Wall time for this account, from taking it to its answer. */
  ms: number;
}

export interface VerifyManyOptions extends LdapTransportOptions {
  /** Persistent connections (= binds in flight) to the directory. Default 8. */
  concurrency?: number;
  /** At most this many binds per second over the whole pool. 0 / undefined = no limit. */
  rate?: number;
  /** Read-only service account: enables the lockout guard (batched account-state reads, AD). */
  service?: { username: string; password: Secret };
  defaultDomain?: string;
  /** Search base for the guard; default the directory's defaultNamingContext. */
  baseDn?: string;
  /** Send the ppolicy request control with each bind. Default true. */
  passwordPolicy?: boolean;
  /** Warn when a password expires within this many days. Default 14. */
  expiryWarningDays?: number;
  /** Accounts per guard read. Default 50. */
  guardBatchSize?: number;
  /**
   * Accept an unknown lockout threshold (the service account cannot read lockoutThreshold on the
   * domain object, the account's PSO, or its badPwdCount), as readAccountState does: default
   * false, such an account is `ldap.lockout-risk` and not bound; with true it is bound, with a
   * `ldap.lockout-threshold-unknown` warning.
   */
  allowUnknownThreshold?: boolean;
  /**
   * Aborting `signal` stops taking accounts from the input; binds already in flight finish (each
   * bounded by timeoutMs) and their results are still yielded; then the iteration ends. Accounts
   * taken but not yet sent (waiting on the rate limit or a connection) are not bound and get no
   * result.
   */
  signal?: AbortSignal;
}

const SOURCE = 'ldap-bind';
const GUARD_SOURCE = 'account-state';

// ---------------------------------------------------------------- findings (same codes as ldap-bind)

const R_INVALID: Remediation[] = [
  { action: 'Reconcile the password in the vault with the directory (rotate it from the vault, or set it and update the vault).', owner: 'vault' },
  { action: 'Check that the account name (DN / UPN / DOMAIN\\user) in the vault entry is right.', owner: 'vault' },
];
const R_LOCKED_PP: Remediation[] = [
  { action: 'Unlock the account (remove pwdAccountLockedTime) or wait for pwdLockoutDuration; find what sent the bad passwords first.', owner: 'directory' },
];
const R_EXPIRED_PP: Remediation[] = [{ action: 'Rotate the password from the vault (an administrator reset clears the expiry).', owner: 'vault' }];
const R_MUST_CHANGE_PP: Remediation[] = [{ action: 'Rotate the password from the vault (an administrator reset set "must change").', owner: 'vault' }];
const R_EXPIRING: Remediation[] = [{ action: 'Rotate the password from the vault before it expires.', owner: 'vault' }];
const R_GRACE: Remediation[] = [{ action: 'Rotate the password from the vault now, before the grace logins run out.', owner: 'vault' }];
const R_STRONG: Remediation[] = [{ action: 'Use ldaps:// (port 636) or --starttls; this is the directory working as intended.', owner: 'caller' }];
const R_BIND_ERROR: Remediation[] = [{ action: 'Read the server\'s diagnostic message above; check the directory\'s logs for this bind.', owner: 'directory' }];
const R_LOST: Remediation[] = [
  { action: 'Check the directory server\'s health and logs; rerun with the same --output to verify the remaining accounts (credgate does not resend a bind whose answer was lost).', owner: 'directory' },
];
const R_REPEAT: Remediation[] = [
  { action: 'Give each account once per run; check the earlier result for this account.', owner: 'caller' },
];
const R_INPUT: Remediation[] = [{ action: 'Fix the account line (a user name and a non-empty password are required).', owner: 'caller' }];

const OK_MESSAGE = 'The directory accepted the credential.';
/** A ppolicy response control with nothing in it (OpenLDAP sends one with every bind). */
const PP_RECEIVED: Readonly<PasswordPolicyResponse> = Object.freeze({ received: true });
const isEmptyPolicy = (pp: PasswordPolicyResponse) =>
  pp.error === undefined && pp.timeBeforeExpiration === undefined && pp.graceAuthNsRemaining === undefined && pp.errorName === undefined;

function answerFindings(r: LdapResponse, pw: string, warnDays: number, account: string): Finding[] {
  const pp = r.ppolicy;
  // the common case, kept allocation-light: accepted, no password policy news
  if (r.resultCode === 0 && (!pp || isEmptyPolicy(pp))) {
    const evidence: Record<string, unknown> = pp ? { resultCode: 0, passwordPolicy: PP_RECEIVED, account } : { resultCode: 0, account };
    return [{ code: 'ldap.ok', severity: 'ok', message: OK_MESSAGE, evidence, remediation: [], source: SOURCE }];
  }
  const out = answerFindingsSlow(r, pw, warnDays);
  if (out[0]) out[0].evidence.account = account;
  return out;
}

function answerFindingsSlow(r: LdapResponse, pw: string, warnDays: number): Finding[] {
  const pp = r.ppolicy;
  if (r.resultCode === 0) return successFindings(pp, warnDays);
  const diag = r.diagnosticMessage.length ? scrub(r.diagnosticMessage, [pw]) : '';
  if (r.resultCode === 49) return [rejectedFinding(diag, pp)];
  if (r.resultCode === 8) {
    return [finding(SOURCE, 'ldap.strong-auth-required', 'error', 'The directory refuses simple binds without transport encryption (LDAP signing / channel binding policy).', {
      resultCode: 8, diagnosticMessage: diag,
    }, R_STRONG)];
  }
  return [finding(SOURCE, 'ldap.bind-error', 'error', `The directory answered the bind with LDAP result ${r.resultCode}.`, {
    resultCode: r.resultCode, diagnosticMessage: diag,
  }, R_BIND_ERROR)];
}

function successFindings(pp: PasswordPolicyResponse | undefined, warnDays: number): Finding[] {
  const ev: Record<string, unknown> = { resultCode: 0 };
  if (pp?.received) ev.passwordPolicy = { ...pp };
  if (pp?.error === 2) {
    return [finding(SOURCE, 'ldap.password-must-change', 'error', 'The password was accepted, but the directory requires it to be changed before any other operation (ppolicy changeAfterReset).', ev, R_MUST_CHANGE_PP)];
  }
  const out = [finding(SOURCE, 'ldap.ok', 'ok', OK_MESSAGE, ev)];
  if (pp?.timeBeforeExpiration !== undefined && pp.timeBeforeExpiration <= warnDays * 86400) {
    const days = Math.floor(pp.timeBeforeExpiration / 86400);
    out.push(finding(SOURCE, 'ldap.password-expiring', 'warning', `The password expires in ${days} day(s) (${pp.timeBeforeExpiration} s).`, { timeBeforeExpiration: pp.timeBeforeExpiration }, R_EXPIRING));
  }
  if (pp?.graceAuthNsRemaining !== undefined) {
    out.push(finding(SOURCE, 'ldap.grace-logins', 'warning', `The password has expired; the bind used a grace login and ${pp.graceAuthNsRemaining} remain.`, { graceAuthNsRemaining: pp.graceAuthNsRemaining }, R_GRACE));
  }
  return out;
}

function rejectedFinding(diag: string, pp: PasswordPolicyResponse | undefined): Finding {
  const ev: Record<string, unknown> = { resultCode: 49, diagnosticMessage: diag };
  const ad = diag ? parseAdDiagnostic(diag) : undefined;
  if (ad) {
    const row = adSubCode(ad.hex);
    ev.adSubCode = ad.hex;
    if (ad.dsid) ev.dsid = ad.dsid;
    if (row) {
      ev.win32 = `${row.win32Name} (${row.win32})`;
      ev.ntstatus = `${row.ntstatusName} (0x${row.ntstatus.toString(16).toUpperCase()})`;
      return finding(SOURCE, row.finding, 'error', row.message, ev, row.remediation);
    }
    return finding(SOURCE, 'ldap.bind-error', 'error', `The directory rejected the bind with an unknown AD sub-code ${ad.hex}.`, ev, [
      { action: `Look up Win32 error 0x${ad.hex} and check the account in Active Directory.`, owner: 'directory' },
    ]);
  }
  if (pp?.received) {
    ev.passwordPolicy = { ...pp };
    if (pp.error === 1) return finding(SOURCE, 'ldap.account-locked', 'error', 'The account is locked (ppolicy accountLocked).', ev, R_LOCKED_PP);
    if (pp.error === 0) return finding(SOURCE, 'ldap.password-expired', 'error', 'The password has expired (ppolicy passwordExpired) and no grace logins remain.', ev, R_EXPIRED_PP);
  }
  return finding(SOURCE, 'ldap.invalid-credentials', 'error', 'The directory rejected the user name or password.', ev, R_INVALID);
}

/**
 * The deciding finding, as diagnose() picks it: the lowest-priority failure (isFailure / rowFor,
 * so an error whose code has no cause row is an internal failure, never ok).
 */
const DECIDED_OK = { ok: true, code: 'ldap.ok', category: 'ok' as Category, exitCode: 0 };

export function decideAccount(findings: readonly Finding[]): { ok: boolean; code: string; category: Category; exitCode: number } {
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

// ---------------------------------------------------------------- the lockout guard (AD account state)

function attr(e: Entry, a: string): string | undefined {
  const v = e[a];
  const x = Array.isArray(v) ? v[0] : v;
  if (x === undefined) return undefined;
  return Buffer.isBuffer(x) ? x.toString('utf8') : String(x);
}

function escapeFilter(v: string): string {
  return v.replace(/[\\*()\0]/g, (c) => '\\' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

const normDn = (dn: string) => dn.replace(/\s*,\s*/g, ',').replace(/\s*=\s*/g, '=').toLowerCase();

// ---------------------------------------------------------------- the run

interface Item {
  acct: AccountLine;
  name?: AccountName;
  /** What to send as the bind name. */
  bindName?: string;
  t0: number;
  /** Decided before any bind (bad input, guard): the findings, and no bind. */
  decided?: Finding[];
  /** Guard findings to add to the bind's answer. */
  state?: Finding[];
}

class RateLimiter {
  private nextAt = 0;
  constructor(private readonly perSecond: number) {}
  async take(signal?: AbortSignal): Promise<void> {
    if (!this.perSecond) return;
    const now = performance.now();
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + 1000 / this.perSecond;
    const wait = at - now;
    if (wait >= 1) await sleep(wait, signal);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

class BulkRun {
  private readonly urls: ParsedUrl[];
  private readonly ca: Array<string | Buffer> | undefined;
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly warnDays: number;
  private readonly ppolicy: boolean;
  private readonly rate: RateLimiter;
  private readonly rated: boolean;
  private readonly warnings: Finding[] = [];
  private readonly it: AsyncIterator<AccountLine> | Iterator<AccountLine>;
  private inputDone = false;
  private readonly prepared: Item[] = [];
  private filling: Promise<void> | undefined;
  private readonly batch: number;
  // failover
  private urlIndex = 0;
  private down: { findings: Finding[]; url: string } | undefined;
  // output
  private readonly out: VerifyResult[] = [];
  private readonly highWater: number;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducers: Array<() => void> = [];
  private fatal: unknown;
  private stopped = false;
  private readonly conns = new Set<LdapWireConnection>();
  /** Accounts bound right now (at most `concurrency`), so a duplicate line waits for the answer. */
  private readonly inflight = new Map<string, Array<() => void> | null>();
  /** Accounts whose bind was not accepted in this run (grows with failures only). */
  private readonly rejected = new Set<string>();
  /** Aborts connection attempts in progress when the run is disposed. */
  private readonly ac = new AbortController();
  // guard
  private svc: Client | undefined;
  private svcUrl: ParsedUrl | undefined;
  private baseDn: string | undefined;
  /** The domain object (defaultNamingContext), where the domain's lockout threshold lives. */
  private domainDn: string | undefined;
  /** Lockout thresholds read so far, by object DN (the domain, PSOs); undefined = unreadable. */
  private readonly thresholds = new Map<string, number | undefined>();

  constructor(input: AsyncIterable<AccountLine> | Iterable<AccountLine>, private readonly opts: VerifyManyOptions) {
    this.urls = parseLdapUrls(opts.urls);
    assertBindTransport(this.urls, opts);
    this.ca = loadCa(opts);
    const c = opts.concurrency ?? 8;
    if (!Number.isInteger(c) || c < 1 || c > 1024) {
      throw new ConfigError(`concurrency must be a whole number from 1 to 1024, got ${c}.`, { code: 'CONFIG_INVALID', details: { option: 'concurrency' } });
    }
    const rate = opts.rate ?? 0;
    if (!(rate >= 0) || !Number.isFinite(rate)) {
      throw new ConfigError(`rate must be a non-negative number of binds per second, got ${rate}.`, { code: 'CONFIG_INVALID', details: { option: 'rate' } });
    }
    this.concurrency = c;
    this.rate = new RateLimiter(rate);
    this.rated = rate > 0;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.warnDays = opts.expiryWarningDays ?? 14;
    this.ppolicy = opts.passwordPolicy !== false;
    this.batch = opts.service ? Math.max(1, Math.min(500, opts.guardBatchSize ?? 50)) : Math.max(16, c * 2);
    this.highWater = Math.max(64, c * 16);
    this.it = Symbol.asyncIterator in input
      ? (input as AsyncIterable<AccountLine>)[Symbol.asyncIterator]()
      : (input as Iterable<AccountLine>)[Symbol.iterator]();
    if (opts.insecureSkipTlsVerify) {
      this.warnings.push(finding(SOURCE, 'tls.verification-disabled', 'warning', 'TLS certificate verification was switched off for this run; the server was not authenticated.', {}, [
        { action: 'Pass the directory\'s CA with --ca-file instead of disabling verification.', owner: 'caller' },
      ]));
    }
    if (opts.allowPlainBind && !opts.starttls && this.urls.some((u) => u.scheme === 'ldap')) {
      this.warnings.push(finding(SOURCE, 'ldap.plain-bind', 'warning', 'The password was sent over plain LDAP without TLS, readable by anyone on the path.', {}, [
        { action: 'Use ldaps:// or --starttls.', owner: 'caller' },
      ]));
    }
  }

  private running = 0;

  /** Start the workers (once). */
  start(): void {
    this.running = this.concurrency;
    for (let i = 0; i < this.concurrency; i++) {
      this.worker()
        .catch((e: unknown) => {
          if (this.fatal === undefined) this.fatal = e;
          this.stopped = true;
        })
        .finally(() => {
          this.running--;
          this.wake();
        });
    }
  }

  /**
   * The next result: an already-settled promise when one is queued (no generator machinery per
   * account), else one that settles when a worker produces one or all are done.
   */
  pull(): Promise<IteratorResult<VerifyResult, undefined>> {
    const r = this.out.shift();
    if (r) {
      if (this.out.length < this.highWater / 2 && this.wakeProducers.length) this.releaseProducers();
      return Promise.resolve({ value: r, done: false });
    }
    if (this.fatal !== undefined) {
      const e = this.fatal;
      return this.dispose().then(() => Promise.reject(e));
    }
    if (this.running === 0) return this.dispose().then(() => ({ value: undefined, done: true }));
    return new Promise((resolve) => {
      this.wakeConsumer = () => {
        this.wakeConsumer = undefined;
        resolve(this.pull());
      };
    });
  }

  private wake(): void {
    this.wakeConsumer?.();
  }

  private releaseProducers(): void {
    const w = this.wakeProducers;
    this.wakeProducers = [];
    for (const f of w) f();
  }

  /** Queue a result; returns a promise only when the consumer is behind (backpressure). */
  private emit(item: Item, findings: Finding[], bound: boolean, url: string | undefined): Promise<void> | undefined {
    const all = this.warnings.length ? [...findings, ...this.warnings] : findings;
    const d = decideAccount(all);
    // one object shape for every result (fields the caller did not give stay undefined)
    const r: VerifyResult = {
      line: item.acct.line,
      id: item.acct.id,
      account: item.acct.username,
      ok: d.ok,
      code: d.code,
      category: d.category,
      exitCode: d.exitCode,
      bound,
      url,
      findings: all,
      ms: Math.round((performance.now() - item.t0) * 100) / 100,
    };
    this.out.push(r);
    this.wake();
    if (this.out.length >= this.highWater && !this.stopped) return new Promise<void>((res) => this.wakeProducers.push(res));
    return undefined;
  }

  // ---- input

  /** An item without awaiting, when one is prepared (the common case). */
  private takeNow(): Item | undefined {
    if (this.stopped || this.opts.signal?.aborted) return undefined;
    const item = this.prepared.shift();
    if (item && this.prepared.length < this.batch / 2 && !this.inputDone && !this.filling) this.startFill();
    return item;
  }

  private async next(): Promise<Item | undefined> {
    for (;;) {
      if (this.stopped || this.opts.signal?.aborted) return undefined;
      const item = this.prepared.shift();
      if (item) {
        if (this.prepared.length < this.batch / 2 && !this.inputDone && !this.filling) this.startFill();
        return item;
      }
      if (this.inputDone && !this.filling) return undefined;
      if (!this.filling) this.startFill();
      await this.filling;
    }
  }

  private startFill(): void {
    this.filling = this.fill().finally(() => {
      this.filling = undefined;
    });
  }

  private async fill(): Promise<void> {
    const raw: Item[] = [];
    while (raw.length < this.batch && !this.inputDone) {
      if (this.opts.signal?.aborted) return;
      const p = this.it.next();
      // a plain iterable is read without a promise per account
      const n = 'then' in p ? await p : p;
      if (n.done) {
        this.inputDone = true;
        break;
      }
      raw.push(this.prepare(n.value));
    }
    if (this.opts.service) await this.guard(raw.filter((i) => !i.decided));
    this.prepared.push(...raw);
  }

  private prepare(acct: AccountLine): Item {
    const item: Item = { acct, t0: 0 };
    let problem: string | undefined;
    try {
      if (typeof acct.username !== 'string' || !acct.username.trim()) problem = 'the user name is empty';
      else if (!acct.password || typeof acct.password.reveal !== 'function') problem = 'the password is missing';
      else if (acct.password.reveal().length === 0) problem = 'the password is empty (an empty simple bind is anonymous and proves nothing)';
      else if (this.opts.service || this.opts.defaultDomain) {
        item.name = parseAccountName(acct.username, this.opts.defaultDomain);
        item.bindName = item.name.bindName;
      } else {
        // without a default domain every accepted form binds as written (parseAccountName's rule)
        item.bindName = acct.username.trim();
      }
    } catch (e) {
      problem = e instanceof Error ? e.message : String(e);
    }
    if (problem) {
      item.decided = [finding('bulk', 'input.invalid', 'error', `This account was not checked: ${problem}.`, { ...(acct.line !== undefined ? { line: acct.line } : {}) }, R_INPUT)];
    }
    return item;
  }

  // ---- workers

  private async worker(): Promise<void> {
    let conn: LdapWireConnection | undefined;
    let connUrl = -1;
    try {
      for (;;) {
        const item = this.takeNow() ?? (await this.next());
        if (!item) break;
        item.t0 = performance.now();
        if (item.decided) {
          const wait = this.emit(item, item.decided, false, undefined);
          if (wait) await wait;
          continue;
        }
        const bindName = item.bindName!;
        const pw = item.acct.password.reveal();
        // the same account twice in one run: never a second bad password (wait for a bind in flight)
        const key = bindName.toLowerCase();
        while (this.inflight.has(key)) {
          await new Promise<void>((r) => {
            const w = this.inflight.get(key);
            if (w) w.push(r);
            else this.inflight.set(key, [r]);
          });
        }
        if (this.rejected.has(key)) {
          const wait = this.emit(item, [finding(SOURCE, 'ldap.lockout-risk', 'error',
            'This account was already rejected earlier in this run; credgate did not try another password, so as not to add a bad-password count.',
            { account: bindName }, R_REPEAT)], false, undefined);
          if (wait) await wait;
          continue;
        }
        this.inflight.set(key, null);
        let findings: Finding[] | undefined;
        let bound = false;
        let url: string | undefined;
        try {
          if (this.rated) await this.rate.take(this.opts.signal);
          // a bind is re-sent on another connection only when it provably never left
          for (let attempt = 0; findings === undefined; attempt++) {
            // stopped while this bind waited (rate limit, connect, a duplicate in flight): it is
            // not in flight, so it is not sent and not answered; a rerun checks it
            if (this.stopping()) return;
            if (!conn || !conn.alive) {
              if (conn) this.release(conn);
              conn = undefined;
              const c = await this.connect();
              if (!c) {
                const d = this.downState();
                if (!d) return; // the run was stopped while connecting: the consumer is gone
                findings = d.findings.map((f) => ({ ...f, evidence: { ...f.evidence, account: bindName } }));
                url = d.url;
                break;
              }
              conn = c.conn;
              connUrl = c.index;
              if (this.stopping()) return;
            }
            url = this.urls[connUrl]!.url;
            try {
              const r = await conn.bind(bindName, pw, { ppolicy: this.ppolicy, timeoutMs: this.timeoutMs });
              bound = true;
              findings = answerFindings(r, pw, this.warnDays, bindName);
            } catch (e) {
              if (e instanceof WireConnectionError && !e.sent && attempt < this.urls.length + 2) continue;
              bound = !(e instanceof WireConnectionError) || e.sent;
              findings = [this.lostFinding(e, this.urls[connUrl]!, bindName)];
              this.release(conn);
              conn = undefined;
              this.advancePast(connUrl);
            }
          }
          if (item.state) findings = [...findings, ...item.state];
          // anything but an accepted bind counts, a lost answer too (it may have been a bad password)
          if (bound && findings[0] && causeOf(findings[0].code).category !== 'ok') this.rejected.add(key);
        } finally {
          const waiting = this.inflight.get(key);
          this.inflight.delete(key);
          if (waiting) for (const w of waiting) w();
        }
        const wait = this.emit(item, findings, bound, url);
        if (wait) await wait;
      }
    } finally {
      if (conn) this.release(conn);
    }
  }

  /** The run is stopping: the consumer is gone, or the caller's signal aborted (no new binds). */
  private stopping(): boolean {
    return this.stopped || !!this.opts.signal?.aborted;
  }

  private release(c: LdapWireConnection): void {
    this.conns.delete(c);
    c.dispose();
  }

  private lostFinding(e: unknown, u: ParsedUrl, account: string): Finding {
    const code = (e as { code?: unknown }).code;
    if (code === 'ETIMEDOUT') {
      const f = connectionFinding(e, u, SOURCE, 'bind', true)!;
      f.message = `${u.url} did not answer this account's bind within ${this.timeoutMs} ms; it was not retried.`;
      f.evidence.account = account;
      return f;
    }
    const msg = e instanceof Error ? e.message : String(e);
    return finding(SOURCE, 'net.connection-lost', 'error', `The connection to ${u.url} was lost before the directory answered this account's bind; it was not retried.`, {
      url: u.url, host: u.host, port: u.port, phase: 'bind', account, error: typeof code === 'string' ? code : msg.slice(0, 200),
    }, R_LOST);
  }

  /** A connection to the URL at `index` died: the next connection starts at the next URL. */
  private advancePast(index: number): void {
    if (this.urlIndex === index) this.urlIndex = (index + 1) % this.urls.length;
  }

  private async connect(): Promise<{ conn: LdapWireConnection; index: number } | undefined> {
    if (this.down) return undefined;
    const start = this.urlIndex;
    const failures: Finding[] = [];
    for (let k = 0; k < this.urls.length; k++) {
      if (this.down) return undefined;
      const index = (start + k) % this.urls.length;
      const u = this.urls[index]!;
      const mode = u.scheme === 'ldaps' ? 'ldaps' : this.opts.starttls ? 'starttls' : 'plain';
      try {
        const conn = await LdapWireConnection.connect({
          host: u.host, port: u.port, mode, tls: tlsOptionsFor(u, this.opts, this.ca), timeoutMs: this.timeoutMs, signal: this.ac.signal,
        });
        if (this.stopped) {
          conn.dispose();
          return undefined;
        }
        this.conns.add(conn);
        if (k > 0 && this.urlIndex === start) this.urlIndex = index;
        return { conn, index };
      } catch (e) {
        if (this.stopped) return undefined;
        const phase = mode === 'starttls' ? 'starttls' : 'connect';
        const f = connectionFinding(e, u, SOURCE, phase, false)
          ?? finding(SOURCE, 'net.connection-lost', 'error', `Could not open an LDAP connection to ${u.url}: ${(e instanceof Error ? e.message : String(e)).slice(0, 200)}.`, { url: u.url, phase }, R_LOST);
        failures.push(f);
      }
    }
    if (!this.down) {
      if (failures.length > 1) for (const f of failures) f.evidence.failover = `${failures.length} URLs tried in order`;
      this.down = { findings: failures, url: this.urls[(start + failures.length - 1) % this.urls.length]!.url };
    }
    return undefined;
  }

  // ---- the lockout guard

  private async guard(items: Item[]): Promise<void> {
    if (!items.length) return;
    const svcDown = (fs: Finding[]) => {
      for (const i of items) i.decided = fs.map((f) => ({ ...f, evidence: { ...f.evidence, account: i.name!.bindName } }));
    };
    if (this.down) return svcDown(this.down.findings);
    const now = new Date();
    let client: Client;
    try {
      client = await this.serviceClient();
    } catch (e) {
      if (e instanceof CredgateError) throw e;
      const down = this.downState();
      return svcDown(down?.findings.length ? down.findings : [
        finding(GUARD_SOURCE, 'net.connection-lost', 'error', 'The lockout guard could not reach the directory; credgate did not bind.', {}, R_LOST),
      ]);
    }
    const signal = deadline(undefined, this.timeoutMs);
    try {
      const terms: string[] = [];
      for (const i of items) {
        const n = i.name!;
        if (n.form === 'dn') terms.push(`(distinguishedName=${escapeFilter(n.bindName)})`);
        else if (n.form === 'upn') terms.push(`(userPrincipalName=${escapeFilter(n.bindName)})(sAMAccountName=${escapeFilter(n.user)})`);
        else terms.push(`(sAMAccountName=${escapeFilter(n.user)})`);
      }
      const filter = `(&(objectClass=user)(|${terms.join('')}))`;
      const r = await withSignal(
        client.search(this.baseDn!, { scope: 'sub', filter, attributes: ACCOUNT_STATE_ATTRS, sizeLimit: items.length * 2 + 10 }),
        signal, () => closeClient(client),
      );
      const bySam = new Map<string, Entry>();
      const byUpn = new Map<string, Entry>();
      const byDn = new Map<string, Entry>();
      for (const e of r.searchEntries) {
        byDn.set(normDn(e.dn), e);
        const sam = attr(e, 'sAMAccountName');
        if (sam) bySam.set(sam.toLowerCase(), e);
        const upn = attr(e, 'userPrincipalName');
        if (upn) byUpn.set(upn.toLowerCase(), e);
      }
      for (const i of items) {
        const n = i.name!;
        const e = n.form === 'dn' ? byDn.get(normDn(n.bindName))
          : n.form === 'upn' ? byUpn.get(n.bindName.toLowerCase()) ?? bySam.get(n.user.toLowerCase())
            : bySam.get(n.user.toLowerCase());
        if (!e) {
          const row = adSubCode('525')!;
          i.decided = [finding(GUARD_SOURCE, 'ldap.user-not-found', 'error', `The directory has no account ${n.input}; credgate did not bind.`, { target: n.input, baseDn: this.baseDn }, row.remediation)];
          continue;
        }
        // the same rules as readAccountState: the PSO's threshold when one applies, the domain
        // object's otherwise; unreadable = unknown = not bound unless allowUnknownThreshold
        const pso = attr(e, 'msDS-ResultantPSO');
        const where = thresholdObject(pso, this.domainDn!);
        const t = await this.lockoutThreshold(client, where, signal);
        const fs = stateFindings(accountStateFrom(e, pso, where.dn, t, now), now, this.warnDays, { allowUnknownThreshold: this.opts.allowUnknownThreshold === true });
        if (fs.some((f) => NO_BIND.has(f.code))) i.decided = fs;
        else i.state = fs;
      }
    } catch (e) {
      this.svc = undefined;
      closeClient(client);
      if (e instanceof CredgateError) throw e;
      const u = this.svcUrl!;
      const f = connectionFinding(e, u, GUARD_SOURCE, 'search', signal.aborted)
        ?? finding(GUARD_SOURCE, 'ldap.bind-error', 'error', `Reading the account states from ${u.url} failed: ${(e instanceof Error ? e.message : String(e)).slice(0, 200)}; credgate did not bind.`, { url: u.url }, R_BIND_ERROR);
      svcDown([f]);
    }
  }

  /** A threshold (readThreshold: unreadable = undefined; a lost connection throws), once per object. */
  private async lockoutThreshold(client: Client, where: ReturnType<typeof thresholdObject>, signal: AbortSignal): Promise<number | undefined> {
    if (this.thresholds.has(where.dn)) return this.thresholds.get(where.dn);
    const t = await withSignal(readThreshold(client, where.dn, where.attribute), signal, () => closeClient(client));
    this.thresholds.set(where.dn, t);
    return t;
  }

  private async serviceClient(): Promise<Client> {
    if (this.svc) return this.svc;
    const svc = this.opts.service!;
    const account = parseAccountName(svc.username, this.opts.defaultDomain);
    const spw = svc.password.reveal();
    const failures: Finding[] = [];
    for (let k = 0; k < this.urls.length; k++) {
      const u = this.urls[(this.urlIndex + k) % this.urls.length]!;
      const client = newClient(u, this.opts, this.ca);
      const signal = deadline(this.opts.signal, this.timeoutMs);
      let phase = 'connect';
      try {
        if (u.scheme === 'ldap' && this.opts.starttls) {
          phase = 'starttls';
          await withSignal(client.startTLS(tlsOptionsFor(u, this.opts, this.ca)), signal, () => closeClient(client));
        }
        phase = 'service bind';
        try {
          await withSignal(client.bind(account.bindName, spw), signal, () => closeClient(client));
        } catch (e) {
          if ((e as { code?: unknown }).code === 49) {
            throw new CredgateError(
              `The service account ${account.bindName} was rejected by ${u.url}; check --service-user and its password (no target account was touched).`,
              { code: 'CONFIG_INVALID', details: { url: u.url, serviceUser: account.bindName } },
            );
          }
          throw e;
        }
        phase = 'search';
        if (!this.baseDn) {
          const root = await withSignal(client.search('', { scope: 'base', attributes: ['defaultNamingContext'] }), signal, () => closeClient(client));
          const dnc = root.searchEntries[0] ? attr(root.searchEntries[0], 'defaultNamingContext') : undefined;
          // the search base may be an OU; the lockout policy is on the domain object
          this.baseDn = this.opts.baseDn ?? dnc;
          this.domainDn = dnc ?? this.opts.baseDn;
          if (!this.baseDn) {
            throw new CredgateError(
              `${u.url} is not an Active Directory domain controller (no defaultNamingContext); the lockout guard reads AD attributes — omit the service account for this directory.`,
              { code: 'CONFIG_INVALID', details: { url: u.url } },
            );
          }
        }
        this.svc = client;
        this.svcUrl = u;
        return client;
      } catch (e) {
        closeClient(client);
        if (e instanceof CredgateError) throw e;
        const f = connectionFinding(e, u, GUARD_SOURCE, phase, signal.aborted);
        if (!f) {
          throw new CredgateError(`The lockout guard could not read from ${u.url} during ${phase}: ${scrub(e instanceof Error ? e.message : String(e), [spw])}`, {
            code: 'CONNECTION_FAILED', details: { url: u.url, phase },
          });
        }
        failures.push(f);
      }
    }
    if (!this.down) this.down = { findings: failures, url: this.urls[0]!.url };
    throw new Error('service connection failed');
  }

  private downState(): { findings: Finding[]; url: string } | undefined {
    return this.down;
  }

  private disposed: Promise<void> | undefined;

  /** Close every connection and the input. Idempotent. */
  dispose(): Promise<void> {
    this.disposed ??= this.doDispose();
    return this.disposed;
  }

  private async doDispose(): Promise<void> {
    this.stopped = true;
    this.ac.abort();
    this.releaseProducers();
    for (const c of this.conns) c.dispose();
    this.conns.clear();
    if (this.svc) closeClient(this.svc);
    this.svc = undefined;
    try {
      await this.it.return?.();
    } catch {
      // the caller's iterator failed to close; nothing of ours is left open
    }
  }
}

/**
 * Verify many accounts against one directory (its URLs are failover replicas). Yields one
 * result per account as it is answered. Faults that stop the whole run (bad options, a rejected
 * service account) throw CredgateError; everything about an account is a finding in its result.
 * Breaking out of the loop closes every connection.
 */
export function verifyMany(input: AsyncIterable<AccountLine> | Iterable<AccountLine>, options: VerifyManyOptions): AsyncIterableIterator<VerifyResult> & AsyncDisposable {
  let run: BulkRun | undefined;
  let finished = false;
  const finish = async () => {
    if (finished) return;
    finished = true;
    await run?.dispose();
  };
  const it: AsyncIterableIterator<VerifyResult> & AsyncDisposable = {
    next(): Promise<IteratorResult<VerifyResult>> {
      if (finished) return Promise.resolve({ value: undefined, done: true });
      if (!run) {
        try {
          // options are checked on the first next(), before any I/O
          run = new BulkRun(input, options);
        } catch (e) {
          finished = true;
          return Promise.reject(e);
        }
        run.start();
      }
      // pull() disposes the run itself when it ends (all answered, or a fault)
      return run.pull();
    },
    async return(): Promise<IteratorResult<VerifyResult>> {
      await finish();
      return { value: undefined, done: true };
    },
    async throw(e?: unknown): Promise<IteratorResult<VerifyResult>> {
      await finish();
      throw e;
    },
    [Symbol.asyncIterator]() {
      return it;
    },
    async [Symbol.asyncDispose]() {
      await finish();
    },
  };
  return it;
}

/** Counts by code, and the exit code of the run: 0 when every account is valid. */
export interface VerifySummary {
  total: number;
  ok: number;
  failed: number;
  byCode: Record<string, number>;
  exitCode: number;
  /** The deciding code of the worst account (lowest cause priority), when any failed. */
  worstCode?: string;
}

/** Fold results into a summary; the run's exit code is the exit code of its most basic failure. */
export function createSummary(): { add(r: Pick<VerifyResult, 'ok' | 'code'>): void; addBadLine(): void; result(): VerifySummary } {
  let total = 0;
  let ok = 0;
  let bad = 0;
  const byCode: Record<string, number> = {};
  let worst: string | undefined;
  let worstP = Infinity;
  return {
    add(r) {
      total++;
      if (r.ok) ok++;
      byCode[r.code] = (byCode[r.code] ?? 0) + 1;
      if (!r.ok) {
        // a failed account's code decided it: judged as an error (no row = internal, exit 70)
        const p = rowFor({ code: r.code, severity: 'error' }).priority;
        if (p < worstP) {
          worstP = p;
          worst = r.code;
        }
      }
    },
    addBadLine() {
      bad++;
    },
    result() {
      const out: VerifySummary = { total, ok, failed: total - ok, byCode, exitCode: 0 };
      if (worst) {
        out.worstCode = worst;
        out.exitCode = exitCodeForCategory(rowFor({ code: worst, severity: 'error' }).category);
      } else if (bad > 0) {
        out.exitCode = exitCodeFor('input.invalid');
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------- account files (CSV, JSON Lines)

export interface AccountFileOptions {
  format: 'csv' | 'jsonl';
  /** Column / field with the account name. Default: the first of username, user, account, upn, dn, samaccountname. */
  userField?: string;
  /** Column / field with the password. Default: password. */
  passwordField?: string;
  /** Column / field naming an environment variable that holds the password. Default: password_env. */
  passwordEnvField?: string;
  /** Column / field echoed as the result's id. Default: id. */
  idField?: string;
  /** Where password_env names are looked up. */
  env?: Record<string, string | undefined>;
  /** A record longer than this (characters) is a bad line. Default 65,536. */
  maxRecordChars?: number;
}

/** One input record: an account to verify, or a bad line (never echoing the line's content). */
export type InputRecord = { kind: 'account'; account: AccountLine } | { kind: 'bad'; line: number; reason: string };

const USER_FIELDS = ['username', 'user', 'account', 'upn', 'dn', 'samaccountname', 'user_name'];

interface RawRecord {
  line: number;
  fields?: string[];
  error?: string;
}

/** RFC 4180 CSV records from a text stream: quoted fields (with "" and line breaks inside), CRLF or LF. */
export async function* csvRecords(src: AsyncIterable<string | Buffer>, maxChars = 65_536): AsyncGenerator<RawRecord> {
  let fields: string[] = [];
  let field = '';
  let size = 0;
  let inQuotes = false;
  let afterQuote = false;
  let bad: string | undefined;
  let skipping = false;
  let line = 1;
  let recLine = 1;
  const endRecord = (): RawRecord | undefined => {
    fields.push(field);
    const r: RawRecord | undefined = bad
      ? { line: recLine, error: bad }
      : fields.length === 1 && fields[0] === '' ? undefined : { line: recLine, fields };
    fields = [];
    field = '';
    size = 0;
    bad = undefined;
    afterQuote = false;
    skipping = false;
    return r;
  };
  for await (const chunk of src) {
    const s = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    for (let i = 0; i < s.length; i++) {
      const c = s[i]!;
      if (skipping) {
        if (c === '\n') {
          const r = endRecord();
          if (r) yield r;
          line++;
          recLine = line;
        }
        continue;
      }
      if (++size > maxChars) {
        bad = `the record is longer than ${maxChars} characters`;
        inQuotes = false;
        skipping = true;
        field = '';
        fields = [];
        if (c === '\n') i--;
        continue;
      }
      if (inQuotes) {
        if (c === '"') {
          inQuotes = false;
          afterQuote = true;
        } else {
          field += c;
          if (c === '\n') line++;
        }
        continue;
      }
      if (afterQuote) {
        afterQuote = false;
        if (c === '"') {
          field += '"';
          inQuotes = true;
          continue;
        }
        if (c !== ',' && c !== '\n' && c !== '\r') {
          bad ??= 'text follows a closing quote (write "" for a quote inside a quoted field)';
          continue;
        }
      }
      if (c === ',') {
        fields.push(field);
        field = '';
      } else if (c === '\n') {
        const r = endRecord();
        if (r) yield r;
        line++;
        recLine = line;
      } else if (c === '\r') {
        // CRLF: the LF ends the record
      } else if (c === '"') {
        if (field === '') inQuotes = true;
        else bad ??= 'a quote inside an unquoted field (quote the whole field and write "" for the quote)';
      } else {
        field += c;
      }
    }
  }
  if (inQuotes) {
    bad = 'a quoted field is not closed before the end of the file';
  }
  const r = endRecord();
  if (r) yield r;
}

/** JSON Lines records: one object per line. */
export async function* jsonlRecords(src: AsyncIterable<string | Buffer>, maxChars = 65_536): AsyncGenerator<{ line: number; value?: Record<string, unknown>; error?: string }> {
  let rest = '';
  let line = 0;
  let tooLong = false;
  const parse = (text: string) => {
    line++;
    if (tooLong) {
      tooLong = false;
      return { line, error: `the line is longer than ${maxChars} characters` };
    }
    const t = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (!t.trim()) return undefined;
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch {
      return { line, error: 'the line is not valid JSON' };
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) return { line, error: 'the line is not a JSON object' };
    return { line, value: v as Record<string, unknown> };
  };
  for await (const chunk of src) {
    const s = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let start = 0;
    for (let nl = s.indexOf('\n'); nl >= 0; nl = s.indexOf('\n', start)) {
      const text = rest + s.slice(start, nl);
      rest = '';
      start = nl + 1;
      const r = parse(text);
      if (r) yield r;
    }
    rest += s.slice(start);
    if (rest.length > maxChars) {
      tooLong = true;
      rest = '';
    }
  }
  if (rest.length || tooLong) {
    const r = parse(rest);
    if (r) yield r;
  }
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Turn a CSV or JSON Lines stream into accounts to verify. The password comes from the password
 * column/field, or from the environment variable named in password_env; a line that has neither,
 * or is malformed, is a bad line with its number and the reason (never its content).
 */
export async function* readAccounts(src: AsyncIterable<string | Buffer>, opts: AccountFileOptions): AsyncGenerator<InputRecord> {
  const pwField = (opts.passwordField ?? 'password').toLowerCase();
  const envField = (opts.passwordEnvField ?? 'password_env').toLowerCase();
  const idField = (opts.idField ?? 'id').toLowerCase();
  const env = opts.env ?? {};
  const make = (line: number, user: unknown, pw: unknown, envName: unknown, id: unknown): InputRecord => {
    if (typeof user !== 'string' || !user.trim()) return { kind: 'bad', line, reason: 'no user name' };
    let password: string | undefined;
    if (typeof pw === 'string' && pw.length) password = pw;
    else if (typeof envName === 'string' && envName.trim()) {
      const n = envName.trim();
      if (!ENV_NAME.test(n)) return { kind: 'bad', line, reason: `${envField} does not hold a valid environment variable name` };
      password = env[n];
      if (password === undefined || password === '') return { kind: 'bad', line, reason: `environment variable ${n} (from ${envField}) is not set or empty` };
    } else if (pw !== undefined && pw !== null && typeof pw !== 'string') {
      return { kind: 'bad', line, reason: `${pwField} is not a string` };
    }
    if (password === undefined) return { kind: 'bad', line, reason: `no password (neither ${pwField} nor ${envField} has a value)` };
    const account: AccountLine = { username: user.trim(), password: new SecretCtor(password), line };
    if ((typeof id === 'string' && id) || typeof id === 'number') account.id = String(id);
    return { kind: 'account', account };
  };
  if (opts.format === 'jsonl') {
    for await (const r of jsonlRecords(src, opts.maxRecordChars)) {
      if (r.error || !r.value) {
        yield { kind: 'bad', line: r.line, reason: r.error ?? 'empty' };
        continue;
      }
      const lower = new Map(Object.entries(r.value).map(([k, v]) => [k.toLowerCase(), v]));
      const userKey = opts.userField ? opts.userField.toLowerCase() : USER_FIELDS.find((k) => lower.has(k));
      yield make(r.line, userKey ? lower.get(userKey) : undefined, lower.get(pwField), lower.get(envField), lower.get(idField));
    }
    return;
  }
  let header: string[] | undefined;
  let userIdx = -1;
  let pwIdx = -1;
  let envIdx = -1;
  let idIdx = -1;
  for await (const r of csvRecords(src, opts.maxRecordChars)) {
    if (!header) {
      if (!r.fields) {
        throw new CredgateError(`The CSV header (line ${r.line}) cannot be read: ${r.error}.`, { code: 'INPUT_INVALID', details: { line: r.line } });
      }
      header = r.fields.map((h) => h.trim().toLowerCase().replace(/^\ufeff/, ''));
      userIdx = opts.userField ? header.indexOf(opts.userField.toLowerCase()) : header.findIndex((h) => USER_FIELDS.includes(h));
      pwIdx = header.indexOf(pwField);
      envIdx = header.indexOf(envField);
      idIdx = header.indexOf(idField);
      if (userIdx < 0) {
        throw new CredgateError(`The CSV header has no user column (looked for ${opts.userField ?? USER_FIELDS.join(', ')}); name it with --user-field.`, { code: 'INPUT_INVALID', details: { header } });
      }
      if (pwIdx < 0 && envIdx < 0) {
        throw new CredgateError(`The CSV header has neither a ${pwField} nor a ${envField} column; name one with --password-field or --password-env-field.`, { code: 'INPUT_INVALID', details: { header } });
      }
      continue;
    }
    if (!r.fields) {
      yield { kind: 'bad', line: r.line, reason: r.error ?? 'unreadable' };
      continue;
    }
    if (r.fields.length !== header.length) {
      yield { kind: 'bad', line: r.line, reason: `${r.fields.length} fields where the header has ${header.length}` };
      continue;
    }
    yield make(r.line, r.fields[userIdx], pwIdx >= 0 ? r.fields[pwIdx] : undefined, envIdx >= 0 ? r.fields[envIdx] : undefined, idIdx >= 0 ? r.fields[idIdx] : undefined);
  }
  if (!header) throw new CredgateError('The CSV input is empty (not even a header line).', { code: 'INPUT_INVALID' });
}
