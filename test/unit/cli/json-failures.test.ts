// Under --json every failure is one JSON object on stdout — usage errors included (an unknown
// option, a missing value, a bad value, a missing required option, an unknown command) — in one
// shape: {"ok": false, "exitCode": n, "error": {"name", "code", "message"}}; nothing else is
// printed. Every command (main() in-process), and the built CLI for a few.
import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { runCli, runMain, type CliResult } from '../../helpers/cli.js';
import { COMMANDS } from '../../../src/cli/commands/index.js';
import { EXIT_CODES } from '../../../src/findings/catalog.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../fixtures/cache/collector-ws0042.json');

type Case = { argv: string[]; code: string; message: RegExp };
const usage = (argv: string[], message: RegExp): Case => ({ argv, code: 'USAGE', message });

/** For each command: an unknown option, a missing value, a bad value, a missing required option. */
const CASES: Record<string, Case[]> = {
  check: [
    usage(['check', '--nosuch-option', '--json'], /An unknown option/),
    usage(['check', '--json', '--ldap'], /--ldap expects a value/),
    usage(['check', '--ldap', 'ldaps://127.0.0.1:1', '--user', 'a', '--password-env', 'X', '--timeout', 'soon', '--json'], /--timeout expects a whole number/),
    usage(['check', '--user', 'a', '--json'], /--ldap <url>, --kdc <host> \(or --kerberos\) or --rdp <host> is required/),
  ],
  doctor: [
    usage(['doctor', 'web01', '--nosuch-option', '--json'], /An unknown option/),
    usage(['doctor', 'web01', '--json', '--ldap'], /--ldap expects a value/),
    usage(['doctor', 'web01', '--timeout', 'soon', '--json'], /--timeout expects a whole number/),
    usage(['doctor', '--json'], /The RDP host is required: credgate doctor <host>\[:port\], or --host <host>\[:port\]/),
  ],
  launch: [
    usage(['launch', 'web01', '--nosuch-option', '--json'], /An unknown option/),
    usage(['launch', 'web01', '--json', '--client'], /--client expects a value/),
    usage(['launch', 'web01', '--deadline', 'soon', '--json'], /--timeout expects a whole number/),
    usage(['launch', '--json'], /The RDP host is required: credgate launch <host>\[:port\], or --host <host>\[:port\]/),
  ],
  probe: [
    usage(['probe', 'web01', '--nosuch-option', '--json'], /An unknown option/),
    usage(['probe', 'web01', '--json', '--ca-file'], /--ca-file expects a value/),
    usage(['probe', 'web01', '--expiring-days', 'soon', '--json'], /--expiring-days expects a whole number/),
    usage(['probe', '--json'], /The RDP host is required: credgate probe <host>\[:port\]/),
  ],
  cache: [
    usage(['cache', 'inspect', '--from', FIXTURE, '--nosuch-option', '--json'], /An unknown option/),
    usage(['cache', 'inspect', '--json', '--from'], /--from expects a value/),
    usage(['cache', 'inspect', '--from', FIXTURE, '--changed-at', 'soon', '--json'], /--changed-at expects an ISO date/),
    usage(['cache', '--json'], /Say what to do: credgate cache list \| inspect \| purge \| collector/),
  ],
  providers: [
    usage(['providers', '--nosuch-option', '--json'], /An unknown option/),
    usage(['providers', '--json', '--config'], /--config expects a value/),
    usage(['providers', '--timeout', 'soon', '--json'], /--timeout expects a whole number/),
    { argv: ['providers', '--config', 'no-such-config.json', '--json'], code: 'CONFIG_INVALID', message: /no-such-config\.json/ },
  ],
  report: [
    usage(['report', '--nosuch-option', '--json'], /An unknown option/),
    usage(['report', '--json', '--out'], /--out expects a value/),
    { argv: ['report', '--from', 'x.jsonl', '--out', '/nonexistent-dir/r.html', '--json'], code: 'INPUT_INVALID', message: /Cannot write the report \/nonexistent-dir\/r\.html/ },
    usage(['report', '--json'], /Give at least one input/),
    usage(['report', '--from', 'x.jsonl', '--out', '-', '--json'], /--out - and --json would both write to standard output/),
  ],
  verify: [
    usage(['verify', '--input', 'a.csv', '--nosuch-option', '--json'], /An unknown option/),
    usage(['verify', '--json', '--input'], /--input expects a value/),
    usage(['verify', '--input', 'a.csv', '--output', 'o.jsonl', '--ldap', 'ldaps://127.0.0.1:1', '--concurrency', 'many', '--json'], /--concurrency expects a whole number/),
    usage(['verify', '--json'], /--input <accounts.csv\|accounts.jsonl> is required/),
    { argv: ['verify', '--input', 'no-such-accounts.csv', '--output', '-', '--ldap', 'ldaps://127.0.0.1:1', '--json'], code: 'INPUT_INVALID', message: /no-such-accounts\.csv does not exist/ },
  ],
};

/** One JSON object on stdout (runCli parsed it), of the one shape, nothing on stderr, its exitCode the process's. */
function expectJsonFailure(r: CliResult, c: Case): void {
  const where = `credgate ${c.argv.join(' ')}`;
  expect(r.stderr, where).toBe('');
  expect(r.stdout.trimEnd().startsWith('{') && r.stdout.endsWith('}\n'), where).toBe(true);
  expect(Object.keys(r.json).sort(), where).toEqual(['error', 'exitCode', 'ok']);
  expect(r.json.ok).toBe(false);
  expect(r.json.exitCode, where).toBe(r.code);
  expect(r.json.exitCode, where).toBe(EXIT_CODES.usage);
  expect(Object.keys(r.json.error).sort(), where).toEqual(expect.arrayContaining(['code', 'message', 'name']));
  expect(r.json.error.code, where).toBe(c.code);
  expect(r.json.error.message, where).toMatch(c.message);
}

describe('--json failures are one JSON object on stdout', () => {
  it('every command: an unknown option, a missing value, a bad value, a missing required option', async () => {
    expect(Object.keys(CASES).sort()).toEqual(COMMANDS.map((c) => c.name).sort());
    const cases = Object.values(CASES).flat();
    const results = await Promise.all(cases.map((c) => runMain(c.argv, { cwd: import.meta.dirname })));
    cases.forEach((c, i) => expectJsonFailure(results[i]!, c));
    // and the built CLI, as a script runs it
    for (const c of [CASES.doctor![3]!, CASES.verify![4]!]) expectJsonFailure(await runCli(c.argv, { cwd: import.meta.dirname }), c);
  });

  it('an unknown command, a command name given to help, no command: the same shape', async () => {
    const cases = [
      usage(['nosuch', '--json'], /^unknown command \(not shown: it may be a password\)\. Commands: check, doctor/),
      usage(['verfy', '--input', 'a.csv', '--json'], /Did you mean verify\?/),
      usage(['--json'], /^No command given\. Commands: check, doctor/),
      usage(['help', 'nosuch', '--json'], /^help <command>: not a command name/),
    ];
    const results = await Promise.all(cases.map((c, i) => (i ? runMain(c.argv) : runCli(c.argv))));
    cases.forEach((c, i) => expectJsonFailure(results[i]!, c));
  });

  it('without --json the same failures are one line on stderr and stdout stays empty', async () => {
    const r = await runCli(['doctor', '--timeout', 'soon', 'web01']);
    expect([r.code, r.stdout]).toEqual([EXIT_CODES.usage, '']);
    expect(r.stderr).toMatch(/^credgate: --timeout expects a whole number from 100 to 600000; .* \[USAGE\]\n$/);
  });
});
