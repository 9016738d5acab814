/** Large outputs written as they are made: streamed JSON, chunked lines (a fleet's findings are tens of MB), a command's data sink (a file written in batches, or stdout). */
import fs from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { CredgateError } from '../core/errors.js';
import type { Shown } from './render.js';
import type { CliIO } from './types.js';

/** A JSON string value given in pieces (a fleet's PowerShell script: tens of MB), written as they are made. */
export class JsonTextPieces {
  constructor(readonly pieces: Iterable<string>) {}
}

/** Which arrays writeJson streams: a key maps to the element map (or undefined), or to the spec of a nested object. */
export type StreamSpec = { [key: string]: ((x: never) => unknown) | undefined | StreamSpec };

/**
 * JSON.stringify(obj, null, 2), written as it is made: the elements of the arrays (or iterators)
 * named in `stream` (at the top level, or inside nested objects given a spec of their own) one at a
 * time, mapped when a map is given, in chunks of about 64 KiB, waiting for the stream to drain. A
 * fleet's findings or purge plan (tens of thousands of items) are never one string, nor copied into
 * a second array.
 */
export async function writeJson(out: Writable, obj: Record<string, unknown>, stream: StreamSpec = {}): Promise<void> {
  let buf = '';
  const flush = async () => {
    const ok = out.write(buf);
    buf = '';
    if (!ok) await once(out, 'drain');
  };
  // an array, or an iterator that makes the elements as they are written (never a string)
  const isList = (x: unknown): x is Iterable<unknown> => Array.isArray(x) || (!!x && typeof x === 'object' && typeof (x as Iterable<unknown>)[Symbol.iterator] === 'function' && !isPlain(x));
  const isPlain = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype;
  const writeObject = async (o: Record<string, unknown>, spec: StreamSpec, pad: string): Promise<void> => {
    buf += '{';
    let first = true;
    for (const [k, v] of Object.entries(o)) {
      if (v === undefined || typeof v === 'function') continue;
      buf += `${first ? '' : ','}\n${pad}  ${JSON.stringify(k)}: `;
      first = false;
      const sub = spec[k];
      if (k in spec && isList(v) && typeof sub !== 'object') {
        const map = sub as ((x: unknown) => unknown) | undefined;
        let n = 0;
        for (const x of v) {
          // one compact element per line: a fleet's findings are tens of MB; indenting them costs
          // more than the inspection itself, and line-per-element output still greps and parses
          buf += `${n++ ? ',' : '['}\n${pad}    ${JSON.stringify(map ? map(x) : x)}`;
          if (buf.length >= 65536) await flush(); // not an await per element
        }
        buf += n ? `\n${pad}  ]` : '[]';
      } else if (v instanceof JsonTextPieces) {
        // the escapes of the pieces are the escapes of the whole: JSON escapes one character at a
        // time (a caller's pieces must not split a surrogate pair; the script's end at whole lines)
        buf += '"';
        for (const piece of v.pieces) {
          buf += JSON.stringify(piece).slice(1, -1);
          if (buf.length >= 65536) await flush();
        }
        buf += '"';
      } else if (sub && typeof sub === 'object' && isPlain(v)) await writeObject(v, sub, `${pad}  `);
      else buf += JSON.stringify(v, null, 2).replace(/\n/g, `\n${pad}  `);
    }
    buf += first ? '}' : `\n${pad}}`;
  };
  await writeObject(obj, stream, '');
  buf += '\n';
  await flush();
}

/**
 * Lines written in chunks of about 64 KiB: a fleet's human output is tens of thousands of lines,
 * and a write per line (a system call each on a file or pipe) cost more than the inspection.
 */
export function chunkedLines(out: Writable): { line(text: Shown): void; flush(): void } {
  let buf = '';
  return {
    line(text) {
      buf += text.text;
      if (buf.length >= 65536) {
        out.write(buf);
        buf = '';
      }
    },
    flush() {
      if (buf) out.write(buf);
      buf = '';
    },
  };
}


/** Where a command writes its data (verify's results, purge's script): a file, or standard output for "-". */
export interface DataSink {
  /** The file's absolute path, or "-" for standard output. */
  readonly path: string;
  /** The data goes to standard output: the command's own summary then goes to stderr. */
  readonly toStdout: boolean;
  /**
   * Write: a promise only when the caller must wait (standard output's buffer is full), so a file's
   * lines cost no promise each; throws (or rejects with) the write error once there is one.
   */
  write(data: string | Uint8Array): Promise<void> | undefined;
  /** The first write error (INPUT_INVALID naming the output), once one happened; write() throws it. */
  readonly error: CredgateError | undefined;
  /** Finish: the file is ended and closed; standard output is left open. Check `error` after it. */
  close(): Promise<void>;
}

/**
 * Open `target` ("-": standard output; else an absolute path) for a command's data: a file is
 * appended to or truncated, and an error opening it is INPUT_INVALID naming the file.
 */
export async function openDataSink(target: string, io: CliIO, o: { append: boolean }): Promise<DataSink> {
  return target === '-' ? streamSink(io.stdout) : fileSink(target, o.append);
}

/** A file: lines batched by LineFile (one write(2) per 64 KiB or FLUSH_MS), its fs error kept as INPUT_INVALID naming the file. */
function fileSink(target: string, append: boolean): DataSink {
  let file: LineFile;
  try {
    file = LineFile.open(target, append);
  } catch (e) {
    throw new CredgateError(`Cannot write the output file ${target} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, { code: 'INPUT_INVALID', cause: e, details: { path: target } });
  }
  let error: CredgateError | undefined;
  const failed = (): CredgateError | undefined => {
    if (file.error) error ??= new CredgateError(`Writing the output file ${target} failed (${file.error.code ?? 'error'}).`, { code: 'INPUT_INVALID', cause: file.error, details: { path: target } });
    return error;
  };
  return {
    path: target,
    toStdout: false,
    get error() {
      return failed();
    },
    write(data) {
      const e = failed();
      if (e) throw e;
      file.write(data);
      return undefined;
    },

    async close() {
      file.close();
      failed();
    },
  };
}

/** Standard output: a stream whose full buffer is waited for, and whose reader may leave (EPIPE). */
function streamSink(out: Writable): DataSink {
  let error: CredgateError | undefined;
  const onError = (e: unknown) => {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    error ??= new CredgateError(`Writing to standard output failed (${code}).`, { code: 'INPUT_INVALID', cause: e, details: { path: '-' } });
  };
  out.on('error', onError);
  // a full buffer waits for drain; a stream that failed or closed (stdout's reader gone: EPIPE)
  // never drains, and waiting for it would end the process with nothing left to do, exit 0.
  // One wait for every writer behind it (verify's workers each write their own results): a
  // listener each went past the stream's 10 and printed MaxListenersExceededWarning.
  let waiting: Promise<void> | undefined;
  const drained = () => (waiting ??= new Promise<void>((resolve) => {
    const done = () => {
      out.off('drain', done).off('error', done).off('close', done);
      waiting = undefined;
      resolve();
    };
    out.on('drain', done).on('error', done).on('close', done);
  }));
  return {
    path: '-',
    toStdout: true,
    get error() {
      return error;
    },
    write(data) {
      if (error) throw error;
      if (out.write(data)) return undefined;
      return drained().then(() => {
        if (error) throw error;
      });
    },
    async close() {
      // a pipe's write fails on the next turn (EPIPE): listen that long, or the error is unhandled
      await new Promise<void>((r) => setImmediate(r));
      out.off('error', onError);
    },
  };
}

/** One whole piece of data on stdout (--script-out -, report --out -): a reader that leaves is INPUT_INVALID, not an unhandled error. */
export async function writeStdout(io: CliIO, data: string | Uint8Array | Iterable<Uint8Array>): Promise<void> {
  const out = await openDataSink('-', io, { append: false });
  if (typeof data === 'string' || data instanceof Uint8Array) await out.write(data);
  else {
    for (const piece of data) {
      const w = out.write(piece);
      if (w) await w;
    }
  }
  await out.close();
  if (out.error) throw out.error;
}

/**
 * A file of lines that owns its descriptor and writes in batches: a line waits in memory at most
 * FLUSH_MS (or until 64 KiB are waiting), then goes out with the others in one write(2) — a
 * stream's write per line cost a bulk run (tens of thousands of results a second) more than the
 * CSV, the result and its JSON together, and one write per line was a system call per result.
 * Writes are synchronous: once flushed a line is the kernel's. A failed write is kept in `error`
 * (and thrown by the next write).
 */
export class LineFile {
  /** The longest a line waits in memory before it is written (the loss window of a killed process). */
  static readonly FLUSH_MS = 5;
  /** Bytes waiting that are written at once. */
  static readonly FLUSH_BYTES = 65_536;
  /**
   * The bytes waiting: each line is encoded into it as it comes (a line's few pieces flattened and
   * encoded at once), which cost a 40,000-line run ~25 ms less than joining the lines of a batch
   * into one string and encoding that, and less than writing the pieces of each line in place.
   * Twice FLUSH_BYTES, so a line of up to as much again fits after what is waiting.
   */
  private readonly buf = Buffer.allocUnsafe(2 * LineFile.FLUSH_BYTES);
  private at = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The first write error (an fs error: ENOSPC, EIO, ...); nothing is written after it. */
  error: NodeJS.ErrnoException | undefined;

  private constructor(private readonly fd: number) {}

  /** Open `file` for appending (or truncated when `append` is false); throws the fs error. */
  static open(file: string, append: boolean): LineFile {
    return new LineFile(fs.openSync(file, append ? 'a' : 'w'));
  }

  /** Add whole lines, text or UTF-8 bytes, to the file: written within FLUSH_MS. */
  write(data: string | Uint8Array): void {
    if (this.error) throw this.error;
    // at most: UTF-8 takes 3 bytes per UTF-16 unit
    const most = typeof data === 'string' ? data.length * 3 : data.length;
    if (this.at + most > this.buf.length) {
      this.flush();
      if (most > this.buf.length) {
        // longer than the buffer: out on its own
        this.out(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
        return;
      }
    }
    if (typeof data === 'string') this.at += this.buf.write(data, this.at);
    else {
      this.buf.set(data, this.at);
      this.at += data.length;
    }
    this.added();
  }

  private added(): void {
    if (this.at >= LineFile.FLUSH_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), LineFile.FLUSH_MS);
  }

  /** Write what is waiting now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.at || this.closed || this.error) return;
    const n = this.at;
    this.at = 0;
    this.out(this.buf.subarray(0, n));
  }

  private out(b: Uint8Array): void {
    if (this.closed || this.error) return;
    try {
      for (let off = 0; off < b.length;) off += fs.writeSync(this.fd, b, off, b.length - off);
    } catch (e) {
      this.error = e as NodeJS.ErrnoException;
    }
  }

  /** Write what is waiting and close the file. Idempotent; a write error stays in `error`. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    try {
      fs.closeSync(this.fd);
    } catch (e) {
      this.error ??= e as NodeJS.ErrnoException;
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
