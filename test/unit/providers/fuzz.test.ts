// Bounded, seeded fuzzing of every parser a provider runs on input it does not control: stdin in each
// format, the file provider's JSON, LAPS msLAPS-Password, Vault and Key Vault references, Retry-After,
// HttpClient.json, and the config file's JSON error locator. Each input either parses or throws a
// CredgateError; nothing else escapes, no error shows the password planted in the input, every
// changedAt is a real date, and each run ends well inside its time limit. A failing seed is printed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import { Readable } from 'node:stream';
import { describe, it, expect, afterAll } from 'vitest';
import { z } from 'zod';
import { CredgateError } from '../../../src/core/errors.js';
import { Secret } from '../../../src/core/secret.js';
import { fromStdin } from '../../../src/providers/stdin.js';
import { fromFile } from '../../../src/providers/file.js';
import { parseMsLapsPassword } from '../../../src/providers/laps.js';
import { parseVaultRef } from '../../../src/providers/vault.js';
import { parseKeyVaultRef } from '../../../src/providers/azure-keyvault.js';
import { HttpClient, parseRetryAfter } from '../../../src/providers/http.js';
import { jsonErrorOffset } from '../../../src/providers/config.js';
import { prng as rng } from '../../helpers/prng.js';

const SEED = Number(process.env.CREDGATE_FUZZ_SEED ?? 0x5eed1234);
/** The password planted in inputs; no error may show it. */
const MARK = 'Fz!Planted-Pass-9q';

type Rng = ReturnType<typeof rng>;

const ALPHABET = ['a', 'Z', '0', '9', ' ', ':', '/', '\\', '"', "'", '{', '}', '[', ']', ',', '.', '-', '?', '=', '&', '#', '%', '\n', '\r', '\t', '\u0000', '\u001b', 'é', '€', '😀', '\uFEFF', '\uD800', MARK];
const KEYS = ['username', 'password', 'domain', 'changedAt', 'n', 't', 'p', 'web01', '-', '__proto__', 'constructor', ''];

function randomText(r: Rng, max = 40): string {
  let s = '';
  const len = r.int(max);
  for (let i = 0; i < len; i++) s += r.pick(ALPHABET);
  return s;
}

function randomValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 3 ? 6 : 9)) {
    case 0: return MARK;
    case 1: return randomText(r);
    case 2: return r.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1]);
    case 3: return r.pick([true, false, null]);
    case 4: return r.pick(['2026-11-23T04:15:00Z', '2026-11-23T04:15:00', 'not a date', '01d9f1c4a3b2c000', 'ffffffffffffffff', '0', '7fffffffffffffff']);
    case 5: return '';
    case 6: return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = r.int(5); i > 0; i--) o[r.pick(KEYS)] = randomValue(r, depth + 1);
      return o;
    }
  }
}

/** JSON-ish text: valid JSON of a random shape (often a credential), sometimes broken on purpose. */
function randomJsonish(r: Rng): string {
  const credential = r.next() < 0.5;
  const v = credential ? { username: r.pick(['svc-rdp', MARK, '', 42]), password: r.pick([MARK, '', null, 7]), ...(r.next() < 0.5 ? { changedAt: randomValue(r) } : {}), ...(r.next() < 0.3 ? { [r.pick(KEYS)]: randomValue(r) } : {}) } : randomValue(r);
  let s = JSON.stringify(v) ?? 'null';
  const mutations = r.int(3);
  for (let i = 0; i < mutations; i++) {
    const at = r.int(s.length + 1);
    switch (r.int(4)) {
      case 0: s = s.slice(0, at); break;
      case 1: s = s.slice(0, at) + r.pick(ALPHABET) + s.slice(at); break;
      case 2: s = s.slice(0, at) + s.slice(at + 1); break;
      default: s = s.slice(0, at) + s.slice(at).replace(/"/, ''); break;
    }
  }
  return s;
}

function renderings(e: CredgateError): string {
  return [e.message, String(e), JSON.stringify(e), JSON.stringify(e.details ?? {}), util.inspect(e, { depth: 8 }), String(e.stack), JSON.stringify(e.toJSON())].join('\n');
}

/**
 * The outcome must be a value or a CredgateError with a bounded message that does not show the planted
 * password. References are not secrets (messages may quote them, capped): `leakCheck: false` for them.
 */
function judge(seed: number, input: unknown, err: unknown, leakCheck = true) {
  if (err === undefined) return;
  if (!(err instanceof CredgateError)) {
    let shown: string;
    try {
      shown = JSON.stringify(String(input)).slice(0, 200);
    } catch {
      shown = '(unprintable input)';
    }
    throw new Error(`seed ${seed}: ${shown} threw a non-credgate ${(err as Error)?.name}: ${(err as Error)?.message}`);
  }
  if (err.message.length > 600) throw new Error(`seed ${seed}: a ${err.message.length}-character ${err.code} message`);
  if (leakCheck && renderings(err).includes(MARK)) throw new Error(`seed ${seed}: LEAK of the planted password in a ${err.code} error`);
}

function validCredential(seed: number, c: { username: unknown; secret: unknown; changedAt?: unknown }) {
  if (typeof c.username !== 'string' || !(c.secret instanceof Secret)) throw new Error(`seed ${seed}: bad credential shape`);
  if (c.changedAt !== undefined && (!(c.changedAt instanceof Date) || Number.isNaN(c.changedAt.getTime()))) throw new Error(`seed ${seed}: changedAt is not a real date`);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-fuzz-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe(`provider parsers under fuzzing (seed ${SEED})`, () => {
  it('stdin, every format: 4 × 750 inputs', async () => {
    const t0 = Date.now();
    for (const format of ['auto', 'password', 'username:password', 'json'] as const) {
      for (let i = 0; i < 750; i++) {
        const seed = SEED + i;
        const r = rng(seed);
        const text = r.next() < 0.6 ? randomJsonish(r) : randomText(r, 80);
        const chunks = r.next() < 0.3 ? [Buffer.from(text.slice(0, 3)), Buffer.from(text.slice(3))] : [Buffer.from(text)];
        let err: unknown;
        try {
          validCredential(seed, await fromStdin({ stream: Readable.from(chunks), format, timeoutMs: 2000 }).resolve('-'));
        } catch (e) {
          err = e;
        }
        judge(seed, text, err);
      }
    }
    expect(Date.now() - t0).toBeLessThan(15_000);
  }, 20_000);

  it('file provider JSON: 1500 files, whole-file and named-entry refs', async () => {
    const f = path.join(dir, 'creds.json');
    const p = fromFile({ cwd: dir, checkPermissions: false });
    for (let i = 0; i < 1500; i++) {
      const seed = SEED + 10_000 + i;
      const r = rng(seed);
      const text = r.next() < 0.5 ? randomJsonish(r) : JSON.stringify({ [r.pick(KEYS)]: randomValue(r), web01: randomValue(r) });
      fs.writeFileSync(f, text, { mode: 0o600 });
      const ref = r.pick(['creds.json', 'creds.json#web01', 'creds.json#__proto__', 'creds.json#', { path: 'creds.json', entry: r.pick(KEYS) }]);
      let err: unknown;
      try {
        validCredential(seed, await p.resolve(ref));
      } catch (e) {
        err = e;
      }
      judge(seed, text, err);
    }
  }, 20_000);

  it('LAPS msLAPS-Password JSON: 3000 values', () => {
    for (let i = 0; i < 3000; i++) {
      const seed = SEED + 20_000 + i;
      const r = rng(seed);
      const raw = r.next() < 0.5
        ? JSON.stringify({ n: r.pick(['Administrator', '', 5, MARK]), t: r.pick(['1d9f1c4a3b2c000', 'ffffffffffffffff', '0', 'zz', '', 12, '7fffffffffffffff', '1']), p: r.pick([MARK, '', null]) })
        : randomJsonish(r);
      let err: unknown;
      try {
        const w = parseMsLapsPassword(raw, 'CN=WEB01,OU=Servers,DC=pamtest,DC=local');
        validCredential(seed, { username: w.account, secret: w.secret, ...(w.changedAt ? { changedAt: w.changedAt } : {}) });
      } catch (e) {
        err = e;
      }
      judge(seed, raw, err);
    }
  });

  it('parseVaultRef and parseKeyVaultRef: 3000 string and object references each', () => {
    for (let i = 0; i < 3000; i++) {
      const seed = SEED + 30_000 + i;
      const r = rng(seed);
      const s = `${r.pick(['', 'kv2:', 'kv1:', 'ldap-static:', 'ldap-library:', 'kv-v2:', 'bogus:'])}${randomText(r, r.next() < 0.05 ? 400 : 12)}${r.pick(['', '/', '/a/b', '/..', '?version=2', '?version=-1', '?version=1e3', '?x=1&version=9999999999'])}`;
      const obj: Record<string, unknown> = { mount: randomValue(r), path: randomValue(r), ...(r.next() < 0.5 ? { version: randomValue(r) } : {}), ...(r.next() < 0.3 ? { engine: r.pick(['kv-v2', 'nope', 1]) } : {}) };
      for (const ref of [s, obj]) {
        let err: unknown;
        try {
          const v = parseVaultRef(ref, 'kv-v2');
          if (!v.mount || !v.path || [...v.mount.split('/'), ...v.path.split('/')].some((x) => x === '..' || x === '.')) throw new Error(`seed ${seed}: unusable vault ref accepted`);
          if (v.version !== undefined && !(Number.isInteger(v.version) && v.version > 0)) throw new Error(`seed ${seed}: bad version accepted`);
        } catch (e) {
          err = e;
        }
        judge(seed, ref, err, false);
      }
      const kvRefs: unknown[] = [randomText(r, 20), `${randomText(r, 8)}/${randomText(r, 8)}`, { name: randomValue(r), version: randomValue(r) }, { name: 1n, version: { deep: [1n] } }];
      for (const ref of kvRefs) {
        let err: unknown;
        try {
          const v = parseKeyVaultRef(ref as Record<string, unknown>);
          if (!/^[0-9a-zA-Z-]{1,127}$/.test(v.name) || !/^[0-9a-zA-Z]{0,64}$/.test(v.version)) throw new Error(`seed ${seed}: bad key vault ref accepted`);
        } catch (e) {
          err = e;
        }
        judge(seed, ref, err, false);
      }
    }
  });

  it('parseRetryAfter: 5000 values, always undefined or a finite delay ≥ 0', () => {
    const now = Date.parse('2026-11-25T06:00:00Z');
    for (let i = 0; i < 5000; i++) {
      const seed = SEED + 40_000 + i;
      const r = rng(seed);
      const v = r.pick([
        () => String(r.int(1e6)), () => '9'.repeat(1 + r.int(400)), () => randomText(r, 30), () => new Date(now + (r.next() - 0.5) * 1e10).toUTCString(),
        () => ` ${r.int(100)} `, () => `-${r.int(100)}`, () => '1e3', () => 'Wed, 99 Foo 2026 99:99:99 GMT',
      ])();
      const ms = parseRetryAfter(v, now);
      if (ms !== undefined && !(Number.isFinite(ms) && ms >= 0)) throw new Error(`seed ${seed}: parseRetryAfter(${JSON.stringify(v).slice(0, 60)}) = ${ms}`);
    }
  });

  it('HttpClient.json: 3000 bodies against a vendor-like schema', () => {
    const client = new HttpClient('fuzz');
    const Schema = z.object({ data: z.object({ data: z.record(z.string(), z.unknown()).nullable(), metadata: z.object({ created_time: z.string().optional(), version: z.number().optional() }).passthrough() }) });
    try {
      for (let i = 0; i < 3000; i++) {
        const seed = SEED + 50_000 + i;
        const r = rng(seed);
        const body = r.next() < 0.5 ? JSON.stringify({ data: { data: randomValue(r), metadata: randomValue(r) } }) : randomJsonish(r);
        const bytes = r.next() < 0.1 ? Buffer.from([0xff, 0xfe, ...Buffer.from(body)]) : Buffer.from(body);
        let err: unknown;
        try {
          client.json({ status: r.pick([200, 400, 500]), headers: {}, body: bytes }, Schema, `https://vault.example/v1/secret/data/x?token=${MARK}`);
        } catch (e) {
          err = e;
        }
        judge(seed, body, err);
      }
    } finally {
      client.dispose();
    }
  });

  it('the config JSON locator agrees with JSON.parse on 3000 texts', () => {
    for (let i = 0; i < 3000; i++) {
      const seed = SEED + 60_000 + i;
      const text = randomJsonish(rng(seed));
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      const at = jsonErrorOffset(text);
      if (valid !== (at === -1) || at > text.length) throw new Error(`seed ${seed}: jsonErrorOffset ${at} for ${valid ? 'valid' : 'invalid'} ${JSON.stringify(text).slice(0, 120)}`);
    }
  });
});
