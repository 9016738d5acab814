// credgate check with a service account that cannot read the account's password policy (PSO): the
// lockout threshold is unknown, so credgate does not bind (ldap.lockout-risk, exit 3) unless
// --allow-unknown-threshold accepts the risk. Only bob (a PSO without lockout) gets a wrong password.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../helpers/cli.js';
import { samba, sambaScenario, type SambaState } from '../../lab/state.js';
import { restrictedReader, type RestrictedReader } from '../../helpers/account-state-fixtures.js';

let lab: SambaState;
let svc: RestrictedReader;
beforeAll(async () => {
  lab = samba();
  svc = await restrictedReader(lab, `svc-cli-nopso-${process.pid % 10000}`, [`CN=lab-nolockout,CN=Password Settings Container,CN=System,${lab.baseDn}`]);
}, 60_000);
afterAll(async () => {
  await svc?.remove();
}, 60_000);

describe('credgate check --allow-unknown-threshold', () => {
  it('without it: ldap.lockout-risk, exit 3, no bind; with it: the bind runs (bob\'s wrong password → exit 1) with a warning', async () => {
    const bob = sambaScenario('wrong-password');
    const args = ['check', '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--user', bob.upn, '--password-stdin', '--service-user', svc.upn, '--service-password-env', 'SVC_PW', '--json'];
    const guarded = await runCli(args, { stdin: bob.tryPassword, env: { SVC_PW: svc.password }, secrets: [svc.password] });
    expect([guarded.code, guarded.json.code]).toEqual([3, 'ldap.lockout-risk']);
    expect(guarded.json.timingsMs.bind).toBeUndefined();
    const accepted = await runCli([...args, '--allow-unknown-threshold'], { stdin: bob.tryPassword, env: { SVC_PW: svc.password }, secrets: [svc.password] });
    expect([accepted.code, accepted.json.code]).toEqual([1, 'ldap.invalid-credentials']);
    expect(accepted.json.findings.map((f: { code: string }) => f.code)).toContain('ldap.lockout-threshold-unknown');
    expect(accepted.json.timingsMs.bind).toBeGreaterThan(0);
  });

  it('credgate verify: the same guard per account, and the same flag', async () => {
    const bob = sambaScenario('wrong-password');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-verify-unknown-'));
    try {
      const input = path.join(dir, 'in.csv');
      fs.writeFileSync(input, `username,password_env\n${bob.upn},BOB_PW\n`);
      const run = async (out: string, extra: string[]) => {
        const r = await runCli(['verify', '--input', input, '--output', path.join(dir, out), '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--service-user', svc.upn, '--service-password-env', 'SVC_PW', ...extra],
          { env: { SVC_PW: svc.password, BOB_PW: bob.tryPassword }, secrets: [svc.password] });
        return { code: r.code, rec: JSON.parse(fs.readFileSync(path.join(dir, out), 'utf8').trim()) as { code: string; bound: boolean } };
      };
      const guarded = await run('a.jsonl', []);
      expect([guarded.code, guarded.rec.code, guarded.rec.bound]).toEqual([3, 'ldap.lockout-risk', false]);
      const accepted = await run('b.jsonl', ['--allow-unknown-threshold']);
      expect([accepted.code, accepted.rec.code, accepted.rec.bound]).toEqual([1, 'ldap.invalid-credentials', true]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without a service account there is no guard to relax: a usage error in check, doctor and verify', async () => {
    const lab2 = samba();
    for (const args of [
      ['check', '--ldap', lab2.ldapsUrl, '--ca-file', lab2.caFile, '--user', 'x@pamtest.local', '--password-stdin', '--allow-unknown-threshold'],
      ['check', '--rdp', '127.0.0.1:1', '--user', 'x', '--password-stdin', '--allow-unknown-threshold'],
      ['doctor', '--host', '127.0.0.1:1', '--account', 'x', '--password-stdin', '--ldap', lab2.ldapsUrl, '--allow-unknown-threshold'],
      ['verify', '--input', '/nonexistent.csv', '--output', '/tmp/never.jsonl', '--ldap', lab2.ldapsUrl, '--allow-unknown-threshold'],
    ]) {
      const r = await runCli(args, { stdin: 'x-1234567' });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('--allow-unknown-threshold');
    }
  });
});
