/**
 * AWS Secrets Manager, JSON 1.1 protocol signed with SigV4 (no AWS SDK: the two calls need a few
 * dozen lines, and the SDK would be a heavy lazy load). Follows the Secrets Manager API Reference:
 *   POST / with X-Amz-Target: secretsmanager.GetSecretValue, {"SecretId", "VersionStage"?} →
 *        {"ARN","Name","VersionId","SecretString","CreatedDate"}; DescribeSecret → {"LastRotatedDate","LastChangedDate"}
 *   errors: {"__type": "ResourceNotFoundException" | "AccessDeniedException" | "UnrecognizedClientException" |
 *            "InvalidSignatureException" | "DecryptionFailure" | "ThrottlingException" | "InternalServiceError", "message"}
 * SecretString is JSON {"username","password"} (RDS/AD rotation templates use these keys).
 * changedAt: the current version's CreatedDate or DescribeSecret's LastRotatedDate, the later (LastChangedDate also
 * moves on tag or description edits, so it is not a password change).
 */
import { z } from 'zod';
import { Secret } from '../core/secret.js';
import { ConfigError, ProviderError, abortError, type ErrorCode } from '../core/errors.js';
import type { CredentialRef, FetchedCredential } from '../core/credential.js';
import type { Provider, ResolveOptions } from './types.js';
import { HttpClient, displayUrl } from './http.js';
import { httpOptionsSchema, secretFrom, secretInput, validateOptions } from './options.js';
import { signRequest } from './sigv4.js';

const Options = z.object({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-central-1'),
  endpoint: z.string().url().optional(),
  accessKeyId: z.string().min(1).optional(),
  secretAccessKey: secretInput.optional(),
  secretAccessKeyEnv: z.string().optional(),
  sessionTokenEnv: z.string().optional(),
  usernameKey: z.string().default('username'),
  passwordKey: z.string().default('password'),
  describe: z.boolean().default(true),
  env: z.record(z.string(), z.string().optional()).optional(),
  ...httpOptionsSchema,
}).strict();
export type AwsSecretsManagerOptions = z.input<typeof Options>;

const GetValue = z.object({ Name: z.string().optional(), VersionId: z.string().optional(), SecretString: z.string().optional(), CreatedDate: z.number().optional() }).passthrough();
const Describe = z.object({ LastRotatedDate: z.number().optional(), LastChangedDate: z.number().optional() }).passthrough();
const Err = z.object({ __type: z.string(), message: z.string().optional(), Message: z.string().optional() }).passthrough();

const AWS_ERRORS: Record<string, ErrorCode> = {
  ResourceNotFoundException: 'PROVIDER_NOT_FOUND',
  AccessDeniedException: 'PROVIDER_FORBIDDEN',
  UnrecognizedClientException: 'PROVIDER_AUTH_FAILED',
  InvalidSignatureException: 'PROVIDER_AUTH_FAILED',
  ExpiredTokenException: 'PROVIDER_AUTH_FAILED',
  IncompleteSignature: 'PROVIDER_AUTH_FAILED',
  DecryptionFailure: 'PROVIDER_FORBIDDEN',
  ThrottlingException: 'PROVIDER_RATE_LIMITED',
  InternalServiceError: 'PROVIDER_UNAVAILABLE',
  InvalidParameterException: 'PROVIDER_BAD_RESPONSE',
  InvalidRequestException: 'PROVIDER_BAD_RESPONSE',
};

export function fromAwsSecretsManager(options: AwsSecretsManagerOptions): Provider {
  const o = validateOptions('aws-secrets-manager', Options, options);
  const env = o.env ?? process.env;
  const accessKeyId = o.accessKeyId ?? env.AWS_ACCESS_KEY_ID;
  const secretKey = secretFrom('aws-secrets-manager', 'secretAccessKey', o.secretAccessKey, o.secretAccessKeyEnv ?? (env.AWS_SECRET_ACCESS_KEY ? 'AWS_SECRET_ACCESS_KEY' : undefined), env);
  const sessionToken = secretFrom('aws-secrets-manager', 'sessionToken', undefined, o.sessionTokenEnv ?? (env.AWS_SESSION_TOKEN ? 'AWS_SESSION_TOKEN' : undefined), env);
  if (!accessKeyId || !secretKey) {
    throw new ConfigError('The aws-secrets-manager provider needs accessKeyId and secretAccessKeyEnv (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).', { code: 'CONFIG_INVALID', details: { provider: 'aws-secrets-manager' } });
  }
  const endpoint = (o.endpoint ?? `https://secretsmanager.${o.region}.amazonaws.com`).replace(/\/+$/, '') + '/';
  let http: HttpClient | undefined;
  let disposed = false;
  // a call still in flight when dispose() ran must not open a new pool behind its back
  const client = (): HttpClient => {
    if (disposed) throw new ProviderError('The aws-secrets-manager provider was disposed; create a new one with fromAwsSecretsManager().', { code: 'PROVIDER_UNAVAILABLE', details: { provider: 'aws-secrets-manager' } });
    return (http ??= new HttpClient('aws-secrets-manager', o));
  };

  const throttled = (r: { status: number; body: Buffer }) => r.status === 400 && /"__type"\s*:\s*"[^"]*ThrottlingException"/.test(r.body.toString('utf8', 0, 512));

  async function call<T extends z.ZodTypeAny>(target: string, body: object, schema: T, signal?: AbortSignal): Promise<z.infer<T>> {
    const json = JSON.stringify(body);
    const signed = signRequest({
      method: 'POST', url: endpoint, body: json, region: o.region, service: 'secretsmanager',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `secretsmanager.${target}` },
      accessKeyId: accessKeyId!, secretAccessKey: secretKey!.reveal(), ...(sessionToken ? { sessionToken: sessionToken.reveal() } : {}),
    });
    // AWS throttles with 400 ThrottlingException (not 429): retried with backoff like a 429
    const res = await client().request({ method: 'POST', url: endpoint, headers: signed.headers, body: json, retryable: throttled }, signal);
    if (res.status === 200) return client().json(res, schema, endpoint);
    let type = '';
    try {
      type = Err.parse(JSON.parse(res.body.toString('utf8'))).__type.replace(/^.*#/, '');
    } catch {
      /* not an AWS error body */
    }
    const code = AWS_ERRORS[type] ?? (res.status >= 500 ? 'PROVIDER_UNAVAILABLE' : 'PROVIDER_BAD_RESPONSE');
    throw new ProviderError(`AWS Secrets Manager ${target} answered ${res.status}${type ? ` ${type}` : ''} at ${displayUrl(endpoint)}.`, { code, details: { provider: 'aws-secrets-manager', status: res.status, ...(type ? { awsError: type } : {}) } });
  }

  return {
    name: 'aws-secrets-manager',
    async resolve(ref: CredentialRef, { signal }: ResolveOptions = {}): Promise<FetchedCredential> {
      if (disposed) throw new ProviderError('The aws-secrets-manager provider was disposed; create a new one with fromAwsSecretsManager().', { code: 'PROVIDER_UNAVAILABLE', details: { provider: 'aws-secrets-manager' } });
      if (signal?.aborted) throw abortError(signal, 'The Secrets Manager request');
      const id = typeof ref === 'string' ? ref : String((ref as Record<string, unknown>).secretId ?? '');
      if (!id) throw new ConfigError('An aws-secrets-manager reference is the secret name or ARN.', { code: 'CONFIG_INVALID' });
      const stage = typeof ref === 'object' && typeof (ref as Record<string, unknown>).versionStage === 'string' ? String((ref as Record<string, unknown>).versionStage) : undefined;
      const [v, d] = await Promise.all([
        call('GetSecretValue', { SecretId: id, ...(stage ? { VersionStage: stage } : {}) }, GetValue, signal),
        o.describe ? call('DescribeSecret', { SecretId: id }, Describe, signal).catch(() => undefined) : Promise.resolve(undefined),
      ]);
      if (v.SecretString === undefined) throw new ProviderError(`The secret ${id} has no SecretString (binary secrets are not credentials).`, { code: 'PROVIDER_UNSUPPORTED', details: { provider: 'aws-secrets-manager' } });
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(v.SecretString) as Record<string, unknown>;
      } catch {
        throw new ProviderError(`The secret ${id} is not JSON; store {"${o.usernameKey}": ..., "${o.passwordKey}": ...}.`, { code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'aws-secrets-manager' } });
      }
      const user = data[o.usernameKey];
      const pw = data[o.passwordKey];
      if (typeof user !== 'string' || typeof pw !== 'string') {
        throw new ProviderError(`The secret ${id} lacks string keys "${o.usernameKey}" and "${o.passwordKey}".`, { code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'aws-secrets-manager' } });
      }
      const times = [v.CreatedDate, d?.LastRotatedDate].filter((x): x is number => typeof x === 'number');
      return {
        username: user, secret: new Secret(pw), ...(typeof data.domain === 'string' ? { domain: data.domain } : {}),
        ...(times.length ? { changedAt: new Date(Math.max(...times) * 1000) } : {}),
        source: `aws-secrets-manager ${v.Name ?? id}${v.VersionId ? ` (${v.VersionId})` : ''}`,
      };
    },
    /** Closes the connection pool and forgets any token. Idempotent; a later resolve fails with PROVIDER_UNAVAILABLE. */
    dispose() {
      disposed = true;
      http?.dispose();
      http = undefined;
    },
  };
}
