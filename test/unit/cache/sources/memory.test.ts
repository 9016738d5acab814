// Issue 14, defect 11: `cache inspect` needed ~10x a capture's size in memory (a 60 MB cmdkey
// capture: 611-624 MB RSS). The readers now stream: a child process reads a generated 60 MB
// capture (UTF-16LE with a BOM, as PowerShell 5.1's `cmdkey /list > file` writes it) with
// loadCacheFile, and its peak RSS stays under 200 MB (414 MB before the change; bench/cache-inspect.mjs).
// The child imports dist/ (npm run test:unit builds it first; CG_DIST_LOAD names another build's
// dist/cache/index.js — or an older build's dist/cache/load.js — to show the figure of an older one).
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

const dist = process.env.CG_DIST_LOAD ?? path.join(import.meta.dirname, '..', '..', '..', '..', 'dist', 'cache', 'index.js');

/** A capture of at least `bytes` bytes, written a block at a time; its number of entries. */
function writeCapture(file: string, bytes: number): number {
  const fd = fs.openSync(file, 'w');
  let n = 0;
  try {
    fs.writeSync(fd, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('\r\nCurrently stored credentials:\r\n\r\n', 'utf16le')]));
    for (let size = 0; size < bytes;) {
      let block = '';
      for (let k = 0; k < 1000; k++, n++) block += `    Target: Domain:target=TERMSRV/srv${n}.pamtest.local\r\n    Type: Domain Password\r\n    User: PAMTEST\\user${n}\r\n    Local machine persistence\r\n\r\n`;
      const b = Buffer.from(block, 'utf16le');
      fs.writeSync(fd, b);
      size += b.length;
    }
  } finally {
    fs.closeSync(fd);
  }
  return n;
}

describe('reading a large capture streams it', () => {
  it('a 60 MB cmdkey capture: every entry read, peak RSS of the reading process under 200 MB, within 60 s', () => {
    expect(fs.existsSync(dist), `${dist} is missing: run npm run build (npm run test:unit does)`).toBe(true);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-mem-'));
    try {
      const capture = path.join(dir, 'capture.txt');
      const entries = writeCapture(capture, 60 * 1024 * 1024);
      expect(fs.statSync(capture).size).toBeGreaterThan(60 * 1024 * 1024);
      // VmHWM: the child's own peak (ru_maxrss would carry this test process's size over fork + exec)
      const child = path.join(dir, 'child.mjs');
      fs.writeFileSync(child, `import fs from 'node:fs';
const { loadCacheFile } = await import(${JSON.stringify(pathToFileURL(dist).href)});
const t0 = Date.now();
const snap = loadCacheFile(process.argv[2]);
const ms = Date.now() - t0;
const hwm = Number(/^VmHWM:\\s+(\\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
console.log(JSON.stringify({ entries: snap.entries.length, last: snap.entries.at(-1)?.target, warnings: snap.warnings, peakMB: Math.round(hwm / 1024), ms }));
`);
      // the young generation pinned to 16 MB (Node 20's default): Node 24's larger default lets the
      // same work reach ~270 MB before a scavenge, which measures V8's defaults, not the readers
      const out = JSON.parse(execFileSync(process.execPath, ['--max-semi-space-size=16', child, capture], { timeout: 60_000, encoding: 'utf8' }));
      expect(out.entries).toBe(entries);
      expect(out.last).toBe(`TERMSRV/srv${entries - 1}.pamtest.local`);
      expect(out.warnings).toEqual([]);
      expect(out.peakMB, `peak RSS ${out.peakMB} MB reading ${entries} entries in ${out.ms} ms`).toBeLessThan(200);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
