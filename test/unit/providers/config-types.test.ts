// Types that hold (issue 13): defineConfig types each provider's options by its `type`, so a misspelt
// type, a misspelt option or a wrong value does not type-check (the @ts-expect-error lines fail
// `tsc --noEmit` if they ever do), and every built-in factory's provider has dispose() and
// [Symbol.asyncDispose]() (so `await using` type-checks and releases it).
import { describe, it, expect } from 'vitest';
import { defineConfig } from '../../../src/providers/config.js';
import { fromVault } from '../../../src/providers/vault.js';
import { fromEnv } from '../../../src/providers/env.js';
import { chain } from '../../../src/providers/compose.js';

describe('typed config and providers', () => {
  it('defineConfig accepts typed entries and rejects misspellings at compile time', () => {
    const ok = defineConfig({ providers: {
      v: { type: 'vault', options: { address: 'https://vault:8200', kubernetes: { role: 'credgate' } }, testRef: 'kv2:secret/rdp/web01' },
      a: { type: 'aws-secrets-manager', options: { region: 'eu-central-1' } },
      m: { module: '@acme/credgate-provider', options: { anything: 1 } },
    } });
    // @ts-expect-error a misspelt type and option (issue 13's example)
    const bad1 = defineConfig({ providers: { v: { type: 'vualt', options: { adress: 42 } } } });
    // @ts-expect-error a misspelt option of a real type
    const bad2 = defineConfig({ providers: { v: { type: 'vault', options: { address: 'https://v', tokenEnv: 'T', adress: 'x' } } } });
    // @ts-expect-error a wrong value type
    const bad3 = defineConfig({ providers: { a: { type: 'aws-secrets-manager', options: { region: 42 } } } });
    expect(Object.keys(ok.providers!)).toEqual(['v', 'a', 'm']);
    expect([bad1, bad2, bad3].every((c) => typeof c === 'object')).toBe(true);
  });

  it('await using disposes a built-in provider at the end of the block', async () => {
    let seen: string | undefined;
    {
      await using p = fromEnv({ usernameVar: 'CG_USER', passwordVar: 'CG_PASS', env: { CG_USER: 'svc', CG_PASS: 'Env!Pass-1' } });
      seen = (await p.resolve('CG_PASS')).username;
      await using c = chain(p, fromVault({ address: 'https://vault.example:8200', token: 'hvs.not-used-token' }));
      expect(typeof c[Symbol.asyncDispose]).toBe('function');
    }
    expect(seen).toBe('svc');
  });
});
