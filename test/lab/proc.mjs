// Process helpers for the lab: start detached children with their output in a log file, record
// their PIDs, wait for readiness, and stop exactly the PIDs we started (TERM, then KILL).
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';

export const execFileP = promisify(execFile);

export function alive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // a zombie is not alive for our purposes
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z';
  } catch {
    return true;
  }
}

/** Start a long-running child detached (own process group), output to logFile. Returns its PID. */
export function startDaemon(cmd, args, { logFile, env, cwd, stdin } = {}) {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, {
    detached: true,
    stdio: [stdin === undefined ? 'ignore' : 'pipe', out, out],
    env: { ...process.env, ...env },
    cwd,
  });
  if (stdin !== undefined) {
    child.stdin.end(stdin);
  }
  fs.closeSync(out);
  child.unref();
  if (!child.pid) throw new Error(`could not start ${cmd}`);
  return child.pid;
}

export async function stopPid(pid, { graceMs = 5000 } = {}) {
  if (!alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const t0 = Date.now();
  while (alive(pid) && Date.now() - t0 < graceMs) await sleep(25);
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
    const t1 = Date.now();
    while (alive(pid) && Date.now() - t1 < 2000) await sleep(25);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Poll fn until it returns a truthy value. With pid, give up as soon as that process has exited
 * (a daemon that died at start never becomes ready; waiting out the timeout only hides why).
 * @template T
 * @param {string} desc
 * @param {() => Promise<T> | T} fn
 * @param {{ timeoutMs?: number, intervalMs?: number, logFile?: string, pid?: number }} [opts]
 * @returns {Promise<T>}
 */
export async function waitFor(desc, fn, { timeoutMs = 30000, intervalMs = 50, logFile, pid } = {}) {
  const t0 = Date.now();
  let lastErr;
  let died = false;
  while (Date.now() - t0 < timeoutMs) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastErr = e;
    }
    if (pid && !alive(pid)) {
      died = true;
      break;
    }
    await sleep(intervalMs);
  }
  let tail = '';
  if (logFile) {
    try {
      tail = '\n--- ' + logFile + ' (last lines)\n' + fs.readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n');
    } catch {}
  }
  const what = died ? `process ${pid} exited after ${Date.now() - t0} ms while waiting for ${desc}` : `timed out after ${timeoutMs} ms waiting for ${desc}`;
  throw new Error(`lab: ${what}${lastErr ? ` (last error: ${lastErr.message})` : ''}${tail}`);
}

/**
 * The kernel's ephemeral port range (where listen(0) and outgoing connections take ports).
 * @returns {[number, number]}
 */
export function ephemeralPortRange() {
  try {
    const [lo, hi] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo > 0 && hi >= lo) return [lo, hi];
  } catch {}
  return [32768, 60999];
}

export function portOpen(port, host = '127.0.0.1', timeoutMs = 500) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}

/** A free TCP port on 127.0.0.1 chosen by the kernel. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin'])) {
    if (dir && fs.existsSync(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
  }
  return null;
}
