// Account state read with a read-only service account, never binding as the target.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readAccountState, stateFindings, lockoutRiskKnown, type AccountState } from '../../../src/checks/account-state.js';
import { filetimeToDate, dateToFiletime } from '../../../src/protocols/ldap/filetime.js';
import { Secret } from '../../../src/core/secret.js';
import { samba, sambaScenario, type SambaState } from '../../lab/state.js';
import { silentServer, type SilentServer } from '../../helpers/servers.js';
import { restrictedReader, type RestrictedReader } from '../../helpers/account-state-fixtures.js';
import { checkCredential } from '../../../src/pipeline/credential-check.js';
import { diagnose } from '../../../src/findings/diagnose.js';
import { adminClient, createUser } from '../../lab/samba.mjs';

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

  it('reads logonHours as the 21 bytes the directory holds, also when they happen to be valid UTF-8', async () => {
    // 10 × C2 80, then 01: valid UTF-8, which ldapts hands over as 11 characters of text unless asked
    // for bytes — the map would not be 21 bytes, and the hours not read
    const hours = Buffer.concat([Buffer.from('c280'.repeat(10), 'hex'), Buffer.from([0x01])]);
    const allowedAt = (d: Date) => {
      const h = d.getUTCDay() * 24 + d.getUTCHours();
      return ((hours[h >> 3]! >> (h & 7)) & 1) === 1;
    };
    const c = await adminClient(lab);
    try {
      await createUser(c, 'cg-hours-bits', 'HoursBits!Lab-2026', { logonHours: hours });
      const before = allowedAt(new Date());
      const r = await read('cg-hours-bits@pamtest.local');
      const after = allowedAt(new Date());
      expect(r.state?.logonHoursDenyAll).toBe(false);
      expect([before, after]).toContain(r.state?.logonHoursAllowedNow);
      expect(r.findings.map((f) => f.code)).toEqual([r.state?.logonHoursAllowedNow ? 'account.ok' : 'ldap.logon-hours']);
    } finally {
      await c.del(`CN=cg-hours-bits,CN=Users,${lab.baseDn}`).catch(() => {});
      await c.unbind();
    }
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

describe('failover with a timeout per URL', () => {
  let silent: SilentServer;
  beforeAll(async () => {
    silent = await silentServer();
  });
  afterAll(async () => {
    await silent.close();
  });

  it('a silent first DC (accepts TCP, never answers) is followed by the real one', async () => {
    const s = sambaScenario('good');
    const t0 = Date.now();
    const r = await readAccountState({
      urls: [`ldaps://127.0.0.1:${silent.port}`, lab.ldapsUrl], caFile: lab.caFile,
      serviceUser: `${lab.reader.user}@pamtest.local`, servicePassword: new Secret(lab.reader.password),
      target: s.upn, timeoutMs: 700,
    });
    expect(r.findings.map((f) => f.code)).toEqual(['account.ok']);
    expect(r.state?.dn).toBe(s.dn);
    const ms = Date.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(650);
    expect(ms).toBeLessThan(5000);
  });

  it('the overall bound stops the failover and names the DCs not tried', async () => {
    const r = await readAccountState({
      urls: [`ldaps://127.0.0.1:${silent.port}`, `ldaps://localhost:${silent.port}`, lab.ldapsUrl], caFile: lab.caFile,
      serviceUser: `${lab.reader.user}@pamtest.local`, servicePassword: new Secret(lab.reader.password),
      target: 'alice', timeoutMs: 400, overallTimeoutMs: 600,
    });
    expect(r.findings.map((f) => f.code)).toEqual(['net.timeout', 'net.timeout']);
    expect(r.findings[1]!.evidence.notTried).toEqual([lab.ldapsUrl]);
  });
});

describe('a service account that cannot read the lockout threshold', () => {
  let svc: RestrictedReader;
  const psoDn = () => `CN=lab-nolockout,CN=Password Settings Container,CN=System,${lab.baseDn}`;
  beforeAll(async () => {
    // denied reading the domain object and the no-lockout PSO; users stay readable
    svc = await restrictedReader(lab, `svc-nodom-${process.pid % 10000}`, [lab.baseDn, psoDn()]);
  });
  afterAll(async () => {
    await svc?.remove();
  });
  const readAs = (target: string, extra: Record<string, unknown> = {}) => readAccountState({
    urls: lab.ldapsUrl, caFile: lab.caFile, serviceUser: svc.upn, servicePassword: new Secret(svc.password), target, timeoutMs: 5000, ...extra,
  });

  it('reports the unreadable domain threshold as a lockout risk, not as "no lockout"', async () => {
    const r = await readAs(sambaScenario('good').upn);
    expect(r.state).toMatchObject({ dn: sambaScenario('good').dn, lockoutThresholdSource: 'unknown', lockoutThreshold: 1, lockoutThresholdUnreadable: lab.baseDn });
    expect(r.findings.map((f) => f.code)).toEqual(['ldap.lockout-risk']);
    expect(r.findings[0]!.evidence).toMatchObject({ lockoutRisk: 'unknown', lockoutThreshold: 'unknown' });
    expect(JSON.stringify(r)).not.toContain(svc.password);
  });

  it('an unreadable PSO makes the threshold unknown too (it may be lower than the domain\'s)', async () => {
    const r = await readAs(sambaScenario('wrong-password').upn);
    expect(r.state).toMatchObject({ lockoutThresholdSource: 'unknown', lockoutThresholdUnreadable: psoDn() });
    expect(r.findings.map((f) => f.code)).toEqual(['ldap.lockout-risk']);
  });

  it('the reader that can read it still gets the real threshold (control)', async () => {
    const r = await read(sambaScenario('good').upn);
    expect(r.state).toMatchObject({ lockoutThresholdSource: 'domain', lockoutThreshold: 3 });
  });

  it('allowUnknownThreshold turns it into a warning', async () => {
    const r = await readAs(sambaScenario('good').upn, { allowUnknownThreshold: true });
    expect(r.findings.map((f) => [f.code, f.severity])).toEqual([['account.ok', 'ok'], ['ldap.lockout-threshold-unknown', 'warning']]);
  });

  // checkCredential here too: one file owns the restricted account and its ACEs (no two test
  // files editing the domain object's ACL at once)
  const check = (extra: Record<string, unknown> = {}) => {
    const s = sambaScenario('good');
    return checkCredential({
      urls: lab.ldapsUrl, caFile: lab.caFile, username: s.upn, password: new Secret(s.password), timeoutMs: 5000,
      service: { username: svc.upn, password: new Secret(svc.password) }, ...extra,
    });
  };

  it('checkCredential does not bind when the lockout risk is unknown (exit 3)', async () => {
    const r = await check();
    expect(r.bound).toBe(false);
    expect(r.timingsMs.bind).toBeUndefined();
    expect(r.findings.map((f) => f.code)).toEqual(['ldap.lockout-risk']);
    expect(diagnose(r.findings).exitCode).toBe(3);
  });

  it('checkCredential binds when the caller accepts the risk (allowUnknownThreshold)', async () => {
    const r = await check({ allowUnknownThreshold: true });
    expect(r.bound).toBe(true);
    expect(r.findings.map((f) => f.code)).toEqual(['ldap.ok', 'account.ok', 'ldap.lockout-threshold-unknown']);
    expect(diagnose(r.findings).exitCode).toBe(0);
    expect(JSON.stringify(r)).not.toContain(sambaScenario('good').password);
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
  it('an unknown threshold or unreadable badPwdCount is a lockout risk unless accepted', () => {
    expect(codes({ lockoutThresholdSource: 'unknown', lockoutThreshold: 1, badPwdCount: 0 })).toEqual(['ldap.lockout-risk']);
    // bulk passes 0 with 'unknown': still unknown, never "no lockout"
    expect(codes({ lockoutThresholdSource: 'unknown', lockoutThreshold: 0 })).toEqual(['ldap.lockout-risk']);
    expect(codes({ badPwdCount: undefined })).toEqual(['ldap.lockout-risk']);
    expect(codes({ badPwdCount: undefined, lockoutThreshold: 0 })).toEqual(['account.ok']);
    expect(lockoutRiskKnown({ ...base, lockoutThresholdSource: 'unknown' })).toBe(false);
    expect(lockoutRiskKnown(base)).toBe(true);
    const accepted = stateFindings({ ...base, lockoutThresholdSource: 'unknown' }, now, 14, { allowUnknownThreshold: true });
    expect(accepted.map((f) => f.code)).toEqual(['account.ok', 'ldap.lockout-threshold-unknown']);
    // a locked account is reported as locked, not as an unknown risk
    expect(codes({ lockoutThresholdSource: 'unknown', locked: true })).toEqual(['ldap.account-locked']);
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
