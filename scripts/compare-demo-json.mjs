#!/usr/bin/env node
// Compare two directories written by `CREDGATE_DEMO_JSON_DIR=<dir> npm run demo` (each scenario's
// raw --json output and exit code): the same scenarios, the same exit codes, the same JSON once
// the values that differ from run to run are masked (timings, times of day, the closed port the
// demo picks, the temporary directory). Prints each difference; exit 1 when there is one.
// Usage: node scripts/compare-demo-json.mjs <before-dir> <after-dir>
import fs from 'node:fs';
import path from 'node:path';

const [a, b] = process.argv.slice(2);
if (!a || !b) {
  process.stderr.write('usage: node scripts/compare-demo-json.mjs <before-dir> <after-dir>\n');
  process.exit(2);
}

function mask(v, key = '') {
  if (Array.isArray(v)) return v.map((x) => mask(x, key));
  if (v && typeof v === 'object') {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = mask(x, k);
    return out;
  }
  // timings (any key ending in ms, the probe's per-phase times), ports, and counters that tick with the clock
  if (typeof v === 'number' && (/ms$|Ms$/.test(key) || ['port', 'tcp', 'dns', 'timeBeforeExpiration', 'graceAuthNsRemaining'].includes(key) || /^(connect|tls|x224|resolve|total|bind|nla)/.test(key))) return '<n>';
  if (typeof v === 'string') {
    return v
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
      .replace(/(127\.0\.0\.1|localhost)(:|\sport\s)\d+/g, '$1$2<port>')
      .replace(/you asked for \d+/g, 'you asked for <port>')
      .replace(/\b\d+ remain\b/g, '<n> remain')
      .replace(/expires in \d+ day\(s\) \(\d+ s\)/g, 'expires in <n> day(s) (<n> s)')
      .replace(/\/tmp\/credgate-demo-[A-Za-z0-9]+/g, '<tmp>')
      .replace(/\b\d+(\.\d+)? ms\b/g, '<n> ms');
  }
  return v;
}

function load(dir) {
  const out = new Map();
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    const raw = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    let body;
    try {
      body = mask(JSON.parse(raw.stdout));
    } catch {
      body = { unparsed: raw.stdout };
    }
    if (body && typeof body === 'object') delete body.timingsMs;
    out.set(f, { exitCode: raw.exitCode, body: JSON.stringify(body, null, 1) });
  }
  return out;
}

const A = load(a);
const B = load(b);
let diffs = 0;
for (const name of new Set([...A.keys(), ...B.keys()])) {
  const x = A.get(name);
  const y = B.get(name);
  if (!x || !y) {
    diffs++;
    console.log(`${name}: only in ${x ? a : b}`);
    continue;
  }
  if (x.exitCode !== y.exitCode) {
    diffs++;
    console.log(`${name}: exit ${x.exitCode} -> ${y.exitCode}`);
  }
  if (x.body !== y.body) {
    diffs++;
    const xl = x.body.split('\n');
    const yl = y.body.split('\n');
    const i = xl.findIndex((l, k) => l !== yl[k]);
    console.log(`${name}: JSON differs from line ${i + 1}:\n  - ${xl.slice(i, i + 3).join('\n  - ')}\n  + ${yl.slice(i, i + 3).join('\n  + ')}`);
  }
}
console.log(`${A.size} scenarios before, ${B.size} after, ${diffs} difference(s)`);
process.exitCode = diffs ? 1 : 0;
