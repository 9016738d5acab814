// Running `credgate launch --json` as a user does, for the lab tests: its JSON lines read as they
// come, a private HOME and XDG_CONFIG_HOME for the client, the lab's display, a bound on its life.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { BIN, assertNoLeak, knownSecrets } from '../../helpers/cli.js';
import { labPart } from '../../lab/state.js';

export interface RdpState { nla: { port: number; certFile: string }; valid: { port: number }; display: string; sam: string; clientEnv: Record<string, string> }

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * credgate launch as a user runs it, its --json lines read as they come. The client gets a private
 * HOME and XDG_CONFIG_HOME (FreeRDP's known_hosts2 lives there) and the lab's display.
 */
export function startLaunch(args: string[], env: Record<string, string>, cwd?: string) {
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
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
