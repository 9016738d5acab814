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
 * Findings are the same as validateLdapBind's (checks/ldap-answer.ts: AD sub-codes, ppolicy).
 */
import { ConfigError, abortError, disposedError } from '../core/errors.js';
import { CHANNELS, observed, publish, traced, withLogger } from '../core/telemetry.js';
import { finding, type Finding } from '../findings/finding.js';
import { fixes } from '../findings/catalog.js';
import { causeOf, decideAccount } from '../findings/diagnose.js';
import { accountAnswerFindings } from '../checks/ldap-answer.js';
import { assertBindTransport, loadCa, parseLdapUrls, type ParsedUrl } from '../protocols/ldap/transport.js';
import { LdapWireConnection, WireConnectionError } from '../protocols/ldap/wire.js';
import { RateLimiter } from './rate-limit.js';
import { BatchGuard } from './guard.js';
import { AccountFeed, type Item } from './feed.js';
import { advancePast, connectFirst, lostBindFinding, type Failover } from './failover.js';
import type { AccountLine, VerifyManyOptions, VerifyResult } from './types.js';

export type { AccountLine, VerifyManyOptions, VerifyResult } from './types.js';

const SOURCE = 'ldap-bind';

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
  private readonly feed: AccountFeed;
  private readonly failover: Failover;
  private readonly guard: BatchGuard | undefined;
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
  /** A worker let go of an account it had taken (the caller's signal aborted before its bind was sent). */
  private dropped = false;
  private readonly tally = { answered: 0, ok: 0, failed: 0 };

  constructor(input: AsyncIterable<AccountLine> | Iterable<AccountLine>, private readonly opts: VerifyManyOptions) {
    this.urls = parseLdapUrls(opts.urls);
    assertBindTransport(this.urls, opts);
    this.ca = loadCa(opts);
    this.failover = { urls: this.urls, index: 0 };
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
    this.guard = opts.service ? new BatchGuard(opts, this.ca, this.failover, this.timeoutMs, this.warnDays) : undefined;
    const batch = opts.service ? Math.max(1, Math.min(500, opts.guardBatchSize ?? 50)) : Math.max(16, c * 2);
    this.highWater = Math.max(64, c * 16);
    this.feed = new AccountFeed(input, opts, batch, this.guard, () => this.stopping());
    if (opts.insecureSkipTlsVerify) {
      this.warnings.push(finding(SOURCE, 'tls.verification-disabled', 'warning', 'TLS certificate verification was switched off for this run; the server was not authenticated.', {}, fixes('tls.verification-disabled', 'default')));
    }
    if (opts.allowPlainBind && !opts.starttls && this.urls.some((u) => u.scheme === 'ldap')) {
      this.warnings.push(finding(SOURCE, 'ldap.plain-bind', 'warning', 'The password was sent over plain LDAP without TLS, readable by anyone on the path.', {}, fixes('ldap.plain-bind', 'default')));
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
    const r = this.out.shift();
    if (r) {
      if (this.out.length < this.highWater / 2 && this.wakeProducers.length) this.releaseProducers();
      return Promise.resolve({ value: r, done: false });
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
    this.tally.answered++;
    this.tally[d.ok ? 'ok' : 'failed']++;
    if (observed(CHANNELS.bulkProgress)) publish(CHANNELS.bulkProgress, { ...this.tally, code: d.code, bound });
    this.wake();
    if (this.out.length >= this.highWater && !this.stopped) return new Promise<void>((res) => this.wakeProducers.push(res));
    return undefined;
  }

  // ---- workers

  private async worker(): Promise<void> {
    let conn: LdapWireConnection | undefined;
    let connUrl = -1;
    try {
      for (;;) {
        const item = this.feed.takeNow() ?? (await this.feed.next());
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
            { account: bindName }, fixes('ldap.lockout-risk', 'repeat'))], false, undefined);
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
            if (this.stopping()) return this.drop();
            if (!conn || !conn.alive) {
              if (conn) this.release(conn);
              conn = undefined;
              const c = await this.connect();
              if (!c) {
                const d = this.failover.down;
                if (!d) return this.drop(); // the run was stopped while connecting
                findings = d.findings.map((f) => ({ ...f, evidence: { ...f.evidence, account: bindName } }));
                url = d.url;
                break;
              }
              conn = c.conn;
              connUrl = c.index;
              if (this.stopping()) return this.drop();
            }
            url = this.urls[connUrl]!.url;
            try {
              const c = conn;
              const r = await traced(CHANNELS.bind, { protocol: 'ldap', source: 'bulk', url, account: bindName },
                () => c.bind(bindName, pw, { ppolicy: this.ppolicy, timeoutMs: this.timeoutMs }), () => ({ outcome: 'answered' }));
              bound = true;
              findings = accountAnswerFindings(r, pw, this.warnDays, bindName);
            } catch (e) {
              if (e instanceof WireConnectionError && !e.sent && attempt < this.urls.length + 2) {
                publish(CHANNELS.retry, { what: 'bind', url, attempt: attempt + 2, reason: e.code });
                continue;
              }
              bound = !(e instanceof WireConnectionError) || e.sent;
              findings = [lostBindFinding(e, this.urls[connUrl]!, bindName, this.timeoutMs)];
              this.release(conn);
              conn = undefined;
              advancePast(this.failover, connUrl);
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

  /** A worker lets go of the account it holds: it gets no result (a rerun checks it). */
  private drop(): void {
    this.dropped = true;
  }

  /** The run is stopping: the consumer is gone, or the caller's signal aborted (no new binds). */
  private stopping(): boolean {
    return this.stopped || !!this.opts.signal?.aborted;
  }

  private release(c: LdapWireConnection): void {
    this.conns.delete(c);
    c.dispose();
  }

  private async connect(): Promise<{ conn: LdapWireConnection; index: number } | undefined> {
    const c = await connectFirst(this.failover, { opts: this.opts, ca: this.ca, timeoutMs: this.timeoutMs, signal: this.ac.signal }, () => this.stopped);
    if (c) this.conns.add(c.conn);
    return c;
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
    this.guard?.dispose();
    await this.feed.close();
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
  /** Closed by the caller (return, throw, dispose) before its end: a later next() is a USAGE fault, not a quiet end. */
  let closed = false;
  const finish = async () => {
    if (!run?.over) closed = true;
    if (finished) return;
    finished = true;
    await run?.dispose();
  };
  const it: AsyncIterableIterator<VerifyResult> & AsyncDisposable = {
    next(): Promise<IteratorResult<VerifyResult>> {
      if (closed) return Promise.reject(disposedError('verifyMany run', 'the accounts it had not answered were not checked; start a new run for them'));
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
