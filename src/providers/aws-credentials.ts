/**
 * AWS credentials for aws-secrets-manager: the standard chain, in the AWS SDKs' order, moving on only
 * when a source is not configured (a configured source that fails stops the chain with its own error):
 *   1. the options' keys (accessKeyId + secretAccessKey[Env], sessionToken[Env])
 *   2. environment: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
 *   3. the profile (option, AWS_PROFILE, or "default") in AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) and
 *      AWS_CONFIG_FILE (~/.aws/config): static keys, credential_process (run through the shell, stdout
 *      {"Version":1,"AccessKeyId","SecretAccessKey","SessionToken","Expiration"}), IAM Identity Center (SSO:
 *      the token cached by `aws sso login` in ~/.aws/sso/cache/<sha1 of sso_session or sso_start_url>.json, then
 *      GET https://portal.sso.<region>.amazonaws.com/federation/credentials with x-amz-sso_bearer_token), or
 *      web_identity_token_file + role_arn
 *   4. web identity from the environment (EKS IRSA): AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 *   5. the container endpoint (ECS, EKS Pod Identity), then 6. EC2 IMDSv2 (aws-remote.ts)
 * or a caller's function `credentials: () => Promise<{ accessKeyId, secretAccessKey, sessionToken?, expiration? }>`
 * (the AWS SDK's AwsCredentialIdentityProvider, so fromNodeProviderChain() etc. work as is), or
 * `credentials: "aws-sdk"`: @aws-sdk/credential-providers' fromNodeProviderChain, loaded only then.
 * Temporary credentials are cached until five minutes before they expire.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { z } from 'zod';
import { loadZod, once } from '../core/lazy.js';
import { ConfigError, ProviderError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';
import { displayUrl, type HttpClient } from './http.js';
import { importOptional } from './optional-package.js';
import { secretFrom } from './options.js';
import { containerCredentials, imdsCredentials, webIdentity } from './aws-remote.js';

export type { AwsCredentials } from './aws-remote.js';
import type { AwsCredentials } from './aws-remote.js';
/** The AWS SDK's credential provider shape. */
export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

const P = 'aws-secrets-manager';
const cfg = (message: string, option?: string) => new ConfigError(message, { code: 'CONFIG_INVALID', details: { provider: P, ...(option ? { option } : {}) } });

export interface ChainOptions {
  region: string;
  accessKeyId?: string | undefined; secretAccessKey?: string | Secret | undefined; secretAccessKeyEnv?: string | undefined; sessionToken?: string | Secret | undefined; sessionTokenEnv?: string | undefined;
  credentials?: AwsCredentialsProvider | 'chain' | 'aws-sdk' | undefined;
  profile?: string | undefined; imdsEndpoint?: string | undefined; containerEndpoint?: string | undefined; stsEndpoint?: string | undefined; ssoEndpoint?: string | undefined;
  timeoutMs?: number | undefined;
  env?: Record<string, string | undefined> | undefined;
}

/** An INI file's sections (AWS's shared config format): name → key → value; nested sub-properties skipped. */
export function parseIni(text: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  let cur: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*([#;]|$)/.test(raw) || /^\s/.test(raw)) continue;
    const sec = /^\[\s*([^\]]+?)\s*\]/.exec(raw);
    if (sec) {
      out.set(sec[1]!.replace(/\s+/g, ' '), (cur = out.get(sec[1]!) ?? {}));
      continue;
    }
    const kv = /^([^=]+?)\s*=\s*(.*?)\s*$/.exec(raw);
    if (kv && cur) cur[kv[1]!.trim().toLowerCase()] = kv[2]!;
  }
  return out;
}

/** The merged settings of `profile` from the credentials and config files (credentials win), or undefined. */
function readProfile(env: Record<string, string | undefined>, home: string | undefined, profile: string): { s: Record<string, string>; config: Map<string, Record<string, string>> } | undefined {
  const read = (f: string | undefined) => {
    try {
      return f ? parseIni(fs.readFileSync(f, 'utf8')) : new Map<string, Record<string, string>>();
    } catch {
      return new Map<string, Record<string, string>>();
    }
  };
  const credentials = read(env.AWS_SHARED_CREDENTIALS_FILE ?? (home ? path.join(home, '.aws', 'credentials') : undefined));
  const config = read(env.AWS_CONFIG_FILE ?? (home ? path.join(home, '.aws', 'config') : undefined));
  const c = config.get(profile === 'default' ? 'default' : `profile ${profile}`) ?? (profile === 'default' ? config.get('profile default') : undefined);
  const k = credentials.get(profile);
  return c || k ? { s: { ...c, ...k }, config } : undefined;
}

/** The zod schemas of this module, made (and zod loaded) when first used. */
const schemas = once(() => {
  const { z } = loadZod();
  const ProcessOut = z.object({ Version: z.literal(1), AccessKeyId: z.string().min(1), SecretAccessKey: z.string().min(1), SessionToken: z.string().optional(), Expiration: z.string().optional() }).passthrough();
  const SsoCache = z.object({ accessToken: z.string().min(1), expiresAt: z.string() }).passthrough();
  const SsoRole = z.object({ roleCredentials: z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1), sessionToken: z.string().optional(), expiration: z.number().optional() }) });
  return { ProcessOut, SsoCache, SsoRole };
});
type Schemas = ReturnType<typeof schemas>;

/** credential_process: the command run by the shell (as the AWS CLI does), bounded in time; its stderr is not shown. */
function runProcess(command: string, profile: string, timeoutMs: number, signal?: AbortSignal): Promise<AwsCredentials> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, { shell: true, stdio: ['ignore', 'pipe', 'ignore'], ...(signal ? { signal } : {}) });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out.length < 1 << 20 ? (out += d.toString('utf8')) : child.kill('SIGKILL')));
    child.on('error', () => undefined);
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      const fail = (why: string) => reject(new ProviderError(`The credential_process of AWS profile ${profile} ${why}; run it by hand to see why.`, { code: 'PROVIDER_AUTH_FAILED', details: { provider: P, profile } }));
      if (signal?.aborted) return reject(signal.reason);
      if (code !== 0) return fail(sig ? `was stopped (${sig}${sig === 'SIGKILL' ? `, over ${timeoutMs} ms or 1 MiB` : ''})` : `exited with ${code}`);
      let parsed: z.infer<Schemas['ProcessOut']>;
      try {
        parsed = schemas().ProcessOut.parse(JSON.parse(out));
      } catch {
        return fail('did not print {"Version": 1, "AccessKeyId", "SecretAccessKey", ...} (its output is not shown)');
      }
      resolve({ accessKeyId: parsed.AccessKeyId, secretAccessKey: parsed.SecretAccessKey, ...(parsed.SessionToken ? { sessionToken: parsed.SessionToken } : {}), ...(parsed.Expiration ? { expiration: new Date(parsed.Expiration) } : {}) });
    });
  });
}


async function sso(client: HttpClient, s: Record<string, string>, config: Map<string, Record<string, string>>, home: string | undefined, profile: string, endpoint: string | undefined, signal?: AbortSignal): Promise<AwsCredentials> {
  const session = s.sso_session ? config.get(`sso-session ${s.sso_session}`) : undefined;
  const startUrl = session?.sso_start_url ?? s.sso_start_url;
  const region = session?.sso_region ?? s.sso_region;
  if (!startUrl || !region || !s.sso_account_id || !s.sso_role_name) throw cfg(`AWS profile ${profile} is an SSO profile without sso_start_url, sso_region, sso_account_id or sso_role_name.`, 'profile');
  const key = crypto.createHash('sha1').update(s.sso_session ?? startUrl).digest('hex');
  const file = path.join(home ?? os.homedir(), '.aws', 'sso', 'cache', `${key}.json`);
  let cached: z.infer<Schemas['SsoCache']>;
  try {
    cached = schemas().SsoCache.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch {
    throw new ProviderError(`No usable IAM Identity Center (SSO) login for AWS profile ${profile}; run \`aws sso login --profile ${profile}\`.`, { code: 'PROVIDER_AUTH_FAILED', details: { provider: P, profile } });
  }
  if (Date.parse(cached.expiresAt) <= Date.now()) throw new ProviderError(`The IAM Identity Center (SSO) login of AWS profile ${profile} expired at ${cached.expiresAt}; run \`aws sso login --profile ${profile}\`.`, { code: 'PROVIDER_AUTH_FAILED', details: { provider: P, profile } });
  const url = `${(endpoint ?? `https://portal.sso.${region}.amazonaws.com`).replace(/\/+$/, '')}/federation/credentials?role_name=${encodeURIComponent(s.sso_role_name)}&account_id=${encodeURIComponent(s.sso_account_id)}`;
  const res = await client.request({ url, headers: { 'x-amz-sso_bearer_token': cached.accessToken } }, signal);
  if (res.status !== 200) {
    throw new ProviderError(`IAM Identity Center refused role ${s.sso_role_name} in account ${s.sso_account_id} for AWS profile ${profile} (${res.status}); ${res.status === 401 ? `run \`aws sso login --profile ${profile}\`` : 'check that your SSO user is assigned that permission set'}.`, { code: res.status >= 500 ? 'PROVIDER_UNAVAILABLE' : 'PROVIDER_AUTH_FAILED', details: { provider: P, profile, url: displayUrl(url), status: res.status } });
  }
  const r = client.json(res, schemas().SsoRole, url).roleCredentials;
  return { accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey, ...(r.sessionToken ? { sessionToken: r.sessionToken } : {}), ...(r.expiration ? { expiration: new Date(r.expiration) } : {}) };
}

export interface AwsCredentialSource {
  get(signal?: AbortSignal): Promise<AwsCredentials & { from: string }>;
  /** Secrets seen so far (keys, session tokens), for scrubbing. */
  secrets(): string[];
  /** Forget cached temporary credentials (after ExpiredTokenException). */
  reset(): void;
}

/** The credential source the options ask for. Static keys are checked now; everything else at the first get(). */
export function awsCredentialSource(o: ChainOptions, client: () => HttpClient): AwsCredentialSource {
  const env = o.env ?? process.env;
  const home = env.HOME ?? env.USERPROFILE ?? (o.env ? undefined : os.homedir());
  const secretKey = secretFrom(P, 'secretAccessKey', o.secretAccessKey, o.secretAccessKeyEnv, env);
  const sessionToken = secretFrom(P, 'sessionToken', o.sessionToken, o.sessionTokenEnv, env);
  if ((o.accessKeyId === undefined) !== (secretKey === undefined)) throw cfg('The aws-secrets-manager provider needs accessKeyId and secretAccessKeyEnv together (or neither, for the credential chain: environment, profile, web identity, container, EC2 instance).', o.accessKeyId ? 'secretAccessKeyEnv' : 'accessKeyId');
  const seen = new Set<string>();
  let cached: (AwsCredentials & { from: string }) | undefined;
  let inflight: Promise<AwsCredentials & { from: string }> | undefined;
  let sdk: AwsCredentialsProvider | undefined;
  const caller = typeof o.credentials === 'function' ? o.credentials : undefined;
  const timeoutMs = o.timeoutMs ?? 15_000;

  async function chain(signal?: AbortSignal): Promise<AwsCredentials & { from: string }> {
    if (o.accessKeyId && secretKey) return { accessKeyId: o.accessKeyId, secretAccessKey: secretKey.reveal(), ...(sessionToken ? { sessionToken: sessionToken.reveal() } : {}), from: 'options' };
    if (caller || o.credentials === 'aws-sdk') {
      const fn = caller ?? (sdk ??= (await importOptional<{ fromNodeProviderChain: (i?: object) => AwsCredentialsProvider }>('@aws-sdk/credential-providers', P, 'leave credentials unset for credgate\'s own chain')).fromNodeProviderChain(o.profile ? { profile: o.profile } : {}));
      let c: AwsCredentials;
      try {
        c = await fn();
      } catch (e) {
        throw new ProviderError(`The ${caller ? 'caller\'s' : 'AWS SDK\'s'} credentials provider failed (${e instanceof Error ? e.name : 'error'}).`, { code: 'PROVIDER_AUTH_FAILED', details: { provider: P } });
      }
      if (!c?.accessKeyId || !c.secretAccessKey) throw new ProviderError('The credentials provider returned no accessKeyId / secretAccessKey.', { code: 'PROVIDER_AUTH_FAILED', details: { provider: P } });
      return { ...c, from: caller ? 'the caller\'s provider' : '@aws-sdk/credential-providers' };
    }
    if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}), from: 'environment' };
    const profile = o.profile ?? env.AWS_PROFILE ?? 'default';
    const pr = readProfile(env, home, profile);
    if (!pr && (o.profile ?? env.AWS_PROFILE)) throw cfg(`AWS profile ${profile} is in neither the credentials nor the config file.`, 'profile');
    if (pr) {
      const s = pr.s;
      if (s.aws_access_key_id && s.aws_secret_access_key) return { accessKeyId: s.aws_access_key_id, secretAccessKey: s.aws_secret_access_key, ...(s.aws_session_token ? { sessionToken: s.aws_session_token } : {}), from: `profile ${profile}` };
      if (s.credential_process) return { ...(await runProcess(s.credential_process, profile, Math.min(timeoutMs, 60_000), signal)), from: `profile ${profile} (credential_process)` };
      if (s.sso_session || s.sso_start_url) return { ...(await sso(client(), s, pr.config, home, profile, o.ssoEndpoint ?? env.AWS_ENDPOINT_URL_SSO, signal)), from: `profile ${profile} (IAM Identity Center)` };
      if (s.role_arn && s.web_identity_token_file) return { ...(await webIdentity(client(), { stsEndpoint: sts(), roleArn: s.role_arn, tokenFile: s.web_identity_token_file, ...(s.role_session_name ? { sessionName: s.role_session_name } : {}) }, signal)), from: `profile ${profile} (web identity)` };
      if (s.role_arn) throw new ProviderError(`AWS profile ${profile} assumes a role from source_profile/credential_source, which credgate's own chain does not do; set credentials: "aws-sdk" (with @aws-sdk/credential-providers installed) or use credential_process.`, { code: 'PROVIDER_UNSUPPORTED', details: { provider: P, profile } });
      if (o.profile ?? env.AWS_PROFILE) throw cfg(`AWS profile ${profile} has no credentials (keys, credential_process, SSO or web identity).`, 'profile');
    }
    if (env.AWS_WEB_IDENTITY_TOKEN_FILE && env.AWS_ROLE_ARN) return { ...(await webIdentity(client(), { stsEndpoint: sts(), roleArn: env.AWS_ROLE_ARN, tokenFile: env.AWS_WEB_IDENTITY_TOKEN_FILE, ...(env.AWS_ROLE_SESSION_NAME ? { sessionName: env.AWS_ROLE_SESSION_NAME } : {}) }, signal)), from: 'web identity (AWS_WEB_IDENTITY_TOKEN_FILE)' };
    if (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI) return { ...(await containerCredentials(client(), env, o.containerEndpoint ?? 'http://169.254.170.2', signal)), from: 'the container credentials endpoint' };
    const imds = o.imdsEndpoint ?? env.AWS_EC2_METADATA_SERVICE_ENDPOINT ?? 'http://169.254.169.254';
    const c = env.AWS_EC2_METADATA_DISABLED === 'true' ? undefined : await imdsCredentials(client(), imds, signal);
    if (c) return { ...c, from: 'the EC2 instance profile (IMDSv2)' };
    throw cfg(`No AWS credentials found: not in the options nor the environment (AWS_ACCESS_KEY_ID), no profile ${profile} in the AWS files, no web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN), no container endpoint, and no EC2 instance metadata ${env.AWS_EC2_METADATA_DISABLED === 'true' ? '(AWS_EC2_METADATA_DISABLED)' : `at ${imds}`}.`, 'credentials');
  }
  const sts = () => o.stsEndpoint ?? env.AWS_ENDPOINT_URL_STS ?? `https://sts.${o.region}.amazonaws.com`;

  return {
    async get(signal) {
      if (cached && (!cached.expiration || cached.expiration.getTime() - 5 * 60_000 > Date.now())) return cached;
      inflight ??= chain(signal).then((c) => {
        for (const x of [c.secretAccessKey, c.sessionToken]) if (x) seen.add(x);
        return (cached = c);
      }).finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
    secrets: () => [secretKey?.reveal(), sessionToken?.reveal(), ...seen].filter((x): x is string => typeof x === 'string'),
    reset() {
      if (cached?.from !== 'options') cached = undefined;
    },
  };
}

