/**
 * The HTTP client every vault provider uses: node:https with a custom CA and client certificate,
 * an overall deadline and the caller's AbortSignal, a response size cap, JSON + zod parsing,
 * retries of 429 (honouring Retry-After) and 5xx with jittered exponential backoff inside the
 * deadline — never of an authentication failure — and errors that name the URL (without its
 * query) and the status, never a token or a body that might hold a secret.
 * Every request passes the plain-http rule (transport-rule.ts) before a byte is sent, goes through
 * HTTPS_PROXY / HTTP_PROXY unless NO_PROXY exempts it (proxy.ts), or through the caller's agent.
 * A deadline — the client's or a timed-out caller signal — is PROVIDER_UNAVAILABLE, never ABORTED.
 */
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import fs from 'node:fs';
import type { z } from 'zod';
import { sleep } from '../core/abort.js';
import { ConfigError, CredgateError, ProviderError, disposedError, timedOut, type ErrorCode } from '../core/errors.js';
import { CHANNELS, publish, traced } from '../core/telemetry.js';
import { plainHttpRefusal, type EndpointKind } from './transport-rule.js';
import { TunnelAgent, proxyFor, proxySettings, type ProxySettings } from './proxy.js';

// node:http and node:https as plain modules, not through an ESM import: on Node 24 the ESM view of
// node:http reads every export, undici's included (~25 ms at `import('credgate')`, for a client
// most callers never use)
const http: typeof Http = process.getBuiltinModule('node:http');
const https: typeof Https = process.getBuiltinModule('node:https');

export interface HttpOptions {
  /** CA bundle file(s) for the vault's TLS certificate. */
  caFile?: string | string[];
  ca?: string | Buffer | Array<string | Buffer>;
  /** mTLS client certificate + key (PEM files), e.g. CyberArk CCP. */
  certFile?: string;
  keyFile?: string;
  /** Client key passphrase: never printed. */
  passphrase?: string;
  /** Overall deadline per resolve, including retries. Default 15,000 ms. */
  timeoutMs?: number;
  /** Largest response body accepted. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Retries for 429 / 5xx / connection errors. Default 3. */
  retries?: number;
  /** First backoff step; doubles with jitter. Default 200 ms. */
  backoffMs?: number;
  /** A proxy URL for every request, or false for none; default HTTPS_PROXY / HTTP_PROXY / NO_PROXY from `env`. */
  proxy?: string | false;
  /** The caller's agent for https requests (a proxy agent, a pool of their own); credgate then does no proxying. */
  agent?: Http.Agent;
  /** The named opt-in for plain http to a loopback vault (a dev server); see transport-rule.ts. */
  insecureLoopbackHttp?: boolean;
  /** Where proxy variables are read; default process.env. */
  env?: Record<string, string | undefined>;
}

export interface HttpRequest {
  method?: 'GET' | 'POST' | 'PUT';
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Status codes that are answers, not faults (e.g. 404 → not found). */
  accept?: number[];
  /**
   * When the retries for 429/5xx are used up, hand back the last response instead of throwing, so
   * the provider can map the vendor's error body (CyberArk's APPAP282E "password being changed").
   */
  returnLast?: boolean;
  /** Further answers to retry like a 429, e.g. AWS's 400 ThrottlingException. Never an auth failure. */
  retryable?: (res: HttpResponse) => boolean;
  /** This request's own deadline and retries, below the client's (a best-effort side call such as Vault's metadata read). */
  timeoutMs?: number;
  retries?: number;
  /** "metadata": a cloud metadata endpoint (plain http to link-local or loopback, never proxied). Default "vault". */
  kind?: EndpointKind;
}

export interface HttpResponse {
  status: number;
  headers: Http.IncomingHttpHeaders;
  body: Buffer;
}

/** The URL for messages: scheme, host and path; no query string (it may carry secrets). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

function readFiles(f: string | string[] | undefined, what: string): Buffer[] {
  if (!f) return [];
  return (Array.isArray(f) ? f : [f]).map((p) => {
    try {
      return fs.readFileSync(p);
    } catch (e) {
      throw new CredgateError(`Cannot read the ${what} ${p} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, { code: 'CONFIG_INVALID', cause: e, details: { path: p } });
    }
  });
}

export class HttpClient {
  private readonly agent: Https.Agent;
  private readonly plainAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  private readonly tls: Https.RequestOptions;
  private readonly tunnels = new Map<string, TunnelAgent>();
  private proxies: ProxySettings | undefined;
  private disposed = false;

  constructor(private readonly provider: string, private readonly o: HttpOptions = {}) {
    const ca = [...readFiles(o.caFile, 'CA file'), ...(o.ca === undefined ? [] : Array.isArray(o.ca) ? o.ca : [o.ca])];
    const cert = o.certFile ? readFiles(o.certFile, 'client certificate')[0] : undefined;
    const key = o.keyFile ? readFiles(o.keyFile, 'client key')[0] : undefined;
    // per request, so a caller's agent and a proxy tunnel verify and present the same as a direct connection
    this.tls = { ...(ca.length ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(o.passphrase ? { passphrase: o.passphrase } : {}) };
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 8 });
  }

  private fail(code: ErrorCode, message: string, details: Record<string, unknown>, cause?: unknown): ProviderError {
    return new ProviderError(message, { code, details: { provider: this.provider, ...details }, ...(cause ? { cause: sanitizeCause(cause) } : {}) });
  }

  /** One request with retries inside the deadline. */
  async request(req: HttpRequest, signal?: AbortSignal): Promise<HttpResponse> {
    if (this.disposed) throw disposedError(`${this.provider} provider`, 'create a new one', { provider: this.provider });
    const timeoutMs = Math.min(req.timeoutMs ?? Infinity, this.o.timeoutMs ?? 15_000);
    const endAt = Date.now() + timeoutMs;
    const deadline = AbortSignal.timeout(timeoutMs);
    const sig = signal ? AbortSignal.any([signal, deadline]) : deadline;
    const retries = Math.min(req.retries ?? Infinity, this.o.retries ?? 3);
    const base = this.o.backoffMs ?? 200;
    const where = displayUrl(req.url);
    const route = this.route(req);
    // a deadline (ours, or a caller's signal that timed out) is the backend not answering, never the caller's abort
    const stopped = (attempts: number, last?: string): CredgateError => signal?.aborted && !timedOut(signal)
      ? new CredgateError(`The request to ${where} was aborted by the caller.`, { code: 'ABORTED' })
      : this.fail('PROVIDER_UNAVAILABLE', `${this.provider} at ${where}${route.via} did not answer within ${signal?.aborted ? "the caller's deadline" : `${timeoutMs} ms`}${last ? ` (last: ${last})` : ''}; check that it is up and reachable, or raise the timeout.`, { url: where, attempts, timeout: true, ...route.details });
    let attempt = 0;
    for (;;) {
      let res: HttpResponse | undefined;
      let netErr: ProviderError | undefined;
      try {
        res = await traced(CHANNELS.provider, { op: 'request', provider: this.provider, method: req.method ?? 'GET', url: where, attempt: attempt + 1, ...route.details },
          () => this.once(req, sig, route.agent), (r) => ({ status: r.status }));
      } catch (e) {
        if (signal?.aborted || deadline.aborted) throw stopped(attempt + 1);
        if (e instanceof CredgateError && (e.code === 'PROVIDER_BAD_RESPONSE' || e.code === 'CONFIG_INVALID')) throw e;
        const tlsCode = (e as NodeJS.ErrnoException).code;
        if (tlsCode && /^ERR_OSSL_/.test(tlsCode)) {
          // our own client key or certificate is unusable (wrong passphrase, mismatched pair): a config fault
          throw new CredgateError(`The ${this.provider} provider cannot use its client certificate or key (${tlsCode}); check certFile, keyFile and the key's passphrase.`, { code: 'CONFIG_INVALID', details: { provider: this.provider, tls: tlsCode } });
        }
        if (tlsCode && TLS_CODES.test(tlsCode)) {
          // a certificate problem does not fix itself: no retry
          throw this.fail('PROVIDER_UNAVAILABLE', `The TLS certificate of ${this.provider} at ${where} was rejected (${tlsCode}); set caFile to the CA that issued it.`, { url: where, tls: tlsCode }, e);
        }
        netErr = e instanceof ProviderError ? e : this.fail('PROVIDER_UNAVAILABLE', `Cannot reach ${this.provider} at ${where}${route.via}: ${(e as NodeJS.ErrnoException).code ?? 'connection failed'}.`, { url: where, ...route.details }, e);
      }
      const throttled = res !== undefined && (res.status === 429 || (req.retryable?.(res) ?? false));
      if (res && !(throttled || res.status >= 500)) return res;
      if (attempt >= retries) {
        if (netErr) throw netErr;
        if (req.returnLast && res) return res;
        throw throttled
          ? this.fail('PROVIDER_RATE_LIMITED', `${this.provider} kept answering ${res!.status === 429 ? '429 Too Many Requests' : `${res!.status} (throttled)`} at ${where} (${attempt + 1} attempts).`, { url: where, status: res!.status, attempts: attempt + 1 })
          : this.fail('PROVIDER_UNAVAILABLE', `${this.provider} answered ${res!.status} at ${where} (${attempt + 1} attempts).`, { url: where, status: res!.status, attempts: attempt + 1 });
      }
      let wait = base * 2 ** attempt * (0.5 + Math.random());
      const ra = res?.headers['retry-after'];
      const retryAfterMs = typeof ra === 'string' ? parseRetryAfter(ra) : undefined;
      if (retryAfterMs !== undefined) wait = Math.max(wait, retryAfterMs);
      if (Date.now() + wait >= endAt) {
        // the server asks for a pause longer than the deadline allows: report now, do not sleep into the deadline
        throw throttled
          ? this.fail('PROVIDER_RATE_LIMITED', `${this.provider} answered ${res!.status === 429 ? '429 Too Many Requests' : `${res!.status} (throttled)`} at ${where} and asked to wait ${Math.ceil(wait / 1000)} s, beyond the ${timeoutMs} ms deadline; retry later or raise the timeout.`, { url: where, status: res!.status, attempts: attempt + 1, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) })
          : netErr ?? this.fail('PROVIDER_UNAVAILABLE', `${this.provider} answered ${res!.status} at ${where} and no retry fits in the ${timeoutMs} ms deadline.`, { url: where, status: res!.status, attempts: attempt + 1 });
      }
      attempt++;
      publish(CHANNELS.retry, { what: 'http', provider: this.provider, url: where, attempt: attempt + 1, waitMs: wait, reason: res ? String(res.status) : String((netErr?.cause as NodeJS.ErrnoException | undefined)?.code ?? netErr?.code) });
      await sleep(wait, sig);
      if (sig.aborted) {
        if (throttled && !(signal?.aborted && !timedOut(signal))) throw this.fail('PROVIDER_RATE_LIMITED', `${this.provider} kept throttling at ${where} until the deadline (last: ${res!.status}).`, { url: where, attempts: attempt });
        throw stopped(attempt, res ? String(res.status) : 'no connection');
      }
    }
  }

  /**
   * The plain-http rule, then the way there: the caller's agent, a CONNECT tunnel through the proxy
   * the environment names (unless NO_PROXY exempts the host), or a direct connection. Refusals are
   * CONFIG_INVALID before any I/O. `via` and `details` name the proxy (host only) for messages.
   */
  private route(req: HttpRequest): { agent: Http.Agent; via: string; details: Record<string, unknown> } {
    let u: URL;
    try {
      u = new URL(req.url);
    } catch {
      throw new ConfigError(`The ${this.provider} provider built an invalid URL; check its address option.`, { code: 'CONFIG_INVALID', details: { provider: this.provider } });
    }
    const why = plainHttpRefusal(u, { kind: req.kind ?? 'vault', ...(this.o.insecureLoopbackHttp ? { insecureLoopbackHttp: true } : {}) });
    if (why) throw new ConfigError(`The ${this.provider} provider will not send this request: ${why}.`, { code: 'CONFIG_INVALID', details: { provider: this.provider, url: displayUrl(req.url), scheme: u.protocol.replace(':', '') } });
    // metadata endpoints are this machine's (link-local or loopback): never through a proxy, never the caller's agent
    if (req.kind === 'metadata') return { agent: this.plainAgent, via: '', details: {} };
    if (u.protocol === 'https:' && this.o.agent) return { agent: this.o.agent, via: '', details: {} };
    this.proxies ??= proxySettings(this.o.env ?? process.env, this.o.proxy);
    const p = proxyFor(u, this.proxies);
    if (!p) return { agent: u.protocol === 'https:' ? this.agent : this.plainAgent, via: '', details: {} };
    if (u.protocol !== 'https:') {
      throw new ConfigError(`The ${this.provider} provider will not send a plain-http request through the proxy ${p.url.host} (${p.from}): the proxy would read the token or password. Add ${u.hostname} to NO_PROXY, or use https://.`, { code: 'CONFIG_INVALID', details: { provider: this.provider, url: displayUrl(req.url), proxy: p.url.host } });
    }
    let t = this.tunnels.get(p.url.href);
    if (!t) this.tunnels.set(p.url.href, (t = new TunnelAgent(p.url, this.provider, this.o.timeoutMs ?? 15_000, (this.tls.ca as Array<string | Buffer> | undefined) ?? [])));
    return { agent: t, via: ` via the proxy ${p.url.host} (${p.from})`, details: { proxy: p.url.host } };
  }

  private once(req: HttpRequest, signal: AbortSignal, agent: Http.Agent): Promise<HttpResponse> {
    const u = new URL(req.url);
    const mod = u.protocol === 'https:' ? https : http;
    const max = this.o.maxBodyBytes ?? 1024 * 1024;
    return new Promise((resolve, reject) => {
      const r = mod.request(u, {
        method: req.method ?? 'GET',
        headers: { accept: 'application/json', 'user-agent': 'credgate', ...req.headers, ...(req.body ? { 'content-length': String(Buffer.byteLength(req.body)) } : {}) },
        agent,
        ...(u.protocol === 'https:' ? this.tls : {}),
        signal,
      }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > max) {
            res.destroy();
            reject(this.fail('PROVIDER_BAD_RESPONSE', `${this.provider} sent more than ${max} bytes from ${displayUrl(req.url)}; refusing to read on.`, { url: displayUrl(req.url), limit: max }));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      r.on('error', reject);
      if (req.body) r.end(req.body);
      else r.end();
    });
  }

  /** Parse a JSON body with a schema; a mismatch is PROVIDER_BAD_RESPONSE naming the field, never echoing values. */
  json<T extends z.ZodTypeAny>(res: HttpResponse, schema: T, url: string): z.infer<T> {
    let data: unknown;
    try {
      data = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw this.fail('PROVIDER_BAD_RESPONSE', `${this.provider} answered ${res.status} from ${displayUrl(url)} with a body that is not JSON.`, { url: displayUrl(url), status: res.status });
    }
    const r = schema.safeParse(data);
    if (!r.success) {
      const i = r.error.issues[0]!;
      throw this.fail('PROVIDER_BAD_RESPONSE', `${this.provider} answered ${displayUrl(url)} without the expected field ${i.path.join('.') || '(root)'} (${i.code}).`, { url: displayUrl(url), status: res.status, field: i.path.join('.') });
    }
    return r.data;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.agent.destroy();
    this.plainAgent.destroy();
    for (const t of this.tunnels.values()) t.destroy();
    this.tunnels.clear();
  }
}


const TLS_CODES = /^(ERR_TLS_|CERT_|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_SELF_SIGNED_CERT|ERR_SSL_|HOSTNAME_MISMATCH)/;

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3), in ms (finite, ≥ 0); undefined when unusable. */
export function parseRetryAfter(value: string, now = Date.now()): number | undefined {
  const v = value.trim();
  // capped at the longest timer Node can set (~24.8 days): "later than any deadline" either way
  if (/^\d+$/.test(v)) return Math.min(Number(v) * 1000, MAX_WAIT_MS);
  const t = Date.parse(v);
  if (!Number.isFinite(t)) return undefined;
  return Math.min(Math.max(0, t - now), MAX_WAIT_MS);
}

const MAX_WAIT_MS = 2 ** 31 - 1;


/** Keep only the code and a message without request details from a low-level error. */
function sanitizeCause(e: unknown): Error {
  const code = (e as NodeJS.ErrnoException)?.code;
  const err = new Error(code ? String(code) : 'request failed');
  if (code) (err as NodeJS.ErrnoException).code = code;
  return err;
}
