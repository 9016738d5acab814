// Azure Key Vault with each way an enterprise authenticates it: managed identity (IMDS with
// "Metadata: true", App Service with X-IDENTITY-HEADER), workload identity (federated token file),
// client certificate (PS256 client assertion), a caller's TokenCredential, and @azure/identity when
// it is not installed. Each against loopback servers that answer as Microsoft documents (the
// managed identity endpoints in plain http on loopback — never 169.254.169.254).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fromAzureKeyVault, type AzureKeyVaultOptions } from '../../../../src/providers/azure-keyvault.js';
import { providerConformance, expectFailure, expectThrow } from '../../../helpers/provider-conformance.js';
import { startAzure, AZ_TENANT, AZ_CLIENT_ID, AZ_JSON_PASSWORD, FED_ISSUER, FED_SUBJECT, type AzureFixture } from '../../../fixtures/vendors/azure.js';
import { startAzureIdentity, MI_CLIENT_ID, IDENTITY_HEADER } from '../../../fixtures/vendors/azure-identity.js';
import { signJwt } from '../../../fixtures/vendors/vault.js';
import { makeCA, issueCert } from '../../../lab/pki.mjs';
import { closedPort } from '../../../helpers/servers.js';

const REF = 'rdp-web01';
const expected = { username: 'PAMTEST\\svc-rdp', password: AZ_JSON_PASSWORD, domain: 'PAMTEST' };
const fedJwt = (claims: Record<string, unknown> = {}) => {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ iss: FED_ISSUER, sub: FED_SUBJECT, aud: 'api://AzureADTokenExchange', iat: now, nbf: now, exp: now + 3600, ...claims });
};

/** One conformance run for an auth method: `make(fixture, extra)` builds the provider. */
function suite(name: string, make: (kv: AzureFixture, o: { identityUrl: string; dir: string; bad: boolean }) => Partial<AzureKeyVaultOptions>, withIdentity = false) {
  providerConformance(`azure-keyvault (${name})`, { auth: true, unavailable: true, network: true }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-az-id-'));
    const kv = await startAzure();
    const slowKv = await startAzure({ slowMs: 3000 });
    const id = withIdentity ? await startAzureIdentity(kv) : undefined;
    const slowId = withIdentity ? await startAzureIdentity(slowKv) : undefined;
    const base = (s: AzureFixture) => ({ vaultUrl: s.url, authorityHost: s.url, caFile: s.caFile, backoffMs: 5 });
    const opts = (s: AzureFixture, idUrl: string | undefined, bad = false): AzureKeyVaultOptions => ({ ...base(s), ...make(s, { identityUrl: idUrl ?? '', dir, bad }) });
    const port = await closedPort();
    return {
      provider: fromAzureKeyVault(opts(kv, id?.url)),
      fresh: () => fromAzureKeyVault(opts(kv, id?.url)),
      backend: kv,
      okRef: REF,
      expect: expected,
      notFoundRef: 'rdp-nothing',
      authFailProvider: fromAzureKeyVault(opts(kv, id?.url, true)),
      unavailableProvider: fromAzureKeyVault({ ...(opts(kv, id?.url)), vaultUrl: `https://127.0.0.1:${port}`, ...(withIdentity ? {} : { authorityHost: `https://127.0.0.1:${port}` }), retries: 1 }),
      slowProvider: fromAzureKeyVault(opts(slowKv, slowId?.url)),
      secrets: [AZ_JSON_PASSWORD, IDENTITY_HEADER],
      runtimeSecrets: () => [...kv.issuedTokens(), ...slowKv.issuedTokens(), ...fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))],
      teardown: async () => {
        await Promise.all([kv.close(), slowKv.close(), id?.close(), slowId?.close()]);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}

suite('managed identity, IMDS', (_kv, o) => ({ auth: 'managed-identity', imdsEndpoint: o.identityUrl, ...(o.bad ? { managedIdentity: { clientId: 'not-assigned-0000' } } : {}) }), true);
suite('managed identity, App Service', (_kv, o) => ({ auth: 'managed-identity', managedIdentity: { clientId: o.bad ? 'not-assigned-0000' : MI_CLIENT_ID }, env: { IDENTITY_ENDPOINT: `${o.identityUrl}/msi/token`, IDENTITY_HEADER } }), true);
suite('workload identity', (_kv, o) => {
  const file = path.join(o.dir, o.bad ? 'bad-token' : 'token');
  fs.writeFileSync(file, o.bad ? fedJwt({ sub: 'system:serviceaccount:other:intruder' }) : fedJwt());
  return { env: { AZURE_TENANT_ID: AZ_TENANT, AZURE_CLIENT_ID: AZ_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE: file } };
});

describe('azure-keyvault with a client certificate, a caller credential or @azure/identity', () => {
  let kv: AzureFixture;
  let dir: string;
  let pem: string;
  let other: string;
  let otherKey: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-az-cert-'));
    const ca = await makeCA(dir, { cn: 'app cert CA' });
    const mk = async (n: string) => {
      const c = await issueCert(ca, 'client', { cn: n });
      const f = path.join(dir, `${n}.pem`);
      fs.writeFileSync(f, fs.readFileSync(c.cert, 'utf8') + fs.readFileSync(c.key, 'utf8'));
      otherKey = fs.readFileSync(c.key, 'utf8').split('\n')[1]!;
      return f;
    };
    pem = await mk('credgate-app');
    other = await mk('unregistered');
    kv = await startAzure({ registeredCertPem: fs.readFileSync(pem, 'utf8') });
  });
  afterAll(async () => {
    await kv.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const base = () => ({ vaultUrl: kv.url, authorityHost: kv.url, caFile: kv.caFile, tenantId: AZ_TENANT, clientId: AZ_CLIENT_ID });

  it('client certificate: a PS256 assertion Entra verifies; an unregistered one is PROVIDER_AUTH_FAILED (AADSTS700027)', async () => {
    await using p = fromAzureKeyVault({ ...base(), certificateFile: pem });
    expect((await p.resolve(REF)).secret.reveal()).toBe(AZ_JSON_PASSWORD);
    const form = new URLSearchParams(kv.requests.filter((r) => r.url.endsWith('/oauth2/v2.0/token')).at(-1)!.body);
    expect(form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(form.get('client_secret')).toBeNull();
    await using q = fromAzureKeyVault({ ...base(), auth: 'client-certificate', certificateFile: other });
    const e = await expectFailure(q.resolve(REF), { code: 'PROVIDER_AUTH_FAILED' }, [otherKey]);
    expect(e.message).toMatch(/AADSTS700027/);
    expect(e.message).toMatch(/uploaded to the app registration/);
  });

  it('a caller TokenCredential (@azure/identity\'s shape) is used as is, with the scope and the signal', async () => {
    const calls: Array<{ scopes: string | string[]; signal: boolean }> = [];
    const credential = {
      async getToken(scopes: string | string[], options?: { abortSignal?: AbortSignal }) {
        calls.push({ scopes, signal: options?.abortSignal !== undefined });
        // a token the fixture's Key Vault accepts, as it accepts any Entra token for the vault
        const t = `caller.${Math.random().toString(36).slice(2)}`;
        kv.acceptToken(t);
        return { token: t, expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    await using p = fromAzureKeyVault({ vaultUrl: kv.url, caFile: kv.caFile, credential });
    expect((await p.resolve(REF, { signal: AbortSignal.timeout(5000) })).secret.reveal()).toBe(AZ_JSON_PASSWORD);
    expect(calls).toEqual([{ scopes: 'https://vault.azure.net/.default', signal: true }]);
    await using q = fromAzureKeyVault({ vaultUrl: kv.url, caFile: kv.caFile, credential: { getToken: async () => null } });
    await expectFailure(q.resolve(REF), { code: 'PROVIDER_AUTH_FAILED' }, []);
  });

  it('auth "azure-identity" without the package installed: PROVIDER_MISSING_DEPENDENCY saying what to install, at the first resolve only', async () => {
    await using p = fromAzureKeyVault({ vaultUrl: kv.url, caFile: kv.caFile, auth: 'azure-identity' });
    const e = await expectFailure(p.resolve(REF), { code: 'PROVIDER_MISSING_DEPENDENCY' }, []);
    expect(e.message).toMatch(/npm install @azure\/identity/);
    expect(e.message).toMatch(/managed-identity/);
  });

  it('no credential at all: CONFIG_INVALID listing the choices; a wrong managed identity option too', () => {
    const e = expectThrow(() => fromAzureKeyVault({ vaultUrl: 'https://corp.vault.azure.net', env: {} }), { code: 'CONFIG_INVALID' }, []);
    expect(e.message).toMatch(/clientSecretEnv .*certificateFile.*federatedTokenFile.*managed-identity.*credential/);
    expectThrow(() => fromAzureKeyVault({ vaultUrl: 'https://corp.vault.azure.net', auth: 'managed-identity', managedIdentity: { clientId: 'a', objectId: 'b' } }), { code: 'CONFIG_INVALID', details: { option: 'managedIdentity' } }, []);
    expectThrow(() => fromAzureKeyVault({ vaultUrl: 'https://corp.vault.azure.net', auth: 'workload-identity', env: {} }), { code: 'CONFIG_INVALID', details: { option: 'tenantId' } }, []);
  });

  it('IMDS is plain http only to loopback or link-local: a routable imdsEndpoint is refused before any I/O', async () => {
    await using p = fromAzureKeyVault({ vaultUrl: kv.url, caFile: kv.caFile, auth: 'managed-identity', imdsEndpoint: 'http://imds.corp.example' });
    const e = await expectFailure(p.resolve(REF), { code: 'CONFIG_INVALID' }, []);
    expect(e.message).toMatch(/link-local/);
  });
});

describe('managed identity answers', () => {
  it('IMDS while updating (410) is retried; "Identity not found" is PROVIDER_AUTH_FAILED naming the identity', async () => {
    const kv = await startAzure();
    const id = await startAzureIdentity(kv, { failFirst: [410, 429] });
    try {
      await using p = fromAzureKeyVault({ vaultUrl: kv.url, caFile: kv.caFile, auth: 'managed-identity', imdsEndpoint: id.url, backoffMs: 5 });
      expect((await p.resolve(REF)).secret.reveal()).toBe(AZ_JSON_PASSWORD);
      expect(id.requests[0]!.headers.metadata).toBe('true');
      id.knobs.noIdentity = true;
      await using q = fromAzureKeyVault({ vaultUrl: kv.url, caFile: kv.caFile, auth: 'managed-identity', imdsEndpoint: id.url });
      const e = await expectFailure(q.resolve(REF), { code: 'PROVIDER_AUTH_FAILED' }, []);
      expect(e.message).toMatch(/Identity not found/);
      expect(e.message).toMatch(/system-assigned identity/);
    } finally {
      await Promise.all([kv.close(), id.close()]);
    }
  });
});
