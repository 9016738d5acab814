// Bounded, seeded fuzzing of the cache inspector's pure functions and emitted scripts: host keys,
// target normalisation, keychain raw targets, input-format detection on random and mutated bytes,
// and the cmd / PowerShell purge scripts built from hostile targets, machines and users.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hostKey, hostMatcher, sameHost } from '../../../../src/cache/hosts.js';
import { normalizeTarget, termsrvHost } from '../../../../src/cache/types.js';
import { isWellFormed, keychainRawTarget, parseKeychainRawTarget } from '../../../../src/cache/sources/keychain.js';
import { loadCacheFile } from '../../../../src/cache/load.js';
import { plainlyValidCredentials, credentialSchemaAccepts } from '../../../../src/cache/sources/collector.js';
import { cmdkeyCommands, powershellScript, psString, type PurgePlan, type PurgeItem } from '../../../../src/cache/purge.js';
import { isCredgateError } from '../../../../src/core/errors.js';
import { prng } from '../../../helpers/prng.js';

const fx = (f: string) => path.join(import.meta.dirname, '..', '..', '..', 'fixtures', 'cache', f);


// characters that break scripts and parsers, and plain ones
const NASTY = ["'", '\u2018', '\u2019', '\u201a', '\u201b', '"', '\u201c', '\u201d', '%', '!', '^', '&', '|', '<', '>', '(', ')', '`', '$', ';', ',', '=', '\r', '\n', '\r\n', '\t', '\u0000', '\u001b', '\u0085', '\u2028', '\u2029', '\u202e', '\\', '/', ':', '[', ']', '@', '#', '.', ' ', '..', '::', '%PATH%', '$(calc)', "'; calc; '", '" & calc & "', '\r\ncalc.exe\r\n', 'é', 'ß', '中', '\ud83d\ude00'];
const PLAIN = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';

function randomText(r: ReturnType<typeof prng>, max = 24): string {
  let s = '';
  const n = r.int(max);
  for (let i = 0; i < n; i++) s += r.next() < 0.35 ? r.pick(NASTY) : PLAIN[r.int(PLAIN.length)]!;
  return s;
}

describe('fuzz: host keys and targets', () => {
  it('hostKey: never throws, canonical form is a fixed point, sameHost is reflexive and symmetric', () => {
    const r = prng(1);
    const parts = ['web01', 'WEB01', 'corp', 'example', '10', '0', '255', '::', '::ffff:', '2001:db8', 'fe80::1%eth0', '[', ']', ':3389', '.', '..', ' ', '%', '1.2.3.4', '[::1]'];
    for (let i = 0; i < 4000; i++) {
      const a = i % 2 ? randomText(r, 12) : Array.from({ length: 1 + r.int(5) }, () => r.pick(parts)).join(r.pick(['', '.', ':']));
      const b = Array.from({ length: 1 + r.int(4) }, () => r.pick(parts)).join(r.pick(['', '.']));
      const k = hostKey(a);
      expect(typeof k.canonical).toBe('string');
      expect(hostKey(k.canonical).canonical, JSON.stringify(a)).toBe(k.canonical);
      expect(sameHost(a, a), JSON.stringify(a)).toBe(true);
      expect(sameHost(a, b)).toBe(sameHost(b, a));
      expect(hostMatcher(b, [a])(hostKey(a))).toBe(true);
      expect(hostMatcher(b)(hostKey(a))).toBe(sameHost(a, b)); // the precomputed matcher the rules use
      if (k.kind === 'name') expect(k.canonical).toBe(k.canonical.toLowerCase());
    }
  });

  it('normalizeTarget: never throws, trims, and every spelling of an RDP target gives its host back', () => {
    const r = prng(2);
    for (let i = 0; i < 3000; i++) {
      const raw = randomText(r, 40);
      const t = normalizeTarget(raw);
      expect(t).toBe(t.trim());
      const host = randomText(r, 16).trim().replace(/^\/+/, '');
      if (!host) continue;
      const prefix = r.pick(['', 'Domain:target=', 'LegacyGeneric:target=', 'domain : target = ', 'target=']);
      const termsrv = r.pick(['TERMSRV/', 'termsrv/', 'TermSrv/']);
      expect(termsrvHost(normalizeTarget(`${prefix}${termsrv}${host}`)), JSON.stringify(host)).toBe(host);
    }
  });

  it('keychain raw targets: any well-formed service and account round-trip, others are refused; any string parses or is refused, never throws', () => {
    const r = prng(3);
    for (let i = 0; i < 3000; i++) {
      const service = randomText(r);
      const account = randomText(r);
      if (isWellFormed(service) && isWellFormed(account)) {
        const raw = keychainRawTarget(service, account);
        expect(parseKeychainRawTarget(raw)).toEqual({ service, account });
      } else {
        expect(() => keychainRawTarget(service, account)).toThrow(/not valid UTF-16/);
      }
      const junk = `keychain:${randomText(r)}:${randomText(r)}${r.next() < 0.5 ? ':' + randomText(r) : ''}`;
      const p = parseKeychainRawTarget(junk);
      if (p) expect(typeof p.service === 'string' && typeof p.account === 'string').toBe(true);
    }
    // a lone surrogate (not valid UTF-16) has no raw target: never normalised to U+FFFD (another item's name)
    expect(() => keychainRawTarget('svc\ud800', 'a')).toThrow(/not valid UTF-16/);
    expect(() => keychainRawTarget('svc', 'a\udfff')).toThrow(/not valid UTF-16/);
    expect(parseKeychainRawTarget(keychainRawTarget('svc\ufffd', 'a\ud83d\ude00'))).toEqual({ service: 'svc\ufffd', account: 'a\ud83d\ude00' });
  });
});

describe('fuzz: input format detection', () => {
  it('loadCacheFile on random and mutated bytes: a snapshot or INPUT_INVALID naming the file, never a crash', () => {
    const r = prng(4);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-fuzz-load-'));
    const seeds = ['cmdkey-en.utf16.txt', 'cmdkey-de.cp850.txt', 'cmdkey-es.utf16-nobom.txt', 'rdp-client.reg', 'collector-ws0042.json', 'collector-ws0107.ps51.json'].map((f) => fs.readFileSync(fx(f)));
    const counts: Record<string, number> = { ok: 0, invalid: 0 };
    try {
      for (let i = 0; i < 2000; i++) {
        let b: Buffer;
        if (i % 5 === 0) b = Buffer.from(Array.from({ length: r.int(600) }, () => r.int(256)));
        else {
          b = Buffer.from(seeds[i % seeds.length]!);
          for (let k = 0, n = 1 + r.int(8); k < n; k++) b[r.int(b.length)] = r.int(256);
          if (r.next() < 0.3) b = b.subarray(0, r.int(b.length));
          if (r.next() < 0.1) b = Buffer.concat([b, b.subarray(0, r.int(b.length))]);
        }
        const f = path.join(dir, `f${i % 7}.bin`);
        fs.writeFileSync(f, b);
        try {
          const s = loadCacheFile(f);
          expect(Array.isArray(s.entries) && Array.isArray(s.hints) && Array.isArray(s.warnings)).toBe(true);
          for (const e of s.entries) expect(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(e.rawTarget + (e.username ?? '') + (e.machine ?? '')), JSON.stringify(e)).toBe(false);
          counts.ok!++;
        } catch (e) {
          expect(isCredgateError(e), String(e)).toBe(true);
          expect((e as { code: string }).code).toBe('INPUT_INVALID');
          expect((e as Error).message).toContain(f);
          counts.invalid!++;
        }
      }
      // both outcomes happen: the fuzzer reaches the parsers and the refusals
      expect(counts.ok).toBeGreaterThan(200);
      expect(counts.invalid).toBeGreaterThan(100);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('format detection is stable under BOMs, leading blank lines and line ends', () => {
    const json = fs.readFileSync(fx('collector-ws0042.json'), 'utf8');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-fuzz-detect-'));
    try {
      for (const [i, b] of [Buffer.from('\n\r\n  ' + json), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json.replace(/\n/g, '\r\n'))]), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json, 'utf16le')])].entries()) {
        const f = path.join(dir, `c${i}.json`);
        fs.writeFileSync(f, b);
        expect(loadCacheFile(f).entries.map((e) => e.target)).toEqual(['TERMSRV/web01.pamtest.local', 'TERMSRV/web01', 'MicrosoftOffice16_Data:SSPI:alice@example.com', 'TERMSRV/old-jump01.pamtest.local']);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * PowerShell's tokenizer for what the purge script uses: single-quoted strings (any of ' U+2018
 * U+2019 U+201A U+201B opens and closes one; two in a row inside are one literal quote), and the
 * `('a' + [char]0x000A + 'b')` joins psString writes. Each becomes S, so a script built from
 * hostile values must reduce to the script built from harmless ones.
 */
function psSkeleton(script: string): string {
  const Q = /['\u2018\u2019\u201a\u201b]/;
  let out = '';
  for (let i = 0; i < script.length; i++) {
    if (!Q.test(script[i]!)) {
      out += script[i];
      continue;
    }
    i++;
    for (;;) {
      if (i >= script.length) throw new Error('unterminated PowerShell string');
      if (Q.test(script[i]!)) {
        if (Q.test(script[i + 1] ?? '')) {
          i += 2;
          continue;
        }
        break;
      }
      i++;
    }
    out += 'S';
  }
  for (;;) {
    const next = out.replace(/\((?:S|\[char\]0x[0-9A-F]{4})(?: \+ (?:S|\[char\]0x[0-9A-F]{4}))*\)/g, 'S');
    if (next === out) return out;
    out = next;
  }
}

describe('fuzz: emitted purge scripts from hostile plans', () => {
  const item = (machine: string | undefined, windowsUser: string | undefined, name: string, username: string | undefined, generic: boolean): PurgeItem => ({
    ...(machine !== undefined ? { machine } : {}), ...(windowsUser !== undefined ? { windowsUser } : {}),
    target: normalizeTarget(name), rawTarget: `${generic ? 'LegacyGeneric' : 'Domain'}:target=${name}`, type: generic ? 'generic' : 'domain-password',
    ...(username !== undefined ? { username } : {}), lastWritten: '2026-11-01T08:00:00.000Z', source: 'collector:x.json', rule: 'cache.stale-password', reason: 'r', evidence: {},
  });

  it('PowerShell: no value escapes its string literal, whatever quotes, controls or separators it holds', () => {
    const r = prng(5);
    for (let i = 0; i < 1500; i++) {
      const n = 1 + r.int(4);
      const shape = Array.from({ length: n }, () => ({ m: r.next() < 0.8, u: r.next() < 0.5, n: r.next() < 0.8, g: r.next() < 0.3 }));
      const hostile: PurgePlan = { createdAt: '2026-11-20T00:00:00.000Z', items: shape.map((s, k) => item(s.m ? `M${k}${randomText(r, 10)}` : undefined, s.u ? randomText(r, 12) : undefined, `TERMSRV/${randomText(r, 20)}`, s.n ? randomText(r, 12) : undefined, s.g)) };
      const harmless: PurgePlan = { createdAt: hostile.createdAt, items: shape.map((s, k) => item(s.m ? `M${k}` : undefined, s.u ? 'u' : undefined, 'TERMSRV/h', s.n ? 'n' : undefined, s.g)) };
      // machines collide only by chance; keep the grouping the same on both sides
      if (new Set(hostile.items.map((x) => (x.machine ?? '*').toUpperCase())).size !== new Set(harmless.items.map((x) => x.machine ?? '*')).size) continue;
      const ps = powershellScript(hostile);
      expect(/[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/.test(ps), 'raw control character in the script').toBe(false);
      expect(ps.split('\r\n').length).toBe(powershellScript(harmless).split('\r\n').length);
      expect(psSkeleton(ps)).toBe(psSkeleton(powershellScript(harmless)));
    }
  });

  it('psString: each value reads back as itself under PowerShell\'s quoting rules', () => {
    const r = prng(6);
    const readBack = (lit: string): string => {
      const unq = (s: string) => s.slice(1, -1).replace(/(['\u2018\u2019\u201a\u201b])(['\u2018\u2019\u201a\u201b])/g, '$2');
      if (!lit.startsWith('(')) return unq(lit);
      return lit.slice(1, -1).split(' + ').map((p) => (p.startsWith('[char]') ? String.fromCharCode(parseInt(p.slice(8), 16)) : unq(p))).join('');
    };
    for (let i = 0; i < 3000; i++) {
      const v = randomText(r, 30);
      const lit = psString(v);
      expect(psSkeleton(lit)).toBe('S');
      // a join splits at ' + ' only between parts: a value holding ' + ' stays inside its quotes
      if (!v.includes(' + ')) expect(readBack(lit), JSON.stringify(v)).toBe(v);
    }
  });

  it('cmd: each command is one line; % doubled, quotes balanced, operators only inside quotes; REM lines inert', () => {
    const r = prng(7);
    for (let i = 0; i < 2000; i++) {
      const plan: PurgePlan = { createdAt: 'x', items: Array.from({ length: 1 + r.int(3) }, () => item(r.next() < 0.8 ? randomText(r, 10) || 'M' : undefined, r.next() < 0.5 ? randomText(r, 10) : undefined, `TERMSRV/${randomText(r, 20)}`, 'u', r.next() < 0.3)) };
      const cmds = cmdkeyCommands(plan);
      expect(cmds).toHaveLength(plan.items.length);
      for (const [k, c] of cmds.entries()) {
        const lines = c.split('\r\n');
        expect(lines.length).toBe(plan.items[k]!.machine !== undefined ? 2 : 1);
        for (const l of lines) {
          expect(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(l), JSON.stringify(l)).toBe(false);
          if (l.startsWith('REM ')) {
            expect(l, JSON.stringify(l)).not.toMatch(/[%&|<>^"!]/);
            continue;
          }
          const m = /^cmdkey \/delete:(?:"([^"]*)"|([^"\s&|<>^()!]*))$/.exec(l);
          expect(m, JSON.stringify(l)).not.toBeNull();
          const arg = m![1] ?? m![2]!;
          expect(arg.replace(/%%/g, ''), JSON.stringify(l)).not.toContain('%');
          expect(arg.replace(/%%/g, '%')).toBe(`${plan.items[k]!.type === 'generic' ? 'LegacyGeneric' : 'Domain'}:target=${plan.items[k]!.rawTarget.replace(/^[A-Za-z]+:target=/, '')}`);
        }
      }
    }
  });
});

describe('fuzz: the collector\'s fast credential check never accepts what the schema refuses', () => {
  it('random rows near every limit: plainlyValidCredentials ⇒ the zod schema accepts; valid rows take the fast path', () => {
    const r = prng(11);
    const str = (n: number) => 'x'.repeat(n);
    const values: Record<string, unknown[]> = {
      target: [undefined, null, '', 'TERMSRV/web01', str(32767), str(32768), 5, {}, ['a']],
      type: [undefined, null, '', 'domain-password', str(64), str(65), 1, true],
      userName: [undefined, null, '', 'PAMTEST\\alice', str(512), str(513), 0, []],
      lastWritten: [undefined, null, '', '2026-11-01T00:00:00Z', '2026-11-01', 'not a date', '1601-01-01T00:00:00Z', 1700000000000, '2026-13-45T99:00:00Z'],
      persist: [undefined, null, '', 'session', 'local-machine', 'enterprise', 'Session', 'forever', 2],
      comment: [undefined, null, '', 'x', str(4096), str(4097), false],
      extra: [undefined, 'kept', 7, { nested: true }],
    };
    let fast = 0;
    let schemaOnly = 0;
    for (let i = 0; i < 5000; i++) {
      const row: Record<string, unknown> = {};
      for (const [k, vs] of Object.entries(values)) {
        const v = r.pick(vs);
        if (v !== undefined || r.next() < 0.5) row[k] = v;
      }
      const shape = r.next() < 0.03 ? r.pick([null, 'row', 5, [row]]) : row;
      const quick = plainlyValidCredentials([shape]);
      const schema = credentialSchemaAccepts(shape);
      if (quick) expect(schema, JSON.stringify(shape)?.slice(0, 200)).toBe(true);
      if (quick) fast++;
      else if (schema) schemaOnly++;
    }
    expect(fast).toBeGreaterThan(50); // the fast path is taken, not just safe (108 of these 5,000 rows are valid)
    expect(schemaOnly).toBe(0); // and on these rows it is exactly the schema
  });
});

