// verifyMany's lockout guard reads the lockout threshold by the same rules as readAccountState:
// the PSO's when one applies (an unreadable PSO is unknown, never the domain's instead), the
// domain object's (defaultNamingContext) otherwise, whatever the search base; unknown = the
// account is ldap.lockout-risk and not bound, unless allowUnknownThreshold.
// The restricted readers are made with the careful ACL helper; only bob (wrong-password, a PSO
// without lockout) is given a wrong password.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { verifyMany, type AccountLine, type VerifyResult } from '../../../src/bulk/verify-many.js';
import { createPreflight } from '../../../src/bulk/session.js';
import { readAccountState } from '../../../src/checks/account-state.js';
import { Secret } from '../../../src/core/secret.js';
import { samba, sambaScenario, allLabPasswords, type SambaState, sambaReader } from '../../lab/state.js';
import { restrictedReader, type RestrictedReader } from '../../helpers/account-state-fixtures.js';
import { assertNoLeak } from '../../helpers/cli.js';

let lab: SambaState;
beforeAll(() => {
  lab = samba();
});
const psoDn = () => `CN=lab-nolockout,CN=Password Settings Container,CN=System,${lab.baseDn}`;

async function collect(it: AsyncIterable<VerifyResult>): Promise<VerifyResult[]> {
  const out: VerifyResult[] = [];
  for await (const r of it) out.push(r);
  return out.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}
const guardOf = (r: VerifyResult) => r.findings.find((f) => f.source === 'account-state' && f.code.startsWith('ldap.lockout'));

describe('verifyMany guard: a reader that cannot read the PSO', () => {
  let svc: RestrictedReader;
  beforeAll(async () => {
    svc = await restrictedReader(lab, `svc-nopso-${process.pid % 10000}`, [psoDn()]);
  }, 60_000);
  afterAll(async () => {
    await svc?.remove();
  }, 60_000);
  const service = () => ({ username: svc.upn, password: new Secret(svc.password) });

  it('the account under the unreadable PSO is ldap.lockout-risk (threshold unknown, not the domain\'s) and not bound; the others are', async () => {
    const alice = sambaScenario('good');
    const bob = sambaScenario('wrong-password');
    const input: AccountLine[] = [
      { username: alice.upn, password: new Secret(alice.password), line: 1 },
      { username: bob.upn, password: new Secret(bob.tryPassword), line: 2 },
    ];
    const out = await collect(verifyMany(input, { urls: lab.ldapsUrl, caFile: lab.caFile, concurrency: 2, timeoutMs: 8000, service: service() }));
    expect(out.map((r) => [r.line, r.code, r.bound])).toEqual([[1, 'ldap.ok', true], [2, 'ldap.lockout-risk', false]]);
    expect(out[1]!.exitCode).toBe(3);
    expect(guardOf(out[1]!)!.evidence).toMatchObject({ lockoutRisk: 'unknown', lockoutThresholdSource: 'unknown', lockoutThresholdUnreadable: psoDn() });
    // the same judgement as the single read
    const single = await readAccountState({ urls: lab.ldapsUrl, caFile: lab.caFile, serviceUser: svc.upn, servicePassword: new Secret(svc.password), target: bob.upn, timeoutMs: 8000 });
    expect(out[1]!.findings.filter((f) => f.source === 'account-state').map((f) => f.code)).toEqual(single.findings.map((f) => f.code));
    assertNoLeak(JSON.stringify(out), [...allLabPasswords(), svc.password], 'verifyMany results');
  }, 30_000);

  it('allowUnknownThreshold (from createPreflight\'s directory) binds, with a ldap.lockout-threshold-unknown warning', async () => {
    const bob = sambaScenario('wrong-password');
    const pf = createPreflight({ directory: { urls: lab.ldapsUrl, caFile: lab.caFile, service: service(), allowUnknownThreshold: true }, stepTimeoutMs: 8000 });
    let out: VerifyResult[];
    try {
      out = await collect(pf.verify([{ username: bob.upn, password: new Secret(bob.tryPassword), line: 1 }]));
    } finally {
      await pf.dispose();
    }
    expect(out.map((r) => [r.code, r.bound])).toEqual([['ldap.invalid-credentials', true]]);
    expect(guardOf(out[0]!)).toMatchObject({ code: 'ldap.lockout-threshold-unknown', severity: 'warning' });
  }, 30_000);
});

describe('verifyMany guard: a reader that cannot read the domain object', () => {
  let svc: RestrictedReader;
  beforeAll(async () => {
    svc = await restrictedReader(lab, `svc-nodom2-${process.pid % 10000}`, [lab.baseDn]);
  }, 60_000);
  afterAll(async () => {
    await svc?.remove();
  }, 60_000);

  it('accounts under the domain policy are ldap.lockout-risk and not bound', async () => {
    const alice = sambaScenario('good');
    const out = await collect(verifyMany([{ username: alice.upn, password: new Secret(alice.password), line: 1 }], {
      urls: lab.ldapsUrl, caFile: lab.caFile, timeoutMs: 8000, service: { username: svc.upn, password: new Secret(svc.password) },
    }));
    expect(out.map((r) => [r.code, r.bound, r.exitCode])).toEqual([['ldap.lockout-risk', false, 3]]);
    expect(guardOf(out[0]!)!.evidence).toMatchObject({ lockoutRisk: 'unknown', lockoutThresholdUnreadable: lab.baseDn });
  }, 30_000);
});

describe('verifyMany guard: a search base that is not the domain object', () => {
  it('the domain threshold is still read from defaultNamingContext (baseDn = CN=Users)', async () => {
    const alice = sambaScenario('good');
    const out = await collect(verifyMany([{ username: alice.upn, password: new Secret(alice.password), line: 1 }], {
      urls: lab.ldapsUrl, caFile: lab.caFile, timeoutMs: 8000, baseDn: `CN=Users,${lab.baseDn}`,
      service: sambaReader(),
    }));
    expect(out.map((r) => [r.code, r.bound])).toEqual([['ldap.ok', true]]);
    expect(out[0]!.findings.find((f) => f.code === 'account.ok')!.evidence).toMatchObject({ lockoutThresholdSource: 'domain', lockoutThreshold: 3 });
  }, 30_000);
});
