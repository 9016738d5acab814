// The resume index of `credgate verify` (src/cli/commands/verify.ts): accounts answered in an
// earlier output, held as 96-bit hashes in typed arrays. No I/O beyond a temp file.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AccountStates, readPreviousOutput } from '../../../src/bulk/resume.js';

describe('resume index', () => {
  it('keeps every account through many growths; the last record wins; a lost answer stays answered', () => {
    const s = new AccountStates();
    const n = 50_000;
    for (let i = 0; i < n; i++) s.record(`uid=u${i},ou=people,dc=x`, i % 3 !== 0, false);
    expect(s.size).toBe(n);
    for (let i = 0; i < n; i++) expect(s.answered(`uid=u${i},ou=people,dc=x`)).toBe(i % 3 !== 0);
    expect(s.answered('uid=u-never,ou=people,dc=x')).toBe(false);
    expect(s.answered('UID=u1,ou=people,dc=x')).toBe(false); // names as given, like the output
    s.record('a', true, false);
    s.record('a', false, false); // unreachable later, before any bind: check again
    expect(s.answered('a')).toBe(false);
    s.record('b', false, true); // bind sent, answer lost
    s.record('b', false, false);
    expect(s.answered('b')).toBe(true);
    expect(s.size).toBe(n + 2);
  });

  it('reads an output file: bound:true unreachable is answered, bad lines by number, a cut last line ignored', async () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-resume-')), 'out.jsonl');
    const lines = [
      { line: 1, account: 'lost', code: 'net.timeout', category: 'unreachable', bound: true },
      { line: 2, account: 'refused', code: 'net.refused', category: 'unreachable', bound: false },
      { line: 3, account: 'ok', code: 'ldap.ok', category: 'ok', bound: true },
      { line: 4, ok: false, code: 'input.invalid', category: 'usage' },
      { line: 5, account: 'badname', code: 'input.invalid', category: 'usage', bound: false },
    ].map((x) => JSON.stringify(x));
    try {
      fs.writeFileSync(f, lines.join('\n') + '\n{"line":6,"account":"cut","code":"ldap.o');
      const r = await readPreviousOutput(f);
      expect(r.records).toBe(4);
      expect(r.endsWithNewline).toBe(false);
      expect([...r.badLines].sort()).toEqual([4, 5]);
      expect(['lost', 'refused', 'ok', 'badname', 'cut'].map((a) => r.states.answered(a))).toEqual([true, false, true, false, false]);
    } finally {
      fs.rmSync(path.dirname(f), { recursive: true, force: true });
    }
  });
});
