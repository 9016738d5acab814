// The lab: real servers on loopback, started by the project. Each part is a module in this
// folder exporting { name, start({ dir, log }), stop(state), healthy?(state) }. State is JSON in
// <labDir>/<part>/state.json, so tests, the demo and `npm run lab:down` find what is running.
//
// A part already running (its PIDs alive and healthy) is reused, not restarted: `npm run lab:up`
// once, then run tests many times. `up()` returns the names of the parts it started itself, so a
// caller (vitest global setup) stops only those. If any part fails to start, `up()` first stops
// the parts it started itself (their recorded PIDs), leaves reused ones alone, then throws: a
// caller that never got a result has nothing left running to clean up.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, stopPid } from './proc.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const projectRoot = path.resolve(here, '..', '..');
export const labDir = process.env.CREDGATE_LAB_DIR ? path.resolve(process.env.CREDGATE_LAB_DIR) : path.join(projectRoot, '.lab');

/** Part modules, in start order. A new lab server is one file here plus one line in this list. */
export const PARTS = ['samba', 'slapd', 'rdp', 'keyring'];

async function loadPart(name) {
  const mod = await import(/* @vite-ignore */ `./${name}.mjs`);
  return mod;
}

function statePath(name) {
  return path.join(labDir, name, 'state.json');
}

export function readState(name) {
  try {
    return JSON.parse(fs.readFileSync(statePath(name), 'utf8'));
  } catch {
    return null;
  }
}

export function readAllStates() {
  const out = {};
  for (const name of PARTS) {
    const s = readState(name);
    if (s) out[name] = s;
  }
  return out;
}

function isRunning(state) {
  return !!state && Array.isArray(state.pids) && state.pids.length > 0 && state.pids.every(alive);
}

export async function up(names = PARTS, { log = (m) => process.stderr.write(m + '\n') } = {}) {
  const started = [];
  const timings = {};
  fs.mkdirSync(labDir, { recursive: true });
  // parts are independent; start them in parallel (samba dominates the wall time). allSettled, not
  // all: every start finishes (and records its state) before we decide, so nothing is orphaned
  const results = await Promise.allSettled(
    names.map(async (name) => withLock(name, async () => {
      const mod = await loadPart(name);
      const prev = readState(name);
      if (isRunning(prev) && (!mod.healthy || (await mod.healthy(prev).catch(() => false)))) {
        log(`lab: ${name} already running (pids ${prev.pids.join(',')}), reusing it`);
        return;
      }
      if (prev) await stopState(prev);
      const dir = path.join(labDir, name);
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      const t0 = Date.now();
      const state = await startPart(mod, dir, (m) => log(`lab: ${name}: ${m}`));
      state.startedAt = new Date().toISOString();
      state.startMs = Date.now() - t0;
      timings[name] = state.startMs;
      fs.writeFileSync(statePath(name), JSON.stringify(state, null, 2));
      started.push(name);
      log(`lab: ${name} up in ${state.startMs} ms`);
    })),
  );
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ name: names[i], error: r.reason }] : []));
  if (failed.length) {
    const cleanup = [];
    for (const name of [...started].reverse()) {
      try {
        await down([name], { log });
      } catch (e) {
        cleanup.push(`${name}: ${e instanceof Error ? e.message : e}`);
      }
    }
    const why = failed.map((f) => `${f.name}: ${f.error instanceof Error ? f.error.message : f.error}`).join('; ');
    const stopped = started.length ? ` Stopped the parts this call had started (${[...started].reverse().join(', ')}).` : '';
    const left = cleanup.length ? ` Could not stop: ${cleanup.join('; ')} — run \`npm run lab:down\`.` : '';
    const err = new Error(`lab: failed to start ${why}.${stopped}${left}`, { cause: failed[0].error });
    err.failures = failed;
    throw err;
  }
  return { started, timings };
}

/**
 * mod.start in dir; when it fails, the PIDs it recorded are stopped. A start that failed because a
 * port was taken between choosing it and the server binding it (another process's listen(0) or
 * outgoing connection) is tried once more, from a clean directory; any other failure is thrown.
 */
export async function startPart(mod, dir, log) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await mod.start({ dir, log });
    } catch (e) {
      // a half-started part records its pids in partial-pids.json; stop them
      await stopPartial(dir);
      if (attempt > 1 || !PORT_TAKEN.test(e instanceof Error ? e.message : String(e))) throw e;
      log(`a port it needed was taken (${firstLine(e)}); starting it once more`);
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
    }
  }
}

/** What a server logs when a port it wants is taken (Samba, slapd, FreeRDP, Node). */
export const PORT_TAKEN = /ADDRESS_ALREADY_ASSOCIATED|address already in use|EADDRINUSE|errno[ =]98\b/i;
const firstLine = (e) => String(e instanceof Error ? e.message : e).split('\n').find((l) => PORT_TAKEN.test(l))?.trim().slice(0, 200) ?? '';

/**
 * One starter per part across processes (two test runs, or a run and `lab:up`): a lock file
 * holding the starter's PID, created exclusively; a stale lock (dead PID) is taken over.
 */
async function withLock(name, fn) {
  const file = path.join(labDir, `${name}.lock`);
  const t0 = Date.now();
  for (;;) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let holder = 0;
      try {
        holder = Number(fs.readFileSync(file, 'utf8'));
      } catch {}
      if (!holder || !alive(holder)) {
        fs.rmSync(file, { force: true });
        continue;
      }
      if (Date.now() - t0 > 120_000) throw new Error(`lab: ${name} is being started by pid ${holder} for over 2 minutes; remove ${file} if that process is gone`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(file, { force: true });
  }
}

async function stopPartial(dir) {
  try {
    const pids = JSON.parse(fs.readFileSync(path.join(dir, 'partial-pids.json'), 'utf8'));
    for (const pid of pids.reverse()) await stopPid(pid);
  } catch {}
}

/** Record a PID the moment it is spawned, so a failed start can still stop it. */
export function recordPid(dir, pid) {
  const f = path.join(dir, 'partial-pids.json');
  let pids = [];
  try {
    pids = JSON.parse(fs.readFileSync(f, 'utf8'));
  } catch {}
  pids.push(pid);
  fs.writeFileSync(f, JSON.stringify(pids));
}

async function stopState(state) {
  for (const pid of [...(state.pids ?? [])].reverse()) await stopPid(pid);
}

export async function down(names = PARTS, { log = (m) => process.stderr.write(m + '\n') } = {}) {
  for (const name of [...names].reverse()) await withLock(name, async () => {
    const s = readState(name);
    if (!s) return;
    let mod;
    try {
      mod = await loadPart(name);
    } catch {}
    if (mod?.stop) await mod.stop(s);
    await stopState(s);
    try {
      fs.rmSync(statePath(name));
    } catch {}
    log(`lab: ${name} stopped (pids ${(s.pids ?? []).join(',')})`);
  });
}

export function status() {
  const out = {};
  for (const name of PARTS) {
    const s = readState(name);
    out[name] = s ? { running: isRunning(s), pids: s.pids, startMs: s.startMs } : { running: false };
  }
  return out;
}
