// credgate launch on the lab's FreeRDP hosts: doctor first (nothing starts on a fail); the real
// xfreerdp gets the password on stdin only, trusts exactly the certificate the doctor verified,
// and launch reports the client's real outcome — the session established (and the signal passed
// on), a security layer the host refuses, a certificate that changed between check and client.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createHash, X509Certificate } from 'node:crypto';
import { spawn } from 'node:child_process';
import { runCli, BIN, assertNoLeak, knownSecrets } from '../../helpers/cli.js';
import { labPart, samba, sambaScenario } from '../../lab/state.js';
import { labDir } from '../../lab/lab.mjs';
import { CLIENT_ENV_NAMES, allowedClientVariable } from '../../../src/launch/client-env.js';

interface RdpState { nla: { port: number; certFile: string }; valid: { port: number }; display: string; clientEnv: Record<string, string> }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * credgate launch as a user runs it, its --json lines read as they come. The client gets a private
 * HOME and XDG_CONFIG_HOME (FreeRDP's known_hosts2 lives there) and the lab's display.
 */
function startLaunch(args: string[], env: Record<string, string>, cwd?: string) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-launch-home-'));
  const rdp = labPart<RdpState>('rdp');
  const child = spawn(process.execPath, [BIN, 'launch', ...args, '--json'], {
    cwd: cwd ?? process.cwd(),
    env: { PATH: process.env.PATH ?? '', HOME: home, DISPLAY: rdp.clientEnv.DISPLAY!, XDG_CONFIG_HOME: path.join(home, '.config'), NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const guard = setTimeout(() => child.kill('SIGKILL'), 40_000);
  const exited = new Promise<number | null>((r) => child.on('close', (code) => {
    clearTimeout(guard);
    r(code);
  }));
  const lines = () => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
  const event = async (name: string, ms = 30_000) => {
    const t0 = Date.now();
    for (;;) {
      const hit = lines().find((l) => l.event === name || (name === '*' && l.event));
      if (hit) return hit;
      if (Date.now() - t0 > ms || child.exitCode !== null) throw new Error(`no "${name}" event from credgate launch; stdout:\n${stdout}\nstderr:\n${stderr}`);
      await sleep(50);
    }
  };
  const done = async (secrets: string[]) => {
    const code = await exited;
    fs.rmSync(home, { recursive: true, force: true });
    const all = [...knownSecrets(), ...secrets];
    assertNoLeak(stdout, all, 'stdout of credgate launch');
    assertNoLeak(stderr, all, 'stderr of credgate launch');
    return { code, lines: lines(), stderr };
  };
  return { child, event, done };
}

/** Whether a process is still there (signal 0). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('credgate launch', () => {
  it('--dry-run shows the .rdp file, the command and the trust, with no password in any, and writes nothing', async () => {
    const rdp = labPart<RdpState>('rdp');
    const s = sambaScenario('good');
    // a private TMPDIR: a dry run must leave it empty (no temp directory, no .rdp file)
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-dry-run-test-'));
    try {
      const r = await runCli(['launch', `127.0.0.1:${rdp.nla.port}`, '--account', s.downLevel, '--password-stdin', '--rdp-ca-file', rdp.nla.certFile, '--dry-run', '--json'], { stdin: s.password, env: { TMPDIR: tmp } });
      expect(r.code).toBe(0);
      expect(r.json).toMatchObject({ ok: true, verdict: 'rdp.nla-ok', command: 'xfreerdp', passwordVia: 'stdin', trust: { mode: 'verified' } });
      const sha = new X509Certificate(fs.readFileSync(rdp.nla.certFile)).fingerprint256.toLowerCase();
      expect(r.json.args).toEqual([r.json.rdpFile, '/from-stdin:force', `/cert:deny,fingerprint:sha256:${sha}`]);
      expect(r.json.rdpFileContent).toContain('username:s:PAMTEST\\alice');
      expect(r.json.rdpFile.startsWith(tmp + path.sep)).toBe(true);
      expect(fs.existsSync(r.json.rdpFile)).toBe(false);
      const human = await runCli(['launch', `127.0.0.1:${rdp.nla.port}`, '--account', s.downLevel, '--password-stdin', '--dry-run'], { stdin: s.password, env: { TMPDIR: tmp } });
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/would write .*\.rdp:\n/);
      expect(human.stdout).toContain('/cert:deny  (password on stdin');
      expect(human.stdout).toContain('certificate: credgate verified no certificate (no --rdp-ca-file)');
      expect(fs.readdirSync(tmp)).toEqual([]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('does not launch when the preflight fails', async () => {
    const rdp = labPart<RdpState>('rdp');
    const s = sambaScenario('wrong-password');
    const r = await runCli(['launch', `127.0.0.1:${rdp.nla.port}`, '--account', s.upn, '--password-env', 'RDP_PW'], { env: { RDP_PW: s.tryPassword } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('not launching');
    expect(r.stdout).toContain('WILL FAIL');
  });

  it('a pinned self-signed certificate: xfreerdp establishes the session, stays up, and gets the signal launch passes on; no secret on its command line, in its environment, the .rdp file or its log', async () => {
    const rdp = labPart<RdpState>('rdp');
    const s = sambaScenario('good');
    const token = 'hvs.CAESIlaunch-issue-14-token';
    const hostLog = path.join(labDir, 'rdp', 'shadow-nla.log');
    const activated = () => (fs.readFileSync(hostLog, 'utf8').match(/is activated/g) ?? []).length;
    const before = activated();
    const run = startLaunch([`127.0.0.1:${rdp.nla.port}`, '--account', s.downLevel, '--password-env', 'RDP_PW', '--rdp-ca-file', rdp.nla.certFile], {
      // issue 14: the vault token under a name of its own, a URL carrying the password, credential-named variables
      RDP_PW: s.password, PAM_VT: token, DB_URL: `ldap://alice:${s.password}@dc`, VAULT_TOKEN: token, AWS_SECRET_ACCESS_KEY: 'aws-launch-test-key',
    });
    let pid: number | undefined;
    try {
      const up = await run.event('established');
      pid = up.pid as number;
      expect(up).toMatchObject({ ok: true, launched: 'xfreerdp', code: 'launch.established', exitCode: 0, trust: { mode: 'verified' } });
      expect(up.trust.clientArg).toMatch(/^\/cert:deny,fingerprint:sha256:([0-9a-f]{2}:){31}[0-9a-f]{2}$/);
      // the host saw the same: its shadow server activated a client
      expect(activated()).toBeGreaterThan(before);
      // the client is alive after the handshake
      await sleep(1000);
      expect(alive(pid)).toBe(true);
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      expect(cmdline).toContain('/from-stdin:force');
      expect(cmdline).toContain(up.trust.clientArg);
      expect(cmdline.join(' ')).not.toContain(s.password);
      const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
      const names = environ.map((e) => e.slice(0, e.indexOf('=')));
      for (const n of names) expect(allowedClientVariable(n, 'linux') || n.startsWith('WLOG_'), `${n} reached the client`).toBe(true);
      expect(names).toEqual(expect.arrayContaining(['DISPLAY', 'HOME', 'PATH', 'WLOG_APPENDER']));
      for (const e of environ) for (const secret of [s.password, token, 'aws-launch-test-key']) expect(e.includes(secret), 'a secret in the client environment').toBe(false);
      expect(CLIENT_ENV_NAMES).not.toContain('PAM_VT');
      const dir = path.dirname(up.rdpFile as string);
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
      for (const f of fs.readdirSync(dir)) expect(fs.readFileSync(path.join(dir, f)).toString('utf16le') + fs.readFileSync(path.join(dir, f), 'utf8')).not.toContain(s.password);
      expect(fs.readFileSync(path.join(dir, 'client.log'), 'utf8')).toContain('CONNECTION_STATE_ACTIVE');
      run.child.kill('SIGTERM');
      const r = await run.done([s.password, token]);
      expect(r.code).toBe(143);
      expect(r.lines.at(-1)).toMatchObject({ event: 'ended', ok: true, code: 'launch.session-ended', exitCode: 143, clientSignal: 'SIGTERM' });
      expect(alive(pid)).toBe(false);
      // the private folder with the .rdp file and the log went with the client
      expect(fs.existsSync(dir)).toBe(false);
    } finally {
      if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
      run.child.kill('SIGKILL');
    }
  }, 45_000);

  it('a client that cannot connect (forced to a security layer the host refuses): launch fails with the decoded cause, exit 4', async () => {
    const rdp = labPart<RdpState>('rdp');
    const s = sambaScenario('good');
    const run = startLaunch([`127.0.0.1:${rdp.nla.port}`, '--account', s.downLevel, '--password-env', 'RDP_PW', '--rdp-ca-file', rdp.nla.certFile, '--client-arg', '/sec:tls'], { RDP_PW: s.password });
    const r = await run.done([s.password]);
    expect(r.code).toBe(4);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatchObject({ ok: false, event: 'failed', code: 'launch.nego-failed', exitCode: 4, clientExitCode: 133 });
    const f = r.lines[0]!.findings[0];
    expect(f.evidence).toMatchObject({ errconnect: 'ERRCONNECT_SECURITY_NEGO_CONNECT_FAILED [0x0002000C]', negotiation: 'HYBRID_REQUIRED_BY_SERVER', clientExit: 'XF_EXIT_NEGO_FAILURE' });
    expect(f.remediation[0].action).toContain('/sec:');
  }, 45_000);

  it('a certificate that changed between the doctor and the client: the client refuses it and launch says so, exit 4', async () => {
    const rdp = labPart<RdpState>('rdp');
    const s = sambaScenario('good');
    // one address, two certificates: credgate's connections (no X.224 cookie) reach the NLA host and
    // verify its pinned certificate; the client's (Cookie: mstshash=...) reach the CA-issued TLS host
    const routed: string[] = [];
    const proxy = net.createServer((c) => {
      c.once('data', (first) => {
        const toClient = first.includes('Cookie: mstshash=');
        routed.push(toClient ? 'client' : 'credgate');
        const up = net.connect(toClient ? rdp.valid.port : rdp.nla.port, '127.0.0.1', () => {
          up.write(first);
          c.pipe(up).pipe(c);
        });
        up.on('error', () => c.destroy());
        c.on('error', () => up.destroy());
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as net.AddressInfo).port;
    try {
      const run = startLaunch([`127.0.0.1:${port}`, '--account', s.downLevel, '--password-env', 'RDP_PW', '--rdp-ca-file', rdp.nla.certFile], { RDP_PW: s.password });
      const r = await run.done([s.password]);
      expect(routed).toContain('credgate');
      expect(routed.at(-1)).toBe('client');
      expect(r.code).toBe(4);
      expect(r.lines[0]).toMatchObject({ ok: false, event: 'failed', code: 'launch.cert-changed', exitCode: 4, clientExitCode: 143, trust: { mode: 'verified' } });
      const f = r.lines[0]!.findings[0];
      expect(f.message).toContain('not the one credgate verified');
      expect(f.evidence).toMatchObject({ errconnect: 'ERRCONNECT_TLS_CONNECT_FAILED [0x00020008]', certificateNames: expect.arrayContaining(['rdp.pamtest.local']) });
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  }, 45_000);

  it('hands the client the credential the preflight fetched (one fetch, provider disposed after the session), and no configured secret in its environment', async () => {
    const rdp = labPart<RdpState>('rdp');
    const lab = samba();
    const s = sambaScenario('good');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-launch-test-'));
    const sha = (x: string) => createHash('sha256').update(x).digest('hex');
    const token = 'hvs.recording-provider-token-2026';
    try {
      const calls = path.join(tmp, 'calls.log');
      const seen = path.join(tmp, 'client.json');
      // a provider that answers the right password once and a wrong one after: a second fetch would show
      fs.writeFileSync(path.join(tmp, 'recording.mjs'), `
        import fs from 'node:fs';
        export default function recording(o) {
          let n = 0;
          const secret = (pw) => ({ [Symbol.for('credgate.Secret')]: true, reveal: () => pw, toString: () => '[REDACTED]', toJSON: () => '[REDACTED]' });
          return {
            name: 'recording',
            async resolve(ref) {
              fs.appendFileSync(o.log, 'resolve\\n');
              const pw = n++ === 0 ? o.first : o.later;
              return { username: o.user, secret: secret(pw), source: 'recording ' + ref };
            },
            dispose() { fs.appendFileSync(o.log, 'dispose\\n'); },
          };
        }`);
      fs.writeFileSync(path.join(tmp, 'credgate.config.json'), JSON.stringify({ providers: {
        recording: { module: './recording.mjs', options: { log: calls, user: s.downLevel, first: s.password, later: 'Second-fetch-differs-2026', tokenEnv: 'REC_TOKEN' } },
      } }));
      // a stand-in FreeRDP client: it logs the active state where WLog's file appender would, and
      // records hashes of what it got on stdin and in its environment, never the values
      const client = path.join(tmp, 'fake-xfreerdp.mjs');
      fs.writeFileSync(client, `#!${process.execPath}
        import fs from 'node:fs';
        import path from 'node:path';
        import { createHash, X509Certificate } from 'node:crypto';
        const h = (x) => createHash('sha256').update(x).digest('hex');
        let input = '';
        process.stdin.setEncoding('utf8');
        for await (const c of process.stdin) input += c;
        const log = path.join(process.env.WLOG_FILEAPPENDER_OUTPUT_FILE_PATH, process.env.WLOG_FILEAPPENDER_OUTPUT_FILE_NAME);
        fs.appendFileSync(log, '[15:00:00:000] [1:2] [DEBUG][com.freerdp.core.connection] - rdp_client_transition_to_state CONNECTION_STATE_FINALIZATION --> CONNECTION_STATE_ACTIVE\\n');
        // the session is running: the provider must not have been released yet
        await new Promise((r) => setTimeout(r, 800));
        const callsDuringSession = fs.readFileSync(${JSON.stringify(calls)}, 'utf8');
        fs.writeFileSync(${JSON.stringify(seen)}, JSON.stringify({ callsDuringSession,
          args: process.argv.slice(2), rdpFileExisted: fs.existsSync(process.argv[2]),
          stdin: h(input.replace(/\\n$/, '')), envNames: Object.keys(process.env), envValues: Object.values(process.env).map(h),
        }));
      `, { mode: 0o700 });
      const run = startLaunch([
        `127.0.0.1:${rdp.nla.port}`, '--provider', 'recording', '--ref', 'rdp/alice', '--client', client, '--client-arg', '/cert:ignore',
        '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--service-user', `${lab.reader.user}@pamtest.local`, '--service-password-env', 'SVC_PW',
      ], { SVC_PW: lab.reader.password, TMPDIR: tmp, REC_TOKEN: token, XDG_DATA_HOME: `/data/${token}` }, tmp);
      const r = await run.done([token]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.lines.map((l) => l.event)).toEqual(['established', 'ended']);
      expect(r.lines[0]).toMatchObject({ ok: true, launched: client, pid: expect.any(Number), trust: { mode: 'caller' } });
      expect(r.lines[1]).toMatchObject({ ok: true, code: 'launch.session-ended', clientExitCode: 0, exitCode: 0 });
      expect(fs.readFileSync(calls, 'utf8').trim().split('\n')).toEqual(['resolve', 'dispose']);
      const got = JSON.parse(fs.readFileSync(seen, 'utf8'));
      expect(got.stdin).toBe(sha(s.password));
      // released when the session ended, not when it started (a Vault library check-in rotates the password)
      expect(got.callsDuringSession.trim().split('\n')).toEqual(['resolve']);
      // and the private folder with the .rdp file went with the client
      expect(fs.existsSync(path.dirname(r.lines[0]!.rdpFile))).toBe(false);
      expect(got.args).toEqual([r.lines[0]!.rdpFile, '/from-stdin:force', '/cert:ignore']);
      expect(got.rdpFileExisted).toBe(true);
      expect(got.envNames).toContain('PATH');
      for (const n of ['SVC_PW', 'REC_TOKEN', 'XDG_DATA_HOME']) expect(got.envNames).not.toContain(n);
      for (const v of [lab.reader.password, s.password, token]) expect(got.envValues).not.toContain(sha(v));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 45_000);

  it('Ctrl-C / SIGTERM during the session: passed on to the client, the provider still released, exit 128+signal', async () => {
    const rdp = labPart<RdpState>('rdp');
    const lab = samba();
    const s = sambaScenario('good');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-launch-sig-'));
    let clientPid: number | undefined;
    try {
      const calls = path.join(tmp, 'calls.log');
      fs.writeFileSync(path.join(tmp, 'vault.mjs'), `
        import fs from 'node:fs';
        export default function vault(o) {
          const secret = (pw) => ({ [Symbol.for('credgate.Secret')]: true, reveal: () => pw, toString: () => '[REDACTED]', toJSON: () => '[REDACTED]' });
          return {
            name: 'vault',
            async resolve() { fs.appendFileSync(o.log, 'resolve\\n'); return { username: o.user, secret: secret(o.pw), source: 'test vault' }; },
            dispose() { fs.appendFileSync(o.log, 'dispose\\n'); },
          };
        }`);
      fs.writeFileSync(path.join(tmp, 'credgate.config.json'), JSON.stringify({ providers: { vault: { module: './vault.mjs', options: { log: calls, user: s.downLevel, pw: s.password } } } }));
      // a stand-in FreeRDP client that holds the session until it is signalled
      const client = path.join(tmp, 'fake-xfreerdp.mjs');
      fs.writeFileSync(client, `#!${process.execPath}
        import fs from 'node:fs';
        import path from 'node:path';
        for await (const _ of process.stdin) { /* the password; not kept */ }
        fs.appendFileSync(path.join(process.env.WLOG_FILEAPPENDER_OUTPUT_FILE_PATH, process.env.WLOG_FILEAPPENDER_OUTPUT_FILE_NAME),
          '[15:00:00:000] [1:2] [DEBUG][com.freerdp.core.connection] - rdp_client_transition_to_state CONNECTION_STATE_FINALIZATION --> CONNECTION_STATE_ACTIVE\\n');
        setInterval(() => {}, 1000);
      `, { mode: 0o700 });
      const run = startLaunch([`127.0.0.1:${rdp.nla.port}`, '--provider', 'vault', '--ref', 'rdp/alice', '--client', client, '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile], { TMPDIR: tmp }, tmp);
      const up = await run.event('established', 20_000);
      clientPid = up.pid as number;
      // the session runs: the provider is still held
      expect(fs.readFileSync(calls, 'utf8').trim().split('\n')).toEqual(['resolve']);
      run.child.kill('SIGTERM');
      const r = await run.done([s.password]);
      expect(r.code).toBe(143);
      expect(r.lines.at(-1)).toMatchObject({ event: 'ended', exitCode: 143, findings: [{ evidence: { stoppedBy: 'SIGTERM' } }] });
      expect(fs.readFileSync(calls, 'utf8').trim().split('\n')).toEqual(['resolve', 'dispose']);
      // the client got the signal and is gone, and so is the .rdp folder
      expect(alive(clientPid)).toBe(false);
      expect(fs.existsSync(path.dirname(up.rdpFile as string))).toBe(false);
    } finally {
      // end the stand-in client this test started, should the launcher have left it running
      if (clientPid && alive(clientPid)) process.kill(clientPid, 'SIGKILL');
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 45_000);
});
