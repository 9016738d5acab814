/**
 * The report's charts as inline SVG (no script, no external asset): labelled horizontal bars
 * (counts by cause, by machine, by step) and a stacked histogram (answer times). Each bar carries
 * its label and value in data attributes and a <title>, so the chart reads without hovering and a
 * test can check it; colours come from the page's CSS classes (tone-*).
 */
import { clip, html, join, num, type Html } from './html.js';
import type { Histogram } from './types.js';

export type Tone = 'bad' | 'warn' | 'ok' | 'info' | 'muted';

export interface Bar {
  label: string;
  value: number;
  tone: Tone;
  /** Shown after the value (a share, a unit). */
  note?: string;
}

const W = 760;
const LABEL_W = 270;
const ROW = 24;

/** Horizontal bars, the longest scaled to the chart's width. */
export function barChart(title: string, bars: readonly Bar[], kind: string): Html {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const span = W - LABEL_W - 150;
  const h = bars.length * ROW + 8;
  const rows = bars.map((b, i) => {
    const y = 4 + i * ROW;
    const w = b.value > 0 ? Math.max(2, Math.round((b.value / max) * span)) : 0;
    const value = `${num(b.value)}${b.note ? ` ${b.note}` : ''}`;
    return html`<g class="bar" data-label="${b.label}" data-value="${b.value}"><title>${b.label}: ${value}</title><text class="bar-label" x="${LABEL_W - 8}" y="${y + 16}" text-anchor="end">${clip(b.label, 40)}</text><rect class="tone-${b.tone}" x="${LABEL_W}" y="${y + 3}" width="${w}" height="${ROW - 8}" rx="2"/><text class="bar-value" x="${LABEL_W + w + 6}" y="${y + 16}">${value}</text></g>`;
  });
  return html`<figure class="chart" data-chart="${kind}"><figcaption>${title}</figcaption><svg role="img" aria-label="${title}" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}">${join(rows)}</svg></figure>`;
}

/** A bin edge in ms as text: 1.25, 16, 1,000. */
const msText = (x: number): string => (x < 10 ? String(Number(x.toPrecision(3))) : num(x));

/** A bin's range as text: "40–50 ms". */
const binText = (hist: Histogram, i: number): string => `${msText(hist.edges[i]!)}–${msText(hist.edges[i + 1]!)} ms`;

/** Whether an edge is a power of ten (the axis is labelled there). */
const decade = (x: number): boolean => x >= 1 && Math.abs(Math.log10(x) - Math.round(Math.log10(x))) < 1e-9;

/** A stacked histogram of answer times on log bins: valid accounts below, failed above, per bin. */
export function histogramChart(title: string, hist: Histogram): Html {
  const H = 220;
  const left = 56;
  const bottom = 28;
  const n = hist.ok.length;
  const plotW = W - left - 40; // room for the last label, centred under its bin
  const bw = plotW / Math.max(1, n);
  const top = Math.max(1, ...hist.ok.map((x, i) => x + hist.failed[i]!));
  const scale = (H - bottom - 10) / top;
  const bins = hist.ok.map((good, i) => {
    const bad = hist.failed[i]!;
    const x = left + i * bw;
    const hg = Math.round(good * scale);
    const hb = Math.round(bad * scale);
    const base = H - bottom;
    return html`<g class="bin" data-range="${binText(hist, i)}" data-ok="${good}" data-failed="${bad}"><title>${binText(hist, i)}: ${num(good)} valid, ${num(bad)} failed</title>${
      hg ? html`<rect class="tone-ok" x="${x.toFixed(1)}" y="${base - hg}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${hg}"/>` : ''}${
      hb ? html`<rect class="tone-bad" x="${x.toFixed(1)}" y="${base - hg - hb}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${hb}"/>` : ''}${
      i === 0 || decade(hist.edges[i]!) ? html`<text class="axis" x="${x.toFixed(1)}" y="${H - 10}" text-anchor="middle">${msText(hist.edges[i]!)}</text>` : ''}</g>`;
  });
  return html`<figure class="chart" data-chart="histogram"><figcaption>${title}</figcaption><svg role="img" aria-label="${title}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}"><line class="axis-line" x1="${left}" y1="${H - bottom}" x2="${W - 8}" y2="${H - bottom}"/><text class="axis" x="${left - 6}" y="18" text-anchor="end">${num(top)}</text><text class="axis" x="${left - 6}" y="${H - bottom}" text-anchor="end">0</text>${join(bins)}</svg></figure>`;
}
