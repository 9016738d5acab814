// The report page as markup: hostile values everywhere an input can put text (account names,
// server messages, URLs, machine names, targets, evidence, file names) come out as text, never as
// markup; the page has only its own tags and attributes, no script and no external URL; its
// structure (verdict cards, sections, charts and tables) follows the inputs' counts.
import { describe, it, expect } from 'vitest';
import { buildReport } from '../../../src/report/build.js';
import { escapeHtml } from '../../../src/report/html.js';
import type { CacheReport, DoctorReport, ReportInput } from '../../../src/report/types.js';
import { readVerifyOutput } from '../../../src/report/verify-input.js';
import { reportInputOf } from '../../../src/report/read.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resultLine } from '../../../src/bulk/results.js';
import { HOSTILE, verifyOutput } from './fixtures.js';
import { expectOwnMarkup } from './markup.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cg-report-build-'));

async function hostileVerify(): Promise<ReportInput> {
  const dir = tmp();
  try {
    const f = path.join(dir, 'v.jsonl');
    const finding = { code: 'ldap.invalid-credentials' as const, severity: 'error' as const, message: `server said ${HOSTILE}`, evidence: { diagnosticMessage: HOSTILE }, remediation: [{ action: `do ${HOSTILE}`, owner: 'vault' as const }], source: 'ldap-bind' };
    fs.writeFileSync(f, resultLine({ line: 2, id: HOSTILE, account: HOSTILE, ok: false, code: 'ldap.invalid-credentials', category: 'rejected', exitCode: 1, bound: true, url: `ldaps://${HOSTILE}`, findings: [finding], ms: 12 })
      + JSON.stringify({ line: 3, ok: false, code: 'input.invalid', category: 'usage', error: HOSTILE }) + '\n');
    return await readVerifyOutput(f, `results ${HOSTILE}.jsonl`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const hostileCache = (): CacheReport => reportInputOf({
  ok: false, code: 'cache.stale-password', cause: HOSTILE, exitCode: 6, considered: 2, unknownAge: 0,
  findings: [{ code: 'cache.stale-password', severity: 'error', message: HOSTILE, evidence: { machine: HOSTILE, target: `TERMSRV/${HOSTILE}`, username: HOSTILE }, remediation: [{ action: HOSTILE }] }],
  remediation: [{ action: HOSTILE, owner: 'client' }], warnings: [HOSTILE],
}, HOSTILE) as CacheReport;

const hostilePurge = (): CacheReport => reportInputOf({
  dryRun: false, audit: HOSTILE, mode: 'emit', warnings: [],
  items: [{ machine: HOSTILE, target: HOSTILE, rawTarget: HOSTILE, type: 't', username: HOSTILE, source: 's', rule: 'cache.wrong-user', reason: HOSTILE, evidence: {}, result: 'emitted' }],
}, 'purge.json') as CacheReport;

const hostileDoctor = (): DoctorReport => reportInputOf({
  ok: false, code: 'ldap.account-disabled', cause: HOSTILE, headline: HOSTILE, exitCode: 3, target: { host: HOSTILE, port: 3390, account: HOSTILE },
  steps: [{ name: HOSTILE, status: 'failed', ms: 3, findings: [HOSTILE] }, { name: 'rdp-nla', status: 'not-checked', ms: 0, note: HOSTILE, findings: [] }],
  findings: [{ code: 'ldap.account-disabled', severity: 'error', message: HOSTILE, evidence: { [HOSTILE]: HOSTILE, nested: { x: HOSTILE } }, remediation: [] }, { code: 'rdp.cert-self-signed', severity: 'warning', message: HOSTILE, evidence: {} }],
  remediation: [{ action: HOSTILE, owner: 'directory' }], timingsMs: { total: 9 },
}, 'doctor.json') as DoctorReport;

describe('buildReport', () => {
  it('hostile values from every kind of input are shown as text: only the page\'s own tags and attributes, no script, no control character', async () => {
    const page = buildReport([await hostileVerify(), hostileCache(), hostilePurge(), hostileDoctor()], { title: HOSTILE, generatedAt: new Date(0) });
    expectOwnMarkup(page);
    // the hostile text is there, escaped, in each part (file names, accounts, machines, messages, evidence)
    expect(page.split(escapeHtml(HOSTILE)).length).toBeGreaterThan(25);
    expect(page).toContain('<title>&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('Made 1970-01-01T00:00:00Z from 4 inputs');
  });

  it('a report of a 20,000-account run: the verdict first, failures by cause with their fixes, the latency chart, capped tables; a few hundred KB', async () => {
    const fx = verifyOutput(20_000, { resumed: 10 });
    const dir = tmp();
    let input: ReportInput;
    try {
      fs.writeFileSync(path.join(dir, 'v.jsonl'), fx.text);
      input = await readVerifyOutput(path.join(dir, 'v.jsonl'), 'results.jsonl');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const page = buildReport([input]);
    expectOwnMarkup(page);
    expect(Buffer.byteLength(page)).toBeLessThan(600_000);
    // the verdict card comes before the section, and names the failures
    const card = page.indexOf('data-card="verify"');
    expect(card).toBeGreaterThan(0);
    expect(card).toBeLessThan(page.indexOf('data-section="verify"'));
    expect(page).toContain(`${(20_000 - fx.ok).toLocaleString('en-US')} of 20,000 accounts failed`);
    // one bar per failing code, with its count
    const bars = [...page.matchAll(/data-chart="failures-by-cause".*?<\/figure>/gs)][0]![0];
    const got = Object.fromEntries([...bars.matchAll(/data-label="([^"]+)" data-value="(\d+)"/g)].map((m) => [m[1], Number(m[2])]));
    const want = Object.fromEntries(Object.entries(fx.byCode).filter(([c]) => c !== 'ldap.ok'));
    expect(got).toEqual(want);
    // the cause table carries the catalog's cause and a fix for each failing code
    expect(page).toContain('The password is wrong for this account (or the account does not exist).');
    expect(page).toContain('Unlock the account in Active Directory');
    // the histogram's bins hold every bound account
    const bins = [...page.matchAll(/class="bin"[^>]*data-ok="(\d+)" data-failed="(\d+)"/g)].reduce((n, m) => n + Number(m[1]) + Number(m[2]), 0);
    expect(bins).toBe((input as { latency: { count: number } }).latency.count);
    // the failed accounts table is capped, and says so
    expect(page.match(/<table data-table="failed-accounts">.*?<\/table>/s)![0].match(/<tr>/g)).toHaveLength(1001);
    expect(page).toContain(`Showing the first 1,000 of ${(20_000 - fx.ok).toLocaleString('en-US')} failed accounts`);
  });

  it('a clean run reads as clean', () => {
    const page = buildReport([{
      kind: 'verify', source: 'ok.jsonl', accounts: 3, ok: 3, failed: 0, badLines: 0, superseded: 0, cutLines: 0, byCode: { 'ldap.ok': 3 }, failedByCode: {}, byUrl: {}, exitCode: 0,
      latency: { edges: [5, 6.3], ok: [3], failed: [0], count: 3, p50: 5, p90: 5, p99: 5, max: 5 }, notBound: 0, failures: { rows: [], total: 0 }, fixes: {}, badRows: { rows: [], total: 0 },
    }]);
    expectOwnMarkup(page);
    expect(page).toContain('All 3 accounts are valid');
    expect(page).toContain('No account failed.');
    expect(page).toContain('class="card tone-ok"');
  });
});
