// `credgate check` as a script would run it: exit codes, JSON shape, no password anywhere in the
// output (runCli scans stdout and stderr of every run for every lab password).
import { describe, it, expect, beforeAll } from 'vitest';
import { runCli, assertNoLeak } from '../../helpers/cli.js';
import { samba, sambaScenario, slapd, type SambaState } from '../../lab/state.js';
import { adminClient } from '../../lab/samba.mjs';
import { closedPort } from '../../helpers/servers.js';

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
    // a pass also says what it did not prove: the right to an RDP session
    expect(r.json.findings.map((f: { code: string }) => f.code)).toEqual(['ldap.ok', 'account.ok', 'rdp.logon-right-not-checked']);
    expect(Object.keys(r.json.timingsMs)).toEqual(expect.arrayContaining(['accountState', 'bind', 'total']));
  });
});

describe('no password in any output', () => {
  it('a password typed after --password-stdin is not repeated in the usage error', async () => {
    for (const stray of ['hunter2', 'Sx9!', 'a\'b"c']) {
      const r = await runCli([...base(), '--user', 'alice', '--password-stdin', stray], { stdin: 'x-password', secrets: [stray] });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('unexpected argument (not shown: it may be a password)');
      expect(r.stdout).toBe('');
    }
  });

  it('a password given where --password-env wants a variable NAME is never echoed', async () => {
    const s = sambaScenario('good');
    // a valid identifier that is not set: the message says so without the name
    const r1 = await runCli([...base(), '--user', s.upn, '--password-env', 'Summer2024'], { secrets: ['Summer2024'] });
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain('The environment variable named on --password-env is not set or empty (the name is not shown');
    // not even an identifier
    const r2 = await runCli([...base(), '--user', s.upn, '--password-env', 'Pa ss-2024!'], { secrets: ['Pa ss-2024!'] });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('takes the NAME of an environment variable');
    // the same for the service account's variable
    const r3 = await runCli([...base(), '--user', s.upn, '--password-stdin', '--service-user', 'svc', '--service-password-env', 'Reader2026x'], { stdin: s.password, secrets: ['Reader2026x'] });
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain('named on --service-password-env is not set');
    // a conventional name is shown, which is what makes the message useful
    const r4 = await runCli([...base(), '--user', s.upn, '--password-env', 'CG_NOT_SET_PW']);
    expect(r4.stderr).toContain('Environment variable CG_NOT_SET_PW (from --password-env) is not set');
  });

  it('credentialSource in JSON names the variable only when it looks like a variable name', async () => {
    const s = sambaScenario('good');
    const shown = await runCli([...base(), '--user', s.upn, '--password-env', 'CG_PW', '--json'], { env: { CG_PW: s.password } });
    expect([shown.code, shown.json.credentialSource]).toEqual([0, 'env CG_PW']);
    const hidden = await runCli([...base(), '--user', s.upn, '--password-env', 'Summer2024', '--json'], { env: { Summer2024: s.password }, secrets: ['Summer2024'] });
    expect([hidden.code, hidden.json.credentialSource]).toEqual([0, 'env']);
  });

  // awkward passwords: quotes and backslashes are escaped in JSON (the leak scan looks for that form
  // too), unicode travels as UTF-8; each is wrong for the account, so the directory answers 49
  const AWKWARD = ['Wr0ng"quote\'s-2026', 'back\\slash\\n-2026', 'ünï©ødé-Pässwört-✓-🔑', '{"password":"x"}\\u0041', ' spaced out\tand tabbed '];

  it.each(AWKWARD.map((p) => [JSON.stringify(p), p]))('OpenLDAP, wrong password %s: exit 1, never echoed (raw or JSON-escaped)', async (_label, pw) => {
    const sl = slapd();
    const s = sl.scenarios.find((x) => x.key === 'wrong-password')!;
    const r = await runCli(['check', '--ldap', sl.ldapsUrl, '--ca-file', sl.caFile, '--user', s.dn, '--password-stdin', '--json'], { stdin: pw, secrets: [pw] });
    expect([r.code, r.json.code]).toEqual([1, 'ldap.invalid-credentials']);
    const human = await runCli(['check', '--ldap', sl.ldapsUrl, '--ca-file', sl.caFile, '--user', s.dn, '--password-stdin'], { stdin: pw, secrets: [pw] });
    expect(human.code).toBe(1);
  });

  it.each(AWKWARD.map((p) => [JSON.stringify(p), p]))('Samba, wrong password %s: exit 1, never echoed', async (_label, pw) => {
    const s = sambaScenario('wrong-password');
    const r = await runCli([...base(), '--user', s.upn, '--password-stdin', '--json'], { stdin: pw, secrets: [pw] });
    expect([r.code, r.json.code]).toEqual([1, 'ldap.invalid-credentials']);
  });

  it('the leak scan itself finds a password in its JSON-escaped form and short ones when quoted', () => {
    const pw = 'a"b\\c';
    expect(() => assertNoLeak(JSON.stringify({ echoed: pw }), [pw], 'json')).toThrow(/LEAK: .*JSON-escaped/);
    expect(() => assertNoLeak(JSON.stringify({ echoed: 'ü✓' }), ['ü✓'], 'json')).toThrow(/LEAK/);
    expect(() => assertNoLeak('{"echoed":"\\u00fc\\u2713x"}', ['ü✓x'], 'ascii json')).toThrow(/LEAK/);
    expect(() => assertNoLeak("Unexpected argument 'pw'", ['pw'], 'stderr')).toThrow(/LEAK/);
    expect(() => assertNoLeak('typed:\npw\n', ['pw'], 'stdout')).toThrow(/LEAK/);
    expect(() => assertNoLeak('the password was wrong [exit 1]', ['pw', '1', 'a"b\\c'], 'stdout')).not.toThrow();
  });
});
