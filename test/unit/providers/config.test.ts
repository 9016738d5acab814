// Config loading and createProvider: exact JSON paths in errors, relative paths, modules, every
// built-in vendor type built from a config and resolving against its fixture.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, createProvider, testRefOf, jsonErrorOffset } from '../../../src/providers/config.js';
import { assertNoSecretLeak, caught } from '../../helpers/provider-conformance.js';
import { PROVIDER_TYPES, loadProviderFactory } from '../../../src/providers/registry.js';
import { startVault, VAULT_TOKEN, type VaultFixture } from '../../fixtures/vendors/vault.js';
import { startDelinea, SS_USER, SS_PASSWORD, type DelineaFixture } from '../../fixtures/vendors/delinea.js';
import { startAzure, AZ_TENANT, AZ_CLIENT_ID, AZ_CLIENT_SECRET, type AzureFixture } from '../../fixtures/vendors/azure.js';

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

  it('a JSON syntax error names line and column, never the text (Node\'s own message quotes it)', async () => {
    const token = 'hvs.Leaky-Token-In-Config-42';
    write('leak.json', `{\n  "providers": {\n    "v": { "type": "vault", "options": { "token": ${token} } }\n  }\n}\n`);
    const e = await caught(loadConfig({ cwd: dir, path: 'leak.json' }));
    expect(e).toMatchObject({ code: 'CONFIG_INVALID', details: { line: 3, column: 51 } });
    expect(e.message).toMatch(/leak\.json is not valid JSON at line 3, column 51: fix the syntax there/);
    assertNoSecretLeak(e, [token, 'hvs.Leaky', 'Leaky-Token']);
    // a string that never ends, a trailing comma, the end of input: all placed, none quoted
    write('leak2.json', `{"providers": {"v": {"type": "vault", "options": {"token": "${token}}}}}`);
    const f = await caught(loadConfig({ cwd: dir, path: 'leak2.json' }));
    expect(f.details).toMatchObject({ line: 1 });
    assertNoSecretLeak(f, [token]);
    write('trail.json', '{\n  "providers": {},\n}');
    expect((await caught(loadConfig({ cwd: dir, path: 'trail.json' }))).details).toMatchObject({ line: 3, column: 1 });
    write('bom.json', '\uFEFF{ "providers": {} }');
    expect((await loadConfig({ cwd: dir, path: 'bom.json' })).providers).toEqual({});
  });

  it('jsonErrorOffset agrees with JSON.parse on what is valid', () => {
    for (const t of ['{}', '[]', '{"a":[1,2.5e-3,true,false,null,"x\\u00e9\\n"]}', ' 0 ', '"s"']) expect(jsonErrorOffset(t)).toBe(-1);
    const cases: Array<[string, number]> = [['{', 1], ['{"a" 1}', 5], ['{"a":1,}', 7], ['[1,2', 4], ['"abc', 4], ['{} x', 3], ['abc', 0], ['{"a":01}', 6], ['"\\x"', 2], ['[1,]', 3], ['', 0]];
    for (const [t, at] of cases) expect([t, jsonErrorOffset(t)]).toEqual([t, at]);
  });

  it('a .mjs config with a syntax error is refused without quoting the offending text', async () => {
    const secretish = 'Sup3r-Secret-Literal';
    write('broken.mjs', `export default {\n  providers: {\n    v: { type: 'vault', options: { token: ${secretish} 99 } },\n  },\n};\n`);
    const e = await caught(loadConfig({ cwd: dir, path: 'broken.mjs' }));
    expect(e).toMatchObject({ code: 'CONFIG_INVALID' });
    // (under vitest the import goes through Vite, whose parse error quotes a code frame on later lines; the
    // CLI test proves Node's own SyntaxError wording)
    expect(e.message).toMatch(/broken\.mjs: /);
    assertNoSecretLeak(e, [secretish, 'Sup3r']);
    write('throws.mjs', `throw new Error('line one\\n${secretish} on line two');`);
    const f = await caught(loadConfig({ cwd: dir, path: 'throws.mjs' }));
    expect(f.message).toMatch(/throws\.mjs: line one$/);
    assertNoSecretLeak(f, [secretish]);
  });
});

describe('config files as users write them', () => {
  // needs the built package (npx tsup): node_modules/credgate points at this repository and its dist/
  it('credgate.config.mjs exporting defineConfig(...) imported from the installed package', async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-defcfg-'));
    try {
      // "installed": node_modules/credgate is this package (its built dist/)
      fs.mkdirSync(path.join(d, 'node_modules'));
      fs.symlinkSync(path.resolve('.'), path.join(d, 'node_modules', 'credgate'), 'dir');
      fs.copyFileSync(vault.caFile, path.join(d, 'ca.pem'));
      fs.writeFileSync(path.join(d, 'credgate.config.mjs'), [
        "import { defineConfig } from 'credgate';",
        'export default defineConfig({',
        `  providers: { corp: { type: 'vault', options: { address: '${vault.url}', caFile: 'ca.pem', tokenEnv: 'CG_DEF_T', env: { CG_DEF_T: '${VAULT_TOKEN}' } }, testRef: 'kv2:secret/rdp/web01' } },`,
        '});',
      ].join('\n'));
      const c = await loadConfig({ cwd: d });
      expect(c.file).toBe(path.join(d, 'credgate.config.mjs'));
      const p = await createProvider(c, 'corp');
      try {
        expect((await p.resolve(testRefOf(c, 'corp')!)).username).toBe('PAMTEST\\svc-rdp');
      } finally {
        await p.dispose?.();
      }
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('a third-party provider by package name: ESM-only ("exports" with "import"), scoped with a subpath, and a factory that throws', async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-pkg-'));
    try {
      const pkg = (name: string, files: Record<string, string>, manifest: Record<string, unknown>) => {
        const root = path.join(d, 'node_modules', ...name.split('/'));
        fs.mkdirSync(root, { recursive: true });
        fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', ...manifest }));
        for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(root, f), text);
      };
      pkg('acme-credgate', { 'index.mjs': "export function fromAcme(o) { return { name: 'acme', async resolve(ref) { return { username: o.user + '@' + ref, secret: { reveal: () => 'x' }, source: 'acme ' + ref }; } }; }" }, { exports: { '.': { import: './index.mjs' } } });
      pkg('@corp/credgate-plugins', { 'vaultish.mjs': "export default { name: 'vaultish', async resolve() { return { username: 'v', secret: { reveal: () => 'x' }, source: 'vaultish' }; } };" }, { exports: { './vaultish': './vaultish.mjs' } });
      pkg('bad-credgate', { 'index.mjs': "export function make() { throw new Error('bad option\\nwith Leaky-Factory-Text on line 2'); }" }, { exports: './index.mjs' });
      fs.writeFileSync(path.join(d, 'credgate.config.json'), JSON.stringify({
        providers: {
          acme: { module: 'acme-credgate', export: 'fromAcme', options: { user: 'svc' } },
          scoped: { module: '@corp/credgate-plugins/vaultish' },
          bad: { module: 'bad-credgate', export: 'make' },
          hidden: { module: '@corp/credgate-plugins/not-exported' },
        },
      }));
      const c = await loadConfig({ cwd: d });
      expect((await (await createProvider(c, 'acme')).resolve('web01')).username).toBe('svc@web01');
      expect((await (await createProvider(c, 'scoped')).resolve('x')).source).toBe('vaultish');
      const e = await caught(createProvider(c, 'bad'));
      expect(e).toMatchObject({ code: 'CONFIG_INVALID', message: 'providers.bad: the factory "make" of "bad-credgate" failed: bad option' });
      assertNoSecretLeak(e, ['Leaky-Factory-Text']);
      await expect(createProvider(c, 'hidden')).rejects.toThrow(/cannot load module "@corp\/credgate-plugins\/not-exported"/);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
