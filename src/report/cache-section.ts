/** The report's part for a cache inspection or purge over a fleet: the verdict card, findings by cause with fixes, stale entries by machine, then the tables. */
import { causeOf } from '../findings/diagnose.js';
import { barChart, type Bar } from './charts.js';
import { html, num, pct, type Html } from './html.js';
import { capNote, causeTable, codeTag, details, fixList, section, table, tiles, toneOf, shortName } from './parts.js';
import { byCount, capped } from './rows.js';
import type { CacheReport } from './types.js';
import type { Part } from './verify-section.js';

/** The codes whose entries a purge removes (cache/purge PURGE_RULES): "stale" in the report's words. */
const STALE = ['cache.stale-password', 'cache.wrong-user'] as const;
/** Machines shown in a chart; the table lists the rest. */
const CHART_MACHINES = 15;

const machineName = (m: string) => m || '(no machine name)';
const staleOf = (codes: Readonly<Record<string, number>>) => STALE.reduce((n, c) => n + (codes[c] ?? 0), 0);

/** Machines with stale entries, the most first, then by name. */
function staleMachines(r: CacheReport): Array<[string, number]> {
  return Object.entries(r.byMachine)
    .map(([m, codes]): [string, number] => [m, staleOf(codes)])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function findingsPart(r: CacheReport, body: Html[], staleByMachine: Array<[string, number]>): void {
  const codes = byCount(r.findingsByCode);
  const total = codes.reduce((n, c) => n + r.findingsByCode[c]!, 0);
  body.push(html`<h3>Findings by cause</h3>`);
  if (!codes.length) {
    body.push(html`<p class="good">No finding.</p>`);
  } else {
    body.push(barChart('Findings by cause', codes.map((c): Bar => ({ label: c, value: r.findingsByCode[c]!, tone: toneOf(c), note: `(${pct(r.findingsByCode[c]!, total)})` })), 'findings-by-cause'));
    body.push(causeTable('causes', r.findingsByCode, total, r.fixes, 'Findings'));
  }
  if (staleByMachine.length) {
    body.push(html`<h3>Stale entries by machine</h3>`);
    const top = staleByMachine.slice(0, CHART_MACHINES);
    body.push(barChart(`Stale cached credentials per machine${staleByMachine.length > top.length ? ` (the ${top.length} with the most of ${num(staleByMachine.length)})` : ''}`,
      top.map(([m, n]) => ({ label: machineName(m), value: n, tone: 'bad' })), 'stale-by-machine'));
  }
  const machines = Object.keys(r.byMachine).filter((m) => m !== '');
  if (machines.length) {
    const rows = capped(Object.entries(r.byMachine).map(([m, c]) => ({ m, stale: staleOf(c), c }))
      .sort((a, b) => b.stale - a.stale || (a.m < b.m ? -1 : a.m > b.m ? 1 : 0)));
    body.push(details(html`Machines with findings <span class="muted">(${num(rows.total)})</span>`, html`${capNote(rows, 'machines, the most stale entries first', 'the input lists every finding.')}${
      table('machines', ['Machine', 'Stale password', 'Wrong user', 'Other findings'], rows.rows.map(({ m, stale, c }) => {
        const all = Object.values(c).reduce((n, k) => n + k, 0);
        return [machineName(m), num(c['cache.stale-password'] ?? 0), num(c['cache.wrong-user'] ?? 0), num(all - stale)];
      }), new Set([1, 2, 3]))}`));
  }
  if (r.findings.total) {
    body.push(details(html`Findings <span class="muted">(${num(r.findings.total)})</span>`, html`${capNote(r.findings, 'findings, the most basic causes first', 'the input lists every one.')}${
      table('findings', ['Severity', 'Machine', 'Target', 'User', 'Code', 'What was found'], r.findings.rows.map((f) => [
        html`<span class="sev sev-${f.severity}">${f.severity}</span>`, f.machine ?? '', f.target ?? '', f.username ?? '', codeTag(f.code), f.message,
      ]))}`));
  }
  if (r.warnings.total) {
    body.push(details(html`Warnings while reading the inputs <span class="muted">(${num(r.warnings.total)})</span>`, html`${capNote(r.warnings, 'warnings', 'the input lists every one.')}<ul class="warnings">${r.warnings.rows.map((w) => html`<li>${w}</li>`)}</ul>`));
  }
}

export function cachePart(r: CacheReport, id: string): Part {
  const staleByMachine = staleMachines(r);
  const stale = staleOf(r.findingsByCode);
  const body: Html[] = [];
  let card: Html;
  if (r.kind === 'cache-inspect') {
    const h = r.head!;
    const tone = h.exitCode === 6 || !h.ok ? 'bad' : 'ok';
    const head = stale ? `${num(stale)} stale cached credential${stale === 1 ? '' : 's'} on ${num(staleByMachine.length)} machine${staleByMachine.length === 1 ? '' : 's'}` : h.ok ? 'No stale cached credential' : causeOf(h.code).cause;
    card = html`<a class="card tone-${tone}" href="#${id}" data-card="cache-inspect"><span class="card-kind">Cache inspection · ${shortName(r.source)}</span><span class="card-head">${head}</span><span class="card-cause">${causeOf(h.code).cause} ${codeTag(h.code)} · exit ${h.exitCode}</span></a>`;
    body.push(tiles([
      { label: 'entries checked', value: r.considered ?? 0 },
      { label: 'stale entries', value: stale, tone: stale ? 'bad' : 'ok' },
      { label: 'machines with stale entries', value: staleByMachine.length, tone: staleByMachine.length ? 'bad' : 'muted' },
      { label: 'findings', value: r.findings.total },
      { label: 'unknown age', value: r.unknownAge ?? 0, tone: r.unknownAge ? 'warn' : 'muted' },
      { label: 'exit code', value: String(h.exitCode), tone: h.exitCode ? 'bad' : 'ok' },
    ]));
    body.push(html`<p class="verdict-line tone-${tone}"><strong>${causeOf(h.code).cause}</strong> ${codeTag(h.code)}</p><p class="note">The deciding finding: ${h.cause}</p>`);
    if (r.remediation.length) body.push(html`<h3>What to do</h3>${fixList(r.remediation, 6)}`);
    findingsPart(r, body, staleByMachine);
    return { card, section: section(id, 'cache-inspect', html`Cache inspection <span class="source">${r.source}</span>`, body) };
  }
  const p = r.purge!;
  const machines = Object.keys(p.byMachine).length;
  const failed = p.byResult.failed ?? 0;
  const head = p.dryRun
    ? `${num(p.items.total)} entr${p.items.total === 1 ? 'y' : 'ies'} planned for purge on ${num(machines)} machine${machines === 1 ? '' : 's'}`
    : `${num(p.byResult.deleted ?? 0)} deleted, ${num(p.byResult.emitted ?? 0)} left to the emitted commands, ${num(failed)} failed`;
  card = html`<a class="card tone-${failed || r.findings.total ? 'bad' : p.items.total ? 'warn' : 'ok'}" href="#${id}" data-card="cache-purge"><span class="card-kind">Cache purge${p.dryRun ? ' (dry run)' : ''} · ${shortName(r.source)}</span><span class="card-head">${head}</span><span class="card-cause">${
    p.dryRun ? 'Nothing was deleted; rerun with --yes to purge exactly these entries.' : html`Audit record: ${p.audit ?? '-'} · mode ${p.mode ?? '-'}`}${
    r.findings.total ? html` · ${num(r.findings.total)} fault${r.findings.total === 1 ? '' : 's'} kept a rule from running` : ''}</span></a>`;
  body.push(tiles([
    { label: p.dryRun ? 'planned' : 'items', value: p.items.total, tone: p.items.total ? 'warn' : 'ok' },
    { label: 'machines', value: machines },
    ...Object.keys(p.byResult).sort().filter((k) => k !== 'planned').map((k) => ({ label: k, value: p.byResult[k]!, tone: k === 'failed' ? 'bad' as const : 'muted' as const })),
    { label: 'faults', value: r.findings.total, tone: r.findings.total ? 'bad' : 'muted' },
  ]));
  if (p.createdAt) body.push(html`<p class="note">Plan made at ${p.createdAt}.</p>`);
  const rules = byCount(p.byRule);
  if (rules.length) {
    body.push(html`<h3>Entries to purge by cause</h3>`);
    body.push(barChart('Purge items by rule', rules.map((c) => ({ label: c, value: p.byRule[c]!, tone: 'bad' })), 'purge-by-rule'));
    body.push(causeTable('causes', p.byRule, p.items.total, r.fixes, 'Entries'));
    body.push(html`<h3>Entries to purge by machine</h3>`);
    const top = Object.entries(p.byMachine).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    body.push(barChart(`Entries to purge per machine${top.length > CHART_MACHINES ? ` (the ${CHART_MACHINES} with the most of ${num(top.length)})` : ''}`,
      top.slice(0, CHART_MACHINES).map(([m, n]) => ({ label: machineName(m), value: n, tone: 'bad' })), 'purge-by-machine'));
  }
  if (r.findings.total) findingsPart(r, body, staleByMachine);
  if (p.items.total) {
    body.push(details(html`Purge items <span class="muted">(${num(p.items.total)})</span>`, html`${capNote(p.items, 'items, by rule', 'the input lists every one.')}${
      table('purge-items', ['Machine', 'Target', 'User', 'Rule', 'Reason', 'Result'], p.items.rows.map((i) => [
        i.machine ?? '', i.target, i.username ?? '', codeTag(i.rule), i.reason, i.result ?? (p.dryRun ? 'planned' : ''),
      ]))}`));
  }
  return { card, section: section(id, 'cache-purge', html`Cache purge <span class="source">${r.source}</span>`, body) };
}
