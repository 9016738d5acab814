// Vault's Kubernetes, JWT/OIDC and TLS-certificate logins beyond the conformance suite: the vendor's
// refusals mapped and explained, the pod's token file re-read at every login (kubelet rotates it),
// option mistakes caught by the factory, and no JWT in any error.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fromVault } from '../../../src/providers/vault.js';
import { startVault, K8S_ROLE, JWT_ROLE, k8sServiceAccountJwt, ciJwt, VAULT_TOKEN, type VaultFixture } from '../../fixtures/vendors/vault.js';
import { expectFailure, expectThrow } from '../../helpers/provider-conformance.js';

let srv: VaultFixture;
let dir: string;
const REF = 'kv2:secret/rdp/web01';

beforeAll(async () => {
  srv = await startVault();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-vault-auth-'));
});
afterAll(async () => {
  await srv.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const tokenFile = (name: string, jwt: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, `${jwt}\n`);
  return f;
};
const k8s = (file: string, role = K8S_ROLE) => fromVault({ address: srv.url, caFile: srv.caFile, kubernetes: { role, tokenFile: file } });

describe('vault kubernetes login', () => {
  it('an unknown role: PROVIDER_AUTH_FAILED quoting Vault ("invalid role name"), the JWT never shown', async () => {
    const jwt = k8sServiceAccountJwt();
    await using p = k8s(tokenFile('sa', jwt), 'no-such-role');
    const e = await expectFailure(p.resolve(REF), { code: 'PROVIDER_AUTH_FAILED' }, [jwt]);
    expect(e.message).toMatch(/Kubernetes login/);
    expect(e.message).toMatch(/invalid role name/);
  });

  it('a service account the role does not bind: PROVIDER_AUTH_FAILED with Vault\'s reason', async () => {
    const jwt = k8sServiceAccountJwt('someone-else');
    await using p = k8s(tokenFile('other', jwt));
    const e = await expectFailure(p.resolve(REF), { code: 'PROVIDER_AUTH_FAILED' }, [jwt]);
    expect(e.message).toMatch(/service account name not authorized/);
  });

  it('no token file (not in a pod): CONFIG_INVALID naming kubernetes.tokenFile, at the first resolve', async () => {
    await using p = k8s(path.join(dir, 'missing-token'));
    const e = await expectFailure(p.resolve(REF), { code: 'CONFIG_INVALID' }, []);
    expect(e.message).toMatch(/kubernetes\.tokenFile/);
    expect(e.message).toMatch(/ENOENT/);
  });

  it('re-reads the rotated token file when it logs in again after its Vault token is revoked', async () => {
    const first = k8sServiceAccountJwt();
    const file = tokenFile('rotating', first);
    await using p = k8s(file);
    await p.resolve(REF);
    const logins = srv.logins();
    const second = k8sServiceAccountJwt();
    expect(second).not.toBe(first);
    fs.writeFileSync(file, second);
    srv.revokeApproleTokens();
    await p.resolve(REF);
    expect(srv.logins()).toBe(logins + 1);
    const lastLogin = srv.requests.filter((r) => r.url === '/v1/auth/kubernetes/login').at(-1)!;
    expect(JSON.parse(lastLogin.body)).toEqual({ role: K8S_ROLE, jwt: second });
  });
});

describe('vault jwt login', () => {
  it('an expired JWT: PROVIDER_AUTH_FAILED saying so, the JWT never shown', async () => {
    const jwt = ciJwt({ exp: Math.floor(Date.now() / 1000) - 60 });
    await using p = fromVault({ address: srv.url, caFile: srv.caFile, jwt: { role: JWT_ROLE, jwtFile: tokenFile('expired', jwt) } });
    const e = await expectFailure(p.resolve(REF), { code: 'PROVIDER_AUTH_FAILED' }, [jwt]);
    expect(e.message).toMatch(/JWT login/);
    expect(e.message).toMatch(/expired/);
  });

  it('without a role, Vault\'s default_role is used (no "role" sent)', async () => {
    const jwt = ciJwt();
    await using p = fromVault({ address: srv.url, caFile: srv.caFile, jwt: { jwtEnv: 'CI_JWT' }, env: { CI_JWT: jwt } });
    await p.resolve(REF);
    expect(JSON.parse(srv.requests.filter((r) => r.url === '/v1/auth/jwt/login').at(-1)!.body)).toEqual({ jwt });
  });
});

describe('vault login options', () => {
  const base = { address: 'https://vault.corp.example:8200' };
  it.each([
    ['a token and a login', { ...base, token: VAULT_TOKEN, kubernetes: { role: 'r' } }, /token or a login method, not both/],
    ['two logins', { ...base, approle: { roleId: 'x' }, jwt: { jwtEnv: 'J' } }, /one login method/],
    ['jwt without a source', { ...base, jwt: { role: 'r' } }, /jwt\.jwtFile .* or jwt\.jwtEnv/],
    ['jwt with both sources', { ...base, jwt: { jwtFile: '/x', jwtEnv: 'J' } }, /exactly one/],
    ['cert without a client certificate', { ...base, cert: { name: 'c' } }, /certFile and keyFile/],
    ['nothing at all', { ...base }, /needs a token/],
    ['an unknown field in a login', { ...base, kubernetes: { role: 'r', tokenfile: '/x' } }, /tokenfile/],
  ])('%s: CONFIG_INVALID', (_what, options, message) => {
    const e = expectThrow(() => fromVault(options as Parameters<typeof fromVault>[0]), { code: 'CONFIG_INVALID' }, [VAULT_TOKEN]);
    expect(e.message).toMatch(message);
  });
});
