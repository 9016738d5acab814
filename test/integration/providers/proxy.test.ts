// The providers behind a real forward proxy: Debian's tinyproxy on a loopback port, started and
// stopped by PID. HTTPS_PROXY sends the vault request through a CONNECT tunnel (the proxy logs the
// CONNECT, never sees the token); NO_PROXY exempts a host; a caller-supplied agent replaces credgate's
// own proxying; a secret-bearing request is never sent in plain http to a proxy (refused before any
// byte); metadata requests never use the proxy; proxy credentials (407) and an https:// proxy work;
// a proxy that refuses the tunnel is PROVIDER_UNAVAILABLE naming the proxy, never the target's fault.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { fromVault } from '../../../src/providers/vault.js';
import { HttpClient } from '../../../src/providers/http.js';
import { startVault, VAULT_TOKEN, KV2_DATA, type VaultFixture } from '../../fixtures/vendors/vault.js';
import { startHttp, json, fixtureTls, type FixtureServer } from '../../fixtures/vendors/tls.js';
import { startTinyproxy, PROXY_PASSWORD, type Tinyproxy } from '../../fixtures/vendors/tinyproxy.js';
import { expectFailure } from '../../helpers/provider-conformance.js';

const PASSWORD = KV2_DATA['rdp/web01'].versions[1]!.data.password;
const SECRETS = [VAULT_TOKEN, PASSWORD, PROXY_PASSWORD];
let proxy: Tinyproxy;
let vault: VaultFixture;
let devVault: VaultFixture;
let metadata: FixtureServer;

beforeAll(async () => {
  [proxy, vault, devVault, metadata] = await Promise.all([
    startTinyproxy(), startVault(), startVault({ plainHttp: true }), startHttp((_req, _b, res) => json(res, 200, { ok: true })),
  ]);
});
afterAll(async () => {
  await Promise.all([proxy?.stop(), vault?.close(), devVault?.close(), metadata?.close()]);
});

const port = (url: string) => new URL(url).port;
const viaEnv = (env: Record<string, string>, extra: Record<string, unknown> = {}) => fromVault({ address: vault.url, caFile: vault.caFile, tokenEnv: 'VT', env: { VT: VAULT_TOKEN, ...env }, ...extra });

describe('providers behind tinyproxy', () => {
  it('HTTPS_PROXY: the vault request goes through a CONNECT tunnel; the proxy never sees the token', async () => {
    const before = proxy.connects().length;
    const reqs = vault.requests.length;
    await using p = viaEnv({ HTTPS_PROXY: proxy.url() });
    const c = await p.resolve('kv2:secret/rdp/web01');
    expect(c.secret.reveal()).toBe(PASSWORD);
    const tunnels = proxy.connects().slice(before);
    expect(tunnels.length).toBeGreaterThan(0);
    expect(tunnels.every((t) => t === `127.0.0.1:${port(vault.url)}`)).toBe(true);
    expect(vault.requests.length).toBeGreaterThan(reqs);
    expect(proxy.plainRequests()).toEqual([]);
    for (const s of SECRETS) expect(proxy.log()).not.toContain(s);
  });

  it('lowercase https_proxy wins over HTTPS_PROXY, as curl and Node read them', async () => {
    const before = proxy.connects().length;
    await using p = viaEnv({ https_proxy: proxy.url(), HTTPS_PROXY: 'http://127.0.0.1:1' });
    await p.resolve('kv2:secret/rdp/web01');
    expect(proxy.connects().length).toBeGreaterThan(before);
  });

  it('NO_PROXY exempts the host (by name, IP, CIDR or host:port): a direct connection, nothing in the proxy log', async () => {
    for (const noProxy of ['127.0.0.1', '127.0.0.0/8', `127.0.0.1:${port(vault.url)}`, '*', 'example.org, 127.0.0.1']) {
      const before = proxy.connects().length;
      await using p = viaEnv({ HTTPS_PROXY: proxy.url(), NO_PROXY: noProxy });
      const c = await p.resolve('kv2:secret/rdp/web01');
      expect(c.secret.reveal()).toBe(PASSWORD);
      expect(proxy.connects().length, `NO_PROXY=${noProxy}`).toBe(before);
    }
    // a port that does not match, or another domain, still goes through the proxy
    const before = proxy.connects().length;
    await using p = viaEnv({ HTTPS_PROXY: proxy.url(), no_proxy: '127.0.0.1:1,corp.example' });
    await p.resolve('kv2:secret/rdp/web01');
    expect(proxy.connects().length).toBeGreaterThan(before);
  });

  it('the proxy option overrides the environment; proxy: false ignores it', async () => {
    let before = proxy.connects().length;
    await using a = viaEnv({ HTTPS_PROXY: 'http://127.0.0.1:1' }, { proxy: proxy.url() });
    await a.resolve('kv2:secret/rdp/web01');
    expect(proxy.connects().length).toBeGreaterThan(before);
    before = proxy.connects().length;
    await using b = viaEnv({ HTTPS_PROXY: proxy.url() }, { proxy: false });
    await b.resolve('kv2:secret/rdp/web01');
    expect(proxy.connects().length).toBe(before);
  });

  it('a caller-supplied agent is used as is: credgate does no proxying of its own', async () => {
    let created = 0;
    class CountingAgent extends https.Agent {
      override createConnection(...args: Parameters<https.Agent['createConnection']>) {
        created++;
        return super.createConnection(...args);
      }
    }
    const agent = new CountingAgent({ keepAlive: false });
    const before = proxy.connects().length;
    await using p = viaEnv({ HTTPS_PROXY: proxy.url() }, { agent });
    const c = await p.resolve('kv2:secret/rdp/web01');
    expect(c.secret.reveal()).toBe(PASSWORD);
    expect(created).toBeGreaterThan(0);
    expect(proxy.connects().length).toBe(before);
    agent.destroy();
  });

  it('never sends a token to a proxy over plain http: refused before any byte, naming NO_PROXY', async () => {
    const before = proxy.log().length;
    const reqs = devVault.requests.length;
    await using p = fromVault({ address: devVault.url, tokenEnv: 'VT', env: { VT: VAULT_TOKEN, HTTP_PROXY: proxy.url() }, insecureLoopbackHttp: true });
    const e = await expectFailure(p.resolve('kv2:secret/rdp/web01'), { code: 'CONFIG_INVALID' }, SECRETS);
    expect(e.message).toMatch(/plain-http request through the proxy/);
    expect(e.message).toMatch(/NO_PROXY/);
    expect(proxy.log().slice(before)).not.toMatch(/Request/);
    expect(proxy.plainRequests()).toEqual([]);
    expect(devVault.requests.length).toBe(reqs);
    // with the dev server exempted, it goes direct
    await using q = fromVault({ address: devVault.url, tokenEnv: 'VT', env: { VT: VAULT_TOKEN, HTTP_PROXY: proxy.url(), NO_PROXY: '127.0.0.1' }, insecureLoopbackHttp: true });
    expect((await q.resolve('kv2:secret/rdp/web01')).secret.reveal()).toBe(PASSWORD);
  });

  it('metadata requests never go through the proxy', async () => {
    const c = new HttpClient('test', { env: { HTTP_PROXY: proxy.url(), HTTPS_PROXY: proxy.url() } });
    try {
      const before = proxy.log().length;
      const r = await c.request({ url: `${metadata.url}/latest/api/token`, method: 'PUT', kind: 'metadata' });
      expect(r.status).toBe(200);
      expect(metadata.requests.at(-1)?.url).toBe('/latest/api/token');
      expect(proxy.log().slice(before)).not.toMatch(/Request/);
    } finally {
      c.dispose();
    }
  });

  it('a proxy that refuses the tunnel (ConnectPort) is PROVIDER_UNAVAILABLE naming the proxy', async () => {
    const strict = await startTinyproxy({ connectPorts: [443] });
    try {
      await using p = viaEnv({ HTTPS_PROXY: strict.url() }, { retries: 0 });
      const e = await expectFailure(p.resolve('kv2:secret/rdp/web01'), { code: 'PROVIDER_UNAVAILABLE' }, SECRETS);
      expect(e.message).toMatch(new RegExp(`proxy 127\\.0\\.0\\.1:${strict.port}`));
      expect(e.message).toMatch(/403/);
    } finally {
      await strict.stop();
    }
  });

  it('proxy credentials: 407 without them is CONFIG_INVALID; with them in the URL the tunnel opens; they never print', async () => {
    const authed = await startTinyproxy({ basicAuth: true });
    try {
      await using p = viaEnv({ HTTPS_PROXY: authed.url(false) });
      const e = await expectFailure(p.resolve('kv2:secret/rdp/web01'), { code: 'CONFIG_INVALID' }, SECRETS);
      expect(e.message).toMatch(/407/);
      await using q = viaEnv({ HTTPS_PROXY: authed.url(true) });
      expect((await q.resolve('kv2:secret/rdp/web01')).secret.reveal()).toBe(PASSWORD);
      expect(authed.connects().length).toBeGreaterThan(0);
      // an unreachable target behind the authenticated proxy: the error names the proxy host, not its password
      await using r = fromVault({ address: 'https://127.0.0.1:1', caFile: vault.caFile, tokenEnv: 'VT', env: { VT: VAULT_TOKEN, HTTPS_PROXY: authed.url(true) }, retries: 0 });
      await expectFailure(r.resolve('kv2:secret/rdp/web01'), { code: 'PROVIDER_UNAVAILABLE' }, SECRETS);
    } finally {
      await authed.stop();
    }
  });

  it('an https:// proxy (TLS to the proxy, then CONNECT inside it) works', async () => {
    const t = await fixtureTls();
    // TLS in front of tinyproxy: a proxy reached over https
    const front = tls.createServer({ cert: t.cert, key: t.key }, (s) => {
      const up = net.connect(proxy.port, '127.0.0.1');
      s.pipe(up).pipe(s);
      s.on('error', () => up.destroy());
      up.on('error', () => s.destroy());
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
    try {
      const before = proxy.connects().length;
      await using p = viaEnv({ HTTPS_PROXY: `https://127.0.0.1:${(front.address() as AddressInfo).port}` });
      expect((await p.resolve('kv2:secret/rdp/web01')).secret.reveal()).toBe(PASSWORD);
      expect(proxy.connects().length).toBeGreaterThan(before);
    } finally {
      await new Promise<void>((r) => front.close(() => r()));
    }
  });

  it('an unsupported proxy scheme is CONFIG_INVALID naming the variable and the agent option', async () => {
    await using p = viaEnv({ HTTPS_PROXY: 'socks5://127.0.0.1:1080' });
    const e = await expectFailure(p.resolve('kv2:secret/rdp/web01'), { code: 'CONFIG_INVALID' }, SECRETS);
    expect(e.message).toMatch(/HTTPS_PROXY/);
    expect(e.message).toMatch(/agent/);
  });
});
