import { describe, it, expect } from 'vitest';
import { fromAwsSecretsManager } from '../../src/providers/aws-secrets-manager.js';
import { signRequest, signingKey, uriEncode } from '../../src/providers/sigv4.js';
import { providerConformance } from './suite.js';
import { startAws, AWS_KEY, AWS_REGION } from '../fixtures/vendors/aws.js';
import { closedPort } from '../helpers/servers.js';

providerConformance('aws-secrets-manager', { auth: true, unavailable: true }, async () => {
  const srv = await startAws();
  const env = { AK: AWS_KEY.secretAccessKey };
  const base = { region: AWS_REGION, endpoint: srv.url, caFile: srv.caFile, accessKeyId: AWS_KEY.accessKeyId, secretAccessKeyEnv: 'AK', env, backoffMs: 5 };
  return {
    provider: fromAwsSecretsManager(base),
    okRef: 'rdp/web01',
    expect: { username: 'svc-rdp', password: 'Aws!Rotated-Pass', domain: 'PAMTEST', changedAt: new Date(1763625600 * 1000) },
    notFoundRef: 'rdp/unknown',
    authFailProvider: fromAwsSecretsManager({ ...base, secretAccessKey: 'wrong/secret/key/value/0000000000000000', secretAccessKeyEnv: undefined }),
    unavailableProvider: fromAwsSecretsManager({ ...base, endpoint: `https://127.0.0.1:${await closedPort()}`, retries: 1 }),
    secrets: [AWS_KEY.secretAccessKey, 'Aws!Rotated-Pass', 'wrong/secret/key/value/0000000000000000'],
    teardown: () => srv.close(),
  };
});

describe('AWS throttling (400 ThrottlingException)', () => {
  const opts = (url: string, caFile: string) => ({ region: AWS_REGION, endpoint: url, caFile, accessKeyId: AWS_KEY.accessKeyId, secretAccessKeyEnv: 'AK', env: { AK: AWS_KEY.secretAccessKey }, backoffMs: 5 });
  it('is retried with backoff, then the secret is returned', async () => {
    const srv = await startAws({ throttleFirst: 2 });
    try {
      const c = await fromAwsSecretsManager({ ...opts(srv.url, srv.caFile), retries: 3 }).resolve('rdp/web01');
      expect(c.username).toBe('svc-rdp');
    } finally {
      await srv.close();
    }
  });
  it('that never ends is PROVIDER_RATE_LIMITED after the retries, naming the status', async () => {
    const srv = await startAws({ throttleFirst: 100 });
    try {
      await expect(fromAwsSecretsManager({ ...opts(srv.url, srv.caFile), retries: 2 }).resolve('rdp/web01')).rejects.toMatchObject({
        code: 'PROVIDER_RATE_LIMITED', message: expect.stringContaining('400 (throttled)'), details: expect.objectContaining({ attempts: 3, status: 400 }),
      });
    } finally {
      await srv.close();
    }
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
