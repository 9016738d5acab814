import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fromVault } from '../../../../src/providers/vault.js';
import { providerConformance } from '../../../helpers/provider-conformance.js';
import { startVault, VAULT_TOKEN, ROLE_ID, SECRET_ID, KV2_DATA, K8S_ROLE, JWT_ROLE, CERT_ROLE, k8sServiceAccountJwt, ciJwt } from '../../../fixtures/vendors/vault.js';
import { cyberArkClientCert } from '../../../fixtures/vendors/cyberark.js';
import { closedPort } from '../../../helpers/servers.js';

const v2 = KV2_DATA['rdp/web01'].versions[1]!;

providerConformance('vault (token, KV v2)', { auth: true, unavailable: true, network: true }, async () => {
  const srv = await startVault();
  const slow = await startVault({ slowMs: 3000 });
  const env = { VT: VAULT_TOKEN };
  const port = await closedPort();
  const opts = { address: srv.url, caFile: srv.caFile, tokenEnv: 'VT', env };
  return {
    provider: fromVault(opts),
    fresh: () => fromVault(opts),
    backend: srv,
    okRef: 'kv2:secret/rdp/web01',
    expect: { username: 'PAMTEST\\svc-rdp', password: v2.data.password, changedAt: new Date('2026-11-20T08:00:00.123Z'), domain: 'PAMTEST' },
    notFoundRef: 'kv2:secret/rdp/nope',
    authFailProvider: fromVault({ address: srv.url, caFile: srv.caFile, token: 'hvs.wrong-token-value-xyz' }),
    unavailableProvider: fromVault({ address: `https://127.0.0.1:${port}`, caFile: srv.caFile, tokenEnv: 'VT', env, retries: 1, backoffMs: 10 }),
    slowProvider: fromVault({ address: slow.url, caFile: slow.caFile, tokenEnv: 'VT', env }),
    secrets: [VAULT_TOKEN, v2.data.password, 'hvs.wrong-token-value-xyz', SECRET_ID],
    teardown: async () => {
      await srv.close();
      await slow.close();
    },
  };
});

providerConformance('vault (AppRole, LDAP static role)', { auth: true, unavailable: true, network: true }, async () => {
  const srv = await startVault();
  const slow = await startVault({ slowMs: 3000 });
  const opts = { address: srv.url, caFile: srv.caFile, approle: { roleId: ROLE_ID, secretIdEnv: 'SID' }, env: { SID: SECRET_ID }, engine: 'ldap-static' as const };
  return {
    provider: fromVault(opts),
    fresh: () => fromVault(opts),
    backend: srv,
    okRef: 'ldap/svc-rdp',
    expect: { username: 'svc-rdp', password: 'Ldap!Static-Now', changedAt: new Date('2026-11-24T10:00:00.000Z') },
    notFoundRef: 'ldap/no-such-role',
    authFailProvider: fromVault({ ...opts, approle: { roleId: ROLE_ID, secretId: 'wrong-secret-id' } }),
    unavailableProvider: fromVault({ ...opts, address: `https://127.0.0.1:${await closedPort()}`, retries: 1, backoffMs: 10 }),
    slowProvider: fromVault({ ...opts, address: slow.url }),
    secrets: [SECRET_ID, 'Ldap!Static-Now', 'Ldap!Prev', 'wrong-secret-id'],
    // the client_token each AppRole login issues is a secret too
    runtimeSecrets: () => [...srv.issuedTokens(), ...slow.issuedTokens()],
    teardown: async () => {
      await srv.close();
      await slow.close();
    },
  };
});

// the login methods beside AppRole: each logs in, reads, is refused, and never leaks the JWT it presented
const loginSetup = (method: 'kubernetes' | 'jwt' | 'cert') => async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-vault-login-'));
  const client = method === 'cert' ? await cyberArkClientCert() : undefined;
  const knobs = client ? { trustedClientCertSha256: client.sha } : {};
  const srv = await startVault(knobs);
  const slow = await startVault({ ...knobs, slowMs: 3000 });
  const good = method === 'kubernetes' ? k8sServiceAccountJwt() : ciJwt();
  const bad = method === 'kubernetes' ? k8sServiceAccountJwt('intruder') : ciJwt({ sub: 'repo:evil/fork:ref:refs/heads/main' });
  fs.writeFileSync(path.join(dir, 'token'), good);
  fs.writeFileSync(path.join(dir, 'bad'), bad);
  const auth = (file: string) => method === 'kubernetes' ? { kubernetes: { role: K8S_ROLE, tokenFile: path.join(dir, file) } }
    : method === 'jwt' ? { jwt: { role: JWT_ROLE, jwtEnv: file === 'token' ? 'CI_JWT' : 'BAD_JWT' }, env: { CI_JWT: good, BAD_JWT: bad } }
      : { cert: { name: CERT_ROLE }, certFile: client!.cert, keyFile: file === 'token' ? client!.key : client!.key };
  const opts = (s: { url: string; caFile: string }, file = 'token') => ({ address: s.url, caFile: s.caFile, ...auth(file) });
  const wrongCert = method === 'cert' ? await startVault({ trustedClientCertSha256: 'f'.repeat(64) }) : undefined;
  return {
    provider: fromVault(opts(srv)),
    fresh: () => fromVault(opts(srv)),
    backend: srv,
    okRef: 'kv2:secret/rdp/web01',
    expect: { username: 'PAMTEST\\svc-rdp', password: v2.data.password },
    notFoundRef: 'kv2:secret/rdp/nope',
    authFailProvider: fromVault(wrongCert ? opts(wrongCert) : opts(srv, 'bad')),
    unavailableProvider: fromVault({ ...opts(srv), address: `https://127.0.0.1:${await closedPort()}`, retries: 1, backoffMs: 10 }),
    slowProvider: fromVault(opts(slow)),
    secrets: [good, bad, v2.data.password],
    runtimeSecrets: () => [...srv.issuedTokens(), ...slow.issuedTokens()],
    teardown: async () => {
      await Promise.all([srv.close(), slow.close(), wrongCert?.close()]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
};

providerConformance('vault (Kubernetes auth)', { auth: true, unavailable: true, network: true }, loginSetup('kubernetes'));
providerConformance('vault (JWT/OIDC auth)', { auth: true, unavailable: true, network: true }, loginSetup('jwt'));
providerConformance('vault (TLS certificate auth)', { auth: true, unavailable: true, network: true }, loginSetup('cert'));
