/**
 * Human and JSON output of a verdict, colour only on a terminal. Human output is built only from
 * `Shown` text: the `t` template and the style functions escape every string they are given
 * (core/terminal escapeTerminal) and pass a `Shown` through, so a string from outside (a server's
 * message, a certificate's names, a vault's user name, a file name) cannot reach the terminal raw.
 * JSON output is exact.
 */
import type { Finding, Verdict } from '../findings/finding.js';
import type { CliIO } from './types.js';
import { escapeTerminal } from '../core/terminal.js';
import { CredgateError } from '../core/errors.js';
import { exitCodeForError } from '../findings/faults.js';

/** Text that is safe to show on a terminal: credgate's own, or outside text already escaped. */
export class Shown {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Part = Shown | string | number | boolean | null | undefined;

/** A part as terminal text: a Shown as it is, anything else escaped. */
export const shown = (p: Part): string => (p instanceof Shown ? p.text : escapeTerminal(String(p ?? '')));

/** Human output: the template's own text as written, every value escaped unless it is already Shown. */
export function t(strings: TemplateStringsArray, ...values: Part[]): Shown {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += shown(values[i]) + strings[i + 1]!;
  return new Shown(out);
}

/** Lines joined by newlines, with a final one. */
export function lines(list: readonly Shown[]): Shown {
  return new Shown(list.map((l) => l.text).join('\n') + '\n');
}

/** `text` after `first`, its words wrapped at `width` columns, continuation lines indented by `indent` (help text). */
export function wrap(first: string, text: string, indent: number, width = 100): string {
  const out: string[] = [];
  let cur = first;
  let fresh = true;
  for (const w of text.split(' ')) {
    if (!fresh && cur.length + 1 + w.length > width) {
      out.push(cur);
      cur = ' '.repeat(indent);
      fresh = true;
    }
    cur += (fresh ? '' : ' ') + w;
    fresh = false;
  }
  out.push(cur);
  return out.join('\n');
}

/** Write human output: only Shown text is accepted. */
export function say(stream: CliIO['stdout'], text: Shown): void {
  stream.write(text.text);
}

export interface Style {
  bold(s: Part): Shown;
  dim(s: Part): Shown;
  red(s: Part): Shown;
  green(s: Part): Shown;
  yellow(s: Part): Shown;
}

/** Colour only on a TTY, and never when NO_COLOR is set (https://no-color.org). */
export function style(io: CliIO, stream: 'stdout' | 'stderr' = 'stdout'): Style {
  const on = !!io[stream].isTTY && !('NO_COLOR' in io.env && io.env.NO_COLOR !== '') && io.env.TERM !== 'dumb';
  const wrap = (a: number, b: number) => (s: Part) => new Shown(on ? `\u001b[${a}m${shown(s)}\u001b[${b}m` : shown(s));
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

/**
 * A fault that ended a command, under --json: one object, the same shape for every command and
 * every fault (usage errors included) — {"ok": false, "exitCode": n, "error": {"name", "code",
 * "message", "details"?}} and what `extra` adds (check and cache say "code": "provider.error").
 */
export function faultJson(e: unknown, extra: Record<string, unknown> = {}): string {
  const error = e instanceof CredgateError
    ? e.toJSON()
    : { name: e instanceof Error ? e.name : 'Error', code: 'INTERNAL', message: `internal error: ${e instanceof Error ? e.message : String(e)}` };
  return JSON.stringify({ ok: false, ...extra, exitCode: exitCodeForError(e), error }, null, 2) + '\n';
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

/** Human output: one verdict line, the cause, the fix, the raw server text (escaped). */
export function verdictHuman(v: Verdict, io: CliIO, title?: string): string {
  const s = style(io);
  const out: Shown[] = [];
  const head = v.ok ? s.green(s.bold('OK')) : s.red(s.bold('FAIL'));
  out.push(t`${head}  ${title ? t`${s.bold(title)} — ` : ''}${v.cause} ${s.dim(`[${v.code}]`)}`);
  const decider = v.findings.find((f) => f.code === v.code);
  if (decider) {
    const raw = evidenceLine(decider);
    if (raw) out.push(t`  ${s.dim('server said:')} ${raw}`);
  }
  if (v.remediation.length) {
    out.push(t`  ${s.bold(v.ok ? 'notes:' : 'fix:')}`);
    v.remediation.forEach((r, i) => out.push(t`    ${i + 1}. ${r.action}`));
  }
  const others = v.findings.filter((f) => f !== decider && f.severity !== 'ok');
  if (others.length) {
    out.push(t`  ${s.bold('also found:')}`);
    for (const f of others) out.push(t`    ${mark(s, f.severity)} ${f.message} ${s.dim(`[${f.code}]`)}`);
  }
  const tm = Object.entries(v.timingsMs);
  if (tm.length) out.push(s.dim(`  timings: ${tm.map(([k, ms]) => `${k} ${Math.round(ms)} ms`).join(', ')}`));
  return lines(out).text;
}

/** A finding's severity as one coloured mark. */
export function mark(s: Style, severity: Finding['severity']): Shown {
  return severity === 'error' ? s.red('✖') : severity === 'warning' ? s.yellow('!') : severity === 'ok' ? s.green('✔') : s.dim('·');
}
