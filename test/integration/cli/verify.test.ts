// `credgate verify` as a user runs it: a real process over files, against the lab's slapd.
// The CLI is bundled from src/ for this test (esbuild, ~20 ms) so it tests the source as it is,
// whatever state dist/ is in; it is started exactly like bin/credgate.mjs starts dist.
// Every test scans stdout, stderr and the output file for every password it used.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { slapd, allLabPasswords, type SlapdState } from '../../lab/state.js';
import { labDir } from '../../lab/lab.mjs';
import { freePort } from '../../lab/proc.mjs';
import { assertNoLeak } from '../../helpers/cli.js';
import { bundleCli } from '../../helpers/cli-bundle.js';

let lab: SlapdState;
let dir: string;
let bin: string;
let cli: Awaited<ReturnType<typeof bundleCli>> | undefined;
const WRONG = 'not-the-"pass,word"';
const ENV_PW_NAME = 'BULK_TEST_PW';

beforeAll(async () => {
  lab = slapd();
  dir = path.join(labDir as string, `bulk-cli-${process.pid}`);
  fs.mkdirSync(dir, { recursive: true });
  cli = await bundleCli();
  bin = cli.bin;
});

afterAll(() => {
  cli?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Run { code: number | null; stdout: string; stderr: string; output: string }

function run(args: string[], { env = {}, signalAfter }: { env?: Record<string, string>; signalAfter?: (child: ReturnType<typeof spawn>, stderr: () => string) => void } = {}): Promise<Run> {
  const child = spawn(process.execPath, [bin, 'verify', ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  signalAfter?.(child, () => stderr);
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    const outFile = args[args.indexOf('--output') + 1]!;
    const output = fs.existsSync(path.join(dir, outFile)) ? fs.readFileSync(path.join(dir, outFile), 'utf8') : '';
    const secrets = [...allLabPasswords(), WRONG, 'env-secret-pw'];
    assertNoLeak(stdout, secrets, 'stdout of credgate verify');
    assertNoLeak(stderr, secrets, 'stderr of credgate verify');
    assertNoLeak(output, secrets, 'the results file');
    resolve({ code, stdout, stderr, output });
  }));
}

const records = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
const dn = (uid: string) => `uid=${uid},ou=people,${lab.suffix}`;
const csvQuote = (s: string) => `"${s.replace(/"/g, '""')}"`;
const base = () => ['--ldap', lab.ldapsUrl, '--ca-file', lab.caFile];

describe('credgate verify', () => {
  it('a CSV with every state, quoting, password_env and bad lines: per-line results, summary, exit code', async () => {
    const rows = [
      'id,username,password,password_env',
      `good,${csvQuote(dn('good'))},${lab.password},`,
      `wrong,${csvQuote(dn('wrongpw'))},${csvQuote(WRONG)},`,
      `locked,${csvQuote(dn('locked'))},${lab.password},`,
      `expired,${csvQuote(dn('expired'))},${lab.password},`,
      `envpw,${csvQuote(dn('bench1'))},,${ENV_PW_NAME}`,
      `nopw,${csvQuote(dn('bench2'))},,`,
      `badquote,uid=bench3 "x",${lab.benchPassword},`,
      'short,only-two',
      ...Array.from({ length: 20 }, (_, i) => `b${i},${csvQuote(dn(`bench${10 + i}`))},${lab.benchPassword},`),
    ];
    fs.writeFileSync(path.join(dir, 'in.csv'), rows.join('\r\n') + '\r\n');
    const r = await run(['--input', 'in.csv', '--output', 'out.jsonl', '--overwrite', ...base(), '--concurrency', '4'], { env: { [ENV_PW_NAME]: lab.benchPassword } });
    const recs = records(r.output);
    const by = (id: string) => recs.find((x) => x.id === id)!;
    expect(by('good')).toMatchObject({ ok: true, code: 'ldap.ok', line: 2 });
    expect(by('wrong')).toMatchObject({ ok: false, code: 'ldap.invalid-credentials', line: 3 });
    expect(by('locked')).toMatchObject({ code: 'ldap.account-locked', line: 4 });
    expect(by('expired')).toMatchObject({ code: 'ldap.password-expired', line: 5 });
    expect(by('envpw')).toMatchObject({ ok: true, line: 6 });
    const bad = recs.filter((x) => x.code === 'input.invalid');
    expect(bad.map((x) => x.line).sort()).toEqual([7, 8, 9]);
    for (const l of [7, 8, 9]) expect(r.stderr).toMatch(new RegExp(`in\\.csv line ${l}: .*skipped`));
    expect(recs.filter((x) => x.ok)).toHaveLength(22);
    expect(recs).toHaveLength(28);
    // the most basic failure (account unusable) decides: exit 3
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/25 checked.*3 bad input lines/);
    expect(r.stdout).toMatch(/ldap\.ok\s+22/);
    expect(r.stdout).toMatch(/ldap\.account-locked\s+1/);
    expect(r.stdout).toMatch(/input\.invalid\s+3/);
  });

  it('JSON Lines, --json summary, and resume: a rerun checks only what is new or was cut off', async () => {
    const line = (i: number) => JSON.stringify({ user: dn(`bench${i}`), password: lab.benchPassword });
    fs.writeFileSync(path.join(dir, 'in.jsonl'), Array.from({ length: 30 }, (_, i) => line(i)).join('\n') + '\n');
    const first = await run(['--input', 'in.jsonl', '--output', 'res.jsonl', '--overwrite', ...base(), '--json']);
    expect(first.code).toBe(0);
    const j1 = JSON.parse(first.stdout);
    expect(j1).toMatchObject({ ok: true, exitCode: 0, total: 30, valid: 30, skipped: 0, byCode: { 'ldap.ok': 30 } });
    // a crash cut the last record in half, and 10 accounts were added to the input
    const out = fs.readFileSync(path.join(dir, 'res.jsonl'), 'utf8');
    const cut = out.slice(0, out.length - 40);
    fs.writeFileSync(path.join(dir, 'res.jsonl'), cut);
    fs.appendFileSync(path.join(dir, 'in.jsonl'), Array.from({ length: 10 }, (_, i) => line(30 + i)).join('\n') + '\n');
    const second = await run(['--input', 'in.jsonl', '--output', 'res.jsonl', ...base(), '--json']);
    const j2 = JSON.parse(second.stdout);
    expect(j2).toMatchObject({ total: 11, skipped: 29, valid: 11, exitCode: 0 });
    const recs = records(second.output.split('\n').filter((l) => { try { JSON.parse(l); return true; } catch { return false; } }).join('\n'));
    expect(new Set(recs.map((x) => x.account)).size).toBe(40);
    expect(recs).toHaveLength(40);
  });

  it('resume never resends a bind whose answer was lost (bound: true); only accounts never bound are retried; the lost ones stay unresolved (exit 4)', async () => {
    // an earlier run's output, as credgate writes it: the DC died with binds in flight
    const rec = (uid: string, code: string, category: string, bound: boolean, line: number) =>
      JSON.stringify({ line, account: dn(uid), ok: code === 'ldap.ok', code, category, exitCode: code === 'ldap.ok' ? 0 : 4, bound, url: lab.ldapsUrl, ms: 1, findings: [] });
    fs.writeFileSync(path.join(dir, 'lost-out.jsonl'), [
      rec('bench40', 'net.connection-lost', 'unreachable', true, 1), // sent, answer lost
      rec('bench41', 'net.timeout', 'unreachable', true, 2), // sent, no answer in time
      rec('bench42', 'net.refused', 'unreachable', false, 3), // never sent: retried
      rec('bench43', 'ldap.ok', 'ok', true, 4),
      rec('bench43', 'net.connection-lost', 'unreachable', true, 4), // a later line of the same account, lost
      rec('bench44', 'net.connection-lost', 'unreachable', true, 5),
      rec('bench44', 'net.refused', 'unreachable', false, 5), // a lost bind stays lost whatever follows
    ].join('\n') + '\n');
    // the lost accounts get a WRONG password now: if credgate bound them again, the output would
    // show ldap.invalid-credentials for them
    const users = ['bench40', 'bench41', 'bench42', 'bench43', 'bench44', 'bench45'];
    const lost = new Set(['bench40', 'bench41', 'bench43', 'bench44']);
    fs.writeFileSync(path.join(dir, 'lost.jsonl'), users.map((u) => JSON.stringify({ user: dn(u), password: lost.has(u) ? WRONG : lab.benchPassword })).join('\n') + '\n');
    const before = fs.readFileSync(path.join(dir, 'lost-out.jsonl'), 'utf8');
    const r = await run(['--input', 'lost.jsonl', '--output', 'lost-out.jsonl', ...base(), '--json']);
    // everything bound now passes, but 4 accounts have no answer: unresolved, counted apart, exit 4
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, total: 2, valid: 2, skipped: 0, lost: 4, exitCode: 4, worstCode: 'net.connection-lost', previousRecords: 7 });
    expect(r.code).toBe(4);
    expect(r.output.startsWith(before)).toBe(true);
    const added = records(r.output.slice(before.length));
    expect(added.map((x) => x.account).sort()).toEqual([dn('bench42'), dn('bench45')]);
    expect(added.every((x) => x.ok && x.bound)).toBe(true);
    // and a third run binds nothing at all
    const again = await run(['--input', 'lost.jsonl', '--output', 'lost-out.jsonl', ...base(), '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ total: 0, skipped: 2, lost: 4, exitCode: 4 });
    expect(again.code).toBe(4);
    expect(again.output).toBe(r.output);
    // the human summary names them on their own line
    const human = await run(['--input', 'lost.jsonl', '--output', 'lost-out.jsonl', ...base()]);
    expect(human.code).toBe(4);
    expect(human.stdout).toMatch(/0 checked .*, 2 skipped \(already answered\), 4 unresolved \(answer lost earlier\)/);
    expect(human.stdout).toMatch(/^ {2}unresolved\s+4 {2}An earlier run sent the bind and lost its answer; not resent/m);
    expect(human.output).toBe(r.output);
    // a lost account beside a rejected one: the most basic failure (unreachable) decides
    fs.writeFileSync(path.join(dir, 'lost2.jsonl'), [JSON.stringify({ user: dn('bench41'), password: WRONG }), JSON.stringify({ user: dn('bench46'), password: WRONG })].join('\n') + '\n');
    const mixed = await run(['--input', 'lost2.jsonl', '--output', 'lost-out.jsonl', ...base(), '--json']);
    expect(JSON.parse(mixed.stdout)).toMatchObject({ total: 1, failed: 1, lost: 1, byCode: { 'ldap.invalid-credentials': 1 }, worstCode: 'net.timeout', exitCode: 4 });
    expect(mixed.code).toBe(4);
  });

  it('an output whose accounts are all answered and none lost still exits 0 on a rerun (lost: 0)', async () => {
    const rec = (uid: string, line: number) => JSON.stringify({ line, account: dn(uid), ok: true, code: 'ldap.ok', category: 'ok', exitCode: 0, bound: true, url: lab.ldapsUrl, ms: 1, findings: [] });
    fs.writeFileSync(path.join(dir, 'done-out.jsonl'), [rec('bench47', 1), rec('bench48', 2)].join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'done.jsonl'), ['bench47', 'bench48'].map((u) => JSON.stringify({ user: dn(u), password: WRONG })).join('\n') + '\n');
    const r = await run(['--input', 'done.jsonl', '--output', 'done-out.jsonl', ...base(), '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, total: 0, skipped: 2, lost: 0, exitCode: 0 });
    expect(r.code).toBe(0);
  });

  it('resume does not repeat bad input lines: not appended, not counted again; a new bad line is', async () => {
    const rows = [
      'username,password',
      `${csvQuote(dn('bench50'))},${lab.benchPassword}`,
      'only-one-field',
      `${csvQuote(dn('bench51'))},`,
      `${csvQuote(dn('bench52'))},${lab.benchPassword}`,
    ];
    fs.writeFileSync(path.join(dir, 'bad.csv'), rows.join('\n') + '\n');
    const args = ['--input', 'bad.csv', '--output', 'bad-out.jsonl', ...base(), '--json'];
    const first = await run([...args, '--overwrite']);
    expect(first.code).toBe(2);
    expect(JSON.parse(first.stdout)).toMatchObject({ total: 2, valid: 2, badLines: 2, badLinesAlreadyRecorded: 0, exitCode: 2 });
    const bad = (out: string) => records(out).filter((x) => x.code === 'input.invalid').map((x) => x.line);
    expect(bad(first.output)).toEqual([3, 4]);
    for (let i = 0; i < 2; i++) {
      const again = await run(args);
      expect(JSON.parse(again.stdout)).toMatchObject({ total: 0, skipped: 2, badLines: 0, badLinesAlreadyRecorded: 2, exitCode: 0 });
      expect(again.stderr).not.toMatch(/line \d+:.*skipped/);
      expect(again.output).toBe(first.output);
    }
    // a bad line added to the input is reported and recorded once
    fs.appendFileSync(path.join(dir, 'bad.csv'), 'x,y,z\n');
    const more = await run(args);
    expect(JSON.parse(more.stdout)).toMatchObject({ total: 0, badLines: 1, badLinesAlreadyRecorded: 2, exitCode: 2 });
    expect(more.stderr).toMatch(/bad\.csv line 6: .*skipped/);
    expect(bad(more.output)).toEqual([3, 4, 6]);
  });

  it('an unreachable directory: every account net.refused, exit 4, and a rerun checks them again', async () => {
    fs.writeFileSync(path.join(dir, 'u.jsonl'), Array.from({ length: 12 }, (_, i) => JSON.stringify({ user: dn(`bench${i}`), password: lab.benchPassword })).join('\n'));
    const dead = `ldaps://127.0.0.1:${await freePort()}`;
    const r = await run(['--input', 'u.jsonl', '--output', 'u-out.jsonl', '--overwrite', '--ldap', dead, '--ca-file', lab.caFile, '--json']);
    expect(r.code).toBe(4);
    const recs = records(r.output);
    expect(recs).toHaveLength(12);
    expect(recs.every((x) => x.code === 'net.refused' && !x.ok && !x.bound)).toBe(true);
    const again = await run(['--input', 'u.jsonl', '--output', 'u-out.jsonl', ...base(), '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ total: 12, valid: 12, skipped: 0, exitCode: 0 });
  });

  it('SIGINT finishes the binds in flight, flushes, exits 130; the rerun completes the rest', async () => {
    const n = 200;
    fs.writeFileSync(path.join(dir, 'big.jsonl'), Array.from({ length: n }, (_, i) => JSON.stringify({ user: dn(`bench${i}`), password: lab.benchPassword })).join('\n'));
    const args = ['--input', 'big.jsonl', '--output', 'big-out.jsonl', ...base(), '--rate', '60', '--progress-interval', '1'];
    const r = await run([...args, '--overwrite'], {
      signalAfter: (child, stderr) => {
        const t = setInterval(() => {
          if (/credgate verify: \d+ done/.test(stderr())) {
            clearInterval(t);
            child.kill('SIGINT');
          }
        }, 50);
      },
    });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted by SIGINT; finishing the binds in flight/);
    expect(r.stdout).toMatch(/Interrupted: rerun/);
    const recs = records(r.output); // every line is complete JSON
    expect(recs.length).toBeGreaterThan(20);
    expect(recs.length).toBeLessThan(n);
    expect(recs.every((x) => x.ok)).toBe(true);
    const rest = await run(args);
    expect(rest.code).toBe(0);
    const all = records(rest.output);
    expect(all).toHaveLength(n);
    expect(new Set(all.map((x) => x.account)).size).toBe(n);
  });

  it('refuses a password on the command line and names missing options', async () => {
    const r = await run(['--input', 'in.csv', '--output', 'x.jsonl', ...base(), '--password', 'env-secret-pw']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/never taken on the command line/);
    const m = await run(['--output', 'x.jsonl', ...base()]);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/--input/);
  });

  it('draws a progress bar with rate and ETA on a terminal', async () => {
    const { main } = await import('../../../src/cli/main.js');
    const { Writable } = await import('node:stream');
    fs.writeFileSync(path.join(dir, 'tty.jsonl'), Array.from({ length: 60 }, (_, i) => JSON.stringify({ user: dn(`bench${i}`), password: lab.benchPassword })).join('\n'));
    let err = '';
    let out = '';
    const stderr = Object.assign(new Writable({ write(c, _e, cb) { err += String(c); cb(); } }), { isTTY: true });
    const stdout = new Writable({ write(c, _e, cb) { out += String(c); cb(); } });
    const code = await main(['verify', '--input', 'tty.jsonl', '--output', 'tty-out.jsonl', '--overwrite', ...base(), '--rate', '100'], { stdout, stderr, env: { NO_COLOR: '1' }, cwd: dir });
    expect(code).toBe(0);
    expect(err).toMatch(/\r\u001b\[2K\[#+-*\] \d+ done, 0 failed, \d+\/s, \d+% of 60 accounts, ETA \d+:\d\d/);
    // the bar follows the accounts done, not the bytes read (the whole file is read at once)
    const pct = [...err.matchAll(/(\d+) done, 0 failed, \d+\/s, (\d+)% of 60 accounts/g)].map((m) => [Number(m[1]), Number(m[2])]);
    for (const [done, p] of pct) expect(p).toBe(Math.floor((done! * 100) / 60));
    expect(err).toMatch(/\[#{24}\] 60 done/);
    expect(out).toMatch(/60 checked/);
    assertNoLeak(err + out, allLabPasswords(), 'terminal output');
  });
});
