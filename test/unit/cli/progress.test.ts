// verify's progress line: the share of the input's accounts done, never of the bytes read (the
// input is read ahead of the binds: an interrupted run had printed "100% of input" with 2 of 20
// accounts done).
import { describe, it, expect } from 'vitest';
import { Writable } from 'node:stream';
import { Progress } from '../../../src/cli/progress.js';

function progress(totalBytes: number | undefined) {
  let err = '';
  const stderr = new Writable({ write(c, _e, cb) { err += String(c); cb(); } });
  const p = new Progress({ stdout: new Writable(), stderr, stdin: process.stdin, env: {}, cwd: '.' }, totalBytes, 60_000);
  return { p, last: () => err.trim().split('\n').at(-1)! };
}

async function drain(it: AsyncIterable<unknown>, n = Infinity): Promise<void> {
  let i = 0;
  for await (const _ of it) if (++i >= n) break;
}

const jsonl = (n: number) => Array.from({ length: n }, (_, i) => `{"user":"u${i}","password_env":"PW"}\n`).join('');

describe('verify progress', () => {
  it('20 accounts read at once, 2 answered: 10% of 20 accounts, not 100%', async () => {
    const text = jsonl(20);
    const { p, last } = progress(Buffer.byteLength(text));
    await drain(p.count((async function* () { yield Buffer.from(text); })()));
    for (let line = 1; line <= 20; line++) p.record(line);
    p.inputDone();
    p.done = 2;
    p.failed = 2;
    p.print(true);
    p.stop();
    expect(last()).toMatch(/^credgate verify: 2 done, 2 failed, \d+\/s, 10% of 20 accounts$/);
  });

  it('a large file read a chunk ahead: the share follows the accounts handed out and answered (~ while estimated)', async () => {
    const text = jsonl(1000);
    const chunks = [0, 1, 2, 3].map((k) => Buffer.from(text.slice((k * text.length) / 4, ((k + 1) * text.length) / 4)));
    const { p, last } = progress(Buffer.byteLength(text));
    // the reader has read two of four chunks; the parser has handed out 300 records, 150 are answered
    await drain(p.count((async function* () { yield* chunks; })()), 2);
    for (let line = 1; line <= 300; line++) p.record(line);
    p.done = 150;
    p.print(true);
    p.stop();
    const [, pct, total] = / (\d+)% of ~(\d+) accounts$/.exec(last()) ?? [];
    // 150 of 1000 (estimated from the lines read so far: within 1%)
    expect(Math.abs(Number(total) - 1000)).toBeLessThanOrEqual(10);
    expect([14, 15]).toContain(Number(pct));
  });

  it('standard input: no share until it has been read, then an exact one from its lines', async () => {
    const text = jsonl(50);
    const { p, last } = progress(undefined);
    p.record(1);
    p.done = 1;
    p.print(true);
    expect(last()).toMatch(/^credgate verify: 1 done, 0 failed, \d+\/s$/);
    await drain(p.count((async function* () { yield text; })()));
    p.print(true);
    p.stop();
    expect(last()).toMatch(/ 2% of ~50 accounts$/);
  });
});
