/**
 * One bulk run (verify-many.ts has its two faces): the pool of workers, the account feed, the
 * results queue with its backpressure, and the end of the run (all answered, a fault, the caller's
 * abort). The rules it keeps are verify-many.ts's.
 */
import { ConfigError, abortError } from '../core/errors.js';
import { CHANNELS, observed, publish, withLogger } from '../core/telemetry.js';
import { finding, type Finding } from '../findings/finding.js';
import { fixes } from '../findings/catalog.js';
import { causeOf, decideAccount } from '../findings/diagnose.js';
import { assertBindTransport, loadCa, parseLdapUrls } from '../protocols/ldap/transport.js';
import { RateLimiter } from './rate-limit.js';
import type { BatchGuard } from './guard.js';
import type { Failover } from './failover.js';
import { LdapPool, LDAP_SOURCE } from './ldap-attempt.js';
import { AccountFeed } from './feed.js';
import type { Attempter, BulkItem } from './attempt.js';
import type { AccountLine, DirectoryRunOptions, VerifyManyOptions, VerifyResult } from './types.js';

type Item = BulkItem;

/**
 * The parts only some runs need, loaded when such a run starts: the lockout guard (with a service
 * account) and the Kerberos attempter (with `kerberos`). An LDAP run loads neither: the Kerberos
 * client alone is ~80 KB of code that `credgate verify --ldap` would compile at every start.
 */
export interface RunParts {
  guard?: typeof import('./guard.js');
  kerberos?: typeof import('./kerberos-attempt.js');
}

export async function loadParts(o: VerifyManyOptions): Promise<RunParts> {
  const [guard, kerberos] = await Promise.all([o.service ? import('./guard.js') : undefined, o.kerberos ? import('./kerberos-attempt.js') : undefined]);
  return { ...(guard ? { guard } : {}), ...(kerberos ? { kerberos } : {}) };
}

export class BulkRun {
  private readonly source: string;
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly rate: RateLimiter;
  private readonly rated: boolean;
  private readonly warnings: Finding[] = [];
  private readonly feed: AccountFeed;
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
  /** A worker let go of an account it had taken (the caller's signal aborted before its try was sent). */
  private dropped = false;
  private readonly tally = { answered: 0, ok: 0, failed: 0 };

  /**
   * `each`: a consumer that takes every result from the worker that answered it (its promise, when
   * it returns one, holds that worker back), instead of the queue `pull()` serves; `pull()` then
   * settles only at the run's end.
   */
  constructor(
    input: AsyncIterable<AccountLine> | Iterable<AccountLine>,
    private readonly opts: VerifyManyOptions,
    parts: RunParts,
    private readonly each?: (r: VerifyResult) => Promise<void> | undefined | void,
  ) {
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
    this.source = krb ? parts.kerberos!.KERBEROS_SOURCE : LDAP_SOURCE;
    this.concurrency = c;
    this.rate = new RateLimiter(rate);
    this.rated = rate > 0;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    const warnDays = opts.expiryWarningDays ?? 14;
    this.guard = opts.service && dirOpts ? new parts.guard!.BatchGuard(dirOpts, ca, failover, this.timeoutMs, warnDays) : undefined;
    const stopping = () => this.stopping();
    if (krb) {
      const attempter = parts.kerberos!.kerberosAttempter(krb, { timeoutMs: this.timeoutMs, ...(opts.defaultDomain ? { defaultDomain: opts.defaultDomain } : {}), stopping });
      this.newAttempter = () => attempter;
    } else {
      const pool = new LdapPool(dirOpts!, ca, failover, this.timeoutMs, warnDays, stopping);
      this.pool = pool;
      this.newAttempter = () => pool.worker();
    }
    // accounts prepared ahead of the workers: the guard's read size, else a few per worker (a refill
    // per 32 accounts, not per 8: each is an async step)
    const batch = opts.service ? Math.max(1, Math.min(500, opts.guardBatchSize ?? 50)) : Math.max(64, c * 8);
    this.highWater = Math.max(64, c * 16);
    this.feed = new AccountFeed(input, opts, batch, this.guard, stopping, parts.kerberos?.kerberosTarget);
    if (opts.insecureSkipTlsVerify && dirOpts) {
      this.warnings.push(finding(LDAP_SOURCE, 'tls.verification-disabled', 'warning', 'TLS certificate verification was switched off for this run; the server was not authenticated.', {}, fixes('tls.verification-disabled', 'default')));
    }
    if (opts.allowPlainBind && !opts.starttls && urls.some((u) => u.scheme === 'ldap')) {
      this.warnings.push(finding(LDAP_SOURCE, 'ldap.plain-bind', 'warning', 'The password was sent over plain LDAP without TLS, readable by anyone on the path.', {}, fixes('ldap.plain-bind', 'default')));
    }
  }

  private running = 0;
  /** The run has ended on its own (all answered, a fault, the caller's abort). */
  over = false;

  /** Start the workers (once). */
  start(): void {
    this.running = this.concurrency;
    // the workers' events reach the run's logger (their async calls inherit it)
    for (let i = 0; i < this.concurrency; i++) {
      withLogger(this.opts.logger, () => this.worker())
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
    const now = this.settle();
    if (now !== undefined) return 'then' in now ? now : Promise.resolve(now);
    return new Promise((resolve) => {
      // woken by each result and by the last worker's end: settled with the result itself (a
      // promise per wake, not a promise resolved with another promise)
      this.wakeConsumer = () => {
        const next = this.settle();
        if (next === undefined) return;
        this.wakeConsumer = undefined;
        resolve(next);
      };
    });
  }

  /** The consumer's next answer if there is one now: a queued result, or the run's end (its fault, or done); undefined while workers run. */
  private settle(): IteratorResult<VerifyResult, undefined> | Promise<IteratorResult<VerifyResult, undefined>> | undefined {
    const r = this.out.shift();
    if (r) {
      if (this.out.length < this.highWater / 2 && this.wakeProducers.length) this.releaseProducers();
      return { value: r, done: false };
    }
    if (this.fatal !== undefined) {
      this.over = true;
      const e = this.fatal;
      return this.dispose().then(() => Promise.reject(e));
    }
    if (this.running === 0) {
      this.over = true;
      // the caller's signal left accounts unchecked: an AbortError, never a quiet end
      const signal = this.opts.signal;
      if (signal?.aborted && (this.dropped || this.feed.left)) {
        return this.dispose().then(() => Promise.reject(abortError(signal, `The verify run (${this.tally.answered} accounts answered, the rest not checked)`)));
      }
      return this.dispose().then(() => ({ value: undefined, done: true }));
    }
    return undefined;
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
    this.tally.answered++;
    this.tally[d.ok ? 'ok' : 'failed']++;
    if (observed(CHANNELS.bulkProgress)) publish(CHANNELS.bulkProgress, { ...this.tally, code: d.code, bound });
    if (this.each) return this.each(r) ?? undefined;
    this.out.push(r);
    this.wake();
    if (this.out.length >= this.highWater && !this.stopped) return new Promise<void>((res) => this.wakeProducers.push(res));
    return undefined;
  }

  // ---- workers

  private async worker(): Promise<void> {
    const attempter = this.newAttempter();
    try {
      for (;;) {
        const item = this.feed.takeNow() ?? (await this.feed.next());
        if (!item) break;
        item.t0 = performance.now();
        if (item.decided) {
          const wait = this.emit(item, item.decided, false);
          if (wait) await wait;
          continue;
        }
        // the same account twice in one run: never a second bad password (wait for a try in flight)
        const key = item.key.folded;
        for (let w = this.inflight.get(key); w !== undefined; w = this.inflight.get(key)) {
          const waiting = w;
          await new Promise<void>((r) => {
            if (waiting) waiting.push(r);
            else this.inflight.set(key, [r]);
          });
        }
        if (this.rejected.size && this.rejected.has(key)) {
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
          if (this.stopping()) return this.drop();
          answer = await attempter.attempt(item);
          if (!answer) return this.drop();
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

  /** A worker lets go of the account it holds: it gets no result (a rerun checks it). */
  private drop(): void {
    this.dropped = true;
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
    await this.feed.close();
  }
}
