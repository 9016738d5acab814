// verifyMany against the lab's OpenLDAP slapd (ppolicy): every state in one stream, over LDAPS and
// StartTLS, with the same finding codes as the single bind; never a password in a result.
import { describe, it, expect, beforeAll } from 'vitest';
import { verifyMany, type AccountLine, type VerifyResult } from '../../../src/bulk/verify-many.js';
import { createSummary } from '../../../src/bulk/summary.js';
import { Secret } from '../../../src/core/secret.js';
import { slapd, allLabPasswords, type SlapdState } from '../../lab/state.js';
import { assertNoLeak } from '../../helpers/cli.js';

let lab: SlapdState;
beforeAll(() => {
  lab = slapd();
});

const benchDn = (i: number) => `uid=bench${i},ou=people,${lab.suffix}`;
const scen = (key: string) => lab.scenarios.find((s) => s.key === key)!;

async function collect(it: AsyncIterable<VerifyResult>): Promise<VerifyResult[]> {
  const out: VerifyResult[] = [];
  for await (const r of it) out.push(r);
  return out;
}

function mixed(): AccountLine[] {
  const lines: AccountLine[] = [];
  let line = 1;
  for (const key of ['good', 'wrong-password', 'locked', 'password-expired', 'must-change', 'expiring']) {
    const s = scen(key);
    lines.push({ username: s.dn, password: new Secret(s.tryPassword), line: line++, id: key });
  }
  for (let i = 0; i < 60; i++) lines.push({ username: benchDn(i), password: new Secret(lab.benchPassword), line: line++ });
  lines.push({ username: benchDn(60), password: new Secret('not-benchpw'), line: line++, id: 'bench-wrong' });
  lines.push({ username: benchDn(61), password: new Secret(''), line: line++, id: 'empty' });
  return lines;
}

function check(results: VerifyResult[]) {
  const input = mixed();
  expect(results).toHaveLength(input.length);
  expect(new Set(results.map((r) => r.line)).size).toBe(input.length);
  const byId = new Map(results.filter((r) => r.id).map((r) => [r.id, r]));
  expect(byId.get('good')).toMatchObject({ ok: true, code: 'ldap.ok', bound: true, exitCode: 0 });
  expect(byId.get('wrong-password')).toMatchObject({ ok: false, code: 'ldap.invalid-credentials', exitCode: 1 });
  expect(byId.get('locked')).toMatchObject({ ok: false, code: 'ldap.account-locked', exitCode: 3 });
  expect(byId.get('password-expired')).toMatchObject({ ok: false, code: 'ldap.password-expired', exitCode: 3 });
  expect(byId.get('must-change')).toMatchObject({ ok: false, code: 'ldap.password-must-change' });
  expect(byId.get('expiring')!.findings.map((f) => f.code)).toEqual(['ldap.ok', 'ldap.password-expiring']);
  expect(byId.get('expiring')!.ok).toBe(true);
  expect(byId.get('bench-wrong')).toMatchObject({ ok: false, code: 'ldap.invalid-credentials', bound: true });
  expect(byId.get('empty')).toMatchObject({ ok: false, code: 'input.invalid', bound: false });
  const bench = results.filter((r) => !r.id);
  expect(bench.every((r) => r.ok && r.code === 'ldap.ok')).toBe(true);
  const text = JSON.stringify(results);
  assertNoLeak(text, [...allLabPasswords(), 'not-benchpw'], 'verifyMany results');
  const sum = createSummary();
  for (const r of results) sum.add(r);
  const s = sum.result();
  expect(s.total).toBe(input.length);
  expect(s.byCode['ldap.ok']).toBe(62);
  // the most basic failure decides: input.invalid (usage, priority 15) → exit 2
  expect(s.worstCode).toBe('input.invalid');
  expect(s.exitCode).toBe(2);
}

describe('verifyMany on slapd', () => {
  it('answers every state in one stream over LDAPS (4 connections)', async () => {
    check(await collect(verifyMany(mixed(), { urls: lab.ldapsUrl, caFile: lab.caFile, concurrency: 4, timeoutMs: 5000 })));
  });

  it('works over StartTLS and from an async source', async () => {
    async function* src() {
      for (const l of mixed()) yield l;
    }
    check(await collect(verifyMany(src(), { urls: lab.ldapUrl, starttls: true, caFile: lab.caFile, concurrency: 3, timeoutMs: 5000 })));
  });

  it('refuses plain ldap:// without StartTLS before any I/O', async () => {
    await expect(verifyMany(mixed(), { urls: lab.ldapUrl, caFile: lab.caFile })[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('an untrusted certificate is a tls finding for every account, none valid', async () => {
    const r = await collect(verifyMany(mixed().slice(0, 10), { urls: lab.ldapsUrl, concurrency: 2, timeoutMs: 5000 }));
    expect(r).toHaveLength(10);
    expect(r.every((x) => !x.ok && x.code === 'tls.untrusted' && !x.bound)).toBe(true);
  });

  it('keeps to the rate limit', async () => {
    const lines = Array.from({ length: 30 }, (_, i) => ({ username: benchDn(i), password: new Secret(lab.benchPassword), line: i + 1 }));
    const t0 = performance.now();
    const r = await collect(verifyMany(lines, { urls: lab.ldapsUrl, caFile: lab.caFile, concurrency: 8, rate: 100, timeoutMs: 5000 }));
    const ms = performance.now() - t0;
    expect(r.every((x) => x.ok)).toBe(true);
    // 30 binds at 100/s take at least ~290 ms after the first
    expect(ms).toBeGreaterThan(280);
  });

  it('stops taking input when the signal aborts, and still answers the binds in flight', async () => {
    const ac = new AbortController();
    let pulled = 0;
    async function* src() {
      for (let i = 0; i < 150; i++) {
        pulled++;
        yield { username: benchDn(i), password: new Secret(lab.benchPassword), line: i + 1 };
      }
    }
    const out: VerifyResult[] = [];
    // the binds in flight are yielded, then the run ends with an AbortError (accounts were left unchecked)
    await expect((async () => {
      for await (const r of verifyMany(src(), { urls: lab.ldapsUrl, caFile: lab.caFile, concurrency: 2, rate: 200, timeoutMs: 5000, signal: ac.signal })) {
        out.push(r);
        if (out.length === 10) ac.abort();
      }
    })()).rejects.toMatchObject({ name: 'AbortError', code: 'ABORTED' });
    expect(out.length).toBeGreaterThanOrEqual(10);
    expect(out.length).toBeLessThan(150);
    expect(out.every((x) => x.ok)).toBe(true);
    expect(pulled).toBeLessThan(150);
  });

  it('after a stop, binds still waiting on the rate limit are not sent (only binds in flight finish)', async () => {
    const ac = new AbortController();
    const lines = Array.from({ length: 40 }, (_, i) => ({ username: benchDn(i), password: new Secret(lab.benchPassword), line: i + 1 }));
    const out: VerifyResult[] = [];
    let abortedAt = 0;
    // 2 binds/s over 8 connections: when the first answer arrives the 7 other workers are each
    // waiting 0.5–3.5 s for their turn; every result is a bind that was sent
    await expect((async () => {
      for await (const r of verifyMany(lines, { urls: lab.ldapsUrl, caFile: lab.caFile, concurrency: 8, rate: 2, timeoutMs: 5000, signal: ac.signal })) {
        out.push(r);
        if (out.length === 1) {
          ac.abort();
          abortedAt = performance.now();
        }
      }
    })()).rejects.toMatchObject({ name: 'AbortError', code: 'ABORTED' });
    const afterAbortMs = performance.now() - abortedAt;
    expect(out[0]).toMatchObject({ ok: true, bound: true });
    // the second bind may already have been sent (a slow first connect); the other six were waiting
    expect(out.length).toBeLessThanOrEqual(2);
    // and the iteration ended without waiting for their turns
    expect(afterAbortMs).toBeLessThan(1500);
  });

  it('the lockout guard needs Active Directory: on slapd it stops with a clear config error, nothing bound', async () => {
    await expect(collect(verifyMany(mixed().slice(0, 3), {
      urls: lab.ldapsUrl, caFile: lab.caFile, timeoutMs: 5000,
      service: { username: lab.admin.dn, password: new Secret(lab.admin.password) },
    }))).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('not an Active Directory') });
  });

  it('breaking out of the loop closes the pool; nothing is left running', async () => {
    let pulled = 0;
    function* src() {
      for (let i = 0; i < 200; i++) {
        pulled++;
        yield { username: benchDn(i), password: new Secret(lab.benchPassword), line: i + 1 };
      }
    }
    const it = verifyMany(src(), { urls: lab.ldapsUrl, caFile: lab.caFile, concurrency: 4, timeoutMs: 5000 });
    let n = 0;
    for await (const r of it) {
      expect(r.ok).toBe(true);
      if (++n === 5) break;
    }
    expect(n).toBe(5);
    expect(pulled).toBeLessThan(200);
    // the iterator is closed for good: a next() says so (USAGE), never a quiet end that would read as "all answered"
    await expect(it.next()).rejects.toMatchObject({ code: 'USAGE', details: { disposed: true } });
  });

  it('an account rejected once in a run is not bound again, even when its lines are in flight together', async () => {
    const dup = benchDn(7);
    const lines: AccountLine[] = [
      { username: dup, password: new Secret('wrong-one'), id: 'first' },
      { username: dup.toUpperCase(), password: new Secret('wrong-two'), id: 'second' },
      { username: dup, password: new Secret(lab.benchPassword), id: 'third' },
      { username: benchDn(8), password: new Secret(lab.benchPassword), id: 'other' },
    ];
    const out = await collect(verifyMany(lines, { urls: lab.ldapsUrl, caFile: lab.caFile, concurrency: 4, timeoutMs: 5000 }));
    const by = (id: string) => out.find((r) => r.id === id)!;
    expect(by('first')).toMatchObject({ code: 'ldap.invalid-credentials', bound: true });
    expect(by('second')).toMatchObject({ code: 'ldap.lockout-risk', bound: false });
    expect(by('third')).toMatchObject({ code: 'ldap.lockout-risk', bound: false });
    expect(by('other')).toMatchObject({ ok: true, bound: true });
  });
});
