// The cause table, row by row: every code's category decides the exit code, and the verdict
// picks the most basic cause when several findings disagree.
import { describe, it, expect } from 'vitest';
import { CAUSES, EXIT_CODES, diagnose, exitCodeFor } from '../src/diagnose.js';
import { finding, type Finding } from '../src/core/findings.js';

const f = (code: string, severity: Finding['severity'] = 'error', fix = `fix ${code}`): Finding =>
  finding('test', code, severity, `msg ${code}`, {}, [{ action: fix }]);

describe('cause table', () => {
  it.each(Object.entries(CAUSES))('%s has a category, a priority and a cause', (code, row) => {
    expect(row.cause.length).toBeGreaterThan(10);
    expect(row.priority).toBeGreaterThan(0);
    const exit = exitCodeFor(code);
    if (row.category === 'ok' || row.category === 'info' || row.category === 'not-checked') expect(exit).toBe(0);
    else expect(exit).toBe(EXIT_CODES[row.category]);
  });

  it('maps each category to its documented exit code', () => {
    expect(exitCodeFor('ldap.invalid-credentials')).toBe(1);
    expect(exitCodeFor('ldap.account-locked')).toBe(3);
    expect(exitCodeFor('ldap.lockout-risk')).toBe(3);
    expect(exitCodeFor('net.refused')).toBe(4);
    expect(exitCodeFor('tls.untrusted')).toBe(4);
    expect(exitCodeFor('rdp.cert-expired')).toBe(4);
    expect(exitCodeFor('provider.not-found')).toBe(5);
    expect(exitCodeFor('cache.stale-password')).toBe(6);
    expect(exitCodeFor('ldap.plain-bind-refused')).toBe(2);
  });
});

describe('diagnose', () => {
  it('ok when only ok/info/warning findings', () => {
    const v = diagnose([f('ldap.ok', 'ok'), f('ldap.password-expiring', 'warning', 'rotate soon')]);
    expect(v).toMatchObject({ ok: true, code: 'ldap.ok', exitCode: 0 });
    expect(v.remediation.map((r) => r.action)).toEqual(['rotate soon']);
  });

  it('the most basic cause wins: unreachable before account state before password before cache', () => {
    expect(diagnose([f('cache.stale-password'), f('ldap.invalid-credentials'), f('net.refused')]).code).toBe('net.refused');
    expect(diagnose([f('cache.stale-password'), f('ldap.invalid-credentials'), f('ldap.account-locked')]).code).toBe('ldap.account-locked');
    expect(diagnose([f('cache.stale-password'), f('ldap.invalid-credentials')]).code).toBe('ldap.invalid-credentials');
    expect(diagnose([f('ldap.ok', 'ok'), f('cache.stale-password')])).toMatchObject({ code: 'cache.stale-password', exitCode: 6 });
    expect(diagnose([f('provider.not-found'), f('net.refused')]).code).toBe('provider.not-found');
  });

  it('ranks fixes: the decider\'s first, no duplicates, numbered', () => {
    const v = diagnose([f('cache.stale-password', 'error', 'purge'), f('ldap.account-locked', 'error', 'unlock'), f('x.other', 'error', 'unlock')]);
    expect(v.remediation.map((r) => [r.priority, r.action])).toEqual([[1, 'unlock'], [2, 'purge']]);
  });

  it('an info finding never decides, even with error severity on an unknown code', () => {
    expect(diagnose([f('ldap.ok', 'ok'), f('rdp.cert-self-signed', 'warning')]).ok).toBe(true);
  });
});
