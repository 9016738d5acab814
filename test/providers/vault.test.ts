// Vault specifics beyond the conformance suite: KV v1, versions, namespaces, library check-out and
// check-in, retries of 429/5xx with Retry-After, never retrying auth failures, malformed and huge bodies.
import { describe, it, expect, afterEach } from 'vitest';
import { fromVault, parseVaultRef } from '../../src/providers/vault.js';
import { startVault, VAULT_TOKEN, NAMESPACE, type VaultFixture } from '../fixtures/vendors/vault.js';

const servers: VaultFixture[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
const start = async (k = {}) => {
  const s = await startVault(k);
  servers.push(s);
  return s;
};
const vault = (s: VaultFixture, extra = {}) => fromVault({ address: s.url, caFile: s.caFile, token: VAULT_TOKEN, backoffMs: 5, ...extra });

describe('vault provider', () => {
  it('reads KV v1 and a given KV v2 version', async () => {
    const s = await start();
    const p = vault(s);
    expect((await p.resolve('kv1:kv/rdp/db02')).username).toBe('PAMTEST\\svc-db');
    const old = await p.resolve('kv2:secret/rdp/web01?version=1');
    expect(old.secret.reveal()).toBe('Old!Vault-Pass-1');
    expect(old.source).toBe('vault kv-v2 secret/rdp/web01 v1');
    await p.dispose!();
  });

  it('sends the namespace header', async () => {
    const s = await start();
    await expect(vault(s).resolve('kv2:nsonly/rdp/web01')).rejects.toMatchObject({ code: 'PROVIDER_NOT_FOUND' });
    expect((await vault(s, { namespace: NAMESPACE }).resolve('kv2:nsonly/rdp/web01')).username).toBe('PAMTEST\\svc-rdp');
  });

  it('checks a library account out and back in on dispose', async () => {
    const s = await start();
    const p = vault(s);
    const c = await p.resolve('ldap-library:ldap/rdp-admins');
    expect(c.username).toBe('lib-admin1');
    await p.dispose!();
    expect(s.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /v1/ldap/library/rdp-admins/check-out', 'POST /v1/ldap/library/rdp-admins/check-in']);
    expect(JSON.parse(s.requests[1]!.body)).toEqual({ service_account_names: ['lib-admin1'] });
  });

  it('retries 429 (honouring Retry-After) and 503, then succeeds', async () => {
    const s = await start({ failFirst: [429, 503], retryAfter: '0' });
    const t0 = Date.now();
    expect((await vault(s).resolve('secret/rdp/web01')).username).toBe('PAMTEST\\svc-rdp');
    expect(s.requests).toHaveLength(3);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('gives up with PROVIDER_RATE_LIMITED after the retries', async () => {
    const s = await start({ failFirst: [429, 429, 429, 429, 429] });
    await expect(vault(s, { retries: 2 }).resolve('secret/rdp/web01')).rejects.toMatchObject({ code: 'PROVIDER_RATE_LIMITED', details: { attempts: 3 } });
  });

  it('never retries an authentication failure', async () => {
    const s = await start();
    await expect(fromVault({ address: s.url, caFile: s.caFile, token: 'hvs.bad' }).resolve('secret/rdp/web01')).rejects.toMatchObject({ code: 'PROVIDER_AUTH_FAILED' });
    expect(s.requests).toHaveLength(1);
  });

  it('sealed Vault is unavailable; malformed JSON and oversized bodies are bad responses', async () => {
    await expect(vault(await start({ sealed: true }), { retries: 1 }).resolve('secret/rdp/web01')).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE', message: expect.stringContaining('503') });
    await expect(vault(await start({ malformed: true })).resolve('secret/rdp/web01')).rejects.toMatchObject({ code: 'PROVIDER_BAD_RESPONSE', message: expect.stringContaining('not JSON') });
    await expect(vault(await start({ hugeBody: true })).resolve('secret/rdp/web01')).rejects.toMatchObject({ code: 'PROVIDER_BAD_RESPONSE', message: expect.stringContaining('more than 1048576 bytes') });
  });

  it('a slow answer past the deadline is PROVIDER_UNAVAILABLE within the deadline', async () => {
    const s = await start({ slowMs: 2000 });
    const t0 = Date.now();
    await expect(vault(s, { timeoutMs: 300 }).resolve('secret/rdp/web01')).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('validates options and references with messages that name the problem', () => {
    expect(() => fromVault({ address: 'not a url', token: 'x' })).toThrow(/option address/);
    expect(() => fromVault({ address: 'https://v:8200' })).toThrow(/needs a token/);
    expect(() => fromVault({ address: 'https://v:8200', tokenEnv: 'NOPE_UNSET' , env: {} })).toThrow(/NOPE_UNSET, which is not set/);
    expect(parseVaultRef('kv1:kv/a/b', 'kv-v2')).toEqual({ engine: 'kv-v1', mount: 'kv', path: 'a/b' });
    expect(() => parseVaultRef('justone', 'kv-v2')).toThrow(/needs <mount>\/<path>/);
  });
});
