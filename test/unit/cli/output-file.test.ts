// The results file of `credgate verify` (cli/output.ts LineFile): lines are batched in memory and
// written within FLUSH_MS (or at once past 64 KiB), a failed write is kept and reported, and
// `credgate verify` turns a failed write into a usage error naming the file (exit 2).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { LineFile } from '../../../src/cli/output.js';
import { main } from '../../../src/cli/main.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-linefile-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FULL = fs.existsSync('/dev/full') ? '/dev/full' : undefined;

describe('LineFile', () => {
  it('batches the lines of a burst and writes them within FLUSH_MS, appending by default', async () => {
    const file = path.join(dir, 'a.jsonl');
    fs.writeFileSync(file, 'earlier\n');
    const f = LineFile.open(file, true);
    for (let i = 0; i < 100; i++) f.write(`{"i":${i}}\n`);
    // a burst waits in memory (one write for all of it), not a system call per line
    expect(fs.readFileSync(file, 'utf8')).toBe('earlier\n');
    await sleep(LineFile.FLUSH_MS + 50);
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(101);
    expect(lines[0]).toBe('earlier');
    expect(lines[100]).toBe('{"i":99}');
    f.write('last\n');
    f.close();
    f.close();
    expect(fs.readFileSync(file, 'utf8').endsWith('{"i":99}\nlast\n')).toBe(true);
    expect(f.error).toBeUndefined();
  });

  it('writes at once past 64 KiB, and truncates when not appending; multi-byte text is written whole', () => {
    const file = path.join(dir, 'b.jsonl');
    fs.writeFileSync(file, 'old content\n');
    const f = LineFile.open(file, false);
    const line = `${'é'.repeat(1000)}€\n`;
    for (let i = 0; i < 70; i++) f.write(line);
    expect(fs.statSync(file).size).toBeGreaterThan(64 * 1024);
    f.close();
    expect(fs.readFileSync(file, 'utf8')).toBe(line.repeat(70));
  });

  it('lines longer than the buffer, and lines that cross its end, are written whole and in order', () => {
    const file = path.join(dir, 'c.jsonl');
    const f = LineFile.open(file, false);
    const lines: string[] = [];
    for (let i = 0; i < 500; i++) {
      // short lines, lines that cross the buffer's end, and two longer than the whole buffer
      const s = `${i}:${'x€'.repeat(i === 100 || i === 300 ? 150_000 : (i * 997) % 3000)}\n`;
      lines.push(s);
      f.write(s);
    }
    f.close();
    expect(fs.readFileSync(file, 'utf8')).toBe(lines.join(''));
  });

  it('takes UTF-8 bytes as they are, beside text, in order (short and longer than the buffer)', () => {
    const file = path.join(dir, 'd.jsonl');
    const f = LineFile.open(file, false);
    const parts = ['{"a":"é"}\n', Buffer.from('{"b":"€"}\n'), Buffer.from(`${'x'.repeat(300_000)}\n`), 'last\n'];
    for (const p of parts) f.write(p);
    f.close();
    expect(fs.readFileSync(file, 'utf8')).toBe(parts.map(String).join(''));
  });

  it.runIf(FULL)('keeps a failed write (ENOSPC) in error, throws it on the next write, and still closes', async () => {
    const f = LineFile.open(FULL!, false);
    f.write('x\n');
    f.flush();
    expect(f.error?.code).toBe('ENOSPC');
    expect(() => f.write('y\n')).toThrow(f.error!);
    f.close();
    expect(f.error?.code).toBe('ENOSPC');
  });
});

describe('credgate verify and its output file', () => {
  it.runIf(FULL)('a failed write of the results is an error naming the file (exit 2), not a crash', async () => {
    // a bad input line is written to the output without any directory involved
    fs.writeFileSync(path.join(dir, 'in.csv'), 'username,password\nuid=a,\n');
    let err = '';
    const sink = (add: (s: string) => void) => new Writable({ write(c, _e, cb) { add(String(c)); cb(); } });
    const code = await main(['verify', '--input', 'in.csv', '--output', FULL!, '--overwrite', '--ldap', 'ldaps://127.0.0.1:1', '--progress-interval', '60'], {
      stdout: sink(() => {}), stderr: sink((s) => (err += s)), env: {}, cwd: dir,
    });
    expect(err).toContain(`Writing the output file ${FULL} failed (ENOSPC)`);
    expect(code).toBe(2);
  });
});
