#!/usr/bin/env node
// A single `doctor` on loopback: total wall time and credgate's own CPU time (process CPU used
// in this process during the call: the servers' time is theirs), median of N runs against the
// lab's Samba DC and its NLA RDP host (every step runs: provider-less password, account state,
// bind, probe with TLS, NLA; the cache step has no input). Target: own time under 150 ms.
// Usage: node bench/doctor.mjs [runs=15]   (starts the lab parts it needs, stops what it started)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { up, down, readState } from '../test/lab/lab.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { preflight, Secret } = await import(path.join(root, 'dist', 'index.js'));
const runs = Number(process.argv[2] ?? 15);
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

const { started } = await up(['samba', 'rdp'], { log: () => {} });
try {
  const samba = readState('samba');
  const alice = samba.scenarios.find((s) => s.key === 'good');
  const rdp = readState('rdp');
  const host = `127.0.0.1:${rdp.nla.port}`;
  const options = {
    directory: {
      urls: samba.ldapsUrl, caFile: samba.caFile,
      service: { username: `${samba.reader.user}@pamtest.local`, password: new Secret(samba.reader.password) },
    },
    deadlineMs: 10_000,
  };
  const wall = [];
  const cpu = [];
  for (let i = 0; i < runs + 2; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await preflight({ host, account: alice.downLevel, password: new Secret(alice.password) }, options);
    const dt = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (i >= 2) {
      wall.push(dt);
      cpu.push((c.user + c.system) / 1000);
    }
    if (i === 0 && !['ldap.ok', 'rdp.nla-ok'].every((code) => r.verdict.findings.some((f) => f.code === code))) throw new Error(`unexpected verdict ${r.verdict.code}: the bind and the NLA check must both have run and passed`);
  }
  const result = { bench: 'doctor', runs, host, wallMedianMs: +median(wall).toFixed(1), ownCpuMedianMs: +median(cpu).toFixed(1), targetOwnMs: 150 };
  result.pass = result.ownCpuMedianMs < 150;
  console.log(JSON.stringify(result));
  process.exitCode = result.pass ? 0 : 1; // a missed target fails the bench
} finally {
  if (started.length) await down(started, { log: () => {} });
}
