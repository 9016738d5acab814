// More sources and hostile input: cmd.exe's OEM code page, PowerShell 5.1's collector JSON, the
// collector script (COLLECTOR_PS1), the live Credential Manager off Windows, encodings and line ends, huge files.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { parseCmdkeyList } from '../../../../src/cache/sources/cmdkey.js';
import { parseRdpRegistryExport } from '../../../../src/cache/sources/rdp-registry.js';
import { readCollectorFile, COLLECTOR_PS1 } from '../../../../src/cache/sources/collector.js';
import { loadCacheFile } from '../../../../src/cache/load.js';
import { decodeWindowsText, decodeCp850 } from '../../../../src/cache/text.js';
import { fileTimeToDate, credmanRawTarget } from '../../../../src/platform/windows-credman.js';
import { windowsCredentialManager } from '../../../../src/cache/sources/credman.js';
import { inspectCache } from '../../../../src/cache/inspect.js';
import { CredgateError, isCredgateError } from '../../../../src/core/errors.js';

const fx = (f: string) => path.join(import.meta.dirname, '..', '..', '..', 'fixtures', 'cache', f);
const read = (f: string) => fs.readFileSync(fx(f));
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cg-src-'));

function utf16(text: string, bom: boolean): Buffer {
  const b = Buffer.from(text, 'utf16le');
  return bom ? Buffer.concat([Buffer.from([0xff, 0xfe]), b]) : b;
}

describe('cmd.exe redirect in the OEM code page', () => {
  it('German cp850: umlauts in type and user, an IP target, session persistence, one warning', () => {
    const r = parseCmdkeyList(read('cmdkey-de.cp850.txt'), 'de850.txt');
    expect(r.warnings).toEqual(['de850.txt: not UTF-8 or UTF-16; read as OEM code page 850 (cmd.exe redirect)']);
    expect(r.entries.map((e) => [e.target, e.type, e.username, e.persist, e.normalizedHost])).toEqual([
      ['TERMSRV/web01.pamtest.local', 'domain-password', 'PAMTEST\\jürgen.müller', 'local-machine', 'web01.pamtest.local'],
      ['TERMSRV/10.0.0.15', 'domain-password', 'PAMTEST\\alice', 'session', '10.0.0.15'],
    ]);
  });

  it('decodeCp850 maps the high half like the code page does', () => {
    expect(decodeCp850(Buffer.from([0x84, 0x94, 0x81, 0xe1, 0x8e, 0x99, 0x9a, 0x41]))).toBe('äöüßÄÖÜA');
  });
});

describe('collector JSON from Windows PowerShell 5.1', () => {
  it('BOM, CRLF, two-space "key":  value, \\u0027 escapes, seven fractional digits, IPv4/IPv6 targets', () => {
    const s = readCollectorFile(fx('collector-ws0107.ps51.json'));
    expect(s.warnings).toEqual([]);
    expect(s.entries.map((e) => [e.target, e.normalizedHost, e.username, e.persist])).toEqual([
      ['TERMSRV/WEB01.pamtest.local.', 'web01.pamtest.local', 'PAMTEST\\svc-rdp', 'local-machine'],
      ['TERMSRV/10.20.0.15', '10.20.0.15', 'svc-rdp@pamtest.local', 'enterprise'],
      ['TERMSRV/[2001:db8:0:0::15]', '2001:db8::15', 'PAMTEST\\jdoe', 'session'],
      ['gh:github.com', undefined, 'jdoe', 'local-machine'],
    ]);
    expect(s.entries[0]!.lastWritten).toEqual(new Date('2026-11-02T16:41:27.118Z'));
    expect(s.entries[1]!.comment).toBe("Saved by the PAM client 'Launcher' <v4>");
    expect(s.mru).toEqual(['web01.pamtest.local', '10.20.0.15']);
    expect(s.hints[1]).toEqual({ server: '10.20.0.15', usernameHint: 'PAMTEST\\jdoe', source: `collector:${fx('collector-ws0107.ps51.json')}`, machine: 'WS-0107' });
  });

  it('the rules read it: stale FQDN entry, hint mismatch on the IP; wrong user on the IPv6 entry for that host', () => {
    const s = readCollectorFile(fx('collector-ws0107.ps51.json'));
    const r = inspectCache({ entries: s.entries, hints: s.hints, account: 'svc-rdp@pamtest.local', changedAt: new Date('2026-11-10T00:00:00Z'), now: new Date('2026-11-24T08:00:00Z') });
    expect(r.findings.map((f) => [f.code, f.evidence.target ?? f.evidence.server])).toEqual([
      ['cache.stale-password', 'TERMSRV/WEB01.pamtest.local.'],
      ['cache.username-hint-mismatch', '10.20.0.15'],
    ]);
    expect(r.entries).toHaveLength(3);
    const v6 = inspectCache({ entries: s.entries, account: 'svc-rdp@pamtest.local', host: '[2001:db8::15]:3389', changedAt: new Date('2026-11-10T00:00:00Z'), now: new Date('2026-11-24T08:00:00Z') });
    expect(v6.findings.map((f) => [f.code, f.evidence.target, f.evidence.username])).toEqual([['cache.wrong-user', 'TERMSRV/[2001:db8:0:0::15]', 'PAMTEST\\jdoe']]);
  });

  it('a FILETIME of zero (1601) is not a write time', () => {
    const f = path.join(tmp(), 'zero.json');
    fs.writeFileSync(f, JSON.stringify({ schema: 'credgate-collector/1', machine: 'M', credentials: [{ target: 'TERMSRV/h', lastWritten: '1601-01-01T00:00:00.0000000Z' }] }));
    expect(readCollectorFile(f).entries[0]!.lastWritten).toBeUndefined();
  });
});

describe('the shipped collector script', () => {
  it('reads Credential Manager as the live source and the purge script do: a failed enumeration is never an empty fleet entry', () => {
    const list = COLLECTOR_PS1.slice(COLLECTOR_PS1.indexOf('public static List<object[]> List()'));
    expect(list).toContain('foreach (var c in ReadAll())');
    expect(COLLECTOR_PS1).toContain('if (!Enumerate(out count, out p)) return all;');
    expect(list).not.toMatch(/CredEnumerateW\(/);
    expect(list).toContain('OwnTarget(c.TargetName, c.Type)');
  });

  it('reads metadata only: CredentialBlob is declared but never marshalled or copied', () => {
    const uses = COLLECTOR_PS1.split('\n').filter((l) => l.includes('CredentialBlob') && !l.trim().startsWith('//'));
    expect(uses).toEqual(['    public UInt32 CredentialBlobSize; public IntPtr CredentialBlob; public UInt32 Persist;']);
    expect(COLLECTOR_PS1).toContain('LastWritten');
    expect(COLLECTOR_PS1).toContain('UsernameHint');
    expect(COLLECTOR_PS1).toContain('CertHash');
  });
});

describe('live Windows Credential Manager', () => {
  it.skipIf(process.platform === 'win32')('off Windows: list and remove reject with UNSUPPORTED_PLATFORM naming the way out', async () => {
    const src = windowsCredentialManager();
    for (const p of [src.list(), src.remove!('Domain:target=TERMSRV/x')]) {
      const e = await p.then(() => undefined, (x: unknown) => x);
      expect(isCredgateError(e)).toBe(true);
      expect((e as CredgateError).code).toBe('UNSUPPORTED_PLATFORM');
      expect((e as Error).message).toContain('credgate cache collector');
    }
  });

  // Runs on Windows: in the Windows tier (npm run test:windows, Node for Windows under Wine) and on a Windows runner.
  it.runIf(process.platform === 'win32')('on Windows: a generic credential made with cmdkey is listed (type, user, LastWritten, no password) and removed', async () => {
    const name = `credgate-test-${process.pid}`;
    const pass = randomBytes(18).toString('base64url');
    // Wine has no cmdkey.exe: there the test makes the same generic credential with CredWriteW;
    // on Windows it uses cmdkey, as an admin does
    const w = await import('../../../windows/helpers/win32.js');
    const wine = w.wineVersion();
    if (wine) w.credWrite({ target: name, type: 'generic', user: 'x', password: pass });
    else execFileSync('cmdkey', [`/generic:${name}`, '/user:x', `/pass:${pass}`], { stdio: 'ignore', timeout: 15_000 });
    try {
      const src = windowsCredentialManager();
      const list = await src.list();
      const e = list.find((x) => x.target === name);
      expect(e).toMatchObject({ type: 'generic', username: 'x', rawTarget: `LegacyGeneric:target=${name}`, source: 'credman' });
      expect(e!.lastWritten).toBeInstanceOf(Date);
      expect(Math.abs(e!.lastWritten!.getTime() - Date.now())).toBeLessThan(10 * 60_000);
      expect(JSON.stringify(list) + inspect(list, { depth: 5 }), 'password leaked').not.toContain(pass);
      expect(await src.remove!(e!.rawTarget, e!.type)).toBe(true);
      expect((await src.list()).some((x) => x.target === name)).toBe(false);
      expect(await src.remove!(e!.rawTarget, e!.type)).toBe(false); // already gone
    } finally {
      if (wine) w.credDelete(name, 'generic');
      else {
        try {
          execFileSync('cmdkey', [`/delete:${name}`], { stdio: 'ignore', timeout: 15_000 });
        } catch {
          // deleted by the test
        }
      }
    }
  }, 60_000);

  it('FILETIME and raw target helpers', () => {
    // 2026-11-25T06:00:00Z = 134085384000000000 100-ns ticks since 1601
    const ft = (BigInt(Date.UTC(2026, 10, 25, 6)) * 10000n) + 116444736000000000n;
    expect(fileTimeToDate(Number(ft & 0xffffffffn), Number(ft >> 32n))).toEqual(new Date('2026-11-25T06:00:00Z'));
    expect(fileTimeToDate(0, 0)).toBeUndefined();
    expect(credmanRawTarget('TERMSRV/web01', 2)).toBe('Domain:target=TERMSRV/web01');
    expect(credmanRawTarget('git:https://x', 1)).toBe('LegacyGeneric:target=git:https://x');
  });
});

describe('encodings, line ends and hostile input', () => {
  const CMDKEY = '\nCurrently stored credentials:\n\n    Target: Domain:target=TERMSRV/web01\n    Type: Domain Password\n    User: PAMTEST\\alice\n    Local machine persistence\n\n';
  const REG = 'Windows Registry Editor Version 5.00\n\n[HKEY_CURRENT_USER\\Software\\Microsoft\\Terminal Server Client\\Default]\n"MRU0"="web01"\n\n[HKEY_CURRENT_USER\\Software\\Microsoft\\Terminal Server Client\\Servers\\web01]\n"UsernameHint"="PAMTEST\\\\alice"\n"CertHash"=hex:0e,cf,a3,f4,ab,40,d7,ca,55,8b,5b,56,4c,70,3e,ba,1f,40,6a,7f\n';

  it.each([
    ['UTF-16LE + BOM, CRLF', (t: string) => utf16(t.replace(/\n/g, '\r\n'), true)],
    ['UTF-16LE no BOM, CRLF', (t: string) => utf16(t.replace(/\n/g, '\r\n'), false)],
    ['UTF-16LE no BOM, LF', (t: string) => utf16(t, false)],
    ['UTF-16BE + BOM', (t: string) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(t, 'utf16le').swap16()])],
    ['UTF-8 + BOM, CRLF', (t: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(t.replace(/\n/g, '\r\n'))])],
    ['UTF-8, LF', (t: string) => Buffer.from(t)],
    ['UTF-8, CR only', (t: string) => Buffer.from(t.replace(/\n/g, '\r'))],
  ])('%s: the same entries', (_name, enc) => {
    const c = parseCmdkeyList(enc(CMDKEY), 'c');
    expect(c.entries.map((e) => [e.target, e.username, e.persist])).toEqual([['TERMSRV/web01', 'PAMTEST\\alice', 'local-machine']]);
    const r = parseRdpRegistryExport(enc(REG), 'r');
    expect(r.warnings).toEqual([]);
    expect(r.mru).toEqual(['web01']);
    expect(r.hints[0]).toMatchObject({ usernameHint: 'PAMTEST\\alice', certHash: '0ECFA3F4AB40D7CA558B5B564C703EBA1F406A7F' });
  });

  it('mixed encodings (a UTF-16 block appended to a UTF-8 file): the UTF-8 part is read, with a warning', () => {
    const buf = Buffer.concat([Buffer.from(CMDKEY), utf16('    Target: Domain:target=TERMSRV/db02\r\n', false)]);
    const r = parseCmdkeyList(buf, 'mixed.txt');
    expect(r.entries[0]).toMatchObject({ target: 'TERMSRV/web01', username: 'PAMTEST\\alice' });
    expect(r.warnings.some((w) => w.startsWith('mixed.txt: contains NUL characters'))).toBe(true);
  });

  it('a truncated UTF-16 file (odd byte count) keeps the entries read and warns', () => {
    const full = utf16(CMDKEY + CMDKEY.replace('web01', 'db02').replace('Currently stored credentials:', ''), true);
    const cut = full.subarray(0, full.length - 41);
    const r = parseCmdkeyList(cut, 'cut.txt');
    expect(r.entries.length).toBeGreaterThanOrEqual(1);
    expect(r.warnings).toContain('cut.txt: odd byte count for UTF-16; the last byte was dropped (truncated file?)');
  });

  it('a truncated registry export: hints read so far; a broken hex continuation warns with its line', () => {
    const r = parseRdpRegistryExport(Buffer.from(REG.slice(0, REG.indexOf('6a,7f')) + '6'), 'cut.reg');
    expect(r.hints[0]).toMatchObject({ server: 'web01', usernameHint: 'PAMTEST\\alice' });
    expect(r.hints[0]!.certHash).toBeUndefined();
    expect(r.warnings).toEqual(['cut.reg:8: CertHash has malformed hex, skipped']);
  });

  it('hostile lines: 1 MB lines and a million empty blocks do not crash or hang', () => {
    const long = 'x'.repeat(1 << 20);
    const t0 = Date.now();
    const c = parseCmdkeyList(Buffer.from(`${CMDKEY}    Target: ${long}\n${'\n'.repeat(1_000_000)}`), 'h.txt');
    expect(c.entries).toHaveLength(1);
    expect(c.warnings).toContain('h.txt:9: line longer than 4096 characters skipped');
    const r = parseRdpRegistryExport(Buffer.from(`${REG}"UsernameHint"="${long}"\n`), 'h.reg');
    expect(r.warnings).toContain('h.reg:9: line too long, skipped');
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('deeply nested or huge JSON is an error naming the file, not a crash', () => {
    const dir = tmp();
    const deep = path.join(dir, 'deep.json');
    fs.writeFileSync(deep, '['.repeat(100_000));
    expect(() => readCollectorFile(deep)).toThrow(/deep\.json:1 is not valid JSON/);
    const big = path.join(dir, 'big.json');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 65 * 1024 * 1024); // sparse: costs no disk
    expect(() => loadCacheFile(big)).toThrow(/big\.json is 68157440 bytes, over the/);
    const many = path.join(dir, 'many.json');
    fs.writeFileSync(many, JSON.stringify({ schema: 'credgate-collector/1', machine: 'M', credentials: Array.from({ length: 100_001 }, () => ({ target: 'TERMSRV/h' })) }));
    expect(() => readCollectorFile(many)).toThrow(/many\.json: credentials: .*100000/);
  });

  it('decodeWindowsText refuses an over-limit buffer naming the file', () => {
    expect(() => decodeWindowsText(Buffer.alloc(64 * 1024 * 1024 + 1), 'x.bin')).toThrow(/x\.bin is 67108865 bytes/);
  });
});

describe('hostile fleet files: control characters never reach a script or the terminal', () => {
  it('entries, hints and MRU values with control characters are skipped with a warning naming the file and the entry', () => {
    const f = fx('collector-hostile.json');
    const s = readCollectorFile(f);
    expect(s.entries.map((e) => e.target)).toEqual(['TERMSRV/web01.pamtest.local', 'TERMSRV/db\'\u201b%TEMP%&calc").pamtest.local', 'TERMSRV/web04.pamtest.local']);
    expect(s.warnings).toEqual([
      `${f}: credentials.1.target: "Domain:target=TERMSRV/web02.pamtest.local\\u000d\\u000acmdkey /delete:*" contains control characters; entry skipped`,
      `${f}: credentials.3.userName: "PAMTEST\\alice\\u001b[2J\\u001b[H" contains control characters; entry skipped`,
      `${f}: credentials.4.type: "generic\\u2028Remove-Item C:\\ -Recurse" contains control characters; entry skipped`,
      `${f}: rdpServers.0.server: "web01.pamtest.local\\u000aHKCU" contains control characters; hint skipped`,
      `${f}: rdpServers.1.usernameHint: "PAMTEST\\bob\\u202egnp.exe" contains control characters; hint skipped`,
      `${f}: mru.0: "web01.pamtest.local\\u0085calc" contains control characters; skipped`,
    ]);
    expect(s.entries[2]!.comment).toBe('line one  line two ');
    expect(s.hints).toEqual([]);
    expect(s.mru).toEqual(['web04.pamtest.local']);
    expect(s.entries[0]).toMatchObject({ machine: "WS-'\u2019%PATH%&calc", windowsUser: 'PAMTEST\\o\'brien\u2018%USERNAME%' });
  });

  it('a machine or user name with a control character rejects the whole file, naming it and the field', () => {
    const f = fx('collector-hostile-machine.json');
    expect(() => readCollectorFile(f)).toThrow(`${f}: machine: "WS-1\\u000d\\u000ashutdown /s /t 0" contains control characters; this file was not read`);
  });

  it('cmdkey captures and registry exports: the same rule', () => {
    const c = parseCmdkeyList('\nCurrently stored credentials:\n\n    Target: Domain:target=TERMSRV/web01\u001b]0;pwned\u0007\n    Type: Domain Password\n    User: PAMTEST\\alice\n\n    Target: Domain:target=TERMSRV/web02\n    Type: Domain Password\n    User: PAMTEST\\alice\n', 'c.txt');
    expect(c.entries.map((e) => e.target)).toEqual(['TERMSRV/web02']);
    expect(c.warnings).toEqual(['c.txt:4: "Domain:target=TERMSRV/web01\\u001b]0;pwned\\u0007" contains control characters; entry skipped']);
    const r = parseRdpRegistryExport('Windows Registry Editor Version 5.00\n\n[HKEY_CURRENT_USER\\Software\\Microsoft\\Terminal Server Client\\Servers\\web\u000b01]\n"UsernameHint"="x"\n\n[HKEY_CURRENT_USER\\Software\\Microsoft\\Terminal Server Client\\Servers\\web02]\n"UsernameHint"="PAMTEST\\\\al\u0008ice"\n', 'r.reg');
    expect(r.hints).toEqual([{ server: 'web02', source: 'registry:r.reg' }]);
    expect(r.warnings).toEqual(['r.reg:3: server "web\\u000b01" contains control characters; skipped', 'r.reg:7: UsernameHint "PAMTEST\\al\\u0008ice" contains control characters; skipped']);
  });
});
