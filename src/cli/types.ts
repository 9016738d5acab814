/** What a command touches of the outside world (so commands run in-process in tests), and the command shape. */
import type { Readable, Writable } from 'node:stream';
import type { ExitMeanings } from './exit-help.js';

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
