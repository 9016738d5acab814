#!/usr/bin/env node
// Peak memory of `credgate verify` over 1,000,000 input lines: the whole CLI pipeline (CSV
// streamed in, verifyMany over persistent LDAPS connections, JSON Lines streamed out) runs in
// a process of its own against a slapd of the benchmark's own (bench users, accounts cycling through
// them; stopped by PID at the end). The input is generated as a stream to a temp file. Peak RSS
// is process.resourceUsage().maxRSS; RSS is also sampled along the way to show it stays flat.
// Bounded in time: after --limit seconds the run is interrupted like Ctrl-C (binds in flight
// finish) and the lines done so far are reported.
// Then a resume: `credgate verify` rerun on an output of RESUME lines (default 1,000,000, each a
// different account, written as credgate writes results) with an input of those accounts plus
// `benchUsers` new ones: the rerun reads the whole output, skips the million answered accounts and
// verifies the new ones; its peak RSS is measured the same way (same time limit).
// Usage: node bench/verify-memory.mjs [--bin <path to bin/credgate.mjs>] [lines=1000000] [limitSeconds=240] [benchUsers=20000] [resumeLines=1000000]
//        (lines=0 skips the first run; resumeLines=0 skips the resume)
// Target: peak RSS under 200 MB for each. Exit code 0 when met.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopPid } from '../test/lab/proc.mjs';
import { benchArgs } from './lib/args.mjs';

const { bin, rest } = benchArgs(process.argv.slice(2));
// the build measured: this checkout's, or the one whose bin/credgate.mjs --bin names
const root = path.dirname(path.dirname(bin));
const LINES = Number(rest[0] ?? 1_000_000);
const LIMIT_S = Number(rest[1] ?? 240);
const USERS = Number(rest[2] ?? 20000);
const RESUME = Number(rest[3] ?? 1_000_000);
const HARD_LIMIT_MS = (2 * LIMIT_S + 120) * 1000;
const MB = 1024 * 1024;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-bench-memory-'));
let lab;
async function cleanup() {
  for (const pid of lab?.pids ?? []) await stopPid(pid);
  fs.rmSync(dir, { recursive: true, force: true });
}
let child;
const hard = setTimeout(async () => {
  process.stderr.write('bench: hard time limit reached, stopping\n');
  child?.kill('SIGKILL');
  await cleanup();
  process.exit(1);
}, HARD_LIMIT_MS);
process.once('SIGINT', async () => {
  child?.kill('SIGKILL');
  await cleanup();
  process.exit(130);
});

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

/** Run `credgate verify` in a process of its own (its peak RSS is its alone), interrupted like Ctrl-C at the limit. */
async function runVerify(args) {
  const t0 = performance.now();
  child = spawn(process.execPath, [script.file, 'verify', ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => {
    stderr += d;
    if (!d.includes('MAXRSS_KB')) process.stderr.write(d);
  });
  const samples = [];
  const pid = child.pid;
  const sampler = setInterval(() => samples.push(rssOf(pid)), 500);
  const limit = setTimeout(() => child.kill('SIGINT'), LIMIT_S * 1000);
  const code = await new Promise((r) => child.on('close', (c) => r(c)));
  child = undefined;
  const secs = (performance.now() - t0) / 1000;
  clearTimeout(limit);
  clearInterval(sampler);
  const m = /MAXRSS_KB=(\d+)/.exec(stderr);
  if (!m) throw new Error(`the verify process did not report its peak RSS (exit ${code})`);
  const live = samples.filter(Boolean);
  const q = (f) => (live.length ? (live[Math.min(live.length - 1, Math.floor(live.length * f))] / MB).toFixed(0) : '?');
  return { s: JSON.parse(stdout), code, secs, peakMb: Number(m[1]) / 1024, rss: `${q(0.1)} / ${q(0.5)} / ${q(0.9)}` };
}

/** An output file of `n` answered accounts (uid=done<i>), each line as credgate writes a result. */
async function writePrevious(file, n, suffix, url) {
  const out = fs.createWriteStream(file, { highWaterMark: 1 << 20 });
  for (let i = 0; i < n; i++) {
    const account = `uid=done${i},ou=people,${suffix}`;
    const line = `{"line":${i + 2},"id":"${i}","account":"${account}","ok":true,"code":"ldap.ok","category":"ok","exitCode":0,"bound":true,"url":"${url}","ms":1.${i % 100},"findings":[{"code":"ldap.ok","severity":"ok","message":"The directory accepted the credential.","evidence":{"resultCode":0,"passwordPolicy":{"received":true},"account":"${account}"}}]}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** The resume input: the n answered accounts, then `fresh` bench users never verified. */
async function writeResumeInput(file, n, fresh, suffix) {
  const out = fs.createWriteStream(file, { highWaterMark: 1 << 20 });
  out.write('id,username,password\n');
  for (let i = 0; i < n; i++) if (!out.write(`${i},"uid=done${i},ou=people,${suffix}",benchpw\n`)) await once(out, 'drain');
  for (let i = 0; i < fresh; i++) if (!out.write(`new${i},"uid=bench${i},ou=people,${suffix}",benchpw\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

let script;
try {
  script = await cliScript();
  process.env.CREDGATE_LAB_SLAPD_BENCH = String(USERS);
  const slapd = await import('../test/lab/slapd.mjs');
  lab = await slapd.start({ dir: path.join(dir, 'slapd'), log: () => {} });
  console.log(`directory: own slapd with ${USERS} bench users on ${lab.ldapsUrl}; limit ${LIMIT_S} s a run; credgate from ${script.from}; machine: ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const common = ['--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--json', '--progress-interval', '15'];
  let met = true;

  if (LINES > 0) {
    const input = path.join(dir, 'accounts.csv');
    const output = path.join(dir, 'results.jsonl');
    const tg = performance.now();
    await writeInput(input, lab.suffix);
    const inputMb = fs.statSync(input).size / MB;
    console.log(`input: ${LINES} lines, ${inputMb.toFixed(1)} MB, generated in ${((performance.now() - tg) / 1000).toFixed(1)} s`);
    const { s, code, secs, peakMb, rss } = await runVerify(['--input', input, '--output', output, '--overwrite', ...common]);
    const outLines = await countLines(output);
    const outMb = fs.statSync(output).size / MB;
    console.log(`verified ${s.total} accounts in ${secs.toFixed(1)} s (${Math.round(s.total / secs)}/s), ${s.valid} valid, exit ${code}${s.interrupted ? ' (interrupted at the time limit)' : ''}`);
    console.log(`output: ${outLines} lines, ${outMb.toFixed(1)} MB`);
    console.log(`RSS of the verify process at 10% / 50% / 90% of the run: ${rss} MB`);
    console.log(`peak RSS (process.resourceUsage().maxRSS of the verify process): ${peakMb.toFixed(1)} MB (target < 200 MB)`);
    if (outLines !== s.total) throw new Error(`output has ${outLines} lines for ${s.total} results`);
    met &&= peakMb < 200;
    fs.rmSync(input, { force: true });
    fs.rmSync(output, { force: true });
  }

  if (RESUME > 0) {
    const input = path.join(dir, 'resume.csv');
    const output = path.join(dir, 'previous.jsonl');
    const tg = performance.now();
    await writePrevious(output, RESUME, lab.suffix, lab.ldapsUrl);
    await writeResumeInput(input, RESUME, USERS, lab.suffix);
    const prevMb = fs.statSync(output).size / MB;
    console.log(`resume: an output of ${RESUME} answered accounts (${prevMb.toFixed(1)} MB), an input of those + ${USERS} new, generated in ${((performance.now() - tg) / 1000).toFixed(1)} s`);
    const { s, code, secs, peakMb, rss } = await runVerify(['--input', input, '--output', output, ...common]);
    const outLines = await countLines(output);
    console.log(`resumed: ${s.previousRecords} earlier records read, ${s.skipped} skipped, ${s.total} verified (${s.valid} valid) in ${secs.toFixed(1)} s, exit ${code}${s.interrupted ? ' (interrupted at the time limit)' : ''}; output now ${outLines} lines`);
    console.log(`RSS of the resumed verify process at 10% / 50% / 90% of the run: ${rss} MB`);
    console.log(`peak RSS of the resume (process.resourceUsage().maxRSS): ${peakMb.toFixed(1)} MB (target < 200 MB)`);
    if (!s.interrupted && (s.skipped !== RESUME || s.total !== USERS || outLines !== RESUME + USERS)) {
      throw new Error(`resume: expected ${RESUME} skipped and ${USERS} verified, got ${s.skipped} and ${s.total} (${outLines} output lines)`);
    }
    met &&= peakMb < 200;
  }
  process.exitCode = met ? 0 : 1;
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
