/** A bulk run's result as one JSON line: the output file's record format, built directly (hot code). */
import type { VerifyResult } from './types.js';

/**
 * JSON of the strings every result repeats (codes, categories, severities, messages, the URL): made
 * once each, not once per account. Bounded: emptied when it holds 512 (messages that name an
 * account are not repeated, and are long: those are not kept).
 */
const quoted = new Map<string, string>();
function q(s: string): string {
  let j = quoted.get(s);
  if (j === undefined) {
    j = JSON.stringify(s);
    if (s.length <= 200) {
      if (quoted.size >= 512) quoted.clear();
      quoted.set(s, j);
    }
  }
  return j;
}

/** A character JSON.stringify escapes: a quote, a backslash, a control character, a surrogate (a lone one is escaped). */
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string's JSON: quoted as it is when nothing in it is escaped (2–4× faster than JSON.stringify for the names a run writes). */
function str(s: string): string {
  return ESCAPED.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/**
 * The JSON of a finding's evidence, as JSON.stringify writes it: plain objects and arrays of
 * strings, numbers, booleans and null are written here (keys' JSON from the table above), which
 * on Node 20 takes ~30% less time than JSON.stringify for the small objects evidence is; any other
 * value (a class instance, a Date, a Secret: anything with toJSON or a prototype of its own), and
 * anything nested deeper than 8, is JSON.stringify's.
 */
function json(v: unknown, depth = 0): string | undefined {
  switch (typeof v) {
    case 'string':
      return str(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (depth > 8) return JSON.stringify(v);
      if (Array.isArray(v)) {
        if (Object.getPrototypeOf(v) !== Array.prototype || 'toJSON' in v) return JSON.stringify(v);
        let s = '[';
        for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + (json(v[i], depth + 1) ?? 'null');
        return s + ']';
      }
      const proto = Object.getPrototypeOf(v);
      if ((proto !== Object.prototype && proto !== null) || 'toJSON' in v) return JSON.stringify(v);
      let s = '{';
      for (const k of Object.keys(v)) {
        const x = json((v as Record<string, unknown>)[k], depth + 1);
        if (x !== undefined) s += (s.length > 1 ? ',' : '') + q(k) + ':' + x;
      }
      return s + '}';
    }
    default:
      // undefined, functions and symbols: left out of objects, null in arrays (as JSON.stringify does); bigint throws there
      return JSON.stringify(v);
  }
}

/** One result as a JSON line, built directly (the output of a million accounts is hot code). */
export function resultLine(r: VerifyResult): string {
  let s = '{';
  if (r.line !== undefined) s += `"line":${r.line},`;
  if (r.id !== undefined) s += `"id":${str(r.id)},`;
  s += `"account":${str(r.account)},"ok":${r.ok},"code":${q(r.code)},"category":${q(r.category)}`;
  s += `,"exitCode":${r.exitCode},"bound":${r.bound}`;
  if (r.url) s += `,"url":${q(r.url)}`;
  if (r.kdc) s += `,"kdc":${q(r.kdc)}`;
  s += `,"ms":${Number.isFinite(r.ms) ? r.ms : 0},"findings":[`;
  for (let i = 0; i < r.findings.length; i++) {
    const f = r.findings[i]!;
    if (i) s += ',';
    s += `{"code":${q(f.code)},"severity":${q(f.severity)},"message":${q(f.message)},"evidence":${json(f.evidence)}`;
    if (f.remediation.length) s += `,"remediation":${JSON.stringify(f.remediation)}`;
    s += '}';
  }
  return s + ']}\n';
}
