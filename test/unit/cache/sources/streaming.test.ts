// The streaming readers (issue 14, defect 11) against the whole-buffer ones they replace: the
// text pieces joined are decodeWindowsText's text with its warnings, for any chunk size, any
// encoding and hostile bytes; the lines are text.split('\n').
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeWindowsText, eachLine, windowsTextPieces } from '../../../../src/cache/text.js';
import { prng } from '../../../helpers/prng.js';

const fx = (f: string) => path.join(import.meta.dirname, '..', '..', '..', 'fixtures', 'cache', f);

function streamed(input: Buffer | { path: string }, file: string, chunk: number): { text: string; encoding: string; warnings: string[] } {
  const { pieces, result } = windowsTextPieces(input, file, chunk);
  const parts: string[] = [];
  for (const p of pieces) {
    expect(p.length).toBeGreaterThan(0);
    parts.push(p);
  }
  return { text: parts.join(''), encoding: result.encoding, warnings: result.warnings };
}

/** Inputs in every encoding, with the bytes that make decoding hard: split sequences, CR LF, NUL, U+FFFD, odd lengths. */
function samples(): Buffer[] {
  const r = prng(1411);
  const text = 'Target: Domain:target=TERMSRV/wéb01\r\nUser: PAMTEST\\jürgen\u4e2d\ud83d\ude00\r\rx\n\r\n\u0000\ufffdend';
  const base = [
    Buffer.from(text, 'utf8'),
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]),
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
    Buffer.from(text, 'utf16le'),
    Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]),
    Buffer.from([0x54, 0x84, 0x94, 0x81, 0xe1, 0x0d, 0x0a, 0x8e, 0x0d]), // cp850
    Buffer.from([0xe2, 0x82, 0x0d, 0x0a, 0xc3, 0x28, 0xef, 0xbf, 0xbd, 0xf0, 0x9f, 0x98]), // invalid UTF-8 with a U+FFFD
    ...['cmdkey-en.utf16.txt', 'cmdkey-de.cp850.txt', 'cmdkey-es.utf16-nobom.txt', 'cmdkey-fr.utf8bom.txt', 'rdp-client.reg', 'collector-ws0107.ps51.json'].map((f) => fs.readFileSync(fx(f))),
  ];
  const out = [...base, ...base.map((b) => b.subarray(0, b.length - 1))];
  for (let i = 0; i < 300; i++) {
    const b = Buffer.from(r.pick(base));
    for (let k = 0, n = 1 + r.int(6); k < n; k++) b[r.int(b.length)] = r.pick([0x00, 0x0d, 0x0a, 0x80, 0xbf, 0xc3, 0xe2, 0xef, 0xf0, 0xff, 0xfe, r.int(256)]);
    out.push(r.next() < 0.3 ? b.subarray(0, r.int(b.length)) : b);
  }
  out.push(Buffer.alloc(0), Buffer.from([0xff]), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('\r'), Buffer.from('a\r'));
  return out;
}

describe('windowsTextPieces: decodeWindowsText, in pieces', () => {
  it('the same text, encoding and warnings for every sample and chunk size, from a buffer and from a file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-stream-'));
    try {
      for (const [k, buf] of samples().entries()) {
        const want = decodeWindowsText(buf, 'f');
        for (const chunk of [1, 2, 3, 5, 7, 64, 65536]) {
          expect(streamed(buf, 'f', chunk), `sample ${k}, chunk ${chunk}`).toEqual(want);
        }
        const file = path.join(dir, 'f');
        fs.writeFileSync(file, buf);
        expect(streamed({ path: file }, 'f', 3), `sample ${k} from a file`).toEqual(want);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a file over the limit: the same INPUT_INVALID error naming it; a missing file: INPUT_INVALID naming it', () => {
    expect(() => [...windowsTextPieces(Buffer.alloc(64 * 1024 * 1024 + 1), 'x.bin').pieces]).toThrow(/x\.bin is 67108865 bytes, over the 67108864-byte limit/);
    expect(() => [...windowsTextPieces({ path: '/nonexistent/x.txt' }, '/nonexistent/x.txt').pieces]).toThrow(/Cannot read \/nonexistent\/x\.txt \(ENOENT\)/);
  });
});

describe('eachLine: the lines of split("\\n"), whatever the pieces', () => {
  it('random texts cut at random places', () => {
    const r = prng(1412);
    for (let i = 0; i < 500; i++) {
      const text = Array.from({ length: r.int(40) }, () => r.pick(['\n', 'a', 'bc', ' ', '\n\n', 'long line '.repeat(5)])).join('');
      const cuts: string[] = [];
      for (let at = 0; at < text.length;) {
        const n = 1 + r.int(7);
        cuts.push(text.slice(at, at + n));
        at += n;
      }
      const lines: string[] = [];
      let cur = '';
      eachLine(cuts, { piece: (s) => (cur += s), end: () => { lines.push(cur); cur = ''; } });
      expect(lines).toEqual(text.split('\n'));
    }
  });
});

describe('the streaming readers against the whole-text readers they replace', () => {
  const hostileLines = (r: ReturnType<typeof prng>): string => {
    const parts = ['\\', '\\\\', ' ', '\t', '\u00a0', '\ufeff', ';c', '"UsernameHint"="PAMTEST\\\\al"', '"CertHash"=hex:0e,cf,', 'a3,f4', '[HKEY_CURRENT_USER\\Software\\Microsoft\\Terminal Server Client\\Servers\\h1]', '[HKEY_CURRENT_USER\\Software\\Microsoft\\Terminal Server Client\\Default]', '"MRU0"="web01"', 'x', '@="v"', '[broken'];
    const lines = ['Windows Registry Editor Version 5.00'];
    for (let k = 0, n = r.int(14); k < n; k++) lines.push(Array.from({ length: r.int(5) }, () => r.pick(parts)).join(''));
    return lines.join(r.pick(['\n', '\r\n']));
  };

  it('registry exports and cmdkey captures: the same hints, entries and warnings, cut into pieces of any size', async () => {
    const { oldParseRdpRegistryExport, oldParseCmdkeyList } = await import('./reference-readers.js');
    const { parseRdpRegistryExport } = await import('../../../../src/cache/sources/rdp-registry.js');
    const { parseCmdkeyList } = await import('../../../../src/cache/sources/cmdkey.js');
    const { streamOptions } = await import('../../../../src/cache/text.js');
    const r = prng(1413);
    const long = (n: number, c = 'x') => c.repeat(n);
    const texts = [
      ...samples().slice(0, 40).map((b) => b),
      // lines and joined lines around the 65,536-character limit, whitespace runs, backslash runs
      Buffer.from(`Windows Registry Editor Version 5.00\n[HKEY_CURRENT_USER\\Software\\Microsoft\\Terminal Server Client\\Servers\\h1]\n"UsernameHint"="${long(65520)}"\n"UsernameHint"="${long(65540)}"\n${long(70000, ' ')}"UsernameHint"="a"${long(70000, ' ')}\n"CertHash"=hex:0e,\\\n${long(70000, ' ')}\n  cf\n"CertHash"=hex:${long(40000, 'ab,')}\\\n  ${long(30000, 'cd,')}cd\n;${long(80000)}\n"UsernameHint"="b"   \\\\\\\n \n \n  "x"\n`),
      Buffer.from(`REGEDIT4${long(70000, ' ')}\n[a]\\\n${long(66000, '\\')}\n \n b\n`),
      Buffer.from(`${long(3, ' ')}Windows Registry Editor Version 5.00\n${long(5000)}\n    Target: ${long(4090)}\n    Target: ${long(4097)}\n`),
      ...Array.from({ length: 150 }, () => Buffer.from(hostileLines(r))),
    ];
    try {
      for (const [k, buf] of texts.entries()) {
        const wantReg = oldParseRdpRegistryExport(buf, 'f');
        const wantCmd = oldParseCmdkeyList(buf, 'f');
        for (const chunk of [1, 3, 7, 4096, 65536]) {
          if (chunk < 64 && buf.length > 20000) continue;
          streamOptions.chunkBytes = chunk;
          expect(parseRdpRegistryExport(buf, 'f'), `registry, text ${k}, chunk ${chunk}`).toEqual(wantReg);
          expect(parseCmdkeyList(buf, 'f'), `cmdkey, text ${k}, chunk ${chunk}`).toEqual(wantCmd);
        }
      }
    } finally {
      streamOptions.chunkBytes = 64 * 1024;
    }
  }, 60_000);

  it('parseJsonPieces: JSON.parse\'s value, or an error on the line jsonErrorOffset names, for any pieces', async () => {
    const { parseJsonPieces, JsonSyntaxError } = await import('../../../../src/cache/json-stream.js');
    const { jsonErrorOffset, lineColumn } = await import('../../../../src/core/json-position.js');
    const r = prng(1414);
    const seeds = [
      JSON.stringify({ schema: 'credgate-collector/1', machine: 'M', credentials: [{ target: 'TERMSRV/wéb', n: -0.5e-3, t: true, f: false, z: null, e: '\\"\u2028\ud83d\ude00', ['__proto__']: { x: 1 } }], a: [[], {}, [1, [2, {}]]] }, null, 2),
      fs.readFileSync(fx('collector-ws0107.ps51.json'), 'utf8').replace(/^\uFEFF/, ''),
      '{"__proto__": 1, "a": 1, "a": 2}', '[1e5, 1E+5, -0, 0.0, 12345678901234567890]', '"\\u00e9\\/\\b\\f\\n\\r\\t"', ' 0 ', '[' .repeat(3000),
    ];
    const cuts = (s: string): string[] => {
      const out: string[] = [];
      for (let at = 0; at < s.length;) {
        const n = 1 + r.int(r.next() < 0.5 ? 4 : 200);
        out.push(s.slice(at, at + n));
        at += n;
      }
      return out;
    };
    let errors = 0;
    for (let i = 0; i < 1500; i++) {
      let text = r.pick(seeds);
      if (i >= seeds.length) {
        const chars = [...text];
        for (let k = 0, n = 1 + r.int(3); k < n; k++) chars[r.int(chars.length)] = r.pick(['"', '\\', ',', ':', '{', '}', '[', ']', '-', '.', 'e', '0', '\n', ' ', '\u0001', 'u', 'x']);
        text = chars.join('');
      }
      let want: unknown;
      let valid = true;
      try {
        want = JSON.parse(text);
      } catch {
        valid = false;
      }
      const got = (() => {
        try {
          return { value: parseJsonPieces(cuts(text)[Symbol.iterator]()) };
        } catch (e) {
          return { error: e };
        }
      })();
      if (valid) {
        expect('value' in got ? got.value : got.error, JSON.stringify(text).slice(0, 200)).toEqual(want);
        if (text.includes('__proto__')) expect(JSON.stringify(got.value)).toBe(JSON.stringify(want));
      } else {
        errors++;
        expect(got.error, JSON.stringify(text).slice(0, 200)).toBeInstanceOf(JsonSyntaxError);
        expect((got.error as InstanceType<typeof JsonSyntaxError>).line, JSON.stringify(text).slice(0, 200)).toBe(lineColumn(text, jsonErrorOffset(text)).line);
      }
    }
    expect(errors).toBeGreaterThan(300);
  }, 60_000);
});
