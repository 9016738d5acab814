/**
 * `credgate verify`'s accounts: the input file's records (bulk/input.ts AccountReader), counted for
 * the progress line, bad lines reported and written, accounts an earlier run answered skipped.
 *
 * An async iterator whose `next()` answers synchronously (a plain IteratorResult, which an await
 * takes as is) whenever the next account can be read from the text already in memory, and with a
 * promise only when a chunk must be read or stdout is behind: the bulk run's feed reads it without
 * a promise per account (bulk/feed.ts). The three async generators this replaced, over a reader
 * that went a character at a time, took ~79 ms of CPU for 40,000 accounts; this takes ~27 ms. A
 * header the reader cannot use is thrown from next() itself.
 */
import type { AccountReader } from '../../bulk/input.js';
import type { AccountStates } from '../../bulk/resume.js';
import type { SummaryBuilder } from '../../bulk/summary.js';
import type { AccountLine } from '../../bulk/types.js';
import type { CliIO } from '../types.js';
import { CredgateError, isCredgateError } from '../../core/errors.js';
import { say, t } from '../render.js';
import type { Progress } from '../progress.js';

/** Bad lines told on stderr one by one; after these, one line saying there are more. */
const BAD_SHOWN = 20;
const DONE: IteratorResult<AccountLine> = { value: undefined, done: true };

type Next = IteratorResult<AccountLine> | Promise<IteratorResult<AccountLine>>;

export interface VerifyInputContext {
  io: CliIO;
  /** The input's name in bad-line messages (its file name, or stdin). */
  name: string;
  /** The input in an error (its path, or standard input). */
  label: string;
  progress: Progress;
  summary: SummaryBuilder;
  /** Accounts an earlier run answered (skipped) or sent and lost (not resent). */
  done: AccountStates;
  /** Bad lines an earlier run recorded (not written again). */
  knownBad: Set<number>;
  /** A stop takes no further account. */
  stop: AbortSignal;
  /** Writes a line to the results; a promise when the output is behind. */
  write: (line: string) => Promise<void> | undefined;
}

export class VerifyInput {
  constructor(private readonly reader: AccountReader, private readonly c: VerifyInputContext) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Next {
    const { progress, summary, done, knownBad } = this.c;
    for (;;) {
      if (this.c.stop.aborted) return this.return();
      const rec = this.reader.read();
      if (!rec) {
        if (!this.reader.done) return this.reader.fill().then(() => this.next(), (e: unknown) => this.failed(e));
        progress.inputDone();
        return DONE;
      }
      if (rec.kind === 'bad') {
        progress.record(rec.line);
        if (knownBad.has(rec.line)) {
          // recorded by an earlier run: not written or counted again
          progress.badKnown++;
          continue;
        }
        progress.bad++;
        summary.addBadLine();
        this.tell(rec.line, rec.reason);
        const w = this.c.write(JSON.stringify({ line: rec.line, ok: false, code: 'input.invalid', category: 'usage', error: rec.reason }) + '\n');
        if (w) return w.then(() => this.next());
        continue;
      }
      const acct = rec.account;
      progress.record(acct.line);
      const st = done.state(acct.username);
      if (st === 'answered') {
        progress.skipped++;
        continue;
      }
      if (st === 'lost') {
        // never resent (it may have cost a bad-password count), but not answered either: it counts
        // as unreachable in the exit code, under its own line in the summary
        progress.lost++;
        summary.addLost(done.lostCode(acct.username));
        continue;
      }
      return { value: acct, done: false };
    }
  }

  /** No further account: the input is closed. */
  async return(): Promise<IteratorResult<AccountLine>> {
    await this.reader.close();
    return DONE;
  }

  /** The input could not be read (an I/O error mid-file): INPUT_INVALID naming it, the run stops. */
  private failed(e: unknown): never {
    if (isCredgateError(e)) throw e;
    const code = (e as NodeJS.ErrnoException | null)?.code;
    throw new CredgateError(`Reading the input ${this.c.label} failed (${typeof code === 'string' ? code : 'error'}); the run stopped: rerun it with the same --output to verify the rest.`, { code: 'INPUT_INVALID', cause: e, details: { path: this.c.label } });
  }

  /** A bad line on stderr (its number and the reason, never its content). */
  private tell(line: number, reason: string): void {
    const { io, progress } = this.c;
    if (progress.bad <= BAD_SHOWN) say(io.stderr, t`${progress.bad === 1 && io.stderr.isTTY ? t`\n` : ''}credgate verify: ${this.c.name} line ${line}: ${reason}; skipped\n`);
    else if (progress.bad === BAD_SHOWN + 1) io.stderr.write('credgate verify: more bad lines; see the output file for all of them\n');
  }
}

/** The input as the bulk run takes it (an async iterable; see VerifyInput). */
export function asAccountInput(input: VerifyInput): AsyncIterable<AccountLine> {
  return input as unknown as AsyncIterable<AccountLine>;
}
