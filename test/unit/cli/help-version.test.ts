// As a new user meets the CLI: --version / -V / -v, "credgate help <command>", and bare
// "credgate" — a usage error like any other (help on stderr, exit 2, stdout empty), while
// "credgate --help" / "credgate help" print the help on stdout and exit 0. The built CLI, run as
// a user runs it (the per-command matrix: main() in-process).
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import { runCli, runMain } from '../../helpers/cli.js';
import { COMMANDS } from '../../../src/cli/commands/index.js';
import { helpText } from '../../../src/cli/main.js';
import { EXIT_CODES } from '../../../src/findings/catalog.js';

const version = (JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('credgate version and help', () => {
  it('--version, -V and -v print "credgate <version>" and exit 0', async () => {
    for (const flag of ['--version', '-V', '-v']) {
      const r = await runCli([flag]);
      expect([r.code, r.stdout, r.stderr]).toEqual([EXIT_CODES.ok, `credgate ${version}\n`, '']);
    }
  });

  it('bare credgate: the help on stderr, nothing on stdout, exit 2 (a usage error)', async () => {
    const r = await runCli([]);
    expect([r.code, r.stdout]).toEqual([EXIT_CODES.usage, '']);
    expect(r.stderr).toBe(helpText());
  });

  it('credgate --help, -h and help: the help on stdout, exit 0', async () => {
    for (const a of [['--help'], ['-h'], ['help']]) {
      const r = await runCli(a);
      expect([r.code, r.stdout, r.stderr]).toEqual([EXIT_CODES.ok, helpText(), '']);
    }
    expect(helpText()).toContain('credgate help <command>');
  });

  it('credgate help <command> prints that command\'s usage on stdout, exit 0 — the same as <command> --help', async () => {
    const runs = await Promise.all(COMMANDS.map(async (e, i) => ({ e, help: await (i ? runMain : runCli)(['help', e.name]), flag: await runMain([e.name, '--help']) })));
    for (const { e, help, flag } of runs) {
      const usage = (await e.load()).usage;
      expect([help.code, help.stdout, help.stderr]).toEqual([EXIT_CODES.ok, usage, '']);
      expect(flag.stdout).toBe(help.stdout);
    }
  });

  it('credgate help <not a command>: exit 2, the commands named, the nearest one suggested, the text never repeated', async () => {
    const r = await runCli(['help', 'nosuch']);
    expect([r.code, r.stdout]).toEqual([EXIT_CODES.usage, '']);
    expect(r.stderr).toBe(`credgate: help <command>: not a command name (not shown: it may be a password). Commands: ${COMMANDS.map((c) => c.name).join(', ')}. See credgate --help. [USAGE]\n`);
    const near = await runCli(['help', 'verfy']);
    expect(near.code).toBe(EXIT_CODES.usage);
    expect(near.stderr).toContain('Did you mean verify?');
    expect(near.stderr).not.toContain('verfy');
    const pw = await runCli(['help', 'Winter2025!x'], { secrets: ['Winter2025!x'] });
    expect(pw.code).toBe(EXIT_CODES.usage);
  });
});
