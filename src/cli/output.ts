/** Large outputs written as they are made: streamed JSON, chunked lines (a fleet's findings are tens of MB), a results file written in batches. */
import fs from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Shown } from './render.js';

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
  private buf = '';
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The first write error (an fs error: ENOSPC, EIO, ...); nothing is written after it. */
  error: NodeJS.ErrnoException | undefined;

  private constructor(private readonly fd: number) {}

  /** Open `file` for appending (or truncated when `append` is false); throws the fs error. */
  static open(file: string, append: boolean): LineFile {
    return new LineFile(fs.openSync(file, append ? 'a' : 'w'));
  }

  /** Add text (whole lines) to the file: written within FLUSH_MS. */
  write(text: string): void {
    if (this.error) throw this.error;
    this.buf += text;
    if (this.buf.length >= 65536) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), LineFile.FLUSH_MS);
  }

  /** Write what is waiting now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.buf || this.closed || this.error) return;
    const b = Buffer.from(this.buf, 'utf8');
    this.buf = '';
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
