/**
 * Azure Key Vault secrets with a Microsoft Entra ID token: client secret, client certificate, workload
 * identity, managed identity (IMDS / App Service), a caller's TokenCredential or @azure/identity
 * (azure-identity.ts). Follows:
 *   "Get Secret" (Key Vault REST API 7.4): GET {vaultUrl}/secrets/{name}/{version}?api-version=7.4 (version empty = current)
 *     → {"value","id","contentType"?,"attributes":{"enabled","created","updated","recoveryLevel"},"tags"?}
 *     (created/updated are Unix seconds); errors {"error":{"code","message","innererror"?}}: 401 Unauthorized,
 *     403 Forbidden (innererror AccessDenied / ForbiddenByRbac / ForbiddenByPolicy / SecretDisabled),
 *     404 SecretNotFound, 429 Throttled with Retry-After.
 * The username comes from a JSON secret value {"username","password"} or from a tag (default "username").
 * The authority host is configurable (sovereign clouds, Azure Stack, a local fixture).
 */
import type { z } from 'zod';
import { loadZod, once } from '../core/lazy.js';
import { Secret, scrub } from '../core/secret.js';
import { ConfigError, ProviderError, abortError, disposedError } from '../core/errors.js';
import type { CredentialRef, FetchedCredential } from '../core/credential.js';
import type { OwnedProvider, ResolveOptions } from './types.js';
import { observed } from './observed.js';
import { HttpClient, displayUrl, type HttpResponse } from './http.js';
import { checkTransport } from './transport-rule.js';
import { azureAuthSchema, azureTokenSource } from './azure-identity.js';
export type { AzureTokenCredential, AzureAccessToken } from './azure-identity.js';
import { httpOptionsSchema, validateOptions } from './options.js';

/** The zod schemas of this module, made (and zod loaded) when first used. */
const schemas = once(() => {
  const { z } = loadZod();
  const Options = z.object({
    /** https://<name>.vault.azure.net */
    vaultUrl: z.string().url('must be the vault URL, e.g. https://corp-pam.vault.azure.net'),
    ...azureAuthSchema(),
    /** OAuth scope; the vault resource's .default. */
    scope: z.string().default('https://vault.azure.net/.default'),
    apiVersion: z.string().default('7.4'),
    usernameKey: z.string().default('username'),
    passwordKey: z.string().default('password'),
    /** Tag holding the user name when the secret value is the bare password. */
    usernameTag: z.string().default('username'),
    domainTag: z.string().default('domain'),
    env: z.record(z.string(), z.string().optional()).optional(),
    ...httpOptionsSchema(),
  }).strict();
  const Bundle = z.object({
    value: z.string(),
    id: z.string().optional(),
    contentType: z.string().nullable().optional(),
    attributes: z.object({ enabled: z.boolean().optional(), created: z.number().optional(), updated: z.number().optional() }).passthrough().optional(),
    tags: z.record(z.string(), z.string()).nullable().optional(),
  }).passthrough();
  const KvError = z.object({ error: z.object({ code: z.string(), message: z.string().optional(), innererror: z.object({ code: z.string() }).passthrough().optional() }).passthrough() });
  return { Options, Bundle, KvError };
});
type Schemas = ReturnType<typeof schemas>;
export type AzureKeyVaultOptions = z.input<Schemas['Options']>;
/** A reference for fromAzureKeyVault: "name", "name/version", or { name, version? }. */
export type AzureKeyVaultRef = string | { name: string; version?: string };


const NAME = /^[0-9a-zA-Z-]{1,127}$/;

/** "name", "name/version", or { name, version? }. */
export function parseKeyVaultRef(ref: CredentialRef): { name: string; version: string } {
  let name: string;
  let version = '';
  let extra = false;
  if (typeof ref === 'string') {
    const parts = ref.split('/');
    [name = '', version = ''] = parts;
    extra = parts.length > 2;
  } else {
    const r = (typeof ref === 'object' && ref !== null ? ref : {}) as Record<string, unknown>;
    const n = r.name;
    const v = r.version;
    // only strings: anything else (numbers aside) is refused without being rendered
    name = typeof n === 'string' ? n : typeof n === 'number' ? String(n) : '';
    version = typeof v === 'string' ? v : v === undefined || v === null ? '' : '\0';
  }
  if (extra || !NAME.test(name) || (version && !/^[0-9a-zA-Z]{1,64}$/.test(version))) {
    const shown = typeof ref === 'string' ? ref.slice(0, 60) : `{ name: ${name ? `"${name.slice(0, 40)}"` : '?'} }`;
    throw new ConfigError(`An azure-keyvault reference is "<secret-name>[/<version>]" (names: 1-127 letters, digits, dashes), not ${typeof ref === 'string' ? `"${shown}"` : shown}.`, { code: 'CONFIG_INVALID', details: { provider: 'azure-keyvault' } });
  }
  return { name, version };
}

export function fromAzureKeyVault(options: AzureKeyVaultOptions): OwnedProvider<AzureKeyVaultRef> {
  const o = validateOptions('azure-keyvault', schemas().Options, options);
  checkTransport('azure-keyvault', { vaultUrl: o.vaultUrl, authorityHost: o.authorityHost ?? o.env?.AZURE_AUTHORITY_HOST }, o);
  const vault = o.vaultUrl.replace(/\/+$/, '');
  let http: HttpClient | undefined;
  let disposed = false;
  // a call still in flight when dispose() ran must not open a new pool behind its back
  const client = (): HttpClient => {
    if (disposed) throw disposedError('azure-keyvault provider', 'create a new one with fromAzureKeyVault()', { provider: 'azure-keyvault' });
    return (http ??= new HttpClient('azure-keyvault', o));
  };
  const source = azureTokenSource(o, client);
  let token: { value: Secret; until: number } | undefined;
  let login: Promise<Secret> | undefined;
  const clean = (t: string) => scrub(t, [...source.secrets(), token?.value.reveal()]).slice(0, 240);

  async function getToken(signal?: AbortSignal): Promise<Secret> {
    if (token && Date.now() < token.until) return token.value;
    login ??= (async () => {
      const t = await source.getToken(signal);
      // renewed two minutes before it expires
      token = { value: t.token, until: Math.max(Date.now(), t.expiresAt - 120_000) };
      return t.token;
    })();
    try {
      return await login;
    } finally {
      login = undefined;
    }
  }

  function fault(res: HttpResponse, name: string, url: string): ProviderError {
    let code = '';
    let inner = '';
    let msg = '';
    try {
      const e = schemas().KvError.parse(JSON.parse(res.body.toString('utf8'))).error;
      code = e.code;
      inner = e.innererror?.code ?? '';
      msg = clean(e.message ?? '');
    } catch {
      /* not a Key Vault error body */
    }
    const details = { provider: 'azure-keyvault', status: res.status, url: displayUrl(url), ...(code ? { azureError: code } : {}), ...(inner ? { innerError: inner } : {}) };
    const tail = `${res.status}${code ? ` ${code}` : ''}${inner ? `/${inner}` : ''}${msg ? `: ${msg}` : ''}`;
    if (res.status === 404) return new ProviderError(`Azure Key Vault ${displayUrl(vault)} has no secret ${name} (${tail}).`, { code: 'PROVIDER_NOT_FOUND', details });
    if (res.status === 401) return new ProviderError(`Azure Key Vault ${displayUrl(vault)} rejected credgate's token (${tail}); check the tenant and that the token's scope is the vault's.`, { code: 'PROVIDER_AUTH_FAILED', details });
    if (res.status === 403) {
      return new ProviderError(inner === 'SecretDisabled'
        ? `The Key Vault secret ${name} is disabled (${tail}); enable it or use another version.`
        : `Azure Key Vault denied ${source.who} reading secret ${name} (${tail}); grant it "Key Vault Secrets User" (RBAC) or a get-secret access policy.`, { code: 'PROVIDER_FORBIDDEN', details });
    }
    return new ProviderError(`Azure Key Vault answered ${tail} for secret ${name}.`, { code: 'PROVIDER_BAD_RESPONSE', details });
  }

  return observed<OwnedProvider<AzureKeyVaultRef>>({
    name: 'azure-keyvault',
    async resolve(ref: CredentialRef, { signal }: ResolveOptions = {}): Promise<FetchedCredential> {
      if (disposed) throw disposedError('azure-keyvault provider', 'create a new one with fromAzureKeyVault()', { provider: 'azure-keyvault' });
      if (signal?.aborted) throw abortError(signal, 'The Azure Key Vault request');
      const r = parseKeyVaultRef(ref);
      const url = `${vault}/secrets/${r.name}/${r.version}?api-version=${encodeURIComponent(o.apiVersion)}`;
      let res: HttpResponse | undefined;
      for (let attempt = 0; attempt < 2; attempt++) {
        const cached = token !== undefined && Date.now() < token.until;
        const t = await getToken(signal);
        res = await client().request({ url, headers: { authorization: `Bearer ${t.reveal()}` } }, signal);
        if (res.status === 401 && attempt === 0 && cached) {
          token = undefined; // expired or revoked: one fresh token, then report
          continue;
        }
        break;
      }
      if (res!.status !== 200) throw fault(res!, r.name, url);
      const b = client().json(res!, schemas().Bundle, url);
      let username: string | undefined;
      let password: string | undefined = b.value;
      let domain: string | undefined = b.tags?.[o.domainTag];
      const looksJson = b.contentType === 'application/json' || /^\s*\{/.test(b.value);
      if (looksJson) {
        try {
          const j = JSON.parse(b.value) as Record<string, unknown>;
          if (typeof j === 'object' && j !== null) {
            password = typeof j[o.passwordKey] === 'string' ? (j[o.passwordKey] as string) : undefined;
            if (typeof j[o.usernameKey] === 'string') username = j[o.usernameKey] as string;
            if (typeof j.domain === 'string') domain = j.domain;
          }
        } catch {
          if (b.contentType === 'application/json') throw new ProviderError(`The Key Vault secret ${r.name} says contentType application/json but its value is not JSON.`, { code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'azure-keyvault', url: displayUrl(url) } });
        }
      }
      username ??= b.tags?.[o.usernameTag];
      if (!password) throw new ProviderError(`The Key Vault secret ${r.name} is JSON without a string "${o.passwordKey}"; set passwordKey.`, { code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'azure-keyvault', url: displayUrl(url) } });
      if (!username) throw new ProviderError(`The Key Vault secret ${r.name} names no user: store {"${o.usernameKey}","${o.passwordKey}"} as its value or tag it ${o.usernameTag}=<account>.`, { code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'azure-keyvault', url: displayUrl(url) } });
      const updated = b.attributes?.updated ?? b.attributes?.created;
      const version = b.id?.split('/').pop();
      return {
        username, secret: new Secret(password), ...(domain ? { domain } : {}),
        ...(typeof updated === 'number' ? { changedAt: new Date(updated * 1000) } : {}),
        source: `azure-keyvault ${new URL(vault).host} ${r.name}${version ? `/${version}` : ''}`,
      };
    },
    /** Closes the connection pool and forgets any token. Idempotent; a later resolve fails with PROVIDER_UNAVAILABLE. */
    async dispose() {
      disposed = true;
      token = undefined;
      http?.dispose();
      http = undefined;
    },
    async [Symbol.asyncDispose]() {
      await this.dispose();
    },
  });
}
