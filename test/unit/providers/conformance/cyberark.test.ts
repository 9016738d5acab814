// CyberArk CCP: the shared suite with mTLS (the application's client key encrypted, its passphrase from
// an environment variable), then its return codes; every error is leak-checked against the managed
// password and the key passphrase (the right one and a wrong one).
import fs from 'node:fs';
import { describe, it, expect, afterEach, afterAll } from 'vitest';
import { fromCyberArkCcp } from '../../../../src/providers/cyberark.js';
import { providerConformance, expectFailure, expectThrow } from '../../../helpers/provider-conformance.js';
import { startCyberArk, cyberArkClientCert, APP_ID, ARK_PASSWORD, ARK_KEY_PASSPHRASE, type CyberArkKnobs } from '../../../fixtures/vendors/cyberark.js';
import { closedPort } from '../../../helpers/servers.js';

const WRONG_PASSPHRASE = 'Not-The-Key!Passphrase-0';
const SECRETS = [ARK_PASSWORD, ARK_KEY_PASSPHRASE, WRONG_PASSPHRASE];

providerConformance('cyberark-ccp (mTLS, encrypted key via passphraseEnv)', { auth: true, unavailable: true, network: true }, async () => {
  const cc = await cyberArkClientCert();
  const srv = await startCyberArk({ requireClientCertSha256: cc.sha });
  const slow = await startCyberArk({ requireClientCertSha256: cc.sha, slowMs: 3000 });
  const base = { url: srv.url, caFile: srv.caFile, appId: APP_ID, certFile: cc.cert, keyFile: cc.encryptedKey, passphraseEnv: 'CCP_KEY_PASS', env: { CCP_KEY_PASS: ARK_KEY_PASSPHRASE }, backoffMs: 5 };
  return {
    provider: fromCyberArkCcp(base),
    fresh: () => fromCyberArkCcp(base),
    backend: srv,
    okRef: 'RDP-Targets/web01-svc-rdp',
    expect: { username: 'svc-rdp', password: ARK_PASSWORD, changedAt: new Date(1763980800 * 1000) },
    notFoundRef: 'RDP-Targets/nope',
    authFailProvider: fromCyberArkCcp({ url: srv.url, caFile: srv.caFile, appId: APP_ID }),
    unavailableProvider: fromCyberArkCcp({ ...base, url: `https://127.0.0.1:${await closedPort()}`, retries: 1 }),
    slowProvider: fromCyberArkCcp({ ...base, url: slow.url }),
    secrets: SECRETS,
    teardown: async () => {
      await srv.close();
      await slow.close();
      fs.rmSync(cc.dir, { recursive: true, force: true });
    },
  };
});

describe('cyberark-ccp specifics', () => {
  const servers: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const x of servers.splice(0)) await x.close();
  });
  const start = async (k: CyberArkKnobs = {}) => {
    const x = await startCyberArk(k);
    servers.push(x);
    return x;
  };
  const ark = (x: { url: string; caFile: string }, extra = {}) => fromCyberArkCcp({ url: x.url, caFile: x.caFile, appId: APP_ID, backoffMs: 5, ...extra });
  let cc: Awaited<ReturnType<typeof cyberArkClientCert>> | undefined;
  afterAll(() => {
    if (cc) fs.rmSync(cc.dir, { recursive: true, force: true });
  });

  it('sends AppID, Safe and Object as documented; a Query ref is sent as Query', async () => {
    const x = await start();
    expect((await ark(x).resolve('RDP-Targets/web01-svc-rdp')).source).toBe('cyberark-ccp RDP-Targets/web01-svc-rdp');
    expect((await ark(x).resolve('Safe=RDP-Targets;UserName=svc-rdp')).username).toBe('svc-rdp');
    expect((await ark(x, { safe: 'RDP-Targets' }).resolve({ Object: 'web01-svc-rdp' })).secret.reveal()).toBe(ARK_PASSWORD);
    expect(x.requests.map((r) => r.url)).toEqual([
      '/AIMWebService/api/Accounts?AppID=PAM-Preflight&Safe=RDP-Targets&Object=web01-svc-rdp',
      '/AIMWebService/api/Accounts?AppID=PAM-Preflight&Query=Safe%3DRDP-Targets%3BUserName%3Dsvc-rdp',
      '/AIMWebService/api/Accounts?AppID=PAM-Preflight&Safe=RDP-Targets&Object=web01-svc-rdp',
    ]);
  });

  it('maps the documented return codes', async () => {
    const x = await start();
    await expectFailure(ark(x).resolve('RDP-Targets/zzz'), { code: 'PROVIDER_NOT_FOUND', details: { errorCode: 'APPAP004E', status: 404 } }, SECRETS);
    await expectFailure(ark(x).resolve('Safe=RDP-Targets'), { code: 'PROVIDER_BAD_RESPONSE', details: { errorCode: 'APPAP229E' }, message: expect.stringContaining('name the Object or refine the Query') }, SECRETS);
    await expectFailure(ark(x).resolve('Folder=Root'), { code: 'CONFIG_INVALID', details: { errorCode: 'AIMWS030E' } }, SECRETS);
    await expectFailure(ark(x, { appId: 'Other' }).resolve('RDP-Targets/web01-svc-rdp'), { code: 'PROVIDER_AUTH_FAILED', details: { errorCode: 'APPAP306E' } }, SECRETS);
    await expectFailure(ark(x, { appId: 'Undefined-App' }).resolve('RDP-Targets/web01-svc-rdp'), { code: 'PROVIDER_AUTH_FAILED', details: { errorCode: 'APPAP008E' } }, SECRETS);
    await expectFailure(ark(await start({ vaultDown: true })).resolve('RDP-Targets/web01-svc-rdp'), { code: 'PROVIDER_UNAVAILABLE', details: { errorCode: 'APPAP007E' } }, SECRETS);
    await expectFailure(ark(x).resolve('web01-svc-rdp'), { code: 'CONFIG_INVALID', message: expect.stringContaining('needs a safe') }, SECRETS);
  });

  it('APPAP282E (the CPM is changing the password) is retried, then reported with its code', async () => {
    const x = await start();
    const before = x.requests.length;
    await expectFailure(ark(x, { retries: 2 }).resolve('RDP-Targets/rotating-now'), { code: 'PROVIDER_UNAVAILABLE', details: { errorCode: 'APPAP282E', status: 500 }, message: expect.stringContaining('retry in a minute') }, SECRETS);
    expect(x.requests.length - before).toBe(3);
  });

  it('retries 5xx and 429 with Retry-After; 429 to the end is PROVIDER_RATE_LIMITED', async () => {
    const x = await start({ failFirst: [500, 429] });
    expect((await ark(x).resolve('RDP-Targets/web01-svc-rdp')).username).toBe('svc-rdp');
    expect(x.requests).toHaveLength(3);
    await expectFailure(ark(await start({ failFirst: [429, 429, 429] }), { retries: 2 }).resolve('RDP-Targets/web01-svc-rdp'), { code: 'PROVIDER_RATE_LIMITED', details: { status: 429 } }, SECRETS);
    await expectFailure(ark(await start({ failFirst: [500, 500, 500] }), { retries: 2 }).resolve('RDP-Targets/web01-svc-rdp'), { code: 'PROVIDER_UNAVAILABLE', details: { status: 500 } }, SECRETS);
  });

  it('malformed and oversized bodies are bad responses; a slow CCP hits the deadline', async () => {
    await expectFailure(ark(await start({ malformed: true })).resolve('RDP-Targets/web01-svc-rdp'), { code: 'PROVIDER_BAD_RESPONSE', message: expect.stringContaining('not JSON') }, SECRETS);
    await expectFailure(ark(await start({ hugeBody: true })).resolve('RDP-Targets/web01-svc-rdp'), { code: 'PROVIDER_BAD_RESPONSE', message: expect.stringContaining('more than') }, SECRETS);
    const t0 = Date.now();
    await expectFailure(ark(await start({ slowMs: 2000 }), { timeoutMs: 300 }).resolve('RDP-Targets/web01-svc-rdp'), { code: 'PROVIDER_UNAVAILABLE' }, SECRETS);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('the client key passphrase: from passphraseEnv or inline it unlocks the key; wrong or unset it is CONFIG_INVALID, never shown', async () => {
    cc = await cyberArkClientCert();
    const x = await start({ requireClientCertSha256: cc.sha });
    const mtls = { certFile: cc.cert, keyFile: cc.encryptedKey };
    expect((await ark(x, { ...mtls, passphraseEnv: 'P', env: { P: ARK_KEY_PASSPHRASE } }).resolve('RDP-Targets/web01-svc-rdp')).secret.reveal()).toBe(ARK_PASSWORD);
    expect((await ark(x, { ...mtls, passphrase: ARK_KEY_PASSPHRASE }).resolve('RDP-Targets/web01-svc-rdp')).username).toBe('svc-rdp');
    const before = x.requests.length;
    const e = await expectFailure(ark(x, { ...mtls, passphraseEnv: 'P', env: { P: WRONG_PASSPHRASE } }).resolve('RDP-Targets/web01-svc-rdp'), { code: 'CONFIG_INVALID', message: expect.stringContaining('passphrase') }, SECRETS);
    expect(e.message).toMatch(/check certFile, keyFile and the key's passphrase/);
    expect(x.requests.length).toBe(before);
    // without a passphrase the encrypted key cannot be used either
    await expectFailure(ark(x, mtls).resolve('RDP-Targets/web01-svc-rdp'), { code: 'CONFIG_INVALID' }, SECRETS);
    expectThrow(() => ark(x, { ...mtls, passphraseEnv: 'CCP_UNSET_PASS', env: {} }), { code: 'CONFIG_INVALID', message: expect.stringContaining('CCP_UNSET_PASS, which is not set') }, SECRETS);
    // the provider object itself does not show the passphrase
    const p = ark(x, { ...mtls, passphrase: ARK_KEY_PASSPHRASE });
    expect(JSON.stringify(Object.keys(p)) + String(p)).not.toContain(ARK_KEY_PASSPHRASE);
  });
});
