/**
 * Delinea (formerly Thycotic) Secret Server, REST API v1. Follows Delinea's documents
 * "Secret Server REST API" / "Script Authentication Using Tokens":
 *   token: POST <base>/oauth2/token, form body grant_type=password&username=&password=[&domain=]
 *          (or grant_type=client_credentials&client_id=&client_secret= for SDK clients / Platform service
 *          accounts) → {"access_token","token_type":"bearer","expires_in"}; a refused login is
 *          400 {"error":"invalid_grant"} (RFC 6749 §5.2).
 *   secret: GET <base>/api/v1/secrets/{id} with Authorization: Bearer <token> →
 *          {"id","name","folderId","lastPasswordChangeAttempt"?, "items":[{"fieldName","slug","itemValue","isPassword"}...]}
 *   errors: {"message","errorCode"?}; Secret Server answers a missing secret and one the account may not view
 *          alike: 400 {"errorCode":"API_AccessDenied","message":"Access Denied"}; 401/403 "Authentication failed."
 *          for a bad or expired token.
 * Fields are picked by slug (username, password, domain by default; template-specific slugs are options).
 * changedAt: the secret model (SecretModel) documents no "last successful change" field, only
 * lastPasswordChangeAttempt ("time of most recent password change attempt"), failedPasswordChangeAttempts and
 * isOutOfSync ("has failed its last password change attempt"). The attempt's time is used only when neither says
 * it failed; it is read as UTC when it carries no zone.
 */
import type { z } from 'zod';
import { loadZod, once } from '../core/lazy.js';
import { Secret, scrub } from '../core/secret.js';
import { ConfigError, ProviderError, abortError, disposedError, type ErrorCode } from '../core/errors.js';
import type { CredentialRef, FetchedCredential } from '../core/credential.js';
import type { OwnedProvider, ResolveOptions } from './types.js';
import { observed } from './observed.js';
import { HttpClient, displayUrl, type HttpResponse } from './http.js';
import { checkTransport } from './transport-rule.js';
import { httpOptionsSchema, secretFrom, secretInput, validateOptions } from './options.js';

/** The zod schemas of this module, made (and zod loaded) when first used. */
const schemas = once(() => {
  const { z } = loadZod();
  const Options = z.object({
    /** Secret Server base URL, e.g. https://pam.example.com/SecretServer or https://tenant.secretservercloud.com */
    url: z.string().url('must be the Secret Server base URL, e.g. https://pam.example.com/SecretServer'),
    grant: z.enum(['password', 'client_credentials']).default('password'),
    /** grant "password": the API user; grant "client_credentials": the client id. */
    username: z.string().min(1).optional(),
    password: secretInput().optional(),
    passwordEnv: z.string().optional(),
    /** Active Directory domain of the API user (password grant). */
    domain: z.string().optional(),
    clientId: z.string().min(1).optional(),
    clientSecret: secretInput().optional(),
    clientSecretEnv: z.string().optional(),
    /** Full token URL when it is not <url>/oauth2/token (e.g. a Delinea Platform tenant). */
    tokenUrl: z.string().url().optional(),
    usernameSlug: z.string().default('username'),
    passwordSlug: z.string().default('password'),
    domainSlug: z.string().default('domain'),
    env: z.record(z.string(), z.string().optional()).optional(),
    ...httpOptionsSchema(),
  }).strict();
  const Token = z.object({ access_token: z.string().min(1), token_type: z.string().optional(), expires_in: z.number().optional() }).passthrough();
  const Item = z.object({ slug: z.string().optional(), fieldName: z.string().optional(), itemValue: z.string().nullable().optional(), isPassword: z.boolean().optional() }).passthrough();
  const SecretBody = z.object({
    id: z.number(),
    name: z.string().optional(),
    active: z.boolean().optional(),
    items: z.array(Item),
    lastPasswordChangeAttempt: z.string().nullable().optional(),
    isOutOfSync: z.boolean().nullable().optional(),
    failedPasswordChangeAttempts: z.number().nullable().optional(),
  }).passthrough();
  const ApiError = z.object({ message: z.string().optional(), errorCode: z.string().optional(), error: z.string().optional(), error_description: z.string().optional() }).passthrough();
  return { Options, Token, Item, SecretBody, ApiError };
});
type Schemas = ReturnType<typeof schemas>;
export type DelineaOptions = z.input<Schemas['Options']>;
/** A reference for fromDelinea: the numeric secret id, as text or { secretId } / { id }. */
export type DelineaRef = string | { secretId: number | string } | { id: number | string };


/**
 * A Secret Server date-time. It writes them as ISO 8601, often without a zone ("2026-11-23T04:15:00"): such a
 * time is read as UTC, never as this machine's local time (which would shift it by the caller's zone and
 * daylight saving). Undefined when unusable, including Secret Server's "never" (0001-01-01).
 */
export function parseSecretServerTime(s: string | null | undefined): Date | undefined {
  if (!s) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(s.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec = '00', frac = '', zone] = m;
  const ms = frac ? Math.round(Number(`0${frac}`) * 1000) : 0;
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${sec}.${String(Math.min(ms, 999)).padStart(3, '0')}${!zone || zone === 'Z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`;
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) || t.getUTCFullYear() < 1900 ? undefined : t;
}

export function fromDelinea(options: DelineaOptions): OwnedProvider<DelineaRef> {
  const o = validateOptions('delinea', schemas().Options, options);
  checkTransport('delinea', { url: o.url, tokenUrl: o.tokenUrl }, o);
  const env = o.env ?? process.env;
  const base = o.url.replace(/\/+$/, '');
  const tokenUrl = o.tokenUrl ?? `${base}/oauth2/token`;
  let form: () => URLSearchParams;
  let loginSecret: Secret;
  if (o.grant === 'password') {
    const pw = secretFrom('delinea', 'password', o.password, o.passwordEnv, env);
    if (!o.username || !pw) throw new ConfigError('The delinea provider with grant "password" needs username and passwordEnv (the API user\'s password).', { code: 'CONFIG_INVALID', details: { provider: 'delinea' } });
    loginSecret = pw;
    form = () => new URLSearchParams({ grant_type: 'password', username: o.username!, password: pw.reveal(), ...(o.domain ? { domain: o.domain } : {}) });
  } else {
    const cs = secretFrom('delinea', 'clientSecret', o.clientSecret, o.clientSecretEnv, env);
    if (!o.clientId || !cs) throw new ConfigError('The delinea provider with grant "client_credentials" needs clientId and clientSecretEnv.', { code: 'CONFIG_INVALID', details: { provider: 'delinea' } });
    loginSecret = cs;
    form = () => new URLSearchParams({ grant_type: 'client_credentials', client_id: o.clientId!, client_secret: cs.reveal() });
  }

  let http: HttpClient | undefined;
  let disposed = false;
  // a call still in flight when dispose() ran must not open a new pool behind its back
  const client = (): HttpClient => {
    if (disposed) throw disposedError('delinea provider', 'create a new one with fromDelinea()', { provider: 'delinea' });
    return (http ??= new HttpClient('delinea', o));
  };
  let token: { value: Secret; until: number } | undefined;
  let login: Promise<Secret> | undefined;

  function vendorText(res: HttpResponse): { text: string; errorCode?: string; oauth?: string } {
    try {
      const e = schemas().ApiError.parse(JSON.parse(res.body.toString('utf8')));
      const text = scrub([e.error, e.error_description, e.message].filter(Boolean).join(': ').slice(0, 200), [loginSecret.reveal(), token?.value.reveal()]);
      return { text, ...(e.errorCode ? { errorCode: e.errorCode } : {}), ...(e.error ? { oauth: e.error } : {}) };
    } catch {
      return { text: '' };
    }
  }

  async function getToken(signal?: AbortSignal): Promise<Secret> {
    if (token && Date.now() < token.until) return token.value;
    login ??= (async () => {
      const body = form().toString();
      const res = await client().request({ method: 'POST', url: tokenUrl, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }, signal);
      if (res.status !== 200) {
        const v = vendorText(res);
        const code: ErrorCode = res.status === 400 || res.status === 401 || res.status === 403 ? 'PROVIDER_AUTH_FAILED' : 'PROVIDER_BAD_RESPONSE';
        throw new ProviderError(`Delinea Secret Server refused credgate's ${o.grant === 'password' ? `API user ${o.username}` : `client ${o.clientId}`} at ${displayUrl(tokenUrl)} (${res.status}${v.text ? ` ${v.text}` : ''}); check the ${o.grant === 'password' ? 'user name, password and domain' : 'client id and secret'}.`, {
          code, details: { provider: 'delinea', url: displayUrl(tokenUrl), status: res.status, ...(v.oauth ? { oauthError: v.oauth } : {}) },
        });
      }
      const t = client().json(res, schemas().Token, tokenUrl);
      const value = new Secret(t.access_token);
      // refresh a minute early; Secret Server's default token lifetime is 20 minutes
      token = { value, until: Date.now() + Math.max(0, (t.expires_in ?? 1200) - 60) * 1000 };
      return value;
    })();
    try {
      return await login;
    } finally {
      login = undefined;
    }
  }

  return observed<OwnedProvider<DelineaRef>>({
    name: 'delinea',
    async resolve(ref: CredentialRef, { signal }: ResolveOptions = {}): Promise<FetchedCredential> {
      if (disposed) throw disposedError('delinea provider', 'create a new one with fromDelinea()', { provider: 'delinea' });
      if (signal?.aborted) throw abortError(signal, 'The Delinea request');
      const raw = typeof ref === 'string' ? ref : (ref as Record<string, unknown>).secretId ?? (ref as Record<string, unknown>).id;
      const id = String(raw ?? '').trim();
      if (!/^\d+$/.test(id)) throw new ConfigError(`A delinea reference is the numeric secret id (e.g. "4711" or { secretId: 4711 }), not "${String(raw ?? '').slice(0, 40)}".`, { code: 'CONFIG_INVALID', details: { provider: 'delinea' } });
      const url = `${base}/api/v1/secrets/${id}`;
      let res: HttpResponse | undefined;
      for (let attempt = 0; attempt < 2; attempt++) {
        const cached = token !== undefined && Date.now() < token.until;
        const t = await getToken(signal);
        res = await client().request({ url, headers: { authorization: `Bearer ${t.reveal()}` } }, signal);
        // a cached token the server no longer accepts (expired, revoked): log in once more, then report
        if ((res.status === 401 || res.status === 403) && attempt === 0 && cached) {
          token = undefined;
          continue;
        }
        break;
      }
      if (res!.status === 200) {
        const s = client().json(res!, schemas().SecretBody, url);
        const pick = (slug: string) => s.items.find((i) => i.slug === slug) ?? s.items.find((i) => i.fieldName?.toLowerCase() === slug.toLowerCase());
        const pw = pick(o.passwordSlug);
        const user = pick(o.usernameSlug);
        if (!pw?.itemValue || user?.itemValue == null) {
          throw new ProviderError(`Delinea secret ${id} has no ${!pw?.itemValue ? `"${o.passwordSlug}"` : `"${o.usernameSlug}"`} field (slugs: ${s.items.map((i) => i.slug ?? '?').join(', ')}); set passwordSlug/usernameSlug for its template.`, {
            code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'delinea', secretId: Number(id), url: displayUrl(url) },
          });
        }
        const domain = pick(o.domainSlug)?.itemValue;
        // the secret model has no "last successful change": the last attempt counts only when it did not fail
        const failed = s.isOutOfSync === true || (s.failedPasswordChangeAttempts ?? 0) > 0;
        const changed = failed ? undefined : parseSecretServerTime(s.lastPasswordChangeAttempt);
        return {
          username: user.itemValue, secret: new Secret(pw.itemValue), ...(domain ? { domain } : {}),
          ...(changed ? { changedAt: changed } : {}),
          source: `delinea secret ${id}${s.name ? ` (${s.name})` : ''}`,
        };
      }
      const v = vendorText(res!);
      const st = res!.status;
      const code: ErrorCode = st === 404 || v.errorCode === 'API_AccessDenied' ? 'PROVIDER_NOT_FOUND' : st === 401 || st === 403 ? 'PROVIDER_AUTH_FAILED' : 'PROVIDER_BAD_RESPONSE';
      const what = code === 'PROVIDER_NOT_FOUND'
        ? `Delinea Secret Server has no secret ${id} that credgate's account may view (it answers the same for missing and forbidden); check the id and the secret's permissions`
        : code === 'PROVIDER_AUTH_FAILED'
          ? `Delinea Secret Server rejected credgate's token for secret ${id}; check the API account`
          : `Delinea Secret Server answered ${st} for secret ${id}`;
      throw new ProviderError(`${what} (${st}${v.errorCode ? ` ${v.errorCode}` : ''}${v.text ? `: ${v.text}` : ''}).`, {
        code, details: { provider: 'delinea', status: st, secretId: Number(id), url: displayUrl(url), ...(v.errorCode ? { errorCode: v.errorCode } : {}) },
      });
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
