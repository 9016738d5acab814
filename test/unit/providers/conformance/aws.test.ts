import dc from 'node:diagnostics_channel';
import { describe, it, expect, afterEach } from 'vitest';
import { fromAwsSecretsManager, awsErrorType, awsErrorCode, type AwsProviderWarning } from '../../../../src/providers/aws-secrets-manager.js';
import { signRequest, signingKey, uriEncode } from '../../../../src/providers/sigv4.js';
import { providerConformance, expectFailure, expectThrow } from '../../../helpers/provider-conformance.js';
import { startAws, AWS_KEY, AWS_TEMP_KEY, AWS_REGION, AWS_PASSWORD, type AwsFixture, type AwsKnobs } from '../../../fixtures/vendors/aws.js';
import { closedPort } from '../../../helpers/servers.js';

const WRONG = 'wrong/secret/key/value/0000000000000000';
const SECRETS = [AWS_KEY.secretAccessKey, AWS_TEMP_KEY.secretAccessKey, AWS_TEMP_KEY.sessionToken, AWS_PASSWORD, WRONG];

providerConformance('aws-secrets-manager', { auth: true, unavailable: true, network: true }, async () => {
  const srv = await startAws();
  const slow = await startAws({ slowMs: 3000 });
  const env = { AK: AWS_KEY.secretAccessKey };
  const base = { region: AWS_REGION, endpoint: srv.url, caFile: srv.caFile, accessKeyId: AWS_KEY.accessKeyId, secretAccessKeyEnv: 'AK', env, backoffMs: 5 };
  return {
    provider: fromAwsSecretsManager(base),
    fresh: () => fromAwsSecretsManager(base),
    backend: srv,
    okRef: 'rdp/web01',
    expect: { username: 'svc-rdp', password: AWS_PASSWORD, domain: 'PAMTEST', changedAt: new Date(1763625600 * 1000) },
    notFoundRef: 'rdp/unknown',
    authFailProvider: fromAwsSecretsManager({ ...base, secretAccessKey: WRONG, secretAccessKeyEnv: undefined }),
    unavailableProvider: fromAwsSecretsManager({ ...base, endpoint: `https://127.0.0.1:${await closedPort()}`, retries: 1 }),
    slowProvider: fromAwsSecretsManager({ ...base, endpoint: slow.url }),
    secrets: SECRETS,
    teardown: async () => {
      await srv.close();
      await slow.close();
    },
  };
});

describe('aws-secrets-manager specifics', () => {
  const servers: AwsFixture[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  const start = async (k: AwsKnobs = {}) => {
    const s = await startAws(k);
    servers.push(s);
    return s;
  };
  const opts = (s: AwsFixture, extra: Record<string, unknown> = {}) => ({ region: AWS_REGION, endpoint: s.url, caFile: s.caFile, accessKeyId: AWS_KEY.accessKeyId, secretAccessKeyEnv: 'AK', env: { AK: AWS_KEY.secretAccessKey }, backoffMs: 5, onWarning: () => {}, ...extra });
  const aws = (s: AwsFixture, extra: Record<string, unknown> = {}) => fromAwsSecretsManager(opts(s, extra));

  it('400 ThrottlingException is retried with backoff, then the secret is returned; without end it is PROVIDER_RATE_LIMITED', async () => {
    expect((await aws(await start({ throttleFirst: 2 }), { retries: 3 }).resolve('rdp/web01')).username).toBe('svc-rdp');
    await expectFailure(aws(await start({ throttleFirst: 100 }), { retries: 2, describe: false }).resolve('rdp/web01'), {
      code: 'PROVIDER_RATE_LIMITED', message: expect.stringContaining('400 (throttled)'), details: expect.objectContaining({ attempts: 3, status: 400 }),
    }, SECRETS);
  });

  it('429 with Retry-After: honoured, retried, then reported; a Retry-After beyond the deadline is reported at once', async () => {
    const s = await start({ tooManyFirst: 2, retryAfter: '0' });
    expect((await aws(s, { describe: false }).resolve('rdp/web01')).username).toBe('svc-rdp');
    expect(s.requests).toHaveLength(3);
    await expectFailure(aws(await start({ tooManyFirst: 100 }), { retries: 1, describe: false }).resolve('rdp/web01'), { code: 'PROVIDER_RATE_LIMITED', details: { status: 429, attempts: 2 } }, SECRETS);
    const t0 = Date.now();
    await expectFailure(aws(await start({ tooManyFirst: 5, retryAfter: '30' }), { timeoutMs: 2000, describe: false }).resolve('rdp/web01'), { code: 'PROVIDER_RATE_LIMITED', details: { retryAfterMs: 30000 } }, SECRETS);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('5xx (500 InternalServiceError, 503 ServiceUnavailable) is retried; to the end it is PROVIDER_UNAVAILABLE', async () => {
    const s = await start({ failFirst: [500, 503] });
    expect((await aws(s, { describe: false }).resolve('rdp/web01')).username).toBe('svc-rdp');
    expect(s.requests).toHaveLength(3);
    await expectFailure(aws(await start({ failFirst: [503, 503, 503] }), { retries: 2, describe: false }).resolve('rdp/web01'), { code: 'PROVIDER_UNAVAILABLE', details: { status: 503, attempts: 3 } }, SECRETS);
  });

  it('a slow endpoint: the deadline reports PROVIDER_UNAVAILABLE in time; the caller\'s abort mid-request is ABORTED', async () => {
    const s = await start({ slowMs: 2000 });
    let t0 = Date.now();
    await expectFailure(aws(s, { timeoutMs: 300 }).resolve('rdp/web01'), { code: 'PROVIDER_UNAVAILABLE' }, SECRETS);
    expect(Date.now() - t0).toBeLessThan(1500);
    t0 = Date.now();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await expectFailure(aws(s).resolve('rdp/web01', { signal: ac.signal }), { code: 'ABORTED' }, SECRETS);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('malformed JSON and an oversized body are PROVIDER_BAD_RESPONSE', async () => {
    await expectFailure(aws(await start({ malformed: true })).resolve('rdp/web01'), { code: 'PROVIDER_BAD_RESPONSE', message: expect.stringContaining('not JSON') }, SECRETS);
    await expectFailure(aws(await start({ hugeBody: true })).resolve('rdp/web01'), { code: 'PROVIDER_BAD_RESPONSE', message: expect.stringContaining('more than') }, SECRETS);
  });

  it('AccessDeniedException and DecryptionFailure (both 400) are PROVIDER_FORBIDDEN with the fix', async () => {
    const s = await start();
    await expectFailure(aws(s).resolve('rdp/denied'), { code: 'PROVIDER_FORBIDDEN', details: { status: 400, awsError: 'AccessDeniedException' }, message: expect.stringContaining('grant the caller secretsmanager:GetSecretValue') }, SECRETS);
    await expectFailure(aws(s).resolve('rdp/kms'), { code: 'PROVIDER_FORBIDDEN', details: { status: 400, awsError: 'DecryptionFailure' }, message: expect.stringContaining('kms:Decrypt') }, SECRETS);
    // the documented status of a bad signature is 400, never retried
    const t = await start();
    await expectFailure(aws(t, { env: { AK: WRONG }, describe: false }).resolve('rdp/web01'), { code: 'PROVIDER_AUTH_FAILED', details: { status: 400, awsError: 'InvalidSignatureException' } }, SECRETS);
    expect(t.requests).toHaveLength(1);
  });

  it('error types with a namespace, or only in X-Amzn-ErrorType with a suffix, map the same', async () => {
    await expectFailure(aws(await start({ typeStyle: 'namespaced' })).resolve('rdp/unknown'), { code: 'PROVIDER_NOT_FOUND', details: { awsError: 'ResourceNotFoundException' } }, SECRETS);
    await expectFailure(aws(await start({ typeStyle: 'header' })).resolve('rdp/denied'), { code: 'PROVIDER_FORBIDDEN', details: { awsError: 'AccessDeniedException' } }, SECRETS);
    expect((await aws(await start({ typeStyle: 'header', throttleFirst: 1 }), { describe: false }).resolve('rdp/web01')).username).toBe('svc-rdp');
    const res = (body: unknown, headers: Record<string, string> = {}) => ({ body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), headers });
    expect(awsErrorType(res({ __type: 'com.amazonaws.secretsmanager#IncompleteSignatureException' }))).toBe('IncompleteSignatureException');
    expect(awsErrorType(res('not json', { 'x-amzn-errortype': 'IncompleteSignature:http://internal.amazon.com/x' }))).toBe('IncompleteSignature');
    for (const t of ['IncompleteSignature', 'IncompleteSignatureException', 'InvalidSignatureException', 'InvalidSignature', 'ExpiredToken', 'ExpiredTokenException']) expect(awsErrorCode(t)?.code).toBe('PROVIDER_AUTH_FAILED');
    expect(awsErrorCode('Throttling')?.code).toBe('PROVIDER_RATE_LIMITED');
    expect(awsErrorCode('toString')).toBeUndefined();
  });

  it('temporary credentials: the session token is sent, signed, end to end; missing or expired it is PROVIDER_AUTH_FAILED', async () => {
    const s = await start();
    const env = { AWS_ACCESS_KEY_ID: AWS_TEMP_KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: AWS_TEMP_KEY.secretAccessKey, AWS_SESSION_TOKEN: AWS_TEMP_KEY.sessionToken };
    const c = await fromAwsSecretsManager({ region: AWS_REGION, endpoint: s.url, caFile: s.caFile, env, backoffMs: 5 }).resolve('rdp/web01');
    expect(c.secret.reveal()).toBe(AWS_PASSWORD);
    for (const r of s.requests) {
      expect(r.headers['x-amz-security-token']).toBe(AWS_TEMP_KEY.sessionToken);
      expect(String(r.headers.authorization)).toMatch(/SignedHeaders=[^,]*x-amz-security-token/);
    }
    const named = await fromAwsSecretsManager({ region: AWS_REGION, endpoint: s.url, caFile: s.caFile, accessKeyId: AWS_TEMP_KEY.accessKeyId, secretAccessKeyEnv: 'SK', sessionTokenEnv: 'ST', env: { SK: AWS_TEMP_KEY.secretAccessKey, ST: AWS_TEMP_KEY.sessionToken }, backoffMs: 5 }).resolve('rdp/web01');
    expect(named.username).toBe('svc-rdp');
    const { AWS_SESSION_TOKEN: _dropped, ...noToken } = env;
    await expectFailure(fromAwsSecretsManager({ region: AWS_REGION, endpoint: s.url, caFile: s.caFile, env: noToken, describe: false }).resolve('rdp/web01'), { code: 'PROVIDER_AUTH_FAILED', details: { awsError: 'UnrecognizedClientException' }, message: expect.stringContaining('session token') }, SECRETS);
    const x = await start({ sessionExpired: true });
    await expectFailure(fromAwsSecretsManager({ region: AWS_REGION, endpoint: x.url, caFile: x.caFile, env, describe: false }).resolve('rdp/web01'), { code: 'PROVIDER_AUTH_FAILED', details: { awsError: 'ExpiredTokenException' }, message: expect.stringContaining('refresh the temporary credentials') }, SECRETS);
    expectThrow(() => fromAwsSecretsManager({ region: AWS_REGION, sessionTokenEnv: 'NOT_SET_ST', accessKeyId: 'ASIAX', secretAccessKey: 'x', env: {} }), { code: 'CONFIG_INVALID', message: expect.stringMatching(/NOT_SET_ST, which is not set/) }, SECRETS);
  });

  it('DescribeSecret failing keeps the credential, omits changedAt, and says so (warning and source)', async () => {
    const s = await start({ describeError: { status: 400, type: 'AccessDeniedException', message: 'User: arn:aws:iam::111122223333:user/credgate is not authorized to perform: secretsmanager:DescribeSecret' } });
    const warnings: AwsProviderWarning[] = [];
    const c = await aws(s, { onWarning: (w: AwsProviderWarning) => warnings.push(w) }).resolve('rdp/web01');
    expect([c.username, c.secret.reveal(), c.changedAt]).toEqual(['svc-rdp', AWS_PASSWORD, undefined]);
    expect(c.source).toContain('changedAt unknown: DescribeSecret failed, AccessDeniedException');
    expect(warnings).toEqual([expect.objectContaining({ code: 'aws.describe-failed', secretId: 'rdp/web01', error: { code: 'PROVIDER_FORBIDDEN', awsError: 'AccessDeniedException', status: 400 } })]);
    for (const x of SECRETS) expect(JSON.stringify(warnings) + c.source).not.toContain(x);
    // without onWarning: an event on the credgate:warning channel (the CLI prints it), not silence
    const seen: unknown[] = [];
    const on = (m: unknown) => seen.push(m);
    dc.subscribe('credgate:warning', on);
    try {
      await fromAwsSecretsManager({ ...opts(s), onWarning: undefined }).resolve('rdp/web01');
    } finally {
      dc.unsubscribe('credgate:warning', on);
    }
    expect(seen).toEqual([expect.objectContaining({ code: 'aws.describe-failed', provider: 'aws-secrets-manager', secretId: 'rdp/web01', message: expect.stringContaining('DescribeSecret for rdp/web01 failed (AccessDeniedException)') })]);
    for (const x of SECRETS) expect(JSON.stringify(seen)).not.toContain(x);
    // a describe that is not asked for: CreatedDate, no warning
    expect((await aws(s, { describe: false }).resolve('rdp/web01')).changedAt?.toISOString()).toBe(new Date(1763539200500).toISOString());
    // a 5xx on DescribeSecret after its retries: the same (and GetSecretValue still succeeds)
    const t = await start({ describeError: { status: 500, type: 'InternalServiceError' } });
    const w2: AwsProviderWarning[] = [];
    expect((await aws(t, { retries: 1, onWarning: (w: AwsProviderWarning) => w2.push(w) }).resolve('rdp/web01')).changedAt).toBeUndefined();
    expect(w2[0]?.error).toEqual({ code: 'PROVIDER_UNAVAILABLE', status: 500 });
  });

  it('references: a name, an ARN or { secretId }; anything else is CONFIG_INVALID', async () => {
    const s = await start();
    expect((await aws(s).resolve({ secretId: 'arn:aws:secretsmanager:eu-central-1:111122223333:secret:rdp/web01-AbCdEf' })).username).toBe('svc-rdp');
    // @ts-expect-error a wrong value type does not type-check; at run time it is CONFIG_INVALID
    await expectFailure(aws(s).resolve({ secretId: 42 }), { code: 'CONFIG_INVALID' }, SECRETS);
  });
});

describe('SigV4 against AWS\'s published examples', () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
  it('derives the documented signing key', () => {
    expect(signingKey(secret, '20150830', 'us-east-1', 'iam').toString('hex')).toBe('c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9');
  });
  it('signs the documented IAM ListUsers request', () => {
    const r = signRequest({ method: 'GET', url: 'https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08', headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: '', region: 'us-east-1', service: 'iam', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: secret, amzDate: '20150830T123600Z' });
    expect(r.signature).toBe('5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
    expect(r.headers.authorization).toBe('AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
  });
  it('signs the test suite\'s get-vanilla request', () => {
    const r = signRequest({ method: 'GET', url: 'https://example.amazonaws.com/', headers: {}, body: '', region: 'us-east-1', service: 'service', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: secret, amzDate: '20150830T123600Z' });
    expect(r.signature).toBe('5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
  });
  it('encodes per RFC 3986', () => {
    expect(uriEncode('a b/c~d*')).toBe('a%20b%2Fc~d%2A');
    expect(uriEncode('/x y/', false)).toBe('/x%20y/');
  });
});
