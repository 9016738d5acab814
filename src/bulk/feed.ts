/**
 * The input side of a bulk run: accounts read ahead in batches (only as fast as the pool works, so
 * memory stays flat), each checked (name, password) and named as it will be tried (bind name or
 * Kerberos principal) and, with a service account, passed through the batched lockout guard before
 * a worker takes it.
 */
import { parseAccountName } from '../core/credential.js';
import { finding } from '../findings/finding.js';
import { fixes } from '../findings/catalog.js';
import type { kerberosTarget } from './kerberos-attempt.js';
import type { BatchGuard } from './guard.js';
import type { BulkItem } from './attempt.js';
import type { AccountLine, VerifyManyOptions } from './types.js';

export class AccountFeed {
  private readonly it: AsyncIterator<AccountLine> | Iterator<AccountLine>;
  private inputDone = false;
  private readonly prepared: BulkItem[] = [];
  private filling: Promise<void> | undefined;

  /** `stopped`: the run takes no further account (the consumer is gone, or the caller's signal aborted). */
  constructor(
    input: AsyncIterable<AccountLine> | Iterable<AccountLine>,
    private readonly opts: VerifyManyOptions,
    private readonly batch: number,
    private readonly guard: BatchGuard | undefined,
    private readonly stopped: () => boolean,
    /** Kerberos runs: the principal and realm an account is tried as (kerberos-attempt.ts, loaded with the run). */
    private readonly target?: typeof kerberosTarget,
  ) {
    this.it = Symbol.asyncIterator in input
      ? (input as AsyncIterable<AccountLine>)[Symbol.asyncIterator]()
      : (input as Iterable<AccountLine>)[Symbol.iterator]();
  }

  /** Accounts were left unread or unserved. */
  get left(): boolean {
    return this.prepared.length > 0 || !this.inputDone;
  }

  /** Close the caller's input. */
  async close(): Promise<void> {
    try {
      await this.it.return?.();
    } catch {
      // the caller's iterator failed to close; nothing of ours is left open
    }
  }

  /** An item without awaiting, when one is prepared (the common case). Throws what failed the input. */
  takeNow(): BulkItem | undefined {
    if (this.failure) throw this.failure.error;
    if (this.stopped()) return undefined;
    const item = this.prepared.shift();
    if (item && this.prepared.length < this.batch / 2 && !this.inputDone && !this.filling) this.startFill();
    return item;
  }

  async next(): Promise<BulkItem | undefined> {
    for (;;) {
      if (this.failure) throw this.failure.error;
      if (this.stopped()) return undefined;
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

  /**
   * The input's iterator (or the guard's read) failed: the next take throws it, which stops the run
   * with it. A refill runs while the workers take what is prepared, so nothing may await it: its
   * failure is kept here, never left as a rejected promise (which would end the process).
   */
  private failure: { error: unknown } | undefined;

  private startFill(): void {
    this.filling = this.fill()
      .catch((e: unknown) => {
        this.failure ??= { error: e };
        this.inputDone = true;
      })
      .finally(() => {
        this.filling = undefined;
      });
  }

  private async fill(): Promise<void> {
    const raw: BulkItem[] = [];
    while (raw.length < this.batch && !this.inputDone) {
      if (this.opts.signal?.aborted) return;
      const p = this.it.next();
      // a plain iterable is read without a promise per account, and so is an async iterator whose
      // next() answers synchronously when it can (the CLI's input: cli/commands/verify-input.ts)
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

  private prepare(acct: AccountLine): BulkItem {
    const item: BulkItem = { acct, key: { name: '', folded: '' }, t0: 0 };
    let problem: string | undefined;
    try {
      if (typeof acct.username !== 'string' || !acct.username.trim()) problem = 'the user name is empty';
      else if (!acct.password || typeof acct.password.reveal !== 'function') problem = 'the password is missing';
      else if (acct.password.reveal().length === 0) problem = 'the password is empty (an empty simple bind is anonymous and proves nothing)';
      else {
        // the guard reads the account by its directory name
        if (this.opts.service || (!this.opts.kerberos && this.opts.defaultDomain)) item.name = parseAccountName(acct.username, this.opts.defaultDomain);
        if (this.opts.kerberos) {
          const t = this.target!(acct.username, this.opts.kerberos, this.opts.defaultDomain);
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
}
