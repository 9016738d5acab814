// The "Exit codes:" sections of the help are made from EXIT_CODES and each command's meanings:
// every number printed there is an exit code with the meaning the command gives it, in order,
// with the signal codes exactly for the commands that send credentials.
import { describe, it, expect } from 'vitest';
import { COMMANDS } from '../../../src/cli/commands/index.js';
import { helpText, HELP_EXITS } from '../../../src/cli/main.js';
import { exitCodeHelp, SIGNAL_ROWS, type ExitMeanings } from '../../../src/cli/exit-help.js';
import { EXIT_CODES } from '../../../src/findings/catalog.js';
import { exitCodeForSignal } from '../../../src/findings/faults.js';

const keyOf = (n: number) => (Object.keys(EXIT_CODES) as Array<keyof typeof EXIT_CODES>).find((k) => EXIT_CODES[k] === n);

/** The rows of a usage text's "Exit codes" section (continuation lines joined), and the text outside it. */
function section(usage: string): { rows: Array<{ code: number; meaning: string }>; outside: string } {
  const lines = usage.split('\n');
  const start = lines.findIndex((l) => /^Exit codes( \([^)\d]*\))?:$/.test(l));
  expect(start, 'an "Exit codes:" heading line').toBeGreaterThanOrEqual(0);
  expect(lines.filter((l) => /^Exit codes/.test(l)), 'one Exit codes section').toHaveLength(1);
  expect(lines[start]!.length, 'the heading within 100 columns').toBeLessThanOrEqual(100);
  let end = start + 1;
  const rows: Array<{ code: number; meaning: string }> = [];
  for (; end < lines.length && lines[end] !== ''; end++) {
    const l = lines[end]!;
    const m = /^ {2}(\d{1,3}) +(\S.*)$/.exec(l);
    if (m && l.indexOf(m[2]!) === 7) rows.push({ code: Number(m[1]), meaning: m[2]! });
    else {
      expect(l, 'a continuation line of the row above').toMatch(/^ {7}\S/);
      expect(rows.length).toBeGreaterThan(0);
      rows[rows.length - 1]!.meaning += ` ${l.trim()}`;
    }
    expect(l.length, `line within 100 columns: ${l}`).toBeLessThanOrEqual(100);
  }
  return { rows, outside: [...lines.slice(0, start), ...lines.slice(end)].join('\n') };
}

function expectSection(usage: string, exits: ExitMeanings, signals: boolean): void {
  const { rows, outside } = section(usage);
  const codes = rows.map((r) => r.code);
  expect(codes, 'ordered by number, each once').toEqual([...new Set(codes)].sort((a, b) => a - b));
  for (const r of rows) {
    const k = keyOf(r.code);
    expect(k, `${r.code} is a value of EXIT_CODES`).toBeDefined();
    const sig = SIGNAL_ROWS.find((s) => s.key === k);
    if (sig) {
      expect(signals, `${r.code}: a signal code only where credentials are sent`).toBe(true);
      expect(exitCodeForSignal(sig.signal)).toBe(r.code);
      expect(r.meaning).toBe(sig.meaning);
    } else {
      expect(r.meaning, `the meaning of ${r.code}`).toBe(exits[k as keyof ExitMeanings]);
    }
  }
  for (const k of Object.keys(exits) as Array<keyof ExitMeanings>) expect(codes, `a row for ${k}`).toContain(EXIT_CODES[k]);
  for (const s of SIGNAL_ROWS) expect(codes.includes(EXIT_CODES[s.key])).toBe(signals);
  // an exit code named in a sentence elsewhere ("exits 6 when ...") is one of EXIT_CODES too
  for (const m of outside.matchAll(/\bexit(?:s| code)? (\d+)/g)) expect(Object.values(EXIT_CODES)).toContain(Number(m[1]));
}

describe('exit codes in the help', () => {
  it('every command: each number in its Exit codes section is an EXIT_CODES value with the meaning the command gives it', async () => {
    for (const e of COMMANDS) {
      const c = await e.load();
      expect(Object.keys(c.exits).length, `${c.name} has exit meanings`).toBeGreaterThan(1);
      expectSection(c.usage, c.exits, c.inFlight !== undefined);
    }
  });

  it('the top-level help: the same, with the signal codes', () => {
    expectSection(helpText(), HELP_EXITS, true);
  });

  it('a changed table is what the help prints: rows come from EXIT_CODES, not from text', () => {
    const text = exitCodeHelp({ internal: 'x', ok: 'y', 'stale-cache': 'z' });
    expect(text).toBe(`Exit codes:\n  ${EXIT_CODES.ok}    y\n  ${EXIT_CODES['stale-cache']}    z\n  ${EXIT_CODES.internal}   x\n`);
    const long = exitCodeHelp({ ok: 'word '.repeat(60).trim() }, { lead: 'how', inFlight: 'the thing in flight' });
    expect(long.split('\n')[0]).toBe('Exit codes (how):');
    for (const l of long.split('\n')) expect(l.length).toBeLessThanOrEqual(100);
    expect(long).toContain('finishes the thing in flight');
    expect(long).toMatch(/\n {2}143  stopped by SIGTERM/);
  });
});
