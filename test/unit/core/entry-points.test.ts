// Errors that hold across entry points (issue 13): a caller's abort is an AbortError (name
// 'AbortError', code ABORTED) from every SDK entry point that takes a signal — checks, providers,
// the preflight, createPreflight, the bulk iterator — before the call and mid-flight; every
// disposed object answers USAGE ("was disposed"); connection faults are ConnectionError instances.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  CredgateError, ConnectionError, ConfigError, ProviderError, UnsupportedPlatformError, ERROR_CODES, type ErrorCode,
} from '../../../src/core/errors.js';
import { ERROR_CLASSES } from '../../../src/core/errors.js';
import { Secret } from '../../../src/core/secret.js';
import { validateLdapBind } from '../../../src/checks/ldap-bind.js';
import { checkCredential } from '../../../src/pipeline/credential-check.js';
import { probeRdp } from '../../../src/checks/rdp-endpoint.js';
import { validateRdpNla } from '../../../src/checks/rdp-nla.js';
import { preflight } from '../../../src/pipeline/preflight.js';
import { createPreflight } from '../../../src/bulk/session.js';
import { verifyMany } from '../../../src/bulk/verify-many.js';
import { defineProvider } from '../../../src/providers/types.js';
import { fromEnv } from '../../../src/providers/env.js';
import { chain, memoize } from '../../../src/providers/compose.js';
import type { AccountLine, VerifyResult } from '../../../src/bulk/types.js';
import { ldapResult, scriptedLdapServer, type ScriptedLdapServer } from '../../helpers/ldap-server.js';
import { closedPort } from '../../helpers/servers.js';

const PW = new Secret('Entry-Point-Pw-1');
let port: number;
let slow: ScriptedLdapServer;
beforeAll(async () => {
  port = await closedPort();
  // answers each bind with success after 150 ms
  slow = await scriptedLdapServer((r, s) => {
    if (r.op === 0x60) setTimeout(() => s.write(ldapResult(r.messageId, 0x61, 0)), 150);
  });
});
afterAll(async () => {
  await slow?.close();
});

async function failure(p: Promise<unknown> | (() => Promise<unknown>)): Promise<CredgateError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e as CredgateError;
  }
  throw new Error('expected a rejection');
}
const isAbort = (e: CredgateError) => expect({ name: e.name, code: e.code, credgate: e instanceof CredgateError }).toEqual({ name: 'AbortError', code: 'ABORTED', credgate: true });
async function drain(it: AsyncIterable<VerifyResult>): Promise<VerifyResult[]> {
  const out: VerifyResult[] = [];
  for await (const r of it) out.push(r);
  return out;
}
const accounts = (n: number): AccountLine[] => Array.from({ length: n }, (_, i) => ({ username: `user${i}@corp.example`, password: PW, line: i + 1 }));

describe('the error class follows the code', () => {
  it('a plain CredgateError is an instance of its code\'s subclass (ERROR_CLASSES), with that name', () => {
    const classes = { ConfigError, ProviderError, ConnectionError, UnsupportedPlatformError };
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const e = new CredgateError('x', { code });
      const family = (ERROR_CLASSES as Partial<Record<ErrorCode, keyof typeof classes>>)[code];
      expect(e).toBeInstanceOf(CredgateError);
      for (const [name, C] of Object.entries(classes)) expect(e instanceof C, `${code} instanceof ${name}`).toBe(name === family);
      expect(e.name).toBe(code === 'ABORTED' ? 'AbortError' : family ?? 'CredgateError');
      expect(e.toJSON()).toMatchObject({ name: e.name, code });
    }
    expect(Object.entries(ERROR_CLASSES).filter(([, c]) => c === 'ConnectionError').map(([k]) => k)).toEqual(['CONNECTION_FAILED', 'TIMEOUT', 'TLS_FAILED']);
  });

  it('a subclass made by name stays that class', () => {
    const e = new ProviderError('the stdin provider timed out', { code: 'TIMEOUT' });
    expect([e instanceof ProviderError, e instanceof ConnectionError, e.name]).toEqual([true, false, 'ProviderError']);
  });

  it('a real connection fault is a ConnectionError: the NLA check against a closed port', async () => {
    const e = await failure(validateRdpNla({ host: '127.0.0.1', port, username: 'a', password: PW, timeoutMs: 2000 }));
    expect(e).toBeInstanceOf(ConnectionError);
    expect({ name: e.name, code: e.code, kind: e.details?.kind }).toEqual({ name: 'ConnectionError', code: 'CONNECTION_FAILED', kind: 'refused' });
  });
});

describe('an abort is an AbortError from every entry point', () => {
  const aborted = () => AbortSignal.abort();
  const ldap = () => `ldaps://127.0.0.1:${port}`;

  it('before the call: checks, providers, compose, the preflight, createPreflight, verifyMany', async () => {
    const hanging = defineProvider({ name: 'hanging', resolve: () => new Promise(() => {}) });
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['validateLdapBind', () => validateLdapBind({ urls: ldap(), username: 'a@corp.example', password: PW, signal: aborted() })],
      ['checkCredential', () => checkCredential({ urls: ldap(), username: 'a@corp.example', password: PW, signal: aborted() })],
      ['probeRdp', () => probeRdp({ host: '127.0.0.1', port, signal: aborted() })],
      ['validateRdpNla', () => validateRdpNla({ host: '127.0.0.1', port, username: 'a', password: PW, signal: aborted() })],
      ['fromEnv().resolve', () => fromEnv({ env: { P: 'x' } }).resolve('P', { signal: aborted() })],
      ['memoize().resolve', () => memoize(hanging).resolve('x', { signal: aborted() })],
      ['chain().resolve', () => chain(fromEnv({ env: { P: 'x' } })).resolve('P', { signal: aborted() })],
      ['preflight', () => preflight({ host: `127.0.0.1:${port}`, provider: hanging, ref: 'x' }, { signal: aborted() })],
      ['createPreflight().check', () => createPreflight({ signal: aborted() }).check({ host: `127.0.0.1:${port}`, provider: hanging, ref: 'x' })],
      ['verifyMany', () => drain(verifyMany(accounts(3), { urls: slow.url, allowPlainBind: true, signal: aborted() }))],
      ['createPreflight().verify', () => drain(createPreflight({ directory: { urls: slow.url, allowPlainBind: true }, signal: aborted() }).verify(accounts(3)))],
    ];
    for (const [name, call] of calls) {
      const e = await failure(call);
      expect({ name, error: e.name, code: e.code }).toEqual({ name, error: 'AbortError', code: 'ABORTED' });
    }
  });

  it('mid-flight: the preflight (a provider that never answers) and a bulk run (binds in flight finish first)', async () => {
    const hanging = defineProvider({ name: 'hanging', resolve: () => new Promise(() => {}) });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const t0 = Date.now();
    isAbort(await failure(preflight({ host: `127.0.0.1:${port}`, provider: hanging, ref: 'x' }, { signal: ac.signal, rdp: { probe: false } })));
    expect(Date.now() - t0).toBeLessThan(2000);

    const bulk = new AbortController();
    const got: VerifyResult[] = [];
    const e = await failure(async () => {
      for await (const r of verifyMany(accounts(40), { urls: slow.url, allowPlainBind: true, concurrency: 2, signal: bulk.signal })) {
        got.push(r);
        if (got.length === 1) bulk.abort();
      }
    });
    isAbort(e);
    // the binds already sent were answered and yielded; the rest were not checked, and the error says so
    expect(got.length).toBeGreaterThanOrEqual(1);
    expect(got.length).toBeLessThan(40);
    expect(got.every((r) => r.code === 'ldap.ok')).toBe(true);
    expect(e.message).toMatch(new RegExp(`${got.length} accounts answered, the rest not checked`));
  });

  it('a signal that timed out is a deadline, not an abort: the preflight reports (steps timed out), the check throws TIMEOUT', async () => {
    const hanging = defineProvider({ name: 'hanging', resolve: () => new Promise(() => {}) });
    const r = await preflight({ host: `127.0.0.1:${port}`, provider: hanging, ref: 'x' }, { signal: AbortSignal.timeout(50), rdp: { probe: false } });
    expect(r.ok).toBe(false);
    const timedOut = new AbortController();
    timedOut.abort(new DOMException('the caller\'s deadline passed', 'TimeoutError'));
    const e = await failure(validateLdapBind({ urls: ldap(), username: 'a@corp.example', password: PW, signal: timedOut.signal }));
    expect({ name: e.name, code: e.code }).toEqual({ name: 'ConnectionError', code: 'TIMEOUT' });
  });
});

describe('after dispose: USAGE, the same for every disposable', () => {
  it('a provider, a preflight (check and verify), a bulk run closed before its end', async () => {
    const p = fromEnv({ env: { P: 'x' } });
    await p.dispose();
    const session = createPreflight({ directory: { urls: slow.url, allowPlainBind: true } });
    await session.dispose();
    const run = verifyMany(accounts(5), { urls: slow.url, allowPlainBind: true });
    expect((await run.next()).done).toBe(false);
    await run.return!();
    const errors = [
      await failure(p.resolve('P')),
      await failure(session.check({ host: '127.0.0.1', account: 'a', password: PW })),
      await failure(async () => session.verify(accounts(1))),
      await failure(run.next()),
    ];
    for (const e of errors) {
      expect({ code: e.code, disposed: e.details?.disposed }).toEqual({ code: 'USAGE', disposed: true });
      expect(e.message).toMatch(/was disposed; /);
    }
  });

  it('a bulk run that ended on its own stays done (the iterator protocol), also after return()', async () => {
    const run = verifyMany(accounts(2), { urls: slow.url, allowPlainBind: true });
    expect(await drain(run)).toHaveLength(2);
    await run.return!();
    expect(await run.next()).toEqual({ value: undefined, done: true });
  });
});
