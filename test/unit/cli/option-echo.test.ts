// A password typed into the wrong option is never echoed (issue 14, defect 10): a bad value for an
// option, an unknown option, a provider name or a reference that does not resolve, an unknown
// command. The message names the option and what it expects instead.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../../src/cli/main.js';
import { nearestName } from '../../../src/cli/args.js';
import { assertNoLeak } from '../../helpers/cli.js';

const PW = 'Summer2024!xq';
const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/cache');

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-echo-'));
  fs.writeFileSync(path.join(dir, 'creds.json'), JSON.stringify({ web01: { username: 'alice', password: 'not-this-one' } }), { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'credgate.config.json'), JSON.stringify({ providers: { f: { type: 'file', options: { path: 'creds.json' } } } }));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void) => new Writable({ write(c, _e, cb) { add(String(c)); cb(); } });
  const code = await main(argv, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), env: {}, cwd: dir });
  assertNoLeak(out, [PW], `stdout of credgate ${argv.join(' ')}`);
  assertNoLeak(err, [PW], `stderr of credgate ${argv.join(' ')}`);
  // the assertNoLeak rule above, spelt out: not even a part of it
  expect(out + err).not.toContain('Summer2024');
  return { code, out, err };
}

describe('an option value or unknown option is never echoed', () => {
  it('--timeout <pw>: names the option and the range it expects', async () => {
    const r = await run(['check', '--ldap', 'ldaps://127.0.0.1:1', '--user', 'a', '--password-env', 'X', '--timeout', PW]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--timeout expects a whole number from 100 to 600000/);
    for (const cmd of [['verify', '--input', 'a.csv', '--output', 'o.jsonl', '--ldap', 'ldaps://x', '--concurrency', PW], ['probe', 'h', '--expiring-days', PW]]) {
      const x = await run(cmd);
      expect(x.code).toBe(2);
      expect(x.err).toMatch(/--(concurrency|expiring-days) expects a whole number/);
    }
  });

  it('an unknown option --<pw>, -<pw>, --<pw>=x: not shown; no suggestion for text that is no option name', async () => {
    for (const a of [`--${PW}`, `-${PW}`, `--${PW}=x`, `--summer2024`]) {
      const r = await run(['check', a]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/An unknown option \(not shown: it may be a password\)\. See "credgate check --help"/);
      expect(r.err).not.toMatch(/did you mean/i);
    }
  });

  it('a misspelt option name is answered with the nearest option, by name only', async () => {
    const r = await run(['check', '--tmeout', '5000']);
    expect(r.err).toMatch(/An unknown option \(not shown[^)]*\)\. Did you mean --timeout\?/);
    expect(r.err).not.toContain('tmeout');
    expect(nearestName('--starttsl', ['starttls', 'json'])).toBe('starttls');
    expect(nearestName('--Starttls', ['starttls'])).toBeUndefined();
    expect(nearestName('--jsno', ['json'])).toBeUndefined(); // a 4-letter name is too close to too much
    expect(nearestName('--summer', ['user', 'timeout'])).toBeUndefined();
  });

  it('a value given to a switch, a missing value, a value starting with a dash', async () => {
    const a = await run(['check', `--json=${PW}`]);
    expect(a.err).toMatch(/--json is a switch and takes no value/);
    const b = await run(['check', '--ref', `-${PW}`]);
    expect(b.err).toMatch(/--ref expects a value, and the next argument starts with "-"/);
    const c = await run(['check', '--ref']);
    expect(c.err).toMatch(/--ref expects a value/);
  });

  it('--format <pw> and --changed-at <pw>: the option and what it expects', async () => {
    const v = await run(['verify', '--input', 'in.txt', '--output', 'o.jsonl', '--ldap', 'ldaps://x', '--format', PW]);
    expect(v.err).toMatch(/--format expects csv or jsonl/);
    const c = await run(['cache', 'inspect', '--from', path.join(FIXTURES, 'cmdkey-en.utf16.txt'), '--changed-at', PW]);
    expect(c.err).toMatch(/--changed-at expects an ISO date/);
  });

  it('--provider <pw>: the configured providers are listed, the name given is not', async () => {
    const r = await run(['check', '--ldap', 'ldaps://127.0.0.1:1', '--provider', PW, '--ref', 'web01']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--provider names no provider configured in .*credgate\.config\.json .*configured: f\./);
  });

  it('--ref <pw>: the provider\'s error is kept, the reference is not repeated (human and JSON)', async () => {
    const r = await run(['check', '--ldap', 'ldaps://127.0.0.1:1', '--provider', 'f', '--ref', PW]);
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/has no entry .*the --ref value is not repeated/);
    const j = await run(['check', '--ldap', 'ldaps://127.0.0.1:1', '--provider', 'f', '--ref', PW, '--json']);
    expect(JSON.parse(j.out).error.code).toBe('PROVIDER_NOT_FOUND');
    const d = await run(['doctor', '--host', '127.0.0.1:1', '--provider', 'f', '--ref', PW, '--deadline', '2000', '--json']);
    expect(JSON.parse(d.out).code).toBe('provider.not-found');
  });

  it('an unknown command: not shown, a near command suggested', async () => {
    const r = await run([PW]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command \(not shown: it may be a password\)\. Commands: check/);
    expect((await run(['chek'])).err).toMatch(/Did you mean check\?/);
  });
});
