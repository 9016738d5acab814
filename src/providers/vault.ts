/**
 * HashiCorp Vault / OpenBao. Follows the Vault HTTP API documentation:
 *   auth:  X-Vault-Token header; AppRole POST /v1/auth/<mount>/login {role_id, secret_id} → auth.client_token
 *          (https://developer.hashicorp.com/vault/api-docs/auth/approle); namespaces via X-Vault-Namespace
 *   KV v2: GET /v1/<mount>/data/<path>[?version=n] → data.data + data.metadata{created_time, version}
 *          (https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2)
 *   KV v1: GET /v1/<mount>/<path> → data (https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v1)
 *   LDAP secrets engine: GET /v1/<mount>/static-cred/<role> → data{username, password, last_vault_rotation};
 *          POST /v1/<mount>/library/<set>/check-out → data{service_account_name, password}; check-in on dispose
 *          (https://developer.hashicorp.com/vault/api-docs/secret/ldap)
 *   errors: {"errors": [...]}; 403 permission denied / bad token, 404 not found, 429 rate limited, 503 sealed/standby.
 * changedAt: KV v2 → the read version's created_time; LDAP static role → last_vault_rotation.
 */
import { z } from 'zod';
import { Secret } from '../core/secret.js';
import { ConfigError, ProviderError, abortError } from '../core/errors.js';
import type { CredentialRef, FetchedCredential } from '../core/credential.js';
import type { Provider, ResolveOptions } from './types.js';
import { HttpClient, displayUrl, type HttpResponse } from './http.js';
import { httpOptionsSchema, secretFrom, secretInput, validateOptions } from './options.js';

const VaultOptions = z.object({
  address: z.string().url('must be a URL like https://vault.example.com:8200'),
  token: secretInput.optional(),
  tokenEnv: z.string().optional(),
  approle: z.object({
    roleId: z.string().min(1),
    secretId: secretInput.optional(),
    secretIdEnv: z.string().optional(),
    mount: z.string().default('approle'),
  }).optional(),
  namespace: z.string().optional(),
  /** Default engine for string refs without a prefix. */
  engine: z.enum(['kv-v2', 'kv-v1', 'ldap-static', 'ldap-library']).default('kv-v2'),
  usernameKey: z.string().default('username'),
  passwordKey: z.string().default('password'),
  domainKey: z.string().default('domain'),
  env: z.record(z.string(), z.string().optional()).optional(),
  ...httpOptionsSchema,
}).strict();
export type VaultProviderOptions = z.input<typeof VaultOptions>;

const VaultRef = z.object({
  engine: z.enum(['kv-v2', 'kv-v1', 'ldap-static', 'ldap-library']).optional(),
  mount: z.string().min(1),
  path: z.string().min(1),
  version: z.number().int().positive().optional(),
});

/** "kv2:secret/rdp/web01", "kv1:kv/rdp/web01", "ldap-static:ldap/svc-rdp", "ldap-library:ldap/rdp-admins", or "secret/rdp/web01". */
export function parseVaultRef(ref: CredentialRef, defaultEngine: string): { engine: string; mount: string; path: string; version?: number } {
  if (typeof ref === 'string') {
    const m = /^(kv2|kv-v2|kv1|kv-v1|ldap-static|ldap-library):(.+)$/.exec(ref);
    const engine = m ? ({ kv2: 'kv-v2', kv1: 'kv-v1' } as Record<string, string>)[m[1]!] ?? m[1]! : defaultEngine;
    const rest = (m ? m[2]! : ref).replace(/^\/+/, '');
    const [p, q] = rest.split('?');
    const slash = p!.indexOf('/');
    if (slash <= 0 || slash === p!.length - 1) {
      throw new ConfigError(`Vault reference "${ref}" needs <mount>/<path>, e.g. kv2:secret/rdp/web01.`, { code: 'CONFIG_INVALID', details: { provider: 'vault' } });
    }
    const version = q ? Number(new URLSearchParams(q).get('version')) : undefined;
    return { engine, mount: p!.slice(0, slash), path: p!.slice(slash + 1), ...(version ? { version } : {}) };
  }
  const r = VaultRef.safeParse(ref);
  if (!r.success) throw new ConfigError(`Vault reference is not valid: ${r.error.issues[0]!.path.join('.')} ${r.error.issues[0]!.message}.`, { code: 'CONFIG_INVALID', details: { provider: 'vault' } });
  return { ...r.data, engine: r.data.engine ?? defaultEngine };
}

const Errors = z.object({ errors: z.array(z.string()).optional() }).passthrough();
const Kv2 = z.object({ data: z.object({ data: z.record(z.string(), z.unknown()).nullable(), metadata: z.object({ created_time: z.string().optional(), version: z.number().optional(), deletion_time: z.string().optional(), destroyed: z.boolean().optional() }).passthrough() }) });
const Kv1 = z.object({ data: z.record(z.string(), z.unknown()) });
const LdapStatic = z.object({ data: z.object({ username: z.string(), password: z.string(), last_vault_rotation: z.string().optional(), dn: z.string().optional() }).passthrough() });
const LdapCheckout = z.object({ data: z.object({ service_account_name: z.string(), password: z.string() }).passthrough(), lease_id: z.string().optional() });
const AppRoleLogin = z.object({ auth: z.object({ client_token: z.string().min(1), lease_duration: z.number().optional() }) });

export function fromVault(options: VaultProviderOptions): Provider {
  const o = validateOptions('vault', VaultOptions, options);
  const env = o.env ?? process.env;
  const staticToken = secretFrom('vault', 'token', o.token, o.tokenEnv, env);
  if (!staticToken && !o.approle) {
    throw new ProviderError('The vault provider needs a token (tokenEnv: "VAULT_TOKEN") or AppRole credentials (approle.roleId + approle.secretIdEnv).', { code: 'CONFIG_INVALID', details: { provider: 'vault' } });
  }
  const base = o.address.replace(/\/+$/, '');
  let http: HttpClient | undefined;
  const client = () => (http ??= new HttpClient('vault', o));
  let token: Secret | undefined = staticToken;
  let login: Promise<Secret> | undefined;
  const checkedOut: Array<{ mount: string; set: string; account: string }> = [];

  const headers = (t: Secret) => ({ 'x-vault-token': t.reveal(), ...(o.namespace ? { 'x-vault-namespace': o.namespace } : {}) });

  function errorFor(res: HttpResponse, url: string, what: string): ProviderError {
    let msgs: string[] = [];
    try {
      msgs = Errors.parse(JSON.parse(res.body.toString('utf8'))).errors ?? [];
    } catch {
      /* not JSON */
    }
    const detail = msgs.filter((m) => m.length < 200).join('; ');
    const details = { provider: 'vault', url: displayUrl(url), status: res.status, ...(detail ? { vaultErrors: detail } : {}) };
    if (res.status === 404 || (res.status === 400 && /not found|does not exist/i.test(detail))) return new ProviderError(`Vault has no ${what} at ${displayUrl(url)}.`, { code: 'PROVIDER_NOT_FOUND', details });
    if (res.status === 401 || (res.status === 400 && what === 'the AppRole login')) return new ProviderError(`Vault refused credgate's credentials for ${what} (${res.status}${detail ? `: ${detail}` : ''}); check the token or AppRole.`, { code: 'PROVIDER_AUTH_FAILED', details });
    if (res.status === 403) return new ProviderError(`Vault denied ${what} at ${displayUrl(url)} (403 permission denied): the token is invalid or its policy lacks read on this path.`, { code: 'PROVIDER_AUTH_FAILED', details });
    return new ProviderError(`Vault answered ${res.status} for ${what} at ${displayUrl(url)}${detail ? ` (${detail})` : ''}.`, { code: 'PROVIDER_BAD_RESPONSE', details });
  }

  async function getToken(signal?: AbortSignal): Promise<Secret> {
    if (token) return token;
    login ??= (async () => {
      const a = o.approle!;
      const secretId = secretFrom('vault', 'approle.secretId', a.secretId, a.secretIdEnv, env);
      const url = `${base}/v1/auth/${a.mount}/login`;
      const res = await client().request({ method: 'POST', url, headers: { 'content-type': 'application/json', ...(o.namespace ? { 'x-vault-namespace': o.namespace } : {}) }, body: JSON.stringify({ role_id: a.roleId, ...(secretId ? { secret_id: secretId.reveal() } : {}) }), accept: [200] }, signal);
      if (res.status !== 200) throw errorFor(res, url, 'the AppRole login');
      const t = new Secret(client().json(res, AppRoleLogin, url).auth.client_token);
      token = t;
      return t;
    })();
    try {
      return await login;
    } finally {
      login = undefined;
    }
  }

  async function get(url: string, what: string, signal?: AbortSignal, method: 'GET' | 'POST' = 'GET', body?: string): Promise<HttpResponse> {
    const t = await getToken(signal);
    const res = await client().request({ method, url, headers: { ...headers(t), ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body } : {}) }, signal);
    if (res.status !== 200) throw errorFor(res, url, what);
    return res;
  }

  const field = (data: Record<string, unknown>, key: string, url: string, required: boolean): string | undefined => {
    const v = data[key];
    if (typeof v === 'string') return v;
    if (required) throw new ProviderError(`The Vault secret at ${displayUrl(url)} has no string field "${key}"; set usernameKey/passwordKey to its field names.`, { code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'vault', url: displayUrl(url), field: key } });
    return undefined;
  };

  return {
    name: 'vault',
    async resolve(ref: CredentialRef, { signal }: ResolveOptions = {}): Promise<FetchedCredential> {
      if (signal?.aborted) throw abortError(signal, 'The Vault request');
      const r = parseVaultRef(ref, o.engine);
      const enc = (p: string) => p.split('/').map(encodeURIComponent).join('/');
      if (r.engine === 'kv-v2') {
        const url = `${base}/v1/${enc(r.mount)}/data/${enc(r.path)}${r.version ? `?version=${r.version}` : ''}`;
        const d = client().json(await get(url, `secret ${r.mount}/${r.path}`, signal), Kv2, url).data;
        if (!d.data || d.metadata.destroyed || d.metadata.deletion_time) {
          throw new ProviderError(`The Vault secret ${r.mount}/${r.path} (version ${d.metadata.version ?? '?'}) is deleted or destroyed.`, { code: 'PROVIDER_NOT_FOUND', details: { provider: 'vault', url: displayUrl(url) } });
        }
        const username = field(d.data, o.usernameKey, url, true)!;
        const domain = field(d.data, o.domainKey, url, false);
        return {
          username, secret: new Secret(field(d.data, o.passwordKey, url, true)!), ...(domain ? { domain } : {}),
          ...(d.metadata.created_time ? { changedAt: new Date(d.metadata.created_time) } : {}),
          source: `vault kv-v2 ${r.mount}/${r.path} v${d.metadata.version ?? '?'}`,
        };
      }
      if (r.engine === 'kv-v1') {
        const url = `${base}/v1/${enc(r.mount)}/${enc(r.path)}`;
        const d = client().json(await get(url, `secret ${r.mount}/${r.path}`, signal), Kv1, url).data;
        const domain = field(d, o.domainKey, url, false);
        return { username: field(d, o.usernameKey, url, true)!, secret: new Secret(field(d, o.passwordKey, url, true)!), ...(domain ? { domain } : {}), source: `vault kv-v1 ${r.mount}/${r.path}` };
      }
      if (r.engine === 'ldap-static') {
        const url = `${base}/v1/${enc(r.mount)}/static-cred/${enc(r.path)}`;
        const d = client().json(await get(url, `LDAP static role ${r.path}`, signal), LdapStatic, url).data;
        return {
          username: d.username, secret: new Secret(d.password),
          ...(d.last_vault_rotation ? { changedAt: new Date(d.last_vault_rotation) } : {}),
          source: `vault ldap static-cred ${r.mount}/${r.path}`,
        };
      }
      const url = `${base}/v1/${enc(r.mount)}/library/${enc(r.path)}/check-out`;
      const res = client().json(await get(url, `LDAP library set ${r.path}`, signal, 'POST', '{}'), LdapCheckout, url);
      checkedOut.push({ mount: r.mount, set: r.path, account: res.data.service_account_name });
      return { username: res.data.service_account_name, secret: new Secret(res.data.password), source: `vault ldap library ${r.mount}/${r.path} (checked out)` };
    },
    async dispose() {
      // check library accounts back in, then drop the connection pool
      const items = checkedOut.splice(0);
      for (const c of items) {
        try {
          await get(`${base}/v1/${c.mount}/library/${c.set}/check-in`, `check-in of ${c.account}`, undefined, 'POST', JSON.stringify({ service_account_names: [c.account] }));
        } catch {
          // best effort: the lease expires on its own
        }
      }
      http?.dispose();
      http = undefined;
    },
    async [Symbol.asyncDispose]() {
      await this.dispose!();
    },
  };
}
