// The plain-http rule (issue 14, defect 3) and the deadline rule (defect 9), for every HTTP backend,
// against real loopback servers that count what reaches them:
//   - a vault request over http:// is refused with CONFIG_INVALID naming the option, before any byte
//     is sent (the server sees no connection), with caFile named when it would be ignored;
//   - the named opt-in insecureLoopbackHttp works for a loopback dev server only;
//   - metadata requests (kind "metadata") may use plain http to loopback, nowhere else;
//   - a deadline (ours or the caller's AbortSignal.timeout) is PROVIDER_UNAVAILABLE, never ABORTED.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { HttpClient } from '../../../src/providers/http.js';
import { fromVault } from '../../../src/providers/vault.js';
import { fromDelinea } from '../../../src/providers/delinea.js';
import { fromCyberArkCcp } from '../../../src/providers/cyberark.js';
import { fromAzureKeyVault } from '../../../src/providers/azure-keyvault.js';
import { fromAwsSecretsManager } from '../../../src/providers/aws-secrets-manager.js';
import type { Provider } from '../../../src/providers/types.js';
import { startHttp, json, type FixtureServer } from '../../fixtures/vendors/tls.js';
import { startVault, VAULT_TOKEN, KV2_DATA, type VaultFixture } from '../../fixtures/vendors/vault.js';
import { expectFailure, expectThrow } from '../../helpers/provider-conformance.js';

const SECRETS = [VAULT_TOKEN, 'Delinea!Api-Pass-http', 'Azure~Secret-over-http', 'awsSecretKey/over-http-0123', 'ccp-key-passphrase'];
let sink: FixtureServer;
let devVault: VaultFixture;
let hanging: VaultFixture;

beforeAll(async () => {
  sink = await startHttp((_req, _body, res) => json(res, 200, {}));
  devVault = await startVault({ plainHttp: true });
  hanging = await startVault({ slowMs: 5_000 });
});
afterAll(async () => {
  await Promise.all([sink.close(), devVault.close(), hanging.close()]);
});

/** Every HTTP backend pointed at the plain-http sink, as a user would write it. */
const plainBackends = (url: string): Array<[string, string, () => Provider]> => [
  ['vault', 'address', () => fromVault({ address: url, tokenEnv: 'VT', env: { VT: VAULT_TOKEN } })],
  ['delinea', 'url', () => fromDelinea({ url, username: 'svc', passwordEnv: 'P', env: { P: 'Delinea!Api-Pass-http' } })],
  ['cyberark-ccp', 'url', () => fromCyberArkCcp({ url, appId: 'PAM' })],
  ['azure-keyvault', 'vaultUrl', () => fromAzureKeyVault({ vaultUrl: url, tenantId: 'contoso.onmicrosoft.com', clientId: 'app', clientSecretEnv: 'S', env: { S: 'Azure~Secret-over-http' } })],
  ['azure-keyvault', 'authorityHost', () => fromAzureKeyVault({ vaultUrl: 'https://corp.vault.azure.net', authorityHost: url, tenantId: 'contoso.onmicrosoft.com', clientId: 'app', clientSecretEnv: 'S', env: { S: 'Azure~Secret-over-http' } })],
  ['aws-secrets-manager', 'endpoint', () => fromAwsSecretsManager({ region: 'eu-central-1', endpoint: url, accessKeyId: 'AKIAHTTPTEST', secretAccessKeyEnv: 'K', env: { K: 'awsSecretKey/over-http-0123' } })],
];

describe('no secret over plain http (defect 3)', () => {
  it.each(plainBackends('http://127.0.0.1:1'))('%s refuses an http:// %s with CONFIG_INVALID naming it and the opt-in', (_name, option, make) => {
    const e = expectThrow(make, { code: 'CONFIG_INVALID' }, SECRETS);
    expect(e.message).toContain(option);
    expect(e.message).toMatch(/plain http/);
    expect(e.message).toMatch(/https:\/\//);
    expect(e.message).toMatch(/insecureLoopbackHttp/);
    expect(e.details).toMatchObject({ option, scheme: 'http' });
  });

  it('sends nothing to the http server: no token, password or client secret reaches it', async () => {
    for (const [, , make] of plainBackends(sink.url)) {
      let p: Provider | undefined;
      try {
        p = make();
        await p.resolve('4711').catch(() => undefined);
      } catch {
        // refused at construction: nothing can have been sent
      } finally {
        await p?.dispose?.();
      }
    }
    expect(sink.connectionsAccepted()).toBe(0);
    expect(sink.requests).toHaveLength(0);
  });

  it('names caFile when it would be silently ignored on http://', () => {
    const e = expectThrow(() => fromVault({ address: 'http://127.0.0.1:8200', caFile: '/etc/ssl/corp-ca.pem', tokenEnv: 'VT', env: { VT: VAULT_TOKEN }, insecureLoopbackHttp: true }), { code: 'CONFIG_INVALID' }, SECRETS);
    expect(e.message).toMatch(/caFile/);
  });

  it('insecureLoopbackHttp: a vault dev server on loopback works, and only there', async () => {
    const p = fromVault({ address: devVault.url, tokenEnv: 'VT', env: { VT: VAULT_TOKEN }, insecureLoopbackHttp: true });
    try {
      const c = await p.resolve('kv2:secret/rdp/web01');
      expect(c.secret.reveal()).toBe(KV2_DATA['rdp/web01'].versions[1]!.data.password);
    } finally {
      await p.dispose();
    }
    // any non-loopback host stays refused, with the opt-in too (no traffic: refused at construction)
    for (const address of ['http://10.20.30.40:8200', 'http://vault.corp.example:8200', 'http://169.254.169.254']) {
      const e = expectThrow(() => fromVault({ address, tokenEnv: 'VT', env: { VT: VAULT_TOKEN }, insecureLoopbackHttp: true }), { code: 'CONFIG_INVALID' }, SECRETS);
      expect(e.message).toMatch(/only to a loopback address/);
    }
  });

  it('the HTTP client enforces the rule itself: a vault request to http:// is refused before any I/O', async () => {
    const c = new HttpClient('test');
    try {
      await expectFailure(c.request({ url: `${sink.url}/v1/secret/data/x`, headers: { 'x-vault-token': VAULT_TOKEN } }), { code: 'CONFIG_INVALID' }, SECRETS);
      expect(sink.connectionsAccepted()).toBe(0);
      // a metadata request (its token is meant for that endpoint) may use plain http to loopback
      const r = await c.request({ url: `${sink.url}/latest/api/token`, method: 'PUT', kind: 'metadata' });
      expect(r.status).toBe(200);
      expect(sink.connectionsAccepted()).toBe(1);
      // ... and never to any other host (refused before a DNS lookup or connection)
      const e = await expectFailure(c.request({ url: 'http://metadata.example.invalid/latest/api/token', kind: 'metadata' }), { code: 'CONFIG_INVALID' }, SECRETS);
      expect(e.message).toMatch(/link-local metadata address/);
    } finally {
      c.dispose();
    }
  });
});

describe('a deadline is never the caller\'s abort (defect 9)', () => {
  it('a hanging vault with default settings and a caller deadline (as `credgate providers` passes) is PROVIDER_UNAVAILABLE', async () => {
    const p = fromVault({ address: hanging.url, caFile: hanging.caFile, tokenEnv: 'VT', env: { VT: VAULT_TOKEN } });
    try {
      const t0 = Date.now();
      const e = await expectFailure(p.resolve('kv2:secret/rdp/web01', { signal: AbortSignal.timeout(300) }), { code: 'PROVIDER_UNAVAILABLE' }, SECRETS);
      expect(e.message).toMatch(/did not answer within the caller's deadline/);
      expect(e.message).not.toMatch(/aborted/);
      expect(Date.now() - t0).toBeLessThan(5_000);
    } finally {
      await p.dispose();
    }
  });

  it('the client\'s own timeoutMs is PROVIDER_UNAVAILABLE; a real abort() stays ABORTED', async () => {
    const p = fromVault({ address: hanging.url, caFile: hanging.caFile, tokenEnv: 'VT', env: { VT: VAULT_TOKEN }, timeoutMs: 300 });
    try {
      const e = await expectFailure(p.resolve('kv2:secret/rdp/web01'), { code: 'PROVIDER_UNAVAILABLE' }, SECRETS);
      expect(e.message).toMatch(/within 300 ms/);
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      await expectFailure(p.resolve('kv2:secret/rdp/web01', { signal: ac.signal }), { code: 'ABORTED' }, SECRETS);
    } finally {
      await p.dispose();
    }
  });
});
