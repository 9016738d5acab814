// The synchronous record parsers (src/bulk/record-parsers.ts) against the readers they replaced
// (reference-records.ts): random CSV and JSON Lines texts full of the characters that matter
// (quotes, delimiters, CR, LF, multi-byte UTF-8, records past the length cap), read in random
// chunk sizes as text and as bytes, must give the same records with the same line numbers.
import { describe, it, expect } from 'vitest';
import { csvRecords, jsonlRecords } from '../../../src/bulk/input.js';
import { CsvParser } from '../../../src/bulk/record-parsers.js';
import { referenceCsvRecords, referenceJsonlRecords } from './reference-records.js';
import { all } from '../../helpers/async-iter.js';

/** A small seeded PRNG (mulberry32): the same cases on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CSV_BITS = ['a', 'bc', 'uid=x', ',', ';', '\t', '"', '""', '\n', '\r\n', '\r', ' ', 'é', '€', '😀', 'x'.repeat(20)];
const JSON_BITS = ['{"u":"a","p":"b"}', '{"u":"é€😀"}', '[1]', '"s"', 'nul', '\n', '\r\n', '  ', '{', '}', 'x'.repeat(30)];

function text(r: () => number, bits: string[], n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += bits[Math.floor(r() * bits.length)]!;
  return s;
}

/** `s` in random pieces: as strings, or as the UTF-8 bytes cut anywhere (inside characters too). */
function pieces(r: () => number, s: string, asBytes: boolean): Array<string | Buffer> {
  const out: Array<string | Buffer> = [];
  if (asBytes) {
    const b = Buffer.from(s, 'utf8');
    for (let i = 0; i < b.length;) {
      const n = 1 + Math.floor(r() * 40);
      out.push(b.subarray(i, i + n));
      i += n;
    }
    // now and then a file that ends inside a character
    if (r() < 0.2) out.push(Buffer.from([0xe2, 0x82]));
  } else {
    for (let i = 0; i < s.length;) {
      const n = 1 + Math.floor(r() * 40);
      out.push(s.slice(i, i + n));
      i += n;
    }
  }
  return out;
}

async function* from(p: Array<string | Buffer>): AsyncGenerator<string | Buffer> {
  yield* p;
}

describe('record parsers: the same records as the readers they replaced', () => {
  it('CSV: 3,000 random texts, three delimiters, length caps, text and byte chunks', async () => {
    const r = rng(20261204);
    let records = 0;
    for (let k = 0; k < 3000; k++) {
      const s = text(r, CSV_BITS, 1 + Math.floor(r() * 60));
      const p = pieces(r, s, r() < 0.5);
      const max = r() < 0.3 ? 1 + Math.floor(r() * 30) : 65_536;
      const d = ([',', ';', '\t'] as const)[k % 3]!;
      const want = await all(referenceCsvRecords(from(p), max, d));
      const got = await all(csvRecords(from(p), max, d));
      expect(got, `case ${k}: ${JSON.stringify(s)} max ${max} delimiter ${JSON.stringify(d)}`).toEqual(want);
      records += want.length;
    }
    expect(records).toBeGreaterThan(10_000);
  });

  it('JSON Lines: 2,000 random texts, length caps, text and byte chunks', async () => {
    const r = rng(4122026);
    let records = 0;
    for (let k = 0; k < 2000; k++) {
      const s = text(r, JSON_BITS, 1 + Math.floor(r() * 40));
      const p = pieces(r, s, r() < 0.5);
      const max = r() < 0.3 ? 1 + Math.floor(r() * 60) : 65_536;
      const want = await all(referenceJsonlRecords(from(p), max));
      const got = await all(jsonlRecords(from(p), max));
      expect(got, `case ${k}: ${JSON.stringify(s)} max ${max}`).toEqual(want);
      records += want.length;
    }
    expect(records).toBeGreaterThan(3_000);
  });

  it('takes plain text a run at a time and stops at the record cap inside a run', () => {
    const p = new CsvParser(10);
    p.push('abcdefghijklmnop,q\nok,"1\n2"\n');
    expect(p.next()).toEqual({ line: 1, error: 'the record is longer than 10 characters' });
    expect(p.next()).toEqual({ line: 2, fields: ['ok', '1\n2'] });
    expect(p.next()).toBeUndefined();
    expect(p.end()).toBeUndefined();
  });
});
