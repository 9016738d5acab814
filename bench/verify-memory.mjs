#!/usr/bin/env node
// Peak memory of `credgate verify` over 1,000,000 input lines: the whole CLI pipeline (CSV
// streamed in, verifyMany over persistent LDAPS connections, JSON Lines streamed out) runs in
// a process of its own against a slapd of the benchmark's own (bench users, accounts cycling through
// them; stopped by PID at the end). The input is generated as a stream to a temp file. Peak RSS
// is process.resourceUsage().maxRSS; RSS is also sampled along the way to show it stays flat.
// Bounded in time: after --limit seconds the run is interrupted like Ctrl-C (binds in flight
// finish) and the lines done so far are reported.
// Usage: node bench/verify-memory.mjs [lines=1000000] [limitSeconds=240] [benchUsers=20000]
// Target: peak RSS under 200 MB. Exit code 0 when met.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopPid } from '../test/lab/proc.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LINES = Number(process.argv[2] ?? 1_000_000);
const LIMIT_S = Number(process.argv[3] ?? 240);
const USERS = Number(process.argv[4] ?? 20000);
const HARD_LIMIT_MS = (LIMIT_S + 90) * 1000;
const MB = 1024 * 1024;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-bench-memory-'));
let lab;
async function cleanup() {
  for (const pid of lab?.pids ?? []) await stopPid(pid);
  fs.rmSync(dir, { recursive: true, force: true });
}
const hard = setTimeout(async () => {
  process.stderr.write('bench: hard time limit reached, stopping\n');
  await cleanup();
  process.exit(1);
}, HARD_LIMIT_MS);

/** A script that runs the CLI's main(): from dist when it has `verify`, else bundled from src/. */
async function cliScript() {
  const distMain = path.join(root, 'dist', 'cli', 'main.js');
  const wrapper = (mainUrl) => `import { main } from ${JSON.stringify(mainUrl)};
const code = await main(process.argv.slice(2));
process.exitCode = code;
process.on('exit', () => process.stderr.write('\\nMAXRSS_KB=' + process.resourceUsage().maxRSS + '\\n'));
`;
  const file = path.join(root, '.lab', `bench-verify-memory-${process.pid}.mjs`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (fs.existsSync(distMain) && fs.readFileSync(distMain, 'utf8').includes('credgate verify')) {
    fs.writeFileSync(file, wrapper(distMain));
    return { file, from: 'dist/cli/main.js' };
  }
  const { build } = await import('esbuild');
  await build({
    stdin: { contents: wrapper(path.join(root, 'src', 'cli', 'main.ts')), resolveDir: root, loader: 'ts' },
    bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: file, logLevel: 'silent',
  });
  return { file, from: 'src/ (bundled with esbuild; dist/ has no verify command)' };
}

function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function writeInput(file, suffix) {
  const out = fs.createWriteStream(file, { highWaterMark: 1 << 20 });
  out.write('id,username,password\n');
  for (let i = 0; i < LINES; i++) {
    const line = `${i},"uid=bench${i % USERS},ou=people,${suffix}",benchpw\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

let script;
try {
  script = await cliScript();
  process.env.CREDGATE_LAB_SLAPD_BENCH = String(USERS);
  const slapd = await import('../test/lab/slapd.mjs');
  lab = await slapd.start({ dir: path.join(dir, 'slapd'), log: () => {} });
  const input = path.join(dir, 'accounts.csv');
  const output = path.join(dir, 'results.jsonl');
  const tg = performance.now();
  await writeInput(input, lab.suffix);
  const inputMb = fs.statSync(input).size / MB;
  console.log(`input: ${LINES} lines, ${inputMb.toFixed(1)} MB, generated in ${((performance.now() - tg) / 1000).toFixed(1)} s; credgate from ${script.from}`);
  console.log(`directory: own slapd with ${USERS} bench users on ${lab.ldapsUrl}; limit ${LIMIT_S} s; machine: ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  // credgate verify runs in a process of its own, so its peak RSS is its alone
  const args = ['verify', '--input', input, '--output', output, '--overwrite', '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--json', '--progress-interval', '15'];
  const t0 = performance.now();
  const child = spawn(process.execPath, [script.file, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => {
    stderr += d;
    if (!d.includes('MAXRSS_KB')) process.stderr.write(d);
  });
  const samples = [];
  const sampler = setInterval(() => samples.push(rssOf(child.pid)), 500);
  const limit = setTimeout(() => child.kill('SIGINT'), LIMIT_S * 1000);
  const code = await new Promise((r) => child.on('close', (c) => r(c)));
  const secs = (performance.now() - t0) / 1000;
  clearTimeout(limit);
  clearInterval(sampler);
  const s = JSON.parse(stdout);
  const m = /MAXRSS_KB=(\d+)/.exec(stderr);
  if (!m) throw new Error('the verify process did not report its peak RSS');
  const peakMb = Number(m[1]) / 1024;
  const outLines = await countLines(output);
  const outMb = fs.statSync(output).size / MB;
  const live = samples.filter(Boolean);
  const q = (f) => (live.length ? (live[Math.min(live.length - 1, Math.floor(live.length * f))] / MB).toFixed(0) : '?');
  console.log(`verified ${s.total} accounts in ${secs.toFixed(1)} s (${Math.round(s.total / secs)}/s), ${s.valid} valid, exit ${code}${s.interrupted ? ' (interrupted at the time limit)' : ''}`);
  console.log(`output: ${outLines} lines, ${outMb.toFixed(1)} MB`);
  console.log(`RSS of the verify process at 10% / 50% / 90% of the run: ${q(0.1)} / ${q(0.5)} / ${q(0.9)} MB`);
  console.log(`peak RSS (process.resourceUsage().maxRSS of the verify process): ${peakMb.toFixed(1)} MB (target < 200 MB)`);
  if (outLines !== s.total) throw new Error(`output has ${outLines} lines for ${s.total} results`);
  process.exitCode = peakMb < 200 ? 0 : 1;
} catch (e) {
  console.error(`bench failed: ${e?.stack ?? e}`);
  process.exitCode = 1;
} finally {
  clearTimeout(hard);
  if (script) fs.rmSync(script.file, { force: true });
  await cleanup();
}

async function countLines(file) {
  let n = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) n++;
  }
  return n;
}
