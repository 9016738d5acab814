/**
 * Microsoft Entra ID tokens for the azure-keyvault provider, one `auth` per deployment:
 *   client-secret       POST {authorityHost}/{tenant}/oauth2/v2.0/token, client_id + client_secret
 *                       ("OAuth 2.0 client credentials flow")
 *   client-certificate  the same with client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer
 *                       and a client_assertion JWT signed by the certificate's key: header alg PS256, typ JWT,
 *                       x5t#S256 (base64url SHA-256 of the DER certificate); claims aud = the token URL,
 *                       iss = sub = client id, jti, nbf, iat, exp ("application authentication certificate credentials")
 *   workload-identity   the same with the federated token file's JWT as client_assertion (AKS workload identity:
 *                       AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_AUTHORITY_HOST)
 *   managed-identity    App Service / Functions / Container Apps when IDENTITY_ENDPOINT + IDENTITY_HEADER are set:
 *                       GET {IDENTITY_ENDPOINT}?resource=&api-version=2019-08-01 with X-IDENTITY-HEADER →
 *                       {access_token, expires_on}; otherwise Azure IMDS: GET {imds}/metadata/identity/oauth2/token
 *                       ?api-version=2018-02-01&resource= with "Metadata: true" → {access_token, expires_in,
 *                       expires_on}; 400 {"error":"invalid_request","error_description":"Identity not found"}
 *                       when no (or no such) identity is assigned ("How to use managed identities ... to acquire
 *                       an access token"). Both are plain http to this machine by design (transport-rule.ts).
 *   a caller's `credential` with getToken(scopes, { abortSignal }) → { token, expiresOnTimestamp } — the
 *   TokenCredential shape of @azure/core-auth, so any @azure/identity credential works as is; or
 *   auth "azure-identity": @azure/identity's DefaultAzureCredential, loaded only then (optional package).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { z } from 'zod';
import { loadZod, once } from '../core/lazy.js';
import { ConfigError, ProviderError, type ErrorCode } from '../core/errors.js';
import { Secret, scrub } from '../core/secret.js';
import { displayUrl, type HttpClient } from './http.js';
import { importOptional } from './optional-package.js';
import { secretFrom, secretInput } from './options.js';

/** An access token as @azure/core-auth's TokenCredential returns it. */
export interface AzureAccessToken { token: string; expiresOnTimestamp: number }
/** @azure/core-auth's TokenCredential, structurally: any @azure/identity credential fits. */
export interface AzureTokenCredential {
  getToken(scopes: string | string[], options?: { abortSignal?: AbortSignal }): Promise<AzureAccessToken | null>;
}

/** The zod schemas of this module, made (and zod loaded) when first used. */
const schemas = once(() => {
  const { z } = loadZod();
  const azureAuthSchema = {
    auth: z.enum(['client-secret', 'client-certificate', 'workload-identity', 'managed-identity', 'azure-identity']).optional(),
    tenantId: z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be the directory (tenant) id or domain').optional(),
    clientId: z.string().min(1).optional(),
    clientSecret: secretInput().optional(),
    clientSecretEnv: z.string().optional(),
    authorityHost: z.string().url().optional(),
    /** PEM with the app's certificate and its private key (default AZURE_CLIENT_CERTIFICATE_PATH). */
    certificateFile: z.string().optional(),
    certificatePassphraseEnv: z.string().optional(),
    /** The federated token (default AZURE_FEDERATED_TOKEN_FILE). */
    federatedTokenFile: z.string().optional(),
    /** A user-assigned identity (one of them); the system-assigned one when absent. */
    managedIdentity: z.object({ clientId: z.string().min(1).optional(), objectId: z.string().min(1).optional(), resourceId: z.string().min(1).optional() }).strict().optional(),
    /** Azure IMDS; default http://169.254.169.254 (or AZURE_POD_IDENTITY_AUTHORITY_HOST). */
    imdsEndpoint: z.string().url().optional(),
    credential: z.custom<AzureTokenCredential>((v) => typeof v === 'object' && v !== null && typeof (v as AzureTokenCredential).getToken === 'function', 'expected a TokenCredential (an object with getToken(scopes, options))').optional(),
  };
  const EntraToken = z.object({ access_token: z.string().min(1), expires_in: z.union([z.number(), z.string()]).optional(), expires_on: z.union([z.number(), z.string()]).optional() }).passthrough();
  const EntraError = z.object({ error: z.union([z.string(), z.object({ code: z.string().optional(), message: z.string().optional() }).passthrough()]), error_description: z.string().optional() }).passthrough();
  return { azureAuthSchema, EntraToken, EntraError };
});
type Schemas = ReturnType<typeof schemas>;
export const azureAuthSchema = (): Schemas['azureAuthSchema'] => schemas().azureAuthSchema;

type AuthOptions = { [K in keyof Schemas['azureAuthSchema']]?: z.output<(Schemas['azureAuthSchema'])[K]> } & { scope: string; env?: Record<string, string | undefined> };

export interface AzureTokenSource {
  /** Who credgate is, for messages ("app 0b1c… in tenant contoso", "the managed identity"). */
  who: string;
  getToken(signal?: AbortSignal): Promise<{ token: Secret; expiresAt: number }>;
  /** Secrets held (client secret, key passphrase), for scrubbing vendor text. */
  secrets(): string[];
}


const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** The client assertion for certificate credentials, signed PS256 with the certificate's key. */
export function clientAssertion(pem: string, key: crypto.KeyObject, clientId: string, audience: string, now = Date.now()): string {
  const der = new crypto.X509Certificate(pem).raw;
  const iat = Math.floor(now / 1000);
  const head = `${b64u(JSON.stringify({ alg: 'PS256', typ: 'JWT', 'x5t#S256': b64u(crypto.createHash('sha256').update(der).digest()) }))}.${b64u(JSON.stringify({ aud: audience, iss: clientId, sub: clientId, jti: crypto.randomUUID(), nbf: iat, iat, exp: iat + 600 }))}`;
  const sig = crypto.sign('sha256', Buffer.from(head), { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST });
  return `${head}.${b64u(sig)}`;
}

/** When a token answer expires (ms): expires_on (Unix seconds) or expires_in (seconds from now); an hour if neither. */
function expiry(t: z.infer<Schemas['EntraToken']>): number {
  const on = Number(t.expires_on);
  if (Number.isFinite(on) && on > 0) return on * 1000;
  const inS = Number(t.expires_in ?? 3600);
  return Date.now() + (Number.isFinite(inS) ? inS : 3600) * 1000;
}

function readFile(file: string, option: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`The azure-keyvault provider's ${option} ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, { code: 'CONFIG_INVALID', details: { provider: 'azure-keyvault', option, path: file } });
  }
}

/** The token source the options ask for; checked when the factory runs, no I/O before the first getToken. */
export function azureTokenSource(o: AuthOptions, client: () => HttpClient): AzureTokenSource {
  const env = o.env ?? process.env;
  const cfg = (option: string, message: string) => new ConfigError(`The azure-keyvault provider ${message}`, { code: 'CONFIG_INVALID', details: { provider: 'azure-keyvault', option } });
  const caller = o.credential;
  const auth = o.auth ?? (caller ? undefined
    : o.clientSecret !== undefined || o.clientSecretEnv !== undefined || env.AZURE_CLIENT_SECRET ? 'client-secret'
      : o.certificateFile !== undefined || env.AZURE_CLIENT_CERTIFICATE_PATH ? 'client-certificate'
        : o.federatedTokenFile !== undefined || env.AZURE_FEDERATED_TOKEN_FILE ? 'workload-identity' : 'none');
  const resource = o.scope.replace(/\/\.default$/, '');
  if (caller || auth === 'azure-identity') {
    let cred: AzureTokenCredential | undefined = caller;
    return {
      who: caller ? 'the caller\'s credential' : '@azure/identity\'s DefaultAzureCredential',
      secrets: () => [],
      async getToken(signal) {
        if (!cred) {
          const m = await importOptional<{ DefaultAzureCredential: new () => AzureTokenCredential }>('@azure/identity', 'azure-keyvault', 'set auth to client-secret, client-certificate, workload-identity or managed-identity (no extra package)');
          cred = new m.DefaultAzureCredential();
        }
        let t: AzureAccessToken | null;
        try {
          t = await cred.getToken(o.scope, signal ? { abortSignal: signal } : {});
        } catch (e) {
          if (signal?.aborted) throw e;
          throw new ProviderError(`${caller ? 'The caller\'s credential' : 'DefaultAzureCredential'} could not get a token for ${o.scope} (${e instanceof Error ? e.name : 'error'}).`, { code: 'PROVIDER_AUTH_FAILED', details: { provider: 'azure-keyvault' } });
        }
        if (!t?.token) throw new ProviderError(`The token credential returned no token for ${o.scope}.`, { code: 'PROVIDER_AUTH_FAILED', details: { provider: 'azure-keyvault' } });
        return { token: new Secret(t.token), expiresAt: t.expiresOnTimestamp };
      },
    };
  }
  if (auth === 'managed-identity') return managedIdentity(o, env, resource, client);
  if (auth === 'none') throw cfg('auth', 'needs a credential: clientSecretEnv (or AZURE_CLIENT_SECRET) for the app registration\'s client secret, certificateFile, federatedTokenFile (workload identity), auth: "managed-identity", or a TokenCredential as credential.');
  const tenantId = o.tenantId ?? env.AZURE_TENANT_ID;
  const clientId = o.clientId ?? env.AZURE_CLIENT_ID;
  if (!tenantId || !/^[A-Za-z0-9.-]+$/.test(tenantId)) throw cfg('tenantId', `with auth "${auth}" needs tenantId (or AZURE_TENANT_ID): the directory (tenant) id or domain.`);
  if (!clientId) throw cfg('clientId', `with auth "${auth}" needs clientId (or AZURE_CLIENT_ID): the application (client) id.`);
  const authority = (o.authorityHost ?? env.AZURE_AUTHORITY_HOST ?? 'https://login.microsoftonline.com').replace(/\/+$/, '');
  const tokenUrl = `${authority}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;
  const held: string[] = [];
  let form: () => Record<string, string>;
  if (auth === 'client-secret') {
    const s = secretFrom('azure-keyvault', 'clientSecret', o.clientSecret, o.clientSecretEnv ?? (env.AZURE_CLIENT_SECRET ? 'AZURE_CLIENT_SECRET' : undefined), env);
    if (!s) throw cfg('clientSecretEnv', 'needs clientSecretEnv (or AZURE_CLIENT_SECRET) for the app registration\'s client secret.');
    held.push(s.reveal());
    form = () => ({ client_secret: s.reveal() });
  } else if (auth === 'client-certificate') {
    const file = o.certificateFile ?? env.AZURE_CLIENT_CERTIFICATE_PATH;
    if (!file) throw cfg('certificateFile', 'with auth "client-certificate" needs certificateFile (or AZURE_CLIENT_CERTIFICATE_PATH): a PEM with the certificate and its private key.');
    const pass = secretFrom('azure-keyvault', 'certificatePassphrase', undefined, o.certificatePassphraseEnv, env);
    if (pass) held.push(pass.reveal());
    let loaded: { pem: string; key: crypto.KeyObject } | undefined;
    form = () => {
      if (!loaded) {
        const pem = readFile(file, 'certificateFile');
        let key: crypto.KeyObject;
        try {
          key = crypto.createPrivateKey({ key: pem, format: 'pem', ...(pass ? { passphrase: pass.reveal() } : {}) });
          new crypto.X509Certificate(pem);
        } catch (e) {
          throw cfg('certificateFile', `cannot use ${file} (${(e as NodeJS.ErrnoException).code ?? 'not a PEM certificate and private key'}); give a PEM holding the certificate and its private key (and certificatePassphraseEnv for an encrypted key).`);
        }
        loaded = { pem, key };
      }
      return { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: clientAssertion(loaded.pem, loaded.key, clientId, tokenUrl) };
    };
  } else {
    const file = o.federatedTokenFile ?? env.AZURE_FEDERATED_TOKEN_FILE;
    if (!file) throw cfg('federatedTokenFile', 'with auth "workload-identity" needs federatedTokenFile (or AZURE_FEDERATED_TOKEN_FILE).');
    // re-read at every token request: the kubelet rotates the projected token
    form = () => ({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: readFile(file, 'federatedTokenFile').trim() });
  }
  const who = `app ${clientId} in tenant ${tenantId}`;
  const fix = auth === 'client-secret' ? 'check tenantId, clientId and the client secret' : auth === 'client-certificate' ? 'check tenantId, clientId and that this certificate is uploaded to the app registration' : 'check the federated credential (issuer, subject, audience) on the app registration';
  return {
    who,
    secrets: () => [...held],
    async getToken(signal) {
      const f = form();
      const body = new URLSearchParams({ client_id: clientId, scope: o.scope, grant_type: 'client_credentials', ...f }).toString();
      const res = await client().request({ method: 'POST', url: tokenUrl, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }, signal);
      if (res.status === 200) {
        const t = client().json(res, schemas().EntraToken, tokenUrl);
        return { token: new Secret(t.access_token), expiresAt: expiry(t) };
      }
      const { err, desc } = entraError(res.body, [...held, ...Object.values(f)]);
      const code: ErrorCode = res.status === 400 || res.status === 401 || res.status === 403 ? 'PROVIDER_AUTH_FAILED' : 'PROVIDER_BAD_RESPONSE';
      throw new ProviderError(`Microsoft Entra ID refused the ${auth} credentials of ${who} (${res.status}${err ? ` ${err}` : ''}${desc ? `: ${desc}` : ''}); ${fix}.`, {
        code, details: { provider: 'azure-keyvault', url: displayUrl(tokenUrl), status: res.status, ...(err ? { oauthError: err } : {}) },
      });
    },
  };
}

/** An Entra or managed-identity error body: its code and first sentence (no trace ids), scrubbed. */
function entraError(body: Buffer, secrets: string[]): { err: string; desc: string } {
  try {
    const e = schemas().EntraError.parse(JSON.parse(body.toString('utf8')));
    const err = typeof e.error === 'string' ? e.error : e.error.code ?? '';
    const text = e.error_description ?? (typeof e.error === 'object' ? e.error.message ?? '' : '');
    return { err: err.slice(0, 80), desc: scrub(text.split(/\r?\n/)[0]!.replace(/ Trace ID:.*$/, ''), secrets).slice(0, 240) };
  } catch {
    return { err: '', desc: '' };
  }
}

function managedIdentity(o: AuthOptions, env: Record<string, string | undefined>, resource: string, client: () => HttpClient): AzureTokenSource {
  const mi = o.managedIdentity ?? {};
  if (Object.keys(mi).length > 1) throw new ConfigError('The azure-keyvault provider\'s managedIdentity names one user-assigned identity: clientId, objectId or resourceId.', { code: 'CONFIG_INVALID', details: { provider: 'azure-keyvault', option: 'managedIdentity' } });
  const appService = env.IDENTITY_ENDPOINT && env.IDENTITY_HEADER ? { endpoint: env.IDENTITY_ENDPOINT, header: new Secret(env.IDENTITY_HEADER) } : undefined;
  const imds = (o.imdsEndpoint ?? env.AZURE_POD_IDENTITY_AUTHORITY_HOST ?? 'http://169.254.169.254').replace(/\/+$/, '');
  const id = mi.clientId ? `client id ${mi.clientId}` : mi.objectId ? `object id ${mi.objectId}` : mi.resourceId ? 'the user-assigned identity' : 'the system-assigned identity';
  const where = appService ? 'the App Service identity endpoint (IDENTITY_ENDPOINT)' : `Azure IMDS at ${imds}`;
  return {
    who: `the managed identity (${id})`,
    secrets: () => (appService ? [appService.header.reveal()] : []),
    async getToken(signal) {
      let url: URL;
      try {
        url = new URL(appService ? appService.endpoint : `${imds}/metadata/identity/oauth2/token`);
      } catch {
        throw new ConfigError(`The managed identity endpoint ${appService ? 'IDENTITY_ENDPOINT' : 'imdsEndpoint'} is not a URL.`, { code: 'CONFIG_INVALID', details: { provider: 'azure-keyvault', option: appService ? 'IDENTITY_ENDPOINT' : 'imdsEndpoint' } });
      }
      url.searchParams.set('api-version', appService ? '2019-08-01' : '2018-02-01');
      url.searchParams.set('resource', resource);
      if (mi.clientId) url.searchParams.set('client_id', mi.clientId);
      if (mi.objectId) url.searchParams.set(appService ? 'principal_id' : 'object_id', mi.objectId);
      if (mi.resourceId) url.searchParams.set(appService ? 'mi_res_id' : 'msi_res_id', mi.resourceId);
      // IMDS answers 404/410 while it updates and 429 when busy: retried like 5xx (Azure's guidance)
      const res = await client().request({ url: url.href, kind: 'metadata', headers: appService ? { 'x-identity-header': appService.header.reveal() } : { metadata: 'true' }, retryable: (r) => r.status === 404 || r.status === 410, returnLast: true }, signal);
      if (res.status === 200) {
        const t = client().json(res, schemas().EntraToken, url.href);
        return { token: new Secret(t.access_token), expiresAt: expiry(t) };
      }
      const { err, desc } = entraError(res.body, appService ? [appService.header.reveal()] : []);
      const code: ErrorCode = res.status === 400 || res.status === 401 || res.status === 403 ? 'PROVIDER_AUTH_FAILED' : 'PROVIDER_UNAVAILABLE';
      throw new ProviderError(`${where} refused a token for ${id} (${res.status}${err ? ` ${err}` : ''}${desc ? `: ${desc}` : ''}); check that this identity is assigned to this VM or app${mi.clientId || mi.objectId || mi.resourceId ? ' and the id is right' : ', or name a user-assigned one in managedIdentity'}.`, {
        code, details: { provider: 'azure-keyvault', url: displayUrl(url.href), status: res.status, ...(err ? { oauthError: err } : {}) },
      });
    },
  };
}
