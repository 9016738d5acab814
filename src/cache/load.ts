/**
 * Read cache inputs from files, recognising each by content: collector JSON, a `reg export`
 * of the RDP client key, or captured `cmdkey /list` text.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CredgateError } from '../core/errors.js';
import { readCollectorFile } from './sources/collector.js';
import { parseCmdkeyList } from './sources/cmdkey.js';
import { parseRdpRegistryExport } from './sources/rdp-registry.js';
import { decodeWindowsText, MAX_INPUT_BYTES, windowsTextPieces, type TextInput } from './text.js';
import { emptySnapshot, type CacheSnapshot } from './types.js';

/**
 * Read one input file, recognised by content. The file is never read whole: its first 4 KiB say
 * what it is, and its reader streams it a chunk at a time, so memory is bounded by the entries
 * kept, not by the size of the file (up to MAX_INPUT_BYTES).
 */
export function loadCacheFile(file: string): CacheSnapshot {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new CredgateError(`Cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}); check the path given to --from.`, { code: 'INPUT_INVALID', cause: e, details: { file } });
  }
  if (!st.isFile()) throw new CredgateError(`${file} is not a file.`, { code: 'INPUT_INVALID', details: { file } });
  if (st.size > MAX_INPUT_BYTES) throw new CredgateError(`${file} is ${st.size} bytes, over the ${MAX_INPUT_BYTES}-byte limit for one input; split it.`, { code: 'INPUT_INVALID', details: { file } });
  // a small file (a fleet's are ~25 KB) is read at once; a large one is streamed by its reader
  const input: TextInput = st.size <= SMALL_FILE_BYTES ? readWhole(file) : { path: file };
  // what kind of file: its first few KB are enough, unless they are all blank
  const first = headBytes(Buffer.isBuffer(input) ? input.subarray(0, 4096 + 4) : readHead(file, 4096 + 4));
  let head = decodeWindowsText(first, file).text.replace(/^\uFEFF/, '').trimStart();
  if (!head && first.length < st.size) head = textHead(input, file, 300);
  if (head.startsWith('{')) return readCollectorFile(file, Buffer.isBuffer(input) ? input : undefined);
  if (/^(Windows Registry Editor Version 5\.00|REGEDIT4)/.test(head)) {
    const r = parseRdpRegistryExport(input, file);
    return { ...emptySnapshot(), hints: r.hints, mru: r.mru, warnings: r.warnings };
  }
  const r = parseCmdkeyList(input, file);
  if (r.entries.length === 0 && head.length > 0 && !/credentials|anmeldeinformationen|identification|credenciales/i.test(head.slice(0, 300))) {
    throw new CredgateError(`${file} is neither collector JSON, a registry export, nor cmdkey /list output.`, { code: 'INPUT_INVALID', details: { file } });
  }
  return { ...emptySnapshot(), entries: r.entries, warnings: r.warnings };
}

/** Files up to this size are read whole (bounded: at most this much is held at once). */
const SMALL_FILE_BYTES = 1 << 20;

function readWhole(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new CredgateError(`Cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}); check the path given to --from.`, { code: 'INPUT_INVALID', cause: e, details: { file } });
  }
}

/** Up to `n` bytes from the start of a file. */
function readHead(file: string, n: number): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new CredgateError(`Cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}); check the path given to --from.`, { code: 'INPUT_INVALID', cause: e, details: { file } });
  }
  try {
    const buf = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const r = fs.readSync(fd, buf, got, n - got, null);
      if (r === 0) break;
      got += r;
    }
    return buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

/** The first `max` characters of the whole text after its leading whitespace (the text streamed, not held). */
function textHead(input: TextInput, file: string, max: number): string {
  let head = '';
  for (const p of windowsTextPieces(input, file).pieces) {
    head = (head + p).replace(/^\uFEFF/, '').trimStart();
    if (head.length >= max) return head.slice(0, max);
  }
  return head;
}

/**
 * The first 4 KiB of a file, not cut inside a UTF-8 sequence (a split one would decode as U+FFFD
 * and make the head look like OEM text); the UTF-16 decoder drops an odd last byte by itself.
 */
function headBytes(buf: Buffer, max = 4096): Buffer {
  if (buf.length <= max) return buf;
  let n = max;
  while (n > max - 4 && (buf[n]! & 0xc0) === 0x80) n--; // buf[n] starts the next character
  return buf.subarray(0, n);
}

export function mergeSnapshots(list: CacheSnapshot[]): CacheSnapshot {
  const out = emptySnapshot();
  for (const s of list) {
    for (const e of s.entries) out.entries.push(e);
    for (const h of s.hints) out.hints.push(h);
    out.mru.push(...s.mru);
    out.warnings.push(...s.warnings);
  }
  return out;
}

/** File names read from a directory given to --from: the formats' usual extensions. */
const DIR_FILES = /\.(json|reg|txt)$/i;

/**
 * The files behind --from arguments: a file as given; a directory (a fleet share) as its *.json,
 * *.reg and *.txt files, sorted, not recursing (other files, such as an audit log or a purge script
 * written next to them, are ignored).
 */
export function expandCacheInputs(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(p);
    } catch {
      st = undefined; // loadCacheFile names the path and the error
    }
    if (!st?.isDirectory()) {
      out.push(p);
      continue;
    }
    const names = fs.readdirSync(p, { withFileTypes: true }).filter((d) => d.isFile() && DIR_FILES.test(d.name) && !d.name.startsWith('.')).map((d) => d.name).sort();
    if (!names.length) throw new CredgateError(`${p} has no *.json, *.reg or *.txt file to read.`, { code: 'INPUT_INVALID', details: { file: p } });
    for (const n of names) out.push(path.join(p, n));
  }
  return out;
}

/** Read every input (files or directories) into one snapshot, one file at a time. */
export function loadCacheInputs(paths: readonly string[]): CacheSnapshot {
  const out = emptySnapshot();
  for (const f of expandCacheInputs(paths)) {
    const s = loadCacheFile(f);
    for (const e of s.entries) out.entries.push(e);
    for (const h of s.hints) out.hints.push(h);
    for (const m of s.mru) out.mru.push(m);
    for (const w of s.warnings) out.warnings.push(w);
  }
  return out;
}
