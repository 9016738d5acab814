#!/usr/bin/env node
// Every benchmark in bench/, one after the other (never two at once: they share 2 cores), each
// with a time bound. Each bench's own stdout is passed through as it prints it (the JSON lines of
// cli-start / doctor / cache-inspect, the tables of the others); its stderr goes to stderr. After
// each, one JSON line: {"bench","exitCode","seconds","timedOut"}; at the end one with the totals.
// The benches start what they need as their headers say (verify-*: a slapd of their own, stopped
// by PID; doctor / nla-vs-xfreerdp / cli-start: the lab parts that are not running, stopping only
// those) and most import dist/: `npm run bench` builds first. The whole-process ones (cli-start,
// import-cold, nla-vs-xfreerdp, verify-cli, cache-inspect) take --bin <bin/credgate.mjs> (or
// CREDGATE_BENCH_BIN) to measure another build, e.g. a baseline worktree's.
// A bench over its bound gets SIGINT (the verify benches stop their slapd on it), then SIGKILL
// for its process group 30 s later.
// Usage: node bench/run.mjs [name ...]   (default: all; names with or without .mjs)
// Exit code 0 when every bench exited 0.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Bounds in seconds, a little over each bench's own worst case; anything new gets DEFAULT_S. */
const BOUND_S = {
  'cli-start': 180, // 15 rounds of node -e 0, --help, check --help, check --ldap; 6 × 15 other --helps
  'import-cold': 120, // 21 rounds of node -e 0 and import('credgate'), on Node 20 and 24
  doctor: 600, // starts the Samba DC when it is not running
  'cache-inspect': 300,
  'nla-vs-xfreerdp': 600, // 9 × 2 cases, each xfreerdp killed after 20 s, plus 9 credgate check processes
  'verify-throughput': 480, // stops itself at 420 s
  'verify-cli': 480, // 5 rounds of 4 processes over 40,000 accounts; stops itself at 420 s
  'verify-memory': 660, // two runs of at most 240 s each, hard stop at 600 s
  'ldap-oversize': 120, // 12 checks of at most ~1 s, a CA made with openssl
  'verify-kdc': 600, // stops itself at 540 s (1,000 accounts created once, then 3 rounds of ~30 s)
  report: 300, // 20,000 accounts, a 1,000-machine fleet, both, inspect with and without --html, 1,000,000 accounts
};
const ORDER = Object.keys(BOUND_S);
const DEFAULT_S = 300;

const all = fs.readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs')
  .map((f) => f.slice(0, -4))
  .sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b));
const wanted = process.argv.slice(2).map((a) => a.replace(/\.mjs$/, ''));
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length) {
  process.stderr.write(`bench/run.mjs: no such benchmark: ${unknown.join(', ')} (have ${all.join(', ')})\n`);
  process.exit(2);
}
const benches = wanted.length ? all.filter((b) => wanted.includes(b)) : all;

let current;
let interrupted = false;
process.on('SIGINT', () => {
  interrupted = true;
  current?.kill('SIGINT');
});

function runOne(name) {
  const boundS = BOUND_S[name] ?? DEFAULT_S;
  const t0 = performance.now();
  // its own process group, so a SIGKILL reaches what it started in the foreground too
  const child = spawn(process.execPath, [path.join(here, `${name}.mjs`)], { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  current = child;
  let timedOut = false;
  let killTimer;
  const bound = setTimeout(() => {
    timedOut = true;
    process.stderr.write(`bench/run.mjs: ${name} is over its ${boundS} s bound; interrupting it\n`);
    child.kill('SIGINT');
    killTimer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 30_000);
  }, boundS * 1000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(bound);
      clearTimeout(killTimer);
      current = undefined;
      resolve({ bench: name, exitCode: code ?? (signal ? `signal ${signal}` : null), seconds: Math.round((performance.now() - t0) / 100) / 10, timedOut, boundSeconds: boundS });
    });
  });
}

const results = [];
for (const name of benches) {
  if (interrupted) break;
  process.stdout.write(`\n# bench/${name}.mjs\n`);
  const r = await runOne(name);
  results.push(r);
  process.stdout.write(JSON.stringify(r) + '\n');
}
const failed = results.filter((r) => r.exitCode !== 0).map((r) => r.bench);
process.stdout.write(JSON.stringify({ benchmarks: results.length, failed, interrupted, seconds: Math.round(results.reduce((s, r) => s + r.seconds, 0)) }) + '\n');
process.exitCode = interrupted ? 130 : failed.length ? 1 : 0;
