// A bulk result is decided as diagnose() decides a verdict: an error whose code has no cause row
// is a failure (internal, exit 70), never "ok"; every row gives the same ok / exit code both ways.
import { describe, it, expect } from 'vitest';
import { createSummary } from '../../../src/bulk/summary.js';
import { decideAccount } from '../../../src/findings/diagnose.js';
import { CAUSES, diagnose } from '../../../src/findings/diagnose.js';
import { finding, type FindingCode } from '../../../src/findings/finding.js';

/** A code outside the catalog (a third-party check's, or one from a newer credgate): typed as one on purpose. */
const foreign = (c: string) => c as FindingCode;

describe('the cause table knows the guard\'s warning', () => {
  it('ldap.lockout-threshold-unknown is informational (exit 0), with a cause', () => {
    expect(CAUSES['ldap.lockout-threshold-unknown']).toMatchObject({ category: 'info', cause: expect.stringContaining('allowUnknownThreshold') });
    const w = finding('account-state', 'ldap.lockout-threshold-unknown', 'warning', 'unknown threshold, risk accepted', {});
    expect(diagnose([finding('ldap-bind', 'ldap.ok', 'ok', 'ok', {}), w])).toMatchObject({ ok: true, exitCode: 0 });
    expect(decideAccount([finding('ldap-bind', 'ldap.ok', 'ok', 'ok', {}), w])).toMatchObject({ ok: true, code: 'ldap.ok', exitCode: 0 });
  });
});

describe('decideAccount', () => {
  it('an error finding without a cause row is a failure (internal, exit 70)', () => {
    const d = decideAccount([finding('ldap-bind', foreign('ldap.some-new-error'), 'error', 'a failure with no row', {})]);
    expect(d).toEqual({ ok: false, code: 'ldap.some-new-error', category: 'internal', exitCode: 70 });
    expect(diagnose([finding('ldap-bind', foreign('ldap.some-new-error'), 'error', 'a failure with no row', {})]).exitCode).toBe(70);
  });

  it('a warning without a row does not decide; an accepted bind stays ok', () => {
    const d = decideAccount([finding('ldap-bind', 'ldap.ok', 'ok', 'ok', {}), finding('x', foreign('x.some-note'), 'warning', 'note', {})]);
    expect(d).toMatchObject({ ok: true, code: 'ldap.ok', exitCode: 0 });
  });

  it.each(Object.keys(CAUSES))('%s (as an error next to ldap.ok): the same ok and exit code as diagnose', (code) => {
    const fs = [finding('ldap-bind', 'ldap.ok', 'ok', 'ok', {}), finding('t', code as FindingCode, 'error', code, {})];
    const v = diagnose(fs);
    const d = decideAccount(fs);
    expect([d.ok, d.exitCode]).toEqual([v.ok, v.exitCode]);
    if (!v.ok) expect(d.code).toBe(v.code);
  });

  it('the run summary gives such an account exit 70 too, not 0', () => {
    const sum = createSummary();
    sum.add({ ok: true, code: 'ldap.ok' });
    sum.add({ ok: false, code: foreign('ldap.some-new-error') });
    expect(sum.result()).toMatchObject({ failed: 1, worstCode: 'ldap.some-new-error', exitCode: 70 });
  });
});
