// The lab's own start-up rules: a daemon that dies at start fails the wait at once (with its log),
// and Samba's fixed ports stay out of the kernel's ephemeral range, where the other lab servers'
// listen(0) ports and every outgoing connection take theirs (a CI run once lost that race on
// 127.0.0.1:49154, Samba's default first RPC port).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { waitFor, ephemeralPortRange, alive } from './proc.mjs';
import { rpcPortRange } from './samba.mjs';
import { samba } from './state.js';

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
});
