#!/usr/bin/env node
// `credgate verify` as a user runs it, whole processes, against a slapd of this benchmark's own
// (40,000 bench users, free ports, its own dir; stopped by PID at the end): in each round, one
// after the other in a rotating order, three processes over the same CSV of 40,000 accounts with
// 8 persistent LDAPS connections:
//   credgate  `credgate verify --input <csv> --output <jsonl> --overwrite --ldap --ca-file --json`
//             (CSV in, JSON Lines out, resume hash, progress: the whole CLI path)
//   raw       a process that reads the same CSV and binds with the ppolicy control over 8
//             persistent connections with hand-encoded BER, writing nothing (bench/lib/bind-loop.mjs)
//   ldapts    the same with ldapts Client.bind re-binding over 8 persistent clients
//   wire      the same with credgate's wire client alone (src/protocols/ldap/connection.ts, bundled
//             from this checkout for the run): the hand-written client against ldapts, nothing else
// Each is timed from spawn to exit (throughput = accounts / wall time); its CPU time comes from a
// preload (bench/lib/usage-hook.mjs, the same for all three). Ratios are the medians of the
// per-round ratios. Target: credgate ≥ 90% of raw's throughput. Exit code 0 when met.
// Usage: node bench/verify-cli.mjs [--bin <path to bin/credgate.mjs>] [accounts=40000] [concurrency=8] [rounds=5]
//   (--bin, or CREDGATE_BENCH_BIN: another build's CLI, e.g. a baseline worktree's, for before/after)
// Bounded: stops (and stops its slapd) after 420 s.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopPid } from '../test/lab/proc.mjs';
import { benchArgs, median } from './lib/args.mjs';
import { runBounded } from './lib/bounded.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { bin, rest } = benchArgs(process.argv.slice(2));
const N = Number(rest[0] ?? 40000);
const C = Number(rest[1] ?? 8);
const ROUNDS = Number(rest[2] ?? 5);
const LIMIT_MS = 420_000;
const hook = path.join(here, 'lib', 'usage-hook.mjs');
const loop = path.join(here, 'lib', 'bind-loop.mjs');

const root = path.resolve(here, '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-bench-verify-cli-'));
let lab;
let child;
async function cleanup() {
  child?.kill('SIGKILL');
  for (const pid of lab?.pids ?? []) await stopPid(pid);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Run one process to its end: wall ms, CPU µs (from the preload), exit code, stdout. */
async function run(args) {
  const usage = path.join(dir, 'usage.json');
  fs.rmSync(usage, { force: true });
  const t0 = performance.now();
  child = spawn(process.execPath, ['--import', hook, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', CREDGATE_BENCH_USAGE: usage }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const [code] = await once(child, 'close');
  const wallMs = performance.now() - t0;
  child = undefined;
  const u = JSON.parse(fs.readFileSync(usage, 'utf8'));
  return { code, wallMs, cpuUs: u.cpuUs, stdout, stderr };
}

await runBounded(LIMIT_MS, cleanup, async () => {
  process.env.CREDGATE_LAB_SLAPD_BENCH = String(N);
  const slapd = await import('../test/lab/slapd.mjs');
  const ts = performance.now();
  lab = await slapd.start({ dir: path.join(dir, 'slapd'), log: () => {} });
  // the wire client alone, from src/ (esbuild comes with tsup), for the `wire` loop
  const wire = path.join(dir, 'wire.mjs');
  const { build } = await import('esbuild');
  await build({ entryPoints: [path.join(root, 'src', 'protocols', 'ldap', 'connection.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: wire, logLevel: 'silent' });
  const input = path.join(dir, 'accounts.csv');
  const output = path.join(dir, 'results.jsonl');
  const csv = ['id,username,password'];
  for (let i = 0; i < N; i++) csv.push(`${i},"uid=bench${i},ou=people,${lab.suffix}",${lab.benchPassword}`);
  fs.writeFileSync(input, csv.join('\n') + '\n');
  console.log(`slapd with ${N} bench users on ${lab.ldapsUrl} (own instance, started in ${Math.round(performance.now() - ts)} ms); credgate: ${bin}`);
  console.log(`machine: ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ${C} connections; ${ROUNDS} rounds; node ${process.version}`);

  const sides = {
    credgate: async () => {
      // a fresh output each time, as a first run has it (not the truncation of the last run's 15 MB)
      fs.rmSync(output, { force: true });
      const r = await run([bin, 'verify', '--input', input, '--output', output, '--overwrite', '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--concurrency', String(C), '--json']);
      const s = r.code === 0 ? JSON.parse(r.stdout) : undefined;
      if (!s || s.total !== N || s.valid !== N) throw new Error(`credgate verify: exit ${r.code}, ${s?.total} results, ${s?.valid} valid, expected ${N}: ${r.stderr.slice(0, 300)}`);
      const lines = fs.readFileSync(output, 'utf8').split('\n').filter(Boolean).length;
      if (lines !== N) throw new Error(`credgate verify wrote ${lines} result lines for ${N} accounts`);
      return r;
    },
    raw: () => loopSide('raw'),
    ldapts: () => loopSide('ldapts'),
    wire: () => loopSide('wire'),
  };
  async function loopSide(name) {
    const r = await run([loop, name, input, lab.ldapsUrl, lab.caFile, String(C), wire]);
    if (r.code !== 0) throw new Error(`${name} loop: exit ${r.code}: ${r.stderr.slice(0, 300)}`);
    return r;
  }
  const names = Object.keys(sides);
  // warm-up: slapd's caches, the page cache of node and the CSV
  for (const n of names) await sides[n]();
  const m = Object.fromEntries(names.map((n) => [n, []]));
  const loads = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    for (const n of order) m[n].push(await sides[n]());
    loads.push(os.loadavg()[0]);
    console.log(`  round ${r + 1} (${order.join(', ')}): ${names.map((n) => `${n} ${(m[n][r].wallMs / 1000).toFixed(2)} s`).join(', ')}; load ${loads[r].toFixed(2)}`);
  }
  const perRound = (a, b) => median(m[a].map((x, i) => m[b][i].wallMs / x.wallMs));
  console.log('');
  console.log(`| process (${N} accounts, LDAPS, ${C} connections, median of ${ROUNDS}) | wall s | accounts/s | client CPU µs / account |`);
  console.log('|---|---|---|---|');
  const label = { credgate: '`credgate verify` (CSV in, JSON Lines out)', raw: 'raw BER bind loop (reads the CSV, writes nothing)', ldapts: 'ldapts `Client.bind` re-binding (reads the CSV, writes nothing)', wire: 'credgate\'s wire client re-binding (reads the CSV, writes nothing)' };
  for (const n of names) {
    const wall = median(m[n].map((x) => x.wallMs)) / 1000;
    console.log(`| ${label[n]} | ${wall.toFixed(2)} | ${Math.round(N / wall)} | ${(median(m[n].map((x) => x.cpuUs)) / N).toFixed(1)} |`);
  }
  const ofRaw = perRound('credgate', 'raw');
  const ldaptsOfRaw = perRound('ldapts', 'raw');
  const overLdapts = perRound('credgate', 'ldapts');
  const wireOverLdapts = perRound('wire', 'ldapts');
  const wireOfRaw = perRound('wire', 'raw');
  const cpu = (n) => median(m[n].map((x) => x.cpuUs)) / N;
  console.log('');
  console.log(`credgate / raw = ${(ofRaw * 100).toFixed(1)}% of the throughput (median of the per-round ratios; target ≥ 90%)`);
  console.log(`ldapts / raw = ${(ldaptsOfRaw * 100).toFixed(1)}%; credgate / ldapts = ${overLdapts.toFixed(2)}×`);
  console.log(`wire client / ldapts = ${wireOverLdapts.toFixed(2)}× the throughput, ${(cpu('ldapts') / cpu('wire')).toFixed(2)}× less client CPU per bind (${cpu('wire').toFixed(1)} vs ${cpu('ldapts').toFixed(1)} µs); wire client / raw = ${(wireOfRaw * 100).toFixed(1)}%`);
  console.log(`load average over the rounds: ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}`);
  console.log(JSON.stringify({ bench: 'verify-cli', accounts: N, concurrency: C, rounds: ROUNDS, credgateOfRaw: +ofRaw.toFixed(3), ldaptsOfRaw: +ldaptsOfRaw.toFixed(3), credgateOverLdapts: +overLdapts.toFixed(2), wireOverLdapts: +wireOverLdapts.toFixed(2), wireOfRaw: +wireOfRaw.toFixed(3), cpuUsPerBind: Object.fromEntries(names.map((n) => [n, +cpu(n).toFixed(1)])), load: loads.map((x) => +x.toFixed(2)), pass: ofRaw >= 0.9 }));
  process.exitCode = ofRaw >= 0.9 ? 0 : 1;
});
