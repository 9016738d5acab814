import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { fromCyberArkCcp } from '../../src/providers/cyberark.js';
import { providerConformance } from './suite.js';
import { startCyberArk, APP_ID } from '../fixtures/vendors/cyberark.js';
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
  const base = { url: srv.url, caFile: srv.caFile, appId: APP_ID, certFile: cc.cert, keyFile: cc.key, backoffMs: 5 };
  return {
    provider: fromCyberArkCcp(base),
    okRef: 'RDP-Targets/web01-svc-rdp',
    expect: { username: 'svc-rdp', password: 'CyberArk!Managed-Pass', changedAt: new Date(1763980800 * 1000) },
    notFoundRef: 'RDP-Targets/nope',
    authFailProvider: fromCyberArkCcp({ url: srv.url, caFile: srv.caFile, appId: APP_ID }),
    unavailableProvider: fromCyberArkCcp({ ...base, url: `https://127.0.0.1:${await closedPort()}`, retries: 1 }),
    secrets: ['CyberArk!Managed-Pass'],
    teardown: async () => {
      await srv.close();
      fs.rmSync(cc.dir, { recursive: true, force: true });
    },
  };
});

describe('cyberark-ccp specifics', () => {
  it('maps CyberArk error codes and retries 5xx', async () => {
    const srv = await startCyberArk({ failFirst: [500] });
    try {
      const p = fromCyberArkCcp({ url: srv.url, caFile: srv.caFile, appId: APP_ID, backoffMs: 5 });
      expect((await p.resolve('RDP-Targets/web01-svc-rdp')).username).toBe('svc-rdp');
      await expect(p.resolve('RDP-Targets/zzz')).rejects.toMatchObject({ code: 'PROVIDER_NOT_FOUND', details: { errorCode: 'APPAP004E', status: 404 } });
      await expect(fromCyberArkCcp({ url: srv.url, caFile: srv.caFile, appId: 'Other' }).resolve('RDP-Targets/web01-svc-rdp')).rejects.toMatchObject({ code: 'PROVIDER_AUTH_FAILED', details: { errorCode: 'APPAP306E' } });
      expect(srv.requests.at(-1)!.url).toBe('/AIMWebService/api/Accounts?AppID=Other&Safe=RDP-Targets&Object=web01-svc-rdp');
      await expect(p.resolve('web01-svc-rdp')).rejects.toThrow(/needs a safe/);
    } finally {
      await srv.close();
    }
  });
});
