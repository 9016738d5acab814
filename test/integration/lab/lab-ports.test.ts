// The lab's own start-up rules: a daemon that dies at start fails the wait at once (with its log),
// and Samba's fixed ports stay out of the kernel's ephemeral range, where the other lab servers'
// listen(0) ports and every outgoing connection take theirs (a CI run once lost that race on
// 127.0.0.1:49154, Samba's default first RPC port).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { waitFor, ephemeralPortRange, alive, startDaemon } from '../../lab/proc.mjs';
import { startPart, recordPid, PORT_TAKEN } from '../../lab/lab.mjs';
import { rpcPortRange, healthy as sambaHealthy } from '../../lab/samba.mjs';
import { samba } from '../../lab/state.js';

/** TCP ports a process listens on, from /proc (its socket inodes matched against /proc/net/tcp*). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {}
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    for (const line of fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9]!)) continue; // 0A = LISTEN
      ports.add(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

describe('lab start-up', () => {
  it('waitFor gives up as soon as the watched process has exited, with its log', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-lab-'));
    const logFile = path.join(dir, 'd.log');
    fs.writeFileSync(logFile, 'Failed to listen on 127.0.0.1:49154 - NT_STATUS_ADDRESS_ALREADY_ASSOCIATED\n');
    const child = spawn(process.execPath, ['-e', 'process.exit(3)'], { stdio: 'ignore' });
    await new Promise((r) => child.once('exit', r));
    expect(alive(child.pid!)).toBe(false);
    const t0 = Date.now();
    const err = await waitFor('never', async () => false, { timeoutMs: 30000, intervalMs: 20, logFile, pid: child.pid }).catch((e: Error) => e);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(new RegExp(`process ${child.pid} exited after \\d+ ms while waiting for never`));
    expect((err as Error).message).toContain('NT_STATUS_ADDRESS_ALREADY_ASSOCIATED');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("Samba's RPC port range lies outside the ephemeral range, wherever the kernel puts it", () => {
    expect(rpcPortRange([32768, 60999])).toEqual([31668, 31767]);
    expect(rpcPortRange([1024, 60000])).toEqual([60001, 60100]);
    expect(() => rpcPortRange([1024, 65535])).toThrow(/no room for Samba's RPC ports.*ip_local_port_range/);
    const [lo, hi] = ephemeralPortRange();
    const [a, b] = rpcPortRange();
    expect(b < lo || a > hi).toBe(true);
  });

  it('a Samba lab provisioned with another RPC port range is not healthy (restarted, not reused)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-smbconf-'));
    const smbConf = path.join(dir, 'smb.conf');
    fs.writeFileSync(smbConf, '[global]\n\tnetbios name = DC\n');
    expect(await sambaHealthy({ smbConf })).toBe(false); // before the ports moved: no range line
    fs.writeFileSync(smbConf, '[global]\n\trpc server dynamic port range = 49152-65535\n');
    expect(await sambaHealthy({ smbConf })).toBe(false);
    expect(await sambaHealthy({ smbConf: path.join(dir, 'missing.conf') })).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(await sambaHealthy(samba())).toBe(true); // the running lab's own
  });

  it('the running Samba DC listens on no port in the ephemeral range', () => {
    const s = samba();
    const [lo, hi] = ephemeralPortRange();
    const ports = listeningPorts(s.pids[0]!);
    expect(ports).toEqual(expect.arrayContaining([389, 636, 3268, 3269]));
    const [a, b] = rpcPortRange();
    expect(ports.some((p) => p >= a && p <= b)).toBe(true); // the RPC endpoints moved, not vanished
    expect(ports.filter((p) => p >= lo && p <= hi)).toEqual([]);
    expect(fs.readFileSync(s.smbConf, 'utf8')).toMatch(new RegExp(`rpc server dynamic port range = ${a}-${b}`));
  });

  it('startPart: a start that lost a port is stopped (by its recorded PIDs) and tried once more; other failures are not', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-part-'));
    const logs: string[] = [];
    const spawned: number[] = [];
    let calls = 0;
    const flaky = {
      async start({ dir: d }: { dir: string }) {
        calls++;
        const pid = startDaemon('sleep', ['30'], { logFile: path.join(d, 'x.log') });
        recordPid(d, pid);
        spawned.push(pid);
        fs.writeFileSync(path.join(d, 'marker'), String(calls));
        if (calls === 1) throw new Error('lab: process 1 exited\n--- log\ndaemon: bind(7) failed errno=98 (Address already in use)');
        return { pids: [pid] };
      },
    };
    try {
      const state = await startPart(flaky, dir, (m: string) => logs.push(m));
      expect(calls).toBe(2);
      expect(state.pids).toEqual([spawned[1]]);
      expect(alive(spawned[0]!)).toBe(false); // the first attempt's daemon was stopped
      expect(alive(spawned[1]!)).toBe(true);
      expect(fs.readFileSync(path.join(dir, 'marker'), 'utf8')).toBe('2'); // a clean directory
      expect(logs).toEqual(['a port it needed was taken (daemon: bind(7) failed errno=98 (Address already in use)); starting it once more']);

      calls = 0;
      const broken = { start: async () => { calls++; throw new Error('lab: slapd is not installed'); } };
      await expect(startPart(broken, dir, () => {})).rejects.toThrow('not installed');
      expect(calls).toBe(1);
      const always = { start: async () => { calls++; throw new Error('NT_STATUS_ADDRESS_ALREADY_ASSOCIATED'); } };
      calls = 0;
      await expect(startPart(always, dir, () => {})).rejects.toThrow('ALREADY_ASSOCIATED');
      expect(calls).toBe(2);
      expect(PORT_TAKEN.test('connect ECONNREFUSED 127.0.0.1:636')).toBe(false);
    } finally {
      for (const pid of spawned) if (alive(pid)) process.kill(pid, 'SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
