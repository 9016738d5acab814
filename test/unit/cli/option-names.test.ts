// One name per idea across the commands: --user (also accepted: --account) and --timeout (also
// accepted: --deadline) wherever the idea exists, with the same meaning; the host of doctor, launch
// and probe as <host> or --host, with one error when it is missing. The built CLI (the matrix of
// every alias and command: main() in-process).
import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { runCli, runMain } from '../../helpers/cli.js';
import { closedPort } from '../../helpers/servers.js';
import { COMMANDS } from '../../../src/cli/commands/index.js';
import { OPTION_ALIASES } from '../../../src/cli/args.js';
import { EXIT_CODES } from '../../../src/findings/catalog.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../fixtures/cache/collector-ws0042.json');
const SUB: Record<string, string[]> = { cache: ['inspect'] };
/** The verdict without its timings (two runs differ only there). */
const untimed = (j: Record<string, unknown>) => JSON.stringify(j, (k, v) => (k === 'timingsMs' || k === 'ms' ? undefined : v));

describe('one documented name per idea, the other accepted', () => {
  it('an alias is accepted exactly where its documented option is, and the usage says so on one line', async () => {
    const probes = COMMANDS.flatMap((c) => Object.keys(OPTION_ALIASES).map((alias) => ({ c, alias })));
    // a missing value: "--x expects a value" for an option the command takes, "unknown option" otherwise
    const results = await Promise.all(probes.map(({ c, alias }) => runMain([c.name, ...(SUB[c.name] ?? []), `--${alias}`])));
    const seen: Record<string, string[]> = {};
    for (const [i, { c, alias }] of probes.entries()) {
      const r = results[i]!;
      expect(r.code).toBe(EXIT_CODES.usage);
      const accepted = r.stderr.includes(`--${alias} expects a value`);
      if (!accepted) expect(r.stderr, `${c.name} --${alias}`).toContain('An unknown option');
      const usage = (await c.load()).usage;
      const line = /Also accepted:[^.]*\./.exec(usage)?.[0].replace(/\s+/g, ' ') ?? '';
      expect(line.includes(`--${alias} for --${OPTION_ALIASES[alias]}`), `${c.name}: "Also accepted" names --${alias} exactly when it is accepted`).toBe(accepted);
      expect(usage.replace(/Also accepted:[^.]*\./, ''), `${c.name}: --${alias} is shown nowhere else`).not.toMatch(new RegExp(`--${alias}\\b`));
      if (accepted) (seen[alias] ??= []).push(c.name);
    }
    expect(seen).toEqual({
      account: ['check', 'doctor', 'launch', 'cache'],
      deadline: ['check', 'doctor', 'launch', 'probe', 'providers', 'verify'],
      'user-column': ['verify'],
      'password-column': ['verify'],
      'password-env-column': ['verify'],
    });
  });

  it('--user and --account, --timeout and --deadline mean the same: the same verdict', async () => {
    const port = await closedPort();
    const env = { env: { RDP_PW: 'not-sent-anywhere-1' } };
    const doctor = (who: string, t: string) => runMain(['doctor', `127.0.0.1:${port}`, who, 'PAMTEST\\alice', '--password-env', 'RDP_PW', t, '3000', '--json'], env);
    const [a, b] = await Promise.all([doctor('--user', '--timeout'), doctor('--account', '--deadline')]);
    expect(a.code).toBe(EXIT_CODES.unreachable);
    expect(a.json.target.account).toBe('PAMTEST\\alice');
    expect(untimed(b.json)).toBe(untimed(a.json));
    const cache = (who: string) => runMain(['cache', 'inspect', '--from', FIXTURE, who, 'PAMTEST\\alice', '--host', 'web01.pamtest.local', '--changed-at', '2026-11-10T00:00:00Z', '--json']);
    const [c, d] = await Promise.all([cache('--user'), cache('--account')]);
    expect(c.code).toBe(EXIT_CODES['stale-cache']);
    expect(d.stdout).toBe(c.stdout);
    const check = (who: string) => runMain(['check', '--rdp', `127.0.0.1:${port}`, who, 'alice@pamtest.local', '--password-env', 'RDP_PW', '--json'], env);
    const [e, f] = await Promise.all([check('--user'), check('--account')]);
    expect([e.json.account, f.json.account]).toEqual(['alice@pamtest.local', 'alice@pamtest.local']);
  });

  it('both names of one option: a usage error naming both', async () => {
    const r = await runCli(['check', '--ldap', 'ldaps://127.0.0.1:1', '--user', 'a', '--account', 'b', '--password-env', 'X']);
    expect(r.code).toBe(EXIT_CODES.usage);
    expect(r.stderr).toContain('--account is another name for --user: give one of them');
    const t = await runMain(['doctor', 'web01', '--timeout', '100', '--deadline', '200']);
    expect(t.stderr).toContain('--deadline is another name for --timeout: give one of them');
  });
});

describe('the host: <host> or --host, in doctor, launch and probe alike', () => {
  it('either form gives the same run; a missing host is one error; a positional beside --host is a stray argument', async () => {
    const port = await closedPort();
    const env = { env: { RDP_PW: 'not-sent-anywhere-2' } };
    for (const cmd of ['doctor', 'launch']) {
      const args = ['--user', 'alice', '--password-env', 'RDP_PW', '--json'];
      const [pos, opt] = await Promise.all([runCli([cmd, `127.0.0.1:${port}`, ...args], env), runMain([cmd, '--host', `127.0.0.1:${port}`, ...args], env)]);
      expect(pos.code, cmd).toBe(EXIT_CODES.unreachable);
      expect(pos.json.target).toMatchObject({ host: '127.0.0.1', port });
      expect(untimed(opt.json)).toBe(untimed(pos.json));
      const missing = await runMain([cmd, '--user', 'alice']);
      expect([missing.code, missing.stderr]).toEqual([EXIT_CODES.usage, `credgate: The RDP host is required: credgate ${cmd} <host>[:port], or --host <host>[:port]; see "credgate ${cmd} --help". [USAGE]\n`]);
      const stray = await runMain([cmd, '--host', 'web01', 'Hunter2-typed-here', '--user', 'alice'], { secrets: ['Hunter2-typed-here'] });
      expect(stray.code).toBe(EXIT_CODES.usage);
      expect(stray.stderr).toContain('unexpected argument (not shown: it may be a password)');
    }
    const [p1, p2] = await Promise.all([runMain(['probe', `127.0.0.1:${port}`, '--json']), runMain(['probe', '--host', `127.0.0.1:${port}`, '--json'])]);
    expect([p1.code, p2.code]).toEqual([EXIT_CODES.unreachable, EXIT_CODES.unreachable]);
    expect(untimed(p2.json)).toBe(untimed(p1.json));
    expect((await runMain(['probe'])).stderr).toContain('The RDP host is required: credgate probe <host>[:port], or --host <host>[:port]');
  });
});
