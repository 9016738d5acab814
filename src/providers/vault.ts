/**
 * HashiCorp Vault / OpenBao. Follows the Vault HTTP API documentation:
 *   auth:  X-Vault-Token header; AppRole POST /v1/auth/<mount>/login {role_id, secret_id} → auth.client_token
 *          (https://developer.hashicorp.com/vault/api-docs/auth/approle); namespaces via X-Vault-Namespace
 *   KV v2: GET /v1/<mount>/data/<path>[?version=n] → data.data + data.metadata{created_time, version}, then
 *          GET /v1/<mount>/metadata/<path> → data{current_version, updated_time, versions{n: {created_time}}}
 *          (https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2, "Read secret version" and
 *          "Read secret metadata"); a policy may deny metadata/ while allowing data/
 *   token lease: AppRole login answers auth.lease_duration (seconds; 0 = no expiry); an expired or revoked
 *          token is answered 403 "permission denied" like a policy denial
 *   KV v1: GET /v1/<mount>/<path> → data (https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v1)
 *   LDAP secrets engine: GET /v1/<mount>/static-cred/<role> → data{username, password, last_vault_rotation};
 *          POST /v1/<mount>/library/<set>/check-out → data{service_account_name, password}; check-in on dispose
 *          (https://developer.hashicorp.com/vault/api-docs/secret/ldap)
 *   errors: {"errors": [...]}; 403 permission denied / bad token, 404 not found, 429 rate limited, 503 sealed/standby.
 * changedAt: KV v2 → the metadata's updated_time (when the newest version was written: Vault sets it only
 * when a version is added, never on a metadata-only edit); when the token may not read metadata/ (or it
 * fails), the read version's created_time, quietly. LDAP static role → last_vault_rotation.
 * Logins (AppRole, Kubernetes, JWT/OIDC, TLS certificate: vault-auth.ts): the login token is renewed
 * by logging in again before its lease runs out (at 80% of lease_duration, at most a minute early)
 * and once after a 403; a static token is never replaced.
 */
import type { z } from 'zod';
import { loadZod, once } from '../core/lazy.js';
import { Secret, scrub } from '../core/secret.js';
import { ConfigError, ProviderError, abortError, disposedError } from '../core/errors.js';
import type { CredentialRef, FetchedCredential } from '../core/credential.js';
import type { OwnedProvider, ResolveOptions } from './types.js';
import { observed } from './observed.js';
import { HttpClient, displayUrl, type HttpResponse } from './http.js';
import { httpOptionsSchema, secretFrom, secretInput, validateOptions } from './options.js';
import { checkTransport } from './transport-rule.js';
import { vaultAuthSchema, vaultLogin } from './vault-auth.js';

/** The zod schemas of this module, made (and zod loaded) when first used. */
const schemas = once(() => {
  const { z } = loadZod();
  const VaultOptions = z.object({
    address: z.string().url('must be a URL like https://vault.example.com:8200'),
    token: secretInput().optional(),
    tokenEnv: z.string().optional(),
    ...vaultAuthSchema(),
    /** Client certificate + key (PEM files): for the cert login, or a Vault that requires mTLS. */
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
    namespace: z.string().optional(),
    /** Default engine for string refs without a prefix. */
    engine: z.enum(['kv-v2', 'kv-v1', 'ldap-static', 'ldap-library']).default('kv-v2'),
    usernameKey: z.string().default('username'),
    passwordKey: z.string().default('password'),
    domainKey: z.string().default('domain'),
    env: z.record(z.string(), z.string().optional()).optional(),
    ...httpOptionsSchema(),
  }).strict();
  const VaultRef = z.object({
    engine: z.enum(['kv-v2', 'kv-v1', 'ldap-static', 'ldap-library']).optional(),
    mount: z.string().min(1),
    path: z.string().min(1),
    version: z.number().int().positive().optional(),
  });
  const Errors = z.object({ errors: z.array(z.string()).optional() }).passthrough();
  const Kv2 = z.object({ data: z.object({ data: z.record(z.string(), z.unknown()).nullable(), metadata: z.object({ created_time: z.string().optional(), version: z.number().optional(), deletion_time: z.string().optional(), destroyed: z.boolean().optional() }).passthrough() }) });
  const Kv2Metadata = z.object({ data: z.object({ current_version: z.number().int().nonnegative(), updated_time: z.string().optional(), versions: z.record(z.string(), z.object({ created_time: z.string().optional() }).passthrough()).optional() }).passthrough() });
  const Kv1 = z.object({ data: z.record(z.string(), z.unknown()) });
  const LdapStatic = z.object({ data: z.object({ username: z.string(), password: z.string(), last_vault_rotation: z.string().optional(), dn: z.string().optional() }).passthrough() });
  const LdapCheckout = z.object({ data: z.object({ service_account_name: z.string(), password: z.string() }).passthrough(), lease_id: z.string().optional() });
  const LoginAnswer = z.object({ auth: z.object({ client_token: z.string().min(1), lease_duration: z.number().optional() }) });
  return { VaultOptions, VaultRef, Errors, Kv2, Kv2Metadata, Kv1, LdapStatic, LdapCheckout, LoginAnswer };
});
type Schemas = ReturnType<typeof schemas>;
export type VaultProviderOptions = z.input<Schemas['VaultOptions']>;
/** A reference for fromVault: "[engine:]mount/path[?version=n]", or { engine?, mount, path, version? }. */
export type VaultRef = string | z.input<Schemas['VaultRef']>;


/** "kv2:secret/rdp/web01", "kv1:kv/rdp/web01", "ldap-static:ldap/svc-rdp", "ldap-library:ldap/rdp-admins", or "secret/rdp/web01". */
export function parseVaultRef(ref: CredentialRef, defaultEngine: string): { engine: string; mount: string; path: string; version?: number } {
  if (typeof ref === 'string') {
    const m = /^(kv2|kv-v2|kv1|kv-v1|ldap-static|ldap-library):(.+)$/.exec(ref);
    const engine = m ? ({ kv2: 'kv-v2', kv1: 'kv-v1' } as Record<string, string>)[m[1]!] ?? m[1]! : defaultEngine;
    const rest = (m ? m[2]! : ref).replace(/^\/+/, '');
    const [p, q] = rest.split('?');
    const slash = p!.indexOf('/');
    if (slash <= 0 || slash === p!.length - 1) {
      throw new ConfigError(`Vault reference "${shownRef(ref)}" needs <mount>/<path>, e.g. kv2:secret/rdp/web01.`, { code: 'CONFIG_INVALID', details: { provider: 'vault' } });
    }
    const vq = q ? new URLSearchParams(q).get('version') : null;
    if (vq !== null && !/^\d{1,9}$/.test(vq)) {
      throw new ConfigError(`Vault reference "${shownRef(ref)}" has version "${vq.slice(0, 20)}"; use ?version=<n> with a positive whole number.`, { code: 'CONFIG_INVALID', details: { provider: 'vault' } });
    }
    const version = vq !== null ? Number(vq) : undefined;
    return noDotSegments({ engine, mount: p!.slice(0, slash), path: p!.slice(slash + 1), ...(version ? { version } : {}) });
  }
  const r = schemas().VaultRef.safeParse(ref);
  if (!r.success) throw new ConfigError(`Vault reference is not valid: ${r.error.issues[0]!.path.map(String).join('.')} ${r.error.issues[0]!.message}.`, { code: 'CONFIG_INVALID', details: { provider: 'vault' } });
  return noDotSegments({ ...r.data, engine: r.data.engine ?? defaultEngine });
}

/** A reference as shown in a message: printable, at most 80 characters. */
function shownRef(ref: string): string {
  const t = ref.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return t.length > 80 ? `${t.slice(0, 80)}…` : t;
}

/** "." and ".." segments would be resolved away by the URL and reach another Vault endpoint: refuse them. */
function noDotSegments<T extends { mount: string; path: string }>(r: T): T {
  if ([...r.mount.split('/'), ...r.path.split('/')].some((seg) => seg === '.' || seg === '..')) {
    throw new ConfigError('A Vault reference may not contain "." or ".." path segments.', { code: 'CONFIG_INVALID', details: { provider: 'vault' } });
  }
  return r;
}


/** A Vault timestamp (RFC 3339, nanoseconds allowed) as a Date; undefined for an empty or unusable one. */
function vaultTime(s: string | undefined): Date | undefined {
  if (!s || s.startsWith('0001-01-01')) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export function fromVault(options: VaultProviderOptions): OwnedProvider<VaultRef> {
  const o = validateOptions('vault', schemas().VaultOptions, options);
  checkTransport('vault', { address: o.address }, o);
  const env = o.env ?? process.env;
  const staticToken = secretFrom('vault', 'token', o.token, o.tokenEnv, env);
  const base = o.address.replace(/\/+$/, '');
  const loginRequest = vaultLogin(o, env, base);
  if (staticToken && loginRequest) throw new ConfigError('The vault provider takes a token or a login method, not both.', { code: 'CONFIG_INVALID', details: { provider: 'vault', option: 'token' } });
  if (!staticToken && !loginRequest) {
    throw new ConfigError('The vault provider needs a token (tokenEnv: "VAULT_TOKEN") or a login: approle { roleId, secretIdEnv }, kubernetes { role }, jwt { role, jwtFile | jwtEnv } or cert { name } with certFile/keyFile.', { code: 'CONFIG_INVALID', details: { provider: 'vault' } });
  }
  let http: HttpClient | undefined;
  /** Set when dispose() starts: no new resolve from then on. */
  let disposed = false;
  /** Set when dispose() closes the pool (after the check-ins): no HTTP call from then on. */
  let closed = false;
  /** The one dispose run, which every dispose() caller awaits. */
  let disposing: Promise<void> | undefined;
  /** Library check-outs in flight: dispose waits for them, then checks their accounts in. */
  const checkingOut = new Set<Promise<unknown>>();
  const gone = (what = '') => disposedError(`vault provider${what}`, 'create a new one with fromVault()', { provider: 'vault' });
  // a call still in flight when dispose() closed the pool must not open a new pool behind its back
  const client = (): HttpClient => {
    if (closed) throw gone();
    return (http ??= new HttpClient('vault', o));
  };
  /** The token in use: the static one (never expires here), or the AppRole login's until its renewal time. */
  let token: { value: Secret; until: number; login: boolean } | undefined = staticToken ? { value: staticToken, until: Infinity, login: false } : undefined;
  let login: Promise<Secret> | undefined;
  /** What the logins sent (secret IDs, JWTs), for scrubbing. */
  const sent = new Set<string>();
  const checkedOut: Array<{ mount: string; set: string; account: string }> = [];
  /** Every secret this provider holds, for scrubbing vendor text before it goes into an error. */
  const known = () => [staticToken?.reveal(), token?.value.reveal(), ...sent];

  const headers = (t: Secret) => ({ 'x-vault-token': t.reveal(), ...(o.namespace ? { 'x-vault-namespace': o.namespace } : {}) });
  const enc = (p: string) => p.split('/').map(encodeURIComponent).join('/');

  function errorFor(res: HttpResponse, url: string, what: string): ProviderError {
    let msgs: string[] = [];
    try {
      msgs = schemas().Errors.parse(JSON.parse(res.body.toString('utf8'))).errors ?? [];
    } catch {
      /* not JSON */
    }
    // Vault's errors sometimes echo request fields: scrub what credgate knows before quoting them
    const detail = scrub(msgs.filter((m) => m.length < 200).join('; '), known()).replace(/[\r\n\t]+/g, ' ').trim().slice(0, 300);
    const details = { provider: 'vault', url: displayUrl(url), status: res.status, ...(detail ? { vaultErrors: detail } : {}) };
    if (what.endsWith(' login') && res.status >= 400 && res.status < 500 && res.status !== 429) return new ProviderError(`Vault refused credgate's ${what} at ${displayUrl(url)} (${res.status}${detail ? `: ${detail}` : ''}); check the role, the credential it presents and the auth mount.`, { code: 'PROVIDER_AUTH_FAILED', details });
    if (res.status === 404 || (res.status === 400 && /not found|does not exist/i.test(detail))) return new ProviderError(`Vault has no ${what} at ${displayUrl(url)}.`, { code: 'PROVIDER_NOT_FOUND', details });
    if (res.status === 401) return new ProviderError(`Vault refused credgate's credentials for ${what} (${res.status}${detail ? `: ${detail}` : ''}); check the token or the login.`, { code: 'PROVIDER_AUTH_FAILED', details });
    if (res.status === 403) return new ProviderError(`Vault denied ${what} at ${displayUrl(url)} (403 permission denied): the token is invalid or its policy lacks read on this path.`, { code: 'PROVIDER_AUTH_FAILED', details });
    return new ProviderError(`Vault answered ${res.status} for ${what} at ${displayUrl(url)}${detail ? ` (${detail})` : ''}.`, { code: 'PROVIDER_BAD_RESPONSE', details });
  }

  async function getToken(signal?: AbortSignal): Promise<Secret> {
    if (token && Date.now() < token.until) return token.value;
    login ??= (async () => {
      const l = loginRequest!();
      for (const x of l.secrets) sent.add(x);
      const res = await client().request({ method: 'POST', url: l.url, headers: { 'content-type': 'application/json', ...(o.namespace ? { 'x-vault-namespace': o.namespace } : {}) }, body: l.body, accept: [200] }, signal);
      if (res.status !== 200) throw errorFor(res, l.url, `${l.method} login`);
      const auth = client().json(res, schemas().LoginAnswer, l.url).auth;
      const value = new Secret(auth.client_token);
      const lease = auth.lease_duration ?? 0;
      // renew by a new login at 80% of the lease, at most a minute before it ends; 0 means no expiry
      token = { value, until: lease > 0 ? Date.now() + Math.max(lease * 0.8, lease - 60) * 1000 : Infinity, login: true };
      return value;
    })();
    try {
      return await login;
    } finally {
      login = undefined;
    }
  }

  /**
   * One authenticated call. With an AppRole token, a 403 may mean the token expired or was revoked
   * early: log in once more and repeat the call once; a second 403 is reported (no loop). A static
   * token is never replaced. `relogin: false` for side calls whose 403 is a policy answer.
   */
  async function call(url: string, signal: AbortSignal | undefined, init: { method?: 'GET' | 'POST'; body?: string; relogin?: boolean; timeoutMs?: number; retries?: number } = {}): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt++) {
      const t = await getToken(signal);
      const res = await client().request({ method: init.method ?? 'GET', url, headers: { ...headers(t), ...(init.body ? { 'content-type': 'application/json' } : {}) }, ...(init.body ? { body: init.body } : {}), ...(init.timeoutMs ? { timeoutMs: init.timeoutMs } : {}), ...(init.retries !== undefined ? { retries: init.retries } : {}) }, signal);
      if (res.status === 403 && attempt === 0 && init.relogin !== false && token?.login && token.value === t) {
        token = undefined;
        continue;
      }
      return res;
    }
  }

  async function get(url: string, what: string, signal?: AbortSignal, method: 'GET' | 'POST' = 'GET', body?: string): Promise<HttpResponse> {
    const res = await call(url, signal, { method, ...(body ? { body } : {}) });
    if (res.status !== 200) throw errorFor(res, url, what);
    return res;
  }

  /** KV v2 metadata, best effort: undefined when the policy denies it or anything else goes wrong (but an abort is an abort). */
  async function kvMetadata(mount: string, path: string, signal?: AbortSignal): Promise<z.infer<Schemas['Kv2Metadata']>['data'] | undefined> {
    const url = `${base}/v1/${enc(mount)}/metadata/${enc(path)}`;
    try {
      const res = await call(url, signal, { relogin: false, retries: 1, timeoutMs: Math.min(o.timeoutMs ?? 15_000, 5_000) });
      if (res.status !== 200) return undefined;
      return client().json(res, schemas().Kv2Metadata, url).data;
    } catch (e) {
      if (signal?.aborted) throw abortError(signal, 'The Vault request');
      return undefined;
    }
  }

  const field = (data: Record<string, unknown>, key: string, url: string, required: boolean): string | undefined => {
    const v = data[key];
    if (typeof v === 'string') return v;
    if (required) throw new ProviderError(`The Vault secret at ${displayUrl(url)} has no string field "${key}"; set usernameKey/passwordKey to its field names.`, { code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'vault', url: displayUrl(url), field: key } });
    return undefined;
  };

  const provider: OwnedProvider<VaultRef> = {
    name: 'vault',
    async resolve(ref: CredentialRef, { signal }: ResolveOptions = {}): Promise<FetchedCredential> {
      if (disposed) throw gone();
      if (signal?.aborted) throw abortError(signal, 'The Vault request');
      const r = parseVaultRef(ref, o.engine);
      if (r.engine === 'kv-v2') {
        const url = `${base}/v1/${enc(r.mount)}/data/${enc(r.path)}${r.version ? `?version=${r.version}` : ''}`;
        const d = client().json(await get(url, `secret ${r.mount}/${r.path}`, signal), schemas().Kv2, url).data;
        if (!d.data || d.metadata.destroyed || d.metadata.deletion_time) {
          throw new ProviderError(`The Vault secret ${r.mount}/${r.path} (version ${d.metadata.version ?? '?'}) is deleted or destroyed.`, { code: 'PROVIDER_NOT_FOUND', details: { provider: 'vault', url: displayUrl(url) } });
        }
        const username = field(d.data, o.usernameKey, url, true)!;
        const password = field(d.data, o.passwordKey, url, true)!;
        const domain = field(d.data, o.domainKey, url, false);
        const meta = await kvMetadata(r.mount, r.path, signal);
        // the secret's last change (its newest version's write), else the read version's own creation
        const changedAt = vaultTime(meta?.updated_time) ?? vaultTime(meta?.versions?.[String(meta.current_version)]?.created_time) ?? vaultTime(d.metadata.created_time);
        const v = d.metadata.version;
        const behind = meta && v !== undefined && meta.current_version > v ? ` (current v${meta.current_version})` : '';
        return {
          username, secret: new Secret(password), ...(domain ? { domain } : {}),
          ...(changedAt ? { changedAt } : {}),
          source: `vault kv-v2 ${r.mount}/${r.path} v${v ?? '?'}${behind}`,
        };
      }
      if (r.engine === 'kv-v1') {
        const url = `${base}/v1/${enc(r.mount)}/${enc(r.path)}`;
        const d = client().json(await get(url, `secret ${r.mount}/${r.path}`, signal), schemas().Kv1, url).data;
        const domain = field(d, o.domainKey, url, false);
        return { username: field(d, o.usernameKey, url, true)!, secret: new Secret(field(d, o.passwordKey, url, true)!), ...(domain ? { domain } : {}), source: `vault kv-v1 ${r.mount}/${r.path}` };
      }
      if (r.engine === 'ldap-static') {
        const url = `${base}/v1/${enc(r.mount)}/static-cred/${enc(r.path)}`;
        const d = client().json(await get(url, `LDAP static role ${r.path}`, signal), schemas().LdapStatic, url).data;
        const rotated = vaultTime(d.last_vault_rotation);
        return {
          username: d.username, secret: new Secret(d.password),
          ...(rotated ? { changedAt: rotated } : {}),
          source: `vault ldap static-cred ${r.mount}/${r.path}`,
        };
      }
      const url = `${base}/v1/${enc(r.mount)}/library/${enc(r.path)}/check-out`;
      // registered before the first await: a dispose() that starts while it is in flight waits for it
      // and checks the account in, so no account stays checked out
      const op = (async () => {
        const res = client().json(await get(url, `LDAP library set ${r.path}`, signal, 'POST', '{}'), schemas().LdapCheckout, url);
        checkedOut.push({ mount: r.mount, set: r.path, account: res.data.service_account_name });
        return res;
      })();
      checkingOut.add(op);
      let res: z.infer<Schemas['LdapCheckout']>;
      try {
        res = await op;
      } finally {
        checkingOut.delete(op);
      }
      // dispose() started meanwhile: the account is checked back in by it; the caller must not use it
      if (disposed) throw gone(' while the account was checked out (it is checked back in)');
      return { username: res.data.service_account_name, secret: new Secret(res.data.password), source: `vault ldap library ${r.mount}/${r.path} (checked out)` };
    },
    /**
     * Check library accounts back in, then close the connection pool and forget the token. Idempotent;
     * a resolve after dispose fails with USAGE.
     */
    dispose() {
      // disposed first: a resolve from now on fails; every caller awaits the same run, so a second
      // dispose() cannot close the pool under the check-ins
      disposed = true;
      return (disposing ??= (async () => {
        // check-outs in flight finish (each bounded by the HTTP timeout) and are checked in below
        while (checkingOut.size) await Promise.allSettled([...checkingOut]);
        const items = checkedOut.splice(0);
        for (const c of items) {
          try {
            await get(`${base}/v1/${enc(c.mount)}/library/${enc(c.set)}/check-in`, `check-in of ${c.account}`, AbortSignal.timeout(5_000), 'POST', JSON.stringify({ service_account_names: [c.account] }));
          } catch {
            // best effort: the lease expires on its own
          }
        }
        closed = true;
        token = undefined;
        http?.dispose();
        http = undefined;
      })());
    },
    async [Symbol.asyncDispose]() {
      await provider.dispose();
    },
  };
  return observed(provider);
}
