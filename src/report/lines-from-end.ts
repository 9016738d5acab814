/**
 * A file's lines from the last to the first, read in blocks from its end: a verify output's last
 * record of an account is its answer, so reading backwards meets it first, and memory is one block
 * and one line whatever the size of the file.
 */
import fs from 'node:fs';
import { CredgateError } from '../core/errors.js';

const BLOCK = 256 * 1024;
/** A line longer than this is no result record: the file is refused rather than held in memory. */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;

/**
 * The lines of `file` (split at LF; a CR before it is left to the caller's trim), last first; a
 * final newline ends the last line rather than starting an empty one. Lines are decoded as UTF-8
 * one at a time (a line never splits a character: no UTF-8 sequence holds the byte 0x0A).
 */
export async function* linesFromEnd(file: string, label = file): AsyncGenerator<string> {
  const fh = await fs.promises.open(file, 'r');
  try {
    let pos = (await fh.stat()).size;
    let tail = Buffer.alloc(0);
    let last = true;
    const tooLong = () => new CredgateError(`${label}: a line of more than ${MAX_LINE_BYTES / 1048576} MiB is not a result record; check that this is a credgate verify output.`, { code: 'INPUT_INVALID', details: { path: label } });
    while (pos > 0) {
      const n = Math.min(BLOCK, pos);
      pos -= n;
      const buf = Buffer.allocUnsafe(n);
      for (let got = 0; got < n;) {
        const { bytesRead } = await fh.read(buf, got, n - got, pos + got);
        if (bytesRead === 0) throw new CredgateError(`${label} changed while it was read; read it again when the run writing it has finished.`, { code: 'INPUT_INVALID', details: { path: label } });
        got += bytesRead;
      }
      let end = n;
      for (let i = buf.lastIndexOf(0x0a, end - 1); end > 0 && i >= 0; i = end > 0 ? buf.lastIndexOf(0x0a, end - 1) : -1) {
        const line = tail.length ? Buffer.concat([buf.subarray(i + 1, end), tail]) : buf.subarray(i + 1, end);
        tail = Buffer.alloc(0);
        end = i;
        if (last) {
          last = false;
          if (line.length === 0) continue; // the file's final newline
        }
        if (line.length > MAX_LINE_BYTES) throw tooLong();
        yield line.toString('utf8');
      }
      tail = Buffer.concat([buf.subarray(0, end), tail]);
      if (tail.length > MAX_LINE_BYTES) throw tooLong();
    }
    // the first line (or the only one); an empty file has none
    if (!last || tail.length) yield tail.toString('utf8').replace(/^\uFEFF/, '');
  } finally {
    await fh.close();
  }
}
