/**
 * Decode text files captured on Windows: UTF-16LE with or without a BOM (reg export, PowerShell
 * Out-File), UTF-16BE with a BOM, UTF-8 with or without a BOM; CRLF, LF or CR line ends.
 */
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
 * DEL, the Unicode line/paragraph separators, and the bidirectional overrides/isolates.
 */
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
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
