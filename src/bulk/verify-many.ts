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
import { ConfigError } from '../core/errors.js';
import { parseAccountName } from '../core/credential.js';
import { finding, type Finding } from '../findings/finding.js';
import { fixes } from '../findings/catalog.js';
import { causeOf, decideAccount } from '../findings/diagnose.js';
import { connectionFinding } from '../findings/faults.js';
import { accountAnswerFindings } from '../checks/ldap-answer.js';
import { assertBindTransport, loadCa, parseLdapUrls, tlsOptionsFor, type ParsedUrl } from '../protocols/ldap/transport.js';
import { LdapWireConnection, WireConnectionError } from '../protocols/ldap/connection.js';
import { RateLimiter } from './rate-limit.js';
import { BatchGuard, type GuardItem } from './guard.js';
import { advancePast, type Failover } from './failover.js';
import type { AccountLine, VerifyManyOptions, VerifyResult } from './types.js';

export type { AccountLine, VerifyManyOptions, VerifyResult } from './types.js';

const SOURCE = 'ldap-bind';

interface Item extends GuardItem {
  acct: AccountLine;
  /** What to send as the bind name. */
  bindName?: string;
  t0: number;
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
    this.batch = opts.service ? Math.max(1, Math.min(500, opts.guardBatchSize ?? 50)) : Math.max(16, c * 2);
    this.highWater = Math.max(64, c * 16);
    this.it = Symbol.asyncIterator in input
      ? (input as AsyncIterable<AccountLine>)[Symbol.asyncIterator]()
      : (input as Iterable<AccountLine>)[Symbol.iterator]();
    if (opts.insecureSkipTlsVerify) {
      this.warnings.push(finding(SOURCE, 'tls.verification-disabled', 'warning', 'TLS certificate verification was switched off for this run; the server was not authenticated.', {}, fixes('tls.verification-disabled', 'default')));
    }
    if (opts.allowPlainBind && !opts.starttls && this.urls.some((u) => u.scheme === 'ldap')) {
      this.warnings.push(finding(SOURCE, 'ldap.plain-bind', 'warning', 'The password was sent over plain LDAP without TLS, readable by anyone on the path.', {}, fixes('ldap.plain-bind', 'default')));
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
    if (this.guard) await this.guard.read(raw.filter((i) => !i.decided));
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
      item.decided = [finding('bulk', 'input.invalid', 'error', `This account was not checked: ${problem}.`, { ...(acct.line !== undefined ? { line: acct.line } : {}) }, fixes('input.invalid', 'default'))];
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
            if (this.stopping()) return;
            if (!conn || !conn.alive) {
              if (conn) this.release(conn);
              conn = undefined;
              const c = await this.connect();
              if (!c) {
                const d = this.failover.down;
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
              findings = accountAnswerFindings(r, pw, this.warnDays, bindName);
            } catch (e) {
              if (e instanceof WireConnectionError && !e.sent && attempt < this.urls.length + 2) continue;
              bound = !(e instanceof WireConnectionError) || e.sent;
              findings = [this.lostFinding(e, this.urls[connUrl]!, bindName)];
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
    if (code === 'PROTOCOL_ERROR') {
      // the server answered this bind with bytes that break the protocol: not an answer, never resent
      const f = connectionFinding(e, u, SOURCE, 'bind', false, { requestSent: true })!;
      f.evidence.account = account;
      return f;
    }
    if (code === 'ETIMEDOUT') {
      const f = connectionFinding(e, u, SOURCE, 'bind', true)!;
      f.message = `${u.url} did not answer this account's bind within ${this.timeoutMs} ms; it was not retried.`;
      f.evidence.account = account;
      return f;
    }
    const msg = e instanceof Error ? e.message : String(e);
    return finding(SOURCE, 'net.connection-lost', 'error', `The connection to ${u.url} was lost before the directory answered this account's bind; it was not retried.`, {
      url: u.url, host: u.host, port: u.port, phase: 'bind', account, error: typeof code === 'string' ? code : msg.slice(0, 200),
    }, fixes('net.connection-lost', 'bulk'));
  }

  private async connect(): Promise<{ conn: LdapWireConnection; index: number } | undefined> {
    const fo = this.failover;
    if (fo.down) return undefined;
    const start = fo.index;
    const failures: Finding[] = [];
    for (let k = 0; k < this.urls.length; k++) {
      if (fo.down) return undefined;
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
        if (k > 0 && fo.index === start) fo.index = index;
        return { conn, index };
      } catch (e) {
        if (this.stopped) return undefined;
        const phase = mode === 'starttls' ? 'starttls' : 'connect';
        const f = connectionFinding(e, u, SOURCE, phase, false)
          ?? finding(SOURCE, 'net.connection-lost', 'error', `Could not open an LDAP connection to ${u.url}: ${(e instanceof Error ? e.message : String(e)).slice(0, 200)}.`, { url: u.url, phase }, fixes('net.connection-lost', 'bulk'));
        failures.push(f);
      }
    }
    if (!fo.down) {
      if (failures.length > 1) for (const f of failures) f.evidence.failover = `${failures.length} URLs tried in order`;
      fo.down = { findings: failures, url: this.urls[(start + failures.length - 1) % this.urls.length]!.url };
    }
    return undefined;
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
