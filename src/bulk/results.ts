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

/** One result as a JSON line, built directly (the output of a million accounts is hot code). */
export function resultLine(r: VerifyResult): string {
  let s = '{';
  if (r.line !== undefined) s += `"line":${r.line},`;
  if (r.id !== undefined) s += `"id":${JSON.stringify(r.id)},`;
  s += `"account":${JSON.stringify(r.account)},"ok":${r.ok},"code":${q(r.code)},"category":${q(r.category)}`;
  s += `,"exitCode":${r.exitCode},"bound":${r.bound}`;
  if (r.url) s += `,"url":${q(r.url)}`;
  if (r.kdc) s += `,"kdc":${q(r.kdc)}`;
  s += `,"ms":${Number.isFinite(r.ms) ? r.ms : 0},"findings":[`;
  for (let i = 0; i < r.findings.length; i++) {
    const f = r.findings[i]!;
    if (i) s += ',';
    s += `{"code":${q(f.code)},"severity":${q(f.severity)},"message":${q(f.message)},"evidence":${JSON.stringify(f.evidence)}`;
    if (f.remediation.length) s += `,"remediation":${JSON.stringify(f.remediation)}`;
    s += '}';
  }
  return s + ']}\n';
}
