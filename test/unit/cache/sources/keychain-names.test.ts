// The keychain cache source with names that are not valid UTF-16 (a lone surrogate), against a fake
// keytar object: such an item is skipped with a warning at list time (its name is never normalised
// into another item's), and remove() refuses any raw target that does not encode back exactly.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { keychainCacheSource, keychainRawTarget, type KeytarListApi } from '../../../../src/cache/sources/keychain.js';
import { inspectCache } from '../../../../src/cache/inspect.js';
import { planPurge, executePurge } from '../../../../src/cache/purge.js';
import { isCredgateError, type CredgateError } from '../../../../src/core/errors.js';

const SVC = 'TERMSRV/web01.pamtest.local';
const PW = 'Fake!Keychain-Secret-9';

/** An in-memory keychain: service → account → password; every delete call recorded. */
function fakeKeytar(items: Array<[string, string]>) {
  const store = new Map(items.map(([s, a]) => [`${s}\u0000${a}`, { service: s, account: a }]));
  const deletes: Array<[string, string]> = [];
  const keytar: KeytarListApi = {
    async findCredentials(service: string) {
      return [...store.values()].filter((x) => x.service === service).map((x) => ({ account: x.account, password: PW }));
    },
    async deletePassword(service: string, account: string) {
      deletes.push([service, account]);
      return store.delete(`${service}\u0000${account}`);
    },
  };
  return { keytar, deletes, has: (s: string, a: string) => store.has(`${s}\u0000${a}`) };
}

const refused = async (p: Promise<unknown>) => {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(isCredgateError(e) && (e as CredgateError).code).toBe('INPUT_INVALID');
};

describe('keychain names that are not valid UTF-16', () => {
  it('a lone-surrogate account is skipped with a warning at list time, so a purge never deletes the U+FFFD look-alike', async () => {
    const lone = 'PAMTEST\\old\uD800';
    const lookalike = 'PAMTEST\\old\uFFFD';
    const fake = fakeKeytar([[SVC, lone], [SVC, 'PAMTEST\\svc-rdp'], ['other\uDC00svc', 'x']]);
    const src = keychainCacheSource({ services: [SVC, 'other\uDC00svc'], keytar: fake.keytar, lastWritten: false });
    const entries = await src.list();
    expect(entries.map((e) => e.username)).toEqual(['PAMTEST\\svc-rdp']);
    expect(src.warnings).toHaveLength(2);
    expect(src.warnings[0]).toMatch(/account PAMTEST\\old\\uD800 is not valid UTF-16 .*never purged/);
    expect(src.warnings[1]).toMatch(/service other\\uDC00svc is not valid UTF-16 .*skipped/);
    expect(src.warnings.join('\n')).not.toContain(PW);
    // the skipped item is not planned, so nothing is deleted (before: PAMTEST\old\uFFFD was)
    const plan = planPurge(inspectCache({ entries, account: 'PAMTEST\\svc-rdp', host: 'web01.pamtest.local' }).findings, entries);
    expect(plan.items).toEqual([]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-kc-names-'));
    try {
      await executePurge(plan, { yes: true, auditFile: path.join(dir, 'audit.jsonl'), source: src });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(fake.deletes).toEqual([]);
    expect(fake.has(SVC, lone)).toBe(true);
    // no raw target can be made for the lone-surrogate name, and none that would stand for it is accepted
    expect(() => keychainRawTarget(SVC, lone)).toThrow(/not valid UTF-16/);
    expect(keychainRawTarget(SVC, lookalike)).toBe(`keychain:${encodeURIComponent(SVC)}:PAMTEST%5Cold%EF%BF%BD`);
  });

  it('remove() deletes only a raw target that encodes back exactly', async () => {
    const fake = fakeKeytar([[SVC, 'a b'], [SVC, 'PAMTEST\\old\uFFFD']]);
    const src = keychainCacheSource({ services: [SVC], keytar: fake.keytar, lastWritten: false });
    const svc = encodeURIComponent(SVC);
    // decodes to an existing item, but is not what this source writes: refused, nothing deleted
    await refused(src.remove!(`keychain:${svc}:a b`));
    await refused(src.remove!(`keychain:${svc}:PAMTEST%5cold%ef%bf%bd`));
    await refused(src.remove!(`keychain:${SVC}:a%20b`)); // unescaped "/" in the service
    await refused(src.remove!(`keychain:${svc}:%ED%A0%80`)); // a lone surrogate in UTF-8: not decodable
    expect(fake.deletes).toEqual([]);
    // the exact raw targets of listed entries are deleted
    const entries = await src.list();
    expect(src.warnings).toEqual([]);
    for (const e of entries) expect(await src.remove!(e.rawTarget)).toBe(true);
    expect(fake.deletes).toEqual([[SVC, 'a b'], [SVC, 'PAMTEST\\old\uFFFD']]);
  });
});
