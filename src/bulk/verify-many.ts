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
import { disposedError } from '../core/errors.js';
import { BulkRun, loadParts } from './run.js';
import type { AccountLine, VerifyManyOptions, VerifyResult } from './types.js';

export type { AccountLine, VerifyManyOptions, VerifyResult } from './types.js';

/**
 * Verify many accounts against one directory (its URLs are failover replicas), or with its KDC
 * (`kerberos`). Yields one result per account as it is answered. Faults that stop the whole run (bad options, a rejected
 * service account) throw CredgateError; everything about an account is a finding in its result.
 * Breaking out of the loop closes every connection.
 */
export function verifyMany(input: AsyncIterable<AccountLine> | Iterable<AccountLine>, options: VerifyManyOptions): AsyncIterableIterator<VerifyResult> & AsyncDisposable {
  let run: BulkRun | undefined;
  let starting: Promise<void> | undefined;
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
        // options are checked on the first next(), before any I/O (after the parts this run needs are loaded)
        starting ??= loadParts(options).then((parts) => {
          if (finished) return; // closed while loading
          run = new BulkRun(input, options, parts);
          run.start();
        });
        return starting.then(
          () => (run ? run.pull() : { value: undefined, done: true as const }),
          (e: unknown) => {
            finished = true;
            throw e;
          },
        );
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

/**
 * verifyMany for a consumer that takes each result as it is answered, without an iterator step per
 * result (the CLI): `each(r)` is called by the worker that answered the account, and a promise it
 * returns holds that worker back (backpressure). Resolves when every account is answered; rejects
 * as verifyMany's loop throws (bad options, a fault that stops the run, the caller's abort with
 * accounts left), and with what `each` throws, which stops the run. The connections are closed
 * either way.
 */
export async function verifyEach(input: AsyncIterable<AccountLine> | Iterable<AccountLine>, options: VerifyManyOptions, each: (r: VerifyResult) => Promise<void> | undefined | void): Promise<void> {
  const run = new BulkRun(input, options, await loadParts(options), each);
  run.start();
  // no result is queued: pull() settles at the end (done, or the run's fault), the run disposed
  await run.pull();
}
