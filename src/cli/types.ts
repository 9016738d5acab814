/** What a command touches of the outside world (so commands run in-process in tests), and the command shape. */
import type { Readable, Writable } from 'node:stream';

/** Everything a command touches of the outside world, so tests can run commands in-process. */
export interface CliIO {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
}

export interface Command {
  name: string;
  /** One line for `credgate --help`. */
  summary: string;
  /** Full usage text for `credgate <name> --help`. */
  usage: string;
  /** Returns the process exit code. Never calls process.exit. */
  run(argv: string[], io: CliIO): Promise<number>;
}
