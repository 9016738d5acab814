/**
 * Observability: what credgate does (preflight steps, provider calls, binds, retries, bulk progress,
 * warnings) published on named `node:diagnostics_channel` channels, handed to the caller's logger,
 * and traced as OpenTelemetry spans when `@opentelemetry/api` is installed (an optional peer).
 *
 * Every event is made by one builder (`build`) that copies only its channel's allowed fields, and
 * only plain values (text, numbers, yes/no, lists of text): a Secret, a password, a token or an
 * error object cannot get in. Nothing is built, looked up or loaded while nobody listens: a
 * channel's `hasSubscribers`, a logger set by `withLogger` and the OpenTelemetry API (looked up
 * once, on the first traced operation) are the only triggers.
 */
import dc from 'node:diagnostics_channel';
import { AsyncLocalStorage } from 'node:async_hooks';
import { lazyOptional } from './lazy.js';

/** The channel names (stable, documented in docs/sdk.md). */
export const CHANNELS = {
  /** A preflight step starts and ends. */
  step: 'credgate:step',
  /** A provider resolves a reference; a provider makes an HTTP request. */
  provider: 'credgate:provider',
  /** An LDAP simple bind of the credential being checked (single check or bulk). */
  bind: 'credgate:bind',
  /** A request or bind sent again (HTTP 429 / 5xx / connection error; a bulk bind that never left). */
  retry: 'credgate:retry',
  /** One account of a bulk run answered. */
  bulkProgress: 'credgate:bulk:progress',
  /** Something the caller should know that is not a fault (a world-readable credentials file). */
  warning: 'credgate:warning',
} as const;

export type ChannelName = (typeof CHANNELS)[keyof typeof CHANNELS];

interface EventBase<C extends ChannelName> {
  channel: C;
  /** `start`/`end` around an operation (the same `id`), `event` for a single moment. */
  phase: 'start' | 'end' | 'event';
  /** Pairs a start with its end. */
  id?: number;
  /** Epoch ms. */
  time: number;
  /** Duration, on `end`. */
  ms?: number;
  /** The fault's error code (`ERROR_CODES`) or error name, on an `end` that failed. */
  errorCode?: string;
}

export interface StepEvent extends EventBase<'credgate:step'> {
  step: string;
  host: string;
  port: number;
  /** On end: passed, failed, not-checked, error. */
  status?: string;
  /** On end: the finding codes the step produced. */
  codes?: string[];
}

export interface ProviderEvent extends EventBase<'credgate:provider'> {
  /** `resolve` (one reference) or `request` (one HTTP request of it). */
  op: 'resolve' | 'request';
  provider: string;
  method?: string;
  /** Scheme, host and path: never the query string. */
  url?: string;
  /** The proxy's host, when the request went through one. */
  proxy?: string;
  /** HTTP status (request end). */
  status?: number;
  /** 1 for the first try of a request. */
  attempt?: number;
  /** Where the credential came from (resolve end), as `FetchedCredential.source`. */
  source?: string;
}

export interface BindEvent extends EventBase<'credgate:bind'> {
  protocol: 'ldap';
  /** `ldap-bind` (one check) or `bulk` (verifyMany). */
  source: string;
  url: string;
  /** The bind name: an account name, never its password. */
  account: string;
  /** On end: `answered` (the directory's answer decides `code`) or `fault` (no answer: `code` says why). */
  outcome?: 'answered' | 'fault';
  /** On end: the deciding finding code (ldap.ok, ldap.invalid-credentials, net.timeout, ...). */
  code?: string;
}

export interface RetryEvent extends EventBase<'credgate:retry'> {
  what: 'http' | 'bind';
  provider?: string;
  url: string;
  /** The attempt about to be made (2 for the first retry). */
  attempt: number;
  /** The pause before it (backoff, or the server's Retry-After). */
  waitMs?: number;
  /** Why: the HTTP status, or the connection error's code. */
  reason: string;
}

export interface BulkProgressEvent extends EventBase<'credgate:bulk:progress'> {
  /** Accounts answered so far in this run, and how many of them were valid / not. */
  answered: number;
  ok: number;
  failed: number;
  /** This account: its deciding code, and whether a bind was sent for it. */
  code: string;
  bound: boolean;
}

export interface WarningEvent extends EventBase<'credgate:warning'> {
  /** A stable warning code: CREDGATE_FILE_WORLD_READABLE, CREDGATE_AWS_DESCRIBE_FAILED. */
  code: string;
  message: string;
  provider?: string;
  path?: string;
  secretId?: string;
}

export type TelemetryEvent = StepEvent | ProviderEvent | BindEvent | RetryEvent | BulkProgressEvent | WarningEvent;

type Level = 'debug' | 'info' | 'warn' | 'error';
type LogMethod = (event: TelemetryEvent, message?: string) => void;

/**
 * Receives every event of the run it is given to: a function, or a logger object with level
 * methods (pino, winston, console: `logger.info(event, message)`). Start and progress events are
 * `debug`, ends `info` (`warn` when they failed), retries `info`, warnings `warn`. A logger that
 * throws is ignored.
 */
export type TelemetryLogger = ((event: TelemetryEvent) => void) | Partial<Record<Level, LogMethod>>;

/** The fields each channel may carry besides channel, phase, id, time, ms and errorCode. */
const FIELDS: Record<ChannelName, readonly string[]> = {
  'credgate:step': ['step', 'host', 'port', 'status', 'codes'],
  'credgate:provider': ['op', 'provider', 'method', 'url', 'proxy', 'status', 'attempt', 'source'],
  'credgate:bind': ['protocol', 'source', 'url', 'account', 'outcome', 'code'],
  'credgate:retry': ['what', 'provider', 'url', 'attempt', 'waitMs', 'reason'],
  'credgate:bulk:progress': ['answered', 'ok', 'failed', 'code', 'bound'],
  'credgate:warning': ['code', 'message', 'provider', 'path', 'secretId'],
};
const COMMON = ['ms', 'errorCode'];
const MAX_TEXT = 500;

/** Fields as the call sites give them (unknown keys and values are dropped by `build`). */
export type Fields = Record<string, unknown>;

/** A plain value, or undefined when the value is not one (objects, Secrets, functions...). */
function plain(v: unknown): string | number | boolean | string[] | undefined {
  if (typeof v === 'string') return v.length > MAX_TEXT ? v.slice(0, MAX_TEXT) : v;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.round(v * 100) / 100 : undefined;
  if (typeof v === 'boolean') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return (v as string[]).slice(0, 50).map((x) => x.slice(0, MAX_TEXT));
  return undefined;
}

/** THE event builder: only the channel's allowed fields, only plain values. */
export function build(channel: ChannelName, phase: TelemetryEvent['phase'], fields: Fields, id?: number): TelemetryEvent {
  const e: Record<string, unknown> = { channel, phase, ...(id !== undefined ? { id } : {}), time: Date.now() };
  for (const list of [FIELDS[channel], COMMON]) {
    for (const k of list) {
      const v = plain(fields[k]);
      if (v !== undefined) e[k] = v;
    }
  }
  return e as unknown as TelemetryEvent;
}

const channels = new Map<ChannelName, dc.Channel>(Object.values(CHANNELS).map((n) => [n, dc.channel(n)]));

let loggers: AsyncLocalStorage<TelemetryLogger> | undefined;

/**
 * Run `fn` with `logger` receiving every event published while it runs (in its async calls too):
 * any SDK call, e.g. `withLogger(log, () => provider.resolve(ref))`. `PreflightOptions.logger` and
 * `VerifyManyOptions.logger` do this for a preflight and a bulk run. Without a logger, `fn()`.
 */
export function withLogger<T>(logger: TelemetryLogger | undefined, fn: () => T): T {
  if (!logger) return fn();
  loggers ??= new AsyncLocalStorage<TelemetryLogger>();
  return loggers.run(logger, fn);
}

function currentLogger(): TelemetryLogger | undefined {
  return loggers?.getStore();
}

/** Someone listens on this channel (a subscriber or a logger): build the event. */
export function observed(channel: ChannelName): boolean {
  return channels.get(channel)!.hasSubscribers || currentLogger() !== undefined;
}

function levelOf(e: TelemetryEvent): Level {
  if (e.channel === 'credgate:warning') return 'warn';
  if (e.phase === 'start' || e.channel === 'credgate:bulk:progress') return 'debug';
  if (e.errorCode !== undefined || (e.channel === 'credgate:step' && (e.status === 'error' || e.status === 'failed'))) return 'warn';
  return 'info';
}

/** A one-line summary for a logger object's message argument, from the event's own fields. */
function summary(e: TelemetryEvent): string {
  const tail = `${e.phase === 'event' ? '' : ` ${e.phase}`}${e.ms !== undefined ? ` (${Math.round(e.ms)} ms)` : ''}${e.errorCode ? ` ${e.errorCode}` : ''}`;
  switch (e.channel) {
    case 'credgate:step': return `credgate step ${e.step}${e.status ? ` ${e.status}` : ''}${tail}`;
    case 'credgate:provider': return `credgate provider ${e.provider} ${e.op}${e.status ? ` ${e.status}` : ''}${tail}`;
    case 'credgate:bind': return `credgate bind ${e.account} at ${e.url}${e.code ? ` ${e.code}` : ''}${tail}`;
    case 'credgate:retry': return `credgate retry ${e.what} ${e.url} attempt ${e.attempt} (${e.reason})`;
    case 'credgate:bulk:progress': return `credgate bulk ${e.answered} answered (${e.ok} ok, ${e.failed} not)`;
    case 'credgate:warning': return `credgate warning ${e.code}: ${e.message}`;
  }
}

function deliver(e: TelemetryEvent): void {
  const ch = channels.get(e.channel)!;
  if (ch.hasSubscribers) ch.publish(e);
  const logger = currentLogger();
  if (!logger) return;
  try {
    if (typeof logger === 'function') {
      logger(e);
    } else {
      const level = levelOf(e);
      const m = logger[level] ?? (level === 'error' ? logger.warn : undefined) ?? logger.info;
      m?.call(logger, e, summary(e));
    }
  } catch {
    // a caller's logger must not break the check
  }
}

/** Publish a single-moment event (a retry, a warning, bulk progress) to whoever listens. */
export function publish(channel: ChannelName, fields: Fields): void {
  if (observed(channel)) deliver(build(channel, 'event', fields));
}

// ---- OpenTelemetry (optional peer): the few API shapes credgate uses

interface OtelSpan {
  setAttributes(a: Record<string, string | number | boolean | string[]>): unknown;
  setStatus(s: { code: number; message?: string }): unknown;
  end(): void;
}
interface OtelTracer {
  startActiveSpan<R>(name: string, o: { attributes: Record<string, unknown> }, fn: (span: OtelSpan) => R): R;
}
interface OtelApi {
  trace: {
    getTracer(name: string): OtelTracer;
    /** The API's global provider: a proxy, whose delegate is the provider an SDK registered. */
    getTracerProvider?(): { getDelegateTracer?(name: string): OtelTracer | undefined };
  };
}

const loadOtel = lazyOptional<OtelApi>('@opentelemetry/api');
/** The OpenTelemetry API's process-wide registry (@opentelemetry/api 1.x, src/internal/global-utils). */
const OTEL_GLOBAL = Symbol.for('opentelemetry.js.api.1');
/**
 * The tracer, asked for at each operation (not kept): a tracer provider registered after credgate's
 * first operation, or through another copy of the API (ESM and CJS), is still the one used.
 */
function tracer(): OtelTracer | undefined {
  // No copy of the API in the process has a tracer provider registered (an SDK registers one
  // through the API's global, keyed by its major version: the peer range is ^1): no span, and the
  // API is not loaded (loading it cost a bulk run ~9 ms; asking it at each bind, as much again).
  if (!(globalThis as unknown as Record<symbol, { trace?: unknown } | undefined>)[OTEL_GLOBAL]?.trace) return undefined;
  const api = loadOtel();
  if (!api) return undefined;
  // With the API installed and no SDK registered, every tracer is a no-op, and a span per
  // operation (its attributes, its context) cost a bulk run ~12% of its time for nothing: the
  // global provider is a proxy that has a tracer to delegate to only once a provider is registered.
  const provider = api.trace.getTracerProvider?.();
  if (provider && typeof provider.getDelegateTracer === 'function') return provider.getDelegateTracer('credgate');
  return api.trace.getTracer('credgate');
}

/** OpenTelemetry attribute names: the semantic conventions where one fits, `credgate.*` otherwise. */
const OTEL_NAMES: Record<string, string> = {
  url: 'url.full', host: 'server.address', port: 'server.port', method: 'http.request.method', errorCode: 'error.type',
};

function attributes(e: TelemetryEvent): Record<string, string | number | boolean | string[]> {
  const out: Record<string, string | number | boolean | string[]> = {};
  for (const [k, v] of Object.entries(e)) {
    if (k === 'channel' || k === 'phase' || k === 'id' || k === 'time') continue;
    const name = k === 'status' && e.channel === 'credgate:provider' ? 'http.response.status_code' : OTEL_NAMES[k] ?? `credgate.${k}`;
    out[name] = v as string | number | boolean | string[];
  }
  return out;
}

const SPAN_NAMES: Record<ChannelName, (e: TelemetryEvent) => string> = {
  'credgate:step': (e) => `credgate.step ${(e as StepEvent).step}`,
  'credgate:provider': (e) => `credgate.provider.${(e as ProviderEvent).op}`,
  'credgate:bind': () => 'credgate.ldap.bind',
  'credgate:retry': () => 'credgate.retry',
  'credgate:bulk:progress': () => 'credgate.bulk',
  'credgate:warning': () => 'credgate.warning',
};

let seq = 0;

/** The error's code for events: CredgateError's code, else the error's name. Never its message. */
export function errorCodeOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code)) return code;
  return e instanceof Error ? e.name.slice(0, 60) : 'Error';
}

/** An operation on `channel` would be seen (a listener, a logger, or a registered tracer provider): hot code asks before it builds `traced`'s fields. */
export function tracing(channel: ChannelName): boolean {
  return observed(channel) || tracer() !== undefined;
}

/**
 * Run an operation as a start/end pair on `channel` (and as an OpenTelemetry span when the API is
 * installed): `end` gives the fields known once it is over (from its value; on a throw, from
 * nothing: errorCode is added). With no listener and no OpenTelemetry, just `fn()`.
 */
export function traced<T>(channel: ChannelName, start: Fields, fn: () => Promise<T>, end?: (value: T) => Fields): Promise<T> {
  const tr = tracer();
  if (!tr && !observed(channel)) return fn();
  const id = ++seq;
  const t0 = performance.now();
  const startEvent = build(channel, 'start', start, id);
  if (observed(channel)) deliver(startEvent);
  const run = async (span?: OtelSpan): Promise<T> => {
    let extra: Fields = {};
    try {
      const v = await fn();
      try {
        extra = end?.(v) ?? {};
      } catch {
        // a field that cannot be read is left out
      }
      return v;
    } catch (e) {
      extra = { errorCode: errorCodeOf(e) };
      throw e;
    } finally {
      const endEvent = build(channel, 'end', { ...start, ...extra, ms: performance.now() - t0 }, id);
      if (observed(channel)) deliver(endEvent);
      if (span) {
        try {
          span.setAttributes(attributes(endEvent));
          if (endEvent.errorCode !== undefined) span.setStatus({ code: 2, message: endEvent.errorCode });
        } finally {
          span.end();
        }
      }
    }
  };
  return tr ? tr.startActiveSpan(SPAN_NAMES[channel](startEvent), { attributes: attributes(startEvent) }, run) : run();
}
