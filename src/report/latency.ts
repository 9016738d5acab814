/**
 * The distribution of the accounts' answer times: collected as numbers in typed arrays (8 bytes and
 * a flag per account), then a histogram on logarithmic bins and the percentiles an admin quotes.
 */
import type { Histogram } from './types.js';

export interface LatencySamples {
  add(ms: number, ok: boolean): void;
  histogram(): Histogram;
}

export function latencySamples(): LatencySamples {
  let ms = new Float64Array(1024);
  let ok = new Uint8Array(1024);
  let n = 0;
  return {
    add(v, good) {
      if (n === ms.length) {
        const m2 = new Float64Array(n * 2);
        m2.set(ms);
        ms = m2;
        const o2 = new Uint8Array(n * 2);
        o2.set(ok);
        ok = o2;
      }
      ms[n] = Number.isFinite(v) && v > 0 ? v : 0;
      ok[n++] = good ? 1 : 0;
    },
    histogram() {
      return histogramOf(ms.subarray(0, n), ok.subarray(0, n));
    },
  };
}

/** The value below which `q` of the sorted values lie (nearest rank). */
function quantile(sorted: Float64Array, q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Bin edges per decade: ten steps of about 26% each (1, 1.25, 1.6, 2, 2.5, 3.2, 4, 5, 6.3, 8). */
const STEPS = [1, 1.25, 1.6, 2, 2.5, 3.2, 4, 5, 6.3, 8];

/** The lower edge of log bin k (k = 0 is [0, 1) ms; k ≥ 1 steps through the decades from 1 ms). */
export function binEdge(k: number): number {
  if (k <= 0) return 0;
  const i = k - 1;
  return STEPS[i % 10]! * 10 ** Math.floor(i / 10);
}

/** The log bin a time falls in. */
export function binOf(ms: number): number {
  if (!(ms >= 1)) return 0;
  let k = 1 + 10 * Math.floor(Math.log10(ms));
  while (binEdge(k + 1) <= ms) k++;
  while (k > 1 && binEdge(k) > ms) k--;
  return k;
}

/**
 * A histogram on logarithmic bins (ten a decade), from the fastest answer's bin to the slowest's:
 * a few milliseconds of binds and ten seconds of timeouts read in one chart.
 */
export function histogramOf(ms: Float64Array, ok: Uint8Array): Histogram {
  const sorted = Float64Array.from(ms).sort();
  const max = sorted.length ? sorted[sorted.length - 1]! : 0;
  const lo = binOf(sorted.length ? sorted[0]! : 0);
  const hi = binOf(max);
  const good = new Array<number>(hi - lo + 1).fill(0);
  const bad = new Array<number>(hi - lo + 1).fill(0);
  for (let i = 0; i < ms.length; i++) {
    const b = binOf(ms[i]!) - lo;
    if (ok[i]) good[b]!++;
    else bad[b]!++;
  }
  return {
    edges: Array.from({ length: hi - lo + 2 }, (_, i) => binEdge(lo + i)), ok: good, failed: bad, count: ms.length,
    p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99), max,
  };
}
