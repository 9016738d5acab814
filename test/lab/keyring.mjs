// The OS keychain on Linux for the lab: a private D-Bus session bus (dbus-daemon --session, on a
// socket inside this part's dir) plus gnome-keyring-daemon serving only the Secret Service
// (org.freedesktop.secrets), with its "login" collection created and unlocked from a password on
// stdin, so nothing ever prompts. All XDG dirs live under this part's dir: the machine's own
// keyrings and session bus are never touched.
//
// state.json fields (for tests, the SDK and the cache inspector):
//   pids            [dbus-daemon pid, gnome-keyring-daemon pid]; both run in the foreground, so
//                   these are the real daemons (stop = kill these PIDs, keyring first)
//   busAddress      the session bus address, `unix:path=<dir>/bus`
//   env             what a client process needs in its environment to reach this Secret Service:
//                   { DBUS_SESSION_BUS_ADDRESS, XDG_RUNTIME_DIR, XDG_DATA_HOME, XDG_CONFIG_HOME }.
//                   libsecret (and so keytar) reads DBUS_SESSION_BUS_ADDRESS when it first connects:
//                   set these in process.env BEFORE the first keytar call in a process (vitest runs
//                   test files in forked processes, so setting process.env in a test file works),
//                   or pass `env` to a child process (secret-tool, node bin/credgate.mjs).
//   collection      'login' (alias 'default'), unlocked; keytar writes there
//   keyringPassword the lab collection's unlock password (lab data, not a secret)
//   keyringFile     <dir>/data/keyrings/login.keyring
//   probe           { service, account }: an item stored at start and read back, proving the
//                   whole chain works; tests must not delete it (healthy() reads it)
//
// Items written by keytar carry the attributes service, account and
// xdg:schema=org.freedesktop.Secret.Generic; `secret-tool lookup service S account A` finds them.
// Tests should use a unique service name per test run and delete what they create.
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { startDaemon, waitFor, which, alive, stopPid } from './proc.mjs';
import { recordPid } from './lab.mjs';

export const name = 'keyring';

const KEYRING_PASSWORD = 'credgate-lab-keyring';
const PROBE = { service: 'credgate-lab-probe', account: 'probe' };
const PROBE_VALUE = 'credgate-lab-probe-value';

/** Run a command with the given env, bounded in time; resolves { code, stdout, stderr }. */
function run(cmd, args, { env, input, timeoutMs = 5000 } = {}) {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: { ...process.env, ...env }, timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

async function secretsOwned(env) {
  const r = await run('dbus-send', [
    '--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus',
    'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets',
  ], { env, timeoutMs: 2000 });
  return r.code === 0 && r.stdout.includes('boolean true');
}

async function probeReads(env) {
  const r = await run('secret-tool', ['lookup', 'service', PROBE.service, 'account', PROBE.account], { env, timeoutMs: 3000 });
  return r.code === 0 && r.stdout === PROBE_VALUE;
}

export async function start({ dir, log }) {
  for (const [b, pkg] of [['dbus-daemon', 'dbus'], ['gnome-keyring-daemon', 'gnome-keyring'], ['secret-tool', 'libsecret-tools'], ['dbus-send', 'dbus']]) {
    if (!which(b)) throw new Error(`lab: ${b} is not installed; run "node scripts/ensure.mjs" (apt-get install ${pkg})`);
  }
  const socket = path.join(dir, 'bus');
  if (Buffer.byteLength(socket) > 100) {
    throw new Error(`lab: the keyring bus socket path ${socket} is too long for a unix socket; set CREDGATE_LAB_DIR to a shorter path`);
  }
  const xdg = {
    XDG_RUNTIME_DIR: path.join(dir, 'run'),
    XDG_DATA_HOME: path.join(dir, 'data'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
  };
  for (const d of Object.values(xdg)) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  fs.chmodSync(xdg.XDG_RUNTIME_DIR, 0o700);
  const busAddress = `unix:path=${socket}`;

  // the bus: foreground, so the PID we get is the daemon's
  const dbusLog = path.join(dir, 'dbus.log');
  const dbusPid = startDaemon('dbus-daemon', ['--session', '--nofork', '--nopidfile', `--address=${busAddress}`], {
    logFile: dbusLog, env: xdg,
  });
  recordPid(dir, dbusPid);
  await waitFor('the private D-Bus session bus', async () => {
    if (!alive(dbusPid)) throw new Error('dbus-daemon exited');
    return fs.existsSync(socket);
  }, { timeoutMs: 10000, intervalMs: 20, logFile: dbusLog, pid: dbusPid });

  // the Secret Service: --unlock reads the password on stdin, creates the "login" collection
  // (alias default) in $XDG_DATA_HOME/keyrings and leaves it unlocked
  const env = { DBUS_SESSION_BUS_ADDRESS: busAddress, ...xdg };
  const gkdLog = path.join(dir, 'gnome-keyring.log');
  const gkdPid = startDaemon('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], {
    logFile: gkdLog, env, stdin: KEYRING_PASSWORD,
  });
  recordPid(dir, gkdPid);
  await waitFor('gnome-keyring-daemon to own org.freedesktop.secrets', async () => {
    if (!alive(gkdPid)) throw new Error('gnome-keyring-daemon exited');
    return secretsOwned(env);
  }, { timeoutMs: 10000, intervalMs: 25, logFile: gkdLog, pid: gkdPid });

  // prove a store + lookup round trip (fails fast if the collection is locked or missing)
  const st = await run('secret-tool', ['store', '--label=credgate lab probe', 'service', PROBE.service, 'account', PROBE.account, 'xdg:schema', 'org.freedesktop.Secret.Generic'], {
    env, input: PROBE_VALUE, timeoutMs: 5000,
  });
  if (st.code !== 0) throw new Error(`lab: secret-tool store failed (${st.code}): ${st.stderr.trim()}`);
  await waitFor('the probe item to read back', () => probeReads(env), { timeoutMs: 5000, intervalMs: 50, logFile: gkdLog });

  log(`Secret Service on ${busAddress} (dbus pid ${dbusPid}, gnome-keyring pid ${gkdPid})`);
  return {
    pids: [dbusPid, gkdPid],
    busAddress,
    env,
    collection: 'login',
    keyringPassword: KEYRING_PASSWORD,
    keyringFile: path.join(xdg.XDG_DATA_HOME, 'keyrings', 'login.keyring'),
    probe: PROBE,
  };
}

export async function healthy(state) {
  return (await secretsOwned(state.env)) && (await probeReads(state.env));
}

export async function stop(state) {
  // the keyring first (it exits by itself when its bus goes, but do not rely on it), then the bus
  const [dbusPid, gkdPid] = state.pids;
  await stopPid(gkdPid);
  await stopPid(dbusPid);
}
