// chain() and memoize() with real providers (env, and Vault's fixture for a fault that must stop the chain).
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { chain, memoize } from '../../../src/providers/compose.js';
import { fromEnv } from '../../../src/providers/env.js';
import { fromVault } from '../../../src/providers/vault.js';
import { defineProvider } from '../../../src/providers/types.js';
import { Secret } from '../../../src/core/secret.js';
import { startVault, VAULT_TOKEN, type VaultFixture } from '../../fixtures/vendors/vault.js';

let vault: VaultFixture;
beforeAll(async () => {
  vault = await startVault();
});
afterAll(() => vault.close());

describe('chain', () => {
  it('falls through env (not set) to Vault, and stops at a Vault auth failure instead of skipping it', async () => {
    const env = fromEnv({ env: {} });
    const good = fromVault({ address: vault.url, caFile: vault.caFile, token: VAULT_TOKEN });
    const bad = fromVault({ address: vault.url, caFile: vault.caFile, token: 'hvs.not-it-000' });
    const spare = fromEnv({ env: { 'secret/rdp/web01': 'never-used' } });
    expect((await chain(env, good).resolve('secret/rdp/web01')).source).toMatch(/^vault kv-v2/);
    await expect(chain(bad, spare).resolve('secret/rdp/web01')).rejects.toMatchObject({ code: 'PROVIDER_AUTH_FAILED' });
    await expect(chain(env, fromEnv({ env: {} })).resolve('NOPE')).rejects.toMatchObject({ code: 'PROVIDER_NOT_FOUND', details: { tried: ['env', 'env'] } });
    expect(() => chain()).toThrow(/at least one provider/);
  });

  it('dispose reaches every link and is idempotent', async () => {
    let n = 0;
    const p = defineProvider({ name: 'd', resolve: async () => ({ username: 'u', secret: new Secret('s'), source: 'd' }), dispose: () => void n++ });
    const c = chain(p, p);
    await c.dispose!();
    await c[Symbol.asyncDispose]!();
    expect(n).toBe(4);
  });
});

describe('memoize', () => {
  const counting = (delayMs: number, fail = false) => {
    const calls = { n: 0 };
    const p = defineProvider({
      name: 'slow',
      async resolve(ref) {
        calls.n++;
        await new Promise((r) => setTimeout(r, delayMs));
        if (fail) throw Object.assign(new Error('down'), { code: 'PROVIDER_UNAVAILABLE' });
        return { username: String(ref), secret: new Secret('pw'), source: 'slow' };
      },
    });
    return { p, calls };
  };

  it('coalesces concurrent resolves into one backend call against Vault', async () => {
    const before = vault.requests.length;
    const m = memoize(fromVault({ address: vault.url, caFile: vault.caFile, token: VAULT_TOKEN }), { ttlMs: 10_000 });
    const all = await Promise.all(Array.from({ length: 8 }, () => m.resolve('secret/rdp/web01')));
    expect(new Set(all.map((c) => c.secret.reveal())).size).toBe(1);
    // one resolve: the KV v2 data read and its metadata read
    expect(vault.requests.slice(before).map((r) => r.url)).toEqual(['/v1/secret/data/rdp/web01', '/v1/secret/metadata/rdp/web01']);
    await m.dispose!();
  });

  it('one caller aborting does not abort the others; failures are not cached; ttl expires', async () => {
    const { p, calls } = counting(60);
    const m = memoize(p, { ttlMs: 80 });
    const ac = new AbortController();
    const a = m.resolve('k', { signal: ac.signal });
    const b = m.resolve('k');
    ac.abort();
    await expect(a).rejects.toMatchObject({ code: 'ABORTED' });
    expect((await b).username).toBe('k');
    expect(calls.n).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    await m.resolve('k');
    expect(calls.n).toBe(2);
    const f = counting(5, true);
    const mf = memoize(f.p);
    await expect(mf.resolve('x')).rejects.toThrow('down');
    await expect(mf.resolve('x')).rejects.toThrow('down');
    expect(f.calls.n).toBe(2);
  });

  it('object refs with the same content share an entry', async () => {
    const { p, calls } = counting(5);
    const m = memoize(p);
    await Promise.all([m.resolve({ a: 1, b: 'x' }), m.resolve({ b: 'x', a: 1 }), m.resolve({ a: 2 })]);
    expect(calls.n).toBe(2);
  });
});
