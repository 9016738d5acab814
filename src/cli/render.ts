/** Human and JSON output of a verdict, colour only on a terminal. */
import type { Finding, Verdict } from '../findings/finding.js';
import type { CliIO } from './types.js';

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
}

/** Colour only on a TTY, and never when NO_COLOR is set (https://no-color.org). */
export function style(io: CliIO, stream: 'stdout' | 'stderr' = 'stdout'): Style {
  const on = !!io[stream].isTTY && !('NO_COLOR' in io.env && io.env.NO_COLOR !== '') && io.env.TERM !== 'dumb';
  const wrap = (a: number, b: number) => (s: string) => (on ? `\u001b[${a}m${s}\u001b[${b}m` : s);
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39) };
}

export function verdictJson(v: Verdict, extra: Record<string, unknown> = {}): string {
  return (
    JSON.stringify(
      {
        ok: v.ok,
        code: v.code,
        cause: v.cause,
        exitCode: v.exitCode,
        ...extra,
        findings: v.findings.map(findingJson),
        remediation: v.remediation,
        timingsMs: v.timingsMs,
      },
      null,
      2,
    ) + '\n'
  );
}

export function findingJson(f: Finding) {
  return {
    code: f.code,
    severity: f.severity,
    message: f.message,
    evidence: f.evidence,
    remediation: f.remediation,
    source: f.source,
  };
}

function evidenceLine(f: Finding): string | undefined {
  const raw = f.evidence.diagnosticMessage ?? f.evidence.serverMessage ?? f.evidence.raw;
  if (typeof raw === 'string' && raw.length) return raw;
  return undefined;
}

/** Human output: one verdict line, the cause, the fix, the raw server text. */
export function verdictHuman(v: Verdict, io: CliIO, title?: string): string {
  const s = style(io);
  const lines: string[] = [];
  const head = v.ok ? s.green(s.bold('OK')) : s.red(s.bold('FAIL'));
  lines.push(`${head}  ${title ? s.bold(title) + ' — ' : ''}${v.cause} ${s.dim(`[${v.code}]`)}`);
  const decider = v.findings.find((f) => f.code === v.code);
  if (decider) {
    const raw = evidenceLine(decider);
    if (raw) lines.push(`  ${s.dim('server said:')} ${raw}`);
  }
  if (v.remediation.length) {
    lines.push(`  ${s.bold(v.ok ? 'notes:' : 'fix:')}`);
    v.remediation.forEach((r, i) => lines.push(`    ${i + 1}. ${r.action}`));
  }
  const others = v.findings.filter((f) => f !== decider && f.severity !== 'ok');
  if (others.length) {
    lines.push(`  ${s.bold('also found:')}`);
    for (const f of others) {
      const mark = f.severity === 'error' ? s.red('✖') : f.severity === 'warning' ? s.yellow('!') : s.dim('·');
      lines.push(`    ${mark} ${f.message} ${s.dim(`[${f.code}]`)}`);
    }
  }
  const t = Object.entries(v.timingsMs);
  if (t.length) lines.push(s.dim(`  timings: ${t.map(([k, ms]) => `${k} ${Math.round(ms)} ms`).join(', ')}`));
  return lines.join('\n') + '\n';
}
