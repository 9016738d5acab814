// loadCacheFile recognises a file's format from its first 4 KiB only and hands the whole file to
// that format's reader: on files larger than that, in every encoding the captures come in, with
// the 4 KiB cut falling inside multi-byte characters, the result is exactly the reader's own.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCacheFile } from '../../../../src/cache/load.js';
import { parseCmdkeyList } from '../../../../src/cache/sources/cmdkey.js';
import { parseRdpRegistryExport } from '../../../../src/cache/sources/rdp-registry.js';
import { readCollectorFile } from '../../../../src/cache/sources/collector.js';

const CP850: Record<string, number> = { ä: 0x84, é: 0x82, ö: 0x94, ü: 0x81 };
const encode = (text: string, enc: string): Buffer => {
  switch (enc) {
    case 'utf8': return Buffer.from(text, 'utf8');
    case 'utf8bom': return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    case 'utf16le': return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    case 'utf16le-nobom': return Buffer.from(text, 'utf16le');
    case 'cp850': return Buffer.from([...text].map((c) => CP850[c] ?? c.charCodeAt(0)));
    default: throw new Error(enc);
  }
};

// German cmdkey /list text: "Domänenkennwort" puts a two-byte character all through the file
function cmdkeyText(n: number, pad: number): string {
  let s = `\r\nDerzeit gespeicherte Anmeldeinformationen:${' '.repeat(pad)}\r\n\r\n`;
  for (let i = 0; i < n; i++) {
    s += `    Ziel: Domain:target=TERMSRV/wéb${i}.pamtest.local\r\n    Typ: Domänenkennwort\r\n    Benutzer: PAMTEST\\jürgen-äöü${i}\r\n    Lokale Computerpersistenz\r\n\r\n`;
  }
  return s;
}

function regText(n: number, pad: number): string {
  let s = `Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Software\\Microsoft\\Terminal Server Client]${' '.repeat(pad)}\r\n\r\n[HKEY_CURRENT_USER\\Software\\Microsoft\\Terminal Server Client\\Servers]\r\n\r\n`;
  for (let i = 0; i < n; i++) {
    s += `[HKEY_CURRENT_USER\\Software\\Microsoft\\Terminal Server Client\\Servers\\wéb${i}.pamtest.local]\r\n"UsernameHint"="PAMTEST\\\\jürgen-äöü${i}"\r\n\r\n`;
  }
  return s;
}

function collectorText(n: number, pad: number): string {
  return JSON.stringify({
    schema: 'credgate-collector/1', machine: `WS-ö${'x'.repeat(pad)}`, user: 'PAMTEST\\jürgen',
    credentials: Array.from({ length: n }, (_, i) => ({ target: `Domain:target=TERMSRV/wéb${i}`, type: 'domain-password', userName: `PAMTEST\\jürgen-äöü${i}`, lastWritten: '2026-11-01T00:00:00Z' })),
    rdpServers: [{ server: 'wéb1', usernameHint: 'PAMTEST\\jürgen1' }],
  }, null, 2);
}

describe('loadCacheFile on files over 4 KiB', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-large-'));
  const cases: Array<[string, string, (n: number, pad: number) => string, (buf: Buffer, file: string) => unknown]> = [];
  for (const enc of ['utf8', 'utf8bom', 'utf16le', 'utf16le-nobom', 'cp850']) {
    cases.push([`cmdkey /list (${enc})`, enc, cmdkeyText, (b, f) => parseCmdkeyList(b, f)]);
  }
  for (const enc of ['utf8', 'utf16le', 'utf16le-nobom']) {
    cases.push([`reg export (${enc})`, enc, regText, (b, f) => parseRdpRegistryExport(b, f)]);
  }
  for (const enc of ['utf8', 'utf8bom', 'utf16le', 'utf16le-nobom']) {
    cases.push([`collector JSON (${enc})`, enc, collectorText, (b, f) => readCollectorFile(f, b)]);
  }

  it.each(cases)('%s: the same entries, hints and warnings as its own reader, wherever the cut falls', (_name, enc, make, reader) => {
    let cutInside = 0;
    for (let pad = 0; pad < 200; pad++) {
      const buf = encode(make(100, pad), enc);
      expect(buf.length).toBeGreaterThan(8192);
      const inside = enc.startsWith('utf8') && (buf[4096]! & 0xc0) === 0x80;
      if (inside) cutInside++;
      else if (pad >= 8) continue; // the first pads as they come, then only the cuts inside a character
      const file = path.join(dir, `f-${enc}-${pad}.txt`);
      fs.writeFileSync(file, buf);
      const got = loadCacheFile(file);
      const own = reader(buf, file) as { entries?: unknown[]; hints?: unknown[]; warnings: string[] };
      expect(got.entries).toEqual(own.entries ?? []);
      expect(got.hints).toEqual(own.hints ?? []);
      expect(got.warnings).toEqual(own.warnings);
      expect(got.entries.length + got.hints.length).toBeGreaterThanOrEqual(100);
      if (got.entries.length) expect(got.entries.some((e) => e.target.includes('wéb')), enc).toBe(true);
    }
    // the pads move the 4 KiB mark across multi-byte characters: some cut must land inside one
    if (enc.startsWith('utf8')) expect(cutInside).toBeGreaterThan(0);
  });

  it('a file whose first 4 KiB are blank is still recognised (from the whole file), in every encoding', () => {
    for (const enc of ['utf8', 'utf8bom', 'utf16le', 'utf16le-nobom']) {
      for (const [make, reader] of [[collectorText, (b: Buffer, f: string) => readCollectorFile(f, b)], [regText, (b: Buffer, f: string) => parseRdpRegistryExport(b, f)]] as const) {
        const buf = encode(' \r\n'.repeat(3000) + make(5, 0), enc);
        const file = path.join(dir, `blank-${enc}.txt`);
        fs.writeFileSync(file, buf);
        const got = loadCacheFile(file);
        const own = reader(buf, file) as { entries?: unknown[]; hints?: unknown[] };
        expect(got.entries.length + got.hints.length, enc).toBeGreaterThanOrEqual(5);
        expect(got.entries).toEqual(own.entries ?? []);
        expect(got.hints).toEqual(own.hints ?? []);
      }
      // blank through and through reads as no entries, as an empty file does
      const blank = path.join(dir, `all-blank-${enc}.txt`);
      fs.writeFileSync(blank, encode(' \n'.repeat(5000), enc));
      expect(loadCacheFile(blank).entries).toEqual([]);
    }
  });
});

