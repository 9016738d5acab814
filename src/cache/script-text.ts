/**
 * Outside values inside the scripts credgate writes (the PowerShell purge script, the fleet
 * collector): one way to render a value as a PowerShell literal, and one way to write a script
 * file, so that Windows PowerShell 5.1 and PowerShell 7 read every script the same way.
 */
import { CredgateError } from '../core/errors.js';

/**
 * Any outside value (a target, a machine or user name from a fleet file) as a PowerShell literal
 * that reads the same in every way PowerShell may read the script: the output is ASCII only.
 * Printable ASCII stays between single quotes, `'` doubled; every other character (beyond ASCII,
 * controls, the typographic quotes U+2018..U+201B that PowerShell also takes as single quotes) is
 * joined in as `[char]0x....`, one UTF-16 unit each: `('x' + [char]0x00D2 + '; calc')`. ASCII
 * reads the same as UTF-8, UTF-16 (through its BOM) and in any ANSI code page, where Windows
 * PowerShell 5.1 reads a file without a BOM (cp1252: `Ò` is C3 92, and 0x92 is U+2019, a quote).
 * The join starts with a string, so `+` joins strings. Every script credgate writes uses this.
 */
export function psString(s: string): string {
  const parts = s.split(/([^\x20-\x7e])/);
  const q = (p: string) => `'${p.replace(/'/g, "''")}'`;
  if (parts.length === 1) return q(s);
  const out = [q(parts[0]!)]; // a string first, even when the value starts with a [char]
  for (let k = 1; k < parts.length; k++) {
    if (k % 2) out.push(`[char]0x${parts[k]!.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`);
    else if (parts[k]) out.push(q(parts[k]!));
  }
  return `(${out.join(' + ')})`;
}

/** Text for a `#` comment line of a PowerShell script: printable ASCII only, anything else `?`. */
export function psComment(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?');
}

/** The UTF-8 byte order mark: Windows PowerShell 5.1 reads a file that starts with it as UTF-8 (not the ANSI code page). */
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * A script as credgate writes it to a file: UTF-8 with a BOM, so Windows PowerShell 5.1 and
 * PowerShell 7 read it the same way. Its text is ASCII (psString): a character beyond that means
 * a value skipped psString, and is an error (a script file is then removed; on standard output
 * the script ends before the piece that holds it).
 * A long script comes in pieces: the BOM goes before the first, and `offset` places the piece in
 * the script for the error.
 */
export function powershellFileBytes(script: string, piece: { bom: boolean; offset: number } = { bom: true, offset: 0 }): Buffer {
  const at = script.search(/[^\x20-\x7e\r\n\t]/);
  if (at >= 0) throw new CredgateError(`The PowerShell script holds a character that is not printable ASCII (U+${script.charCodeAt(at).toString(16).padStart(4, '0').toUpperCase()} at offset ${piece.offset + at}); it was not written. This is a credgate bug: report it.`, { code: 'INTERNAL' });
  const text = Buffer.from(script, 'latin1');
  return piece.bom ? Buffer.concat([UTF8_BOM, text]) : text;
}
