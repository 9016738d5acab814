/**
 * AWS Secrets Manager, JSON 1.1 protocol signed with SigV4 (no AWS SDK: the two calls need a few
 * dozen lines, and the SDK would be a heavy lazy load). Follows the Secrets Manager API Reference:
 *   POST / with X-Amz-Target: secretsmanager.GetSecretValue, {"SecretId", "VersionStage"?} →
 *        {"ARN","Name","VersionId","SecretString","CreatedDate"}; DescribeSecret → {"LastRotatedDate","LastChangedDate"}
 *   errors ("Common Errors" and each operation's errors): {"__type", "message"}, HTTP 400 for
 *        ResourceNotFoundException, AccessDeniedException, DecryptionFailure, IncompleteSignature,
 *        InvalidSignatureException, UnrecognizedClientException, ExpiredTokenException, ThrottlingException;
 *        500 InternalServiceError / InternalFailure, 503 ServiceUnavailable. As the Smithy AWS JSON 1.1 protocol
 *        allows, the type may carry a namespace ("com.amazonaws.secretsmanager#X") or come only in the
 *        X-Amzn-ErrorType header with a ":<uri>" suffix; and names appear with and without "Exception".
 * Credentials: the standard AWS chain or a caller's provider (aws-credentials.ts); temporary credentials
 * (an ASIA... key) sign with the session token (X-Amz-Security-Token).
 * SecretString is JSON {"username","password"} (RDS/AD rotation templates use these keys).
 * changedAt: the current version's CreatedDate or DescribeSecret's LastRotatedDate, the later (LastChangedDate also
 * moves on tag or description edits, so it is not a password change). When DescribeSecret fails (a policy that
 * grants only GetSecretValue), the credential is still returned, without changedAt (CreatedDate alone can predate
 * the change a rotation made), and the failure is reported on the credgate:warning channel, to onWarning, and
 * in `source`. With describe: false, changedAt is CreatedDate.
 */
import type { z } from 'zod';
import { loadZod, once } from '../core/lazy.js';
import { Secret, scrub } from '../core/secret.js';
import { ConfigError, CredgateError, ProviderError, abortError, disposedError, type ErrorCode } from '../core/errors.js';
import type { CredentialRef, FetchedCredential } from '../core/credential.js';
import type { OwnedProvider, ResolveOptions } from './types.js';
import { observed } from './observed.js';
import { CHANNELS, publish } from '../core/telemetry.js';
import { HttpClient, displayUrl, type HttpResponse } from './http.js';
import { checkTransport } from './transport-rule.js';
import { awsCredentialSource, type AwsCredentialsProvider } from './aws-credentials.js';
export type { AwsCredentials, AwsCredentialsProvider } from './aws-credentials.js';
import { httpOptionsSchema, secretFrom, secretInput, validateOptions } from './options.js';
import { signRequest } from './sigv4.js';

/** A resolve that succeeded with less than usual (DescribeSecret failed: no changedAt). */
export interface AwsProviderWarning {
  code: 'aws.describe-failed';
  secretId: string;
  /** The credgate code and the AWS error type of the failure, never its text. */
  error: { code: string; awsError?: string; status?: number };
  message: string;
}

/** The zod schemas of this module, made (and zod loaded) when first used. */
const schemas = once(() => {
  const { z } = loadZod();
  const Options = z.object({
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-central-1'),
    endpoint: z.string().url().optional(),
    accessKeyId: z.string().min(1).optional(),
    secretAccessKey: secretInput().optional(),
    secretAccessKeyEnv: z.string().optional(),
    sessionToken: secretInput().optional(),
    sessionTokenEnv: z.string().optional(),
    /** A credentials provider function (the AWS SDK's shape), "aws-sdk" (@aws-sdk/credential-providers), or "chain" (default). */
    credentials: z.union([z.literal('chain'), z.literal('aws-sdk'), z.custom<AwsCredentialsProvider>((v) => typeof v === 'function', 'expected a function returning { accessKeyId, secretAccessKey, sessionToken? }')]).optional(),
    /** The shared config/credentials profile; default AWS_PROFILE, then "default". */
    profile: z.string().min(1).optional(),
    /** EC2 IMDS (default http://169.254.169.254), the ECS container endpoint base (default http://169.254.170.2), STS and IAM Identity Center endpoints. */
    imdsEndpoint: z.string().url().optional(),
    containerEndpoint: z.string().url().optional(),
    stsEndpoint: z.string().url().optional(),
    ssoEndpoint: z.string().url().optional(),
    usernameKey: z.string().default('username'),
    passwordKey: z.string().default('password'),
    describe: z.boolean().default(true),
    /** Receives a warning when DescribeSecret fails (also published on the credgate:warning channel, code aws.describe-failed). */
    onWarning: z.custom<(w: AwsProviderWarning) => void>((v) => typeof v === 'function', 'expected a function').optional(),
    env: z.record(z.string(), z.string().optional()).optional(),
    ...httpOptionsSchema(),
  }).strict();
  const GetValue = z.object({ Name: z.string().optional(), VersionId: z.string().optional(), SecretString: z.string().optional(), CreatedDate: z.number().optional() }).passthrough();
  const Describe = z.object({ LastRotatedDate: z.number().optional(), LastChangedDate: z.number().optional() }).passthrough();
  const Err = z.object({ __type: z.string().optional(), code: z.string().optional(), message: z.string().optional(), Message: z.string().optional() }).passthrough();
  return { Options, GetValue, Describe, Err };
});
type Schemas = ReturnType<typeof schemas>;
export type AwsSecretsManagerOptions = z.input<Schemas['Options']>;
/** A reference for fromAwsSecretsManager: the secret name or ARN, or { secretId, versionStage? }. */
export type AwsSecretsManagerRef = string | { secretId: string; versionStage?: string };


const AWS_ERRORS: Record<string, ErrorCode> = {
  ResourceNotFoundException: 'PROVIDER_NOT_FOUND',
  AccessDeniedException: 'PROVIDER_FORBIDDEN',
  NotAuthorized: 'PROVIDER_FORBIDDEN',
  DecryptionFailure: 'PROVIDER_FORBIDDEN',
  UnrecognizedClientException: 'PROVIDER_AUTH_FAILED',
  InvalidClientTokenId: 'PROVIDER_AUTH_FAILED',
  InvalidSignatureException: 'PROVIDER_AUTH_FAILED',
  IncompleteSignature: 'PROVIDER_AUTH_FAILED',
  MissingAuthenticationToken: 'PROVIDER_AUTH_FAILED',
  ExpiredTokenException: 'PROVIDER_AUTH_FAILED',
  RequestExpired: 'PROVIDER_AUTH_FAILED',
  ThrottlingException: 'PROVIDER_RATE_LIMITED',
  TooManyRequestsException: 'PROVIDER_RATE_LIMITED',
  InternalServiceError: 'PROVIDER_UNAVAILABLE',
  InternalFailure: 'PROVIDER_UNAVAILABLE',
  ServiceUnavailable: 'PROVIDER_UNAVAILABLE',
  InvalidParameterException: 'PROVIDER_BAD_RESPONSE',
  InvalidRequestException: 'PROVIDER_BAD_RESPONSE',
};

/** What to do, by credgate-side meaning of the AWS error. */
const AWS_FIX: Record<string, string> = {
  AccessDeniedException: 'grant the caller secretsmanager:GetSecretValue on this secret',
  NotAuthorized: 'grant the caller secretsmanager:GetSecretValue on this secret',
  DecryptionFailure: 'grant the caller kms:Decrypt on the secret\'s KMS key',
  UnrecognizedClientException: 'check the access key id (and the session token of temporary credentials)',
  InvalidClientTokenId: 'check the access key id',
  InvalidSignatureException: 'check the secret access key',
  IncompleteSignature: 'check the credentials credgate signs with',
  MissingAuthenticationToken: 'check the credentials credgate signs with',
  ExpiredTokenException: 'refresh the temporary credentials (session token)',
  RequestExpired: 'check this machine\'s clock',
};

/**
 * The error type of an AWS JSON answer, sanitized as the Smithy AWS JSON 1.1 protocol says: from the body's
 * __type (or code), else the X-Amzn-ErrorType header; the part after a "#" and before a ":".
 */
export function awsErrorType(res: Pick<HttpResponse, 'body' | 'headers'>): string {
  let raw = '';
  try {
    const e = schemas().Err.parse(JSON.parse(res.body.toString('utf8')));
    raw = e.__type ?? e.code ?? '';
  } catch {
    /* not an AWS error body */
  }
  if (!raw) {
    const h = res.headers['x-amzn-errortype'];
    raw = (Array.isArray(h) ? h[0] : h) ?? '';
  }
  return raw.split(':')[0]!.replace(/^.*#/, '').trim().slice(0, 100);
}

/** The credgate code for an AWS error type, whether written with or without an "Exception" suffix. */
export function awsErrorCode(type: string): { code: ErrorCode; canonical: string } | undefined {
  for (const t of [type, type.replace(/Exception$/, ''), `${type}Exception`]) {
    const code = Object.hasOwn(AWS_ERRORS, t) ? AWS_ERRORS[t] : undefined;
    if (code) return { code, canonical: t };
  }
  return undefined;
}

export function fromAwsSecretsManager(options: AwsSecretsManagerOptions): OwnedProvider<AwsSecretsManagerRef> {
  const o = validateOptions('aws-secrets-manager', schemas().Options, options);
  checkTransport('aws-secrets-manager', { endpoint: o.endpoint, stsEndpoint: o.stsEndpoint, ssoEndpoint: o.ssoEndpoint }, o);
  checkTransport('aws-secrets-manager', { imdsEndpoint: o.imdsEndpoint, containerEndpoint: o.containerEndpoint }, {}, 'metadata');
  const endpoint = (o.endpoint ?? `https://secretsmanager.${o.region}.amazonaws.com`).replace(/\/+$/, '') + '/';
  let http: HttpClient | undefined;
  let disposed = false;
  // a call still in flight when dispose() ran must not open a new pool behind its back
  const client = (): HttpClient => {
    if (disposed) throw disposedError('aws-secrets-manager provider', 'create a new one with fromAwsSecretsManager()', { provider: 'aws-secrets-manager' });
    return (http ??= new HttpClient('aws-secrets-manager', o));
  };
  const creds = awsCredentialSource(o, client);
  const warn = (w: AwsProviderWarning) => {
    publish(CHANNELS.warning, { code: w.code, message: w.message, provider: 'aws-secrets-manager', secretId: w.secretId });
    o.onWarning?.(w);
  };

  // AWS throttles with 400 ThrottlingException (not 429): retried with backoff like a 429
  const throttled = (r: HttpResponse) => r.status === 400 && awsErrorCode(awsErrorType(r))?.code === 'PROVIDER_RATE_LIMITED';

  async function call<T extends z.ZodTypeAny>(target: string, body: object, schema: T, signal?: AbortSignal): Promise<z.infer<T>> {
    const json = JSON.stringify(body);
    const c = await creds.get(signal);
    const signed = signRequest({
      method: 'POST', url: endpoint, body: json, region: o.region, service: 'secretsmanager',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `secretsmanager.${target}` },
      accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
    });
    const res = await client().request({ method: 'POST', url: endpoint, headers: signed.headers, body: json, retryable: throttled }, signal);
    if (res.status === 200) return client().json(res, schema, endpoint);
    const type = awsErrorType(res);
    const known = awsErrorCode(type);
    const code: ErrorCode = known?.code ?? (res.status >= 500 ? 'PROVIDER_UNAVAILABLE' : 'PROVIDER_BAD_RESPONSE');
    let text = '';
    try {
      const e = schemas().Err.parse(JSON.parse(res.body.toString('utf8')));
      text = scrub(String(e.message ?? e.Message ?? ''), creds.secrets()).replace(/[\r\n\t]+/g, ' ').slice(0, 240);
    } catch {
      /* no message */
    }
    const fix = known ? AWS_FIX[known.canonical] : undefined;
    // temporary credentials that expired early: fetched anew at the next resolve
    if (known?.canonical === 'ExpiredTokenException') creds.reset();
    throw new ProviderError(`AWS Secrets Manager ${target} answered ${res.status}${type ? ` ${type}` : ''} at ${displayUrl(endpoint)}${text ? `: ${text}` : ''}${fix ? `; ${fix}` : ''}.`, {
      code, details: { provider: 'aws-secrets-manager', status: res.status, ...(type ? { awsError: type } : {}) },
    });
  }

  return observed<OwnedProvider<AwsSecretsManagerRef>>({
    name: 'aws-secrets-manager',
    async resolve(ref: CredentialRef, { signal }: ResolveOptions = {}): Promise<FetchedCredential> {
      if (disposed) throw disposedError('aws-secrets-manager provider', 'create a new one with fromAwsSecretsManager()', { provider: 'aws-secrets-manager' });
      if (signal?.aborted) throw abortError(signal, 'The Secrets Manager request');
      const rawId = typeof ref === 'string' ? ref : (ref as Record<string, unknown>).secretId;
      const id = typeof rawId === 'string' ? rawId : '';
      if (!id) throw new ConfigError('An aws-secrets-manager reference is the secret name or ARN, or { secretId, versionStage? }.', { code: 'CONFIG_INVALID', details: { provider: 'aws-secrets-manager' } });
      const stage = typeof ref === 'object' && typeof (ref as Record<string, unknown>).versionStage === 'string' ? String((ref as Record<string, unknown>).versionStage) : undefined;
      let describeFailure: CredgateError | undefined;
      const [v, d] = await Promise.all([
        call('GetSecretValue', { SecretId: id, ...(stage ? { VersionStage: stage } : {}) }, schemas().GetValue, signal),
        o.describe
          ? call('DescribeSecret', { SecretId: id }, schemas().Describe, signal).catch((e: unknown) => {
            describeFailure = e instanceof CredgateError ? e : new ProviderError('DescribeSecret failed.', { code: 'PROVIDER_BAD_RESPONSE' });
            return undefined;
          })
          : Promise.resolve(undefined),
      ]);
      if (v.SecretString === undefined) throw new ProviderError(`The secret ${id} has no SecretString (binary secrets are not credentials).`, { code: 'PROVIDER_UNSUPPORTED', details: { provider: 'aws-secrets-manager' } });
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(v.SecretString) as Record<string, unknown>;
      } catch {
        throw new ProviderError(`The secret ${id} is not JSON; store {"${o.usernameKey}": ..., "${o.passwordKey}": ...}.`, { code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'aws-secrets-manager' } });
      }
      const user = typeof data === 'object' && data !== null ? data[o.usernameKey] : undefined;
      const pw = typeof data === 'object' && data !== null ? data[o.passwordKey] : undefined;
      if (typeof user !== 'string' || typeof pw !== 'string') {
        throw new ProviderError(`The secret ${id} lacks string keys "${o.usernameKey}" and "${o.passwordKey}".`, { code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'aws-secrets-manager' } });
      }
      let note = '';
      let changedAt: Date | undefined;
      if (describeFailure) {
        const f = describeFailure as CredgateError;
        const awsError = typeof f.details?.awsError === 'string' ? f.details.awsError : undefined;
        const status = typeof f.details?.status === 'number' ? f.details.status : undefined;
        note = ` (changedAt unknown: DescribeSecret failed, ${awsError ?? f.code})`;
        warn({
          code: 'aws.describe-failed', secretId: id, error: { code: f.code, ...(awsError ? { awsError } : {}), ...(status ? { status } : {}) },
          message: `aws-secrets-manager: DescribeSecret for ${id} failed (${awsError ?? f.code}); the credential is returned without changedAt. Grant secretsmanager:DescribeSecret, or set describe: false to use the version's CreatedDate.`,
        });
      } else {
        const times = [v.CreatedDate, d?.LastRotatedDate].filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
        if (times.length) changedAt = new Date(Math.max(...times) * 1000);
      }
      return {
        username: user, secret: new Secret(pw), ...(typeof data.domain === 'string' ? { domain: data.domain } : {}),
        ...(changedAt ? { changedAt } : {}),
        source: `aws-secrets-manager ${v.Name ?? id}${v.VersionId ? ` (${v.VersionId})` : ''}${note}`,
      };
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
