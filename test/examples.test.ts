// Every example runs against the lab, so none can rot.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { samba, sambaScenario, type SambaState } from './lab/state.js';
import { assertNoLeak } from './helpers/cli.js';
import { allLabPasswords, labPart } from './lab/state.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
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
