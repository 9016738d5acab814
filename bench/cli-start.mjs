#!/usr/bin/env node
// CLI start-up: wall time of `credgate --help` and of each command's `--help` (node start + module load),
// median of N runs. Target: under 200 ms. Usage: node bench/cli-start.mjs [runs=15]
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'credgate.mjs');
const runs = Number(process.argv[2] ?? 15);
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

function time(args) {
  const out = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    execFileSync(process.execPath, [bin, ...args], { stdio: 'ignore', timeout: 10_000 });
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}
const bare = [];
for (let i = 0; i < runs; i++) {
  const t0 = process.hrtime.bigint();
  execFileSync(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  bare.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
const help = time(['--help']);
const check = time(['check', '--help']);
// every other command's --help: each loads only its own module
const others = {};
for (const c of ['doctor', 'launch', 'probe', 'cache', 'providers', 'verify']) others[c] = +median(time([c, '--help'])).toFixed(1);
const result = {
  bench: 'cli-start',
  runs,
  nodeBareMs: +median(bare).toFixed(1),
  helpMs: +median(help).toFixed(1),
  checkHelpMs: +median(check).toFixed(1),
  credgateOwnMs: +(median(help) - median(bare)).toFixed(1),
  otherHelpMs: others,
  targetMs: 200,
};
result.pass = result.helpMs < 200 && result.checkHelpMs < 200 && Object.values(others).every((ms) => ms < 200);
console.log(JSON.stringify(result));
process.exitCode = result.pass ? 0 : 1; // a missed target fails the bench (npm run bench reports it)
