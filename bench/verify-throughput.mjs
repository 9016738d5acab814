#!/usr/bin/env node
// Bulk verification throughput over LDAPS, in one run, against a slapd of this benchmark's own
// (20,000 bench users, free ports, its own dir; stopped by PID at the end — the lab's shared
// slapd is never touched):
//   1. credgate: verifyMany (the SDK path) — a pool of persistent connections re-binding
//   2. raw: a minimal hand-encoded BER bind loop over the same number of connections (the
//      practical limit of client + slapd on this machine) — code below, no LDAP library
//   3. naive: a new ldapts Client (TLS handshake + bind + unbind) per account, one at a time,
//      over the same accounts (20,000 at ~400 binds/s: ~50 s), then 8 such clients in parallel
//      (for reference). Loopback TIME_WAIT sockets are reused (net.ipv4.tcp_tw_reuse=2).
// Rounds of (credgate, raw) run back to back, alternating order, so both see the same machine
// load (others share these 2 cores); each round then runs the naive way over its share of the
// accounts (round r: accounts r/rounds to (r+1)/rounds), so every account is verified the naive
// way once in the run and each round's credgate/naive ratio is taken under that round's load.
// The ratios are the medians of the per-round ratios; the medians of each rate are printed too
// (naive: all its accounts over all its time).
// Usage: node bench/verify-throughput.mjs [accounts=20000] [concurrency=8] [naiveAccounts=accounts] [rounds=5]
// Bounded: stops (and stops its slapd) after 420 s.
// Targets: credgate ≥ 90% of raw and ≥ 60× naive. Exit code 0 when both are met, 1 otherwise.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBounded } from './lib/bounded.mjs';
import { Client } from 'ldapts';
import { stopPid } from '../test/lab/proc.mjs';
import { rawLoop } from './lib/raw-bind.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.argv[2] ?? 20000);
const C = Number(process.argv[3] ?? 8);
const NAIVE = Math.min(N, Number(process.argv[4] ?? N));
const ROUNDS = Number(process.argv[5] ?? 5);
const LIMIT_MS = 420_000;
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-bench-verify-'));
let lab;
async function cleanup() {
  for (const pid of lab?.pids ?? []) await stopPid(pid);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** verifyMany from dist when it is built with it, else bundled from src/ for this run. */
async function loadSdk() {
  const distIndex = path.join(root, 'dist', 'index.js');
  if (fs.existsSync(distIndex)) {
    const m = await import(distIndex);
    if (m.verifyMany) return { ...m, from: 'dist/index.js' };
  }
  const { build } = await import('esbuild');
  const out = path.join(root, '.lab', `bench-sdk-${process.pid}.mjs`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  await build({
    stdin: { contents: "export { verifyMany } from './src/bulk/verify-many.ts'; export { Secret } from './src/core/secret.ts';", resolveDir: root, loader: 'ts' },
    bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: out, logLevel: 'silent',
  });
  try {
    return { ...(await import(out)), from: 'src/ (bundled with esbuild; dist/ has no verifyMany)' };
  } finally {
    fs.rmSync(out, { force: true });
  }
}

/** The raw BER loop (bench/lib/raw-bind.mjs) over `dns`, all with password `pw`: binds per second. */
async function rawRun(url, ca, dns, pw, conns) {
  const accounts = dns.map((dn) => ({ dn, password: pw }));
  const t0 = performance.now();
  const { bad } = await rawLoop(url, ca, accounts, conns);
  const s = (performance.now() - t0) / 1000;
  if (bad) throw new Error(`raw loop: ${bad} binds failed`);
  return dns.length / s;
}

async function credgateRun(sdk, url, caFile, dns, pw, conns) {
  const secret = new sdk.Secret(pw);
  function* input() {
    for (let i = 0; i < dns.length; i++) yield { username: dns[i], password: secret, line: i + 1 };
  }
  let ok = 0;
  let n = 0;
  const t0 = performance.now();
  for await (const r of sdk.verifyMany(input(), { urls: url, caFile, concurrency: conns, timeoutMs: 10_000 })) {
    n++;
    if (r.ok) ok++;
  }
  const s = (performance.now() - t0) / 1000;
  if (n !== dns.length || ok !== n) throw new Error(`credgate: ${n} results, ${ok} valid, expected ${dns.length}`);
  return dns.length / s;
}

async function naiveRun(url, ca, dns, pw, parallel = 1) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: parallel }, async () => {
    for (let i; (i = next++) < dns.length;) {
      const c = new Client({ url, tlsOptions: { ca } });
      await c.bind(dns[i], pw);
      await c.unbind();
    }
  }));
  return dns.length / ((performance.now() - t0) / 1000);
}

await runBounded(LIMIT_MS, cleanup, async () => {
  const sdk = await loadSdk();
  process.env.CREDGATE_LAB_SLAPD_BENCH = String(N);
  const slapd = await import('../test/lab/slapd.mjs');
  const t0 = performance.now();
  lab = await slapd.start({ dir, log: () => {} });
  const startMs = performance.now() - t0;
  const ca = fs.readFileSync(lab.caFile);
  const dns = Array.from({ length: N }, (_, i) => `uid=bench${i},ou=people,${lab.suffix}`);
  const pw = lab.benchPassword;
  console.log(`slapd with ${N} bench users on ${lab.ldapsUrl} (own instance, started in ${Math.round(startMs)} ms); credgate from ${sdk.from}`);
  console.log(`machine: ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ${C} connections; ${ROUNDS} rounds`);

  // warm-up (TLS session setup paths, JIT, slapd caches)
  await rawRun(lab.ldapsUrl, ca, dns.slice(0, 2000), pw, C);
  await credgateRun(sdk, lab.ldapsUrl, lab.caFile, dns.slice(0, 2000), pw, C);

  const cg = [];
  const raw = [];
  const nv = [];
  const nvPar = [];
  let naiveS = 0;
  let naiveParS = 0;
  for (let r = 0; r < ROUNDS; r++) {
    // alternate the order so neither always runs on a warmer / cooler machine
    // each measured pass is preceded by a short unmeasured one of the same client (2,000 binds):
    // the naive phase before it leaves thousands of closed connections and much garbage behind,
    // and whichever client ran first after it paid for that (measured: ~20% slower)
    const measuredCg = async () => {
      await credgateRun(sdk, lab.ldapsUrl, lab.caFile, dns.slice(0, 2000), pw, C);
      cg.push(await credgateRun(sdk, lab.ldapsUrl, lab.caFile, dns, pw, C));
    };
    const measuredRaw = async () => {
      await rawRun(lab.ldapsUrl, ca, dns.slice(0, 2000), pw, C);
      raw.push(await rawRun(lab.ldapsUrl, ca, dns, pw, C));
    };
    if (r > 0) await new Promise((res) => setTimeout(res, 1000));
    if (r % 2 === 0) {
      await measuredCg();
      await measuredRaw();
    } else {
      await measuredRaw();
      await measuredCg();
    }
    const share = dns.slice(Math.floor((r * NAIVE) / ROUNDS), Math.floor(((r + 1) * NAIVE) / ROUNDS));
    let t = performance.now();
    nv.push(await naiveRun(lab.ldapsUrl, ca, share, pw, 1));
    naiveS += (performance.now() - t) / 1000;
    t = performance.now();
    nvPar.push(await naiveRun(lab.ldapsUrl, ca, share, pw, C));
    naiveParS += (performance.now() - t) / 1000;
    console.log(`  round ${r + 1}: credgate ${Math.round(cg[r])} binds/s, raw ${Math.round(raw[r])} binds/s, naive ${Math.round(nv[r])} binds/s (${share.length} accounts), naive ×${C} ${Math.round(nvPar[r])} binds/s; load ${os.loadavg()[0].toFixed(2)}`);
  }
  const naive = NAIVE / naiveS;
  const naiveParallel = NAIVE / naiveParS;
  console.log(`  naive: ${NAIVE} accounts in ${naiveS.toFixed(1)} s sequential, in ${naiveParS.toFixed(1)} s with ${C} in parallel`);
  const cgM = median(cg);
  const rawM = median(raw);
  const ofRaw = median(cg.map((x, i) => x / raw[i]));
  const xNaive = median(cg.map((x, i) => x / nv[i]));
  const xNaivePar = median(cg.map((x, i) => x / nvPar[i]));
  console.log('');
  console.log(`| client (LDAPS, ${N}-user slapd) | binds/s |`);
  console.log('|---|---|');
  console.log(`| credgate verifyMany, ${C} connections re-binding (${N} accounts, median of ${ROUNDS}) | ${Math.round(cgM)} |`);
  console.log(`| raw BER bind loop, ${C} connections (${N} accounts, median of ${ROUNDS}) | ${Math.round(rawM)} |`);
  console.log(`| naive: new ldapts Client per account, sequential (${NAIVE} accounts, ${ROUNDS} shares) | ${Math.round(naive)} |`);
  console.log(`| naive, ${C} in parallel (${NAIVE} accounts; for reference) | ${Math.round(naiveParallel)} |`);
  console.log('');
  console.log(`credgate / raw = ${(ofRaw * 100).toFixed(1)}% (median of the per-round ratios; ratio of the medians ${((cgM / rawM) * 100).toFixed(1)}%; target ≥ 90%)`);
  console.log(`credgate / naive = ${xNaive.toFixed(1)}× (median of the per-round ratios; ratio of the rates ${(cgM / naive).toFixed(1)}×; target ≥ 60×); vs naive ×${C} in parallel = ${xNaivePar.toFixed(1)}×`);
  process.exitCode = ofRaw >= 0.9 && xNaive >= 60 ? 0 : 1;
});
