/** The report's part for a doctor verdict: will it work, the ranked fixes, the steps and their times, the evidence. */
import { barChart, type Tone } from './charts.js';
import { html, num, type Html } from './html.js';
import { codeTag, details, fixList, section, table, tiles, shortName } from './parts.js';
import type { DoctorReport } from './types.js';
import type { Part } from './verify-section.js';

const STATUS_TONE: Readonly<Record<string, Tone>> = { passed: 'ok', failed: 'bad', error: 'bad', 'not-checked': 'muted' };

/** The verdict word doctor prints: nothing proved or disproved the credential reads as "cannot tell". */
export function doctorWord(r: DoctorReport): { word: string; tone: Tone } {
  if (r.ok) return { word: 'WILL WORK', tone: 'ok' };
  if (r.code === 'credential.not-checked') return { word: 'CANNOT TELL', tone: 'warn' };
  return { word: 'WILL FAIL', tone: 'bad' };
}

const evidenceText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v) ?? '');

export function doctorPart(r: DoctorReport, id: string): Part {
  const { word, tone } = doctorWord(r);
  const who = `${r.target.account ?? '(account unknown)'} → ${r.target.host ?? '?'}${r.target.port !== undefined && r.target.port !== 3389 ? `:${r.target.port}` : ''}`;
  const card = html`<a class="card tone-${tone}" href="#${id}" data-card="doctor"><span class="card-kind">Doctor · ${shortName(r.source)}</span><span class="card-head">${word} · ${who}</span><span class="card-cause">${r.headline || r.cause} ${codeTag(r.code)} · exit ${r.exitCode}</span></a>`;
  const body: Html[] = [];
  body.push(html`<p class="verdict-line tone-${tone}"><span class="word">${word}</span> <strong>${who}</strong></p><p class="headline">${r.headline}</p>`);
  body.push(tiles([
    { label: 'steps passed', value: r.steps.filter((s) => s.status === 'passed').length, tone: 'ok' },
    { label: 'steps failed', value: r.steps.filter((s) => s.status === 'failed' || s.status === 'error').length, tone: r.ok ? 'muted' : 'bad' },
    { label: 'not checked', value: r.steps.filter((s) => s.status === 'not-checked').length, tone: 'muted' },
    { label: 'exit code', value: String(r.exitCode), tone: r.exitCode ? 'bad' : 'ok' },
    ...(r.totalMs !== undefined ? [{ label: 'total ms', value: r.totalMs }] : []),
  ]));
  if (r.remediation.length) body.push(html`<h3>${r.ok ? 'Notes' : 'Fix, in this order'}</h3>${fixList(r.remediation, 8)}`);
  const decider = r.findings.find((f) => f.code === r.code);
  if (decider && !r.ok && decider.evidence && Object.keys(decider.evidence).length) {
    body.push(html`<h3>Evidence</h3>`);
    body.push(table('evidence', ['Observed', 'Value'], Object.entries(decider.evidence).map(([k, v]) => [k, evidenceText(v)])));
  }
  body.push(html`<h3>Steps</h3>`);
  body.push(barChart('Time per step (ms)', r.steps.filter((s) => s.status !== 'not-checked').map((s) => ({ label: s.name, value: Math.round(s.ms), tone: STATUS_TONE[s.status] ?? 'muted', note: 'ms' })), 'steps'));
  body.push(table('steps', ['Step', 'Status', 'Findings', 'ms'], r.steps.map((s) => [
    s.name, html`<span class="status tone-${STATUS_TONE[s.status] ?? 'muted'}">${s.status}</span>`,
    s.status === 'not-checked' ? (s.note ?? '') : html`${s.findings.map((c) => html`${codeTag(c)} `)}`, s.status === 'not-checked' ? '' : num(s.ms),
  ]), new Set([3])));
  const others = r.findings.filter((f) => f !== decider && f.severity !== 'ok');
  if (others.length) {
    body.push(details(html`Other findings <span class="muted">(${num(others.length)})</span>`, table('findings', ['Severity', 'Code', 'What was found'], others.map((f) => [
      html`<span class="sev sev-${f.severity}">${f.severity}</span>`, codeTag(f.code), f.message,
    ]))));
  }
  return { card, section: section(id, 'doctor', html`Doctor <span class="source">${r.source}</span>`, body) };
}
