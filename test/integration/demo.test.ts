// `npm run demo` is one of the README's two commands: run its script against the lab the test run
// started (the demo reuses running lab parts and stops only what it started) so it cannot rot.
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { assertNoLeak, knownSecrets } from '../helpers/cli.js';

const root = path.resolve(import.meta.dirname, '..', '..');

describe('npm run demo', () => {
  it('doctor names the expected cause for every lab scenario, and prints no password', async () => {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [path.join(root, 'scripts', 'demo.mjs')], { cwd: root, timeout: 120_000, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 16 << 20 }, (e, stdout, stderr) =>
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr }),
      );
    });
    expect(r.stdout).toMatch(/^(\d+) scenarios, \1 with the expected cause\./m);
    expect(Number(/^(\d+) scenarios/m.exec(r.stdout)?.[1])).toBeGreaterThanOrEqual(20);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('UNEXPECTED');
    for (const cause of ['rdp.nla-ok', 'ldap.invalid-credentials', 'ldap.account-locked', 'ldap.password-expired', 'net.refused', 'rdp.cert-expired', 'cache.stale-password']) {
      expect(r.stdout).toContain(cause);
    }
    assertNoLeak(r.stdout + r.stderr, knownSecrets(), 'demo output');
  }, 150_000);
});
