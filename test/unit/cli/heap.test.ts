// cli/heap.ts: the cache commands keep V8's young generation at its starting size (a fleet's entries
// live until the command ends). The flag is set at run time: V8 prints an error on stderr for a
// flag it does not know, so a cache command on this Node must print nothing V8 said, and the
// flag must change what V8 does (its young generation stays small while a fleet is read).
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('keepNurserySmall (cache commands)', () => {
  it('cache list over a fleet file: exit 0, nothing on stderr, and the young generation stays at its starting size', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-heap-'));
    try {
      const credentials = Array.from({ length: 60_000 }, (_, k) => ({ target: `Domain:target=TERMSRV/srv${k}.pamtest.local`, type: 'domain-password', userName: 'PAMTEST\\svc-rdp', lastWritten: '2026-10-12T00:00:00.000Z', persist: 'local-machine' }));
      fs.writeFileSync(path.join(dir, 'ws.json'), JSON.stringify({ schema: 'credgate-collector/1', machine: 'WS-1', credentials }));
      // a preload reports the new space's committed size when the CLI is done
      const hook = path.join(dir, 'hook.mjs');
      fs.writeFileSync(hook, `import v8 from 'node:v8'; import fs from 'node:fs';\nprocess.on('exit', () => fs.writeFileSync(${JSON.stringify(path.join(dir, 'new.txt'))}, String(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size)));\n`);
      const run = (args: string[]) => spawnSync(process.execPath, ['--import', `file://${hook}`, path.join(root, 'bin', 'credgate.mjs'), ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 256 * 1024 * 1024 });
      const r = run(['cache', 'list', '--from', path.join(dir, 'ws.json'), '--json']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout).entries).toHaveLength(60_000);
      const cacheNew = Number(fs.readFileSync(path.join(dir, 'new.txt'), 'utf8'));
      // the same reading in a process without the flag grows its young generation (measured: 16-32 MB)
      const script = `import v8 from 'node:v8'; import fs from 'node:fs'; const { loadCacheFile } = await import(${JSON.stringify(path.join(root, 'dist', 'cache', 'index.js'))}); const s = loadCacheFile(${JSON.stringify(path.join(dir, 'ws.json'))}); console.log(s.entries.length, v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space').space_size);`;
      const plain = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
      const [n, plainNew] = plain.stdout.trim().split(' ').map(Number);
      expect(n).toBe(60_000);
      expect(cacheNew).toBeLessThan(plainNew! / 2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
