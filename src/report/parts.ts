/** The report's building blocks: stat tiles, tables (capped, with a note), folding details, the cause-and-fix table. */
import { causeOf } from '../findings/diagnose.js';
import type { Remediation } from '../findings/catalog.js';
import { html, join, num, pct, type Html, type HtmlPart } from './html.js';
import type { Tone } from './charts.js';
import type { Capped } from './types.js';
import { fixesFor } from './fixes.js';
import { byCount } from './rows.js';

export interface Tile {
  label: string;
  value: number | string;
  tone?: Tone;
}

/** A row of big numbers. */
export function tiles(list: readonly Tile[]): Html {
  return html`<div class="tiles">${list.map((x) => html`<div class="tile tone-${x.tone ?? 'muted'}" data-tile="${x.label}"><div class="tile-value">${typeof x.value === 'number' ? num(x.value) : x.value}</div><div class="tile-label">${x.label}</div></div>`)}</div>`;
}

/** A table; `cells` are already Html or plain values (escaped). */
export function table(kind: string, head: readonly string[], rows: ReadonlyArray<readonly HtmlPart[]>, numeric: ReadonlySet<number> = new Set()): Html {
  return html`<table data-table="${kind}"><thead><tr>${head.map((h, i) => html`<th${numeric.has(i) ? html` class="num"` : ''}>${h}</th>`)}</tr></thead><tbody>${
    rows.map((r) => html`<tr>${r.map((c, i) => html`<td${numeric.has(i) ? html` class="num"` : ''}>${c}</td>`)}</tr>`)}</tbody></table>`;
}

/** The note under a capped table: how many rows it shows of how many, and where the rest are. */
export function capNote(c: Capped<unknown>, what: string, rest: Html | string): Html {
  return c.total > c.rows.length
    ? html`<p class="note" data-cap="${c.rows.length}" data-total="${c.total}">Showing the first ${num(c.rows.length)} of ${num(c.total)} ${what}; ${rest}</p>`
    : html``;
}

/** A folded part of the page (open without a script: the browser's own details element). */
export function details(summary: Html | string, body: Html, open = false): Html {
  return html`<details${open ? html` open` : ''}><summary>${summary}</summary>${body}</details>`;
}

/** A file name without its folders, for the verdict cards (the section shows it whole). */
export function shortName(source: string): string {
  return source.slice(Math.max(source.lastIndexOf('/'), source.lastIndexOf('\\')) + 1) || source;
}

/** A finding code as a tag. */
export function codeTag(code: string): Html {
  return html`<code class="code">${code}</code>`;
}

export function fixList(fixes: readonly Remediation[], max = 3): Html {
  if (!fixes.length) return html`<span class="muted">—</span>`;
  return html`<ol class="fixes">${fixes.slice(0, max).map((f) => html`<li>${f.action}${f.owner ? html` <span class="owner">${f.owner}</span>` : ''}</li>`)}</ol>`;
}

/**
 * Counts by finding code as a table: the largest first, with the catalog's cause, the share of
 * `of`, and the fixes (carried by the input, else the catalog's).
 */
export function causeTable(kind: string, byCode: Readonly<Record<string, number>>, of: number, carried: Readonly<Record<string, Remediation[]>>, what: string): Html {
  const codes = byCount(byCode);
  return table(kind, ['Cause', what, 'Share', 'Fix'], codes.map((c) => [
    html`<strong>${causeOf(c).cause}</strong><br>${codeTag(c)}`, num(byCode[c]!), pct(byCode[c]!, of), fixList(fixesFor(c, carried), 4),
  ]), new Set([1, 2]));
}

/** The tone of a finding code's category. */
export function toneOf(code: string): Tone {
  const c = causeOf(code).category;
  if (c === 'ok') return 'ok';
  if (c === 'info' || c === 'not-checked') return 'info';
  return 'bad';
}

/** A section: its anchor, its heading and its body. */
export function section(id: string, kind: string, title: Html, body: readonly Html[]): Html {
  return html`<section id="${id}" data-section="${kind}"><h2>${title}</h2>${join(body)}</section>`;
}
