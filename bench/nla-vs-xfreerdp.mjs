#!/usr/bin/env node
// credgate's NLA check (validateRdpNla) vs the reference client `xfreerdp /auth-only /cert:ignore`
// against the same lab FreeRDP NLA server and user, interleaved run by run so both see the same
// machine load. Medians per case and their ratio; target: credgate at least 10x faster.
// Usage: npx tsup && node bench/nla-vs-xfreerdp.mjs [iterations=9]
//   (starts the lab's rdp part if it is not running, stops only what it started; bounded: at most
//    30 iterations, each xfreerdp killed after 20 s, each credgate check has an 8 s deadline)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { up, down, readState } from '../test/lab/lab.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { validateRdpNla, Secret } = await import(path.join(root, 'dist', 'index.js'));
const iterations = Math.min(30, Math.max(1, Number(process.argv[2] ?? 9)));
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

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

const { started } = await up(['rdp'], { log: () => {} });
const cfg = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-bench-xfreerdp-'));
try {
  const rdp = readState('rdp');
  const alice = rdp.users.find((u) => u.domain);
  const cases = [
    { name: 'good password', user: alice.user, domain: alice.domain, password: alice.password, expect: true },
    { name: 'wrong password', user: alice.user, domain: alice.domain, password: 'Not-The-Password-1', expect: false },
  ];
  const rows = [];
  const all = { x: [], c: [] };
  for (const c of cases) {
    // one warm-up each (first-connection costs), not counted
    await xfreerdp(rdp, cfg, c.user, c.domain, c.password);
    await credgate(rdp, c.user, c.domain, c.password);
    const xs = [];
    const cs = [];
    for (let i = 0; i < iterations; i++) {
      const x = await xfreerdp(rdp, cfg, c.user, c.domain, c.password);
      const g = await credgate(rdp, c.user, c.domain, c.password);
      if (x.ok !== c.expect || g.ok !== c.expect) throw new Error(`${c.name}: unexpected verdict (xfreerdp exit ${x.exit}, credgate ${g.code})`);
      xs.push(x.ms);
      cs.push(g.ms);
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
  process.exitCode = rows[0].ratio >= 10 ? 0 : 1; // a missed target fails the bench
} finally {
  fs.rmSync(cfg, { recursive: true, force: true });
  if (started.length) await down(started, { log: () => {} });
}
