// `credgate doctor` as scripts/demo.mjs runs it: the built CLI over the lab's scenario matrix
// (password on stdin or from a file "vault", the Samba DC with a read-only service account, the
// FreeRDP NLA host, a closed port, the expired-certificate host, a stale client cache), exit codes,
// JSON, the human verdict, and colour only on a terminal. runCli scans every output for passwords.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { runCli, assertNoLeak, knownSecrets } from '../../helpers/cli.js';
import { closedPort } from '../../helpers/servers.js';
import { samba, sambaScenario, labPart, type SambaState } from '../../lab/state.js';
import { main } from '../../../src/cli/main.js';

interface RdpState { nla: { port: number }; expired: { port: number } }

let lab: SambaState;
let rdp: RdpState;
let tmp: string;
let refused: number;
let cacheFile: string;
let dirArgs: string[];
const env = () => ({ CREDGATE_SVC_PW: lab.reader.password });
const ANSI = /\u001b\[\d+m/;

beforeAll(async () => {
  lab = samba();
  rdp = labPart<RdpState>('rdp');
  refused = await closedPort();
  dirArgs = ['--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--service-user', `${lab.reader.user}@pamtest.local`, '--service-password-env', 'CREDGATE_SVC_PW'];
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-doctor-test-'));
  // a file "vault": bob's entry holds last rotation's password, alice's the current one
  const vaultFile = path.join(tmp, 'vault.json');
  fs.writeFileSync(vaultFile, JSON.stringify({
    'rdp/bob': { username: sambaScenario('wrong-password').upn, password: sambaScenario('wrong-password').tryPassword, changedAt: '2026-10-01T00:00:00Z' },
    'rdp/alice': { username: sambaScenario('good').downLevel, password: sambaScenario('good').password, changedAt: new Date().toISOString() },
  }), { mode: 0o600 });
  // a provider that records its calls (never the secret) around the file vault, to see it disposed
  fs.writeFileSync(path.join(tmp, 'recording.mjs'), `
    import fs from 'node:fs';
    export default function recording(o) {
      const vault = JSON.parse(fs.readFileSync(o.vault, 'utf8'));
      const log = (m) => fs.appendFileSync(o.log, m + '\\n');
      return {
        name: 'recording',
        async resolve(ref) {
          log('resolve');
          const e = vault[ref];
          const pw = e.password;
          return { username: e.username, secret: { [Symbol.for('credgate.Secret')]: true, reveal: () => pw, toString: () => '[REDACTED]', toJSON: () => '[REDACTED]' }, source: 'recording ' + ref };
        },
        dispose() { log('dispose'); },
      };
    }`);
  fs.writeFileSync(path.join(tmp, 'credgate.config.json'), JSON.stringify({ providers: {
    vault: { type: 'file', options: { path: vaultFile } },
    recording: { module: './recording.mjs', options: { vault: vaultFile, log: path.join(tmp, 'calls.log') } },
  } }));
  // a client cache written before alice's password last changed (the demo's WS-0042)
  cacheFile = path.join(tmp, 'ws-0042.json');
  fs.writeFileSync(cacheFile, JSON.stringify({ schema: 'credgate-collector/1', machine: 'WS-0042', credentials: [
    { target: 'Domain:target=TERMSRV/127.0.0.1', type: 'domain-password', userName: 'PAMTEST\\alice', lastWritten: '2025-06-01T08:00:00Z', persist: 'local-machine' },
  ] }));
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const doctor = (args: string[], stdin?: string) => runCli(['doctor', ...args], { ...(stdin !== undefined ? { stdin } : {}), env: env(), cwd: tmp });
const stepStatus = (j: { steps: Array<{ name: string; status: string }> }) => Object.fromEntries(j.steps.map((s) => [s.name, s.status]));

describe('credgate doctor over the lab scenarios (--json)', () => {
  it('a healthy account: exit 0, rdp.nla-ok, every network step passed', async () => {
    const s = sambaScenario('good');
    const r = await doctor(['--host', `127.0.0.1:${rdp.nla.port}`, '--account', s.downLevel, '--password-stdin', ...dirArgs, '--json'], s.password);
    expect([r.code, r.json.code, r.json.ok, r.json.exitCode]).toEqual([0, 'rdp.nla-ok', true, 0]);
    expect(stepStatus(r.json)).toMatchObject({ 'account-state': 'passed', 'ldap-bind': 'passed', 'rdp-endpoint': 'passed', 'rdp-nla': 'passed', cache: 'not-checked' });
    expect(r.json.target).toMatchObject({ host: '127.0.0.1', port: rdp.nla.port, account: s.downLevel });
  });

  it('the vault holds last rotation\'s password: exit 1, and the host is not asked (no extra bad-password count)', async () => {
    const r = await doctor(['--host', `127.0.0.1:${rdp.nla.port}`, '--provider', 'vault', '--ref', 'rdp/bob', ...dirArgs, '--json']);
    expect([r.code, r.json.code]).toEqual([1, 'ldap.invalid-credentials']);
    expect(r.json.headline).toMatch(/vault's password for .* is wrong/);
    expect(stepStatus(r.json)).toMatchObject({ provider: 'passed', 'ldap-bind': 'failed', 'rdp-nla': 'not-checked' });
  });

  it('a wrong password given on stdin: exit 1', async () => {
    const s = sambaScenario('wrong-password');
    const r = await doctor(['--host', `127.0.0.1:${rdp.nla.port}`, '--account', s.upn, '--password-stdin', ...dirArgs, '--json'], s.tryPassword);
    expect([r.code, r.json.code]).toEqual([1, 'ldap.invalid-credentials']);
  });

  it.each(['disabled', 'locked', 'account-expired', 'password-expired', 'must-change'])('%s: exit 3 with the account state as the cause', async (key) => {
    const s = sambaScenario(key);
    const r = await doctor(['--host', `127.0.0.1:${rdp.nla.port}`, '--account', s.upn, '--password-stdin', ...dirArgs, '--json'], s.password);
    expect([r.code, r.json.code, r.json.exitCode]).toEqual([3, s.expect, 3]);
    expect(r.json.remediation.length).toBeGreaterThan(0);
    expect(r.json.findings.find((f: { code: string }) => f.code === s.expect).evidence).toEqual(expect.any(Object));
  });

  it('the RDP host refuses connections (a closed port): exit 4, net.refused', async () => {
    const s = sambaScenario('good');
    const r = await doctor(['--host', `127.0.0.1:${refused}`, '--account', s.upn, '--password-stdin', ...dirArgs, '--json'], s.password);
    expect([r.code, r.json.code]).toEqual([4, 'net.refused']);
    expect(stepStatus(r.json)).toMatchObject({ 'ldap-bind': 'passed', 'rdp-nla': 'not-checked' });
  });

  it('the RDP host\'s certificate has expired: exit 4, rdp.cert-expired', async () => {
    const s = sambaScenario('good');
    const r = await doctor(['--host', `127.0.0.1:${rdp.expired.port}`, '--account', s.upn, '--password-stdin', ...dirArgs, '--json'], s.password);
    expect([r.code, r.json.code]).toEqual([4, 'rdp.cert-expired']);
    const ev = r.json.findings.find((f: { code: string }) => f.code === 'rdp.cert-expired').evidence;
    expect(new Date(ev.notAfter).getTime()).toBeLessThan(Date.now());
    expect(stepStatus(r.json)).toMatchObject({ 'ldap-bind': 'passed', 'rdp-endpoint': 'failed' });
  });

  it('the client caches a password older than the last change: exit 6, cache.stale-password', async () => {
    const r = await doctor(['--host', `127.0.0.1:${rdp.nla.port}`, '--provider', 'vault', '--ref', 'rdp/alice', '--cache-from', cacheFile, ...dirArgs, '--json']);
    expect([r.code, r.json.code]).toEqual([6, 'cache.stale-password']);
    expect(r.json.headline).toContain('TERMSRV/127.0.0.1');
    expect(stepStatus(r.json)).toMatchObject({ provider: 'passed', 'ldap-bind': 'passed', cache: 'failed' });
  });

  it('fetches from the provider once and disposes it', async () => {
    const log = path.join(tmp, 'calls.log');
    fs.rmSync(log, { force: true });
    const r = await doctor(['--host', `127.0.0.1:${rdp.nla.port}`, '--provider', 'recording', '--ref', 'rdp/alice', ...dirArgs, '--json']);
    expect([r.code, r.json.code]).toEqual([0, 'rdp.nla-ok']);
    expect(fs.readFileSync(log, 'utf8').trim().split('\n')).toEqual(['resolve', 'dispose']);
  });

  it('--service-user without --ldap is a usage error naming --ldap (it would be ignored)', async () => {
    const s = sambaScenario('good');
    const r = await doctor(['--host', `127.0.0.1:${rdp.nla.port}`, '--account', s.upn, '--password-stdin', '--service-user', 'svc', '--service-password-env', 'CREDGATE_SVC_PW'], s.password);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--service-user .*needs --ldap <url>/);
  });
});

describe('credgate doctor human output', () => {
  it('a failure: the verdict line, every step, the evidence and "Fix, in this order"', async () => {
    const s = sambaScenario('locked');
    const r = await doctor(['--host', `127.0.0.1:${rdp.nla.port}`, '--account', s.upn, '--password-stdin', ...dirArgs], s.password);
    expect(r.code).toBe(3);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`WILL FAIL  ${s.upn} → 127.0.0.1:${rdp.nla.port}  [ldap.account-locked, exit 3]`);
    expect(r.stdout).toContain('  Steps\n');
    for (const step of ['provider', 'account-state', 'ldap-bind', 'rdp-endpoint', 'rdp-nla', 'cache']) {
      expect(lines.some((l) => l.startsWith(`    ${step.padEnd(14)} `)), step).toBe(true);
    }
    expect(r.stdout).toMatch(/\n {4}cache +· not checked +no client cache given/);
    expect(r.stdout).toMatch(/\n {4}account-state +✖ failed +The account is locked out/);
    expect(r.stdout).toContain('  Evidence\n');
    expect(r.stdout).toMatch(/ {2}Fix, in this order\n {4}1\. \S/);
    expect(r.stdout).toMatch(/Unlock the account/);
    expect(r.stdout).not.toMatch(ANSI);
  });

  it('a pass: PASS, what it proved and what it did not, and no "Fix" section', async () => {
    const s = sambaScenario('good');
    const r = await doctor(['--host', `127.0.0.1:${rdp.nla.port}`, '--account', s.downLevel, '--password-stdin', ...dirArgs], s.password);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`PASS  ${s.downLevel} → 127.0.0.1:${rdp.nla.port}  [rdp.nla-ok, exit 0]`);
    expect(r.stdout).toMatch(/rdp-nla {8}✔ passed/);
    expect(r.stdout).not.toContain('Fix, in this order');
    // what the pass proved, and the check that remains (the logon right, refused after authentication as 0x7)
    expect(r.stdout).toContain('accepted by the RDP host at NLA and the directory');
    expect(r.stdout).toMatch(/Not proved: its right to an RDP session on 127\.0\.0\.1 \(Remote Desktop Users/);
    expect(r.stdout).toMatch(/ {2}Notes\n {4}1\. If the session is still refused \(0x904, extended 0x7\), add PAMTEST\\alice to Remote Desktop Users on 127\.0\.0\.1/);
  });

  it('nothing proved the credential (no directory, NLA switched off): CANNOT TELL, exit 2, and what to add', async () => {
    const s = sambaScenario('good');
    const r = await doctor(['--host', `127.0.0.1:${rdp.nla.port}`, '--account', s.downLevel, '--password-stdin', '--no-nla', '--json'], s.password);
    expect([r.code, r.json.code, r.json.ok]).toEqual([2, 'credential.not-checked', false]);
    const h = await doctor(['--host', `127.0.0.1:${rdp.nla.port}`, '--account', s.downLevel, '--password-stdin', '--no-nla'], s.password);
    expect(h.stdout.split('\n')[0]).toBe(`CANNOT TELL  ${s.downLevel} → 127.0.0.1:${rdp.nla.port}  [credential.not-checked, exit 2]`);
    expect(h.stdout).toMatch(/--ldap/);
  });

  it('colour only on a terminal, and never with NO_COLOR', async () => {
    const s = sambaScenario('good');
    const run = async (extraEnv: Record<string, string>, isTTY: boolean) => {
      let text = '';
      const stdout = Object.assign(new Writable({ write(c, _e, cb) { text += String(c); cb(); } }), { isTTY });
      let err = '';
      const stderr = new Writable({ write(c, _e, cb) { err += String(c); cb(); } });
      const code = await main(['doctor', '--host', `127.0.0.1:${refused}`, '--account', s.upn, '--password-env', 'DOCTOR_PW', '--deadline', '5000'], {
        stdout, stderr, env: { DOCTOR_PW: s.password, ...extraEnv }, cwd: tmp,
      });
      assertNoLeak(text + err, [...knownSecrets(), s.password], 'in-process doctor output');
      return { code, text };
    };
    const tty = await run({}, true);
    expect(tty.code).toBe(4);
    expect(tty.text).toMatch(ANSI);
    expect(tty.text).toContain('\u001b[31m\u001b[1mWILL FAIL\u001b[22m\u001b[39m');
    const noColor = await run({ NO_COLOR: '1' }, true);
    expect(noColor.code).toBe(4);
    expect(noColor.text).not.toMatch(/\u001b\[/);
    expect(noColor.text.split('\n')[0]).toMatch(/^WILL FAIL {2}/);
    const pipe = await run({}, false);
    expect(pipe.text).not.toMatch(/\u001b\[/);
  });
});
