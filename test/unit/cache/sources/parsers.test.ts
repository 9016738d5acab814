import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { parseCmdkeyList } from '../../../../src/cache/sources/cmdkey.js';
import { parseRdpRegistryExport } from '../../../../src/cache/sources/rdp-registry.js';
import { readCollectorFile } from '../../../../src/cache/sources/collector.js';
import { loadCacheFile } from '../../../../src/cache/load.js';
import { normalizeTarget } from '../../../../src/cache/types.js';
import { hostKey, sameHost } from '../../../../src/cache/hosts.js';
import { CredgateError } from '../../../../src/core/errors.js';

const fx = (f: string) => path.join(import.meta.dirname, '..', '..', '..', 'fixtures', 'cache', f);
const read = (f: string) => fs.readFileSync(fx(f));

describe('cmdkey /list', () => {
  it('English (UTF-16LE with BOM, CRLF)', () => {
    const r = parseCmdkeyList(read('cmdkey-en.utf16.txt'), 'en');
    expect(r.warnings).toEqual([]);
    expect(r.entries.map((e) => [e.target, e.type, e.username, e.persist])).toEqual([
      ['TERMSRV/web01.pamtest.local', 'domain-password', 'PAMTEST\\alice', 'local-machine'],
      ['git:https://git.example.com', 'generic', 'alice@example.com', 'local-machine'],
      ['TERMSRV/web01', 'domain-password', 'PAMTEST\\olduser', 'session'],
      ['virtualapp/didlogical', 'generic', '02xyzzy', 'local-machine'],
    ]);
    expect(r.entries[0]!.rawTarget).toBe('Domain:target=TERMSRV/web01.pamtest.local');
  });

  it.each([
    ['cmdkey-de.utf8.txt', 2, 'local-machine'],
    ['cmdkey-fr.utf8bom.txt', 1, 'local-machine'],
    ['cmdkey-es.utf16-nobom.txt', 1, 'local-machine'],
    ['cmdkey-pl-unknown.utf8.txt', 1, undefined],
  ])('%s: target, type, user and persistence by label or by structure', (file, n, persist) => {
    const r = parseCmdkeyList(read(file), file);
    expect(r.warnings).toEqual([]);
    expect(r.entries).toHaveLength(n);
    expect(r.entries[0]).toMatchObject({ target: 'TERMSRV/web01.pamtest.local', rawTarget: 'Domain:target=TERMSRV/web01.pamtest.local', username: 'PAMTEST\\alice' });
    expect(r.entries[0]!.persist).toBe(persist); // "Persistance de l'ordinateur local", "Persistencia de equipo local"; Polish is unknown
    if (!file.includes('unknown')) expect(r.entries[0]!.type).toBe('domain-password');
    else expect(r.entries[0]!.type).toBe('hasło-domeny');
  });

  it('German generic entry and persistence', () => {
    const r = parseCmdkeyList(read('cmdkey-de.utf8.txt'));
    expect(r.entries[1]).toMatchObject({ target: 'TERMSRV/db02', type: 'generic', persist: 'local-machine' });
  });

  it('normalises target forms', () => {
    expect(normalizeTarget('Domain:target=TERMSRV/web01')).toBe('TERMSRV/web01');
    expect(normalizeTarget('LegacyGeneric:target=termsrv/Web01')).toBe('TERMSRV/Web01');
    expect(normalizeTarget('TERMSRV/x')).toBe('TERMSRV/x');
    expect(normalizeTarget('target=TERMSRV/y')).toBe('TERMSRV/y');
  });

  it('truncated and empty input: exactly the entries read so far, never a crash', () => {
    const full = read('cmdkey-en.utf16.txt');
    const all = parseCmdkeyList(full, 'cut').entries;
    const text = full.subarray(2).toString('utf16le');
    const starts = [...text.matchAll(/ {4}Target: /g)].map((m) => 2 + m.index! * 2); // byte offset of each block
    for (let cut = 0; cut < full.length; cut += 37) {
      const got = parseCmdkeyList(full.subarray(0, cut), 'cut').entries;
      // one entry per block whose "Target:" line was reached ...
      const reached = starts.filter((b) => cut > b + 2 * '    Target: '.length).length;
      expect(got.length, `cut at ${cut}`).toBe(reached);
      got.forEach((e, i) => {
        const whole = all[i]!;
        // ... every block before the cut is read exactly; the block the cut falls in is a prefix of it
        if (i < got.length - 1 || (starts[i + 1] ?? full.length) <= cut) {
          expect(e, `cut at ${cut}`).toEqual(whole);
        } else {
          for (const k of ['rawTarget', 'username'] as const) if (e[k] !== undefined) expect(whole[k]!.startsWith(e[k]), `${k} at cut ${cut}`).toBe(true);
          expect(e.target).toBe(normalizeTarget(e.rawTarget));
          if (e.persist) expect(e.persist).toBe(whole.persist);
          expect(e.source).toBe('cmdkey:cut');
        }
      });
    }
    expect(parseCmdkeyList(full.subarray(0, starts[2]!), 'cut').entries).toEqual(all.slice(0, 2));
    expect(parseCmdkeyList('\n* NONE *\n').entries).toEqual([]);
  });
});

describe('registry export', () => {
  it('reads UsernameHint, CertHash (wrapped hex) and the MRU list', () => {
    const r = parseRdpRegistryExport(read('rdp-client.reg'), 'reg');
    expect(r.warnings).toEqual([]);
    expect(r.mru).toEqual(['web01.pamtest.local', 'db02']);
    expect(r.hints).toEqual([
      { server: 'web01.pamtest.local', usernameHint: 'PAMTEST\\olduser', certHash: 'CBA979DE7DEC5607517D77D79027B8A50A853267', source: 'registry:reg' },
      { server: 'db02', usernameHint: 'PAMTEST\\svc-db', source: 'registry:reg' },
    ]);
  });

  it('UTF-8, LF, and broken lines give warnings with line numbers', () => {
    const text = 'Windows Registry Editor Version 5.00\n\n[HKEY_CURRENT_USER\\Software\\Microsoft\\Terminal Server Client\\Servers\\h1]\n"UsernameHint"="A\\\\b"\n"CertHash"=hex:zz,01\ngarbage line\n[broken\n';
    const r = parseRdpRegistryExport(Buffer.from(text), 'x.reg');
    expect(r.hints).toEqual([{ server: 'h1', usernameHint: 'A\\b', source: 'registry:x.reg' }]);
    expect(r.warnings).toEqual(['x.reg:5: CertHash has malformed hex, skipped', 'x.reg:6: not a value line, skipped', 'x.reg:7: malformed key line, skipped']);
  });
});

describe('collector JSON', () => {
  it('reads entries with LastWritten and the machine', () => {
    const s = readCollectorFile(fx('collector-ws0042.json'));
    expect(s.entries).toHaveLength(4);
    expect(s.entries[0]).toMatchObject({ target: 'TERMSRV/web01.pamtest.local', machine: 'WS-0042', windowsUser: 'PAMTEST\\helpdesk1', lastWritten: new Date('2026-11-01T08:00:00Z') });
    expect(s.hints[0]).toMatchObject({ server: 'web01.pamtest.local', certHash: '0ECFA3F4AB40D7CA558B5B564C703EBA1F406A7F' });
  });

  it('names the file, the line or the field on bad input', () => {
    const bad = (content: string) => {
      const f = path.join(fs.mkdtempSync('/tmp/cg-col-'), 'bad.json');
      fs.writeFileSync(f, content);
      try {
        readCollectorFile(f);
        return 'no error';
      } catch (e) {
        expect(e).toBeInstanceOf(CredgateError);
        expect((e as CredgateError).code).toBe('INPUT_INVALID');
        return (e as Error).message;
      }
    };
    expect(bad('{\n"schema": "credgate-collector/1",\n"machine": "x",\n"credentials": [ {"target": }]\n}')).toMatch(/bad\.json:4 is not valid JSON/);
    expect(bad('{"schema":"credgate-collector/1","machine":"m","credentials":[{"target":"TERMSRV/x","lastWritten":"yesterday"}]}')).toMatch(/credentials\.0\.lastWritten: not a date/);
    expect(bad('{"schema":"other"}')).toMatch(/schema/);
  });

  it('loadCacheFile recognises each format by content', () => {
    expect(loadCacheFile(fx('collector-ws0042.json')).entries).toHaveLength(4);
    expect(loadCacheFile(fx('rdp-client.reg')).hints).toHaveLength(2);
    expect(loadCacheFile(fx('cmdkey-de.utf8.txt')).entries).toHaveLength(2);
    expect(() => loadCacheFile(fx('README.md'))).toThrow(/neither collector JSON/);
    expect(() => loadCacheFile('/nonexistent/x.json')).toThrow(/Cannot read \/nonexistent\/x\.json/);
  });
});

describe('host matching', () => {
  it.each([
    ['WEB01.pamtest.local.', 'web01.PAMTEST.local', true],
    ['web01', 'web01.pamtest.local', true],
    ['web01.a.example', 'web01.b.example', false],
    ['web01:3390', 'web01', true],
    ['[2001:DB8:0:0::1]:3389', '2001:db8::1', true],
    ['::ffff:10.0.0.5', '10.0.0.5', true],
    ['10.0.0.5', '10.0.0.6', false],
    ['web02', 'web01', false],
  ])('%s vs %s → %s', (a, b, same) => expect(sameHost(a, b)).toBe(same));
  it('aliases join a name and an address', () => {
    expect(sameHost('10.0.0.5', 'web01.pamtest.local', ['10.0.0.5'])).toBe(true);
    expect(hostKey('[fe80::1%eth0]').canonical).toBe('fe80::1');
  });
});

describe('fuzz (bounded): no parser crashes on random or mutated input', () => {
  it('cmdkey, registry, collector', () => {
    let seed = 99;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const seeds = [read('cmdkey-en.utf16.txt'), read('cmdkey-fr.utf8bom.txt'), read('rdp-client.reg'), read('collector-ws0042.json')];
    const dir = fs.mkdtempSync('/tmp/cg-fuzz-');
    for (let i = 0; i < 1500; i++) {
      const b = Buffer.from(seeds[i % seeds.length]!);
      for (let k = 0; k < 1 + Math.floor(rnd() * 6); k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      const cut = rnd() < 0.3 ? b.subarray(0, Math.floor(rnd() * b.length)) : b;
      parseCmdkeyList(cut, 'f');
      parseRdpRegistryExport(cut, 'f');
      try {
        readCollectorFile(path.join(dir, 'f.json'), cut);
      } catch (e) {
        expect((e as CredgateError).code).toBe('INPUT_INVALID');
      }
    }
  });
});
