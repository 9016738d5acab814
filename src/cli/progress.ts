/**
 * `credgate verify`'s progress line on stderr: accounts done (answered, skipped, bad lines) of the
 * accounts in the input, the rate and an ETA; a bar on a terminal, a line every few seconds
 * otherwise. The share is of accounts, never of bytes read: the input is read ahead of the binds.
 */
import type { CliIO } from './types.js';
import { say, t } from './render.js';

function fmtDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

function countNewlines(chunk: string | Buffer): number {
  let n = 0;
  if (typeof chunk === 'string') {
    for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) n++;
  } else {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) n++;
  }
  return n;
}

export class Progress {
  private readonly t0 = performance.now();
  private lastPrint = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tty: boolean;
  done = 0;
  failed = 0;
  skipped = 0;
  /** Skipped because an earlier run sent the bind and lost its answer: not resent, unresolved. */
  lost = 0;
  bad = 0;
  /** Bad lines an earlier run already recorded in the output (not written again). */
  badKnown = 0;
  /** Input records handed out so far (accounts and bad lines), and the lines of the first and the last. */
  private seen = 0;
  private firstLine = 0;
  private lastLine = 0;
  /** The parser has handed out every record: `seen` is the number of records in the input. */
  private recordsDone = false;
  /** What the reader has read of the input (ahead of the parser): bytes, newlines, whether all of it. */
  private bytesRead = 0;
  private newlines = 0;
  private endsWithNewline = true;
  private readDone = false;

  constructor(private readonly io: CliIO, private readonly totalBytes: number | undefined, private readonly intervalMs: number) {
    this.tty = !!io.stderr.isTTY;
    this.timer = setInterval(() => this.print(false), this.tty ? 200 : intervalMs);
    this.timer.unref();
  }

  /** The input as read, chunk by chunk, counted. */
  async *count<T extends string | Buffer>(input: AsyncIterable<T>): AsyncGenerator<T> {
    for await (const chunk of input) {
      this.bytesRead += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      this.newlines += countNewlines(chunk);
      if (chunk.length) this.endsWithNewline = typeof chunk === 'string' ? chunk.endsWith('\n') : chunk[chunk.length - 1] === 10;
      yield chunk;
    }
    this.readDone = true;
  }

  /** One record handed out by the parser (its first line number). */
  record(line: number | undefined): void {
    this.seen++;
    if (line !== undefined) {
      if (!this.firstLine) this.firstLine = line;
      this.lastLine = line;
    }
  }

  /** The parser reached the end of the input. */
  inputDone(): void {
    this.recordsDone = true;
  }

  /**
   * The records in the input: exact once the parser has handed them all out; before that, the
   * records per line so far times the lines in the input (counted once read; estimated from the
   * file's size before). Unknown for standard input until it has been read.
   */
  private total(): number | undefined {
    if (this.recordsDone) return this.seen;
    if (!this.seen || !this.firstLine) return undefined;
    const lines = this.readDone
      ? this.newlines + (this.endsWithNewline ? 0 : 1)
      : this.totalBytes && this.bytesRead ? (this.newlines * this.totalBytes) / this.bytesRead : undefined;
    if (lines === undefined) return undefined;
    const span = this.lastLine - this.firstLine + 1;
    return Math.max(this.seen, Math.round((this.seen * (lines - this.firstLine + 1)) / span));
  }

  private line(final: boolean): string {
    const secs = (performance.now() - this.t0) / 1000;
    const rate = secs > 0 ? this.done / secs : 0;
    const handled = this.done + this.skipped + this.lost + this.bad + this.badKnown;
    const total = this.total();
    const frac = total === undefined ? undefined : total === 0 ? 1 : Math.min(handled / total, this.recordsDone ? 1 : 0.99);
    const eta = total !== undefined && rate > 0 ? (total - handled) / rate : undefined;
    const parts = [`${this.done} done`, `${this.failed} failed`, `${Math.round(rate)}/s`];
    if (this.skipped) parts.push(`${this.skipped} skipped (already answered)`);
    if (this.lost) parts.push(`${this.lost} unresolved (answer lost earlier, not resent)`);
    if (this.bad) parts.push(`${this.bad} bad lines`);
    if (frac !== undefined) {
      parts.push(`${Math.floor(frac * 100)}% of ${this.recordsDone ? '' : '~'}${total} accounts`);
      if (!final) parts.push(`ETA ${eta === undefined ? '?' : fmtDuration(eta)}`);
    }
    if (this.tty && frac !== undefined) {
      const w = 24;
      const filled = Math.round(frac * w);
      return `[${'#'.repeat(filled)}${'-'.repeat(w - filled)}] ${parts.join(', ')}`;
    }
    return parts.join(', ');
  }

  print(final: boolean): void {
    if (this.tty) {
      say(this.io.stderr, t`\r\u001b[2K${this.line(final)}${final ? t`\n` : ''}`);
      return;
    }
    const now = performance.now();
    if (!final && now - this.lastPrint < this.intervalMs - 50) return;
    this.lastPrint = now;
    say(this.io.stderr, t`credgate verify: ${this.line(final)}\n`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
