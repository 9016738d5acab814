// credgate launch: doctor first; on a fail nothing starts; on a pass xfreerdp connects to the
// lab's NLA host with the password through stdin (never argv) and reaches an active session.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { runCli, BIN } from '../../helpers/cli.js';
import { labPart, samba, sambaScenario } from '../../lab/state.js';
import { labDir } from '../../lab/lab.mjs';

interface RdpState { nla: { port: number }; display: string; clientEnv: Record<string, string> }

describe('credgate launch', () => {
  it('--dry-run shows the .rdp file and the command, with no password in either, and writes nothing', async () => {
    const rdp = labPart<RdpState>('rdp');
    const s = sambaScenario('good');
    // a private TMPDIR: a dry run must leave it empty (no temp directory, no .rdp file)
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-dry-run-test-'));
    try {
      const r = await runCli(['launch', `127.0.0.1:${rdp.nla.port}`, '--account', s.downLevel, '--password-stdin', '--client-arg', '/cert:ignore', '--dry-run', '--json'], { stdin: s.password, env: { TMPDIR: tmp } });
      expect(r.code).toBe(0);
      expect(r.json).toMatchObject({ ok: true, verdict: 'rdp.nla-ok', command: 'xfreerdp', passwordVia: 'stdin' });
      expect(r.json.args).toEqual([r.json.rdpFile, '/from-stdin:force', '/cert:ignore']);
      expect(r.json.rdpFileContent).toContain('username:s:PAMTEST\\alice');
      expect(r.json.rdpFile.startsWith(tmp + path.sep)).toBe(true);
      expect(fs.existsSync(r.json.rdpFile)).toBe(false);
      const human = await runCli(['launch', `127.0.0.1:${rdp.nla.port}`, '--account', s.downLevel, '--password-stdin', '--dry-run'], { stdin: s.password, env: { TMPDIR: tmp } });
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/would write .*\.rdp:\n/);
      expect(fs.readdirSync(tmp)).toEqual([]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });



  it('does not launch when the preflight fails', async () => {
    const rdp = labPart<RdpState>('rdp');
    const s = sambaScenario('wrong-password');
    const r = await runCli(['launch', `127.0.0.1:${rdp.nla.port}`, '--account', s.upn, '--password-env', 'RDP_PW', '--client-arg', '/cert:ignore'], { env: { RDP_PW: s.tryPassword } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('not launching');
    expect(r.stdout).toContain('WILL FAIL');
  });

  it('starts xfreerdp with the password on stdin, which reaches an active session', async () => {
    const rdp = labPart<RdpState>('rdp');
    const s = sambaScenario('good');
    const log = path.join(labDir, 'rdp', 'shadow-nla.log'); // the lab in use (CREDGATE_LAB_DIR), not this checkout's
    const activated = () => (fs.readFileSync(log, 'utf8').match(/is activated/g) ?? []).length;
    const before = activated();
    const child = spawn(process.execPath, [BIN, 'launch', `127.0.0.1:${rdp.nla.port}`, '--account', s.downLevel, '--password-env', 'RDP_PW', '--client-arg', '/cert:ignore', '--json'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', RDP_PW: s.password, VAULT_TOKEN: 'hvs.launch-test-token', AWS_SECRET_ACCESS_KEY: 'aws-launch-test-key', ...rdp.clientEnv }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.resume(); // xfreerdp logs a lot; an undrained pipe would block it
    child.stdin.end();
    let pid: number | undefined;
    try {
      const t0 = Date.now();
      while (Date.now() - t0 < 25_000) {
        if (pid === undefined && out.includes('\n')) pid = JSON.parse(out.split('\n')[0]!).pid as number;
        if (pid !== undefined && activated() > before) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(pid).toBeGreaterThan(0);
      // the client's command line carries no password
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      expect(cmdline).not.toContain(s.password);
      expect(cmdline).toContain('/from-stdin:force');
      // nor does its environment: the --password-env variable is not inherited
      const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      expect(environ).toContain(`DISPLAY=${rdp.clientEnv.DISPLAY}`);
      expect(environ.filter((e) => e.startsWith('RDP_PW=')).length).toBe(0);
      expect(environ.some((e) => e.includes(s.password))).toBe(false);
      // nor other credentials the launcher's environment carried (vault token, cloud key)
      expect(environ.some((e) => /hvs\.launch-test-token|aws-launch-test-key/.test(e))).toBe(false);
      expect(activated()).toBeGreaterThan(before);
    } finally {
      // end exactly what this test started: the client, then the launcher
      if (pid) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {}
      }
      const t = setTimeout(() => {
        if (pid) try { process.kill(pid, 'SIGKILL'); } catch {}
        child.kill('SIGKILL');
      }, 5000);
      await new Promise((r) => child.on('exit', r));
      clearTimeout(t);
      // the private folder with the .rdp file is gone once the client has exited
      const rdpFile = out.includes('\n') ? (JSON.parse(out.split('\n')[0]!).rdpFile as string) : undefined;
      if (rdpFile) expect(fs.existsSync(path.dirname(rdpFile))).toBe(false);
    }
  }, 45_000);

  it('hands the client the credential the preflight fetched (one fetch, provider disposed), without the password variables', async () => {
    const rdp = labPart<RdpState>('rdp');
    const lab = samba();
    const s = sambaScenario('good');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-launch-test-'));
    const sha = (x: string) => createHash('sha256').update(x).digest('hex');
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
        recording: { module: './recording.mjs', options: { log: calls, user: s.downLevel, first: s.password, later: 'Second-fetch-differs-2026' } },
      } }));
      // a stand-in client: records hashes of what it got on stdin and in its environment, never the values
      const client = path.join(tmp, 'fake-xfreerdp.mjs');
      fs.writeFileSync(client, `#!${process.execPath}
        import fs from 'node:fs';
        import { createHash } from 'node:crypto';
        const h = (x) => createHash('sha256').update(x).digest('hex');
        let input = '';
        process.stdin.setEncoding('utf8');
        for await (const c of process.stdin) input += c;
        // the session is running: the provider must not have been released yet
        await new Promise((r) => setTimeout(r, 300));
        const callsDuringSession = fs.readFileSync(${JSON.stringify(calls)}, 'utf8');
        fs.writeFileSync(${JSON.stringify(seen)}, JSON.stringify({ callsDuringSession,
          args: process.argv.slice(2), rdpFileExisted: fs.existsSync(process.argv[2]),
          stdin: h(input.replace(/\\n$/, '')), envNames: Object.keys(process.env), envValues: Object.values(process.env).map(h),
        }));
      `, { mode: 0o700 });
      const r = await runCli([
        'launch', `127.0.0.1:${rdp.nla.port}`, '--provider', 'recording', '--ref', 'rdp/alice', '--client', client, '--client-arg', '/cert:ignore',
        '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--service-user', `${lab.reader.user}@pamtest.local`, '--service-password-env', 'SVC_PW', '--json',
      ], { cwd: tmp, env: { SVC_PW: lab.reader.password, TMPDIR: tmp } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.json).toMatchObject({ ok: true, launched: client, pid: expect.any(Number) });
      expect(fs.readFileSync(calls, 'utf8').trim().split('\n')).toEqual(['resolve', 'dispose']);
      const got = JSON.parse(fs.readFileSync(seen, 'utf8'));
      expect(got.stdin).toBe(sha(s.password));
      // released when the session ended, not when it started (a Vault library check-in rotates the password)
      expect(got.callsDuringSession.trim().split('\n')).toEqual(['resolve']);
      // and the private folder with the .rdp file went with the client
      expect(fs.existsSync(path.dirname(r.json.rdpFile))).toBe(false);
      expect(got.args).toEqual([r.json.rdpFile, '/from-stdin:force', '/cert:ignore']);
      expect(got.rdpFileExisted).toBe(true);
      expect(got.envNames).toContain('PATH');
      expect(got.envNames).not.toContain('SVC_PW');
      expect(got.envValues).not.toContain(sha(lab.reader.password));
      expect(got.envValues).not.toContain(sha(s.password));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('Ctrl-C / SIGTERM during the session: passed on to the client, the provider still released, exit 128+signal', async () => {
    const rdp = labPart<RdpState>('rdp');
    const lab = samba();
    const s = sambaScenario('good');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-launch-sig-'));
    let clientPid: number | undefined;
    try {
      const calls = path.join(tmp, 'calls.log');
      const ready = path.join(tmp, 'client.ready');
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
      // a stand-in client that holds the session until it is signalled
      const client = path.join(tmp, 'fake-xfreerdp.mjs');
      fs.writeFileSync(client, `#!${process.execPath}
        import fs from 'node:fs';
        for await (const _ of process.stdin) { /* the password; not kept */ }
        fs.writeFileSync(${JSON.stringify(ready)}, String(process.pid));
        setInterval(() => {}, 1000);
      `, { mode: 0o700 });
      const child = spawn(process.execPath, [BIN, 'launch', `127.0.0.1:${rdp.nla.port}`, '--provider', 'vault', '--ref', 'rdp/alice', '--client', client,
        '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--json'], { cwd: tmp, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', TMPDIR: tmp, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.resume();
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      const t0 = Date.now();
      while (!fs.existsSync(ready) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
      clientPid = Number(fs.readFileSync(ready, 'utf8'));
      // the session runs: the provider is still held
      expect(fs.readFileSync(calls, 'utf8').trim().split('\n')).toEqual(['resolve']);
      child.kill('SIGTERM');
      const guard = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(guard);
      expect(code).toBe(143);
      expect(fs.readFileSync(calls, 'utf8').trim().split('\n')).toEqual(['resolve', 'dispose']);
      // the client got the signal and is gone, and so is the .rdp folder
      expect(() => process.kill(clientPid!, 0)).toThrow();
      expect(fs.existsSync(path.dirname(JSON.parse(out.split('\n')[0]!).rdpFile))).toBe(false);
    } finally {
      // end the stand-in client this test started, should the launcher have left it running
      if (clientPid) {
        try {
          process.kill(clientPid, 'SIGKILL');
        } catch {
          /* gone, as it should be */
        }
      }
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 45_000);
});
