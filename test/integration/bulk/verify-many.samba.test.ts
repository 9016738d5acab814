// verifyMany against the lab's Samba AD DC: every AD sub-code in one stream, and the lockout guard
// (batched account-state reads with the read-only service account) on accounts this test creates.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Client } from 'ldapts';
import { verifyMany, type AccountLine, type VerifyResult } from '../../../src/bulk/verify-many.js';
import { readAccountState } from '../../../src/checks/account-state.js';
import { Secret } from '../../../src/core/secret.js';
import { samba, allLabPasswords, type SambaState, sambaReader } from '../../lab/state.js';
import { adminClient, createUser, badBinds, BASE_DN } from '../../lab/samba.mjs';
import { assertNoLeak } from '../../helpers/cli.js';

let lab: SambaState;
beforeAll(() => {
  lab = samba();
});

async function collect(it: AsyncIterable<VerifyResult>): Promise<VerifyResult[]> {
  const out: VerifyResult[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describe('verifyMany on Samba AD', () => {
  it('reports every scenario with the same codes as the single bind', async () => {
    const input: AccountLine[] = lab.scenarios.map((s, i) => ({ username: i % 2 ? s.upn : s.downLevel, password: new Secret(s.tryPassword), line: i + 1, id: s.key }));
    const out = await collect(verifyMany(input, { urls: lab.ldapsUrl, caFile: lab.caFile, concurrency: 3, timeoutMs: 8000 }));
    expect(out).toHaveLength(input.length);
    for (const s of lab.scenarios) {
      const r = out.find((x) => x.id === s.key)!;
      expect(r.code, s.key).toBe(s.expect);
      expect(r.bound).toBe(true);
      if (s.subcode) expect(r.findings[0]!.evidence.adSubCode).toBe(s.subcode);
    }
    assertNoLeak(JSON.stringify(out), allLabPasswords(), 'verifyMany results');
  });
});

describe('the guard reads state exactly as readAccountState does', () => {
  it('same account-state findings for every scenario account, read in one batch', async () => {
    const service = sambaReader();
    const input: AccountLine[] = lab.scenarios.map((s) => ({ username: s.upn, password: new Secret(s.tryPassword), id: s.key }));
    const out = await collect(verifyMany(input, { urls: lab.ldapsUrl, caFile: lab.caFile, concurrency: 2, timeoutMs: 8000, service, guardBatchSize: 50 }));
    for (const s of lab.scenarios) {
      const single = await readAccountState({ urls: lab.ldapsUrl, caFile: lab.caFile, serviceUser: service.username, servicePassword: service.password, target: s.upn, timeoutMs: 8000 });
      const r = out.find((x) => x.id === s.key)!;
      const bulkState = r.findings.filter((f) => f.source === 'account-state').map((f) => f.code).sort();
      expect(bulkState, s.key).toEqual(single.findings.map((f) => f.code).sort());
      // locked and unknown accounts are never bound when the guard is on
      if (s.key === 'locked' || s.key === 'unknown-user') expect(r.bound, s.key).toBe(false);
    }
  });
});

describe('lockout guard (service account, batched reads)', () => {
  const tag = `bg${randomBytes(3).toString('hex')}`;
  const users = { ok: `${tag}ok`, near: `${tag}near`, wrong: `${tag}wrong`, dis: `${tag}dis` };
  const pw = 'Bulk!Guard-2026';
  let admin: Client;

  const badPwdCount = async (user: string) => {
    const r = await admin.search(BASE_DN, { scope: 'sub', filter: `(sAMAccountName=${user})`, attributes: ['badPwdCount'] });
    return Number(r.searchEntries[0]?.badPwdCount ?? NaN);
  };

  beforeAll(async () => {
    admin = await adminClient(lab);
    for (const u of Object.values(users)) await createUser(admin, u, pw, u === users.dis ? { userAccountControl: '514' } : {});
    await badBinds(lab, users.near, 2); // threshold 3: one more failure would lock it
  }, 60_000);

  afterAll(async () => {
    for (const u of Object.values(users)) await admin.del(`CN=${u},CN=Users,${BASE_DN}`).catch(() => {});
    await admin.unbind().catch(() => {});
  });

  it('does not bind an account one failure short of lockout, binds the others once', async () => {
    expect(await badPwdCount(users.near)).toBe(2);
    const input: AccountLine[] = [
      { username: `${users.ok}@pamtest.local`, password: new Secret(pw), id: 'ok' },
      { username: `PAMTEST\\${users.near}`, password: new Secret('Wrong!Guess-1'), id: 'near' },
      { username: `CN=${users.wrong},CN=Users,${BASE_DN}`, password: new Secret('Wrong!Guess-2'), id: 'wrong' },
      { username: `${users.dis}@pamtest.local`, password: new Secret(pw), id: 'dis' },
      { username: `${tag}none@pamtest.local`, password: new Secret(pw), id: 'none' },
    ];
    const out = await collect(verifyMany(input, {
      urls: lab.ldapsUrl, caFile: lab.caFile, concurrency: 2, timeoutMs: 8000, guardBatchSize: 3,
      service: sambaReader(),
    }));
    const by = (id: string) => out.find((r) => r.id === id)!;
    expect(out).toHaveLength(5);
    expect(by('ok')).toMatchObject({ ok: true, code: 'ldap.ok', bound: true });
    expect(by('ok').findings.map((f) => f.code)).toContain('account.ok');
    expect(by('near')).toMatchObject({ ok: false, code: 'ldap.lockout-risk', bound: false });
    expect(by('wrong')).toMatchObject({ ok: false, code: 'ldap.invalid-credentials', bound: true });
    // disabled: the state read says so; the bind (correct password) says 533 as well
    expect(by('dis')).toMatchObject({ ok: false, code: 'ldap.account-disabled' });
    expect(by('none')).toMatchObject({ ok: false, code: 'ldap.user-not-found', bound: false });
    // the guard cost nothing; the wrong password counted exactly once (never retried)
    expect(await badPwdCount(users.near)).toBe(2);
    expect(await badPwdCount(users.wrong)).toBe(1);
    assertNoLeak(JSON.stringify(out), [...allLabPasswords(), pw, 'Wrong!Guess-1', 'Wrong!Guess-2'], 'guarded results');
  });

  it('a rejected service account stops the run before any target is touched', async () => {
    const before = await badPwdCount(users.wrong);
    await expect(collect(verifyMany([{ username: `${users.wrong}@pamtest.local`, password: new Secret('Wrong!Guess-3') }], {
      urls: lab.ldapsUrl, caFile: lab.caFile, timeoutMs: 8000,
      service: { username: `${lab.reader.user}@pamtest.local`, password: new Secret('not-the-reader-pw') },
    }))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(await badPwdCount(users.wrong)).toBe(before);
  });
});
