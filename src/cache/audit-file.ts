/**
 * The purge's audit record on disk: JSON Lines, one line per phase (planned, done), created 0600.
 *
 * A fleet's record is tens of MB (100,000 planned entries: ~30 MB), so a line is streamed out in
 * 64 KiB pieces and never held whole. Pieces are separate writes, so two purges appending to the
 * same record at once could interleave: a lock file beside it (`<record>.lock`, created with
 * O_EXCL, holding `pid@host`) makes the appends take turns. A lock whose process is gone (same
 * host) is taken over; one held longer than the wait is an error that names the lock file. A write
 * that fails part way is cut back off, so the file stays whole JSON Lines.
 */
import fs from 'node:fs';
import os from 'node:os';

/** How long an append waits for another purge's append to finish. */
const LOCK_WAIT_MS = 30_000;
const PIECE = 65_536;

/** Append `{...head, items, phase}` as one JSON line, in that key order; the items serialised one at a time. */
export function appendAuditLine(file: string, head: Record<string, unknown>, items: readonly unknown[], phase: string, lockWaitMs = LOCK_WAIT_MS): void {
  const release = lockAuditFile(file, lockWaitMs);
  try {
    const fd = fs.openSync(file, 'a', 0o600);
    try {
      const size = fs.fstatSync(fd).size;
      try {
        let buf = `${JSON.stringify(head).slice(0, -1)},"items":[`;
        for (let k = 0; k < items.length; k++) {
          buf += `${k ? ',' : ''}${JSON.stringify(items[k])}`;
          if (buf.length >= PIECE) {
            writeAll(fd, Buffer.from(buf, 'utf8'), file);
            buf = '';
          }
        }
        writeAll(fd, Buffer.from(`${buf}],"phase":${JSON.stringify(phase)}}\n`, 'utf8'), file);
      } catch (e) {
        try {
          fs.ftruncateSync(fd, size);
        } catch {}
        throw e;
      }
    } finally {
      fs.closeSync(fd);
    }
  } finally {
    release();
  }
}

function writeAll(fd: number, b: Buffer, file: string): void {
  for (let off = 0; off < b.length; ) {
    const n = fs.writeSync(fd, b, off, b.length - off);
    if (n <= 0) throw new Error(`no progress writing ${file}`);
    off += n;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Take `<file>.lock`; returns its release. Throws an Error naming the lock file when another purge keeps it past the wait. */
function lockAuditFile(file: string, waitMs: number): () => void {
  const lock = `${file}.lock`;
  const me = `${process.pid}@${os.hostname()}`;
  const until = Date.now() + waitMs;
  for (let pause = 5; ; pause = Math.min(pause * 2, 200)) {
    try {
      const fd = fs.openSync(lock, 'wx', 0o600);
      try {
        fs.writeSync(fd, me);
      } finally {
        fs.closeSync(fd);
      }
      return () => {
        try {
          fs.unlinkSync(lock);
        } catch {}
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readHolder(lock);
    if (holder && holder.host === os.hostname() && !alive(holder.pid)) {
      // its purge ended without releasing it (killed): take it over
      try {
        fs.unlinkSync(lock);
      } catch {}
      continue;
    }
    if (Date.now() >= until) {
      const who = holder ? `process ${holder.pid} on ${holder.host}` : 'another purge';
      const err = new Error(`the audit record is locked by ${who} (${lock}); if no purge is running, delete that file`) as NodeJS.ErrnoException;
      err.code = 'ELOCKED';
      throw err;
    }
    Atomics.wait(sleeper, 0, 0, pause);
  }
}

function readHolder(lock: string): { pid: number; host: string } | undefined {
  try {
    const m = /^(\d+)@(.*)$/.exec(fs.readFileSync(lock, 'utf8'));
    return m ? { pid: Number(m[1]), host: m[2]! } : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
