#!/usr/bin/env node
// inspect over 100,000 collected entries from 1,000 machines. Two measurements, each in a process
// of its own so its peak RSS is credgate's alone:
//   1. the SDK: read the 1,000 collector files, then inspectCache over the whole fleet (account +
//      inventory + pwdLastSet rules) and for one host;
//   2. end to end: `credgate cache inspect --from <dir> --account ... --changed-at ... --inventory ...
//      --json` as a user runs it (wall time of the process, its peak RSS, the size of its output);
//   3. the same for `credgate cache purge ... --json` (the dry run: the whole plan and its commands).
// Targets: inspect under 1 s, memory under 200 MB.
// Usage: npx tsup && node bench/cache-inspect.mjs [machines=1000] [perMachine=100]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execFileSync, spawn } from 'node:child_process';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// the cache subpaths only, as an admin's fleet script would import them (credgate/cache/*)
const { inspectCache } = await import(path.join(root, 'dist', 'cache', 'index.js'));
const { loadCacheFile, mergeSnapshots } = await import(path.join(root, 'dist', 'cache', 'index.js'));
const hostsOf = () => Array.from({ length: 300 }, (_, i) => `srv${i}.pamtest.local`);

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
  const rssMB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({
    bench: 'cache-inspect', machines: fs.readdirSync(dir).length, entries: snap.entries.length, readFilesMs: Math.round(readMs), inspectFleetMs: Math.round(inspectMs),
    inspectOneHostMs: Math.round(hostMs), oneHostFindings: one.findings.length, findings: counts, peakRssMB: Math.round(rssMB),
    pass: inspectMs < 1000 && rssMB < 200,
  }));
  process.exit(0);
}

const machines = Number(process.argv[2] ?? 1000);
const per = Number(process.argv[3] ?? 100);
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
  process.exitCode = sdk.pass && runs.every((r) => r.pass) ? 0 : 1; // a missed target fails the bench
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
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
    // the child reports its own peak RSS when it exits (a preload, so the CLI runs unchanged)
    const hook = path.join(work, 'rss-hook.mjs');
    const rssFile = path.join(work, 'rss.txt');
    fs.writeFileSync(hook, `import fs from 'node:fs';\nprocess.on('exit', () => fs.writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\n`);
    const args = ['--import', pathToFileURL(hook).href, path.join(root, 'bin', 'credgate.mjs'), 'cache', sub, '--from', fleet,
      '--account', 'PAMTEST\\svc-rdp', '--changed-at', '2026-11-01T00:00:00Z', '--inventory', inventory, '--json'];
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    let bytes = 0;
    child.stdout.on('data', (d) => {
      chunks.push(d);
      bytes += d.length;
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const code = await new Promise((resolve) => child.on('close', resolve));
    const wallMs = performance.now() - t0;
    const out = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const rssMB = Number(fs.readFileSync(rssFile, 'utf8')) / 1024;
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
