// DC failover and a directory that dies mid-run, against slapd instances of this test's own
// (separate dirs and ports, started with the lab's slapd part and stopped by PID; the shared lab
// slapd is never touched). Proves: a dead URL is skipped, a connection that dies moves to the
// next URL, and when every URL is dead each remaining account is reported unreachable — none
// lost, none reported valid.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { verifyMany, type VerifyResult } from '../../../src/bulk/verify-many.js';
import { Secret } from '../../../src/core/secret.js';
import * as slapdPart from '../../lab/slapd.mjs';
import { stopPid, alive, freePort } from '../../lab/proc.mjs';
import { labDir } from '../../lab/lab.mjs';

interface Own { pids: number[]; ldapsUrl: string; caFile: string; suffix: string; benchPassword: string }
const N = 600;
let base: string;
let a: Own;
let b: Own;

async function startOwn(name: string): Promise<Own> {
  const dir = path.join(base, name);
  fs.mkdirSync(dir, { recursive: true });
  return slapdPart.start({ dir, log: () => {} }) as Promise<Own>;
}

beforeAll(async () => {
  base = path.join(labDir as string, `bulk-failover-${process.pid}`);
  const prev = process.env.CREDGATE_LAB_SLAPD_BENCH;
  process.env.CREDGATE_LAB_SLAPD_BENCH = String(N);
  try {
    [a, b] = await Promise.all([startOwn('a'), startOwn('b')]);
  } finally {
    if (prev === undefined) delete process.env.CREDGATE_LAB_SLAPD_BENCH;
    else process.env.CREDGATE_LAB_SLAPD_BENCH = prev;
  }
}, 60_000);

afterAll(async () => {
  for (const s of [a, b]) for (const pid of s?.pids ?? []) await stopPid(pid);
  fs.rmSync(base, { recursive: true, force: true });
});

const accounts = (own: Own, n: number) =>
  Array.from({ length: n }, (_, i) => ({ username: `uid=bench${i},ou=people,${own.suffix}`, password: new Secret(own.benchPassword), line: i + 1 }));

describe('failover', () => {
  it('skips a URL that refuses and verifies on the next', async () => {
    const dead = `ldaps://127.0.0.1:${await freePort()}`;
    const out: VerifyResult[] = [];
    for await (const r of verifyMany(accounts(a, 50), { urls: [dead, a.ldapsUrl], ca: [fs.readFileSync(a.caFile), fs.readFileSync(b.caFile)], concurrency: 4, timeoutMs: 3000 })) out.push(r);
    expect(out).toHaveLength(50);
    expect(out.every((r) => r.ok && r.url === a.ldapsUrl.replace(/\/?$/, '') )).toBe(true);
  });

  it('moves to the next URL when its directory dies mid-run; every account answered once', async () => {
    const out: VerifyResult[] = [];
    let killed = false;
    let killAt = -1;
    const it = verifyMany(accounts(a, N), {
      urls: [b.ldapsUrl, a.ldapsUrl], ca: [fs.readFileSync(a.caFile), fs.readFileSync(b.caFile)], concurrency: 4, rate: 600, timeoutMs: 3000,
    });
    for await (const r of it) {
      out.push(r);
      if (out.length === 150 && !killed) {
        killed = true;
        killAt = out.length;
        await stopPid(b.pids[0]!);
        expect(alive(b.pids[0]!)).toBe(false);
      }
    }
    expect(out).toHaveLength(N);
    expect(new Set(out.map((r) => r.line)).size).toBe(N);
    const lost = out.filter((r) => !r.ok);
    // only binds in flight when b died may be lost (reported, not retried); the rest went to a
    expect(lost.length).toBeLessThanOrEqual(4);
    for (const r of lost) expect(r.code).toMatch(/^net\./);
    const after = out.slice(killAt + 8);
    expect(after.length).toBeGreaterThan(300);
    expect(after.every((r) => r.ok && r.url === a.ldapsUrl.replace(/\/?$/, ''))).toBe(true);
  });

  it('when every URL is dead, each remaining account is reported unreachable: none lost, none valid', async () => {
    const out: VerifyResult[] = [];
    let deadAfter = -1;
    for await (const r of verifyMany(accounts(a, N), { urls: a.ldapsUrl, caFile: a.caFile, concurrency: 4, rate: 800, timeoutMs: 3000 })) {
      out.push(r);
      if (out.length === 100) {
        await stopPid(a.pids[0]!);
        deadAfter = out.length;
      }
    }
    expect(out).toHaveLength(N);
    expect(new Set(out.map((r) => r.line)).size).toBe(N);
    const okCount = out.filter((r) => r.ok).length;
    // valid only for binds the server answered before it died: the first 100 plus those in flight / queued
    expect(okCount).toBeGreaterThanOrEqual(100);
    expect(okCount).toBeLessThan(100 + 4 + 64);
    const failed = out.filter((r) => !r.ok);
    expect(failed.length).toBe(N - okCount);
    expect(failed.every((r) => /^net\./.test(r.code) && r.category === 'unreachable' && r.exitCode === 4)).toBe(true);
    // after the first failure, nothing is valid again
    const firstFail = out.findIndex((r) => !r.ok);
    expect(out.slice(firstFail).some((r) => r.ok)).toBe(false);
    // at most the binds in flight lost their answer; the rest were never sent
    expect(failed.filter((r) => r.bound).length).toBeLessThanOrEqual(4);
    expect(failed.filter((r) => !r.bound).every((r) => r.code === 'net.refused')).toBe(true);
    expect(deadAfter).toBe(100);
  });

  it('a directory that accepts but never answers: the bind times out, reported once, not retried', async () => {
    const pki = path.join(base, 'a', 'pki');
    let requests = 0;
    const silent = tls.createServer({ key: fs.readFileSync(path.join(pki, 'server.key')), cert: fs.readFileSync(path.join(pki, 'server.crt')) }, (s) => {
      s.on('data', () => requests++);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    try {
      const out: VerifyResult[] = [];
      const t0 = performance.now();
      for await (const r of verifyMany(accounts(a, 3), { urls: `ldaps://127.0.0.1:${port}`, caFile: path.join(pki, 'ca.crt'), concurrency: 3, timeoutMs: 400 })) out.push(r);
      expect(performance.now() - t0).toBeLessThan(3000);
      expect(out).toHaveLength(3);
      expect(out.every((r) => r.code === 'net.timeout' && r.bound && !r.ok)).toBe(true);
      expect(requests).toBe(3);
    } finally {
      silent.close();
    }
  });
});
