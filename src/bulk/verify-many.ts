/**
 * Verify many accounts, fast and without making any account worse: against one directory (a bind
 * per account) or its KDC (one Kerberos pre-authentication per account, `kerberos`).
 *
 * - A pool of `concurrency` workers (default 8). LDAP: each holds a persistent LDAPS (or StartTLS)
 *   connection and re-binds once per account — a TLS handshake per account costs ~50× a re-bind
 *   here (ldap-attempt.ts). Kerberos: each runs one AS exchange per account (kerberos-attempt.ts).
 * - A rate limit in tries per second, shared by the pool. After a stop (signal aborted), a try
 *   still waiting on it (or on a connection) is not sent: only tries already sent finish.
 * - DC failover: the URLs are replicas of one directory, tried in order (see ldap-attempt.ts);
 *   KDCs fail over before the proof only (the Kerberos client's rule).
 * - Never a second password for an account: a try whose answer is lost is reported as
 *   `net.connection-lost` / `net.timeout`, not retried; the same account twice in one run waits
 *   for the first answer and, if it was not accepted, is not tried again (`ldap.lockout-risk`).
 * - With a read-only service account, a lockout guard for every account: batched reads of the
 *   AD account-state attributes before any try, judged by account-state's `stateFindings`; an
 *   account one failure short of lockout, locked or unknown is not tried (guard.ts).
 * - Results stream out as soon as each account is answered (not in input order; each carries
 *   its `line`/`id`). Input is pulled only as fast as the pool works, so memory stays flat.
 *
 * Findings are the same as the single checks' (checks/ldap-answer.ts, checks/kerberos.ts).
 */
import { ConfigError } from '../core/errors.js';
import { parseAccountName } from '../core/credential.js';
import { finding, type Finding } from '../findings/finding.js';
import { fixes } from '../findings/catalog.js';
import { causeOf, decideAccount } from '../findings/diagnose.js';
import { assertBindTransport, loadCa, parseLdapUrls } from '../protocols/ldap/transport.js';
import { RateLimiter } from './rate-limit.js';
import { BatchGuard } from './guard.js';
import type { Failover } from './failover.js';
import { LdapPool, LDAP_SOURCE } from './ldap-attempt.js';
import { kerberosAttempter, kerberosTarget, KERBEROS_SOURCE } from './kerberos-attempt.js';
import type { Attempter, BulkItem } from './attempt.js';
import type { AccountLine, DirectoryRunOptions, VerifyManyOptions, VerifyResult } from './types.js';

export type { AccountLine, VerifyManyOptions, VerifyResult } from './types.js';

type Item = BulkItem;

class BulkRun {
  private readonly source: string;
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly rate: RateLimiter;
  private readonly rated: boolean;
  private readonly warnings: Finding[] = [];
  private readonly it: AsyncIterator<AccountLine> | Iterator<AccountLine>;
  private inputDone = false;
  private readonly prepared: Item[] = [];
  private filling: Promise<void> | undefined;
  private readonly batch: number;
  private readonly guard: BatchGuard | undefined;
  /** LDAP runs: the connections; Kerberos runs: undefined. */
  private readonly pool: LdapPool | undefined;
  private readonly newAttempter: () => Attempter;
  // output
  private readonly out: VerifyResult[] = [];
  private readonly highWater: number;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducers: Array<() => void> = [];
  private fatal: unknown;
  private stopped = false;
  /** Accounts tried right now (at most `concurrency`), so a duplicate line waits for the answer. */
  private readonly inflight = new Map<string, Array<() => void> | null>();
  /** Accounts whose try was not accepted in this run (grows with failures only). */
  private readonly rejected = new Set<string>();

  constructor(input: AsyncIterable<AccountLine> | Iterable<AccountLine>, private readonly opts: VerifyManyOptions) {
    const krb = opts.kerberos;
    if (!krb && opts.urls === undefined) {
      throw new ConfigError('verifyMany needs the directory (urls) to bind against, or kerberos: { kdc } to pre-authenticate with.', { code: 'CONFIG_INVALID', details: { option: 'urls' } });
    }
    if (krb && opts.service && opts.urls === undefined) {
      throw new ConfigError('The lockout guard reads the account states in the directory: with kerberos and a service account, give urls too (the directory the service account reads).', { code: 'CONFIG_INVALID', details: { option: 'urls' } });
    }
    const dirOpts = opts.urls !== undefined ? (opts as DirectoryRunOptions) : undefined;
    const urls = dirOpts ? parseLdapUrls(dirOpts.urls) : [];
    if (dirOpts) assertBindTransport(urls, dirOpts);
    const ca = dirOpts ? loadCa(dirOpts) : undefined;
    const failover: Failover = { urls, index: 0 };
    const c = opts.concurrency ?? 8;
    if (!Number.isInteger(c) || c < 1 || c > 1024) {
      throw new ConfigError(`concurrency must be a whole number from 1 to 1024, got ${c}.`, { code: 'CONFIG_INVALID', details: { option: 'concurrency' } });
    }
    const rate = opts.rate ?? 0;
    if (!(rate >= 0) || !Number.isFinite(rate)) {
      throw new ConfigError(`rate must be a non-negative number of tries per second, got ${rate}.`, { code: 'CONFIG_INVALID', details: { option: 'rate' } });
    }
    this.source = krb ? KERBEROS_SOURCE : LDAP_SOURCE;
    this.concurrency = c;
    this.rate = new RateLimiter(rate);
    this.rated = rate > 0;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    const warnDays = opts.expiryWarningDays ?? 14;
    this.guard = opts.service && dirOpts ? new BatchGuard(dirOpts, ca, failover, this.timeoutMs, warnDays) : undefined;
    const stopping = () => this.stopping();
    if (krb) {
      const attempter = kerberosAttempter(krb, { timeoutMs: this.timeoutMs, ...(opts.defaultDomain ? { defaultDomain: opts.defaultDomain } : {}), stopping });
      this.newAttempter = () => attempter;
    } else {
      const pool = new LdapPool(dirOpts!, ca, failover, this.timeoutMs, warnDays, stopping);
      this.pool = pool;
      this.newAttempter = () => pool.worker();
    }
    this.batch = opts.service ? Math.max(1, Math.min(500, opts.guardBatchSize ?? 50)) : Math.max(16, c * 2);
    this.highWater = Math.max(64, c * 16);
    this.it = Symbol.asyncIterator in input
      ? (input as AsyncIterable<AccountLine>)[Symbol.asyncIterator]()
      : (input as Iterable<AccountLine>)[Symbol.iterator]();
    if (opts.insecureSkipTlsVerify && dirOpts) {
      this.warnings.push(finding(LDAP_SOURCE, 'tls.verification-disabled', 'warning', 'TLS certificate verification was switched off for this run; the server was not authenticated.', {}, fixes('tls.verification-disabled', 'default')));
    }
    if (opts.allowPlainBind && !opts.starttls && urls.some((u) => u.scheme === 'ldap')) {
      this.warnings.push(finding(LDAP_SOURCE, 'ldap.plain-bind', 'warning', 'The password was sent over plain LDAP without TLS, readable by anyone on the path.', {}, fixes('ldap.plain-bind', 'default')));
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
  private emit(item: Item, findings: Finding[], bound: boolean, where: { url?: string; kdc?: string } = {}): Promise<void> | undefined {
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
      url: where.url,
      kdc: where.kdc,
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
    if (this.guard) await this.guard.read(raw.filter((i) => !i.decided));
    this.prepared.push(...raw);
  }

  private prepare(acct: AccountLine): Item {
    const item: Item = { acct, key: { name: '', folded: '' }, t0: 0 };
    let problem: string | undefined;
    try {
      if (typeof acct.username !== 'string' || !acct.username.trim()) problem = 'the user name is empty';
      else if (!acct.password || typeof acct.password.reveal !== 'function') problem = 'the password is missing';
      else if (acct.password.reveal().length === 0) problem = 'the password is empty (an empty simple bind is anonymous and proves nothing)';
      else {
        // the guard reads the account by its directory name
        if (this.opts.service || (!this.opts.kerberos && this.opts.defaultDomain)) item.name = parseAccountName(acct.username, this.opts.defaultDomain);
        if (this.opts.kerberos) {
          const t = kerberosTarget(acct.username, this.opts.kerberos, this.opts.defaultDomain);
          item.key.name = t.name;
          item.realm = t.realm;
        } else {
          // without a default domain every accepted form binds as written (parseAccountName's rule)
          item.key.name = item.name ? item.name.bindName : acct.username.trim();
        }
        item.key.folded = item.key.name.toLowerCase();
      }
    } catch (e) {
      problem = e instanceof Error ? e.message : String(e);
    }
    if (problem) {
      item.decided = [finding('bulk', 'input.invalid', 'error', `This account was not checked: ${problem}.`, { ...(acct.line !== undefined ? { line: acct.line } : {}) }, fixes('input.invalid', 'default'))];
    }
    return item;
  }

  // ---- workers

  private async worker(): Promise<void> {
    const attempter = this.newAttempter();
    try {
      for (;;) {
        const item = this.takeNow() ?? (await this.next());
        if (!item) break;
        item.t0 = performance.now();
        if (item.decided) {
          const wait = this.emit(item, item.decided, false);
          if (wait) await wait;
          continue;
        }
        // the same account twice in one run: never a second bad password (wait for a try in flight)
        const key = item.key.folded;
        while (this.inflight.has(key)) {
          await new Promise<void>((r) => {
            const w = this.inflight.get(key);
            if (w) w.push(r);
            else this.inflight.set(key, [r]);
          });
        }
        if (this.rejected.has(key)) {
          const wait = this.emit(item, [finding(this.source, 'ldap.lockout-risk', 'error',
            'This account was already rejected earlier in this run; credgate did not try another password, so as not to add a bad-password count.',
            { account: item.key.name }, fixes('ldap.lockout-risk', 'repeat'))], false);
          if (wait) await wait;
          continue;
        }
        this.inflight.set(key, null);
        let answer: Awaited<ReturnType<Attempter['attempt']>>;
        try {
          if (this.rated) await this.rate.take(this.opts.signal);
          // stopped while this try waited (rate limit, a duplicate in flight): it is not sent and not answered; a rerun checks it
          if (this.stopping()) return;
          answer = await attempter.attempt(item);
          if (!answer) return;
          if (item.state) answer.findings = [...answer.findings, ...item.state];
          // anything but an accepted try counts, a lost answer too (it may have been a bad password)
          if (answer.bound && answer.findings[0] && causeOf(answer.findings[0].code).category !== 'ok') this.rejected.add(key);
        } finally {
          const waiting = this.inflight.get(key);
          this.inflight.delete(key);
          if (waiting) for (const w of waiting) w();
        }
        const wait = this.emit(item, answer.findings, answer.bound, answer);
        if (wait) await wait;
      }
    } finally {
      attempter.close();
    }
  }

  /** The run is stopping: the consumer is gone, or the caller's signal aborted (no new tries). */
  private stopping(): boolean {
    return this.stopped || !!this.opts.signal?.aborted;
  }

  private disposed: Promise<void> | undefined;

  /** Close every connection and the input. Idempotent. */
  dispose(): Promise<void> {
    this.disposed ??= this.doDispose();
    return this.disposed;
  }

  private async doDispose(): Promise<void> {
    this.stopped = true;
    this.releaseProducers();
    this.pool?.dispose();
    this.guard?.dispose();
    try {
      await this.it.return?.();
    } catch {
      // the caller's iterator failed to close; nothing of ours is left open
    }
  }
}

/**
 * Verify many accounts against one directory (its URLs are failover replicas), or with its KDC
 * (`kerberos`). Yields one result per account as it is answered. Faults that stop the whole run (bad options, a rejected
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
