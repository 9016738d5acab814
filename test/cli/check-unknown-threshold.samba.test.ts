// credgate check with a service account that cannot read the account's password policy (PSO): the
// lockout threshold is unknown, so credgate does not bind (ldap.lockout-risk, exit 3) unless
// --allow-unknown-threshold accepts the risk. Only bob (a PSO without lockout) gets a wrong password.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { samba, sambaScenario, type SambaState } from '../lab/state.js';
import { restrictedReader, type RestrictedReader } from '../validators/account-state.fixtures.js';

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
});
