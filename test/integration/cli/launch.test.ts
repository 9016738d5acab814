// credgate launch on the lab's FreeRDP hosts: doctor first (nothing starts on a fail); the real
// xfreerdp gets the password on stdin only, trusts exactly the certificate the doctor verified,
// and launch reports the client's real outcome — the session established (and the signal passed
// on), a security layer the host refuses, a certificate that changed between check and client.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { spawn } from 'node:child_process';
import { runCli } from '../../helpers/cli.js';
import { labPart, sambaScenario } from '../../lab/state.js';
import { labDir } from '../../lab/lab.mjs';
import { CLIENT_ENV_NAMES, allowedClientVariable } from '../../../src/launch/client-env.js';
import { startLaunch, alive, sleep, type RdpState } from './launch-run.js';

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
      for (const t0 = Date.now(); activated() <= before && Date.now() - t0 < 5000;) await sleep(100);
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
    // the same, as a person reads it
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-launch-home-'));
    try {
      const human = await runCli(['launch', `127.0.0.1:${rdp.nla.port}`, '--account', s.downLevel, '--password-env', 'RDP_PW', '--client-arg', '/sec:tls'], {
        env: { RDP_PW: s.password, HOME: home, DISPLAY: rdp.clientEnv.DISPLAY!, XDG_CONFIG_HOME: home },
      });
      expect(human.code).toBe(4);
      expect(human.stdout).toMatch(/^LAUNCH FAILED {2}PAMTEST\\alice → 127\.0\.0\.1:\d+ {2}\[launch\.nego-failed, exit 4\]/);
      expect(human.stdout).toContain('clientExit: XF_EXIT_NEGO_FAILURE');
      expect(human.stdout).toContain('Fix, in this order');
      expect(human.stdout).toContain('certificate: credgate verified no certificate');
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
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

  it('after the session is up, the host going away is reported with its reason: the session lost, exit 4', async () => {
    const rdp = labPart<RdpState>('rdp');
    const s = sambaScenario('good');
    // a FreeRDP shadow server of this test's own (the lab's are shared), on the lab's display and
    // SAM file, with the self-signed certificate it makes at start; stopped by its PID
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-launch-shadow-'));
    const port = await new Promise<number>((r) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => r(p));
      });
    });
    const server = spawn('freerdp-shadow-cli', ['/bind-address:127.0.0.1', `/port:${port}`, '/sec:nla', `/sam-file:${rdp.sam}`], {
      env: { PATH: process.env.PATH ?? '', DISPLAY: rdp.display, XDG_CONFIG_HOME: dir, HOME: dir }, stdio: 'ignore',
    });
    const cert = path.join(dir, 'freerdp', 'shadow', 'shadow.crt');
    try {
      const t0 = Date.now();
      const open = () => new Promise<boolean>((r) => net.connect(port, '127.0.0.1').on('connect', function (this: net.Socket) {
        this.destroy();
        r(true);
      }).on('error', () => r(false)));
      while (!(fs.existsSync(cert) && (await open()))) {
        if (Date.now() - t0 > 15_000 || server.exitCode !== null) throw new Error('the shadow server did not start');
        await sleep(100);
      }
      const run = startLaunch([`127.0.0.1:${port}`, '--account', s.downLevel, '--password-env', 'RDP_PW', '--rdp-ca-file', cert], { RDP_PW: s.password });
      await run.event('established');
      server.kill('SIGTERM');
      const r = await run.done([s.password]);
      expect(r.code).toBe(4);
      expect(r.lines.map((l) => l.event)).toEqual(['established', 'ended']);
      const end = r.lines[1]!;
      expect(end).toMatchObject({ ok: false, code: 'launch.connect-failed', exitCode: 4 });
      expect(end.findings[0].message).toContain('after the session was established');
      expect(end.findings[0].evidence).toMatchObject({ established: true, errconnect: expect.stringMatching(/^ERRCONNECT_/) });
      expect(end.remediation[0].action).toContain('dropped during the session');
    } finally {
      if (server.exitCode === null) server.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 45_000);
});
