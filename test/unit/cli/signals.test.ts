// Every terminating signal stops a command that sends credentials the way Ctrl-C does (issue 14,
// defect 2): no credential is sent after it, the bind in flight finishes and is recorded, the
// process exits 128 + n (SIGHUP 129, SIGINT 130, SIGTERM 143); a second signal quits at once.
// Real credgate processes (bundled from src/) against a scripted loopback LDAPS server that
// answers every bind with AD's 52e (wrong password) after a delay, as the red team's server did.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeCA, issueCert } from '../../lab/pki.mjs';
import { AD_52E, ldapResult, scriptedLdapServer, type ScriptedLdapServer } from '../../helpers/ldap-server.js';
import { fakeNlaHost, closedPort } from '../../helpers/servers.js';
import { bundleCli } from '../../helpers/cli-bundle.js';
import { assertNoLeak } from '../../helpers/cli.js';

const PW = 'Signal-Test-Pw-31';
const DELAY = 1200;

let dir: string;
let bin: string;
let cli: Awaited<ReturnType<typeof bundleCli>> | undefined;
let pki: { cert: Buffer; key: Buffer; caFile: string };
let srv: ScriptedLdapServer;
/**
 * How the server answers each test's binds (the tests run at once): by the first word of the bind
 * name (CN=<word>-...), a delay (0 for a rerun) and a result code (49 with AD's 52e, or 0).
 */
const behaviour = new Map<string, { delay: number; result: number }>();
const word = (name: string | undefined) => /^CN=([A-Za-z0-9]+)-/.exec(name ?? '')?.[1] ?? '';
const bindsOf = (w: string) => srv.requests.filter((r) => r.op === 0x60 && word(r.name) === w).length;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-signals-'));
  const ca = await makeCA(path.join(dir, 'ca'));
  const leaf = await issueCert(ca, 'ldap', { cn: '127.0.0.1', sans: ['IP:127.0.0.1'] });
  pki = { cert: fs.readFileSync(leaf.cert), key: fs.readFileSync(leaf.key), caFile: ca.cert };
  cli = await bundleCli();
  bin = cli.bin;
  srv = await scriptedLdapServer((r, s) => {
    if (r.op !== 0x60) return;
    const { delay, result } = behaviour.get(word(r.name)) ?? { delay: DELAY, result: 49 };
    const answer = ldapResult(r.messageId, 0x61, result, result ? AD_52E : '');
    setTimeout(() => s.write(answer), delay);
  }, pki);
});
afterAll(async () => {
  await srv?.close();
  cli?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }

/** Run credgate; send `signals` (one after another, 100 ms apart) once the server holds `binds` more binds of the test's `word`. */
function run(args: string[], o: { word?: string; signals?: NodeJS.Signals[]; binds?: number; env?: Record<string, string> } = {}): Promise<Run> {
  const before = bindsOf(o.word ?? '');
  const t0 = performance.now();
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', NO_COLOR: '1', PW, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const poll = o.signals && setInterval(() => {
    if (bindsOf(o.word ?? '') - before < (o.binds ?? 1)) return;
    clearInterval(poll);
    o.signals!.forEach((sig, i) => setTimeout(() => child.kill(sig), i * 100));
  }, 20);
  const guard = setTimeout(() => child.kill('SIGKILL'), 25_000);
  return new Promise((resolve) => child.on('close', (code, signal) => {
    clearTimeout(guard);
    if (poll) clearInterval(poll);
    assertNoLeak(stdout + stderr, [PW], `the output of credgate ${args[0]}`);
    resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 });
  }));
}

const records = (file: string) => fs.readFileSync(path.join(dir, file), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe.concurrent('verify: a signal finishes and records the binds in flight, and the rerun does not send them again', () => {
  it.each([['SIGTERM', 143], ['SIGHUP', 129], ['SIGINT', 130]] as const)('%s → exit %i', async (sig, exit) => {
    behaviour.set(sig, { delay: DELAY, result: 49 });
    const users = Array.from({ length: 20 }, (_, i) => `CN=${sig}-u${i + 1},CN=Users,DC=corp,DC=example`);
    fs.writeFileSync(path.join(dir, `${sig}.jsonl`), users.map((u) => JSON.stringify({ user: u, password_env: 'PW' })).join('\n') + '\n');
    const args = ['verify', '--input', `${sig}.jsonl`, '--output', `${sig}-out.jsonl`, '--ldap', srv.url, '--ca-file', pki.caFile, '--concurrency', '2', '--progress-interval', '60'];
    const r = await run(args, { word: sig, signals: [sig], binds: 2 });
    expect({ code: r.code, signal: r.signal }).toEqual({ code: exit, signal: null });
    expect(r.stderr).toContain(`credgate verify: interrupted by ${sig}; finishing the binds in flight`);
    // the two binds in flight were answered and written; nothing was sent after the signal
    const recs = records(`${sig}-out.jsonl`);
    expect(recs.map((x) => [x.code, x.bound])).toEqual([['ldap.invalid-credentials', true], ['ldap.invalid-credentials', true]]);
    expect(users.reduce((n, u) => n + srv.binds(u), 0)).toBe(2);
    // the progress line says what was done: 2 of 20 accounts, not 100% of the bytes read
    expect(r.stderr).toMatch(/credgate verify: 2 done, 2 failed, \d+\/s, 10% of ~?20 accounts\n/);
    expect(r.stdout).toContain(`interrupted by ${sig}`);
    // the rerun binds the 18 others, each once, and never the two answered ones again
    behaviour.set(sig, { delay: 0, result: 49 });
    const rest = await run(args);
    expect(rest.code).toBe(1);
    expect(records(`${sig}-out.jsonl`)).toHaveLength(20);
    for (const u of users) expect(srv.binds(u)).toBe(1);
  });
});

describe.concurrent('check, doctor and launch: the bind in flight is answered and reported, then exit 128 + n', () => {
  const user = (w: string) => `CN=${w}-one,CN=Users,DC=corp,DC=example`;

  it('check --json, SIGTERM while the bind is in flight: the verdict of that bind, stoppedBy, exit 143', async () => {
    const r = await run(['check', '--ldap', srv.url, '--ca-file', pki.caFile, '--user', user('check'), '--password-env', 'PW', '--json'], { word: 'check', signals: ['SIGTERM'] });
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 143, signal: null });
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 'ldap.invalid-credentials', stoppedBy: 'SIGTERM' });
    expect(r.stderr).toContain('credgate check: interrupted by SIGTERM; finishing the check in flight');
  });

  it('doctor, SIGHUP while the bind is in flight: its answer reported, the steps after it not started, exit 129', async () => {
    const r = await run(['doctor', '--host', `127.0.0.1:${await closedPort()}`, '--account', user('doctor'), '--password-env', 'PW', '--ldap', srv.url, '--ca-file', pki.caFile, '--json'], { word: 'doctor', signals: ['SIGHUP'] });
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 129, signal: null });
    const j = JSON.parse(r.stdout) as { code: string; steps: Array<{ name: string; status: string; note?: string; findings: string[] }> };
    expect(j.steps.find((s) => s.name === 'ldap-bind')).toMatchObject({ status: 'failed', findings: ['ldap.invalid-credentials'] });
    expect(j.steps.find((s) => s.name === 'rdp-nla')).toMatchObject({ status: 'not-checked', note: 'not started: the run was stopped by SIGHUP' });
  });

  it('launch, SIGTERM during the preflight: the preflight finishes and is printed, no client is started, exit 143', async () => {
    behaviour.set('launch', { delay: DELAY, result: 0 });
    const host = await fakeNlaHost({ cert: pki.cert, key: pki.key, confirm: Buffer.from('030000130ed00000123400021f080002000000', 'hex') });
    const marker = path.join(dir, 'client-started');
    const client = path.join(dir, 'fake-client.mjs');
    fs.writeFileSync(client, `#!${process.execPath}\nimport fs from 'node:fs';\nfs.writeFileSync(${JSON.stringify(marker)}, 'started');\n`, { mode: 0o700 });
    try {
      const r = await run(['launch', `127.0.0.1:${host.port}`, '--account', user('launch'), '--password-env', 'PW', '--ldap', srv.url, '--ca-file', pki.caFile, '--no-nla', '--client', client, '--json'], { word: 'launch', signals: ['SIGTERM'] });
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 143, signal: null });
      const j = JSON.parse(r.stdout) as { steps: Array<{ name: string; status: string; findings: string[] }> };
      expect(j.steps.find((s) => s.name === 'ldap-bind')).toMatchObject({ status: 'passed', findings: ['ldap.ok'] });
      expect(r.stderr).toContain('not launching: stopped by SIGTERM');
      expect(fs.existsSync(marker)).toBe(false);
    } finally {
      await host.close();
    }
  });

  it('a second signal quits at once, without waiting for the bind in flight', async () => {
    behaviour.set('second', { delay: 10_000, result: 49 });
    const r = await run(['check', '--ldap', srv.url, '--ca-file', pki.caFile, '--user', user('second'), '--password-env', 'PW'], { word: 'second', signals: ['SIGTERM', 'SIGTERM'] });
    expect(r.signal).toBe('SIGTERM');
    expect(r.stdout).toBe('');
    expect(r.ms).toBeLessThan(8000);
  });
});
