/** What a command touches of the outside world (so commands run in-process in tests), and the command shape. */
import type { Readable, Writable } from 'node:stream';
import type { EXIT_CODES } from '../findings/catalog.js';

/** The EXIT_CODES keys a signal ends a run with (cli/exit-help.ts SIGNAL_ROWS). */
export type SignalKey = 'hangup' | 'interrupted' | 'terminated';

/** An exit code a command itself ends with (the signal codes are appended by exitCodeHelp). */
export type ExitKey = Exclude<keyof typeof EXIT_CODES, SignalKey>;

/** What each exit code means for one command; a code the command never ends with is left out. */
export type ExitMeanings = Partial<Record<ExitKey, string>>;

/** Everything a command touches of the outside world, so tests can run commands in-process. */
export interface CliIO {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  /**
   * Aborted when the caller asks the run to stop (a terminating signal, cli/signals.ts): send no
   * further credential, let what is in flight finish and report it. Its reason names the signal.
   */
  stop?: AbortSignal;
}

export interface Command {
  name: string;
  /** One line for `credgate --help`. */
  summary: string;
  /** Full usage text for `credgate <name> --help`; its "Exit codes:" section is exitCodeHelp(exits). */
  usage: string;
  /** What each exit code means for this command (cli/exit-help.ts renders them in the usage). */
  exits: ExitMeanings;
  /**
   * For a command that sends credentials: what a stop lets finish ("the binds in flight"). main
   * then turns SIGINT / SIGTERM / SIGHUP into io.stop for it (cli/signals.ts) and ends it with the
   * signal's exit code.
   */
  inFlight?: string;
  /** Returns the process exit code. Never calls process.exit. */
  run(argv: string[], io: CliIO): Promise<number>;
}
