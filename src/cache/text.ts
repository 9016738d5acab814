/**
 * Decode text files captured on Windows: UTF-16LE with or without a BOM (reg export, PowerShell
 * Out-File), UTF-16BE with a BOM, UTF-8 with or without a BOM; CRLF, LF or CR line ends.
 */
import { TERMINAL_UNSAFE } from '../core/terminal.js';
import fs from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { CredgateError } from '../core/errors.js';

export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

export function decodeWindowsText(buf: Buffer, file: string): { text: string; encoding: string; warnings: string[] } {
  const warnings: string[] = [];
  if (buf.length > MAX_INPUT_BYTES) {
    throw new CredgateError(`${file} is ${buf.length} bytes, over the ${MAX_INPUT_BYTES}-byte limit for one input file; split it.`, { code: 'INPUT_INVALID', details: { file } });
  }
  let text: string;
  let encoding: string;
  if (buf[0] === 0xff && buf[1] === 0xfe) {
    encoding = 'utf-16le (BOM)';
    text = buf.subarray(2, 2 + ((buf.length - 2) & ~1)).toString('utf16le');
    if ((buf.length - 2) % 2) warnings.push(`${file}: odd byte count for UTF-16; the last byte was dropped (truncated file?)`);
  } else if (buf[0] === 0xfe && buf[1] === 0xff) {
    encoding = 'utf-16be (BOM)';
    const sw = Buffer.from(buf.subarray(2, 2 + ((buf.length - 2) & ~1)));
    sw.swap16();
    text = sw.toString('utf16le');
  } else if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
    encoding = 'utf-8 (BOM)';
    text = buf.subarray(3).toString('utf8');
  } else if (looksUtf16le(buf)) {
    encoding = 'utf-16le';
    text = buf.subarray(0, buf.length & ~1).toString('utf16le');
  } else {
    encoding = 'utf-8';
    text = buf.toString('utf8');
    if (text.includes('\uFFFD') && !buf.includes(UTF8_REPLACEMENT)) {
      // not UTF-8: `cmdkey /list > file` in cmd.exe writes the console's OEM code page (850 in
      // Western European locales, 437 in the US; both agree on the letters these labels use)
      encoding = 'oem-850';
      text = decodeCp850(buf);
      warnings.push(`${file}: not UTF-8 or UTF-16; read as OEM code page 850 (cmd.exe redirect)`);
    }
  }
  if (text.includes('\uFFFD')) warnings.push(`${file}: contains bytes that are not valid ${encoding}; they were replaced`);
  if (text.includes('\u0000')) {
    warnings.push(`${file}: contains NUL characters (mixed encodings?); they were removed`);
    text = text.replace(/\u0000/g, '');
  }
  return { text: text.replace(/\r\n?/g, '\n'), encoding, warnings };
}

function looksUtf16le(buf: Buffer): boolean {
  const n = Math.min(buf.length, 512) & ~1;
  if (n < 4) return false;
  let zeroOdd = 0;
  let zeroEven = 0;
  for (let i = 0; i < n; i += 2) {
    if (buf[i] === 0) zeroEven++;
    if (buf[i + 1] === 0) zeroOdd++;
  }
  return zeroOdd > n / 4 && zeroEven < n / 16;
}

const UTF8_REPLACEMENT = Buffer.from('\uFFFD', 'utf8');

// IBM code page 850, bytes 0x80-0xFF (0x00-0x7F are ASCII)
const CP850_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜø£Ø×ƒáíóúñÑªº¿®¬½¼¡«»░▒▓│┤ÁÂÀ©╣║╗╝¢¥┐└┴┬├─┼ãÃ╚╔╩╦╠═╬¤ðÐÊËÈıÍÎÏ┘┌█▄¦Ì▀ÓßÔÒõÕµþÞÚÛÙýÝ¯´\u00AD±‗¾¶§÷¸°¨·¹³²■\u00A0';

export function decodeCp850(buf: Buffer): string {
  let out = '';
  for (let i = 0; i < buf.length; i += 8192) {
    const chunk = buf.subarray(i, i + 8192);
    let s = '';
    for (const b of chunk) s += b < 0x80 ? String.fromCharCode(b) : CP850_HIGH[b - 0x80]!;
    out += s;
  }
  return out;
}

/**
 * Characters that have no business in a host, target, user or machine name and that could turn a
 * value into a new line or command in an emitted script, or rewrite a terminal: C0 and C1 controls,
 * DEL, the Unicode line/paragraph separators, and the bidirectional controls — the terminal's set
 * (core/terminal), one definition.
 */
export const CONTROL_CHARS = TERMINAL_UNSAFE;
const CONTROL_CHARS_G = new RegExp(CONTROL_CHARS.source, 'g');

export function hasControlChars(s: string): boolean {
  return CONTROL_CHARS.test(s);
}

/** Replace each control character with a space (for free text such as a comment). */
export function neutraliseControlChars(s: string): string {
  return s.replace(CONTROL_CHARS_G, ' ');
}

/** A value for a warning: control characters shown as \uXXXX, cut to 80 characters. */
export function showValue(s: string): string {
  const cut = s.length > 80 ? `${s.slice(0, 80)}…` : s;
  return `"${cut.replace(CONTROL_CHARS_G, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

/**
 * Streaming: the same text decodeWindowsText gives, in pieces, with bounded buffers. An input is a
 * buffer already in memory or a file read CHUNK_BYTES at a time (never whole); the readers
 * (cmdkey, registry, collector) take the pieces as they come and keep only what they keep.
 */
export const CHUNK_BYTES = 64 * 1024;

/** The chunk size the readers use (the tests make it small, to cut the text everywhere). */
export const streamOptions = { chunkBytes: CHUNK_BYTES };

/** Bytes to decode: a buffer, or a file read in chunks. */
export type TextInput = Buffer | { path: string };

/** Encoding, warnings and whether a U+FFFD / NUL was seen: filled in as the pieces go by, final when they end. */
export interface TextStreamResult {
  encoding: string;
  warnings: string[];
}

const overLimit = (file: string, bytes: number) => new CredgateError(`${file} is ${bytes} bytes, over the ${MAX_INPUT_BYTES}-byte limit for one input file; split it.`, { code: 'INPUT_INVALID', details: { file } });

/** The input's bytes, chunk by chunk (a file's chunks share one buffer: use each before the next). */
function* byteChunks(input: TextInput, file: string, chunkBytes: number): Generator<Buffer> {
  if (Buffer.isBuffer(input)) {
    if (input.length > MAX_INPUT_BYTES) throw overLimit(file, input.length);
    for (let i = 0; i < input.length; i += chunkBytes) yield input.subarray(i, i + chunkBytes);
    return;
  }
  let fd: number;
  try {
    fd = fs.openSync(input.path, 'r');
  } catch (e) {
    throw new CredgateError(`Cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, { code: 'INPUT_INVALID', cause: e, details: { file } });
  }
  try {
    const buf = Buffer.allocUnsafe(chunkBytes);
    let total = 0;
    for (;;) {
      let n = 0;
      while (n < chunkBytes) {
        const r = fs.readSync(fd, buf, n, chunkBytes - n, null);
        if (r === 0) break;
        n += r;
      }
      if (n === 0) return;
      total += n;
      if (total > MAX_INPUT_BYTES) throw overLimit(file, total);
      yield buf.subarray(0, n);
      if (n < chunkBytes) return;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** The first `n` bytes of an input (fewer when it is shorter), as a buffer of their own. */
function firstBytes(input: TextInput, file: string, n: number): Buffer {
  if (Buffer.isBuffer(input)) return input.subarray(0, n);
  const parts: Buffer[] = [];
  let got = 0;
  for (const c of byteChunks(input, file, Math.max(n, 4096))) {
    parts.push(Buffer.from(c.subarray(0, n - got)));
    got += Math.min(c.length, n - got);
    if (got >= n) break;
  }
  return Buffer.concat(parts);
}

/**
 * For a file that is neither UTF-16 nor marked UTF-8: whether it is valid UTF-8, and whether it
 * holds an encoded U+FFFD (decodeWindowsText reads it as OEM 850 exactly when it is not valid and
 * holds none). One pass over the bytes, a chunk at a time.
 */
function utf8Verdict(input: TextInput, file: string, chunkBytes: number): { valid: boolean; replacement: boolean } {
  if (Buffer.isBuffer(input)) return { valid: isUtf8(input), replacement: input.includes(UTF8_REPLACEMENT) };
  let valid = true;
  let replacement = false;
  let carry = Buffer.alloc(0);
  for (const c of byteChunks(input, file, chunkBytes)) {
    const b = carry.length ? Buffer.concat([carry, c]) : c;
    if (!replacement && b.includes(UTF8_REPLACEMENT)) replacement = true;
    if (valid) {
      const cut = utf8Cut(b);
      if (!isUtf8(b.subarray(0, cut))) valid = false;
      carry = Buffer.from(b.subarray(cut));
      // the last two bytes may start an encoded U+FFFD that the next chunk ends
      if (!valid) carry = Buffer.from(b.subarray(Math.max(0, b.length - 2)));
    } else carry = Buffer.from(b.subarray(Math.max(0, b.length - 2)));
    if (!valid && replacement) break;
  }
  if (valid && carry.length && !isUtf8(carry)) valid = false;
  return { valid, replacement };
}

/**
 * Where a UTF-8 chunk can be cut so that decoding the two parts apart gives what decoding them
 * together gives: before a lead byte in the last three (its sequence may go on in the next chunk),
 * else at the end. Cutting before any byte that is not a continuation byte is always safe: there
 * the decoder either starts a sequence or has already ended (or replaced) the one before.
 */
function utf8Cut(b: Buffer): number {
  for (let j = b.length - 1; j >= Math.max(0, b.length - 3); j--) {
    const x = b[j]!;
    if ((x & 0xc0) !== 0x80) return x >= 0xc0 ? j : b.length;
  }
  return b.length;
}

/**
 * The text of an input in pieces, exactly decodeWindowsText's text when joined (the same encoding
 * choice, U+FFFD and NUL handling, line ends as \n; a CR at the end of one piece is held for the
 * next), with bounded buffers. `result` is complete once the generator is done.
 */
export function windowsTextPieces(input: TextInput, file: string, chunkBytes = streamOptions.chunkBytes): { pieces: Generator<string>; result: TextStreamResult } {
  const result: TextStreamResult = { encoding: '', warnings: [] };
  return { pieces: pieces(input, file, chunkBytes, result), result };
}

function* pieces(input: TextInput, file: string, chunkBytes: number, result: TextStreamResult): Generator<string> {
  const head = firstBytes(input, file, 512);
  let skip = 0;
  let kind: 'utf16le' | 'utf16be' | 'utf8' | 'cp850';
  const warnings: string[] = [];
  if (head[0] === 0xff && head[1] === 0xfe) {
    result.encoding = 'utf-16le (BOM)';
    kind = 'utf16le';
    skip = 2;
  } else if (head[0] === 0xfe && head[1] === 0xff) {
    result.encoding = 'utf-16be (BOM)';
    kind = 'utf16be';
    skip = 2;
  } else if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) {
    result.encoding = 'utf-8 (BOM)';
    kind = 'utf8';
    skip = 3;
  } else if (looksUtf16le(head)) {
    result.encoding = 'utf-16le';
    kind = 'utf16le';
  } else {
    const v = utf8Verdict(input, file, chunkBytes);
    if (!v.valid && !v.replacement) {
      result.encoding = 'oem-850';
      kind = 'cp850';
      warnings.push(`${file}: not UTF-8 or UTF-16; read as OEM code page 850 (cmd.exe redirect)`);
    } else {
      result.encoding = 'utf-8';
      kind = 'utf8';
    }
  }
  let carry = Buffer.alloc(0);
  let total = 0;
  let sawReplacement = false;
  let sawNul = false;
  let pendingCr = false;
  const finish = (s: string, last: boolean): string => {
    if (!sawReplacement && s.includes('\uFFFD')) sawReplacement = true;
    if (s.includes('\u0000')) {
      sawNul = true;
      s = s.replace(/\u0000/g, '');
    }
    if (pendingCr) s = `\r${s}`;
    pendingCr = !last && s.endsWith('\r');
    if (pendingCr) s = s.slice(0, -1);
    return s.replace(/\r\n?/g, '\n');
  };
  const decode = (b: Buffer, last: boolean): string => {
    switch (kind) {
      case 'utf16le':
      case 'utf16be': {
        const even = b.length & ~1;
        carry = last ? Buffer.alloc(0) : Buffer.from(b.subarray(even));
        if (kind === 'utf16le') return b.toString('utf16le', 0, even);
        const sw = Buffer.from(b.subarray(0, even));
        sw.swap16();
        return sw.toString('utf16le');
      }
      case 'utf8': {
        const cut = last ? b.length : utf8Cut(b);
        carry = Buffer.from(b.subarray(cut));
        return b.toString('utf8', 0, cut);
      }
      default:
        carry = Buffer.alloc(0);
        return decodeCp850(b);
    }
  };
  for (const c of byteChunks(input, file, chunkBytes)) {
    let b = c;
    if (skip) {
      const k = Math.min(skip, b.length);
      b = b.subarray(k);
      skip -= k;
    }
    total += b.length;
    if (carry.length) b = Buffer.concat([carry, b]);
    const s = finish(decode(b, false), false);
    if (s) yield s;
  }
  const s = finish(decode(carry, true), true);
  if (s) yield s;
  if (kind === 'utf16le' && result.encoding === 'utf-16le (BOM)' && total % 2) warnings.push(`${file}: odd byte count for UTF-16; the last byte was dropped (truncated file?)`);
  if (sawReplacement) warnings.push(`${file}: contains bytes that are not valid ${result.encoding}; they were replaced`);
  if (sawNul) warnings.push(`${file}: contains NUL characters (mixed encodings?); they were removed`);
  result.warnings = warnings;
}

/**
 * Lines from text pieces: `piece` with each part of a line as it comes (a line may arrive in
 * several parts, never all at once when it is long), `end` at its end. Exactly the lines of
 * text.split('\n'): n line ends make n + 1 lines, the last one possibly empty.
 */
export function eachLine(pieces: Iterable<string>, sink: { piece(s: string): void; end(): void }): void {
  for (const text of pieces) {
    let i = 0;
    for (;;) {
      const j = text.indexOf('\n', i);
      if (j < 0) {
        if (i < text.length) sink.piece(i ? text.slice(i) : text);
        break;
      }
      if (j > i) sink.piece(text.slice(i, j));
      sink.end();
      i = j + 1;
    }
  }
  sink.end();
}

/**
 * A copy of a string that shares no memory with the text it was cut from (V8 keeps a cut of 13
 * characters or more as a view of the whole chunk): the values a reader keeps go through this, so
 * what stays in memory is the entries, not the chunks of the file.
 */
export function own(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf16le').toString('utf16le');
}

/** JavaScript's whitespace (what trim() removes and \s matches). */
export function isJsWhitespace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}
