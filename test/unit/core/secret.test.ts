import { describe, it, expect } from 'vitest';
import util from 'node:util';
import { Secret, scrub } from '../../../src/core/secret.js';
import { CredgateError } from '../../../src/core/errors.js';

describe('Secret', () => {
  const pw = 'Hunter2!Sehr-geheim';
  const s = new Secret(pw);

  it('never prints its value', () => {
    const renderings = [
      String(s), `${s}`, s + '', JSON.stringify({ s }), util.inspect(s), util.inspect({ nested: { s } }, { depth: 5 }),
      util.format('%s %o %O %j', s, s, s, s), Object.keys(s).join(','), JSON.stringify(Object.entries(s)),
    ];
    for (const r of renderings) expect(r).not.toContain(pw);
    expect(String(s)).toBe('[REDACTED]');
    expect(JSON.stringify({ s })).toBe('{"s":"[REDACTED]"}');
    expect(util.inspect(s)).toBe('Secret([REDACTED])');
  });

  it('holds its value where no enumeration, clone or plain inspection reaches it', () => {
    expect(Reflect.ownKeys(s)).toEqual([]);
    expect(Object.isFrozen(s)).toBe(true);
    expect(JSON.stringify(structuredClone(s))).toBe('{}');
    for (const r of [util.inspect(s, { customInspect: false, showHidden: true, getters: true }), util.inspect(Object.getPrototypeOf(s), { showHidden: true })]) {
      expect(r).not.toContain(pw);
    }
    // another object cannot borrow the reveal
    const fake = Object.create(Secret.prototype) as Secret;
    expect(() => fake.reveal()).toThrow(TypeError);
    expect(() => Secret.prototype.reveal.call({} as Secret)).toThrow(/not a Secret/);
  });

  it('reveals only on request and compares in constant time', () => {
    expect(s.reveal()).toBe(pw);
    expect(s.equals(pw)).toBe(true);
    expect(s.equals(new Secret(pw))).toBe(true);
    expect(s.equals('other')).toBe(false);
    expect(s.length).toBe(pw.length);
  });

  it('is recognised across copies of the module (Symbol.for brand)', () => {
    expect(s instanceof Secret).toBe(true);
    expect({} instanceof Secret).toBe(false);
  });

  it('does not leak through an error that carries it', () => {
    const e = new CredgateError(`bind failed for ${s}`, { code: 'CONNECTION_FAILED', details: { password: s } });
    expect(e.message).not.toContain(pw);
    expect(JSON.stringify(e)).not.toContain(pw);
    expect(util.inspect(e)).not.toContain(pw);
  });

  it('scrub removes known values from foreign text', () => {
    expect(scrub(`server echoed ${pw} twice: ${pw}`, [s])).toBe('server echoed [REDACTED] twice: [REDACTED]');
    expect(scrub('nothing here', [s, undefined, ''])).toBe('nothing here');
  });

  it('rejects non-strings', () => {
    expect(() => new Secret(42 as unknown as string)).toThrow(TypeError);
  });
});

describe('scrub', () => {
  it('redacts a secret holding a lone surrogate (no URL-encoded form) without throwing', async () => {
    const { scrub } = await import('../../../src/core/secret.js');
    const pw = 'Pässwörd-\ud83d#';
    expect(scrub(`bad password ${pw} here`, [pw])).toBe('bad password [REDACTED] here');
  });
});

describe('an abort', () => {
  it('is an AbortError by name, whichever class carries it, and still a CredgateError with code ABORTED', async () => {
    const { CredgateError, ProviderError, abortError } = await import('../../../src/core/errors.js');
    const ac = new AbortController();
    ac.abort();
    for (const e of [abortError(ac.signal, 'The check'), new ProviderError('x', { code: 'ABORTED' }), new CredgateError('y', { code: 'ABORTED' })]) {
      expect(e.name).toBe('AbortError');
      expect(e).toBeInstanceOf(CredgateError);
      expect(e.code).toBe('ABORTED');
    }
    expect(new ProviderError('z', { code: 'PROVIDER_NOT_FOUND' }).name).toBe('ProviderError');
  });
});
