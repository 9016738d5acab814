/** Large outputs written as they are made: streamed JSON and chunked lines (a fleet's findings are tens of MB). */
import fs from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { CredgateError } from '../core/errors.js';
import type { Shown } from './render.js';
import type { CliIO } from './types.js';

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


/** Where a command writes its data (verify's results, purge's script): a file, or standard output for "-". */
export interface DataSink {
  /** The file's absolute path, or "-" for standard output. */
  readonly path: string;
  /** The data goes to standard output: the command's own summary then goes to stderr. */
  readonly toStdout: boolean;
  /** Write, waiting for the stream to drain when its buffer is full; throws the write error once there is one. */
  write(data: string | Uint8Array): Promise<void>;
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
  const toStdout = target === '-';
  let out: Writable;
  if (toStdout) out = io.stdout;
  else {
    const file = fs.createWriteStream(target, { flags: o.append ? 'a' : 'w' });
    await new Promise<void>((resolve, reject) => {
      file.once('open', () => resolve());
      file.once('error', (e) => reject(new CredgateError(`Cannot write the output file ${target} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, { code: 'INPUT_INVALID', cause: e, details: { path: target } })));
    });
    out = file;
  }
  let error: CredgateError | undefined;
  const onError = (e: unknown) => {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    error ??= new CredgateError(`Writing ${toStdout ? 'to standard output' : `the output file ${target}`} failed (${code}).`, { code: 'INPUT_INVALID', cause: e, details: { path: target } });
  };
  out.on('error', onError);
  // a full buffer waits for drain; a stream that failed or closed (stdout's reader gone: EPIPE)
  // never drains, and waiting for it would end the process with nothing left to do, exit 0
  const drained = () => new Promise<void>((resolve) => {
    const done = () => {
      out.off('drain', done).off('error', done).off('close', done);
      resolve();
    };
    out.on('drain', done).on('error', done).on('close', done);
  });
  return {
    path: target,
    toStdout,
    get error() {
      return error;
    },
    async write(data) {
      if (error) throw error;
      if (!out.write(data)) await drained();
      if (error) throw error;
    },
    async close() {
      if (!toStdout) await new Promise<void>((r) => out.end(() => r()));
      // a pipe's write fails on the next turn (EPIPE): listen that long, or the error is unhandled
      else await new Promise<void>((r) => setImmediate(r));
      out.off('error', onError);
    },
  };
}

/** One whole piece of data on stdout (--script-out -, report --out -): a reader that leaves is INPUT_INVALID, not an unhandled error. */
export async function writeStdout(io: CliIO, data: string | Uint8Array): Promise<void> {
  const out = await openDataSink('-', io, { append: false });
  await out.write(data);
  await out.close();
  if (out.error) throw out.error;
}
