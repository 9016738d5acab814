// Config loading and createProvider: exact JSON paths in errors, relative paths, modules, every
// built-in vendor type built from a config and resolving against its fixture.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, createProvider, testRefOf } from '../../src/providers/config.js';
import { PROVIDER_TYPES, loadProviderFactory } from '../../src/providers/registry.js';
import { startVault, VAULT_TOKEN, type VaultFixture } from '../fixtures/vendors/vault.js';
import { startDelinea, SS_USER, SS_PASSWORD, type DelineaFixture } from '../fixtures/vendors/delinea.js';
import { startAzure, AZ_TENANT, AZ_CLIENT_ID, AZ_CLIENT_SECRET, type AzureFixture } from '../fixtures/vendors/azure.js';

let dir: string;
let vault: VaultFixture;
let delinea: DelineaFixture;
let azure: AzureFixture;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-cfg-'));
  [vault, delinea, azure] = await Promise.all([startVault(), startDelinea(), startAzure()]);
});
afterAll(async () => {
  await Promise.all([vault.close(), delinea.close(), azure.close()]);
  fs.rmSync(dir, { recursive: true, force: true });
});
const write = (name: string, content: unknown) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return f;
};

describe('loadConfig / createProvider', () => {
  it('registers every backend of the issue, each loading a factory on first use', async () => {
    expect([...PROVIDER_TYPES].sort()).toEqual(['aws-secrets-manager', 'azure-keyvault', 'cyberark-ccp', 'delinea', 'env', 'file', 'keychain', 'laps', 'openbao', 'stdin', 'vault']);
    for (const t of PROVIDER_TYPES) expect(typeof (await loadProviderFactory(t))).toBe('function');
    expect(await loadProviderFactory('hashicorp')).toBeUndefined();
    expect(await loadProviderFactory('toString')).toBeUndefined();
  });

  it('an unknown type is refused at load time, naming providers.<name>.type and the choices', async () => {
    write('t.json', { providers: { corp: { type: 'hashicorp', options: {} } } });
    await expect(loadConfig({ cwd: dir, path: 't.json' })).rejects.toThrow(/t\.json: providers\.corp\.type: "hashicorp" is not a built-in provider; use one of .*vault.*"module"/);
  });

  it('a bad option names providers.<name>.options.<option>, the problem, and never the secret', async () => {
    write('o.json', { providers: { ss: { type: 'delinea', options: { url: 'pam.example.com', username: 'u', password: SS_PASSWORD } } } });
    const c = await loadConfig({ cwd: dir, path: 'o.json' });
    const e = (await createProvider(c, 'ss').then(() => new Error('expected a failure'), (x: unknown) => x)) as Error & { details: Record<string, unknown> };
    expect(e.message).toMatch(/o\.json: providers\.ss\.options\.url: .*must be the Secret Server base URL/);
    expect(e.details.path).toBe('providers.ss.options.url');
    expect(JSON.stringify(e) + e.message + String(e.stack)).not.toContain(SS_PASSWORD);
  });

  it('a missing environment variable names the option and the variable', async () => {
    write('e.json', { providers: { az: { type: 'azure-keyvault', options: { vaultUrl: 'https://x.vault.azure.net', tenantId: AZ_TENANT, clientId: AZ_CLIENT_ID, clientSecretEnv: 'CG_TEST_UNSET_VAR' } } } });
    await expect(createProvider(await loadConfig({ cwd: dir, path: 'e.json' }), 'az')).rejects.toThrow(/providers\.az\.options\.clientSecret: .*CG_TEST_UNSET_VAR, which is not set/);
  });

  it('builds vault, delinea and azure-keyvault from one config, caFile relative to the config file', async () => {
    fs.copyFileSync(vault.caFile, path.join(dir, 'fixture-ca.pem'));
    write('credgate.config.json', {
      providers: {
        corp: { type: 'openbao', options: { address: vault.url, caFile: 'fixture-ca.pem', tokenEnv: 'CG_T_VAULT', env: { CG_T_VAULT: VAULT_TOKEN } }, testRef: 'kv2:secret/rdp/web01' },
        ss: { type: 'delinea', options: { url: `${delinea.url}/SecretServer`, caFile: './fixture-ca.pem', username: SS_USER, passwordEnv: 'P', env: { P: SS_PASSWORD } }, testRef: '4711' },
        az: { type: 'azure-keyvault', options: { vaultUrl: azure.url, authorityHost: azure.url, caFile: ['fixture-ca.pem'], tenantId: AZ_TENANT, clientId: AZ_CLIENT_ID, clientSecretEnv: 'S', env: { S: AZ_CLIENT_SECRET } }, testRef: { name: 'rdp-db02' } },
      },
    });
    const c = await loadConfig({ cwd: dir });
    const got: string[] = [];
    for (const name of ['corp', 'ss', 'az']) {
      const p = await createProvider(c, name);
      try {
        got.push((await p.resolve(testRefOf(c, name)!)).username);
      } finally {
        await p.dispose?.();
      }
    }
    expect(got).toEqual(['PAMTEST\\svc-rdp', 'svc-rdp', 'db02-admin']);
    fs.rmSync(path.join(dir, 'credgate.config.json'));
  });

  it('reads credgate.config.mjs (named export config) and loads a relative third-party module', async () => {
    write('plug.mjs', `export default { name: 'plug', async resolve(ref) { return { username: 'p-' + ref, secret: { reveal: () => '' }, source: 'plug' }; } };`);
    write('credgate.config.mjs', `export const config = { providers: { plug: { module: './plug.mjs', testRef: 'x' } } };`);
    const c = await loadConfig({ cwd: dir });
    expect((await (await createProvider(c, 'plug')).resolve('x')).username).toBe('p-x');
    write('bad.mjs', `export default { providers: { plug: { module: './plug.mjs', export: 'nothing' } } };`);
    await expect(createProvider(await loadConfig({ cwd: dir, path: 'bad.mjs' }), 'plug')).rejects.toThrow(/export "nothing" of "\.\/plug\.mjs" is not a provider/);
    fs.rmSync(path.join(dir, 'credgate.config.mjs'));
  });
});
