// credgate.config.json / .mjs, third-party providers by module name, `credgate providers`, and
// `credgate check --provider` end to end: the vault fixture holds a lab account's password.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, createProvider } from '../../src/providers/config.js';
import { chain, memoize } from '../../src/providers/compose.js';
import { defineProvider } from '../../src/providers/types.js';
import { CredgateError } from '../../src/core/errors.js';
import { Secret } from '../../src/core/secret.js';
import { runCli } from '../helpers/cli.js';
import { startVault, VAULT_TOKEN, type VaultFixture } from '../fixtures/vendors/vault.js';
import { samba, sambaScenario } from '../lab/state.js';

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
    await expect(createProvider(c, 'v')).rejects.toThrow(/Invalid vault provider option address/);
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

  it('credgate check --provider takes the credential from the vault; a vault fault exits 5', async () => {
    const lab = samba();
    const good = sambaScenario('good');
    const srv = await startVault();
    try {
      // the fixture's KV store holds the lab account for this test
      const store = (await import('../fixtures/vendors/vault.js')).KV2_DATA as Record<string, unknown>;
      store['rdp/alice'] = { versions: [{ data: { username: good.upn, password: good.password }, created_time: '2026-11-21T00:00:00Z' }] };
      write('credgate.config.json', { providers: { corp: { type: 'vault', options: { address: srv.url, caFile: srv.caFile, tokenEnv: 'VAULT_TOKEN' } } } });
      const ok = await runCli(['check', '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--provider', 'corp', '--ref', 'kv2:secret/rdp/alice', '--json'], { cwd: dir, env: { VAULT_TOKEN }, secrets: [VAULT_TOKEN] });
      expect(ok.code).toBe(0);
      expect(ok.json).toMatchObject({ ok: true, account: good.upn, credentialSource: 'vault kv-v2 secret/rdp/alice v1' });
      const missing = await runCli(['check', '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--provider', 'corp', '--ref', 'kv2:secret/rdp/ghost'], { cwd: dir, env: { VAULT_TOKEN }, secrets: [VAULT_TOKEN] });
      expect(missing.code).toBe(5);
      expect(missing.stderr).toContain('PROVIDER_NOT_FOUND');
      const badToken = await runCli(['check', '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--provider', 'corp', '--ref', 'kv2:secret/rdp/alice'], { cwd: dir, env: { VAULT_TOKEN: 'hvs.not-the-token-123' }, secrets: [VAULT_TOKEN, 'hvs.not-the-token-123'] });
      expect(badToken.code).toBe(5);
      expect(badToken.stderr).toContain('PROVIDER_AUTH_FAILED');
      delete store['rdp/alice'];
    } finally {
      await srv.close();
    }
  });
});
