// Types that hold (issue 13): defineConfig types each provider's options by its `type`, so a misspelt
// type, a misspelt option or a wrong value does not type-check (the @ts-expect-error lines fail
// `tsc --noEmit` if they ever do), and every built-in factory's provider has dispose() and
// [Symbol.asyncDispose]() (so `await using` type-checks and releases it).
import { describe, it, expect } from 'vitest';
import { defineConfig } from '../../../src/providers/config.js';
import { fromVault } from '../../../src/providers/vault.js';
import { fromEnv } from '../../../src/providers/env.js';
import { fromAzureKeyVault } from '../../../src/providers/azure-keyvault.js';
import { fromAwsSecretsManager } from '../../../src/providers/aws-secrets-manager.js';
import { fromDelinea } from '../../../src/providers/delinea.js';
import { chain, memoize } from '../../../src/providers/compose.js';

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

  it('each built-in provider takes its own reference type: a misspelt field or a wrong value does not type-check', async () => {
    const vault = fromVault({ address: 'https://vault.example:8200', token: 'hvs.not-used-token' });
    const env = fromEnv({ env: {} });
    const kv = fromAzureKeyVault({ vaultUrl: 'https://kv.vault.azure.net', tenantId: 't', clientId: 'c', clientSecret: 'not-used-secret' });
    const sm = fromAwsSecretsManager({ region: 'eu-central-1', accessKeyId: 'AKIDEXAMPLE', secretAccessKeyEnv: 'SK', env: { SK: 'not-used-secret' } });
    const dl = fromDelinea({ url: 'https://delinea.example', username: 'u', passwordEnv: 'P', env: { P: 'not-used-secret' } });
    const memo = memoize(vault);
    // each is refused at run time too, before any I/O: CONFIG_INVALID
    const refused = [
      // @ts-expect-error issue 13's example: a number for mount, a misspelt path
      vault.resolve({ mount: 1, pathh: ['x'] }),
      // @ts-expect-error memoize keeps the provider's reference type
      memo.resolve({ mount: 'kv', pth: 'x' }),
      // @ts-expect-error a misspelt field of the env reference
      env.resolve({ passwordVariable: 'X' }),
      // @ts-expect-error an Azure Key Vault reference names the secret with `name`
      kv.resolve({ secret: 'rdp-web01' }),
      // @ts-expect-error a number where AWS wants the secret's name or ARN
      sm.resolve({ secretId: 42 }),
      // @ts-expect-error a Delinea reference is a secret id, not a path
      dl.resolve({ path: '/rdp/web01' }),
    ];
    for (const p of refused) await expect(p).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    // the right shapes type-check (not called: they would go to the network)
    const typed: Array<() => Promise<unknown>> = [
      () => vault.resolve({ mount: 'secret', path: 'rdp/web01', version: 2 }),
      () => vault.resolve('kv2:secret/rdp/web01'),
      () => env.resolve({ passwordVar: 'RDP_PASSWORD', username: 'svc' }),
      () => kv.resolve({ name: 'rdp-web01', version: 'abc' }),
      () => sm.resolve({ secretId: 'rdp/web01', versionStage: 'AWSPREVIOUS' }),
      () => dl.resolve({ secretId: 4711 }),
    ];
    expect(typed).toHaveLength(6);
    for (const p of [vault, env, kv, sm, dl]) await p.dispose();
  });
});
