// Vault specifics beyond the conformance suite: KV v1, versions and KV v2 metadata, namespaces, library
// check-out and check-in, AppRole token lifetime, retries of 429/5xx with Retry-After, never retrying auth
// failures, malformed and huge bodies. Every error goes through the suite's leak check.
import { describe, it, expect, afterEach } from 'vitest';
import { fromVault, parseVaultRef } from '../../../src/providers/vault.js';
import { startVault, VAULT_TOKEN, NAMESPACE, ROLE_ID, SECRET_ID, KV2_DATA, type VaultFixture, type VaultKnobs } from '../../fixtures/vendors/vault.js';
import { expectFailure, expectThrow } from '../../helpers/provider-conformance.js';

const servers: VaultFixture[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
const start = async (k: VaultKnobs = {}) => {
  const s = await startVault(k);
  servers.push(s);
  return s;
};
const vault = (s: VaultFixture, extra = {}) => fromVault({ address: s.url, caFile: s.caFile, token: VAULT_TOKEN, backoffMs: 5, ...extra });
const approle = (s: VaultFixture, extra = {}) => fromVault({ address: s.url, caFile: s.caFile, approle: { roleId: ROLE_ID, secretIdEnv: 'SID' }, env: { SID: SECRET_ID }, backoffMs: 5, ...extra });
const PASSWORDS = KV2_DATA['rdp/web01'].versions.map((v) => v.data.password);
/** Everything a Vault error must never show: the static token, the secret id, every issued AppRole token, the passwords. */
const secretsOf = (...ss: VaultFixture[]) => () => [VAULT_TOKEN, SECRET_ID, ...PASSWORDS, 'Kv1!Pass-Value', 'Ldap!Static-Now', 'Library!Checked-Out', ...ss.flatMap((s) => s.issuedTokens())];
const paths = (s: VaultFixture) => s.requests.map((r) => `${r.method} ${r.url}`);

describe('vault provider', () => {
  it('reads KV v1 and a given KV v2 version', async () => {
    const s = await start();
    const p = vault(s);
    expect((await p.resolve('kv1:kv/rdp/db02')).username).toBe('PAMTEST\\svc-db');
    const old = await p.resolve('kv2:secret/rdp/web01?version=1');
    expect(old.secret.reveal()).toBe('Old!Vault-Pass-1');
    expect(old.source).toBe('vault kv-v2 secret/rdp/web01 v1 (current v2)');
    await p.dispose!();
  });

  it('KV v2: changedAt is the metadata updated_time (the newest version\'s write), read from metadata/', async () => {
    const s = await start();
    const c = await vault(s).resolve('kv2:secret/rdp/web01');
    expect(paths(s)).toEqual(['GET /v1/secret/data/rdp/web01', 'GET /v1/secret/metadata/rdp/web01']);
    expect(c.changedAt?.toISOString()).toBe('2026-11-20T08:00:00.123Z');
    expect(c.source).toBe('vault kv-v2 secret/rdp/web01 v2');
    // reading an older version: the secret still last changed when v2 was written
    const old = await vault(s).resolve('kv2:secret/rdp/web01?version=1');
    expect(old.changedAt?.toISOString()).toBe('2026-11-20T08:00:00.123Z');
  });

  it('KV v2: a policy that denies metadata/ falls back to the read version\'s created_time, quietly', async () => {
    const s = await start({ denyMetadata: true });
    const cur = await vault(s).resolve('kv2:secret/rdp/web01');
    expect(cur.changedAt?.toISOString()).toBe('2026-11-20T08:00:00.123Z');
    const old = await vault(s).resolve('kv2:secret/rdp/web01?version=1');
    expect(old.changedAt?.toISOString()).toBe('2026-10-01T08:00:00.000Z');
    expect(old.source).toBe('vault kv-v2 secret/rdp/web01 v1');
    // one metadata attempt per resolve, no retry of the 403, no AppRole re-login for it
    expect(s.requests.filter((r) => r.url.includes('/metadata/'))).toHaveLength(2);
    const a = await start({ denyMetadata: true });
    expect((await approle(a).resolve('kv2:secret/rdp/web01')).changedAt?.toISOString()).toBe('2026-11-20T08:00:00.123Z');
    expect(a.logins()).toBe(1);
  });

  it('sends the namespace header', async () => {
    const s = await start();
    await expectFailure(vault(s).resolve('kv2:nsonly/rdp/web01'), { code: 'PROVIDER_NOT_FOUND' }, secretsOf(s));
    expect((await vault(s, { namespace: NAMESPACE }).resolve('kv2:nsonly/rdp/web01')).username).toBe('PAMTEST\\svc-rdp');
    expect(s.requests.at(-1)!.headers['x-vault-namespace']).toBe(NAMESPACE);
  });

  it('checks a library account out and back in on dispose', async () => {
    const s = await start();
    const p = vault(s);
    const c = await p.resolve('ldap-library:ldap/rdp-admins');
    expect(c.username).toBe('lib-admin1');
    await p.dispose!();
    await p.dispose!();
    expect(paths(s)).toEqual(['POST /v1/ldap/library/rdp-admins/check-out', 'POST /v1/ldap/library/rdp-admins/check-in']);
    expect(JSON.parse(s.requests[1]!.body)).toEqual({ service_account_names: ['lib-admin1'] });
  });

  it('dispose: concurrent calls share one run, and neither returns before the check-in is answered', async () => {
    const s = await start({ checkInDelayMs: 300 });
    const p = vault(s);
    await p.resolve('ldap-library:ldap/rdp-admins');
    await p.resolve('ldap-library:ldap/rdp-admins');
    expect(s.libraryCheckedOut()).toEqual(['lib-admin1', 'lib-admin2']);
    const first = p.dispose!();
    const second = p.dispose!();
    expect(second).toBe(first);
    await second; // before: the second call closed the pool at once, cutting the check-ins off
    expect(s.libraryCheckIns()).toEqual(['lib-admin1', 'lib-admin2']);
    expect(s.libraryCheckedOut()).toEqual([]);
    await first;
    await p.dispose!(); // idempotent, no request
    expect(paths(s).filter((x) => x.endsWith('/check-in'))).toHaveLength(2);
  });

  it('dispose: a resolve while the check-ins run fails clearly and checks nothing out', async () => {
    const s = await start({ checkInDelayMs: 300 });
    const p = vault(s);
    await p.resolve('ldap-library:ldap/rdp-admins');
    const d = p.dispose!();
    await new Promise((r) => setTimeout(r, 50)); // the check-in is in flight
    await expectFailure(p.resolve('ldap-library:ldap/rdp-admins'), { code: 'USAGE', message: expect.stringMatching(/disposed/) }, secretsOf(s));
    await expectFailure(p.resolve('kv2:secret/rdp/web01'), { code: 'USAGE' }, secretsOf(s));
    await d;
    expect(paths(s).filter((x) => x.endsWith('/check-out'))).toHaveLength(1);
    expect(s.libraryCheckedOut()).toEqual([]);
  });

  it('dispose: a check-out in flight when dispose starts is checked back in, and its resolve fails clearly', async () => {
    const s = await start({ checkOutDelayMs: 200 });
    const p = vault(s);
    const r = p.resolve('ldap-library:ldap/rdp-admins');
    await new Promise((res) => setTimeout(res, 50)); // the check-out is in flight
    const d = p.dispose!();
    await expectFailure(r, { code: 'USAGE', message: expect.stringMatching(/checked back in/) }, secretsOf(s));
    await d;
    expect(s.libraryCheckIns()).toEqual(['lib-admin1']);
    expect(s.libraryCheckedOut()).toEqual([]);
  });

  it('retries 429 (honouring Retry-After) and 503, then succeeds', async () => {
    const s = await start({ failFirst: [429, 503], retryAfter: '0' });
    const t0 = Date.now();
    expect((await vault(s).resolve('secret/rdp/web01')).username).toBe('PAMTEST\\svc-rdp');
    expect(paths(s)).toEqual(['GET /v1/secret/data/rdp/web01', 'GET /v1/secret/data/rdp/web01', 'GET /v1/secret/data/rdp/web01', 'GET /v1/secret/metadata/rdp/web01']);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('gives up with PROVIDER_RATE_LIMITED after the retries', async () => {
    const s = await start({ failFirst: [429, 429, 429, 429, 429] });
    await expectFailure(vault(s, { retries: 2 }).resolve('secret/rdp/web01'), { code: 'PROVIDER_RATE_LIMITED', details: { attempts: 3 } }, secretsOf(s));
  });

  it('never retries an authentication failure', async () => {
    const s = await start();
    await expectFailure(fromVault({ address: s.url, caFile: s.caFile, token: 'hvs.bad-token-0000' }).resolve('secret/rdp/web01'), { code: 'PROVIDER_AUTH_FAILED' }, [...secretsOf(s)(), 'hvs.bad-token-0000']);
    expect(s.requests).toHaveLength(1);
  });

  it('sealed Vault is unavailable; malformed JSON and oversized bodies are bad responses', async () => {
    const sealed = await start({ sealed: true });
    await expectFailure(vault(sealed, { retries: 1 }).resolve('secret/rdp/web01'), { code: 'PROVIDER_UNAVAILABLE', message: expect.stringContaining('503') }, secretsOf(sealed));
    const bad = await start({ malformed: true });
    await expectFailure(vault(bad).resolve('secret/rdp/web01'), { code: 'PROVIDER_BAD_RESPONSE', message: expect.stringContaining('not JSON') }, secretsOf(bad));
    const huge = await start({ hugeBody: true });
    await expectFailure(vault(huge).resolve('secret/rdp/web01'), { code: 'PROVIDER_BAD_RESPONSE', message: expect.stringContaining('more than 1048576 bytes') }, secretsOf(huge));
  });

  it('a slow answer past the deadline is PROVIDER_UNAVAILABLE within the deadline', async () => {
    const s = await start({ slowMs: 2000 });
    const t0 = Date.now();
    await expectFailure(vault(s, { timeoutMs: 300 }).resolve('secret/rdp/web01'), { code: 'PROVIDER_UNAVAILABLE' }, secretsOf(s));
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('Vault error text that echoes a token is redacted before it reaches the message or details', async () => {
    const s = await start({ echoToken: true, denyApprole: true });
    // a static token, 403: the fixture quotes the token in its errors[]
    const e = await expectFailure(fromVault({ address: s.url, caFile: s.caFile, token: 'hvs.echoed-static-token-1' }).resolve('kv1:kv/rdp/db02'), { code: 'PROVIDER_AUTH_FAILED' }, [...secretsOf(s)(), 'hvs.echoed-static-token-1']);
    expect(e.details?.vaultErrors).toBe('permission denied for token [REDACTED]');
    // an AppRole token, 403 twice (re-login once): the issued tokens are scrubbed too
    const f = await expectFailure(approle(s).resolve('kv1:kv/rdp/db02'), { code: 'PROVIDER_AUTH_FAILED' }, secretsOf(s));
    expect(f.details?.vaultErrors).toBe('permission denied for token [REDACTED]');
    expect(s.issuedTokens()).toHaveLength(2);
  });

  it('validates options and references with messages that name the problem', () => {
    expectThrow(() => fromVault({ address: 'not a url', token: 'x' }), { code: 'CONFIG_INVALID', message: expect.stringMatching(/options: address: /) }, secretsOf());
    expectThrow(() => fromVault({ address: 'https://v:8200' }), { code: 'CONFIG_INVALID', message: expect.stringMatching(/needs a token/) }, secretsOf());
    expectThrow(() => fromVault({ address: 'https://v:8200', tokenEnv: 'NOPE_UNSET', env: {} }), { code: 'CONFIG_INVALID', message: expect.stringMatching(/NOPE_UNSET, which is not set/) }, []);
    expect(parseVaultRef('kv1:kv/a/b', 'kv-v2')).toEqual({ engine: 'kv-v1', mount: 'kv', path: 'a/b' });
    expect(parseVaultRef('kv2:secret/a?version=3', 'kv-v1')).toEqual({ engine: 'kv-v2', mount: 'secret', path: 'a', version: 3 });
    expectThrow(() => parseVaultRef('justone', 'kv-v2'), { code: 'CONFIG_INVALID', message: expect.stringMatching(/needs <mount>\/<path>/) }, secretsOf());
    expectThrow(() => parseVaultRef('kv2:secret/a?version=-1', 'kv-v2'), { code: 'CONFIG_INVALID', message: expect.stringMatching(/positive whole number/) }, secretsOf());
    expectThrow(() => parseVaultRef('kv2:secret/a/../../sys/seal', 'kv-v2'), { code: 'CONFIG_INVALID', message: expect.stringMatching(/"\.\."/) }, secretsOf());
    expectThrow(() => parseVaultRef({ mount: '..', path: 'sys/seal' }, 'kv-v2'), { code: 'CONFIG_INVALID', message: expect.stringMatching(/"\.\."/) }, secretsOf());
  });
});

describe('vault AppRole token lifetime', () => {
  it('logs in again before the lease runs out, without meeting a 403', async () => {
    const s = await start({ approleTtlSeconds: 1 });
    const p = approle(s, { engine: 'kv-v1' });
    await p.resolve('kv/rdp/db02');
    await new Promise((r) => setTimeout(r, 900));
    expect((await p.resolve('kv/rdp/db02')).username).toBe('PAMTEST\\svc-db');
    expect(s.logins()).toBe(2);
    expect(s.requests.map((r) => r.url)).toEqual(['/v1/auth/approle/login', '/v1/kv/rdp/db02', '/v1/auth/approle/login', '/v1/kv/rdp/db02']);
    // the token in use is reused while valid
    await p.resolve('kv/rdp/db02');
    expect(s.logins()).toBe(2);
    await p.dispose!();
  });

  it('a token revoked early: one 403, one new login, the call repeated once', async () => {
    const s = await start();
    const p = approle(s, { engine: 'kv-v1' });
    await p.resolve('kv/rdp/db02');
    s.revokeApproleTokens();
    expect((await p.resolve('kv/rdp/db02')).username).toBe('PAMTEST\\svc-db');
    expect(s.logins()).toBe(2);
    expect(s.requests.map((r) => r.url)).toEqual(['/v1/auth/approle/login', '/v1/kv/rdp/db02', '/v1/kv/rdp/db02', '/v1/auth/approle/login', '/v1/kv/rdp/db02']);
    await p.dispose!();
  });

  it('a policy that denies the path: re-login once, then PROVIDER_AUTH_FAILED (never a loop)', async () => {
    const s = await start({ denyApprole: true });
    const p = approle(s, { engine: 'kv-v1' });
    await expectFailure(p.resolve('kv/rdp/db02'), { code: 'PROVIDER_AUTH_FAILED', details: { status: 403 } }, secretsOf(s));
    expect(s.logins()).toBe(2);
    expect(s.requests).toHaveLength(4);
    await p.dispose!();
  });

  it('a static token is never replaced: a 403 is reported after one request', async () => {
    const s = await start({ denyMetadata: true });
    s.revokeApproleTokens();
    await expectFailure(fromVault({ address: s.url, caFile: s.caFile, token: 'hvs.revoked-token-22' }).resolve('kv1:kv/rdp/db02'), { code: 'PROVIDER_AUTH_FAILED' }, [...secretsOf(s)(), 'hvs.revoked-token-22']);
    expect(s.requests).toHaveLength(1);
    expect(s.logins()).toBe(0);
  });

  it('a refused AppRole login is PROVIDER_AUTH_FAILED, not retried, with no secret id in it', async () => {
    const s = await start();
    await expectFailure(approle(s, { env: { SID: 'not-the-secret-id-99' } }).resolve('kv1:kv/rdp/db02'), { code: 'PROVIDER_AUTH_FAILED', details: { status: 400 } }, [...secretsOf(s)(), 'not-the-secret-id-99']);
    expect(s.requests).toHaveLength(1);
  });
});
