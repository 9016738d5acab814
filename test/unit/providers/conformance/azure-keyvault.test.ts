// Azure Key Vault: the shared suite, then its specifics (JSON value vs tag, versions, forbidden, throttling).
import { describe, it, expect, afterEach } from 'vitest';
import { fromAzureKeyVault, parseKeyVaultRef } from '../../../../src/providers/azure-keyvault.js';
import { providerConformance, expectFailure, expectThrow } from '../../../helpers/provider-conformance.js';
import { startAzure, AZ_TENANT, AZ_CLIENT_ID, AZ_CLIENT_SECRET, AZ_JSON_PASSWORD, AZ_TAG_PASSWORD, type AzureFixture, type AzureKnobs } from '../../../fixtures/vendors/azure.js';
import { closedPort } from '../../../helpers/servers.js';

const WRONG = 'Wrong~Client.Secret_zzzzzzzzzzzzzzzz';
const SECRETS = [AZ_CLIENT_SECRET, AZ_JSON_PASSWORD, AZ_TAG_PASSWORD, WRONG];
const opts = (s: AzureFixture, extra: Record<string, unknown> = {}) => ({ vaultUrl: s.url, authorityHost: s.url, caFile: s.caFile, tenantId: AZ_TENANT, clientId: AZ_CLIENT_ID, clientSecretEnv: 'AZ_CS', env: { AZ_CS: AZ_CLIENT_SECRET }, backoffMs: 5, ...extra });

providerConformance('azure-keyvault', { auth: true, unavailable: true, network: true }, async () => {
  const srv = await startAzure();
  const slow = await startAzure({ slowMs: 3000 });
  const port = await closedPort();
  return {
    provider: fromAzureKeyVault(opts(srv)),
    fresh: () => fromAzureKeyVault(opts(srv)),
    backend: srv,
    runtimeSecrets: () => [...srv.issuedTokens(), ...slow.issuedTokens()],
    okRef: 'rdp-web01',
    expect: { username: 'PAMTEST\\svc-rdp', password: AZ_JSON_PASSWORD, domain: 'PAMTEST', changedAt: new Date(1763888400 * 1000) },
    notFoundRef: 'rdp-nothing',
    authFailProvider: fromAzureKeyVault(opts(srv, { env: { AZ_CS: WRONG } })),
    unavailableProvider: fromAzureKeyVault(opts(srv, { vaultUrl: `https://127.0.0.1:${port}`, authorityHost: `https://127.0.0.1:${port}`, retries: 1 })),
    slowProvider: fromAzureKeyVault(opts(slow)),
    secrets: SECRETS,
    teardown: async () => {
      await srv.close();
      await slow.close();
    },
  };
});

describe('azure-keyvault specifics', () => {
  const servers: AzureFixture[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  const start = async (k: AzureKnobs = {}) => {
    const s = await startAzure(k);
    servers.push(s);
    return s;
  };
  const secrets = () => [...SECRETS, ...servers.flatMap((s) => s.issuedTokens())];

  it('gets the token from the configured authority with the documented form, then the secret with api-version 7.4', async () => {
    const s = await start();
    const c = await fromAzureKeyVault(opts(s)).resolve('rdp-web01/9a1b2c3d4e5f40718293a4b5c6d7e8f9');
    expect(c.source).toBe(`azure-keyvault ${new URL(s.url).host} rdp-web01/9a1b2c3d4e5f40718293a4b5c6d7e8f9`);
    expect(s.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`POST /${AZ_TENANT}/oauth2/v2.0/token`, 'GET /secrets/rdp-web01/9a1b2c3d4e5f40718293a4b5c6d7e8f9?api-version=7.4']);
    expect(Object.fromEntries(new URLSearchParams(s.requests[0]!.body))).toEqual({ client_id: AZ_CLIENT_ID, client_secret: AZ_CLIENT_SECRET, scope: 'https://vault.azure.net/.default', grant_type: 'client_credentials' });
  });

  it('takes the user name from a tag when the value is the bare password', async () => {
    const s = await start();
    const c = await fromAzureKeyVault(opts(s)).resolve({ name: 'rdp-db02' });
    expect([c.username, c.secret.reveal(), c.changedAt?.toISOString()]).toEqual(['db02-admin', AZ_TAG_PASSWORD, new Date(1763100000 * 1000).toISOString()]);
  });

  it('maps 403 to PROVIDER_FORBIDDEN (RBAC, disabled), an unknown tenant to PROVIDER_AUTH_FAILED without retrying', async () => {
    const s = await start();
    const p = fromAzureKeyVault(opts(s));
    await expectFailure(p.resolve('rdp-noaccess'), { code: 'PROVIDER_FORBIDDEN', details: { innerError: 'ForbiddenByRbac' }, message: expect.stringContaining('Key Vault Secrets User') }, secrets);
    await expectFailure(p.resolve('rdp-old'), { code: 'PROVIDER_FORBIDDEN', message: expect.stringContaining('is disabled') }, secrets);
    const before = s.requests.length;
    await expectFailure(fromAzureKeyVault(opts(s, { tenantId: 'contoso.onmicrosoft.com' })).resolve('rdp-web01'), { code: 'PROVIDER_AUTH_FAILED', message: expect.stringContaining('AADSTS90002') }, secrets);
    expect(s.requests.length - before).toBe(1);
    await expectFailure(fromAzureKeyVault(opts(s, { clientId: 'ffffffff-0000-0000-0000-000000000000' })).resolve('rdp-web01'), { code: 'PROVIDER_AUTH_FAILED', details: { oauthError: 'unauthorized_client' } }, secrets);
    await expectFailure(p.resolve('rdp-nothing/0123abcd'), { code: 'PROVIDER_NOT_FOUND', details: { azureError: 'SecretNotFound' } }, secrets);
  });

  it('renews an expired token once; retries Throttled 429 and 503', async () => {
    const s = await start();
    const p = fromAzureKeyVault(opts(s));
    await p.resolve('rdp-web01');
    s.knobs.expireNextToken = true;
    expect((await p.resolve('rdp-web01')).username).toBe('PAMTEST\\svc-rdp');
    expect(s.requests.filter((r) => r.url.endsWith('/token'))).toHaveLength(2);
    const t = await start({ failFirst: [429, 503] });
    expect((await fromAzureKeyVault(opts(t)).resolve('rdp-web01')).username).toBe('PAMTEST\\svc-rdp');
    await expectFailure(fromAzureKeyVault(opts(await start({ failFirst: [429, 429, 429] }), { retries: 1 })).resolve('rdp-web01'), { code: 'PROVIDER_RATE_LIMITED' }, secrets);
    await expectFailure(fromAzureKeyVault(opts(await start({ failFirst: [503, 503, 503] }), { retries: 2 })).resolve('rdp-web01'), { code: 'PROVIDER_UNAVAILABLE', details: { status: 503, attempts: 3 } }, secrets);
  });

  it('malformed and oversized bodies; a slow vault past the deadline', async () => {
    await expectFailure(fromAzureKeyVault(opts(await start({ malformed: true }))).resolve('rdp-web01'), { code: 'PROVIDER_BAD_RESPONSE' }, secrets);
    await expectFailure(fromAzureKeyVault(opts(await start({ hugeBody: true }))).resolve('rdp-web01'), { code: 'PROVIDER_BAD_RESPONSE', message: expect.stringContaining('more than') }, secrets);
    const t0 = Date.now();
    await expectFailure(fromAzureKeyVault(opts(await start({ slowMs: 2000 }), { timeoutMs: 300 })).resolve('rdp-web01'), { code: 'PROVIDER_UNAVAILABLE' }, secrets);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('validates references and options', () => {
    expect(parseKeyVaultRef('a-b/0123abc')).toEqual({ name: 'a-b', version: '0123abc' });
    expectThrow(() => parseKeyVaultRef('bad_name'), { code: 'CONFIG_INVALID', message: expect.stringMatching(/<secret-name>\[\/<version>\]/) }, SECRETS);
    expectThrow(() => parseKeyVaultRef({ name: 1n, version: { x: 1n } } as unknown as Record<string, unknown>), { code: 'CONFIG_INVALID' }, SECRETS);
    expectThrow(() => fromAzureKeyVault({ vaultUrl: 'https://x.vault.azure.net', tenantId: AZ_TENANT, clientId: 'c', env: {} }), { code: 'CONFIG_INVALID', message: expect.stringMatching(/clientSecretEnv/) }, SECRETS);
    expectThrow(() => fromAzureKeyVault({ vaultUrl: 'nope', tenantId: AZ_TENANT, clientId: 'c', clientSecret: AZ_CLIENT_SECRET }), { code: 'CONFIG_INVALID', message: expect.stringMatching(/options: vaultUrl: /) }, SECRETS);
  });

  it('JSON value without the password key, or a value naming no user: PROVIDER_BAD_RESPONSE without the value', async () => {
    const s = await start();
    await expectFailure(fromAzureKeyVault(opts(s, { passwordKey: 'pw' })).resolve('rdp-web01'), { code: 'PROVIDER_BAD_RESPONSE', message: expect.stringContaining('set passwordKey') }, secrets);
    await expectFailure(fromAzureKeyVault(opts(s, { usernameTag: 'owner' })).resolve('rdp-db02'), { code: 'PROVIDER_BAD_RESPONSE', message: expect.stringContaining('names no user') }, secrets);
  });
});
