/**
 * CyberArk Central Credential Provider (CCP), the AIMWebService REST "GetPassword" call:
 *   GET https://<host>/AIMWebService/api/Accounts?AppID=<id>&Safe=<safe>&Folder=<f>&Object=<name>  (or &Query=...)
 *   200 → { "Content": "<password>", "UserName": "...", "Address": "...", "LastSuccessChange": "<epoch s>", ... }
 *   errors → { "ErrorCode": "APPAP004E", "ErrorMsg": "..." } with 400 / 403 / 404 / 500
 * Authentication is by AppID plus the client certificate (mTLS) and/or allowed machines.
 * (CyberArk docs: "Call the Web Service using REST" → GetPassword, return codes.)
 */
import type { z } from 'zod';
import { loadZod, once } from '../core/lazy.js';
import { Secret } from '../core/secret.js';
import { ConfigError, ProviderError, abortError, disposedError, type ErrorCode } from '../core/errors.js';
import type { CredentialRef, FetchedCredential } from '../core/credential.js';
import type { Provider, OwnedProvider, ResolveOptions } from './types.js';
import { observed } from './observed.js';
import { HttpClient, displayUrl } from './http.js';
import { checkTransport } from './transport-rule.js';
import { httpOptionsSchema, secretFrom, secretInput, validateOptions } from './options.js';

/** The zod schemas of this module, made (and zod loaded) when first used. */
const schemas = once(() => {
  const { z } = loadZod();
  const Options = z.object({
    url: z.string().url('must be the CCP base URL, e.g. https://ccp.example.com'),
    appId: z.string().min(1),
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
    passphrase: secretInput().optional(),
    passphraseEnv: z.string().optional(),
    safe: z.string().optional(),
    folder: z.string().optional(),
    env: z.record(z.string(), z.string().optional()).optional(),
    ...httpOptionsSchema(),
  }).strict();
  const Ok = z.object({ Content: z.string().min(1), UserName: z.string().optional(), Address: z.string().optional(), LastSuccessChange: z.union([z.string(), z.number()]).optional() }).passthrough();
  const Err = z.object({ ErrorCode: z.string(), ErrorMsg: z.string().optional() }).passthrough();
  return { Options, Ok, Err };
});
type Schemas = ReturnType<typeof schemas>;
export type CyberArkCcpOptions = z.input<Schemas['Options']>;
/** A reference for fromCyberArkCcp: "Safe/Object", a CCP query "Safe=x;Object=y", or the CCP's query parameters. */
export type CyberArkRef = string | {
  Safe?: string; Folder?: string; Object?: string; UserName?: string; Address?: string; Database?: string;
  PolicyID?: string; Reason?: string; Query?: string; QueryFormat?: string; ConnectionTimeout?: string; FailRequestOnPasswordChange?: string;
};


/**
 * CyberArk error codes → credgate codes, from the CCP "GetPassword" REST return-code table:
 * 400 AIMWS030E / AIMWS031E / APPAP081E / CASVL010E (the request itself is invalid), 400 APPAP227E /
 * APPAP228E / APPAP229E (too many objects match), 400 APPAP007E (the CCP cannot reach the Vault),
 * 403 APPAP306E (application authentication failed), 403 APPAP008E (the application user is not
 * defined), 404 APPAP004E (safe / object not found), 500 APPAP282E (the CPM is changing the password).
 */
export const CYBERARK_ERRORS: Record<string, ErrorCode> = {
  APPAP004E: 'PROVIDER_NOT_FOUND',
  APPAP227E: 'PROVIDER_BAD_RESPONSE',
  APPAP228E: 'PROVIDER_BAD_RESPONSE',
  APPAP229E: 'PROVIDER_BAD_RESPONSE',
  APPAP007E: 'PROVIDER_UNAVAILABLE',
  APPAP282E: 'PROVIDER_UNAVAILABLE',
  APPAP306E: 'PROVIDER_AUTH_FAILED',
  APPAP008E: 'PROVIDER_AUTH_FAILED',
  APPAP081E: 'CONFIG_INVALID',
  AIMWS030E: 'CONFIG_INVALID',
  AIMWS031E: 'CONFIG_INVALID',
  CASVL010E: 'CONFIG_INVALID',
};

/** What to do about each mapped CyberArk error, for the message. */
const CYBERARK_FIX: Record<string, string> = {
  APPAP004E: 'no password object matches; check the safe and object names and that the application and the Provider user are members of the safe',
  APPAP227E: 'more than one object matches; name the Object or refine the Query',
  APPAP228E: 'more than one object matches; name the Object or refine the Query',
  APPAP229E: 'more than one object matches; name the Object or refine the Query',
  APPAP007E: 'the Credential Provider cannot reach the CyberArk Vault; retry later or ask the CyberArk team',
  APPAP282E: 'the CPM is changing this password right now; retry in a minute',
  APPAP306E: 'the application was not authenticated (AppID, client certificate, allowed machines or OS user)',
  APPAP008E: 'the application is not defined in the Vault; check the AppID',
  APPAP081E: 'the request was invalid; check the reference',
  AIMWS030E: 'the query is not valid; check the reference syntax (Safe/Object or a Query such as Safe=x;Object=y)',
  AIMWS031E: 'the AppID parameter is missing',
  CASVL010E: 'the user name in the query has invalid characters',
};

export function fromCyberArkCcp(options: CyberArkCcpOptions): OwnedProvider<CyberArkRef> {
  const o = validateOptions('cyberark-ccp', schemas().Options, options);
  checkTransport('cyberark-ccp', { url: o.url }, o);
  const passphrase = secretFrom('cyberark-ccp', 'passphrase', o.passphrase, o.passphraseEnv, o.env ?? process.env);
  let http: HttpClient | undefined;
  let disposed = false;
  const { passphrase: _given, passphraseEnv: _env, ...httpOpts } = o;
  // a call still in flight when dispose() ran must not open a new pool behind its back
  const client = (): HttpClient => {
    if (disposed) throw disposedError('cyberark-ccp provider', 'create a new one with fromCyberArkCcp()', { provider: 'cyberark-ccp' });
    return (http ??= new HttpClient('cyberark-ccp', { ...httpOpts, ...(passphrase ? { passphrase: passphrase.reveal() } : {}) }));
  };
  return observed<OwnedProvider<CyberArkRef>>({
    name: 'cyberark-ccp',
    async resolve(ref: CredentialRef, { signal }: ResolveOptions = {}): Promise<FetchedCredential> {
      if (disposed) throw disposedError('cyberark-ccp provider', 'create a new one with fromCyberArkCcp()', { provider: 'cyberark-ccp' });
      if (signal?.aborted) throw abortError(signal, 'The CyberArk request');
      const q = new URLSearchParams({ AppID: o.appId });
      if (typeof ref === 'string') {
        // "Safe/Object" or a CCP query "Safe=x;Object=y"
        if (ref.includes('=')) q.set('Query', ref);
        else {
          const i = ref.indexOf('/');
          const safe = i > 0 ? ref.slice(0, i) : o.safe;
          const object = i > 0 ? ref.slice(i + 1) : ref;
          if (!safe) throw new ConfigError(`CyberArk reference "${ref.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, 80)}" needs a safe: write Safe/Object or set the provider's safe option.`, { code: 'CONFIG_INVALID', details: { provider: 'cyberark-ccp' } });
          q.set('Safe', safe);
          if (o.folder) q.set('Folder', o.folder);
          q.set('Object', object);
        }
      } else {
        // { Safe?, Folder?, Object?, UserName?, Address?, Query? }: the provider's safe/folder fill in what is missing
        const r = ref as Record<string, unknown>;
        if (typeof r.Query === 'string') q.set('Query', r.Query);
        else {
          const safe = typeof r.Safe === 'string' ? r.Safe : o.safe;
          if (safe) q.set('Safe', safe);
          const folder = typeof r.Folder === 'string' ? r.Folder : o.folder;
          if (folder) q.set('Folder', folder);
        }
        for (const [k, v] of Object.entries(r)) if (typeof v === 'string' && !['Safe', 'Folder', 'Query', 'AppID'].includes(k)) q.set(k, v);
      }
      const url = `${o.url.replace(/\/+$/, '')}/AIMWebService/api/Accounts?${q}`;
      const res = await client().request({ url, returnLast: true }, signal);
      if (res.status === 200) {
        const d = client().json(res, schemas().Ok, url);
        const epoch = d.LastSuccessChange !== undefined ? Number(d.LastSuccessChange) : NaN;
        return {
          username: d.UserName ?? '', secret: new Secret(d.Content),
          ...(Number.isFinite(epoch) && epoch > 0 ? { changedAt: new Date(epoch * 1000) } : {}),
          source: `cyberark-ccp ${q.get('Safe') ?? ''}/${q.get('Object') ?? q.get('Query') ?? ''}`,
        };
      }
      let code: ErrorCode = res.status === 404 ? 'PROVIDER_NOT_FOUND' : res.status === 403 ? 'PROVIDER_AUTH_FAILED' : res.status === 429 ? 'PROVIDER_RATE_LIMITED' : res.status === 400 ? 'PROVIDER_BAD_RESPONSE' : 'PROVIDER_UNAVAILABLE';
      let errorCode: string | undefined;
      try {
        const e = schemas().Err.parse(JSON.parse(res.body.toString('utf8')));
        errorCode = e.ErrorCode;
        code = CYBERARK_ERRORS[e.ErrorCode] ?? (e.ErrorCode.startsWith('AIMWS') ? 'PROVIDER_BAD_RESPONSE' : code);
      } catch {
        /* body is not CyberArk's error JSON */
      }
      const fix = (errorCode && CYBERARK_FIX[errorCode]) ?? (code === 'PROVIDER_NOT_FOUND' ? 'no password object matches' : code === 'PROVIDER_AUTH_FAILED' ? 'the application (AppID / client certificate / machine) was not authenticated' : '');
      const Err2 = code === 'CONFIG_INVALID' ? ConfigError : ProviderError;
      throw new Err2(`CyberArk CCP answered ${res.status}${errorCode ? ` ${errorCode}` : ''} for ${displayUrl(url)}${fix ? `: ${fix}` : ''}.`, {
        code, details: { provider: 'cyberark-ccp', status: res.status, ...(errorCode ? { errorCode } : {}), url: displayUrl(url) },
      });
    },
    /** Closes the connection pool and forgets any token. Idempotent; a later resolve fails with PROVIDER_UNAVAILABLE. */
    async dispose() {
      disposed = true;
      http?.dispose();
      http = undefined;
    },
    async [Symbol.asyncDispose]() {
      await this.dispose();
    },
  });
}
