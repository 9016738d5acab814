// LDAP bind against the lab's OpenLDAP slapd with the ppolicy overlay: the states come back only
// in the password policy response control, which credgate requests and decodes.
import { describe, it, expect, beforeAll } from 'vitest';
import { validateLdapBind } from '../../../src/checks/ldap-bind.js';
import { Secret } from '../../../src/core/secret.js';
import { slapd, type SlapdState } from '../../lab/state.js';

let lab: SlapdState;
beforeAll(() => {
  lab = slapd();
});

const check = (dn: string, pw: string, extra: Record<string, unknown> = {}) =>
  validateLdapBind({ urls: lab.ldapsUrl, caFile: lab.caFile, username: dn, password: new Secret(pw), timeoutMs: 5000, ...extra });

describe('ppolicy states over LDAPS', () => {
  it.each([
    ['good', ['ldap.ok']],
    ['wrong-password', ['ldap.invalid-credentials']],
    ['locked', ['ldap.account-locked']],
    ['password-expired', ['ldap.password-expired']],
    ['must-change', ['ldap.password-must-change']],
    ['expiring', ['ldap.ok', 'ldap.password-expiring']],
  ])('%s', async (key, expected) => {
    const s = lab.scenarios.find((x) => x.key === key)!;
    const f = await check(s.dn, s.tryPassword);
    expect(f.map((x) => x.code)).toEqual(expected);
    if (key !== 'wrong-password') expect(f[0]!.evidence.passwordPolicy).toMatchObject({ received: true });
  });

  it('expiring soon carries the seconds left', async () => {
    const s = lab.scenarios.find((x) => x.key === 'expiring')!;
    const f = await check(s.dn, s.password);
    const w = f.find((x) => x.code === 'ldap.password-expiring')!;
    expect(w.severity).toBe('warning');
    expect(Number(w.evidence.timeBeforeExpiration)).toBeGreaterThan(2 * 86400);
    expect(Number(w.evidence.timeBeforeExpiration)).toBeLessThan(4 * 86400);
  });

  it('grace logins: the bind succeeds and says how many remain', async () => {
    const s = lab.scenarios.find((x) => x.key === 'grace')!;
    const f = await check(s.dn, s.password);
    expect(f.map((x) => x.code)).toEqual(['ldap.ok', 'ldap.grace-logins']);
    expect(typeof f[1]!.evidence.graceAuthNsRemaining).toBe('number');
  });

  it('an unknown DN is invalid credentials (no response control)', async () => {
    const f = await check(`uid=nobody,ou=people,${lab.suffix}`, 'goodpw');
    expect(f.map((x) => x.code)).toEqual(['ldap.invalid-credentials']);
  });

  it('works over StartTLS on the plain port', async () => {
    const s = lab.scenarios.find((x) => x.key === 'good')!;
    const f = await check(s.dn, s.password, { urls: lab.ldapUrl, starttls: true });
    expect(f.map((x) => x.code)).toEqual(['ldap.ok']);
  });

  it('without the control, must-change looks like success — which is why credgate sends it', async () => {
    const s = lab.scenarios.find((x) => x.key === 'must-change')!;
    const f = await check(s.dn, s.password, { passwordPolicy: false });
    expect(f.map((x) => x.code)).toEqual(['ldap.ok']);
  });
});
