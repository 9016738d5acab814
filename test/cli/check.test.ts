// `credgate check` as a script would run it: exit codes, JSON shape, no password anywhere in the
// output (runCli scans stdout and stderr of every run for every lab password).
import { describe, it, expect, beforeAll } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { samba, sambaScenario, slapd, type SambaState } from '../lab/state.js';
import { adminClient } from '../lab/samba.mjs';
import { closedPort } from '../helpers/servers.js';

let lab: SambaState;
beforeAll(() => {
  lab = samba();
});

const base = () => ['check', '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile];

describe('credgate check exit codes and JSON', () => {
  it.each([
    ['good', 0],
    ['wrong-password', 1],
    ['unknown-user', 1],
    ['disabled', 3],
    ['account-expired', 3],
    ['must-change', 3],
    ['locked', 3],
    ['logon-hours', 3],
    ['workstation', 3],
    ['password-expired', 3],
  ])('%s exits %i', async (key, exit) => {
    const s = sambaScenario(key);
    const r = await runCli([...base(), '--user', s.upn, '--password-stdin', '--json'], { stdin: s.tryPassword + '\n' });
    expect(r.code).toBe(exit);
    expect(r.json).toMatchObject({ ok: exit === 0, code: s.expect, exitCode: exit });
    expect(r.json.findings[0]).toEqual(expect.objectContaining({ code: s.expect, severity: expect.any(String), message: expect.any(String), evidence: expect.any(Object), remediation: expect.any(Array) }));
    expect(r.json.timingsMs.total).toBeGreaterThan(0);
  });

  it('human output: verdict, cause, fix, raw server text', async () => {
    const s = sambaScenario('locked');
    const r = await runCli([...base(), '--user', s.downLevel, '--password-env', 'PW'], { env: { PW: s.password } });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^FAIL {2}PAMTEST\\frank — The account is locked out/);
    expect(r.stdout).toContain('server said: 80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 775');
    expect(r.stdout).toContain('fix:');
    expect(r.stdout).toContain('Unlock the account');
  });

  it('a refused port exits 4, a plain-LDAP bind is refused with exit 2', async () => {
    const port = await closedPort();
    const s = sambaScenario('good');
    const r1 = await runCli(['check', '--ldap', `ldaps://127.0.0.1:${port}`, '--user', s.upn, '--password-stdin', '--json'], { stdin: s.password });
    expect(r1.code).toBe(4);
    expect(r1.json.code).toBe('net.refused');
    const r2 = await runCli(['check', '--ldap', lab.ldapUrl, '--user', s.upn, '--password-stdin'], { stdin: s.password });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('Refusing to send a password over plain ldap://');
  });

  it('an untrusted certificate exits 4 and is accepted with --ca-file', async () => {
    const s = sambaScenario('good');
    const r = await runCli(['check', '--ldap', lab.ldapsUrl, '--user', s.upn, '--password-stdin', '--json'], { stdin: s.password });
    expect(r.code).toBe(4);
    expect(r.json.code).toBe('tls.untrusted');
  });

  it('refuses a password on the command line and other usage errors with exit 2', async () => {
    for (const args of [
      [...base(), '--user', 'alice', '--password', 'Sekr1t-on-argv'],
      [...base(), '--user', 'alice'],
      [...base(), '--password-stdin'],
      ['check', '--user', 'alice', '--password-stdin'],
      [...base(), '--user', 'alice', '--password-env', 'NOPE_NOT_SET'],
      [...base(), '--user', 'alice', '--password-stdin', '--timeout', 'soon'],
      [...base(), '--user', 'alice', '--password-stdin', '--bogus'],
    ]) {
      const r = await runCli(args, { stdin: 'x-password' });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/credgate: .+/);
    }
  });

  it('ppolicy states from OpenLDAP map to the same exit codes', async () => {
    const sl = slapd();
    for (const [key, exit] of [['good', 0], ['locked', 3], ['password-expired', 3], ['must-change', 3], ['wrong-password', 1]] as const) {
      const s = sl.scenarios.find((x) => x.key === key)!;
      const r = await runCli(['check', '--ldap', sl.ldapsUrl, '--ca-file', sl.caFile, '--user', s.dn, '--password-stdin', '--json'], { stdin: s.tryPassword });
      expect(r.code, key).toBe(exit);
    }
  });
});

describe('lockout safety', () => {
  it('does not bind an account one failure from lockout, and the account stays unlocked', async () => {
    const admin = await adminClient(lab);
    const readState = async () => {
      const r = await admin.search(lab.baseDn, { filter: `(sAMAccountName=${lab.nearLocked.user})`, attributes: ['badPwdCount', 'lockoutTime'] });
      return r.searchEntries[0]!;
    };
    try {
      const before = await readState();
      expect(before.badPwdCount).toBe(String(lab.lockoutThreshold - 1));
      const r = await runCli([
        ...base(), '--user', `${lab.nearLocked.user}@pamtest.local`, '--password-stdin',
        '--service-user', `${lab.reader.user}@pamtest.local`, '--service-password-env', 'SVC_PW', '--json',
      ], { stdin: 'a-wrong-password-that-would-lock', env: { SVC_PW: lab.reader.password } });
      expect(r.code).toBe(3);
      expect(r.json.code).toBe('ldap.lockout-risk');
      const after = await readState();
      expect(after.badPwdCount).toBe(before.badPwdCount);
      expect(['0', '', undefined]).toContain(Array.isArray(after.lockoutTime) ? after.lockoutTime[0] : after.lockoutTime);
    } finally {
      await admin.unbind();
    }
  });

  it('with a service account, a healthy account is read and then bound once', async () => {
    const s = sambaScenario('good');
    const r = await runCli([
      ...base(), '--user', s.upn, '--password-stdin', '--service-user', `${lab.reader.user}@pamtest.local`, '--service-password-env', 'SVC_PW', '--json',
    ], { stdin: s.password, env: { SVC_PW: lab.reader.password } });
    expect(r.code).toBe(0);
    expect(r.json.findings.map((f: { code: string }) => f.code)).toEqual(['ldap.ok', 'account.ok']);
    expect(Object.keys(r.json.timingsMs)).toEqual(expect.arrayContaining(['accountState', 'bind', 'total']));
  });
});
