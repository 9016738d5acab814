import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { describe, it, expect, afterEach } from 'vitest';
import { fromCyberArkCcp } from '../../src/providers/cyberark.js';
import { providerConformance } from './suite.js';
import { startCyberArk, APP_ID, ARK_PASSWORD, type CyberArkKnobs } from '../fixtures/vendors/cyberark.js';
import { makeCA, issueCert } from '../lab/pki.mjs';
import { closedPort } from '../helpers/servers.js';

async function clientCert() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-ark-'));
  const ca = await makeCA(dir, { cn: 'client CA' });
  const c = await issueCert(ca, 'client', { cn: 'pam-preflight-app' });
  const sha = crypto.createHash('sha256').update(new crypto.X509Certificate(fs.readFileSync(c.cert)).raw).digest('hex');
  return { ...c, sha, dir };
}

providerConformance('cyberark-ccp (mTLS)', { auth: true, unavailable: true }, async () => {
  const cc = await clientCert();
  const srv = await startCyberArk({ requireClientCertSha256: cc.sha });
  const slow = await startCyberArk({ requireClientCertSha256: cc.sha, slowMs: 3000 });
  const base = { url: srv.url, caFile: srv.caFile, appId: APP_ID, certFile: cc.cert, keyFile: cc.key, backoffMs: 5 };
  return {
    provider: fromCyberArkCcp(base),
    okRef: 'RDP-Targets/web01-svc-rdp',
    expect: { username: 'svc-rdp', password: 'CyberArk!Managed-Pass', changedAt: new Date(1763980800 * 1000) },
    notFoundRef: 'RDP-Targets/nope',
    authFailProvider: fromCyberArkCcp({ url: srv.url, caFile: srv.caFile, appId: APP_ID }),
    unavailableProvider: fromCyberArkCcp({ ...base, url: `https://127.0.0.1:${await closedPort()}`, retries: 1 }),
    slowProvider: fromCyberArkCcp({ ...base, url: slow.url }),
    secrets: [ARK_PASSWORD],
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
    await expect(ark(x).resolve('RDP-Targets/zzz')).rejects.toMatchObject({ code: 'PROVIDER_NOT_FOUND', details: { errorCode: 'APPAP004E', status: 404 } });
    await expect(ark(x).resolve('Safe=RDP-Targets')).rejects.toMatchObject({ code: 'PROVIDER_BAD_RESPONSE', details: { errorCode: 'APPAP229E' }, message: expect.stringContaining('name the Object or refine the Query') });
    await expect(ark(x).resolve('Folder=Root')).rejects.toMatchObject({ code: 'CONFIG_INVALID', details: { errorCode: 'AIMWS030E' } });
    await expect(ark(x, { appId: 'Other' }).resolve('RDP-Targets/web01-svc-rdp')).rejects.toMatchObject({ code: 'PROVIDER_AUTH_FAILED', details: { errorCode: 'APPAP306E' } });
    await expect(ark(x, { appId: 'Undefined-App' }).resolve('RDP-Targets/web01-svc-rdp')).rejects.toMatchObject({ code: 'PROVIDER_AUTH_FAILED', details: { errorCode: 'APPAP008E' } });
    await expect(ark(await start({ vaultDown: true })).resolve('RDP-Targets/web01-svc-rdp')).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE', details: { errorCode: 'APPAP007E' } });
    await expect(ark(x).resolve('web01-svc-rdp')).rejects.toThrow(/needs a safe/);
  });

  it('APPAP282E (the CPM is changing the password) is retried, then reported with its code', async () => {
    const x = await start();
    const before = x.requests.length;
    await expect(ark(x, { retries: 2 }).resolve('RDP-Targets/rotating-now')).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE', details: { errorCode: 'APPAP282E', status: 500 }, message: expect.stringContaining('retry in a minute') });
    expect(x.requests.length - before).toBe(3);
  });

  it('retries 5xx and 429 with Retry-After; 429 to the end is PROVIDER_RATE_LIMITED', async () => {
    const x = await start({ failFirst: [500, 429] });
    expect((await ark(x).resolve('RDP-Targets/web01-svc-rdp')).username).toBe('svc-rdp');
    expect(x.requests).toHaveLength(3);
    await expect(ark(await start({ failFirst: [429, 429, 429] }), { retries: 2 }).resolve('RDP-Targets/web01-svc-rdp')).rejects.toMatchObject({ code: 'PROVIDER_RATE_LIMITED', details: { status: 429 } });
  });

  it('malformed and oversized bodies are bad responses; a slow CCP hits the deadline', async () => {
    await expect(ark(await start({ malformed: true })).resolve('RDP-Targets/web01-svc-rdp')).rejects.toMatchObject({ code: 'PROVIDER_BAD_RESPONSE', message: expect.stringContaining('not JSON') });
    await expect(ark(await start({ hugeBody: true })).resolve('RDP-Targets/web01-svc-rdp')).rejects.toMatchObject({ code: 'PROVIDER_BAD_RESPONSE', message: expect.stringContaining('more than') });
    const t0 = Date.now();
    await expect(ark(await start({ slowMs: 2000 }), { timeoutMs: 300 }).resolve('RDP-Targets/web01-svc-rdp')).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(Date.now() - t0).toBeLessThan(1500);
  });
});
