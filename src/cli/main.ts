/** The CLI's entry: dispatch to a command, print help and version, and turn a fault into its exit code. */
import { COMMANDS } from './commands/index.js';
import type { CliIO } from './types.js';
import { EXIT_CODES } from '../findings/catalog.js';
import { readFileSync } from 'node:fs';

// `credgate --help` loads the command list and the exit codes only; what running a command needs
// (the signal stop, rendering, the error report, the near-name suggestion) loads when it is needed
const render = () => import('./render.js');

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'credgate — will this credential work on that RDP host, and if not, exactly why?',
    '',
    'Usage: credgate <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "credgate <command> --help" for a command\'s options.',
    'Exit codes: 0 valid, 1 rejected, 2 usage/config, 3 account unusable, 4 unreachable/TLS,',
    '            5 provider failure, 6 stale cached credential, 70 internal error.',
    '',
  ].join('\n');
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
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    full.stdout.write(helpText());
    return name ? EXIT_CODES.ok : EXIT_CODES.usage;
  }
  if (name === '--version' || name === '-v') {
    const { say, t } = await render();
    say(full.stdout, t`credgate ${version()}\n`);
    return EXIT_CODES.ok;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    // not repeated (it may be a password typed in the wrong place); a near command is suggested
    const [{ nearestName }, { say, t }] = await Promise.all([import('./args.js'), render()]);
    const near = nearestName(name, COMMANDS.map((c) => c.name));
    say(full.stderr, t`credgate: unknown command (not shown: it may be a password).${near ? ` Did you mean ${near}?` : ''} Commands: ${COMMANDS.map((c) => c.name).join(', ')}. See credgate --help.\n`);
    return EXIT_CODES.usage;
  }
  const [cmd, { exitCodeAfterStop, stopOnSignals }, { say, t }] = await Promise.all([entry.load(), import('./signals.js'), render()]);
  if (rest.includes('--help') || rest.includes('-h')) {
    full.stdout.write(cmd.usage.endsWith('\n') ? cmd.usage : cmd.usage + '\n');
    return EXIT_CODES.ok;
  }
  // a command that sends credentials stops gracefully on any terminating signal (cli/signals.ts)
  const signals = cmd.inFlight !== undefined && !full.stop
    ? stopOnSignals((sig) => say(full.stderr, t`${full.stderr.isTTY ? t`\n` : ''}credgate ${name}: interrupted by ${sig}; finishing ${cmd.inFlight} (${sig === 'SIGINT' ? 'Ctrl-C' : sig} again to quit at once)\n`))
    : undefined;
  const run: CliIO = signals ? { ...full, stop: signals.signal } : full;
  try {
    return exitCodeAfterStop(run.stop, await cmd.run(rest, run));
  } catch (e) {
    return exitCodeAfterStop(run.stop, await reportError(e, run));
  } finally {
    signals?.dispose();
  }
}

/** A fault that ended a command: one line on stderr, and its exit code (findings/faults.ts). */
export async function reportError(e: unknown, io: CliIO): Promise<number> {
  const [{ CredgateError }, { exitCodeForError }, { say, t }] = await Promise.all([import('../core/errors.js'), import('../findings/faults.js'), render()]);
  // a fault's message may carry outside text (a vault's error, a file name): escaped (render t)
  if (e instanceof CredgateError) say(io.stderr, t`credgate: ${e.message} [${e.code}]\n`);
  else say(io.stderr, t`credgate: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
  return exitCodeForError(e);
}
