#!/usr/bin/env node
// credgate's NLA check vs the reference client `xfreerdp /auth-only /cert:ignore` against the same
// lab FreeRDP NLA server and user, interleaved run by run so both see the same machine load:
//   in-process   validateRdpNla (the SDK call) next to an xfreerdp process;
//   whole process `credgate check --rdp <host:port> --user PAMTEST\alice --password-env PW --json`
//                as a user runs it (node start, module load, the check, the verdict), next to an
//                xfreerdp process, good password (the case the target is about).
// Medians per case and their ratio; targets: in-process at least 10x faster, whole process at
// least 12x faster (good password). Exit code 0 when both are met.
// Usage: npx tsup && node bench/nla-vs-xfreerdp.mjs [--bin <path to bin/credgate.mjs>] [iterations=9]
//   (--bin, or CREDGATE_BENCH_BIN: another build's CLI for the whole-process column, e.g. a
//    baseline worktree's; starts the lab's rdp part if it is not running, stops only what it
//    started; bounded: at most 30 iterations, each xfreerdp killed after 20 s, each credgate check
//    has an 8 s deadline and its process is killed after 20 s)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { up, down, readState } from '../test/lab/lab.mjs';
import { benchArgs, median } from './lib/args.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { validateRdpNla, Secret } = await import(path.join(root, 'dist', 'index.js'));
const { bin, rest } = benchArgs(process.argv.slice(2));
const iterations = Math.min(30, Math.max(1, Number(rest[0] ?? 9)));

function xfreerdp(rdp, cfg, user, domain, password) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('xfreerdp', [`/v:${rdp.host}:${rdp.nla.port}`, `/u:${user}`, `/d:${domain}`, '/from-stdin:force', '/auth-only', '/cert:ignore'], {
      env: { PATH: process.env.PATH, DISPLAY: rdp.display, XDG_CONFIG_HOME: cfg, HOME: cfg }, stdio: ['pipe', 'ignore', 'ignore'],
    });
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', (e) => { clearTimeout(kill); reject(e); });
    child.once('close', (code) => { clearTimeout(kill); resolve({ ok: code === 0, exit: code, ms: performance.now() - t0 }); });
    child.stdin.on('error', () => {});
    child.stdin.end(`${password}\n`);
  });
}

async function credgate(rdp, user, domain, password) {
  const t0 = performance.now();
  const f = await validateRdpNla({ host: rdp.host, port: rdp.nla.port, username: user, domain, password: new Secret(password), timeoutMs: 8000 });
  return { ok: f[0].code === 'rdp.nla-ok', code: f[0].code, ms: performance.now() - t0 };
}

/** `credgate check --rdp` as a process of its own: wall time from spawn to exit, and its verdict. */
function credgateProcess(rdp, user, domain, password) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [bin, 'check', '--rdp', `${rdp.host}:${rdp.nla.port}`, '--user', `${domain}\\${user}`, '--password-env', 'CG_BENCH_PW', '--timeout', '8000', '--json'], {
      env: { PATH: process.env.PATH, CG_BENCH_PW: password }, stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', (e) => { clearTimeout(kill); reject(e); });
    child.once('close', (code) => {
      clearTimeout(kill);
      let verdict;
      try {
        verdict = JSON.parse(out).code;
      } catch {
        verdict = `exit ${code}`;
      }
      resolve({ ok: code === 0 && verdict === 'rdp.nla-ok', code: verdict, ms: performance.now() - t0 });
    });
  });
}

const { started } = await up(['rdp'], { log: () => {} });
const cfg = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-bench-xfreerdp-'));
try {
  const rdp = readState('rdp');
  const alice = rdp.users.find((u) => u.domain);
  const cases = [
    { name: 'good password', user: alice.user, domain: alice.domain, password: alice.password, expect: true, process: true },
    { name: 'wrong password', user: alice.user, domain: alice.domain, password: 'Not-The-Password-1', expect: false },
  ];
  const rows = [];
  const all = { x: [], c: [] };
  const whole = { x: [], p: [] };
  for (const c of cases) {
    // one warm-up each (first-connection costs), not counted
    await xfreerdp(rdp, cfg, c.user, c.domain, c.password);
    await credgate(rdp, c.user, c.domain, c.password);
    if (c.process) await credgateProcess(rdp, c.user, c.domain, c.password);
    const xs = [];
    const cs = [];
    for (let i = 0; i < iterations; i++) {
      const x = await xfreerdp(rdp, cfg, c.user, c.domain, c.password);
      const g = await credgate(rdp, c.user, c.domain, c.password);
      if (x.ok !== c.expect || g.ok !== c.expect) throw new Error(`${c.name}: unexpected verdict (xfreerdp exit ${x.exit}, credgate ${g.code})`);
      xs.push(x.ms);
      cs.push(g.ms);
      if (c.process) {
        // the whole process right after the same xfreerdp run: xs[i] is the reference for both
        const p = await credgateProcess(rdp, c.user, c.domain, c.password);
        if (!p.ok) throw new Error(`${c.name}: credgate check --rdp answered ${p.code}`);
        whole.x.push(x.ms);
        whole.p.push(p.ms);
      }
    }
    all.x.push(...xs);
    all.c.push(...cs);
    rows.push({ name: c.name, x: median(xs), c: median(cs), ratio: median(xs) / median(cs), xr: [Math.min(...xs), Math.max(...xs)], cr: [Math.min(...cs), Math.max(...cs)] });
  }
  const f = (n) => n.toFixed(0);
  const overall = median(all.x) / median(all.c);
  console.log(`NLA check, ${iterations} interleaved runs per case, ${os.cpus().length} cores, lab FreeRDP NLA server on loopback`);
  console.log('| case | xfreerdp /auth-only median ms (min–max) | credgate median ms (min–max) | ratio |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${f(r.x)} (${f(r.xr[0])}–${f(r.xr[1])}) | ${f(r.c)} (${f(r.cr[0])}–${f(r.cr[1])}) | ${r.ratio.toFixed(1)}x |`);
  console.log(`| all runs | ${f(median(all.x))} | ${f(median(all.c))} | ${overall.toFixed(1)}x |`);
  console.log(`target >= 10x on the good-password case: ${rows[0].ratio >= 10 ? 'met' : 'NOT met'} (${rows[0].ratio.toFixed(1)}x)`);
  const wholeRatio = median(whole.x) / median(whole.p);
  console.log('');
  console.log(`Whole processes, good password (${bin}):`);
  console.log('| process | median ms (min–max) |');
  console.log('|---|---|');
  console.log(`| xfreerdp /auth-only /cert:ignore | ${f(median(whole.x))} (${f(Math.min(...whole.x))}–${f(Math.max(...whole.x))}) |`);
  console.log(`| credgate check --rdp --json | ${f(median(whole.p))} (${f(Math.min(...whole.p))}–${f(Math.max(...whole.p))}) |`);
  console.log(`target >= 12x for the whole process: ${wholeRatio >= 12 ? 'met' : 'NOT met'} (${wholeRatio.toFixed(1)}x); load ${os.loadavg()[0].toFixed(2)}`);
  console.log(JSON.stringify({ bench: 'nla-vs-xfreerdp', inProcessRatio: +rows[0].ratio.toFixed(1), wholeProcessRatio: +wholeRatio.toFixed(1), xfreerdpMs: Math.round(median(whole.x)), credgateCheckMs: Math.round(median(whole.p)), credgateNlaMs: Math.round(rows[0].c), load: +os.loadavg()[0].toFixed(2), pass: rows[0].ratio >= 10 && wholeRatio >= 12 }));
  process.exitCode = rows[0].ratio >= 10 && wholeRatio >= 12 ? 0 : 1; // a missed target fails the bench
} finally {
  fs.rmSync(cfg, { recursive: true, force: true });
  if (started.length) await down(started, { log: () => {} });
}
