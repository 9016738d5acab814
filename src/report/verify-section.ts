/** The report's part for a verify output: the verdict card, failures by cause with their fixes, answer times, then the accounts. */
import { causeOf } from '../findings/diagnose.js';
import { barChart, histogramChart } from './charts.js';
import { html, num, pct, type Html } from './html.js';
import { capNote, causeTable, codeTag, details, section, table, tiles, toneOf, shortName } from './parts.js';
import { byCount } from './rows.js';
import type { VerifyReport } from './types.js';

export interface Part {
  /** The verdict at the top of the page. */
  card: Html;
  section: Html;
}

export function verifyPart(r: VerifyReport, id: string): Part {
  const failing = byCount(r.failedByCode);
  const failedOrBad = r.failed + r.badLines;
  const head = r.accounts === 0
    ? 'No account answered'
    : r.failed ? `${num(r.failed)} of ${num(r.accounts)} accounts failed` : `All ${num(r.accounts)} accounts are valid`;
  const worst = r.worstCode;
  const card = html`<a class="card tone-${failedOrBad ? 'bad' : 'ok'}" href="#${id}" data-card="verify"><span class="card-kind">Bulk verify · ${shortName(r.source)}</span><span class="card-head">${head}</span><span class="card-cause">${
    worst ? html`Most basic failure: ${causeOf(worst).cause} ${codeTag(worst)} · exit ${r.exitCode}` : html`exit ${r.exitCode}`}${
    failing[0] && failing[0] !== worst ? html`<br>Most accounts: ${causeOf(failing[0]).cause} ${codeTag(failing[0])} · ${num(r.failedByCode[failing[0]]!)}` : ''}${
    r.badLines ? html` · ${num(r.badLines)} bad input line${r.badLines === 1 ? '' : 's'}` : ''}</span></a>`;

  const body: Html[] = [];
  body.push(tiles([
    { label: 'accounts', value: r.accounts },
    { label: 'valid', value: r.ok, tone: 'ok' },
    { label: 'failed', value: r.failed, tone: r.failed ? 'bad' : 'muted' },
    { label: 'bad input lines', value: r.badLines, tone: r.badLines ? 'warn' : 'muted' },
    { label: 'exit code', value: String(r.exitCode), tone: r.exitCode ? 'bad' : 'ok' },
  ]));
  const notes: Html[] = [];
  if (r.superseded) notes.push(html`<p class="note">${num(r.superseded)} earlier record${r.superseded === 1 ? '' : 's'} replaced by a later run's answer for the same account (a resumed run checks again the accounts it could not reach).</p>`);
  if (r.cutLines) notes.push(html`<p class="note">${num(r.cutLines)} line${r.cutLines === 1 ? ' was' : 's were'} cut short by an interrupted write and ${r.cutLines === 1 ? 'is' : 'are'} not counted; a rerun with the same --output checks those accounts again.</p>`);
  body.push(...notes);

  body.push(html`<h3>Failures by cause</h3>`);
  if (failing.length) {
    body.push(barChart('Failed accounts by cause', failing.map((c) => ({ label: c, value: r.failedByCode[c]!, tone: 'bad' as const, note: `(${pct(r.failedByCode[c]!, r.accounts)})` })), 'failures-by-cause'));
    body.push(causeTable('causes', r.failedByCode, r.accounts, r.fixes, 'Accounts'));
  } else {
    body.push(html`<p class="good">No account failed.</p>`);
  }
  if (r.badLines) body.push(html`<p class="note">${num(r.badLines)} bad input line${r.badLines === 1 ? '' : 's'} (not checked; listed below): ${causeOf('input.invalid').cause}</p>`);

  body.push(html`<h3>Bind latency</h3>`);
  const h = r.latency;
  if (h.count) {
    body.push(histogramChart(`Time to answer of the ${num(h.count)} accounts whose bind was sent (ms, logarithmic bins)`, h));
    body.push(html`<p class="stats" data-stats="latency">median <strong>${num(h.p50)} ms</strong> · 90th percentile <strong>${num(h.p90)} ms</strong> · 99th percentile <strong>${num(h.p99)} ms</strong> · slowest <strong>${num(h.max)} ms</strong></p>`);
  } else {
    body.push(html`<p class="muted">No bind was sent.</p>`);
  }
  if (r.notBound) body.push(html`<p class="note">${num(r.notBound)} account${r.notBound === 1 ? '' : 's'} got an answer without a bind (refused by the lockout guard, the directory unreachable, or a name that could not be used) and ${r.notBound === 1 ? 'is' : 'are'} not in the chart.</p>`);

  const urls = Object.keys(r.byUrl).sort();
  if (urls.length) {
    body.push(html`<h3>By directory server</h3>`);
    body.push(table('by-url', ['Directory', 'Valid', 'Failed'], urls.map((u) => [u, num(r.byUrl[u]!.ok), num(r.byUrl[u]!.failed)]), new Set([1, 2])));
  }

  if (r.failures.total) {
    body.push(details(html`Failed accounts <span class="muted">(${num(r.failures.rows.length)}${r.failures.total > r.failures.rows.length ? html` of ${num(r.failures.total)}` : ''})</span>`, html`${
      capNote(r.failures, 'failed accounts, the most basic causes first', html`every account is in ${r.source}.`)}${
      table('failed-accounts', ['Account', 'Cause', 'What was observed', 'Line', 'Directory', 'ms'], r.failures.rows.map((a) => [
        a.account, codeTag(a.code), a.message, a.line ?? '', a.url ?? '', num(a.ms),
      ]), new Set([3, 5]))}`));
  }
  if (r.badRows.total) {
    body.push(details(html`Bad input lines <span class="muted">(${num(r.badRows.total)})</span>`, html`${capNote(r.badRows, 'bad input lines', html`every one is in ${r.source}.`)}${
      table('bad-lines', ['Input line', 'Why it was skipped'], r.badRows.rows.map((b) => [b.line, b.error]), new Set([0]))}`));
  }
  return { card, section: section(id, 'verify', html`Bulk verify <span class="source">${r.source}</span>`, body) };
}
