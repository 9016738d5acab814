// The CLI on win32: exit codes and --json, Windows paths (drive letter, backslashes, spaces,
// non-ASCII) for --from, --output, --audit and --script-out, and non-ASCII in what it prints.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { runCli, BIN, ROOT } from './helpers/cli.js';
import { wineVersion } from './helpers/win32.js';

const win = process.platform === 'win32';
const fixture = (f: string) => path.join(ROOT, 'test', 'fixtures', 'cache', f);
let work: string;
let inDir: string;
let collector: string;

beforeAll(() => {
  if (!win) return;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cg cli '));
  inDir = path.join(work, 'fleet in');
  fs.mkdirSync(inDir);
  collector = path.join(inDir, 'collector ws0107.json');
  fs.copyFileSync(fixture('collector-ws0107.ps51.json'), collector);
  fs.copyFileSync(fixture('collector-ws0042.json'), path.join(inDir, 'ws0042.json'));
});
afterAll(() => {
  if (win) fs.rmSync(work, { recursive: true, force: true });
});

const FLEET = ['--account', 'svc-rdp@pamtest.local', '--changed-at', '2026-11-10T00:00:00Z'];

describe.runIf(win)('the CLI on win32', () => {
  it('runs as win32 on a drive-letter path', () => {
    expect(process.platform).toBe('win32');
    expect(BIN).toMatch(/^[A-Za-z]:\\.*\\bin\\credgate\.mjs$/);
  });

  it('exit codes: --version 0, no command 2, unknown command 2, a bad option value 2 with the option named and the value never echoed', async () => {
    const v = await runCli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^credgate \d+\.\d+\.\d+\r?\n$/);
    expect((await runCli([])).code).toBe(2);
    const u = await runCli(['nope']);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('unknown command (not shown: it may be a password)');
    expect(u.stderr).not.toContain('nope');
    const d = await runCli(['cache', 'inspect', '--from', collector, '--changed-at', 'yesterday']);
    expect(d.code).toBe(2);
    expect(d.stderr).toContain('--changed-at expects an ISO date (2026-11-25T10:00:00Z)');
    expect(d.stderr).not.toContain('yesterday');
  });

  it('--from "<drive>:\\...\\with spaces\\file.json": read, and named with its backslashes in --json', async () => {
    expect(collector).toMatch(/^[A-Za-z]:\\.* .*\\collector ws0107\.json$/);
    const r = await runCli(['cache', 'list', '--from', collector, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.entries).toHaveLength(4);
    expect(r.json.entries[0]).toMatchObject({ machine: 'WS-0107', source: `collector:${collector}` });
    expect(r.stdout).toContain(JSON.stringify(`collector:${collector}`)); // backslashes JSON-escaped, not turned into slashes
  });

  it('--from: a directory with a trailing backslash, a relative .\\path, forward slashes, and a missing file (exit 2 naming it)', async () => {
    const dir = await runCli(['cache', 'list', '--from', `${inDir}\\`, '--json']);
    expect(dir.code, dir.stderr).toBe(0);
    expect(new Set((dir.json.entries as Array<{ machine: string }>).map((e) => e.machine))).toEqual(new Set(['WS-0107', 'WS-0042']));
    const rel = await runCli(['cache', 'list', '--from', '.\\fleet in\\collector ws0107.json', '--json'], { cwd: work });
    expect(rel.code, rel.stderr).toBe(0);
    expect(rel.json.entries).toHaveLength(4);
    const fwd = await runCli(['cache', 'list', '--from', collector.replace(/\\/g, '/'), '--json']);
    expect(fwd.code, fwd.stderr).toBe(0);
    expect(fwd.json.entries).toHaveLength(4);
    const missing = path.join(work, 'no such dir', 'x.json');
    const m = await runCli(['cache', 'list', '--from', missing]);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain(missing);
  });

  it('inspect --json on fleet input: exit 6 and exitCode 6 for stale entries; 0 when nothing predates the change', async () => {
    const r = await runCli(['cache', 'inspect', '--from', collector, ...FLEET, '--json']);
    expect(r.code).toBe(6);
    expect(r.json).toMatchObject({ ok: false, exitCode: 6, code: 'cache.stale-password' });
    const clean = await runCli(['cache', 'inspect', '--from', collector, '--account', 'svc-rdp@pamtest.local', '--host', '10.20.0.15', '--changed-at', '2020-01-01T00:00:00Z', '--json']);
    expect(clean.code).toBe(0);
    expect(clean.json).toMatchObject({ ok: true, exitCode: 0, considered: 1 });
    expect((clean.json.findings as Array<{ code: string }>).map((f) => f.code)).not.toContain('cache.stale-password');
  });

  it('purge --yes on fleet input: --audit and --script-out to "<drive>:\\...\\with spaces\\..." paths; the .cmd lines in CRLF', async () => {
    const audit = path.join(work, 'audit dir', 'purge audit.jsonl');
    const script = path.join(work, 'out dir', 'purge script.ps1');
    fs.mkdirSync(path.dirname(audit));
    fs.mkdirSync(path.dirname(script));
    const r = await runCli(['cache', 'purge', '--from', collector, ...FLEET, '--yes', '--audit', audit, '--script-out', script, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ dryRun: false, mode: 'emit', audit, script });
    expect(r.json.items.map((i: { rawTarget: string }) => i.rawTarget)).toEqual(['Domain:target=TERMSRV/WEB01.pamtest.local.']);
    const bytes = fs.readFileSync(script);
    // UTF-8 with a BOM, so Windows PowerShell 5.1 and PowerShell 7 read it alike (docs/security.md)
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const ps1 = bytes.subarray(3).toString('utf8');
    expect(ps1).toMatch(/^# credgate purge plan: /);
    expect(ps1).toContain("\r\n$plan = @{\r\n  'WS-0107' = @('TERMSRV/WEB01.pamtest.local.')\r\n}\r\n");
    expect(fs.readFileSync(audit, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l).phase)).toEqual(['planned']);
    // the human form: a .cmd to run on each machine, CRLF lines
    const human = await runCli(['cache', 'purge', '--from', collector, ...FLEET, '--yes', '--audit', audit]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`REM credgate purge: run on each machine as a .cmd file (audit record: ${audit})`);
    expect(human.stdout).toContain('\r\ncmdkey /delete:Domain:target=TERMSRV/WEB01.pamtest.local.\r\n');
  });

  it('verify --input and --output "<drive>:\\...\\with spaces\\...": results written there and resumed from there', async () => {
    const input = path.join(work, 'accounts in', 'accounts list.csv');
    const output = path.join(work, 'results out', 'results file.jsonl');
    fs.mkdirSync(path.dirname(input));
    fs.mkdirSync(path.dirname(output));
    fs.writeFileSync(input, 'account,password_env\r\nalice@corp.example,CG_VERIFY_PW\r\nbob@corp.example,CG_VERIFY_PW\r\n');
    // a loopback port with nothing on it: every bind is unreachable, exit 4, and still written
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const secret = `Vfy-${randomBytes(9).toString('base64url')}`;
    const args = ['verify', '--input', input, '--output', output, '--ldap', `ldaps://127.0.0.1:${port}`, '--json'];
    const r = await runCli(args, { env: { CG_VERIFY_PW: secret }, secrets: [secret] });
    expect(r.code, r.stderr).toBe(4);
    expect(r.json).toMatchObject({ total: 2, byCode: { 'net.refused': 2 }, output });
    const lines = fs.readFileSync(output, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.account, l.code])).toEqual([['alice@corp.example', 'net.refused'], ['bob@corp.example', 'net.refused']]);
    expect(fs.readFileSync(output, 'utf8')).not.toContain(secret);
    const again = await runCli(args, { env: { CG_VERIFY_PW: secret }, secrets: [secret] });
    expect(again.json.previousRecords).toBe(2);
  });

  it('non-ASCII: a cmdkey capture in code page 850 at a path with umlauts, listed in UTF-8 (stdout is a pipe here; a console gets UTF-16 through WriteConsoleW)', async () => {
    const dir = path.join(work, 'Prüfung ñ');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'cmdkey müller.txt');
    fs.copyFileSync(fixture('cmdkey-de.cp850.txt'), file);
    const r = await runCli(['cache', 'list', '--from', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/TERMSRV\/web01\.pamtest\.local +domain-password +PAMTEST\\jürgen\.müller /);
    expect(r.stdoutBytes.includes(Buffer.from('PAMTEST\\jürgen.müller', 'utf8'))).toBe(true);
    expect(r.stderr).toContain(`${file}: not UTF-8 or UTF-16; read as OEM code page 850 (cmd.exe redirect)`);
    const j = await runCli(['cache', 'list', '--from', file, '--json']);
    expect(j.json.entries[0]).toMatchObject({ username: 'PAMTEST\\jürgen.müller', source: `cmdkey:${file}` });
  });

  it('stdout and stderr on NUL (a scheduled task): exit 0 on Windows; under Wine a process that loaded koffi ends with 0xC0000409', async () => {
    const exitOf = (args: string[]) => new Promise<number | null>((resolve) => {
      const c = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore', windowsHide: true });
      c.on('close', resolve);
    });
    // no koffi: fleet input
    expect(await exitOf(['cache', 'list', '--from', collector])).toBe(0);
    // koffi: the live Credential Manager
    const live = await exitOf(['cache', 'list']);
    if (wineVersion()) {
      // Wine: koffi's exit-time flush of a NUL standard handle fails ("Failed to sync '<stdout>': Access
      // denied") and its report to a NUL stderr aborts with STATUS_STACK_BUFFER_OVERRUN
      expect(live).toBe(0xc0000409);
    } else {
      expect(live).toBe(0);
    }
  });
});
