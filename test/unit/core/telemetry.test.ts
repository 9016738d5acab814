// Observability (issue 13): the event builder copies only its channel's allowed plain fields, events
// reach channel subscribers and the logger of the run (function or level-method object), a
// throwing logger breaks nothing, traced operations pair start/end with ms and errorCode, and
// with @opentelemetry/api installed (a dev dependency here) each becomes a span.
import { describe, it, expect, afterEach } from 'vitest';
import dc from 'node:diagnostics_channel';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { trace, type Span, type SpanOptions, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { CHANNELS, build, publish, traced, withLogger, observed, type TelemetryEvent } from '../../../src/core/telemetry.js';
import { CredgateError } from '../../../src/core/errors.js';
import { Secret } from '../../../src/core/secret.js';

const subs: Array<[string, (m: unknown) => void]> = [];
function listen(name: string): unknown[] {
  const got: unknown[] = [];
  const f = (m: unknown) => got.push(m);
  dc.subscribe(name, f);
  subs.push([name, f]);
  return got;
}
afterEach(() => {
  for (const [n, f] of subs.splice(0)) dc.unsubscribe(n, f);
});

describe('the event builder', () => {
  it('copies only the channel\'s allowed fields, and only plain values', () => {
    const secret = new Secret('Never-Printed-1');
    const e = build(CHANNELS.bind, 'end', {
      protocol: 'ldap', source: 'ldap-bind', url: 'ldaps://dc1:636', account: 'alice@corp.example', code: 'ldap.ok', ms: 12.3456,
      password: 'Never-Printed-2', secret, token: 'hvs.never', outcome: { nested: 'Never-Printed-3' }, errorCode: new Error('x'),
    }, 7) as unknown as Record<string, unknown>;
    expect(e).toEqual({ channel: 'credgate:bind', phase: 'end', id: 7, time: expect.any(Number), protocol: 'ldap', source: 'ldap-bind', url: 'ldaps://dc1:636', account: 'alice@corp.example', code: 'ldap.ok', ms: 12.35 });
    expect(JSON.stringify(e)).not.toMatch(/Never-Printed|hvs\.never/);
  });

  it('caps text, keeps lists of codes, drops non-finite numbers', () => {
    const e = build(CHANNELS.step, 'end', { step: 'x'.repeat(2000), host: 'h', port: Number.NaN, codes: ['ldap.ok', 'account.ok'], status: 'passed' }) as unknown as Record<string, unknown>;
    expect((e.step as string).length).toBe(500);
    expect(e.port).toBeUndefined();
    expect(e.codes).toEqual(['ldap.ok', 'account.ok']);
  });
});

describe('publish and traced', () => {
  it('nothing listens: nothing is built, observed() is false', () => {
    expect(observed(CHANNELS.retry)).toBe(false);
    let read = 0;
    // a field getter would run if the event were built
    publish(CHANNELS.retry, { get url() { read++; return 'u'; } });
    expect(read).toBe(0);
  });

  it('a subscriber gets the event; traced pairs start and end (same id, ms, the end fields)', async () => {
    const retries = listen(CHANNELS.retry);
    publish(CHANNELS.retry, { what: 'http', url: 'https://v/x', attempt: 2, waitMs: 200, reason: '503' });
    expect(retries).toEqual([expect.objectContaining({ channel: 'credgate:retry', phase: 'event', what: 'http', attempt: 2, reason: '503' })]);
    const steps = listen(CHANNELS.step);
    const v = await traced(CHANNELS.step, { step: 'ldap-bind', host: 'h', port: 3389 }, async () => 42, (x) => ({ status: x === 42 ? 'passed' : 'failed' }));
    expect(v).toBe(42);
    const [s, e] = steps as TelemetryEvent[];
    expect(s).toMatchObject({ phase: 'start', step: 'ldap-bind', host: 'h', port: 3389 });
    expect(e).toMatchObject({ phase: 'end', id: s!.id, step: 'ldap-bind', status: 'passed', ms: expect.any(Number) });
  });

  it('a throwing operation: the end carries the error code (never its message), the error passes through', async () => {
    const got = listen(CHANNELS.provider);
    const err = new CredgateError('token hvs.secret-in-message was refused', { code: 'PROVIDER_AUTH_FAILED' });
    await expect(traced(CHANNELS.provider, { op: 'resolve', provider: 'vault' }, async () => { throw err; })).rejects.toBe(err);
    expect(got.at(-1)).toMatchObject({ phase: 'end', errorCode: 'PROVIDER_AUTH_FAILED' });
    expect(JSON.stringify(got)).not.toContain('hvs.secret');
  });
});

describe('the logger', () => {
  it('a function logger gets every event published inside withLogger, including from async continuations', async () => {
    const seen: TelemetryEvent[] = [];
    await withLogger((e) => seen.push(e), async () => {
      await new Promise((r) => setTimeout(r, 5));
      publish(CHANNELS.warning, { code: 'file.world-readable', message: 'm', provider: 'file', path: '/p' });
    });
    publish(CHANNELS.warning, { code: 'outside', message: 'not seen' });
    expect(seen.map((e) => e.channel === 'credgate:warning' && e.code)).toEqual(['file.world-readable']);
  });

  it('a level-method logger (pino/winston/console shape) gets the event and a one-line message at its level', async () => {
    const lines: Array<[string, TelemetryEvent, string | undefined]> = [];
    const logger = {
      debug: (e: TelemetryEvent, m?: string) => lines.push(['debug', e, m]),
      info: (e: TelemetryEvent, m?: string) => lines.push(['info', e, m]),
      warn: (e: TelemetryEvent, m?: string) => lines.push(['warn', e, m]),
    };
    await withLogger(logger, async () => {
      await traced(CHANNELS.step, { step: 'provider', host: 'h', port: 1 }, async () => 'x', () => ({ status: 'passed' }));
      await traced(CHANNELS.step, { step: 'rdp-nla', host: 'h', port: 1 }, async () => 'x', () => ({ status: 'error', errorCode: 'TLS_FAILED' }));
      publish(CHANNELS.warning, { code: 'aws.describe-failed', message: 'DescribeSecret failed' });
    });
    expect(lines.map(([l, e]) => `${l} ${e.phase}`)).toEqual(['debug start', 'info end', 'debug start', 'warn end', 'warn event']);
    expect(lines[1]![2]).toMatch(/^credgate step provider passed end \(\d+ ms\)$/);
    expect(lines[4]![2]).toBe('credgate warning aws.describe-failed: DescribeSecret failed');
  });

  it('a logger that throws breaks nothing', async () => {
    const v = await withLogger(() => { throw new Error('log sink down'); }, () => traced(CHANNELS.bind, { protocol: 'ldap', source: 'x', url: 'u', account: 'a' }, async () => 'answered'));
    expect(v).toBe('answered');
  });
});

describe('OpenTelemetry spans (@opentelemetry/api installed)', () => {
  interface Recorded { name: string; attributes: Record<string, unknown>; status?: { code: number; message?: string }; ended: boolean }
  const spans: Recorded[] = [];
  // a recording tracer registered through the API, as an SDK would register its own
  const span = (name: string, o: SpanOptions | undefined): Span => {
    const r: Recorded = { name, attributes: { ...(o?.attributes ?? {}) }, ended: false };
    spans.push(r);
    const s = {
      setAttributes: (a: Record<string, unknown>) => (Object.assign(r.attributes, a), s),
      setStatus: (st: { code: number; message?: string }) => ((r.status = st), s),
      end: () => { r.ended = true; },
    };
    return s as unknown as Span;
  };
  const tracer = {
    startSpan: (name: string, o?: SpanOptions) => span(name, o),
    startActiveSpan: (name: string, o: SpanOptions, fn: (s: Span) => unknown) => fn(span(name, o)),
  } as unknown as Tracer;
  const provider: TracerProvider = { getTracer: () => tracer };

  it('installed but no provider registered (no SDK): no span is made, the operation runs as it is', async () => {
    // the API's tracers are no-ops then; a span per bind cost a bulk run ~12% of its time
    const p = Promise.resolve(1);
    expect(traced(CHANNELS.bind, { protocol: 'ldap', source: 'bulk', url: 'ldaps://dc1', account: 'a' }, () => p)).toBe(p);
    // registered later: the next operation is a span (the tracer is asked for at each operation)
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    try {
      const q = Promise.resolve(2);
      const r = traced(CHANNELS.bind, { protocol: 'ldap', source: 'bulk', url: 'ldaps://dc1', account: 'a' }, () => q);
      expect(r).not.toBe(q);
      expect(await r).toBe(2);
    } finally {
      trace.disable();
    }
    expect(spans.splice(0).map((x) => x.name)).toEqual(['credgate.ldap.bind']);
    const z = Promise.resolve(3);
    expect(traced(CHANNELS.bind, { protocol: 'ldap', source: 'bulk', url: 'ldaps://dc1', account: 'a' }, () => z)).toBe(z);
  });

  it('each traced operation is a span with its attributes, ended, with an error status on failure', async () => {
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    try {
      await traced(CHANNELS.provider, { op: 'request', provider: 'vault', method: 'GET', url: 'https://vault:8200/v1/secret/data/x', attempt: 1 }, async () => ({ status: 200 }), (r) => ({ status: r.status }));
      await expect(traced(CHANNELS.step, { step: 'ldap-bind', host: 'dc1', port: 636 }, async () => { throw new CredgateError('x', { code: 'TLS_FAILED' }); })).rejects.toThrow();
    } finally {
      trace.disable();
    }
    expect(spans).toEqual([
      { name: 'credgate.provider.request', ended: true, attributes: expect.objectContaining({ 'credgate.provider': 'vault', 'http.request.method': 'GET', 'url.full': 'https://vault:8200/v1/secret/data/x', 'http.response.status_code': 200, 'credgate.attempt': 1 }) },
      { name: 'credgate.step ldap-bind', ended: true, status: { code: 2, message: 'TLS_FAILED' }, attributes: expect.objectContaining({ 'server.address': 'dc1', 'server.port': 636, 'error.type': 'TLS_FAILED' }) },
    ]);
  });
});

describe('@opentelemetry/api installed, no SDK in the process', () => {
  it('the API is not even loaded: nothing registered a tracer provider', () => {
    const root = path.resolve(import.meta.dirname, '..', '..', '..');
    const script = `
      import('./dist/index.js').then(async (m) => {
        await m.preflight({ host: '127.0.0.1', account: 'a', password: new m.Secret('No-Sdk-Pw-1') }, { rdp: { probe: false } });
        const before = Object.keys(require.cache).filter((k) => k.includes('@opentelemetry')).length;
        // an SDK registering its provider: from then on the API is asked
        const api = require('@opentelemetry/api');
        api.trace.setGlobalTracerProvider({ getTracer: () => ({ startActiveSpan: (n, o, fn) => fn({ setAttributes() {}, setStatus() {}, end() { ended.push(n); } }) }) });
        const ended = [];
        await m.preflight({ host: '127.0.0.1', account: 'a', password: new m.Secret('No-Sdk-Pw-1') }, { rdp: { probe: false } });
        console.log(JSON.stringify({ before, spans: ended.length > 0 }));
      });`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, env: { PATH: process.env.PATH ?? '' } }).toString());
    expect(out).toEqual({ before: 0, spans: true });
  });
});

describe('without @opentelemetry/api (a package installed without the optional peer)', () => {
  it('the built package, with no node_modules at all: events still flow, the preflight runs, nothing is loaded', () => {
    const root = path.resolve(import.meta.dirname, '..', '..', '..');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-no-otel-'));
    try {
      fs.cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
      const script = `
        const dc = require('node:diagnostics_channel');
        const got = [];
        dc.subscribe('credgate:step', (m) => got.push(m.phase));
        import('./dist/index.js').then(async (m) => {
          const r = await m.preflight({ host: '127.0.0.1', account: 'a', password: new m.Secret('No-Otel-Pw-1') }, { rdp: { probe: false } });
          console.log(JSON.stringify({ code: r.verdict.code, starts: got.filter((p) => p === 'start').length, ends: got.filter((p) => p === 'end').length, required: Object.keys(require.cache).length }));
        });`;
      const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: dir, env: { PATH: process.env.PATH ?? '' } }).toString());
      // each of the seven steps starts and ends (with nothing configured, most end as not checked)
      expect(out).toEqual({ code: 'credential.not-checked', starts: 7, ends: 7, required: 0 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
