// One suite every provider passes (the idea of unstorage's shared driver tests): resolve,
// not found, auth failure, unavailable, abort, dispose, and no secret in any error rendering.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import util from 'node:util';
import type { Provider } from '../../src/providers/types.js';
import type { CredentialRef } from '../../src/core/credential.js';
import { CredgateError } from '../../src/core/errors.js';
import { Secret } from '../../src/core/secret.js';

export interface ConformanceSetup {
  provider: Provider;
  okRef: CredentialRef;
  expect: { username: string; password: string; changedAt?: Date; domain?: string };
  notFoundRef: CredentialRef;
  /** The same backend with wrong credgate credentials (token, AppID, key); omit where there are none. */
  authFailProvider?: Provider;
  /** The backend unreachable (closed port, down); omit where it cannot be. */
  unavailableProvider?: Provider;
  /** A provider whose backend answers slowly, to prove abort works mid-flight. */
  slowProvider?: Provider;
  /** Every secret that must never appear in an error. */
  secrets: string[];
  teardown?: () => Promise<void>;
}

function assertClean(e: unknown, secrets: string[]) {
  expect(e).toBeInstanceOf(CredgateError);
  const ce = e as CredgateError;
  const renderings = [ce.message, JSON.stringify(ce), JSON.stringify(ce.details ?? {}), util.inspect(ce, { depth: 6 }), String(ce.stack), JSON.stringify(ce.toJSON())];
  for (const s of secrets) for (const r of renderings) {
    if (r.includes(s)) throw new Error(`LEAK: a secret appeared in a ${ce.code} error rendering`);
  }
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

/** caps: which failure modes the backend has (env vars cannot refuse credgate; a file cannot be down). */
export function providerConformance(name: string, caps: { auth: boolean; unavailable: boolean }, setup: () => Promise<ConformanceSetup>) {
  describe(`provider conformance: ${name}`, () => {
    let s: ConformanceSetup;
    beforeAll(async () => {
      s = await setup();
    });
    afterAll(async () => {
      await s?.provider.dispose?.();
      await s?.teardown?.();
    });

    it('resolves the credential as a Secret, with a source and no secret in it', async () => {
      const c = await s.provider.resolve(s.okRef);
      expect(c.username).toBe(s.expect.username);
      expect(c.secret).toBeInstanceOf(Secret);
      expect(c.secret.reveal()).toBe(s.expect.password);
      if (s.expect.changedAt) expect(c.changedAt?.toISOString()).toBe(s.expect.changedAt.toISOString());
      if (s.expect.domain) expect(c.domain).toBe(s.expect.domain);
      expect(typeof c.source).toBe('string');
      expect(c.source.length).toBeGreaterThan(2);
      const printed = JSON.stringify(c) + util.inspect(c) + String(c.secret);
      expect(printed).not.toContain(s.expect.password);
    });

    it('says PROVIDER_NOT_FOUND for a missing reference', async () => {
      const e = await caught(s.provider.resolve(s.notFoundRef));
      expect((e as CredgateError).code).toBe('PROVIDER_NOT_FOUND');
      assertClean(e, s.secrets);
    });

    if (caps.auth) it('says PROVIDER_AUTH_FAILED when the backend refuses credgate', async () => {
      const e = await caught(s.authFailProvider!.resolve(s.okRef));
      expect((e as CredgateError).code).toBe('PROVIDER_AUTH_FAILED');
      assertClean(e, s.secrets);
    });

    if (caps.unavailable) it('says PROVIDER_UNAVAILABLE when the backend cannot be reached', async () => {
      const e = await caught(s.unavailableProvider!.resolve(s.okRef));
      expect((e as CredgateError).code).toBe('PROVIDER_UNAVAILABLE');
      assertClean(e, s.secrets);
    });

    it('honours an AbortSignal', async () => {
      const pre = await caught(s.provider.resolve(s.okRef, { signal: AbortSignal.abort() }));
      expect(['ABORTED', 'TIMEOUT']).toContain((pre as CredgateError).code);
      if (s.slowProvider) {
        const ac = new AbortController();
        const t0 = Date.now();
        const p = s.slowProvider.resolve(s.okRef, { signal: ac.signal });
        setTimeout(() => ac.abort(), 50);
        const e = await caught(p);
        expect((e as CredgateError).code).toBe('ABORTED');
        expect(Date.now() - t0).toBeLessThan(2000);
        assertClean(e, s.secrets);
      }
    });

    it('dispose is idempotent', async () => {
      await s.provider.dispose?.();
      await s.provider.dispose?.();
      expect(typeof s.provider.name).toBe('string');
    });
  });
}
