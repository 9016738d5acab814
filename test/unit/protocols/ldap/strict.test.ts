// Hostile LDAP servers (issue 14, defects 6, 7, 8): a success that is not a BindResponse, an
// answer under the wrong messageID, garbage, malformed BER, a 2 GB length prefix with an endless
// stream. Both LDAP clients (ldapts held by strict.ts for the account-state read, the wire client
// of the single check and the bulk pool) must answer ldap.protocol-error (exit 4) when the bytes arrive: never ldap.ok, never
// net.timeout after the full timeout, never a buffer that grows.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { makeCA, issueCert } from '../../../lab/pki.mjs';
import { AD_52E, berInt, ldapResult, scriptedLdapServer, streamOversized, tlv, type Script } from '../../../helpers/ldap-server.js';
import { validateLdapBind } from '../../../../src/checks/ldap-bind.js';
import { readAccountState } from '../../../../src/checks/account-state.js';
import { verifyMany } from '../../../../src/bulk/verify-many.js';
import { answerKind, MAX_MESSAGE_BYTES } from '../../../../src/protocols/ldap/wire.js';
import { Secret } from '../../../../src/core/secret.js';
import { CredgateError } from '../../../../src/core/errors.js';
import { diagnose } from '../../../../src/findings/diagnose.js';
import { main } from '../../../../src/cli/main.js';

let dir: string;
let pki: { cert: Buffer; key: Buffer; caFile: string };
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-ldap-strict-'));
  const ca = await makeCA(path.join(dir, 'ca'));
  const leaf = await issueCert(ca, 'ldap', { cn: '127.0.0.1', sans: ['IP:127.0.0.1'] });
  pki = { cert: fs.readFileSync(leaf.cert), key: fs.readFileSync(leaf.key), caFile: ca.cert };
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const USER = 'CN=Mallory Target,CN=Users,DC=corp,DC=example';
const PW = 'Hostile-Test-Pw-77';
// generous: the point is "when the bytes arrive", not "after the timeout", under a loaded 2-core box
const TIMEOUT = 20_000;
const PROMPT = 10_000;

const answers: Record<string, Script> = {
  'an ExtendedResponse (0x78), result 0, the right messageID': (r, s) => s.write(ldapResult(r.messageId, 0x78, 0)),
  'a SearchResultDone (0x65), result 0, the right messageID': (r, s) => s.write(ldapResult(r.messageId, 0x65, 0)),
  'a BindResponse, result 0, another messageID': (r, s) => s.write(ldapResult(r.messageId + 1, 0x61, 0)),
  'a BindResponse, result 0, under messageID 0': (r, s) => s.write(ldapResult(0, 0x61, 0)),
  'garbage (an HTTP answer)': (_r, s) => s.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'),
  'malformed BER (diagnosticMessage overruns the BindResponse)': (r, s) =>
    s.write(tlv(0x30, berInt(0x02, r.messageId), Buffer.from([0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x7f]))),
  'a 2 GB length prefix, then an endless stream': (_r, s) => streamOversized(s),
};

const bindOnly = (answer: Script): Script => (r, s) => {
  if (r.op === 0x60) answer(r, s);
};

async function withServer<T>(script: Script, fn: (url: string, srv: Awaited<ReturnType<typeof scriptedLdapServer>>) => Promise<T>): Promise<T> {
  const srv = await scriptedLdapServer(script, pki);
  try {
    return await fn(srv.url, srv);
  } finally {
    await srv.close();
  }
}

describe('the answer rule', () => {
  it('only the response type RFC 4511 pairs with the request, under its messageID; messageID 0 only for a notice', () => {
    expect(answerKind(3, 0x61, 0x60)).toBe('answer');
    expect(answerKind(3, 0x65, 0x63)).toBe('answer');
    expect(answerKind(0, 0x78, 0x60)).toBe('notice');
    for (const [id, op, pending] of [[3, 0x78, 0x60], [3, 0x65, 0x60], [3, 0x61, undefined], [0, 0x61, 0x60], [3, 0x61, 0x77]] as const) {
      const e = (() => { try { answerKind(id, op, pending); } catch (x) { return x; } })();
      expect(e).toBeInstanceOf(CredgateError);
      expect((e as CredgateError).code).toBe('PROTOCOL_ERROR');
    }
  });
});

describe('the single check (the wire client) and the account-state read (ldapts held by strict.ts)', () => {
  it.each(Object.entries(answers))('%s: ldap.protocol-error at once, exit 4, never ldap.ok', async (_name, answer) => {
    await withServer(bindOnly(answer), async (url, srv) => {
      const t0 = performance.now();
      const f = await validateLdapBind({ urls: url, caFile: pki.caFile, username: USER, password: new Secret(PW), timeoutMs: TIMEOUT });
      const ms = performance.now() - t0;
      expect(f.map((x) => x.code)).toEqual(['ldap.protocol-error']);
      expect(f[0]!.evidence).toMatchObject({ requestSent: true, url });
      expect(diagnose(f).exitCode).toBe(4);
      expect(ms).toBeLessThan(PROMPT);
      expect(srv.binds()).toBe(1);
      expect(JSON.stringify(f)).not.toContain(PW);
    });
  });

  it('an AD rejection is still an answer (the rule does not turn real answers into errors)', async () => {
    await withServer(bindOnly((r, s) => s.write(ldapResult(r.messageId, 0x61, 49, AD_52E))), async (url) => {
      const f = await validateLdapBind({ urls: url, caFile: pki.caFile, username: USER, password: new Secret(PW), timeoutMs: TIMEOUT });
      expect(f[0]!.code).toBe('ldap.invalid-credentials');
    });
  });

  it('the oversized message is refused at its length prefix, not buffered: the cap is named', async () => {
    await withServer(bindOnly((_r, s) => streamOversized(s)), async (url) => {
      const f = await validateLdapBind({ urls: url, caFile: pki.caFile, username: USER, password: new Secret(PW), timeoutMs: TIMEOUT });
      expect(f[0]!.message).toContain(`${MAX_MESSAGE_BYTES}-byte cap`);
    });
  });

  it('the account-state read (the service account\'s bind and searches) obeys the same rule; the target is never bound', async () => {
    const svc = 'CN=svc,CN=Users,DC=corp,DC=example';
    await withServer(bindOnly((r, s) => s.write(ldapResult(r.messageId, 0x78, 0))), async (url, srv) => {
      const r = await readAccountState({ urls: url, caFile: pki.caFile, serviceUser: svc, servicePassword: new Secret('svc-pw-1234'), target: USER, timeoutMs: TIMEOUT });
      expect(r.findings.map((x) => x.code)).toEqual(['ldap.protocol-error']);
      expect(srv.binds(USER)).toBe(0);
    });
  });

  it('credgate check prints the protocol error and exits 4', async () => {
    await withServer(bindOnly((r, s) => s.write(ldapResult(r.messageId, 0x78, 0))), async (url) => {
      let out = '';
      const sink = new Writable({ write(c, _e, cb) { out += String(c); cb(); } });
      const code = await main(['check', '--ldap', url, '--ca-file', pki.caFile, '--user', USER, '--password-env', 'PW', '--json'], { stdout: sink, stderr: sink, env: { PW }, cwd: dir });
      expect(code).toBe(4);
      expect(JSON.parse(out)).toMatchObject({ ok: false, code: 'ldap.protocol-error', exitCode: 4 });
      expect(out).not.toContain(PW);
    });
  });
});

describe('the bulk pool (wire.ts)', () => {
  it.each(Object.entries(answers))('%s: ldap.protocol-error at once, bound (never resent)', async (_name, answer) => {
    await withServer(bindOnly(answer), async (url, srv) => {
      const t0 = performance.now();
      const out = [];
      for await (const r of verifyMany([{ username: USER, password: new Secret(PW) }], { urls: url, caFile: pki.caFile, concurrency: 1, timeoutMs: TIMEOUT })) out.push(r);
      expect(performance.now() - t0).toBeLessThan(PROMPT);
      expect(out.map((r) => [r.code, r.ok, r.bound, r.exitCode])).toEqual([['ldap.protocol-error', false, true, 4]]);
      expect(srv.binds()).toBe(1);
    });
  });
});

