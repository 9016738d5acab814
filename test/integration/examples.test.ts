// Every example runs against the lab, so none can rot.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { samba, sambaScenario, type SambaState } from '../lab/state.js';
import { assertNoLeak } from '../helpers/cli.js';
import { allLabPasswords, labPart } from '../lab/state.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..', '..');
let lab: SambaState;
let dir: string;
beforeAll(() => {
  lab = samba();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-examples-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function node(script: string, env: Record<string, string>, input?: string) {
  try {
    const r = await run(process.execPath, [path.join(root, script)], { env: { ...process.env, ...env }, timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    void input;
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('examples/pam-prelaunch-hook.mjs', () => {
  it('allows a good account and stops a stale vault password with the cause', async () => {
    const good = sambaScenario('good');
    const bad = sambaScenario('wrong-password');
    const store = path.join(dir, 'store.json');
    fs.writeFileSync(store, JSON.stringify({
      'rdp/alice': { user: good.upn, password: good.password, rotatedAt: '2026-11-01T00:00:00Z' },
      'rdp/bob': { user: bad.upn, password: bad.tryPassword, rotatedAt: '2026-11-01T00:00:00Z' },
    }));
    const rdp = labPart<{ valid: { port: number } }>('rdp');
    const env = { LDAP_URL: lab.ldapsUrl, LDAP_CA: lab.caFile, READER_USER: `${lab.reader.user}@pamtest.local`, READER_PW: lab.reader.password, STORE: store, TARGET_HOST: `127.0.0.1:${rdp.valid.port}` };
    const ok = await node('examples/pam-prelaunch-hook.mjs', { ...env, TARGET_REF: 'rdp/alice' });
    expect(ok.code, ok.stderr).toBe(0);
    const okJson = JSON.parse(ok.stdout);
    expect(okJson).toMatchObject({ allow: true, code: 'ldap.ok' });
    expect(okJson.audit.map((a: { code: string }) => a.code)).toEqual(expect.arrayContaining(['provider.ok', 'account.ok', 'ldap.ok']));
    const no = await node('examples/pam-prelaunch-hook.mjs', { ...env, TARGET_REF: 'rdp/bob' });
    expect(no.code).toBe(1);
    expect(JSON.parse(no.stdout)).toMatchObject({ allow: false, code: 'ldap.invalid-credentials', headline: expect.stringContaining("The vault's password for bob@pamtest.local is wrong (AD 52e)") });
    for (const r of [ok, no]) assertNoLeak(r.stdout + r.stderr, allLabPasswords(), 'the PAM hook example');
  });
});

describe('examples/pre-session-check.sh', () => {
  it('branches on the exit code', async () => {
    const binDir = path.join(dir, 'bin');
    fs.mkdirSync(binDir, { recursive: true });
    fs.writeFileSync(path.join(binDir, 'credgate'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(root, 'bin', 'credgate.mjs')}" "$@"\n`, { mode: 0o755 });
    const go = (key: string) => new Promise<{ code: number; out: string }>((resolve) => {
      const s = sambaScenario(key);
      const child = execFile('bash', [path.join(root, 'examples', 'pre-session-check.sh'), '127.0.0.1', s.upn, lab.ldapsUrl, lab.caFile], {
        env: { ...process.env, PATH: `${binDir}:${process.env.PATH}` }, timeout: 30_000,
      }, (err, stdout) => resolve({ code: err ? (err as unknown as { code: number }).code : 0, out: stdout }));
      child.stdin?.end(s.tryPassword);
    });
    const a = await go('good');
    expect(a).toMatchObject({ code: 0, out: expect.stringContaining('OK: launching RDP session') });
    const b = await go('locked');
    expect(b.code).toBe(3);
    expect(b.out).toContain('STOP: the account cannot log on: The account is locked out');
  });
});

describe('examples/nightly-verify.sh and examples/fleet-purge.sh', () => {
  const binDir = () => {
    const d = path.join(dir, 'bin2');
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'credgate'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(root, 'bin', 'credgate.mjs')}" "$@"\n`, { mode: 0o755 });
    return d;
  };
  const sh = (script: string, args: string[], env: Record<string, string>) => new Promise<{ code: number; out: string }>((resolve) => {
    execFile('bash', [path.join(root, 'examples', script), ...args], { env: { ...process.env, PATH: `${binDir()}:${process.env.PATH}`, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      assertNoLeak(stdout + stderr, allLabPasswords(), script);
      resolve({ code: err ? (err as unknown as { code: number }).code : 0, out: stdout });
    });
  });

  it('nightly verify: a summary by finding code, exit code of the worst', async () => {
    const good = sambaScenario('good');
    const bad = sambaScenario('wrong-password');
    const disabled = sambaScenario('disabled');
    const csv = path.join(dir, 'accounts.csv');
    fs.writeFileSync(csv, `username,password_env\n${good.upn},PW_GOOD\n${bad.upn},PW_BAD\n${disabled.upn},PW_DIS\n`);
    const out = path.join(dir, 'results.jsonl');
    const r = await sh('nightly-verify.sh', [csv, out, lab.ldapsUrl, lab.caFile], {
      READER_USER: `${lab.reader.user}@pamtest.local`, READER_PW: lab.reader.password, PW_GOOD: good.password, PW_BAD: bad.tryPassword, PW_DIS: disabled.password,
    });
    expect(r.out).toContain('nightly verify: 3 accounts, 1 valid, 2 failed');
    expect(r.out).toContain('ldap.invalid-credentials: 1');
    expect(r.out).toContain('ldap.account-disabled: 1');
    // the run's exit code is the most basic failure's: an unusable account (3) before a wrong password (1)
    expect(r.code).toBe(3);
    expect(r.out).toContain('some accounts are unusable');
    expect(fs.readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('fleet purge: finds the stale entries from AD pwdLastSet, dry run first, then the audit and the script', async () => {
    const fleet = path.join(dir, 'fleet');
    fs.mkdirSync(fleet, { recursive: true });
    for (const [m, when] of [['WS-1', '2020-01-01T00:00:00Z'], ['WS-2', new Date(Date.now() + 3600e3).toISOString()]] as const) {
      fs.writeFileSync(path.join(fleet, `${m}.json`), JSON.stringify({ schema: 'credgate-collector/1', machine: m, credentials: [{ target: 'Domain:target=TERMSRV/web01.pamtest.local', type: 'domain-password', userName: 'PAMTEST\\alice', lastWritten: when }] }));
    }
    const env = { READER_USER: `${lab.reader.user}@pamtest.local`, READER_PW: lab.reader.password };
    const args = [fleet, 'alice@pamtest.local', 'web01', lab.ldapsUrl, lab.caFile];
    const dry = await sh('fleet-purge.sh', args, env);
    expect(dry.out).toContain('WS-1: TERMSRV/web01.pamtest.local');
    expect(dry.out).toContain('dry run');
    expect(fs.existsSync(path.join(fleet, 'purge.ps1'))).toBe(false);
    const yes = await sh('fleet-purge.sh', [...args, '--yes'], env);
    expect(yes.code).toBe(0);
    expect(fs.readFileSync(path.join(fleet, 'purge.ps1'), 'utf8')).toContain("'WS-1' = @('TERMSRV/web01.pamtest.local')");
    expect(fs.readFileSync(path.join(fleet, 'purge.ps1'), 'utf8')).not.toContain('WS-2');
    expect(fs.readFileSync(path.join(fleet, 'purge-audit.jsonl'), 'utf8')).toContain('cache.stale-password');
  });
});
