// `credgate report` and the --html option of verify, cache inspect, cache purge and doctor, run
// in-process with no lab (a closed loopback port for the directory and the RDP host): exit codes,
// the files written, errors naming the input and line, and no password in any report.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../../src/cli/main.js';
import { closedPort } from '../../helpers/servers.js';
import { assertNoLeak } from '../../helpers/cli.js';
import { verifyOutput, writeFleet } from './fixtures.js';
import { expectOwnMarkup } from './markup.js';

let dir: string;
let port: number;
const SECRETS = ['Pa55-w0rd-"one",', 'env-secret-pw-2', 'doctor-secret-pw-3'];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-report-cli-'));
  port = await closedPort();
  fs.writeFileSync(path.join(dir, 'verify.jsonl'), verifyOutput(200).text);
  writeFleet(path.join(dir, 'fleet'), 5, 20);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** All a stream carries until it ends. */
const collect = async (s: PassThrough): Promise<string> => {
  let text = '';
  for await (const c of s) text += String(c);
  return text;
};

/** The CLI in this process, in the test's folder; no output may carry a password. */
async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const [stdout, stderr] = [new PassThrough(), new PassThrough()];
  const texts = Promise.all([collect(stdout), collect(stderr)]);
  const code = await main(argv, { stdout, stderr, env, cwd: dir });
  stdout.end();
  stderr.end();
  const [out, err] = await texts;
  assertNoLeak(out + err, SECRETS, `credgate ${argv[0]} output`);
  return { code, out, err };
}
const page = (name: string) => {
  const text = fs.readFileSync(path.join(dir, name), 'utf8');
  expectOwnMarkup(text);
  assertNoLeak(text, SECRETS, name);
  return text;
};
// the cache command reads --from as given (relative to the process's directory): an absolute path
const inspectArgs = () => ['--from', path.join(dir, 'fleet'), '--account', 'PAMTEST\\svc-rdp', '--changed-at', '2026-11-01T00:00:00Z'];

describe('credgate report', () => {
  it('writes one report from several inputs of different kinds; --json says what it wrote', async () => {
    const inspect = await run(['cache', 'inspect', ...inspectArgs(), '--json']);
    expect(inspect.code).toBe(6);
    fs.writeFileSync(path.join(dir, 'inspect.json'), inspect.out);
    const r = await run(['report', '--from', 'verify.jsonl', 'inspect.json', '--out', 'r.html', '--title', 'Weekly <check>', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, exitCode: 0, report: path.join(dir, 'r.html'), inputs: [{ source: 'verify.jsonl', kind: 'verify' }, { source: 'inspect.json', kind: 'cache-inspect' }] });
    const html = page('r.html');
    expect(html).toContain('<title>Weekly &lt;check&gt;</title>');
    expect(html.match(/<section /g)).toHaveLength(2);
    const human = await run(['report', '--from', 'verify.jsonl', '--out', 'r2.html']);
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/^credgate report: 1 input \(verify\.jsonl: verify\) → .*r2\.html \(\d+ KB\)\n$/);
  });

  it('exits 2 on usage errors and on an input that is not one of credgate\'s outputs, naming the file and line; writes nothing then', async () => {
    fs.writeFileSync(path.join(dir, 'broken.jsonl'), verifyOutput(20).text + 'not json\n');
    const cases: Array<[string[], RegExp]> = [
      [['report', '--out', 'x.html'], /Give at least one input/],
      [['report', '--from', 'verify.jsonl'], /--out <report\.html> is required/],
      [['report', '--from', 'broken.jsonl', '--out', 'x.html'], /broken\.jsonl line 21: not a JSON record/],
      [['report', '--from', 'nope.json', '--out', 'x.html'], /Cannot read nope\.json \(ENOENT\)/],
      [['report', '--from', 'verify.jsonl', '--out', 'no/such/dir/x.html'], /Cannot write the report no\/such\/dir\/x\.html \(ENOENT\)/],
      [['report', '--from', 'verify.jsonl', '--out', 'fleet'], /Cannot write the report fleet \(EISDIR\)/],
      [['report', '--from', 'verify.jsonl', '--out', './verify.jsonl'], /would replace one of the command's own files/],
      [['report', '--from', 'verify.jsonl', '--out', 'x.html', '--secret', 'hunter2'], /unknown option/],
    ];
    for (const [argv, want] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(want);
    }
    expect(fs.existsSync(path.join(dir, 'x.html'))).toBe(false);
  });
});

describe('--html on the commands that make the inputs', () => {
  it('cache inspect and cache purge write the report of their run (the same as report --from their --json)', async () => {
    const r = await run(['cache', 'inspect', ...inspectArgs(), '--html', 'inspect.html']);
    expect(r.code).toBe(6);
    expect(r.err).toContain(`credgate: report written to ${path.join(dir, 'inspect.html')}`);
    const own = page('inspect.html');
    expect(own).toContain('data-section="cache-inspect"');
    fs.writeFileSync(path.join(dir, 'i2.json'), (await run(['cache', 'inspect', ...inspectArgs(), '--json'])).out);
    expect((await run(['report', '--from', 'i2.json', '--out', 'i2.html'])).code).toBe(0);
    // the same page but for the input's name and the time it was made
    const strip = (s: string) => s.replace(/Made [^<]*/, '').replace(/(Cache inspection ·|class="source">)[^<]*/g, '$1');
    expect(strip(page('i2.html'))).toBe(strip(own));
    const p = await run(['cache', 'purge', ...inspectArgs(), '--html', 'purge.html', '--json']);
    expect(p.code).toBe(6);
    expect(page('purge.html')).toContain(`${JSON.parse(p.out).plan.items.length} entries planned for purge on 5 machines`);
    // a purge that acts (fleet input: nothing to delete here, the commands and a script are emitted)
    const planned = JSON.parse(p.out).plan.items.length;
    const y = await run(['cache', 'purge', ...inspectArgs(), '--yes', '--audit', path.join(dir, 'audit.jsonl'), '--script-out', path.join(dir, 'purge.ps1'), '--html', 'purged.html']);
    expect(y.code).toBe(0);
    const purged = page('purged.html');
    expect(purged).toContain(`0 deleted, ${planned} left to the emitted commands, 0 failed`);
    expect(purged).toMatch(/data-tile="emitted"><div class="tile-value">(\d+)</);
    expect((await run(['cache', 'list', '--from', path.join(dir, 'fleet'), '--html', 'l.html'])).code).toBe(2);
  });

  it('verify --html reports the output file (no password in it); a report that cannot be written fails before any bind', async () => {
    const csv = ['username,password,password_env', `alice@corp.example,"${SECRETS[0]!.replace(/"/g, '""')}",`, 'bob@corp.example,,PW_ENV', 'bad line'].join('\n') + '\n';
    fs.writeFileSync(path.join(dir, 'in.csv'), csv);
    const args = ['verify', '--input', 'in.csv', '--output', 'out.jsonl', '--ldap', `ldaps://127.0.0.1:${port}`, '--timeout', '2000'];
    const bad = await run([...args, '--html', 'missing/r.html'], { PW_ENV: SECRETS[1]! });
    expect(bad.code).toBe(2);
    expect(fs.existsSync(path.join(dir, 'out.jsonl'))).toBe(false);
    const same = await run([...args, '--html', 'out.jsonl'], { PW_ENV: SECRETS[1]! });
    expect([same.code, same.err]).toEqual([2, "credgate: The HTML report would replace one of the command's own files; give it another name. [USAGE]\n"]);
    expect(fs.existsSync(path.join(dir, 'out.jsonl'))).toBe(false);
    const r = await run([...args, '--html', 'verify.html'], { PW_ENV: SECRETS[1]! });
    expect(r.code).toBe(4);
    const html = page('verify.html');
    expect(html).toContain('2 of 2 accounts failed');
    expect(html).toMatch(/data-label="net\.refused" data-value="2"/);
    expect(html).toContain('1 bad input line');
  });

  it('doctor --html reports the verdict (no password in it)', async () => {
    const r = await run(['doctor', '--host', `127.0.0.1:${port}`, '--account', 'alice@corp.example', '--password-env', 'PW', '--deadline', '3000', '--html', 'doctor.html'], { PW: SECRETS[2]! });
    expect(r.code).toBe(4);
    const html = page('doctor.html');
    expect(html).toContain('WILL FAIL · alice@corp.example → 127.0.0.1:');
    expect(html).toContain('data-section="doctor"');
    expect(html).toContain('net.refused');
  });
});
