/**
 * Text from outside (a server's diagnostic message, a certificate's names, a vault's user name or
 * error text, a file name) made safe to show on a terminal: every character that could drive it
 * or fool its reader is escaped. The one rule; the CLI's renderer applies it to every string it
 * shows in human output (JSON carries the text exactly).
 */

/**
 * C0 controls (ESC starts CSI / OSC sequences; CR and LF fake lines), DEL, C1 controls (U+009B is
 * a one-character CSI, U+0085 a line break), the bidirectional controls that reorder what is shown
 * (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and the line and paragraph separators.
 */
export const TERMINAL_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;
const UNSAFE = new RegExp(TERMINAL_UNSAFE.source, 'g');

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const n = c.charCodeAt(0);
  return n < 0x100 ? `\\x${n.toString(16).toUpperCase().padStart(2, '0')}` : `\\u${n.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** `text` with every terminal control, bidi control and line separator shown as an escape (\x1B, \n, \u202E). */
export function escapeTerminal(text: string): string {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(text) ? text.replace(UNSAFE, escapeOne) : text;
}
