// "--output -" writes the data to stdout (the summary then goes to stderr), and a file named where
// an option belongs is answered with that option (credgate verify accounts.csv) — the argument
// repeated only when it is plausibly a path: anything else may be a password. The built CLI.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { spawn } from 'node:child_process';
import { BIN, runCli } from '../../helpers/cli.js';
import { closedPort } from '../../helpers/servers.js';
import { main } from '../../../src/cli/main.js';
import { writeFleet } from '../report/fixtures.js';
import { EXIT_CODES } from '../../../src/findings/catalog.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../fixtures/cache/collector-ws0042.json');
const PW = 'pa;ss,"word"-9';
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-out-'));
  fs.mkdirSync(path.join(dir, 'data'));
  // semicolon-separated, as Excel writes CSV in comma-decimal locales
  fs.writeFileSync(path.join(dir, 'accounts.csv'), `id;username;password\r\n1;alice@pamtest.local;"${PW.replace(/"/g, '""')}"\r\n2;bob@pamtest.local;x,y\r\n`);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sink = () => {
  let text = '';
  return { w: new Writable({ write(c, _e, cb) { text += String(c); cb(); } }), text: () => text };
};

describe('verify <file>: the input option named, the argument shown only when it is plausibly a path', () => {
  it('a path that does not exist: did you mean --input, and that it does not exist', async () => {
    const r = await runCli(['verify', 'nofile.csv', '--output', 'o.jsonl', '--ldap', 'ldaps://127.0.0.1:1'], { cwd: dir });
    expect([r.code, r.stdout]).toEqual([EXIT_CODES.usage, '']);
    expect(r.stderr).toBe(`credgate: verify takes the input with --input <file>; did you mean --input nofile.csv? nofile.csv does not exist (in ${dir}). [USAGE]\n`);
    const j = await runCli(['verify', 'nofile.csv', '--json'], { cwd: dir });
    expect(j.json.error.message).toContain('did you mean --input nofile.csv? nofile.csv does not exist');
  });

  it('a file that exists, a path under a directory that exists, an extra file beside --input', async () => {
    const e = await runCli(['verify', 'accounts.csv'], { cwd: dir });
    expect(e.stderr).toBe('credgate: verify takes the input with --input <file>; did you mean --input accounts.csv? [USAGE]\n');
    const d = await runCli(['verify', 'data/accounts'], { cwd: dir });
    expect(d.stderr).toContain('did you mean --input data/accounts? data/accounts does not exist');
    const q = await runCli(['verify', 'my accounts.tsv'], { cwd: dir });
    expect(q.stderr).toContain("did you mean --input 'my accounts.tsv'?");
    const x = await runCli(['verify', '--input', 'accounts.csv', 'more.csv'], { cwd: dir });
    expect(x.stderr).toContain('verify takes one input, with --input <file>; more.csv is an extra argument');
  });

  it('anything not plausibly a path is never repeated: a password, Summer/2024, CORP\\alice', async () => {
    for (const arg of ['Hunter2!xyz', 'Summer/2024x', 'CORP\\alice', 'nested/dir/none']) {
      const r = await runCli(['verify', arg, '--ldap', 'ldaps://127.0.0.1:1'], { cwd: dir, secrets: [arg] });
      expect(r.code, arg).toBe(EXIT_CODES.usage);
      expect(r.stderr, arg).toContain('An unexpected argument (not shown: it may be a password)');
      expect(r.stderr, arg).not.toContain('--input');
    }
  });
});

/** The built CLI with a stdout reader that reads one chunk and goes away, as `| head -c 1` does. */
async function readerLeaves(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  child.stdout.once('data', () => child.stdout.destroy());
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  clearTimeout(timer);
  return { code, stderr };
}

describe('--output - writes the data to stdout', () => {
  it('verify: the results on stdout as JSON Lines, the summary on stderr, no file named "-"', async () => {
    const port = await closedPort();
    const r = await runCli(['verify', '--input', 'accounts.csv', '--output', '-', '--ldap', `ldaps://127.0.0.1:${port}`, '--timeout', '2000'], { cwd: dir, secrets: [PW] });
    expect(r.code).toBe(EXIT_CODES.unreachable);
    const results = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { id: string; account: string; code: string });
    expect(results.map((x) => [x.id, x.account, x.code]).sort()).toEqual([['1', 'alice@pamtest.local', 'net.refused'], ['2', 'bob@pamtest.local', 'net.refused']]);
    expect(r.stderr).toMatch(/credgate verify: 2 checked in/);
    expect(r.stderr).toContain('Results: standard output');
    expect(fs.existsSync(path.join(dir, '-'))).toBe(false);
    // those results, kept by the caller, make a report; report --out - prints the HTML
    fs.writeFileSync(path.join(dir, 'kept.jsonl'), r.stdout);
    const rep = await runCli(['report', '--from', 'kept.jsonl', '--out', '-'], { cwd: dir });
    expect(rep.code).toBe(EXIT_CODES.ok);
    expect(rep.stdout).toMatch(/^<!doctype html>/i);
    expect(rep.stdout.trimEnd()).toMatch(/<\/html>$/);
    expect(rep.stdout).toContain('net.refused');
    expect(rep.stderr).toMatch(/^credgate report: 1 input \(kept\.jsonl: verify\) → standard output \(\d+ KB\)\n$/);
    expect(fs.existsSync(path.join(dir, '-'))).toBe(false);
  });

  it('--output - / --script-out - into a reader that goes away (| head): the data is lost, so exit 2 saying so, never 0', async () => {
    const port = await closedPort();
    const rows = ['username;password', ...Array.from({ length: 3000 }, (_, i) => `user${i};pw-${i}`)];
    fs.writeFileSync(path.join(dir, 'many.csv'), rows.join('\n') + '\n');
    const fleet = writeFleet(path.join(dir, 'fleet'), 100).dir; // a script of ~350 KB, more than a pipe holds
    for (const args of [
      ['verify', '--input', 'many.csv', '--output', '-', '--ldap', `ldaps://127.0.0.1:${port}`],
      ['cache', 'purge', '--from', fleet, '--user', 'PAMTEST\\svc-rdp', '--changed-at', '2026-11-10T00:00:00Z', '--yes', '--audit', 'fleet-audit.jsonl', '--script-out', '-'],
    ]) {
      const r = await readerLeaves(args);
      expect(r.code, args[0]).toBe(EXIT_CODES.usage);
      expect(r.stderr, args[0]).toContain('credgate: Writing to standard output failed (EPIPE). [INPUT_INVALID]');
    }
  });

  it('verify --json: the summary object goes to stderr too, stdout stays the results', async () => {
    const port = await closedPort();
    const out = sink();
    const err = sink();
    const code = await main(['verify', '--input', 'accounts.csv', '--output', '-', '--ldap', `ldaps://127.0.0.1:${port}`, '--json'], { stdout: out.w, stderr: err.w, cwd: dir, env: {} });
    expect(code).toBe(EXIT_CODES.unreachable);
    expect(out.text().trimEnd().split('\n').map((l) => (JSON.parse(l) as { code: string }).code)).toEqual(['net.refused', 'net.refused']);
    const summary = JSON.parse(err.text().slice(err.text().indexOf('{'))) as { output: string; total: number; exitCode: number };
    expect([summary.output, summary.total, summary.exitCode]).toEqual(['-', 2, EXIT_CODES.unreachable]);
  });

  it('cache purge --script-out -: the PowerShell script on stdout, byte for byte the file form; the rest on stderr', async () => {
    const args = ['cache', 'purge', '--from', FIXTURE, '--user', 'PAMTEST\\alice', '--host', 'web01.pamtest.local', '--changed-at', '2026-11-10T00:00:00Z', '--yes', '--audit', path.join(dir, 'audit.jsonl')];
    const toFile = await runCli([...args, '--script-out', 'purge.ps1'], { cwd: dir });
    const toStdout = await runCli([...args, '--script-out', '-'], { cwd: dir });
    expect([toFile.code, toStdout.code]).toEqual([EXIT_CODES.ok, EXIT_CODES.ok]);
    const script = fs.readFileSync(path.join(dir, 'purge.ps1'));
    expect(script.length).toBeGreaterThan(100);
    // the same bytes (a UTF-8 BOM first), but for the time the plan was made
    const when = (b: Buffer) => b.toString('latin1').replace(/plan created \S+;/, 'plan created T;');
    expect([...script.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(when(Buffer.from(toStdout.stdout, 'utf8'))).toBe(when(script));
    expect(toStdout.stderr).toContain('cmdkey /delete:Domain:target=TERMSRV/web01.pamtest.local');
    expect(toStdout.stderr).toContain('REM PowerShell script for the whole fleet: written to standard output');
    expect(toFile.stdout).toContain('cmdkey /delete:Domain:target=TERMSRV/web01.pamtest.local');
    expect(fs.existsSync(path.join(dir, '-'))).toBe(false);
  });

  it('where "-" cannot be stdout it is refused before anything runs: --script-out - with --json, --audit -, --html -, launch --rdp-file -', async () => {
    const base = ['cache', 'purge', '--from', FIXTURE, '--user', 'PAMTEST\\alice', '--host', 'web01.pamtest.local', '--changed-at', '2026-11-10T00:00:00Z', '--yes'];
    const j = await runCli([...base, '--script-out', '-', '--json'], { cwd: dir });
    expect([j.code, j.json.error.code]).toEqual([EXIT_CODES.usage, 'USAGE']);
    expect(j.json.error.message).toContain('--script-out - and --json would both write to standard output');
    const a = await runCli([...base, '--audit', '-'], { cwd: dir });
    expect(a.stderr).toContain('--audit takes a file name (the audit record is appended to and kept); "-" for standard output is not accepted here');
    const h = await runCli(['verify', '--input', 'accounts.csv', '--output', 'r.jsonl', '--ldap', 'ldaps://127.0.0.1:1', '--html', '-'], { cwd: dir });
    expect([h.code, h.stderr]).toEqual([EXIT_CODES.usage, 'credgate: --html takes a file name: standard output carries the command\'s own output (credgate report --out - prints a report there). [USAGE]\n']);
    const ho = await runCli(['verify', '--input', 'accounts.csv', '--output', '-', '--ldap', 'ldaps://127.0.0.1:1', '--html', 'r.html'], { cwd: dir });
    expect(ho.stderr).toContain('--html reports from the --output file, and --output - keeps none');
    const l = await runCli(['launch', '127.0.0.1:1', '--user', 'a', '--password-env', 'RDP_PW', '--rdp-file', '-', '--dry-run'], { cwd: dir, env: { RDP_PW: 'not-sent-anywhere-3' } });
    expect(l.code).toBe(EXIT_CODES.usage);
    expect(l.stderr).toContain('--rdp-file takes a file name (the RDP client reads it)');
    expect(fs.existsSync(path.join(dir, '-'))).toBe(false);
  });
});
