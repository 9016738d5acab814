/** `credgate report`: one self-contained HTML report from verify outputs and cache / doctor --json outputs; and the --html option of the commands that make those. */
import path from 'node:path';
import type { ReportInput } from '../../report/types.js';
import { checkWritable } from '../../report/write.js';
import type { Command, CliIO } from '../types.js';
import { parse, usageError } from '../args.js';
import { say, t } from '../render.js';
import { writeStdout } from '../output.js';
import { exitCodeHelp, type ExitMeanings } from '../exit-help.js';

const EXITS: ExitMeanings = {
  ok: 'written',
  usage: 'usage, or an input that is not one of these outputs (the file and the line are named)',
  internal: 'internal error',
};

const USAGE = `Usage: credgate report --from <file> [--from <file>...] --out <report.html> [--title <text>] [--json]

Writes one self-contained HTML file (no script, no external resource: it opens anywhere, offline,
and can be mailed or archived) from outputs credgate wrote, now or earlier: the verdict of each
input up front, failures by cause with their fixes, charts (failures by cause, stale entries by
machine, bind latency), then the tables behind them (capped at 1,000 rows, with the counts of
all). Each input's kind is told by its content:

  credgate verify --output <file>          JSON Lines: each account's last answer (resumed runs included)
  credgate cache inspect ... --json        the fleet's findings, stale entries by machine
  credgate cache purge ... --json          the purge plan (dry run) or what the purge did
  credgate doctor ... --json               the verdict, its fixes, the steps and their times

Several inputs make one report with a section each. Inputs are read as they stream (a verify
output of millions of lines, a fleet's tens of MB of findings). The report holds what the inputs
hold: result records never carry a password.

  --from <file>      an input (repeatable; files may also follow the options)
  --out <file>       the HTML report to write (replaced whole, never half-written); - for standard
                     output (the line saying what was written then goes to stderr)
  --title <text>     the report's title (default "credgate report")
  --json             print what was written as JSON (file, bytes, each input's kind)

verify, cache inspect, cache purge and doctor take --html <file> to write the same report of
their own run.

${exitCodeHelp(EXITS)}`;

const OPTIONS = {
  from: { type: 'string', multiple: true },
  out: { type: 'string' },
  title: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/**
 * The --html <file> of a command (or report's --out), resolved and checked writable before the
 * command runs (a bad path fails first, exit 2); never one of the command's own files (`inputs`).
 */
export function htmlTarget(value: unknown, io: CliIO, inputs: readonly string[] = []): string | undefined {
  if (value === undefined) return undefined;
  if (value === '-') throw usageError('--html takes a file name: standard output carries the command\'s own output (credgate report --out - prints a report there).');
  const file = path.resolve(io.cwd, String(value));
  if (inputs.some((f) => path.resolve(io.cwd, f) === file)) throw usageError('The HTML report would replace one of the command\'s own files; give it another name.');
  checkWritable(file, String(value));
  return file;
}

/** Build the report of `inputs` and write it to `file` ("-": standard output); its size in bytes. */
async function writeHtml(file: string, inputs: ReportInput[], io: CliIO, title?: string): Promise<number> {
  const { buildReport } = await import('../../report/build.js');
  const { writeReport } = await import('../../report/write.js');
  const text = buildReport(inputs, title !== undefined ? { title } : {});
  if (file === '-') await writeStdout(io, text);
  else writeReport(file, text);
  return Buffer.byteLength(text);
}

/** --html: the report of a command's own run, written to `file` (from htmlTarget); one line on stderr says where. */
export async function htmlReport(file: string, inputs: () => Promise<ReportInput[]> | ReportInput[], io: CliIO): Promise<void> {
  await writeHtml(file, await inputs(), io);
  say(io.stderr, t`credgate: report written to ${file}\n`);
}

/** --html: the report of a command's result as its --json output has it (cache inspect, cache purge, doctor). */
export async function htmlOf(file: string, json: Record<string, unknown>, source: string, io: CliIO): Promise<void> {
  const { reportInputOf } = await import('../../report/read.js');
  await htmlReport(file, () => [reportInputOf(json, source)], io);
}

export const reportCommand: Command = {
  name: 'report',
  summary: 'one self-contained HTML report (verdicts, causes with fixes, charts, tables) from verify, cache and doctor outputs',
  usage: USAGE,
  exits: EXITS,
  async run(argv, io) {
    const { values: v, positionals } = parse('report', argv, OPTIONS, true);
    const from = [...((v.from as string[] | undefined) ?? []), ...positionals];
    if (!from.length) throw usageError('Give at least one input: --from <verify output .jsonl | cache inspect/purge --json | doctor --json>.');
    if (typeof v.out !== 'string') throw usageError('--out <report.html> is required: the file to write.');
    // --out -: the HTML on stdout, the line saying what was written on stderr
    if (v.out === '-' && v.json) throw usageError('--out - and --json would both write to standard output: give --out <file>, or drop --json.');
    const out = v.out === '-' ? '-' : htmlTarget(v.out, io, from)!;
    const { readReportInput } = await import('../../report/read.js');
    const inputs: ReportInput[] = [];
    for (const f of from) inputs.push(await readReportInput(path.resolve(io.cwd, f), f));
    const bytes = await writeHtml(out, inputs, io, typeof v.title === 'string' ? v.title : undefined);
    if (v.json) io.stdout.write(JSON.stringify({ ok: true, exitCode: 0, report: out, bytes, inputs: inputs.map((x) => ({ source: x.source, kind: x.kind })) }, null, 2) + '\n');
    else say(out === '-' ? io.stderr : io.stdout, t`credgate report: ${inputs.length} input${inputs.length === 1 ? '' : 's'} (${inputs.map((x) => `${x.source}: ${x.kind}`).join(', ')}) → ${out === '-' ? 'standard output' : out} (${Math.ceil(bytes / 1024)} KB)\n`);
    return 0;
  },
};
