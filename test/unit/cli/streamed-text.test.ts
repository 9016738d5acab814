// A fleet's purge writes its PowerShell script (tens of MB) in pieces, never as one string: into
// the JSON output (writeJson's JsonTextPieces), into --script-out (powershellScriptChunks). The
// pieces must make exactly the text the whole string made.
import { describe, it, expect } from 'vitest';
import { Writable } from 'node:stream';
import { JsonTextPieces, writeJson } from '../../../src/cli/output.js';
import { powershellScript, powershellScriptBytes, powershellScriptChunks, powershellScriptText, type PurgeItem, type PurgePlan } from '../../../src/cache/purge.js';

function sink(): { out: Writable; text: () => string; writes: () => number } {
  const chunks: string[] = [];
  const out = new Writable({
    write(c, _e, cb) {
      chunks.push(String(c));
      cb();
    },
  });
  return { out, text: () => chunks.join(''), writes: () => chunks.length };
}

const item = (k: number): PurgeItem => ({
  machine: `WS-${k % 97}`, target: `TERMSRV/srv${k}.pamtest.local`, rawTarget: `Domain:target=TERMSRV/srv${k}.pamtest.local`, type: 'domain-password',
  username: k % 3 ? 'PAMTEST\\svc-rdp' : 'PAMTEST\\ölduser', lastWritten: '2026-10-12T00:00:00.000Z', source: 'collector:ws.json', rule: 'cache.stale-password', reason: 'stale', evidence: {},
});
const big: PurgePlan = { createdAt: '2026-11-20T00:00:00.000Z', items: Array.from({ length: 5000 }, (_, k) => item(k)) };

describe('writeJson with a string in pieces', () => {
  it('writes what JSON.stringify(obj, null, 2) writes for the joined string: quotes, escapes, non-ASCII, CRLF', async () => {
    const pieces = ['a "quoted"\r\n', 'back\\slash\t', 'é€😀', '\u0001\u2028', ''];
    const s = sink();
    await writeJson(s.out, { head: 1, text: new JsonTextPieces(pieces), tail: ['x'] });
    expect(s.text()).toBe(`${JSON.stringify({ head: 1, text: pieces.join(''), tail: ['x'] }, null, 2)}\n`);
    expect(JSON.parse(s.text()).text).toBe(pieces.join(''));
  });

  it('writes a multi-MB script as it is made, in several writes, the same text as the whole string', async () => {
    const s = sink();
    await writeJson(s.out, { powershell: new JsonTextPieces(powershellScriptText(big)) });
    expect(s.text()).toBe(`${JSON.stringify({ powershell: powershellScript(big) }, null, 2)}\n`);
    expect(s.writes()).toBeGreaterThan(5);
  });
});

describe('the PowerShell script in pieces', () => {
  it('the text pieces are whole CRLF lines of about 64 KiB and join to powershellScript', () => {
    const pieces = [...powershellScriptText(big)];
    expect(pieces.length).toBeGreaterThan(5);
    for (const p of pieces) expect(p.endsWith('\r\n')).toBe(true);
    for (const p of pieces.slice(0, -1)) expect(p.length).toBeGreaterThanOrEqual(65536);
    expect(pieces.join('')).toBe(powershellScript(big));
  });

  it('the byte pieces are the BOM, then the ASCII script: the same bytes as powershellScriptBytes', () => {
    const chunks = [...powershellScriptChunks(big)];
    const all = Buffer.concat(chunks);
    expect([...all.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(chunks.slice(1).every((c) => c[0] !== 0xef)).toBe(true);
    expect(all.equals(powershellScriptBytes(big))).toBe(true);
    expect(all.subarray(3).toString('latin1')).toBe(powershellScript(big));
    // the non-ASCII user name is a [char] sequence: the file is ASCII after its BOM
    expect(all.subarray(3).every((b) => b < 0x80)).toBe(true);
    expect(powershellScript(big)).toContain("'PAMTEST\\' + [char]0x00F6 + 'lduser'");
  });
});
