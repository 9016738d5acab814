// credgate.config.json / .mjs, third-party providers by module name, `credgate providers`, and
// `credgate check --provider` end to end: the vault fixture holds a lab account's password.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, createProvider } from '../../../src/providers/config.js';
import { chain, memoize } from '../../../src/providers/compose.js';
import { defineProvider } from '../../../src/providers/types.js';
import { CredgateError } from '../../../src/core/errors.js';
import { Secret } from '../../../src/core/secret.js';
import { runCli } from '../../helpers/cli.js';
import { startVault, VAULT_TOKEN, type VaultFixture } from '../../fixtures/vendors/vault.js';

let dir: string;
let vault: VaultFixture;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-config-'));
  vault = await startVault();
});
afterAll(async () => {
  await vault.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const write = (name: string, content: unknown) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return f;
};

describe('config', () => {
  it('names the exact path and the fix for an invalid config', async () => {
    write('bad1.json', { providers: { v: { type: 'vault', options: {}, extra: 1 } } });
    await expect(loadConfig({ cwd: dir, path: 'bad1.json' })).rejects.toThrow(/bad1\.json: providers\.v: Unrecognized key: "extra"/);
    write('bad0.json', { providers: { v: { options: {} } } });
    await expect(loadConfig({ cwd: dir, path: 'bad0.json' })).rejects.toThrow(/bad0\.json: providers\.v: .*"type"|bad0\.json: providers\.v/);
    write('bad2.json', { providers: { 'bad name!': { type: 'env' } } });
    await expect(loadConfig({ cwd: dir, path: 'bad2.json' })).rejects.toThrow(/providers\.bad name!: provider names use letters/);
    write('bad3.json', '{ "providers": ');
    await expect(loadConfig({ cwd: dir, path: 'bad3.json' })).rejects.toThrow(/bad3\.json is not valid JSON/);
    await expect(loadConfig({ cwd: path.join(dir, 'nowhere') })).rejects.toThrow(/No credgate\.config\.json/);
    const c = await loadConfig({ cwd: dir, path: write('ok.json', { providers: { v: { type: 'vault', options: { address: 'not-a-url' } } } }) });
    await expect(createProvider(c, 'v')).rejects.toThrow(/Invalid vault provider options: address/);
    await expect(createProvider(c, 'missing')).rejects.toThrow(/No provider named "missing".*configured: v/);
  });

  it('loads credgate.config.mjs with defineConfig and a third-party provider by module name', async () => {
    write('acme-provider.mjs', `export function fromAcme(o) { return { name: 'acme', async resolve(ref) { return { username: o.user, secret: { reveal: () => 'x' }, source: 'acme ' + ref }; } }; }`);
    write('credgate.config.mjs', `export default { providers: { acme: { module: './acme-provider.mjs', export: 'fromAcme', options: { user: 'PAMTEST\\\\acme' }, testRef: 'r1' } } };`);
    const c = await loadConfig({ cwd: dir });
    expect(c.file).toBe(path.join(dir, 'credgate.config.mjs'));
    const p = await createProvider(c, 'acme');
    expect((await p.resolve('r1')).source).toBe('acme r1');
    write('nomod.json', { providers: { x: { module: 'definitely-not-installed-credgate-plugin' } } });
    await expect(createProvider(await loadConfig({ cwd: dir, path: 'nomod.json' }), 'x')).rejects.toThrow(/cannot load module "definitely-not-installed-credgate-plugin"/);
    fs.rmSync(path.join(dir, 'credgate.config.mjs'));
  });
});

describe('chain and memoize', () => {
  const miss = (name: string) => defineProvider({ name, resolve: async () => { throw new CredgateError(`${name}: none`, { code: 'PROVIDER_NOT_FOUND' }); } });
  const hit = (name: string, calls: { n: number }) => defineProvider({ name, resolve: async () => { calls.n++; await new Promise((r) => setTimeout(r, 20)); return { username: name, secret: new Secret('p-' + name), source: name }; } });
  const down = defineProvider({ name: 'down', resolve: async () => { throw new CredgateError('down', { code: 'PROVIDER_UNAVAILABLE' }); } });

  it('chain moves on only on "not found"', async () => {
    const calls = { n: 0 };
    expect((await chain(miss('a'), hit('b', calls)).resolve('x')).username).toBe('b');
    await expect(chain(down, hit('c', calls)).resolve('x')).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    await expect(chain(miss('a'), miss('b')).resolve('x')).rejects.toMatchObject({ code: 'PROVIDER_NOT_FOUND', details: { tried: ['a', 'b'] } });
  });

  it('memoize coalesces concurrent calls and honours the ttl', async () => {
    const calls = { n: 0 };
    const m = memoize(hit('m', calls), { ttlMs: 50 });
    await Promise.all([m.resolve('k'), m.resolve('k'), m.resolve('k')]);
    expect(calls.n).toBe(1);
    await m.resolve('other');
    expect(calls.n).toBe(2);
    await new Promise((r) => setTimeout(r, 60));
    await m.resolve('k');
    expect(calls.n).toBe(3);
    await expect(m.resolve('z', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('CLI with providers', () => {
  it('credgate providers lists and tests each provider without printing secrets', async () => {
    write('credgate.config.json', {
      providers: {
        corp: { type: 'vault', options: { address: vault.url, caFile: vault.caFile, tokenEnv: 'VAULT_TOKEN' }, testRef: 'kv2:secret/rdp/web01' },
        broken: { type: 'vault', options: { address: vault.url, caFile: vault.caFile, tokenEnv: 'VAULT_TOKEN' }, testRef: 'kv2:secret/rdp/none' },
      },
    });
    const r = await runCli(['providers', '--json'], { cwd: dir, env: { VAULT_TOKEN }, secrets: [VAULT_TOKEN, 'Vault!Current-Pass-2'] });
    expect(r.code).toBe(5);
    expect(r.json.providers.map((p: { name: string; status: string }) => [p.name, p.status])).toEqual([['corp', 'ok'], ['broken', 'failed']]);
    expect(r.json.providers[0]).toMatchObject({ username: 'PAMTEST\\svc-rdp', changedAt: '2026-11-20T08:00:00.123Z' });
    expect(r.json.providers[1].error.code).toBe('PROVIDER_NOT_FOUND');
  });


  it('credgate providers: a CONFIG_INVALID row exits 2 (even next to a provider failure), the other rows still listed', async () => {
    write('credgate.config.json', {
      providers: {
        unset: { type: 'vault', options: { address: vault.url, caFile: vault.caFile, tokenEnv: 'CG_NOT_SET_ANYWHERE' }, testRef: 'kv2:secret/rdp/web01' },
        badref: { type: 'vault', options: { address: vault.url, caFile: vault.caFile, tokenEnv: 'VAULT_TOKEN' }, testRef: 'kv2:secret/rdp/web01?version=first' },
        missing: { type: 'vault', options: { address: vault.url, caFile: vault.caFile, tokenEnv: 'VAULT_TOKEN' }, testRef: 'kv2:secret/rdp/none' },
        corp: { type: 'vault', options: { address: vault.url, caFile: vault.caFile, tokenEnv: 'VAULT_TOKEN' }, testRef: 'kv2:secret/rdp/web01' },
      },
    });
    const r = await runCli(['providers', '--json'], { cwd: dir, env: { VAULT_TOKEN }, secrets: [VAULT_TOKEN, 'Vault!Current-Pass-2'] });
    expect(r.code).toBe(2);
    expect(r.json.providers.map((p: { name: string; status: string; error?: { code: string } }) => [p.name, p.status, p.error?.code])).toEqual([
      ['unset', 'failed', 'CONFIG_INVALID'], ['badref', 'failed', 'CONFIG_INVALID'], ['missing', 'failed', 'PROVIDER_NOT_FOUND'], ['corp', 'ok', undefined],
    ]);
    expect(r.json.providers[0].error.message).toMatch(/providers\.unset\.options\.token: .*CG_NOT_SET_ANYWHERE, which is not set/);
    write('credgate.config.json', { providers: { missing: { type: 'vault', options: { address: vault.url, caFile: vault.caFile, tokenEnv: 'VAULT_TOKEN' }, testRef: 'kv2:secret/rdp/none' } } });
    expect((await runCli(['providers'], { cwd: dir, env: { VAULT_TOKEN }, secrets: [VAULT_TOKEN] })).code).toBe(5);
  });

  it('credgate providers: a broken config file exits 2 naming line and column (JSON) or how to find it (.mjs), never its text', async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-broken-'));
    const token = 'hvs.Leaky-Cli-Token-77';
    try {
      fs.writeFileSync(path.join(d, 'credgate.config.json'), `{\n  "providers": {\n    "v": { "type": "vault", "options": { "token": ${token} } }\n  }\n}\n`);
      const j = await runCli(['providers'], { cwd: d, secrets: [token, 'Leaky-Cli'] });
      expect(j.code).toBe(2);
      expect(j.stderr).toMatch(/credgate\.config\.json is not valid JSON at line 3, column 51/);
      fs.rmSync(path.join(d, 'credgate.config.json'));
      fs.writeFileSync(path.join(d, 'credgate.config.mjs'), `export default {\n  providers: {\n    v: { type: 'vault', options: { token: Leaky-Cli-Literal 99 } },\n  },\n};\n`);
      const m = await runCli(['providers'], { cwd: d, secrets: ['Leaky-Cli-Literal'] });
      expect(m.code).toBe(2);
      expect(m.stderr).toMatch(/credgate\.config\.mjs: a JavaScript syntax error; the offending text is not shown \(node --check .*credgate\.config\.mjs shows where\)/);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('credgate providers with credgate.config.mjs (defineConfig from the installed package) and a provider package by name', async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-cli-pkg-'));
    try {
      fs.mkdirSync(path.join(d, 'node_modules', 'acme-credgate'), { recursive: true });
      fs.symlinkSync(path.resolve('.'), path.join(d, 'node_modules', 'credgate'), 'dir');
      fs.writeFileSync(path.join(d, 'node_modules', 'acme-credgate', 'package.json'), JSON.stringify({ name: 'acme-credgate', version: '1.0.0', type: 'module', exports: { '.': { import: './index.mjs' } } }));
      fs.writeFileSync(path.join(d, 'node_modules', 'acme-credgate', 'index.mjs'), [
        "import { defineProvider, Secret } from 'credgate';",
        "export function fromAcme(o) { return defineProvider({ name: 'acme', async resolve(ref) { return { username: o.user, secret: new Secret('Acme!Pkg-Pass-1'), source: 'acme ' + ref }; } }); }",
      ].join('\n'));
      fs.writeFileSync(path.join(d, 'credgate.config.mjs'), [
        "import { defineConfig } from 'credgate';",
        'export default defineConfig({',
        `  providers: {`,
        `    corp: { type: 'vault', options: { address: '${vault.url}', caFile: ${JSON.stringify(vault.caFile)}, tokenEnv: 'VAULT_TOKEN' }, testRef: 'kv2:secret/rdp/web01' },`,
        `    acme: { module: 'acme-credgate', export: 'fromAcme', options: { user: 'PAMTEST\\\\acme' }, testRef: 'web01' },`,
        '  },',
        '});',
      ].join('\n'));
      const r = await runCli(['providers', '--json'], { cwd: d, env: { VAULT_TOKEN }, secrets: [VAULT_TOKEN, 'Acme!Pkg-Pass-1', 'Vault!Current-Pass-2'] });
      expect(r.code).toBe(0);
      expect(r.json.config).toBe(path.join(d, 'credgate.config.mjs'));
      expect(r.json.providers.map((p: { name: string; kind: string; status: string; username?: string }) => [p.name, p.kind, p.status, p.username])).toEqual([
        ['corp', 'vault', 'ok', 'PAMTEST\\svc-rdp'], ['acme', 'module acme-credgate', 'ok', 'PAMTEST\\acme'],
      ]);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('credgate providers: a third-party provider\'s error is labelled, capped and stripped; never String(e)', async () => {
    const leak = 'ThirdParty!Leaked-Secret-5';
    write('noisy.mjs', [
      `export const longError = { name: 'noisy', async resolve() { throw new Error('\\u001b[31mboom\\u001b[0m ' + 'x'.repeat(5000) + '\\nsecond line ${leak}'); } };`,
      `export const weird = { name: 'weird', async resolve() { throw { toString() { return '${leak}'; } }; } };`,
      `export const plain = { name: 'plain', async resolve() { throw '${leak}'.slice(0, 3) + ' failed'; } };`,
    ].join('\n'));
    write('credgate.config.json', {
      providers: {
        noisy: { module: './noisy.mjs', export: 'longError', testRef: 'x' },
        weird: { module: './noisy.mjs', export: 'weird', testRef: 'x' },
        plain: { module: './noisy.mjs', export: 'plain', testRef: 'x' },
      },
    });
    const r = await runCli(['providers', '--json'], { cwd: dir, secrets: [leak] });
    expect(r.code).toBe(5);
    const [noisy, weird, plain] = r.json.providers as Array<{ error: { code: string; message: string } }>;
    expect(noisy!.error.code).toBe('INTERNAL');
    expect(noisy!.error.message).toMatch(/^from the provider module "\.\/noisy\.mjs" \(Error\): \[31mboom \[0m x+…$/);
    expect(noisy!.error.message.length).toBeLessThan(400);
    expect(noisy!.error.message).not.toMatch(/\u001b/);
    expect(weird!.error.message).toBe('from the provider module "./noisy.mjs" (threw a object): no message');
    expect(plain!.error.message).toBe('from the provider module "./noisy.mjs" (threw a string): Thi failed');
    const text = await runCli(['providers'], { cwd: dir, secrets: [leak] });
    expect(text.stdout).not.toMatch(/\u001b\[31m/);
    expect(text.stdout).toContain('from the provider module "./noisy.mjs" (Error)');
  });
});
