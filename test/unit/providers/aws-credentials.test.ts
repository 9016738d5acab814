// The AWS credential chain against loopback servers that answer as AWS documents (IMDSv2's PUT token
// then GET, the container endpoint's Authorization header, STS AssumeRoleWithWebIdentity, IAM Identity
// Center), the shared files with profiles (keys, credential_process, SSO cache), a caller's function and
// the optional SDK. Never 169.254.x.x: every metadata address is injected.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fromAwsSecretsManager, type AwsSecretsManagerOptions } from '../../../src/providers/aws-secrets-manager.js';
import { startAws, AWS_REGION, AWS_PASSWORD, AWS_TEMP_KEY, AWS_KEY, type AwsFixture } from '../../fixtures/vendors/aws.js';
import { startAwsMetadata, startAwsIdentity, POD_IDENTITY_TOKEN, WEB_IDENTITY_TOKEN, SSO_ACCESS_TOKEN, SSO_ACCOUNT, SSO_ROLE } from '../../fixtures/vendors/aws-metadata.js';
import type { FixtureServer } from '../../fixtures/vendors/tls.js';
import { providerConformance, expectFailure } from '../../helpers/provider-conformance.js';
import { closedPort } from '../../helpers/servers.js';

const SECRETS = [AWS_TEMP_KEY.secretAccessKey, AWS_TEMP_KEY.sessionToken, AWS_KEY.secretAccessKey, AWS_PASSWORD, POD_IDENTITY_TOKEN, WEB_IDENTITY_TOKEN, SSO_ACCESS_TOKEN];
const REF = 'rdp/web01';
let sm: AwsFixture;
let md: Awaited<ReturnType<typeof startAwsMetadata>>;
let id: FixtureServer;
let home: string;

beforeAll(async () => {
  [sm, md, id] = await Promise.all([startAws(), startAwsMetadata(), startAwsIdentity()]);
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-aws-home-'));
  fs.mkdirSync(path.join(home, '.aws', 'sso', 'cache'), { recursive: true });
});
afterAll(async () => {
  await Promise.all([sm.close(), md.close(), id.close()]);
  fs.rmSync(home, { recursive: true, force: true });
});

/** A provider whose chain sees only `env` (HOME is the temp home), IMDS and STS on loopback. */
const aws = (env: Record<string, string> = {}, extra: Partial<AwsSecretsManagerOptions> = {}) => fromAwsSecretsManager({
  region: AWS_REGION, endpoint: sm.url, caFile: sm.caFile, describe: false, imdsEndpoint: md.url, stsEndpoint: id.url, ssoEndpoint: id.url,
  env: { HOME: home, ...env }, backoffMs: 5, ...extra,
});
const ok = async (env: Record<string, string>, extra: Partial<AwsSecretsManagerOptions> = {}) => {
  await using p = aws(env, extra);
  const c = await p.resolve(REF);
  expect(c.secret.reveal()).toBe(AWS_PASSWORD);
};
const writeAws = (name: string, text: string) => {
  const f = path.join(home, '.aws', name);
  fs.writeFileSync(f, text);
  return f;
};

describe('EC2 IMDSv2', () => {
  it('PUTs for a session token first, then GETs the role and its credentials with it (never IMDSv1)', async () => {
    const before = md.requests.length;
    await ok({});
    const seen = md.requests.slice(before);
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['PUT /latest/api/token', 'GET /latest/meta-data/iam/security-credentials/', 'GET /latest/meta-data/iam/security-credentials/credgate-instance-role']);
    expect(seen[0]!.headers['x-aws-ec2-metadata-token-ttl-seconds']).toBe('21600');
    for (const r of seen.slice(1)) expect(md.imdsTokens).toContain(r.headers['x-aws-ec2-metadata-token']);
  });

  it('caches temporary credentials until shortly before they expire', async () => {
    await using p = aws();
    await p.resolve(REF);
    const before = md.requests.length;
    await p.resolve(REF);
    expect(md.requests.length).toBe(before);
  });

  it('no IMDS (not on EC2): CONFIG_INVALID listing what was tried, within seconds', async () => {
    const t0 = Date.now();
    await using p = aws({}, { imdsEndpoint: `http://127.0.0.1:${await closedPort()}` });
    const e = await expectFailure(p.resolve(REF), { code: 'CONFIG_INVALID' }, SECRETS);
    expect(e.message).toMatch(/No AWS credentials found/);
    expect(e.message).toMatch(/AWS_WEB_IDENTITY_TOKEN_FILE/);
    expect(Date.now() - t0).toBeLessThan(5000);
    await using q = aws({ AWS_EC2_METADATA_DISABLED: 'true' });
    expect((await expectFailure(q.resolve(REF), { code: 'CONFIG_INVALID' }, SECRETS)).message).toMatch(/AWS_EC2_METADATA_DISABLED/);
  });

  it('IMDS disabled (403 on the token) or no instance profile (404): PROVIDER_AUTH_FAILED saying which', async () => {
    md.knobs.imdsDisabled = true;
    await using p = aws();
    expect((await expectFailure(p.resolve(REF), { code: 'PROVIDER_AUTH_FAILED' }, SECRETS)).message).toMatch(/disabled/);
    md.knobs.imdsDisabled = false;
    md.knobs.noInstanceProfile = true;
    await using q = aws();
    expect((await expectFailure(q.resolve(REF), { code: 'PROVIDER_AUTH_FAILED' }, SECRETS)).message).toMatch(/no instance profile/);
    md.knobs.noInstanceProfile = false;
  });
});

describe('container credentials (ECS, EKS Pod Identity)', () => {
  it('ECS: the relative URI on the container endpoint', async () => {
    await ok({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/7f1c-task' }, { containerEndpoint: md.url });
  });

  it('EKS Pod Identity: the full URI with the token file as Authorization; a wrong token is PROVIDER_AUTH_FAILED', async () => {
    const tokenFile = writeAws('pod-token', POD_IDENTITY_TOKEN);
    const before = md.requests.length;
    await ok({ AWS_CONTAINER_CREDENTIALS_FULL_URI: `${md.url}/v1/credentials`, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile });
    expect(md.requests.slice(before).find((r) => r.url === '/v1/credentials')?.headers.authorization).toBe(POD_IDENTITY_TOKEN);
    await using p = aws({ AWS_CONTAINER_CREDENTIALS_FULL_URI: `${md.url}/v1/credentials`, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'not-the-token' });
    await expectFailure(p.resolve(REF), { code: 'PROVIDER_AUTH_FAILED' }, SECRETS);
  });

  it('a full URI over plain http to a routable host is refused before any I/O (its token would travel in clear)', async () => {
    await using p = aws({ AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://creds.corp.example/v1/credentials', AWS_CONTAINER_AUTHORIZATION_TOKEN: POD_IDENTITY_TOKEN });
    expect((await expectFailure(p.resolve(REF), { code: 'CONFIG_INVALID' }, SECRETS)).message).toMatch(/link-local/);
  });
});

describe('web identity (EKS IRSA) and profiles', () => {
  it('AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN: STS AssumeRoleWithWebIdentity with the token; a bad one is PROVIDER_AUTH_FAILED', async () => {
    const good = writeAws('irsa-token', WEB_IDENTITY_TOKEN);
    await ok({ AWS_WEB_IDENTITY_TOKEN_FILE: good, AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/pam' });
    const form = new URLSearchParams(id.requests.at(-1)!.body);
    expect(form.get('Action')).toBe('AssumeRoleWithWebIdentity');
    expect(form.get('WebIdentityToken')).toBe(WEB_IDENTITY_TOKEN);
    const bad = writeAws('bad-token', 'eyJ.bad.token');
    await using p = aws({ AWS_WEB_IDENTITY_TOKEN_FILE: bad, AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/pam' });
    const e = await expectFailure(p.resolve(REF), { code: 'PROVIDER_AUTH_FAILED', details: { awsError: 'InvalidIdentityToken' } }, [...SECRETS, 'eyJ.bad.token']);
    expect(e.message).toMatch(/trust policy/);
  });

  it('a profile with static keys (credentials file) and one with credential_process (config file)', async () => {
    const creds = writeAws('credentials', `[keys]\naws_access_key_id = ${AWS_KEY.accessKeyId}\naws_secret_access_key = ${AWS_KEY.secretAccessKey}\n`);
    const script = writeAws('creds.mjs', `process.stdout.write(JSON.stringify({ Version: 1, AccessKeyId: '${AWS_TEMP_KEY.accessKeyId}', SecretAccessKey: '${AWS_TEMP_KEY.secretAccessKey}', SessionToken: '${AWS_TEMP_KEY.sessionToken}', Expiration: new Date(Date.now() + 3600e3).toISOString() }))`);
    const config = writeAws('config', `[profile proc]\nregion = eu-central-1\ncredential_process = "${process.execPath}" "${script}"\n[profile broken]\ncredential_process = "${process.execPath}" -e "process.exit(3)"\n[profile chained]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = keys\n`);
    const files = { AWS_SHARED_CREDENTIALS_FILE: creds, AWS_CONFIG_FILE: config };
    await ok({ ...files, AWS_PROFILE: 'keys' });
    await ok(files, { profile: 'proc' });
    await using b = aws(files, { profile: 'broken' });
    expect((await expectFailure(b.resolve(REF), { code: 'PROVIDER_AUTH_FAILED' }, SECRETS)).message).toMatch(/credential_process .* exited with 3/);
    await using c = aws(files, { profile: 'chained' });
    expect((await expectFailure(c.resolve(REF), { code: 'PROVIDER_UNSUPPORTED' }, SECRETS)).message).toMatch(/credentials: "aws-sdk"/);
    await using m = aws(files, { profile: 'nope' });
    expect((await expectFailure(m.resolve(REF), { code: 'CONFIG_INVALID' }, SECRETS)).message).toMatch(/profile nope/);
  });

  it('an IAM Identity Center (SSO) profile: the token `aws sso login` cached, then GetRoleCredentials', async () => {
    const config = writeAws('config-sso', `[profile sso]\nsso_session = corp\nsso_account_id = ${SSO_ACCOUNT}\nsso_role_name = ${SSO_ROLE}\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-central-1\n`);
    const cache = path.join(home, '.aws', 'sso', 'cache', `${crypto.createHash('sha1').update('corp').digest('hex')}.json`);
    fs.writeFileSync(cache, JSON.stringify({ accessToken: SSO_ACCESS_TOKEN, expiresAt: new Date(Date.now() + 3600e3).toISOString(), region: 'eu-central-1', startUrl: 'https://corp.awsapps.com/start' }));
    await ok({ AWS_CONFIG_FILE: config, AWS_PROFILE: 'sso' });
    expect(id.requests.at(-1)!.headers['x-amz-sso_bearer_token']).toBe(SSO_ACCESS_TOKEN);
    fs.writeFileSync(cache, JSON.stringify({ accessToken: SSO_ACCESS_TOKEN, expiresAt: new Date(Date.now() - 1000).toISOString() }));
    await using p = aws({ AWS_CONFIG_FILE: config, AWS_PROFILE: 'sso' });
    expect((await expectFailure(p.resolve(REF), { code: 'PROVIDER_AUTH_FAILED' }, SECRETS)).message).toMatch(/aws sso login --profile sso/);
  });
});

describe('caller-supplied and optional providers', () => {
  it('a credentials function (the AWS SDK provider shape) is used as is', async () => {
    let calls = 0;
    await ok({}, { credentials: async () => (calls++, { ...AWS_TEMP_KEY, expiration: new Date(Date.now() + 3600e3) }) });
    expect(calls).toBe(1);
  });

  it('credentials: "aws-sdk" without @aws-sdk/credential-providers: PROVIDER_MISSING_DEPENDENCY saying what to install', async () => {
    await using p = aws({}, { credentials: 'aws-sdk' });
    const e = await expectFailure(p.resolve(REF), { code: 'PROVIDER_MISSING_DEPENDENCY' }, SECRETS);
    expect(e.message).toMatch(/npm install @aws-sdk\/credential-providers/);
  });
});

providerConformance('aws-secrets-manager (credentials from EC2 IMDSv2)', { auth: true, unavailable: true, network: true }, async () => {
  const slow = await startAws({ slowMs: 3000 });
  const opts = (s: AwsFixture, extra: Partial<AwsSecretsManagerOptions> = {}): AwsSecretsManagerOptions => ({ region: AWS_REGION, endpoint: s.url, caFile: s.caFile, describe: false, imdsEndpoint: md.url, env: { HOME: home }, ...extra });
  return {
    provider: fromAwsSecretsManager(opts(sm)),
    fresh: () => fromAwsSecretsManager(opts(sm)),
    backend: sm,
    okRef: REF,
    expect: { username: 'svc-rdp', password: AWS_PASSWORD },
    notFoundRef: 'rdp/nothing-here',
    authFailProvider: fromAwsSecretsManager(opts(sm, { credentials: async () => ({ accessKeyId: 'ASIAUNKNOWNKEY000000', secretAccessKey: 'unknown/secret', sessionToken: 'x' }) })),
    unavailableProvider: fromAwsSecretsManager(opts(sm, { endpoint: `https://127.0.0.1:${await closedPort()}`, retries: 1 })),
    slowProvider: fromAwsSecretsManager(opts(slow)),
    secrets: SECRETS,
    runtimeSecrets: () => [...md.imdsTokens],
    teardown: () => slow.close(),
  };
});
