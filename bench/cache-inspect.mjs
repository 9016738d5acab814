#!/usr/bin/env node
// inspect over 100,000 collected entries from 1,000 machines: wall time of inspectCache over the
// whole fleet (account + inventory + pwdLastSet rules) and of reading the 1,000 collector files,
// and peak RSS. Targets: inspect under 1 s, memory under 200 MB.
// Usage: node bench/cache-inspect.mjs [machines=1000] [perMachine=100]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// the cache subpaths only, as an admin's fleet script would import them (credgate/cache/*)
const { inspectCache } = await import(path.join(root, 'dist', 'cache', 'staleness.js'));
const { loadCacheFile, mergeSnapshots } = await import(path.join(root, 'dist', 'cache', 'load.js'));
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
  process.stdout.write(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--measure', dir], { timeout: 120_000 }));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
