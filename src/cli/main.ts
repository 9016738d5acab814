/** The CLI's entry: dispatch to a command, print help and version, and turn a fault into its exit code. */
import { COMMANDS } from './commands/index.js';
import type { CliIO } from './types.js';
import { CredgateError } from '../core/errors.js';
import { EXIT_CODES } from '../findings/catalog.js';
import { exitCodeForError } from '../findings/faults.js';
import { nearestName, usageError } from './args.js';
import { faultJson, say, t } from './render.js';
import { exitCodeHelp, type ExitMeanings } from './exit-help.js';
import { exitCodeAfterStop, stopOnSignals } from './signals.js';
import { readFileSync } from 'node:fs';
import dc from 'node:diagnostics_channel';
import { CHANNELS, type WarningEvent } from '../core/telemetry.js';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

/** What each exit code means across the commands (each command's usage says what it means there). */
export const HELP_EXITS: ExitMeanings = {
  ok: 'valid, pass, nothing to purge',
  rejected: 'rejected',
  usage: 'usage, configuration or bad input',
  unusable: 'account unusable',
  unreachable: 'unreachable or TLS',
  provider: 'provider failure',
  'stale-cache': 'stale cached credential',
  internal: 'internal error',
};

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'credgate — will this credential work on that RDP host, and if not, exactly why?',
    '',
    'Usage: credgate <command> [options]',
    '       credgate help <command> | credgate <command> --help',
    '       credgate --version',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "credgate help <command>" for a command\'s options. With --json, a command prints one JSON',
    'object on stdout, a failure too: {"ok":false,"exitCode":N,"error":{"code","message"}}.',
    '',
    exitCodeHelp(HELP_EXITS, { signals: 'The signal codes are those of the commands that send credentials (check, doctor, launch, verify): they send nothing more after the first signal and report what was in flight.' }),
  ].join('\n');
}

/** Whether a failure is reported as JSON: --json given before any "--" (after it, everything is positional). */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** The usage error for a command name that is not one (never repeated: it may be a password). */
function unknownCommand(what: string, typed: string): CredgateError {
  const names = COMMANDS.map((c) => c.name);
  const near = nearestName(typed, names);
  return usageError(`${what} (not shown: it may be a password).${near ? ` Did you mean ${near}?` : ''} Commands: ${names.join(', ')}. See credgate --help.`);
}

export async function main(argv: string[], io?: Partial<CliIO>): Promise<number> {
  const full: CliIO = {
    stdout: io?.stdout ?? process.stdout,
    stderr: io?.stderr ?? process.stderr,
    stdin: io?.stdin ?? process.stdin,
    env: io?.env ?? process.env,
    cwd: io?.cwd ?? process.cwd(),
    ...(io?.stop ? { stop: io.stop } : {}),
  };
  const json = wantsJson(argv);
  const fail = (e: unknown): number => reportError(e, full, json);
  const [name, ...rest] = argv;
  if (name === undefined || (name === '--json' && !rest.length)) {
    // no command is a usage error (as git's is): the help goes to stderr, stdout stays empty for scripts
    if (json) return fail(usageError(`No command given. Commands: ${COMMANDS.map((c) => c.name).join(', ')}. See credgate --help.`));
    full.stderr.write(helpText());
    return EXIT_CODES.usage;
  }
  // help's argument is the first that is not an option (credgate help --json is the help)
  const helpOf = name === 'help' ? rest.find((a) => !a.startsWith('-')) : undefined;
  if (name === '--help' || name === '-h' || (name === 'help' && helpOf === undefined)) {
    full.stdout.write(helpText());
    return EXIT_CODES.ok;
  }
  if (name === '--version' || name === '-V' || name === '-v') {
    say(full.stdout, t`credgate ${version()}\n`);
    return EXIT_CODES.ok;
  }
  if (name === 'help') {
    const entry = COMMANDS.find((c) => c.name === helpOf);
    if (!entry) return fail(unknownCommand('help <command>: not a command name', helpOf!));
    const { usage } = await entry.load();
    full.stdout.write(usage.endsWith('\n') ? usage : usage + '\n');
    return EXIT_CODES.ok;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) return fail(unknownCommand('unknown command', name));
  const cmd = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    full.stdout.write(cmd.usage.endsWith('\n') ? cmd.usage : cmd.usage + '\n');
    return EXIT_CODES.ok;
  }
  // a command that sends credentials stops gracefully on any terminating signal (cli/signals.ts)
  const signals = cmd.inFlight !== undefined && !full.stop
    ? stopOnSignals((sig) => say(full.stderr, t`${full.stderr.isTTY ? t`\n` : ''}credgate ${name}: interrupted by ${sig}; finishing ${cmd.inFlight} (${sig === 'SIGINT' ? 'Ctrl-C' : sig} again to quit at once)\n`))
    : undefined;
  const run: CliIO = signals ? { ...full, stop: signals.signal } : full;
  // a provider's warning (a world-readable credentials file, ...) is shown, not left to a channel nobody reads
  const warn = (m: unknown) => say(run.stderr, t`credgate ${name}: warning: ${(m as WarningEvent).message}\n`);
  dc.subscribe(CHANNELS.warning, warn);
  try {
    return exitCodeAfterStop(run.stop, await cmd.run(rest, run));
  } catch (e) {
    return exitCodeAfterStop(run.stop, reportError(e, run, json));
  } finally {
    dc.unsubscribe(CHANNELS.warning, warn);
    signals?.dispose();
  }
}

/**
 * A fault that ended a command: one line on stderr, or under --json one JSON object on stdout
 * (faultJson, the shape every --json failure has); and its exit code (findings/faults.ts).
 */
export function reportError(e: unknown, io: CliIO, json = false): number {
  if (json) {
    io.stdout.write(faultJson(e));
    return exitCodeForError(e);
  }
  // a fault's message may carry outside text (a vault's error, a file name): escaped (render t)
  if (e instanceof CredgateError) say(io.stderr, t`credgate: ${e.message} [${e.code}]\n`);
  else say(io.stderr, t`credgate: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
  return exitCodeForError(e);
}
