// The shared HTTP client, against real local HTTPS servers: retries (429 Retry-After as seconds and as
// an HTTP date, 5xx), never retrying 401/403, the deadline, the caller's abort, the size cap, TLS
// verification (custom CA; no retry of a rejected certificate), mTLS with an encrypted client key,
// zod parsing, and no token / query string / passphrase in any error.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import util from 'node:util';
import type { TLSSocket } from 'node:tls';
import { z } from 'zod';
import { HttpClient, displayUrl, parseRetryAfter } from '../../../src/providers/http.js';
import { scrub } from '../../../src/core/secret.js';
import { CredgateError } from '../../../src/core/errors.js';
import { startHttps, json, type FixtureServer } from '../../fixtures/vendors/tls.js';
import { makeCA, issueCert } from '../../lab/pki.mjs';
import { closedPort } from '../../helpers/servers.js';

const TOKEN = 'tok-Sup3rSecret-query-value';
const PASSPHRASE = 'client-key-Passphrase-9z';
let srv: FixtureServer;
let hits: Record<string, number>;
let dir: string;
let client: { cert: string; key: string; encKey: string; sha: string };

const leakFree = (e: unknown, secrets: string[]) => {
  const ce = e as CredgateError;
  const all = [ce.message, JSON.stringify(ce), util.inspect(ce, { depth: 6 }), String(ce.stack), JSON.stringify(ce.toJSON?.() ?? {})].join('\n');
  for (const s of secrets) expect(all).not.toContain(s);
};
const caught = async (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as CredgateError);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-http-'));
  const ca = await makeCA(dir, { cn: 'http test client CA' });
  const c = await issueCert(ca, 'client', { cn: 'credgate-client' });
  const encKey = path.join(dir, 'client-enc.key');
  fs.writeFileSync(encKey, crypto.createPrivateKey(fs.readFileSync(c.key)).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSPHRASE }));
  client = { cert: c.cert, key: c.key, encKey, sha: crypto.createHash('sha256').update(new crypto.X509Certificate(fs.readFileSync(c.cert)).raw).digest('hex') };
  hits = {};
  srv = await startHttps((req, _body, res) => {
    const u = new URL(req.url ?? '/', 'https://x');
    const n = (hits[u.pathname] = (hits[u.pathname] ?? 0) + 1);
    switch (u.pathname) {
      case '/ok': return json(res, 200, { value: 'fine', n });
      case '/flaky': return n <= 2 ? json(res, 503, { error: 'busy' }) : json(res, 200, { value: 'fine', n });
      case '/date429': return n === 1 ? json(res, 429, {}, { 'retry-after': new Date(Date.now() + 1000).toUTCString() }) : json(res, 200, { value: 'fine', n });
      case '/always500': return json(res, 500, { error: 'boom' });
      case '/far429': return json(res, 429, {}, { 'retry-after': '120' });
      case '/401': return json(res, 401, { error: 'bad token' });
      case '/403': return json(res, 403, { error: 'forbidden' });
      case '/big': {
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let i = 0; i < 64; i++) res.write('x'.repeat(1024));
        return res.end();
      }
      case '/slow': return void setTimeout(() => json(res, 200, { value: 'late' }), 3000);
      case '/shape': return json(res, 200, { value: 42, secretish: TOKEN });
      case '/mtls': {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        const fp = peer?.raw ? crypto.createHash('sha256').update(peer.raw).digest('hex') : '';
        return fp === client.sha ? json(res, 200, { value: 'client ok' }) : json(res, 403, { error: 'no client certificate' });
      }
      default: return json(res, 404, {});
    }
  }, { requestCert: true });
});
afterAll(async () => {
  await srv.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const mk = (o = {}) => new HttpClient('test', { caFile: srv.caFile, backoffMs: 5, ...o });
const Body = z.object({ value: z.string() });

describe('HttpClient', () => {
  it('retries 5xx with backoff and returns the first good answer', async () => {
    const r = await mk().request({ url: `${srv.url}/flaky` });
    expect(r.status).toBe(200);
    expect(hits['/flaky']).toBe(3);
  });

  it('honours Retry-After given as an HTTP date', async () => {
    const t0 = Date.now();
    expect((await mk().request({ url: `${srv.url}/date429` })).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(hits['/date429']).toBe(2);
  });

  it('gives up after the retries with the attempt count, and reports a Retry-After beyond the deadline at once', async () => {
    const e = await caught(mk({ retries: 2 }).request({ url: `${srv.url}/always500?token=${TOKEN}` }));
    expect(e).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', details: { status: 500, attempts: 3 } });
    leakFree(e, [TOKEN]);
    const t0 = Date.now();
    const f = await caught(mk({ timeoutMs: 5000 }).request({ url: `${srv.url}/far429` }));
    expect(f).toMatchObject({ code: 'PROVIDER_RATE_LIMITED', details: { retryAfterMs: 120000, attempts: 1 } });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('never retries 401 or 403: they are answers for the provider to map', async () => {
    expect((await mk().request({ url: `${srv.url}/401` })).status).toBe(401);
    expect((await mk().request({ url: `${srv.url}/403` })).status).toBe(403);
    expect([hits['/401'], hits['/403']]).toEqual([1, 1]);
  });

  it('caps the body size while streaming', async () => {
    const e = await caught(mk({ maxBodyBytes: 4096 }).request({ url: `${srv.url}/big` }));
    expect(e).toMatchObject({ code: 'PROVIDER_BAD_RESPONSE', details: { limit: 4096 } });
  });

  it('the deadline covers a slow answer; the caller\'s abort wins over it', async () => {
    let t0 = Date.now();
    expect(await caught(mk({ timeoutMs: 300 }).request({ url: `${srv.url}/slow` }))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(Date.now() - t0).toBeLessThan(1500);
    t0 = Date.now();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    expect(await caught(mk().request({ url: `${srv.url}/slow` }, ac.signal))).toMatchObject({ code: 'ABORTED' });
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('verifies TLS: without the CA the certificate is rejected once, with the fix in the message', async () => {
    const before = hits['/ok'] ?? 0;
    const e = await caught(new HttpClient('test', { backoffMs: 5 }).request({ url: `${srv.url}/ok` }));
    expect(e.code).toBe('PROVIDER_UNAVAILABLE');
    expect(e.message).toMatch(/was rejected \(.+\); set caFile/);
    expect(hits['/ok'] ?? 0).toBe(before);
  });

  it('presents a client certificate (mTLS) with an encrypted key; a wrong passphrase is a config error that never shows it', async () => {
    expect((await mk().request({ url: `${srv.url}/mtls` })).status).toBe(403);
    const ok = mk({ certFile: client.cert, keyFile: client.encKey, passphrase: PASSPHRASE });
    expect(ok.json(await ok.request({ url: `${srv.url}/mtls` }), Body, `${srv.url}/mtls`).value).toBe('client ok');
    const bad = mk({ certFile: client.cert, keyFile: client.encKey, passphrase: 'wrong-Passphrase-000' });
    const e = await caught(bad.request({ url: `${srv.url}/mtls` }));
    expect(e.code).toBe('CONFIG_INVALID');
    leakFree(e, [PASSPHRASE, 'wrong-Passphrase-000']);
    ok.dispose();
    ok.dispose();
    expect(await caught(ok.request({ url: `${srv.url}/ok` }))).toMatchObject({ code: 'USAGE', message: expect.stringContaining('disposed') });
  });

  it('a connection refused names host and path, never the query string', async () => {
    const url = `https://127.0.0.1:${await closedPort()}/v1/x?token=${TOKEN}`;
    const e = await caught(mk({ retries: 1 }).request({ url }));
    expect(e).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', message: expect.stringContaining('ECONNREFUSED') });
    expect(e.message).toContain(displayUrl(url));
    leakFree(e, [TOKEN]);
    const f = await caught(mk().request({ url: `${srv.url}/x`, headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => mk().json(r, Body, `${srv.url}/x?t=${TOKEN}`)));
    leakFree(f, [TOKEN]);
  });

  it('json() names the missing field, never its value', async () => {
    const c = mk();
    const url = `${srv.url}/shape`;
    const e = await caught(Promise.resolve().then(async () => c.json(await c.request({ url }), z.object({ value: z.string(), secretish: z.number() }), url)));
    expect(e).toMatchObject({ code: 'PROVIDER_BAD_RESPONSE', details: { field: 'value' } });
    leakFree(e, [TOKEN]);
  });
});

describe('helpers', () => {
  it('parseRetryAfter reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-25T06:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 06:00:30 GMT', now)).toBe(30000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 05:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  it('scrub (the one redaction rule) removes secrets in plain and URL-encoded form, however short', () => {
    expect(scrub('user=a&password=p%40ss+w0rd%21 and p@ss w0rd! and p%40ss%20w0rd!', ['p@ss w0rd!'])).toBe('user=a&password=[REDACTED] and [REDACTED] and [REDACTED]');
    expect(scrub('abc', ['', undefined])).toBe('abc');
    expect(scrub('abc', ['ab'])).toBe('[REDACTED]c');
  });
});
