/**
 * AWS credentials fetched over the network, for the credential chain (aws-credentials.ts):
 *   web identity (EKS IRSA): STS AssumeRoleWithWebIdentity, POST {sts}/ form Action=AssumeRoleWithWebIdentity,
 *     Version=2011-06-15, RoleArn, RoleSessionName, WebIdentityToken (the token file, re-read each time), unsigned;
 *     XML answer <Credentials><AccessKeyId/><SecretAccessKey/><SessionToken/><Expiration/></Credentials>, errors
 *     <ErrorResponse><Error><Type/><Code/><Message/></Error></ErrorResponse> (STS API Reference)
 *   container (ECS task role, EKS Pod Identity): GET http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
 *     or AWS_CONTAINER_CREDENTIALS_FULL_URI with Authorization: the token of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
 *     (re-read each time) or AWS_CONTAINER_AUTHORIZATION_TOKEN → {AccessKeyId, SecretAccessKey, Token, Expiration}
 *   EC2 IMDSv2: PUT /latest/api/token (X-aws-ec2-metadata-token-ttl-seconds: 21600) → token; GET
 *     /latest/meta-data/iam/security-credentials/ (X-aws-ec2-metadata-token) → role name; GET .../<role> →
 *     {Code: "Success", AccessKeyId, SecretAccessKey, Token, Expiration}. IMDSv1 (no token) is never used.
 * Metadata endpoints are plain http by design (transport-rule.ts); their addresses are injectable.
 */
import fs from 'node:fs';
import type { z } from 'zod';
import { loadZod, once } from '../core/lazy.js';
import { ConfigError, CredgateError, ProviderError } from '../core/errors.js';
import { scrub } from '../core/secret.js';
import { displayUrl, type HttpClient, type HttpResponse } from './http.js';

const P = 'aws-secrets-manager';
/** AWS credentials as every source gives them (static keys, or temporary ones with a session token and an expiry). */
export interface AwsCredentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date }

/** The zod schemas of this module, made (and zod loaded) when first used. */
const schemas = once(() => {
  const { z } = loadZod();
  const Remote = z.object({ AccessKeyId: z.string().min(1), SecretAccessKey: z.string().min(1), Token: z.string().optional(), Expiration: z.string().optional(), Code: z.string().optional() }).passthrough();
  return { Remote };
});
type Schemas = ReturnType<typeof schemas>;

const creds = (r: z.infer<Schemas['Remote']>): AwsCredentials => ({
  accessKeyId: r.AccessKeyId, secretAccessKey: r.SecretAccessKey, ...(r.Token ? { sessionToken: r.Token } : {}),
  ...(r.Expiration && !Number.isNaN(Date.parse(r.Expiration)) ? { expiration: new Date(r.Expiration) } : {}),
});

function readToken(file: string, what: string): string {
  try {
    const t = fs.readFileSync(file, 'utf8').trim();
    if (t) return t;
  } catch (e) {
    throw new ConfigError(`The ${what} file ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, { code: 'CONFIG_INVALID', details: { provider: P, path: file } });
  }
  throw new ConfigError(`The ${what} file ${file} is empty.`, { code: 'CONFIG_INVALID', details: { provider: P, path: file } });
}

const xmlTag = (xml: string, tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];

/** STS AssumeRoleWithWebIdentity with the token in `tokenFile`. */
export async function webIdentity(client: HttpClient, o: { stsEndpoint: string; roleArn: string; tokenFile: string; sessionName?: string }, signal?: AbortSignal): Promise<AwsCredentials> {
  const token = readToken(o.tokenFile, 'web identity token');
  const body = new URLSearchParams({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: o.roleArn, RoleSessionName: o.sessionName ?? `credgate-${Date.now()}`, WebIdentityToken: token }).toString();
  const url = `${o.stsEndpoint.replace(/\/+$/, '')}/`;
  const res = await client.request({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body }, signal);
  const xml = res.body.toString('utf8');
  if (res.status === 200) {
    const [AccessKeyId, SecretAccessKey, SessionToken, Expiration] = ['AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration'].map((t) => xmlTag(xml, t));
    if (AccessKeyId && SecretAccessKey && SessionToken) return creds({ AccessKeyId, SecretAccessKey, Token: SessionToken, ...(Expiration ? { Expiration } : {}) });
    throw new ProviderError(`STS answered AssumeRoleWithWebIdentity at ${displayUrl(url)} without credentials.`, { code: 'PROVIDER_BAD_RESPONSE', details: { provider: P, url: displayUrl(url) } });
  }
  const code = xmlTag(xml, 'Code') ?? '';
  const msg = scrub(xmlTag(xml, 'Message') ?? '', [token]).slice(0, 200);
  throw new ProviderError(`STS refused the web identity token for role ${o.roleArn} (${res.status}${code ? ` ${code}` : ''}${msg ? `: ${msg}` : ''}); check the role's trust policy (OIDC provider, audience "sts.amazonaws.com", the service account) and AWS_WEB_IDENTITY_TOKEN_FILE.`, {
    code: res.status >= 500 ? 'PROVIDER_UNAVAILABLE' : 'PROVIDER_AUTH_FAILED', details: { provider: P, url: displayUrl(url), status: res.status, ...(code ? { awsError: code } : {}) },
  });
}

function remoteFault(res: HttpResponse, where: string, url: string, fix: string): ProviderError {
  return new ProviderError(`${where} answered ${res.status} at ${displayUrl(url)}; ${fix}.`, { code: res.status >= 500 ? 'PROVIDER_UNAVAILABLE' : 'PROVIDER_AUTH_FAILED', details: { provider: P, url: displayUrl(url), status: res.status } });
}

/** The ECS / EKS Pod Identity container credentials endpoint. */
export async function containerCredentials(client: HttpClient, env: Record<string, string | undefined>, base: string, signal?: AbortSignal): Promise<AwsCredentials> {
  const rel = env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
  const url = rel ? `${base.replace(/\/+$/, '')}${rel.startsWith('/') ? '' : '/'}${rel}` : env.AWS_CONTAINER_CREDENTIALS_FULL_URI!;
  const tokenFile = env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE;
  const auth = tokenFile ? readToken(tokenFile, 'container authorization token') : env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
  const res = await client.request({ url, kind: url.startsWith('https:') ? 'vault' : 'metadata', headers: auth ? { authorization: auth } : {}, timeoutMs: 5_000 }, signal);
  if (res.status !== 200) throw remoteFault(res, 'The container credentials endpoint', url, 'check the task role (ECS) or the pod identity association (EKS)');
  return creds(client.json(res, schemas().Remote, url));
}

/** EC2 IMDSv2; undefined when no IMDS answers the token request (not on EC2). */
export async function imdsCredentials(client: HttpClient, endpoint: string, signal?: AbortSignal): Promise<AwsCredentials | undefined> {
  const base = endpoint.replace(/\/+$/, '');
  let res: HttpResponse;
  try {
    // a short, single try: off EC2 nothing answers, and the chain must not hang on it
    res = await client.request({ method: 'PUT', url: `${base}/latest/api/token`, kind: 'metadata', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' }, timeoutMs: 1_000, retries: 1 }, signal);
  } catch (e) {
    if (signal?.aborted || !(e instanceof CredgateError) || e.code !== 'PROVIDER_UNAVAILABLE') throw e;
    return undefined;
  }
  if (res.status === 403) throw new ProviderError(`EC2 IMDS at ${base} refused a session token (403): the instance metadata service is disabled for this instance.`, { code: 'PROVIDER_AUTH_FAILED', details: { provider: P, status: 403 } });
  if (res.status !== 200) throw remoteFault(res, 'EC2 IMDS', `${base}/latest/api/token`, 'IMDSv2 must answer the token request');
  const headers = { 'x-aws-ec2-metadata-token': res.body.toString('utf8').trim() };
  const listUrl = `${base}/latest/meta-data/iam/security-credentials/`;
  const list = await client.request({ url: listUrl, kind: 'metadata', headers, timeoutMs: 2_000 }, signal);
  if (list.status === 404) throw new ProviderError('This EC2 instance has no instance profile (IMDS lists no role); attach an IAM role to the instance.', { code: 'PROVIDER_AUTH_FAILED', details: { provider: P, status: 404 } });
  if (list.status !== 200) throw remoteFault(list, 'EC2 IMDS', listUrl, 'the instance profile could not be read');
  const role = list.body.toString('utf8').split('\n')[0]!.trim();
  const url = `${listUrl}${encodeURIComponent(role)}`;
  const r = await client.request({ url, kind: 'metadata', headers, timeoutMs: 2_000 }, signal);
  if (r.status !== 200) throw remoteFault(r, 'EC2 IMDS', url, `the credentials of role ${role} could not be read`);
  const c = client.json(r, schemas().Remote, url);
  if (c.Code && c.Code !== 'Success') throw new ProviderError(`EC2 IMDS reports ${c.Code.slice(0, 60)} for role ${role}.`, { code: 'PROVIDER_UNAVAILABLE', details: { provider: P } });
  return creds(c);
}
