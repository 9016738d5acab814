// credgate launch: doctor first; on a fail nothing starts; on a pass xfreerdp connects to the
// lab's NLA host with the password through stdin (never argv) and reaches an active session.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { runCli, BIN } from '../helpers/cli.js';
import { labPart, sambaScenario } from '../lab/state.js';

interface RdpState { nla: { port: number }; display: string; clientEnv: Record<string, string> }

describe('credgate launch', () => {
  it('--dry-run shows the .rdp file and the command, with no password in either', async () => {
    const rdp = labPart<RdpState>('rdp');
    const s = sambaScenario('good');
    const r = await runCli(['launch', `127.0.0.1:${rdp.nla.port}`, '--account', s.downLevel, '--password-stdin', '--client-arg', '/cert:ignore', '--dry-run', '--json'], { stdin: s.password });
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ ok: true, verdict: 'rdp.nla-ok', command: 'xfreerdp', passwordVia: 'stdin' });
    expect(r.json.args).toEqual([r.json.rdpFile, '/from-stdin:force', '/cert:ignore']);
    expect(r.json.rdpFileContent).toContain('username:s:PAMTEST\\alice');
  });

  it('refuses --password-stdin for a real launch (the client\'s stdin carries the password)', async () => {
    const r = await runCli(['launch', '127.0.0.1', '--account', 'a', '--password-stdin'], { stdin: 'x-123456' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--password-env');
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
    const log = `${process.cwd()}/.lab/rdp/shadow-nla.log`;
    const activated = () => (fs.readFileSync(log, 'utf8').match(/is activated/g) ?? []).length;
    const before = activated();
    const child = spawn(process.execPath, [BIN, 'launch', `127.0.0.1:${rdp.nla.port}`, '--account', s.downLevel, '--password-env', 'RDP_PW', '--client-arg', '/cert:ignore', '--json'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', RDP_PW: s.password, ...rdp.clientEnv }, stdio: ['pipe', 'pipe', 'pipe'],
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
    }
  }, 45_000);
});
