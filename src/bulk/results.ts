/** A bulk run's result as one JSON line: the output file's record format, built directly (hot code). */
import type { VerifyResult } from './types.js';

/** One result as a JSON line, built directly (the output of a million accounts is hot code). */
export function resultLine(r: VerifyResult): string {
  let s = '{';
  if (r.line !== undefined) s += `"line":${r.line},`;
  if (r.id !== undefined) s += `"id":${JSON.stringify(r.id)},`;
  s += `"account":${JSON.stringify(r.account)},"ok":${r.ok},"code":${JSON.stringify(r.code)},"category":${JSON.stringify(r.category)}`;
  s += `,"exitCode":${r.exitCode},"bound":${r.bound}`;
  if (r.url) s += `,"url":${JSON.stringify(r.url)}`;
  if (r.kdc) s += `,"kdc":${JSON.stringify(r.kdc)}`;
  s += `,"ms":${Number.isFinite(r.ms) ? r.ms : 0},"findings":[`;
  for (let i = 0; i < r.findings.length; i++) {
    const f = r.findings[i]!;
    if (i) s += ',';
    s += `{"code":${JSON.stringify(f.code)},"severity":${JSON.stringify(f.severity)},"message":${JSON.stringify(f.message)},"evidence":${JSON.stringify(f.evidence)}`;
    if (f.remediation.length) s += `,"remediation":${JSON.stringify(f.remediation)}`;
    s += '}';
  }
  return s + ']}\n';
}
