// createPreflight(...).verify(accounts): verifyMany over the preflight's own directory settings,
// against the lab's Samba DC (with the service account, so the lockout guard runs).
import { describe, it, expect } from 'vitest';
import { createPreflight } from '../../../src/bulk/session.js';
import { Secret } from '../../../src/core/secret.js';
import { isCredgateError } from '../../../src/core/errors.js';
import type { VerifyResult } from '../../../src/bulk/verify-many.js';
import { sambaScenario, allLabPasswords, sambaDirectory } from '../../lab/state.js';

const directory = sambaDirectory;

describe('createPreflight().verify', () => {
  it('verifies many accounts with the preflight\'s directory (no URLs given again)', async () => {
    const pf = createPreflight({ directory: directory(), stepTimeoutMs: 10_000 });
    const good = sambaScenario('good');
    const wrong = sambaScenario('wrong-password');
    const locked = sambaScenario('locked');
    const out: VerifyResult[] = [];
    try {
      for await (const r of pf.verify([
        { username: good.upn, password: new Secret(good.password), line: 1 },
        { username: wrong.upn, password: new Secret(wrong.tryPassword), line: 2 },
        { username: locked.upn, password: new Secret('not-tried-1'), line: 3 },
      ], { concurrency: 2 })) out.push(r);
    } finally {
      await pf.dispose();
    }
    out.sort((a, b) => a.line! - b.line!);
    expect(out.map((r) => [r.line, r.ok, r.code, r.exitCode])).toEqual([
      [1, true, 'ldap.ok', 0],
      [2, false, 'ldap.invalid-credentials', 1],
      [3, false, 'ldap.account-locked', 3],
    ]);
    // the service account's lockout guard ran: the locked account was not bound
    expect(out[2]!.bound).toBe(false);
    const text = JSON.stringify(out);
    for (const p of allLabPasswords()) expect(text.includes(p)).toBe(false);
  });

  it('without a directory it throws CONFIG_INVALID at once; after dispose, USAGE', async () => {
    const pf = createPreflight({ rdp: { probe: false } });
    let e: unknown;
    try {
      pf.verify([]);
    } catch (x) {
      e = x;
    }
    expect(isCredgateError(e, 'CONFIG_INVALID')).toBe(true);
    await pf.dispose();
    const pf2 = createPreflight({ directory: directory() });
    await pf2.dispose();
    expect(() => pf2.verify([])).toThrow(/disposed/);
  });

  it('dispose() closes a verify run still open; its next() is then USAGE', async () => {
    const pf = createPreflight({ directory: directory() });
    const good = sambaScenario('good');
    const disabled = sambaScenario('disabled');
    let pulled = 0;
    function* accounts() {
      for (const [i, s] of [good, disabled, good].entries()) {
        pulled++;
        yield { username: s.upn, password: new Secret(s.password), line: i + 1 };
      }
    }
    const it = pf.verify(accounts(), { concurrency: 1 });
    const first = await it.next();
    expect(first.done).toBe(false);
    await pf.dispose();
    // not a quiet end: the accounts it had not answered were not checked (USAGE, as every disposed object answers)
    await expect(it.next()).rejects.toMatchObject({ code: 'USAGE', details: { disposed: true }, message: expect.stringMatching(/was disposed/) });
    expect(pulled).toBeLessThanOrEqual(3);
  });
});
