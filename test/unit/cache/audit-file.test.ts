// The purge's audit record on disk (cache/audit-file.ts): a fleet's line is streamed in pieces, so
// concurrent appends take turns through `<record>.lock`; a lock left by a dead process is taken
// over; a live holder past the wait is an error naming the lock file; the file stays JSON Lines.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { appendAuditLine } from '../../../src/cache/audit-file.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-audit-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const items = (n: number, tag: string) => Array.from({ length: n }, (_, k) => ({ target: `TERMSRV/h${k}.${tag}.example`, rule: 'cache.stale-password', reason: 'x'.repeat(200) }));

describe('appendAuditLine', () => {
  it('writes {...head, items, phase} as one JSON line, in key order, 0600, appending', () => {
    const file = path.join(dir, 'one.jsonl');
    appendAuditLine(file, { at: 't', mode: 'emit' }, items(3, 'a'), 'planned');
    appendAuditLine(file, { at: 't2', mode: 'emit' }, [], 'done');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(Object.keys(JSON.parse(lines[0]!))).toEqual(['at', 'mode', 'items', 'phase']);
    expect(JSON.parse(lines[0]!)).toEqual({ at: 't', mode: 'emit', items: items(3, 'a'), phase: 'planned' });
    expect(lines[1]).toBe('{"at":"t2","mode":"emit","items":[],"phase":"done"}');
    if (process.platform !== 'win32') expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(`${file}.lock`)).toBe(false);
  });

  it('keeps two processes appending multi-MB lines at once from interleaving (each line whole)', async () => {
    const file = path.join(dir, 'two.jsonl');
    // the module alone, bundled for a plain Node child (Node 20 runs no TypeScript)
    const out = path.join(dir, 'audit-file.mjs');
    const { build } = await import('esbuild');
    await build({ entryPoints: [path.join(root, 'src/cache/audit-file.ts')], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'silent' });
    const mod = pathToFileURL(out).href;
    // each child appends 5 lines of ~4 MB (20,000 items): pieces of 64 KiB, many writes per line
    const child = (tag: string) => new Promise<number>((resolve, reject) => {
      const code = `const { appendAuditLine } = await import(${JSON.stringify(mod)});
const items = Array.from({ length: 20000 }, (_, k) => ({ target: 'TERMSRV/h' + k + '.${tag}.example', reason: 'y'.repeat(150) }));
for (let i = 0; i < 5; i++) appendAuditLine(${JSON.stringify(file)}, { by: '${tag}', n: i }, items, 'planned');`;
      const p = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('error', reject);
      p.on('close', (c) => (c === 0 ? resolve(c) : reject(new Error(`child ${tag} exited ${c}: ${err}`))));
    });
    await Promise.all([child('a'), child('b')]);
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(10);
    const by = lines.map((l) => JSON.parse(l) as { by: string; n: number; items: Array<{ target: string }> });
    for (const r of by) {
      expect(r.items).toHaveLength(20000);
      expect(r.items.every((i) => i.target.endsWith(`.${r.by}.example`))).toBe(true);
    }
    expect(by.filter((r) => r.by === 'a').map((r) => r.n)).toEqual([0, 1, 2, 3, 4]);
    expect(by.filter((r) => r.by === 'b').map((r) => r.n)).toEqual([0, 1, 2, 3, 4]);
    expect(fs.existsSync(`${file}.lock`)).toBe(false);
  }, 90_000);

  it('takes over a lock whose process is gone (same host)', () => {
    const file = path.join(dir, 'stale.jsonl');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // exited: its pid is free
    fs.writeFileSync(`${file}.lock`, `${dead}@${os.hostname()}`);
    appendAuditLine(file, { at: 't' }, [], 'planned', 2_000);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).phase).toBe('planned');
    expect(fs.existsSync(`${file}.lock`)).toBe(false);
  });

  it('waits for a live holder, then fails naming the lock file; nothing is written and the lock is left alone', () => {
    const file = path.join(dir, 'held.jsonl');
    fs.writeFileSync(file, '{"earlier":true}\n');
    fs.writeFileSync(`${file}.lock`, `${process.pid}@${os.hostname()}`); // this very process: alive
    const t0 = Date.now();
    let err: NodeJS.ErrnoException | undefined;
    try {
      appendAuditLine(file, { at: 't' }, items(2, 'c'), 'planned', 300);
    } catch (e) {
      err = e as NodeJS.ErrnoException;
    }
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(err?.code).toBe('ELOCKED');
    expect(err?.message).toContain(`${file}.lock`);
    expect(err?.message).toContain(`process ${process.pid}`);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"earlier":true}\n');
    expect(fs.readFileSync(`${file}.lock`, 'utf8')).toBe(`${process.pid}@${os.hostname()}`);
    fs.unlinkSync(`${file}.lock`);
  });
});
