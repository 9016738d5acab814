// The report as an admin sees it, in Debian's headless Chromium: a real `credgate verify` against
// the lab's slapd (--html), grown to a 20,000-account output with result lines made by credgate's
// own code; a fleet of 1,000 machines through `cache inspect` and `cache purge` (--json, --html);
// a real `credgate doctor` against the lab's DC and NLA host; then `credgate report` over all of
// them. Each page is opened with no network, its DOM checked against counts computed here from the
// inputs themselves, scanned for every password the lab knows, and screenshotted (whole page) into
// test-artifacts/report/.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, assertNoLeak, knownSecrets } from '../../helpers/cli.js';
import { slapd, samba, sambaScenario, labPart, type SlapdState, type SambaState } from '../../lab/state.js';
import { verifyOutput, writeFleet } from '../../unit/report/fixtures.js';
import { inChromium, pngSize, type Opened } from './chromium.js';

const root = path.resolve(import.meta.dirname, '..', '..', '..');
const ARTIFACTS = path.join(root, 'test-artifacts', 'report');
const STALE = new Set(['cache.stale-password', 'cache.wrong-user']);

let work: string;
let ldap: SlapdState;
let dc: SambaState;

beforeAll(() => {
  ldap = slapd();
  dc = samba();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-report-it-'));
  fs.mkdirSync(ARTIFACTS, { recursive: true });
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const at = (name: string) => path.join(work, name);
const secrets = () => knownSecrets();

/** What the page shows, read from its DOM. */
interface Dom {
  h2: string[];
  scripts: number;
  urls: string[];
  text: string;
  html: string;
  cards: string[];
  tiles: Record<string, Record<string, string>>;
  /** Per chart (section:kind), each bar: its label, its value, its drawn width, the label text shown. */
  bars: Record<string, Array<[string, number, number, string]>>;
  details: number;
}

/** Read in the page (plain JavaScript: the project's TypeScript has no DOM types). */
const READ_DOM = `(() => {
  const q = (s, from = document) => Array.from(from.querySelectorAll(s));
  const section = (e) => e.closest('section')?.getAttribute('data-section') ?? '';
  return {
    h2: q('h2').map((e) => e.childNodes[0].textContent.trim()),
    scripts: q('script').length,
    urls: q('[src],[href]').map((e) => e.getAttribute('src') ?? e.getAttribute('href') ?? ''),
    text: document.body.innerText,
    html: document.documentElement.outerHTML,
    cards: q('.card').map((c) => c.innerText),
    tiles: Object.fromEntries(q('section').map((s) => [s.getAttribute('data-section'), Object.fromEntries(q('.tile', s).map((t) => [t.dataset.tile, t.querySelector('.tile-value').textContent]))])),
    bars: Object.fromEntries(q('figure.chart').map((f) => [section(f) + ':' + f.dataset.chart, q('g.bar', f).map((g) => [
      g.dataset.label, Number(g.dataset.value), g.querySelector('rect').getBBox().width, g.querySelector('.bar-label').textContent,
    ])])),
    details: q('details').length,
  };
})()`;

const readDom = ({ page }: Opened): Promise<Dom> => page.evaluate(READ_DOM) as Promise<Dom>;

/** No script, no URL but in-page anchors, no request made, no password anywhere in the page; a whole-page screenshot. */
async function lookAt(o: Opened, name: string): Promise<Dom> {
  const dom = await readDom(o);
  expect(dom.scripts).toBe(0);
  expect(dom.urls.filter((u) => !u.startsWith('#'))).toEqual([]);
  expect(o.blocked).toEqual([]);
  assertNoLeak(dom.html, secrets(), `${name} (DOM)`);
  assertNoLeak(dom.text, secrets(), `${name} (text)`);
  const png = path.join(ARTIFACTS, `${name}.png`);
  await o.page.screenshot({ path: png, fullPage: true, timeout: 30_000 });
  const size = pngSize(png);
  expect(size.width).toBe(1280);
  expect(size.height).toBeGreaterThan(900);
  return dom;
}

const count = (n: number) => n.toLocaleString('en-US');

/** Each account's last record: what the report must count. */
function lastRecords(text: string): { accounts: number; ok: number; byCode: Record<string, number> } {
  const last = new Map<string, { ok: boolean; code: string }>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { account?: string; ok: boolean; code: string };
    if (r.account !== undefined) last.set(r.account, r);
  }
  const byCode: Record<string, number> = {};
  let ok = 0;
  for (const r of last.values()) {
    byCode[r.code] = (byCode[r.code] ?? 0) + 1;
    if (r.ok) ok++;
  }
  return { accounts: last.size, ok, byCode };
}

describe('credgate report in Chromium', () => {
  it('a bulk run of 20,000 accounts, a fleet of 1,000 machines and a doctor verdict: one report, every count as in the inputs', async () => {
    // 1. a real verify against slapd, with its own report
    const dn = (uid: string) => `uid=${uid},ou=people,${ldap.suffix}`;
    const live = ['username,password', `"${dn('good')}",${ldap.password}`, `"${dn('locked')}",${ldap.password}`, `"${dn('expired')}",${ldap.password}`,
      ...Array.from({ length: 27 }, (_, i) => `"${dn(`bench${i + 1}`)}",${ldap.benchPassword}`), 'only-one-column'];
    fs.writeFileSync(at('in.csv'), live.join('\n') + '\n');
    const v = await runCli(['verify', '--input', at('in.csv'), '--output', at('live.jsonl'), '--ldap', ldap.ldapsUrl, '--ca-file', ldap.caFile, '--html', path.join(ARTIFACTS, 'verify-live.html')], { cwd: work });
    expect(v.code, v.stderr).toBe(3); // locked and expired: unusable
    const liveText = fs.readFileSync(at('live.jsonl'), 'utf8');
    assertNoLeak(liveText, secrets(), 'the verify output');
    const liveCounts = lastRecords(liveText);
    expect(liveCounts).toMatchObject({ accounts: 30, ok: 28 });

    // 2. grown to 20,000 accounts with result lines made by credgate's code (50 of them answered twice: a resumed run)
    const grown = verifyOutput(19_970, { resumed: 50, names: (i) => `user${String(i).padStart(5, '0')}@pamtest.local` });
    fs.writeFileSync(at('verify.jsonl'), liveText + grown.text);
    const want = lastRecords(liveText + grown.text);
    expect(want.accounts).toBe(20_000);

    // 3. a fleet of 1,000 machines: inspect and purge plan as JSON, inspect's own report
    writeFleet(at('fleet'), 1000);
    const fleetArgs = ['--from', at('fleet'), '--account', 'PAMTEST\\svc-rdp', '--changed-at', '2026-11-01T00:00:00Z', '--json'];
    const inspect = await runCli(['cache', 'inspect', ...fleetArgs, '--html', path.join(ARTIFACTS, 'fleet-inspect.html')], { cwd: work, timeoutMs: 60_000 });
    expect(inspect.code, inspect.stderr).toBe(6);
    fs.writeFileSync(at('inspect.json'), inspect.stdout);
    const purge = await runCli(['cache', 'purge', ...fleetArgs], { cwd: work, timeoutMs: 60_000 });
    expect(purge.code, purge.stderr).toBe(6);
    fs.writeFileSync(at('purge.json'), purge.stdout);
    const staleBy = new Map<string, number>();
    for (const f of inspect.json.findings as Array<{ code: string; evidence: { machine?: string } }>) {
      if (STALE.has(f.code)) staleBy.set(f.evidence.machine!, (staleBy.get(f.evidence.machine!) ?? 0) + 1);
    }
    expect(staleBy.size).toBe(1000);
    const stale = [...staleBy.values()].reduce((a, b) => a + b, 0);

    // 4. a real doctor: alice's password is right, but WS-0042 caches one older than its last change
    const rdp = labPart<{ nla: { port: number } }>('rdp');
    fs.writeFileSync(at('ws-0042.json'), JSON.stringify({ schema: 'credgate-collector/1', machine: 'WS-0042', credentials: [
      { target: 'Domain:target=TERMSRV/127.0.0.1', type: 'domain-password', userName: 'PAMTEST\\alice', lastWritten: '2025-06-01T08:00:00Z', persist: 'local-machine' },
    ] }));
    const good = sambaScenario('good');
    const doctor = await runCli(['doctor', '--host', `127.0.0.1:${rdp.nla.port}`, '--account', good.downLevel, '--password-stdin', '--ldap', dc.ldapsUrl, '--ca-file', dc.caFile,
      '--service-user', `${dc.reader.user}@pamtest.local`, '--service-password-env', 'SVC_PW', '--cache-from', at('ws-0042.json'), '--json'], { stdin: good.password, env: { SVC_PW: dc.reader.password }, cwd: work });
    expect([doctor.code, doctor.json.code]).toEqual([6, 'cache.stale-password']);
    fs.writeFileSync(at('doctor.json'), doctor.stdout);

    // 5. one report over all of them
    const report = path.join(ARTIFACTS, 'report.html');
    const r = await runCli(['report', '--from', at('verify.jsonl'), at('inspect.json'), at('purge.json'), at('doctor.json'), '--out', report, '--json'], { cwd: work, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.inputs.map((x: { kind: string }) => x.kind)).toEqual(['verify', 'cache-inspect', 'cache-purge', 'doctor']);
    expect(r.json.bytes).toBeLessThan(3_000_000);

    const dom = await inChromium(report, (o) => lookAt(o, 'report'));
    expect(dom.h2).toEqual(['Verdict', 'Bulk verify', 'Cache inspection', 'Cache purge', 'Doctor']);
    // the verdict cards, in the inputs' order, before everything else
    expect(dom.cards).toHaveLength(4);
    expect(dom.cards[0]).toContain(`${count(want.accounts - want.ok)} of 20,000 accounts failed`);
    expect(dom.cards[1]).toContain(`${count(stale)} stale cached credentials on 1,000 machines`);
    expect(dom.cards[2]).toContain(`${count(purge.json.plan.items.length)} entries planned for purge on 1,000 machines`);
    expect(dom.cards[3]).toContain(`WILL FAIL · ${good.downLevel} → 127.0.0.1:${rdp.nla.port}`);
    // the counts are the inputs' counts
    expect(dom.tiles.verify).toMatchObject({ accounts: '20,000', valid: count(want.ok), failed: count(want.accounts - want.ok), 'bad input lines': '1', 'exit code': '4' });
    expect(dom.tiles['cache-inspect']).toMatchObject({ 'entries checked': count(inspect.json.considered), 'stale entries': count(stale), 'machines with stale entries': '1,000', findings: count(inspect.json.findings.length), 'exit code': '6' });
    expect(dom.tiles['cache-purge']).toMatchObject({ planned: count(purge.json.plan.items.length), machines: '1,000' });
    expect(dom.tiles.doctor).toMatchObject({ 'exit code': '6' });
    // the charts: one drawn bar per failing code with its count; the machines with the most stale entries
    const failing = Object.entries(want.byCode).filter(([c]) => c !== 'ldap.ok');
    expect(Object.fromEntries(dom.bars['verify:failures-by-cause']!.map(([l, n]) => [l, n]))).toEqual(Object.fromEntries(failing));
    for (const [label, n, width, shown] of Object.values(dom.bars).flat()) {
      expect(shown).toBe(label);
      expect(width > 0).toBe(n > 0);
    }
    const top = [...staleBy.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 15);
    expect(dom.bars['cache-inspect:stale-by-machine']!.map(([l, n]) => [l, n])).toEqual(top);
    expect(Object.fromEntries(dom.bars['cache-inspect:findings-by-cause']!.map(([l, n]) => [l, n]))).toEqual(
      (inspect.json.findings as Array<{ code: string }>).reduce<Record<string, number>>((m, f) => ({ ...m, [f.code]: (m[f.code] ?? 0) + 1 }), {}));
    expect(dom.bars['doctor:steps']!.map(([l]) => l)).toEqual((doctor.json.steps as Array<{ name: string; status: string }>).filter((s) => s.status !== 'not-checked').map((s) => s.name));
    // causes with their fixes, up front; the capped tables behind them, folded
    expect(dom.text).toContain('The account is locked out.');
    expect(dom.text).toContain('Unlock the account in Active Directory');
    expect(dom.text).toContain('Purge the stale entries');
    expect(dom.text).toMatch(/median \d+ ms · 90th percentile \d+ ms · 99th percentile [\d,]+ ms · slowest [\d,]+ ms/);
    expect(dom.details).toBeGreaterThanOrEqual(6);
    expect(dom.html).toContain(`Showing the first 1,000 of ${count(want.accounts - want.ok)} failed accounts`);

    // verify's and cache inspect's own reports open the same way
    const own = await inChromium(path.join(ARTIFACTS, 'verify-live.html'), (o) => lookAt(o, 'verify-live'));
    expect(own.tiles.verify).toMatchObject({ accounts: '30', valid: '28', failed: '2', 'bad input lines': '1', 'exit code': '3' });
    expect(Object.fromEntries(own.bars['verify:failures-by-cause']!.map(([l, n]) => [l, n]))).toEqual({ 'ldap.account-locked': 1, 'ldap.password-expired': 1 });
    const fleet = await inChromium(path.join(ARTIFACTS, 'fleet-inspect.html'), (o) => lookAt(o, 'fleet-inspect'));
    expect(fleet.tiles['cache-inspect']).toMatchObject({ 'machines with stale entries': '1,000', 'stale entries': count(stale) });
  }, 240_000);
});
