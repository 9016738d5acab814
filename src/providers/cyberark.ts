/**
 * CyberArk Central Credential Provider (CCP), the AIMWebService REST "GetPassword" call:
 *   GET https://<host>/AIMWebService/api/Accounts?AppID=<id>&Safe=<safe>&Folder=<f>&Object=<name>  (or &Query=...)
 *   200 → { "Content": "<password>", "UserName": "...", "Address": "...", "LastSuccessChange": "<epoch s>", ... }
 *   errors → { "ErrorCode": "APPAP004E", "ErrorMsg": "..." } with 400 / 403 / 404 / 500
 * Authentication is by AppID plus the client certificate (mTLS) and/or allowed machines.
 * (CyberArk docs: "Call the Web Service using REST" → GetPassword, return codes.)
 */
import { z } from 'zod';
import { Secret } from '../core/secret.js';
import { ConfigError, ProviderError, abortError, type ErrorCode } from '../core/errors.js';
import type { CredentialRef, FetchedCredential } from '../core/credential.js';
import type { Provider, ResolveOptions } from './types.js';
import { HttpClient, displayUrl } from './http.js';
import { httpOptionsSchema, secretFrom, secretInput, validateOptions } from './options.js';

const Options = z.object({
  url: z.string().url('must be the CCP base URL, e.g. https://ccp.example.com'),
  appId: z.string().min(1),
  certFile: z.string().optional(),
  keyFile: z.string().optional(),
  passphrase: secretInput.optional(),
  passphraseEnv: z.string().optional(),
  safe: z.string().optional(),
  folder: z.string().optional(),
  env: z.record(z.string(), z.string().optional()).optional(),
  ...httpOptionsSchema,
}).strict();
export type CyberArkCcpOptions = z.input<typeof Options>;

const Ok = z.object({ Content: z.string().min(1), UserName: z.string().optional(), Address: z.string().optional(), LastSuccessChange: z.union([z.string(), z.number()]).optional() }).passthrough();
const Err = z.object({ ErrorCode: z.string(), ErrorMsg: z.string().optional() }).passthrough();

/** CyberArk error codes → credgate codes. */
export const CYBERARK_ERRORS: Record<string, ErrorCode> = {
  APPAP004E: 'PROVIDER_NOT_FOUND', // password object matching query not found
  APPAP227E: 'PROVIDER_BAD_RESPONSE', // too many objects match the query
  APPAP228E: 'PROVIDER_BAD_RESPONSE', // too many objects match the query (folder)
  APPAP306E: 'PROVIDER_AUTH_FAILED', // failed to verify application authentication data
  APPAP282E: 'PROVIDER_AUTH_FAILED', // application authentication failed (e.g. certificate / machine)
  APPAP008E: 'PROVIDER_FORBIDDEN', // provider user has no access to the safe
  APPAP013E: 'PROVIDER_FORBIDDEN', // application is not authorised / suspended
};

export function fromCyberArkCcp(options: CyberArkCcpOptions): Provider {
  const o = validateOptions('cyberark-ccp', Options, options);
  const passphrase = secretFrom('cyberark-ccp', 'passphrase', o.passphrase, o.passphraseEnv, o.env ?? process.env);
  let http: HttpClient | undefined;
  const { passphrase: _given, passphraseEnv: _env, ...httpOpts } = o;
  const client = () => (http ??= new HttpClient('cyberark-ccp', { ...httpOpts, ...(passphrase ? { passphrase: passphrase.reveal() } : {}) }));
  return {
    name: 'cyberark-ccp',
    async resolve(ref: CredentialRef, { signal }: ResolveOptions = {}): Promise<FetchedCredential> {
      if (signal?.aborted) throw abortError(signal, 'The CyberArk request');
      const q = new URLSearchParams({ AppID: o.appId });
      if (typeof ref === 'string') {
        // "Safe/Object" or a CCP query "Safe=x;Object=y"
        if (ref.includes('=')) q.set('Query', ref);
        else {
          const i = ref.indexOf('/');
          const safe = i > 0 ? ref.slice(0, i) : o.safe;
          const object = i > 0 ? ref.slice(i + 1) : ref;
          if (!safe) throw new ConfigError(`CyberArk reference "${ref}" needs a safe: write Safe/Object or set the provider's safe option.`, { code: 'CONFIG_INVALID' });
          q.set('Safe', safe);
          if (o.folder) q.set('Folder', o.folder);
          q.set('Object', object);
        }
      } else {
        for (const [k, v] of Object.entries(ref)) if (typeof v === 'string') q.set(k, v);
      }
      const url = `${o.url.replace(/\/+$/, '')}/AIMWebService/api/Accounts?${q}`;
      const res = await client().request({ url }, signal);
      if (res.status === 200) {
        const d = client().json(res, Ok, url);
        const epoch = d.LastSuccessChange !== undefined ? Number(d.LastSuccessChange) : NaN;
        return {
          username: d.UserName ?? '', secret: new Secret(d.Content),
          ...(Number.isFinite(epoch) && epoch > 0 ? { changedAt: new Date(epoch * 1000) } : {}),
          source: `cyberark-ccp ${q.get('Safe') ?? ''}/${q.get('Object') ?? q.get('Query') ?? ''}`,
        };
      }
      let code: ErrorCode = res.status === 404 ? 'PROVIDER_NOT_FOUND' : res.status === 403 ? 'PROVIDER_AUTH_FAILED' : res.status === 400 ? 'PROVIDER_BAD_RESPONSE' : 'PROVIDER_UNAVAILABLE';
      let errorCode: string | undefined;
      try {
        const e = Err.parse(JSON.parse(res.body.toString('utf8')));
        errorCode = e.ErrorCode;
        code = CYBERARK_ERRORS[e.ErrorCode] ?? (e.ErrorCode.startsWith('AIMWS') ? 'PROVIDER_BAD_RESPONSE' : code);
      } catch {
        /* body is not CyberArk's error JSON */
      }
      throw new ProviderError(`CyberArk CCP answered ${res.status}${errorCode ? ` ${errorCode}` : ''} for ${displayUrl(url)}${code === 'PROVIDER_NOT_FOUND' ? ': no password object matches' : code === 'PROVIDER_AUTH_FAILED' ? ': the application (AppID / client certificate / machine) was not authenticated' : ''}.`, {
        code, details: { provider: 'cyberark-ccp', status: res.status, ...(errorCode ? { errorCode } : {}), url: displayUrl(url) },
      });
    },
    dispose() {
      http?.dispose();
      http = undefined;
    },
  };
}
