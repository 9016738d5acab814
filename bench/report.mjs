#!/usr/bin/env node
// `credgate report` as users run it, each run a process of its own (wall time, its peak RSS from
// /proc/self/status VmHWM written at exit by a preload, the size of the HTML it writes):
//   1. a verify output of 20,000 accounts (result lines made by credgate's own code: AD's bind
//      answers and connection faults, decided as the pool decides, written by resultLine);
//   2. a fleet of 1,000 machines (100 cached credentials each): `cache inspect --json` and
//      `cache purge --json` outputs, then the report of both;
//   3. all three inputs in one report;
//   4. `cache inspect --json` with and without `--html` over the fleet, alternating (what --html
//      adds to the run);
//   5. a verify output of 1,000,000 accounts (~500 MB): memory stays bounded (read from its end,
//      13 bytes and a time per account, capped rows).
// Each of 1-4 runs RUNS times, alternating with `credgate --version` (the process start, to tell
// the report's own time apart); medians are printed. Targets: the 20,000-account report under
// 1 MB and 2 s; every peak RSS under 200 MB (the 1,000,000-account one included).
// Measured (2 shared cores, load ~5; inputs: verify 8.6 MB, inspect.json 34.7 MB, purge.json 34.2 MB):
// 20,000 accounts 309 ms (process start 101 ms), 76 MB, 273 KB of HTML; inspect + purge of 1,000
// machines 1,136 ms, 115 MB, 797 KB; all three 887 ms, 122 MB, 1,066 KB; cache inspect over the
// fleet 713 ms without --html, 753 ms with (175 / 180 MB, 462 KB); 1,000,000 accounts (432 MB)
// 8.5 s, 156 MB, 251 KB.
// Usage: npm run build && node bench/report.mjs [runs=5] [bigAccounts=1000000]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { bindAnswerFindings, connectionFinding, decideAccount } = await import(path.join(root, 'dist', 'index.js'));
const { resultLine } = await import(path.join(root, 'dist', 'bulk', 'index.js'));
const RUNS = Number(process.argv[2] ?? 5);
const BIG = Number(process.argv[3] ?? 1_000_000);
const BIN = path.join(root, 'bin', 'credgate.mjs');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-bench-report-'));
const at = (f) => path.join(work, f);
// the preload: this process's peak RSS in KB at exit, into the file named by CREDGATE_BENCH_RSS
const PRELOAD = `data:text/javascript,${encodeURIComponent("import fs from 'node:fs'; process.on('exit', () => { const m = /VmHWM:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8')); fs.writeFileSync(process.env.CREDGATE_BENCH_RSS, m ? m[1] : '0'); });")}`;

/** One credgate process: wall ms, peak RSS MB, exit code, stdout length. */
function credgate(args, stdoutFile) {
  const rss = at('rss.txt');
  const t0 = performance.now();
  const out = stdoutFile ? fs.openSync(stdoutFile, 'w') : 'ignore';
  const r = spawnSync(process.execPath, ['--import', PRELOAD, BIN, ...args], { cwd: work, env: { ...process.env, CREDGATE_BENCH_RSS: rss, NO_COLOR: '1' }, stdio: ['ignore', out, 'pipe'], timeout: 300_000 });
  const ms = performance.now() - t0;
  if (typeof out === 'number') fs.closeSync(out);
  return { ms, rssMB: Number(fs.readFileSync(rss, 'utf8')) / 1024, code: r.status, stderr: String(r.stderr ?? '').slice(0, 300) };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A verify output of n accounts (the mix of a real estate), streamed to `file`. */
function writeVerify(file, n) {
  const dirs = ['dc1', 'dc2'].map((h) => ({ url: `ldaps://${h}.corp.example:636`, scheme: 'ldaps', host: `${h}.corp.example`, port: 636 }));
  const reject = (data) => ({ resultCode: 49, diagnosticMessage: `80090308: LdapErr: DSID-0C09056B, comment: AcceptSecurityContext error, data ${data}, v4f7c` });
  let seed = 11;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const kinds = [[0.72, () => bindAnswerFindings({ resultCode: 0, diagnosticMessage: '' }, 'x', 14), true], [0.84, () => bindAnswerFindings(reject('52e'), 'x', 14), true],
    [0.88, () => bindAnswerFindings(reject('775'), 'x', 14), true], [0.91, () => bindAnswerFindings(reject('532'), 'x', 14), true], [0.93, () => bindAnswerFindings(reject('533'), 'x', 14), true],
    [0.95, () => bindAnswerFindings(reject('773'), 'x', 14), true], [0.97, (d) => [connectionFinding(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), d, 'ldap-bind', 'connect', false)], false],
    [1.01, (d) => [connectionFinding(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }), d, 'ldap-bind', 'bind', true, { requestSent: true })], true]];
  const fd = fs.openSync(file, 'w');
  let buf = '';
  for (let i = 0; i < n; i++) {
    const x = rnd();
    const [, make, bound] = kinds.find(([p]) => x < p);
    const d = dirs[rnd() < 0.7 ? 0 : 1];
    const findings = make(d);
    const ms = bound ? (findings[0].code === 'net.timeout' ? 10_000 : 6 + Math.round(-Math.log(1 - rnd()) * 14)) : 2;
    buf += resultLine({ line: i + 2, account: `user${i}@corp.example`, ...decideAccount(findings), bound, url: d.url, findings, ms });
    if (buf.length > 1 << 20) {
      fs.writeSync(fd, buf);
      buf = '';
    }
  }
  fs.writeSync(fd, buf);
  fs.closeSync(fd);
}

/** `machines` collector files of `per` credentials each (as bench/cache-inspect.mjs's fleet). */
function writeFleet(dir, machines, per) {
  fs.mkdirSync(dir);
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let m = 0; m < machines; m++) {
    const credentials = Array.from({ length: per }, (_, k) => ({
      target: k % 5 === 0 ? `LegacyGeneric:target=app${k}` : `Domain:target=TERMSRV/srv${Math.floor(rnd() * 300)}.pamtest.local`,
      type: 'domain-password', userName: rnd() < 0.9 ? 'PAMTEST\\svc-rdp' : 'PAMTEST\\olduser',
      lastWritten: new Date(Date.UTC(2026, 9, 1) + Math.floor(rnd() * 60) * 86400e3).toISOString(), persist: 'local-machine',
    }));
    fs.writeFileSync(path.join(dir, `ws${m}.json`), JSON.stringify({ schema: 'credgate-collector/1', machine: `WS-${m}`, credentials }));
  }
}

/** RUNS alternating runs of `args` and of the process start alone: medians, the largest RSS, the report's size. */
function measure(name, args, out) {
  const runs = [];
  const starts = [];
  for (let i = 0; i < RUNS; i++) {
    runs.push(credgate(args));
    starts.push(credgate(['--version']));
  }
  const bad = runs.find((r) => r.code !== 0);
  const row = {
    bench: name, runs: RUNS, medianMs: Math.round(median(runs.map((r) => r.ms))), startMs: Math.round(median(starts.map((r) => r.ms))),
    peakRssMB: Math.round(Math.max(...runs.map((r) => r.rssMB))), htmlKB: Math.round(fs.statSync(out).size / 1024), ...(bad ? { exitCode: bad.code, stderr: bad.stderr } : {}),
  };
  console.log(JSON.stringify(row));
  return row;
}

try {
  writeVerify(at('verify-20k.jsonl'), 20_000);
  writeFleet(at('fleet'), 1000, 100);
  const fleet = ['--from', at('fleet'), '--account', 'PAMTEST\\svc-rdp', '--changed-at', '2026-11-01T00:00:00Z', '--json'];
  const inspect = credgate(['cache', 'inspect', ...fleet], at('inspect.json'));
  const purge = credgate(['cache', 'purge', ...fleet], at('purge.json'));
  console.log(JSON.stringify({ inputs: { verifyMB: +(fs.statSync(at('verify-20k.jsonl')).size / 1048576).toFixed(1), inspectMB: +(fs.statSync(at('inspect.json')).size / 1048576).toFixed(1), purgeMB: +(fs.statSync(at('purge.json')).size / 1048576).toFixed(1), inspectExit: inspect.code, purgeExit: purge.code } }));
  const rows = [
    measure('report: verify output, 20,000 accounts', ['report', '--from', 'verify-20k.jsonl', '--out', 'v.html'], at('v.html')),
    measure('report: cache inspect + purge, 1,000 machines', ['report', '--from', 'inspect.json', 'purge.json', '--out', 'f.html'], at('f.html')),
    measure('report: all three', ['report', '--from', 'verify-20k.jsonl', 'inspect.json', 'purge.json', '--out', 'a.html'], at('a.html')),
  ];
  // what --html adds to a fleet inspection: the same command with and without it, alternating
  const plain = [];
  const withHtml = [];
  for (let i = 0; i < RUNS; i++) {
    plain.push(credgate(['cache', 'inspect', ...fleet]));
    withHtml.push(credgate(['cache', 'inspect', ...fleet, '--html', 'i.html']));
  }
  const html = { bench: 'cache inspect --json over 1,000 machines, without / with --html', runs: RUNS, withoutMs: Math.round(median(plain.map((r) => r.ms))), withMs: Math.round(median(withHtml.map((r) => r.ms))),
    withoutRssMB: Math.round(Math.max(...plain.map((r) => r.rssMB))), withRssMB: Math.round(Math.max(...withHtml.map((r) => r.rssMB))), htmlKB: Math.round(fs.statSync(at('i.html')).size / 1024) };
  console.log(JSON.stringify(html));
  let big;
  if (BIG > 0) {
    const t0 = performance.now();
    writeVerify(at('verify-big.jsonl'), BIG);
    const mb = fs.statSync(at('verify-big.jsonl')).size / 1048576;
    const r = credgate(['report', '--from', 'verify-big.jsonl', '--out', 'big.html']);
    big = { bench: `report: verify output, ${BIG.toLocaleString('en-US')} accounts`, inputMB: Math.round(mb), generateMs: Math.round(performance.now() - t0 - r.ms), wallMs: Math.round(r.ms), peakRssMB: Math.round(r.rssMB), htmlKB: Math.round(fs.statSync(at('big.html')).size / 1024), exitCode: r.code };
    console.log(JSON.stringify(big));
  }
  const pass = rows.every((r) => r.exitCode === undefined && r.peakRssMB < 200) && rows[0].htmlKB < 1024 && rows[0].medianMs < 2000 && html.withRssMB < 200 && (!big || (big.exitCode === 0 && big.peakRssMB < 200));
  console.log(JSON.stringify({ bench: 'report', pass }));
  process.exitCode = pass ? 0 : 1;
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
