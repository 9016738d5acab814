// Account state read with a read-only service account, never binding as the target.
import { describe, it, expect, beforeAll } from 'vitest';
import { readAccountState, stateFindings, filetimeToDate, dateToFiletime, type AccountState } from '../../src/validators/account-state.js';
import { Secret } from '../../src/core/secret.js';
import { samba, sambaScenario, type SambaState } from '../lab/state.js';

let lab: SambaState;
beforeAll(() => {
  lab = samba();
});

const read = (target: string) =>
  readAccountState({
    urls: lab.ldapsUrl,
    caFile: lab.caFile,
    serviceUser: `${lab.reader.user}@pamtest.local`,
    servicePassword: new Secret(lab.reader.password),
    target,
    timeoutMs: 5000,
  });

describe('readAccountState against Samba AD', () => {
  it.each([
    ['good', 'account.ok'],
    ['disabled', 'ldap.account-disabled'],
    ['account-expired', 'ldap.account-expired'],
    ['must-change', 'ldap.password-must-change'],
    ['locked', 'ldap.account-locked'],
    ['logon-hours', 'ldap.logon-hours'],
    ['password-expired', 'ldap.password-expired'],
  ])('%s → %s', async (key, code) => {
    const s = sambaScenario(key);
    const r = await read(s.upn);
    expect(r.findings.map((f) => f.code)).toContain(code);
    expect(r.state?.dn).toBe(s.dn);
  });

  it('reads the raw state of a locked account', async () => {
    const r = await read(sambaScenario('locked').downLevel);
    expect(r.state).toMatchObject({ locked: true, badPwdCount: 3, lockoutThreshold: 3, lockoutThresholdSource: 'domain' });
    expect(r.state!.lockoutTime).toBeInstanceOf(Date);
  });

  it('flags the lockout risk one failure short of the threshold', async () => {
    const r = await read(`${lab.nearLocked.user}@pamtest.local`);
    expect(r.state).toMatchObject({ locked: false, badPwdCount: 2, lockoutThreshold: 3 });
    expect(r.findings.map((f) => f.code)).toEqual(['ldap.lockout-risk']);
  });

  it('uses the fine-grained policy (PSO) threshold when one applies', async () => {
    const r = await read(sambaScenario('wrong-password').upn);
    expect(r.state).toMatchObject({ lockoutThreshold: 0, lockoutThresholdSource: 'pso' });
    expect(r.state!.resultantPso).toContain('lab-nolockout');
  });

  it('reports the workstation restriction as information', async () => {
    const r = await read(sambaScenario('workstation').upn);
    expect(r.findings.map((f) => f.code)).toContain('ldap.workstation-list');
    expect(r.state!.userWorkstations).toBe('NOTTHISONE');
  });

  it('finds accounts by DN and reports unknown ones', async () => {
    expect((await read(sambaScenario('good').dn)).state?.sAMAccountName).toBe('alice');
    const r = await read('nobody-here@pamtest.local');
    expect(r.findings.map((f) => f.code)).toEqual(['ldap.user-not-found']);
  });

  it('names a rejected service account without touching the target', async () => {
    await expect(readAccountState({
      urls: lab.ldapsUrl, caFile: lab.caFile, serviceUser: 'svc-reader@pamtest.local', servicePassword: new Secret('wrong-pass'), target: 'alice', timeoutMs: 5000,
    })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('service account') });
  });
});

describe('stateFindings rules', () => {
  const now = new Date('2026-06-01T12:00:00Z');
  const base: AccountState = {
    dn: 'CN=x', userAccountControl: 512, computedFlags: 0, disabled: false, locked: false, mustChangePassword: false,
    passwordNeverExpires: false, lockoutThreshold: 5, lockoutThresholdSource: 'domain', badPwdCount: 0,
  };
  const codes = (s: Partial<AccountState>) => stateFindings({ ...base, ...s }, now, 14).map((f) => f.code);

  it('ok when nothing is wrong', () => expect(codes({})).toEqual(['account.ok']));
  it('lockout risk at threshold-1, not below, not when threshold is 0', () => {
    expect(codes({ badPwdCount: 4 })).toEqual(['ldap.lockout-risk']);
    expect(codes({ badPwdCount: 3 })).toEqual(['account.ok']);
    expect(codes({ badPwdCount: 40, lockoutThreshold: 0 })).toEqual(['account.ok']);
    expect(codes({ badPwdCount: 1, lockoutThreshold: 1 })).toEqual(['ldap.lockout-risk']);
  });
  it('password expiring soon is a warning, expired is an error', () => {
    expect(codes({ passwordExpires: new Date('2026-06-05T00:00:00Z') })).toEqual(['account.ok', 'ldap.password-expiring']);
    expect(codes({ passwordExpires: new Date('2026-05-01T00:00:00Z') })).toEqual(['ldap.password-expired']);
  });
  it('logon hours: denied now vs allowed now', () => {
    expect(codes({ logonHoursAllowedNow: false, logonHoursDenyAll: false })).toEqual(['ldap.logon-hours']);
    expect(codes({ logonHoursAllowedNow: true, logonHoursDenyAll: false })).toEqual(['account.ok']);
  });
  it('FILETIME conversion round-trips and treats 0 / never as unset', () => {
    const d = new Date('2026-11-25T10:00:00Z');
    expect(filetimeToDate(dateToFiletime(d))?.toISOString()).toBe(d.toISOString());
    expect(filetimeToDate('0')).toBeUndefined();
    expect(filetimeToDate('9223372036854775807')).toBeUndefined();
    expect(filetimeToDate('garbage')).toBeUndefined();
  });
});
