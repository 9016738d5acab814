// What the whole-process benches share: which build's CLI they run (--bin <path> or
// CREDGATE_BENCH_BIN, default this checkout's bin/credgate.mjs, so a baseline worktree's build can
// be measured with the same script), the median, and the load average as printed.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** { bin, rest }: the CLI to run and the other arguments (positional, in order). */
export function benchArgs(argv) {
  const rest = [];
  let bin = process.env.CREDGATE_BENCH_BIN;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--bin') bin = argv[++i];
    else if (argv[i].startsWith('--bin=')) bin = argv[i].slice(6);
    else rest.push(argv[i]);
  }
  return { bin: path.resolve(bin ?? path.join(root, 'bin', 'credgate.mjs')), rest };
}

/** The median (the mean of the middle two for an even count). */
export function median(a) {
  const s = [...a].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The 1-minute load average, two decimals. */
export const load1 = () => +os.loadavg()[0].toFixed(2);
