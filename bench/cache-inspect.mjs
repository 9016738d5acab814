#!/usr/bin/env node
// inspect over 100,000 collected entries from 1,000 machines. Two measurements, each in a process
// of its own so its peak RSS is credgate's alone:
//   1. the SDK: read the 1,000 collector files, then inspectCache over the whole fleet (account +
//      inventory + pwdLastSet rules) and for one host;
//   2. end to end: `credgate cache inspect --from <dir> --account ... --changed-at ... --inventory ...
//      --json` as a user runs it (wall time of the process, its peak RSS, the size of its output);
//   3. the same for `credgate cache purge ... --json` (the dry run: the whole plan and its commands);
//   4. one large capture per format (issue 14, defect 11: a 60 MB cmdkey capture took 611-624 MB):
//      `cmdkey /list` text in UTF-16LE with a BOM (PowerShell 5.1's `> file`) and in UTF-8, a reg
//      export (UTF-16LE, reg.exe's), collector JSON: loadCacheFile in a child of its own (read time,
//      entries, peak RSS), and `credgate cache inspect --from <the UTF-16 capture>` end to end.
// Targets: inspect under 1 s, memory under 200 MB (the captures too).
// Issue 14 (defect 11), 60 MB captures, peak RSS (VmHWM) before -> after streaming (2 cores, load 4-5,
// so the times are rough): cmdkey UTF-16LE 415 -> 159 MB (212,614 entries, 2.4 s -> 0.8 s); cmdkey
// UTF-8 533 -> 244 MB (423,737 entries: the entries themselves); reg export 371 -> 137 MB; collector
// JSON (100,000 credentials) 376 -> 203 MB (0.5 s -> 1.3 s: a JS parser instead of JSON.parse);
// `credgate cache inspect --from <UTF-16 capture>` 552 -> 282 MB (the rest is inspectCache on 212k entries).
// Usage: npx tsup && node bench/cache-inspect.mjs [--bin <path to bin/credgate.mjs>] [machines=1000] [perMachine=100] [captureMB=60]
//   (--bin, or CREDGATE_BENCH_BIN: another build's CLI for the end-to-end runs; the SDK figures are this checkout's)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { benchArgs } from './lib/args.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// the cache subpath only, as an admin's fleet script would import it (credgate/cache)
const { inspectCache, loadCacheFile, mergeSnapshots } = await import(path.join(root, 'dist', 'cache', 'index.js'));
/**
 * This process's peak RSS in MB: VmHWM, the peak of its own address space (reset by exec). Not
 * process.resourceUsage().maxRSS: Linux keeps ru_maxrss across fork + exec, so a child would report
 * at least its parent's size at the fork.
 */
export function peakRssMB() {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {}
  return process.resourceUsage().maxRSS / 1024;
}
const hostsOf = () => Array.from({ length: 300 }, (_, i) => `srv${i}.pamtest.local`);

if (process.argv[2] === '--measure-file') {
  // the child for one large capture: read it as `cache inspect --from` does; its peak RSS is the reader's
  const t0 = performance.now();
  const snap = loadCacheFile(process.argv[3]);
  const readMs = performance.now() - t0;
  const rssMB = peakRssMB();
  console.log(JSON.stringify({ entries: snap.entries.length, hints: snap.hints.length, warnings: snap.warnings.length, readMs: Math.round(readMs), peakRssMB: Math.round(rssMB) }));
  process.exit(0);
}

if (process.argv[2] === '--measure') {
  // the child: read the fleet's files and inspect them; its peak RSS is credgate's alone
  const dir = process.argv[3];
  const hosts = hostsOf();
  const t0 = performance.now();
  const snap = mergeSnapshots(fs.readdirSync(dir).map((f) => loadCacheFile(path.join(dir, f))));
  const readMs = performance.now() - t0;
  const t1 = performance.now();
  const r = inspectCache({ entries: snap.entries, hints: snap.hints, account: 'svc-rdp@pamtest.local', pwdLastSet: new Date(Date.UTC(2026, 10, 1)), inventory: hosts.slice(0, 250) });
  const inspectMs = performance.now() - t1;
  const t2 = performance.now();
  const one = inspectCache({ entries: snap.entries, hints: snap.hints, account: 'svc-rdp@pamtest.local', host: 'srv7', pwdLastSet: new Date(Date.UTC(2026, 10, 1)) });
  const hostMs = performance.now() - t2;
  const counts = {};
  for (const f of r.findings) counts[f.code] = (counts[f.code] ?? 0) + 1;
  const rssMB = peakRssMB();
  console.log(JSON.stringify({
    bench: 'cache-inspect', machines: fs.readdirSync(dir).length, entries: snap.entries.length, readFilesMs: Math.round(readMs), inspectFleetMs: Math.round(inspectMs),
    inspectOneHostMs: Math.round(hostMs), oneHostFindings: one.findings.length, findings: counts, peakRssMB: Math.round(rssMB),
    pass: inspectMs < 1000 && rssMB < 200,
  }));
  process.exit(0);
}

const { bin, rest } = benchArgs(process.argv.slice(2));
const machines = Number(rest[0] ?? 1000);
const per = Number(rest[1] ?? 100);
const captureMB = Number(rest[2] ?? 60);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-bench-cache-'));
try {
  const hosts = hostsOf();
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let m = 0; m < machines; m++) {
    const credentials = [];
    for (let k = 0; k < per; k++) {
      const h = hosts[Math.floor(rnd() * hosts.length)];
      const short = rnd() < 0.3;
      credentials.push({
        target: k % 5 === 0 ? `LegacyGeneric:target=app${k}` : `Domain:target=TERMSRV/${short ? h.split('.')[0] : h}`,
        type: 'domain-password', userName: rnd() < 0.9 ? 'PAMTEST\\svc-rdp' : 'PAMTEST\\olduser',
        lastWritten: new Date(Date.UTC(2026, 9, 1) + Math.floor(rnd() * 60) * 86400e3).toISOString(), persist: 'local-machine',
      });
    }
    fs.writeFileSync(path.join(dir, `ws${m}.json`), JSON.stringify({ schema: 'credgate-collector/1', machine: `WS-${m}`, credentials, rdpServers: [{ server: hosts[m % hosts.length], usernameHint: 'PAMTEST\\svc-rdp', certHash: 'AB'.repeat(20) }] }));
  }
  const sdk = JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--measure', dir], { timeout: 120_000 }).toString());
  console.log(JSON.stringify(sdk));
  const runs = [await endToEnd(dir, hosts, 'inspect'), await endToEnd(dir, hosts, 'purge')];
  for (const r of runs) console.log(JSON.stringify(r));
  for (const json of [false, true]) {
    const r = await purgeYes(dir, hosts, json);
    console.log(JSON.stringify(r));
    runs.push(r);
  }
  const captures = await largeCaptures(captureMB);
  process.exitCode = sdk.pass && runs.every((r) => r.pass) && captures.every((r) => r.pass) ? 0 : 1; // a missed target fails the bench
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * The CLI (`bin`) as a child process of its own with `args`: wall time, exit code, stdout (bytes),
 * stderr, and its peak RSS, which a preload written into `work` reports when the child exits (so the
 * CLI runs unchanged).
 */
async function measuredCli(work, args) {
  const hook = path.join(work, 'rss-hook.mjs');
  const rssFile = path.join(work, 'rss.txt');
  fs.writeFileSync(hook, RSS_HOOK(rssFile));
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', pathToFileURL(hook).href, bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks = [];
  child.stdout.on('data', (d) => chunks.push(d));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const code = await new Promise((resolve) => child.on('close', resolve));
  const wallMs = performance.now() - t0;
  return { code, wallMs, stdout: Buffer.concat(chunks), stderr, rssMB: Number(fs.readFileSync(rssFile, 'utf8')) / 1024 };
}

/**
 * The CLI over the fleet directory in a child process: wall time, that process's peak RSS, its output.
 * sub = inspect, or purge (the dry run: the plan of every stale entry and its cmdkey command).
 */
async function endToEnd(fleet, hosts, sub) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-bench-cli-'));
  try {
    const inventory = path.join(work, 'inventory.txt');
    fs.writeFileSync(inventory, hosts.slice(0, 250).join('\n') + '\n');
    const { code, wallMs, stdout, stderr, rssMB } = await measuredCli(work, ['cache', sub, '--from', fleet,
      '--account', 'PAMTEST\\svc-rdp', '--changed-at', '2026-11-01T00:00:00Z', '--inventory', inventory, '--json']);
    const bytes = stdout.length;
    const out = JSON.parse(stdout.toString('utf8'));
    const counts = {};
    for (const f of out.findings ?? out.plan.items) counts[f.code ?? f.rule] = (counts[f.code ?? f.rule] ?? 0) + 1;
    return {
      bench: `cache-${sub}-cli`, command: `credgate cache ${sub} --from <dir of 1,000 files> --account --changed-at --inventory --json`,
      exitCode: code, ...(sub === 'inspect' ? { considered: out.considered, findings: counts } : { planned: counts, commands: out.commands.length }),
      outputMB: Math.round(bytes / 1048576), wallMs: Math.round(wallMs), peakRssMB: Math.round(rssMB),
      ...(stderr ? { stderr: stderr.slice(0, 300) } : {}), pass: code === 6 && rssMB < 200,
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * `credgate cache purge ... --yes` over the fleet: the audit record is written, the commands and the
 * script emitted (fleet input deletes nothing here). Peak RSS of the process, and SHA-256s of its
 * output and its audit record with this run's own directory and timestamps replaced, so the same
 * figures from two builds show whether the output changed.
 */
async function purgeYes(fleet, hosts, json) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-bench-purge-'));
  try {
    const inventory = path.join(work, 'inventory.txt');
    fs.writeFileSync(inventory, hosts.slice(0, 250).join('\n') + '\n');
    const audit = path.join(work, 'audit.jsonl');
    const { code, wallMs, stdout, stderr, rssMB } = await measuredCli(work, ['cache', 'purge', '--from', fleet, '--account', 'PAMTEST\\svc-rdp',
      '--changed-at', '2026-11-01T00:00:00Z', '--inventory', inventory, '--yes', '--audit', audit, ...(json ? ['--json'] : [])]);
    // the run's own: its temp directories (the fleet's, the audit's), and the times it stamped (the plan's, the audit record's)
    const own = (text) => text.split(work).join('<work>').split(fleet).join('<fleet>').replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, (m) => (Math.abs(Date.parse(m) - Date.now()) < 86_400_000 ? '<time>' : m));
    const sha = (text) => createHash('sha256').update(own(text)).digest('hex').slice(0, 16);
    const out = stdout.toString('utf8');
    const auditText = fs.readFileSync(audit, 'utf8');
    return {
      bench: `cache-purge-yes-cli${json ? '-json' : ''}`, command: `credgate cache purge --from <dir of 1,000 files> --account --changed-at --inventory --yes${json ? ' --json' : ''}`,
      exitCode: code, outputMB: +(Buffer.byteLength(out) / 1048576).toFixed(1), outputSha256: sha(out), auditMB: +(Buffer.byteLength(auditText) / 1048576).toFixed(1), auditSha256: sha(auditText),
      wallMs: Math.round(wallMs), peakRssMB: Math.round(rssMB), load: +os.loadavg()[0].toFixed(2), ...(code !== 0 && stderr ? { stderr: stderr.slice(0, 300) } : {}), pass: code === 0 && rssMB <= 150,
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** A preload that writes the process's peak RSS in KB (VmHWM, see peakRssMB) to `file` when it exits. */
function RSS_HOOK(file) {
  return `import fs from 'node:fs';\nprocess.on('exit', () => { let kb = process.resourceUsage().maxRSS; try { kb = Number(/^VmHWM:\\s+(\\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]); } catch {} fs.writeFileSync(${JSON.stringify(file)}, String(kb)); });\n`;
}

/** Text of `n` bytes or more made of `block(i)` for i = 0, 1, ... */
function grow(bytes, head, block, enc) {
  const parts = [head];
  let size = Buffer.byteLength(head, enc);
  for (let i = 0; size < bytes; i++) {
    const b = block(i);
    parts.push(b);
    size += Buffer.byteLength(b, enc);
  }
  return parts.join('');
}

/**
 * Large captures, one per format, each read by loadCacheFile in a child process (read time, peak
 * RSS), and the UTF-16 cmdkey capture through the CLI (`credgate cache inspect --from <file>`).
 * Entries are distinct (each its own host and user), as a capture of many machines has them.
 */
async function largeCaptures(mb) {
  const bytes = mb * 1024 * 1024;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-bench-capture-'));
  const out = [];
  try {
    const cmdkey = grow(bytes, '\r\nCurrently stored credentials:\r\n\r\n', (i) => `    Target: Domain:target=TERMSRV/srv${i}.pamtest.local\r\n    Type: Domain Password\r\n    User: PAMTEST\\user${i}\r\n    Local machine persistence\r\n\r\n`, 'utf16le');
    const files = [
      ['cmdkey /list, UTF-16LE + BOM', 'cmdkey-utf16.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(cmdkey, 'utf16le')])],
      ['cmdkey /list, UTF-8', 'cmdkey-utf8.txt', Buffer.from(grow(bytes, '\r\nCurrently stored credentials:\r\n\r\n', (i) => `    Target: Domain:target=TERMSRV/srv${i}.pamtest.local\r\n    Type: Domain Password\r\n    User: PAMTEST\\user${i}\r\n    Local machine persistence\r\n\r\n`, 'utf8'), 'utf8')],
      ['reg export, UTF-16LE + BOM', 'rdp.reg', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(grow(bytes, 'Windows Registry Editor Version 5.00\r\n\r\n', (i) => `[HKEY_CURRENT_USER\\Software\\Microsoft\\Terminal Server Client\\Servers\\srv${i}.pamtest.local]\r\n"UsernameHint"="PAMTEST\\\\user${i}"\r\n"CertHash"=hex:0e,cf,a3,f4,ab,40,d7,ca,55,8b,5b,56,4c,70,3e,\\\r\n  ba,1f,40,6a,7f\r\n\r\n`, 'utf16le'), 'utf16le')])],
    ];
    // collector JSON: at most 100,000 credentials per file, so each carries a comment to reach the size
    const per = Math.max(0, Math.floor(bytes / 100_000) - 230);
    const creds = [];
    for (let i = 0; i < 100_000; i++) creds.push(JSON.stringify({ target: `Domain:target=TERMSRV/srv${i}.pamtest.local`, type: 'domain-password', userName: `PAMTEST\\user${i}`, lastWritten: '2026-10-01T00:00:00.0000000Z', persist: 'local-machine', comment: 'c'.repeat(Math.min(per, 4096)) }));
    files.push(['collector JSON, UTF-8 + BOM', 'ws.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`{\r\n  "schema": "credgate-collector/1",\r\n  "machine": "WS-BIG",\r\n  "credentials": [\r\n    ${creds.join(',\r\n    ')}\r\n  ]\r\n}\r\n`, 'utf8')])]);
    creds.length = 0;
    for (const [kind, name, buf] of files) {
      const f = path.join(work, name);
      fs.writeFileSync(f, buf);
      const r = JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--measure-file', f], { timeout: 120_000 }).toString());
      const row = { bench: 'cache-capture', kind, fileMB: Math.round(buf.length / 1048576), ...r, pass: r.peakRssMB < 200 };
      console.log(JSON.stringify(row));
      out.push(row);
    }
    // end to end: the CLI over the UTF-16 capture, as the red team ran it
    const { code, wallMs, stdout: printed, rssMB } = await measuredCli(work, ['cache', 'inspect', '--from', path.join(work, 'cmdkey-utf16.txt')]);
    const stdout = printed.toString('utf8');
    const row = { bench: 'cache-capture-cli', command: `credgate cache inspect --from <${mb} MB cmdkey capture, UTF-16LE>`, exitCode: code, checked: /(\d+) RDP entr\S+ checked of (\d+)/.exec(stdout)?.slice(1).join(' of '), wallMs: Math.round(wallMs), peakRssMB: Math.round(rssMB), pass: code === 0 && rssMB < 200 };
    console.log(JSON.stringify(row));
    out.push(row);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return out;
}
