#!/usr/bin/env node
// `import('credgate')` cold, as an SDK user's process pays it: wall time of a whole process that
// imports the package by name (a temp dir whose node_modules/credgate links to this build) next to
// `node -e 0`, alternating, median of N, on Node 20 (this node) and Node 24 (scripts/node24.mjs's
// cached binary, when it is there: this bench never downloads). Also the dist files the import
// loads (its static import graph). Target: Node 20 import ≤ 90 ms. Exit code 0 when met.
// Usage: node bench/import-cold.mjs [--bin <path to bin/credgate.mjs>] [runs=21]
//   (--bin, or CREDGATE_BENCH_BIN: measure another build, e.g. a baseline worktree's; its package root
//    is the folder above bin/)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { benchArgs, median } from './lib/args.mjs';

const { bin, rest } = benchArgs(process.argv.slice(2));
const runs = Math.max(3, Math.min(101, Number(rest[0] ?? 21)));
const pkg = path.dirname(path.dirname(bin));
const TARGET_MS = 90;
const NODE24 = path.join(process.env.CREDGATE_NODE24_CACHE ?? path.join(os.homedir(), '.cache', 'credgate-node24'), '24.22.3', 'package', 'bin', 'node');

/** The dist files `import('credgate')` evaluates: dist/index.js and its static imports, transitively. */
function staticGraph(entry) {
  const seen = new Set([entry]);
  const todo = [entry];
  while (todo.length) {
    const f = todo.pop();
    const text = fs.readFileSync(f, 'utf8');
    // static import/export ... from "./x.js" (not import("./x.js"), which loads on first use)
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s*["'](\.{1,2}\/[^"']+)["']/gm)) {
      const dep = path.resolve(path.dirname(f), m[1]);
      if (!seen.has(dep)) {
        seen.add(dep);
        todo.push(dep);
      }
    }
    for (const m of text.matchAll(/^import\s*["'](\.{1,2}\/[^"']+)["']/gm)) {
      const dep = path.resolve(path.dirname(f), m[1]);
      if (!seen.has(dep)) {
        seen.add(dep);
        todo.push(dep);
      }
    }
  }
  return seen.size;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-bench-import-'));
try {
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(pkg, path.join(dir, 'node_modules', 'credgate'));
  const files = staticGraph(path.join(pkg, 'dist', 'index.js'));
  const nodes = [['Node 20', process.execPath]];
  if (fs.existsSync(NODE24)) nodes.push(['Node 24', NODE24]);
  else console.log(`(Node 24 not cached at ${NODE24}: run \`node scripts/node24.mjs\` once to fetch it; measuring Node 20 only)`);
  const time = (node, args) => {
    const t0 = performance.now();
    execFileSync(node, args, { cwd: dir, stdio: 'ignore', timeout: 20_000 });
    return performance.now() - t0;
  };
  const results = [];
  for (const [name, node] of nodes) {
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    // one of each first: the page cache, not the measurement
    time(node, ['-e', '0']);
    time(node, ['--input-type=module', '-e', "await import('credgate')"]);
    const bare = [];
    const imp = [];
    const loads = [];
    for (let i = 0; i < runs; i++) {
      bare.push(time(node, ['-e', '0']));
      imp.push(time(node, ['--input-type=module', '-e', "await import('credgate')"]));
      loads.push(os.loadavg()[0]);
    }
    const r = {
      bench: 'import-cold', node: version, runs, package: pkg, distFilesAtImport: files,
      nodeBareMs: +median(bare).toFixed(1), importMs: +median(imp).toFixed(1), credgateOwnMs: +(median(imp) - median(bare)).toFixed(1),
      load: [+Math.min(...loads).toFixed(2), +Math.max(...loads).toFixed(2)],
      ...(name === 'Node 20' ? { targetMs: TARGET_MS, pass: median(imp) <= TARGET_MS } : {}),
    };
    results.push(r);
    console.log(JSON.stringify(r));
  }
  process.exitCode = results[0].pass ? 0 : 1; // a missed target fails the bench
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
