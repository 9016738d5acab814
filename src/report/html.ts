/**
 * HTML built only from `Html` text: the `html` template escapes every value it is given with the
 * one escaping rule (`escapeHtml`) and passes an `Html` through, so a value from outside (an
 * account name, a server's message, a machine name, a file name) can never become markup.
 */
import { escapeTerminal } from '../core/terminal.js';

/** Markup that is safe to put in the page: the report's own, or outside text already escaped. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type HtmlPart = Html | string | number | boolean | null | undefined | readonly Html[];

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const MARKUP = /[&<>"']/g;

/**
 * The one escaping rule for outside text in the report: the characters that make markup become
 * entities (in text and in quoted attributes alike), and every control character, bidirectional
 * control and line separator is shown as an escape (`\x1B`, `\n`, `\u202E`: core/terminal's
 * rule), so a hostile value can neither break out of its cell nor reorder what is shown.
 */
export function escapeHtml(text: string): string {
  const visible = escapeTerminal(text);
  MARKUP.lastIndex = 0;
  return MARKUP.test(visible) ? visible.replace(MARKUP, (c) => ENTITIES[c]!) : visible;
}

/** A part as markup: an Html as it is, a list of Html joined, anything else escaped. */
export function part(p: HtmlPart): string {
  if (p instanceof Html) return p.text;
  if (Array.isArray(p)) return (p as readonly Html[]).map((x) => x.text).join('');
  return escapeHtml(String(p ?? ''));
}

/** Markup: the template's own text as written, every value escaped unless it is already Html. */
export function html(strings: TemplateStringsArray, ...values: HtmlPart[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += part(values[i]) + strings[i + 1]!;
  return new Html(out);
}

/** Html pieces joined. */
export function join(list: readonly Html[], sep = ''): Html {
  return new Html(list.map((x) => x.text).join(sep));
}

/** A whole number with thousands separators (20000 → 20,000), fixed to en-US so reports compare. */
export function num(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-';
}

/** A share as a percentage with one decimal (0 of 0 is 0%). */
export function pct(n: number, of: number): string {
  return of > 0 ? `${((100 * n) / of).toFixed(n === of || n === 0 ? 0 : 1)}%` : '0%';
}

/** Text cut to `max` characters with an ellipsis (before escaping: the cut never splits an entity). */
export function clip(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length > max ? chars.slice(0, max - 1).join('') + '…' : text;
}
