// Delinea Secret Server: the shared suite (password and client-credentials grants), then its specifics.
// Every error is leak-checked against the API user's password, the client secret, the target's
// password and every access_token the fixture issued.
import { describe, it, expect, afterEach } from 'vitest';
import util from 'node:util';
import { fromDelinea, parseSecretServerTime } from '../../../../src/providers/delinea.js';
import { providerConformance, expectFailure, expectThrow } from '../../../helpers/provider-conformance.js';
import { startDelinea, SS_USER, SS_PASSWORD, SS_DOMAIN, SS_CLIENT_ID, SS_CLIENT_SECRET, SS_SECRET_PASSWORD, type DelineaFixture, type DelineaKnobs } from '../../../fixtures/vendors/delinea.js';
import { closedPort } from '../../../helpers/servers.js';

const WRONG = 'Wrong!Api-Pass-99';
const SECRETS = [SS_PASSWORD, SS_CLIENT_SECRET, SS_SECRET_PASSWORD, 'Delinea!Stale-Pass-8', WRONG];

providerConformance('delinea (password grant)', { auth: true, unavailable: true, network: true }, async () => {
  const srv = await startDelinea();
  const slow = await startDelinea({ slowMs: 3000 });
  const env = { SS_PW: SS_PASSWORD };
  const base = { url: `${srv.url}/SecretServer`, caFile: srv.caFile, username: SS_USER, passwordEnv: 'SS_PW', domain: SS_DOMAIN, env, backoffMs: 5 };
  return {
    provider: fromDelinea(base),
    fresh: () => fromDelinea(base),
    backend: srv,
    okRef: '4711',
    // Secret Server writes zone-less times; they are UTC whatever this machine's zone
    expect: { username: 'svc-rdp', password: SS_SECRET_PASSWORD, domain: 'pamtest.local', changedAt: new Date('2026-11-23T04:15:00Z') },
    notFoundRef: '999999',
    authFailProvider: fromDelinea({ ...base, password: WRONG, passwordEnv: undefined }),
    unavailableProvider: fromDelinea({ ...base, url: `https://127.0.0.1:${await closedPort()}/SecretServer`, retries: 1 }),
    slowProvider: fromDelinea({ ...base, url: `${slow.url}/SecretServer` }),
    secrets: SECRETS,
    runtimeSecrets: () => [...srv.issuedTokens(), ...slow.issuedTokens()],
    teardown: async () => {
      await srv.close();
      await slow.close();
    },
  };
});

providerConformance('delinea (client credentials)', { auth: true, unavailable: false, network: true }, async () => {
  const srv = await startDelinea();
  const slow = await startDelinea({ slowMs: 3000 });
  const base = { url: `${srv.url}/SecretServer`, caFile: srv.caFile, grant: 'client_credentials' as const, clientId: SS_CLIENT_ID, clientSecretEnv: 'CS', env: { CS: SS_CLIENT_SECRET } };
  return {
    provider: fromDelinea(base),
    fresh: () => fromDelinea(base),
    backend: srv,
    okRef: { secretId: 4711 },
    expect: { username: 'svc-rdp', password: SS_SECRET_PASSWORD },
    notFoundRef: { secretId: 1 },
    authFailProvider: fromDelinea({ ...base, env: { CS: WRONG } }),
    slowProvider: fromDelinea({ ...base, url: `${slow.url}/SecretServer` }),
    secrets: SECRETS,
    runtimeSecrets: () => [...srv.issuedTokens(), ...slow.issuedTokens()],
    teardown: async () => {
      await srv.close();
      await slow.close();
    },
  };
});

describe('delinea specifics', () => {
  const servers: DelineaFixture[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  const start = async (k: DelineaKnobs = {}) => {
    const s = await startDelinea(k);
    servers.push(s);
    return s;
  };
  const ss = (s: DelineaFixture, extra = {}) => fromDelinea({ url: `${s.url}/SecretServer`, caFile: s.caFile, username: SS_USER, password: SS_PASSWORD, domain: SS_DOMAIN, backoffMs: 5, ...extra });
  const secrets = () => [...SECRETS, ...servers.flatMap((s) => s.issuedTokens())];

  it('sends the documented token request and bearer header, and reuses the token', async () => {
    const s = await start();
    const p = ss(s);
    await p.resolve('4711');
    await p.resolve('4711');
    expect(s.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /SecretServer/oauth2/token', 'GET /SecretServer/api/v1/secrets/4711', 'GET /SecretServer/api/v1/secrets/4711']);
    expect(s.requests[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(s.requests[0]!.body))).toEqual({ grant_type: 'password', username: SS_USER, password: SS_PASSWORD, domain: SS_DOMAIN });
    expect(String(s.requests[1]!.headers.authorization)).toBe(`Bearer ${s.issuedTokens()[0]}`);
    expect(s.tokensIssued()).toBe(1);
  });

  it('logs in once more when a cached token has expired, but never retries a refused login', async () => {
    const s = await start();
    const p = ss(s);
    await p.resolve('4711');
    s.knobs.expireNextToken = true;
    expect((await p.resolve('4711')).username).toBe('svc-rdp');
    expect(s.tokensIssued()).toBe(2);
    const before = s.requests.length;
    await expectFailure(ss(s, { password: 'nope-nope' }).resolve('4711'), { code: 'PROVIDER_AUTH_FAILED', details: { status: 400, oauthError: 'invalid_grant' } }, [...secrets(), 'nope-nope']);
    expect(s.requests.length - before).toBe(1);
  });

  it('reads fields by slug and names the slugs when one is missing (never a field value)', async () => {
    const s = await start();
    await expectFailure(ss(s).resolve('4712'), { code: 'PROVIDER_BAD_RESPONSE', message: expect.stringContaining('slugs: machine, username, private-key-passphrase') }, [...secrets(), 'db02']);
    expect((await ss(s, { passwordSlug: 'username' }).resolve('4712')).secret.reveal()).toBe('root');
    await expectFailure(ss(s, { usernameSlug: 'login' }).resolve('4711'), { code: 'PROVIDER_BAD_RESPONSE', message: expect.stringContaining('no "login" field') }, secrets);
  });

  it('a missing or forbidden secret is PROVIDER_NOT_FOUND (API_AccessDenied), leak-checked', async () => {
    const s = await start();
    await expectFailure(ss(s).resolve('31337'), { code: 'PROVIDER_NOT_FOUND', details: { errorCode: 'API_AccessDenied', status: 400 } }, secrets);
  });

  it('retries 429 with Retry-After and 503; gives up within the deadline; bad bodies are bad responses', async () => {
    const ok = await start({ failFirst: [429, 503], retryAfter: '0' });
    expect((await ss(ok).resolve('4711')).username).toBe('svc-rdp');
    // the token request met 429 then 503, then went through; then the secret read
    expect(ok.requests.map((r) => r.url)).toEqual(['/SecretServer/oauth2/token', '/SecretServer/oauth2/token', '/SecretServer/oauth2/token', '/SecretServer/api/v1/secrets/4711']);
    const t0 = Date.now();
    const far = await start({ failFirst: [429, 429], retryAfter: '30' });
    await expectFailure(ss(far, { timeoutMs: 2000 }).resolve('4711'), { code: 'PROVIDER_RATE_LIMITED', details: { retryAfterMs: 30000 } }, secrets);
    expect(Date.now() - t0).toBeLessThan(1500);
    await expectFailure(ss(await start({ failFirst: [503, 503, 503] }), { retries: 2 }).resolve('4711'), { code: 'PROVIDER_UNAVAILABLE', details: { status: 503, attempts: 3 } }, secrets);
    await expectFailure(ss(await start({ malformed: true })).resolve('4711'), { code: 'PROVIDER_BAD_RESPONSE', message: expect.stringContaining('not JSON') }, secrets);
    await expectFailure(ss(await start({ hugeBody: true })).resolve('4711'), { code: 'PROVIDER_BAD_RESPONSE', message: expect.stringContaining('more than') }, secrets);
    const t1 = Date.now();
    await expectFailure(ss(await start({ slowMs: 2000 }), { timeoutMs: 300 }).resolve('4711'), { code: 'PROVIDER_UNAVAILABLE' }, secrets);
    expect(Date.now() - t1).toBeLessThan(1500);
  });

  it('changedAt: a failed last change attempt (out of sync) gives no changedAt; zone-less times are UTC', async () => {
    const s = await start();
    const stale = await ss(s).resolve('4713');
    expect([stale.username, stale.changedAt]).toEqual(['svc-rdp2', undefined]);
    expect(parseSecretServerTime('2026-11-23T04:15:00')?.toISOString()).toBe('2026-11-23T04:15:00.000Z');
    expect(parseSecretServerTime('2026-11-23T04:15:00.1234567')?.toISOString()).toBe('2026-11-23T04:15:00.123Z');
    expect(parseSecretServerTime('2026-11-23T04:15:00+01:00')?.toISOString()).toBe('2026-11-23T03:15:00.000Z');
    expect(parseSecretServerTime('2026-11-23T04:15:00Z')?.toISOString()).toBe('2026-11-23T04:15:00.000Z');
    for (const bad of ['0001-01-01T00:00:00', 'yesterday', '', null, undefined, '2026-13-45T99:00:00']) expect(parseSecretServerTime(bad)).toBeUndefined();
  });

  it('validates options and references', async () => {
    expectThrow(() => fromDelinea({ url: 'https://x/SecretServer', username: 'u' }), { code: 'CONFIG_INVALID', message: expect.stringMatching(/needs username and passwordEnv/) }, SECRETS);
    expectThrow(() => fromDelinea({ url: 'https://x/SecretServer', grant: 'client_credentials', clientId: 'c' }), { code: 'CONFIG_INVALID', message: expect.stringMatching(/needs clientId and clientSecretEnv/) }, SECRETS);
    expectThrow(() => fromDelinea({ url: 'not a url', username: 'u', password: SS_PASSWORD }), { code: 'CONFIG_INVALID' }, SECRETS);
    const p = fromDelinea({ url: 'https://x/SecretServer', username: 'u', password: SS_PASSWORD });
    expect(util.inspect(p, { depth: 5 })).not.toContain(SS_PASSWORD);
    await expectFailure(p.resolve('web01'), { code: 'CONFIG_INVALID', message: expect.stringContaining('numeric secret id') }, SECRETS);
  });
});
