// LDAP bind against the lab's real Samba AD DC: every account state, every name form, awkward
// passwords, transport security and network failures.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { validateLdapBind } from '../../../src/checks/ldap-bind.js';
import { Secret } from '../../../src/core/secret.js';
import { CredgateError } from '../../../src/core/errors.js';
import { samba, sambaScenario, type SambaState } from '../../lab/state.js';
import { adminClient, createUser } from '../../lab/samba.mjs';
import { closedPort, countingServer, silentServer, tlsAfterRequestServer, UNRESOLVABLE_HOST, type CountingServer, type SilentServer } from '../../helpers/servers.js';
import { makeCA, issueCert } from '../../lab/pki.mjs';

let lab: SambaState;
beforeAll(() => {
  lab = samba();
});

const opts = (username: string, password: string, extra: Record<string, unknown> = {}) => ({
  urls: lab.ldapsUrl,
  caFile: lab.caFile,
  username,
  password: new Secret(password),
  timeoutMs: 5000,
  ...extra,
});

const codes = (f: { code: string }[]) => f.map((x) => x.code);

describe('every AD account state, over LDAPS', () => {
  const keys = ['good', 'wrong-password', 'unknown-user', 'disabled', 'account-expired', 'must-change', 'locked', 'logon-hours', 'workstation', 'password-expired'];
  it.each(keys)('%s', async (key) => {
    const s = sambaScenario(key);
    const f = await validateLdapBind(opts(s.upn, s.tryPassword));
    expect(codes(f)).toEqual([s.expect]);
    if (s.subcode) {
      expect(f[0]!.evidence.adSubCode).toBe(s.subcode);
      expect(String(f[0]!.evidence.diagnosticMessage)).toContain(`data ${s.subcode}`);
      expect(f[0]!.remediation.length).toBeGreaterThan(0);
    }
    expect(JSON.stringify(f)).not.toContain(s.tryPassword);
  });
});

describe('account name forms', () => {
  it('accepts UPN, DN, DOMAIN\\user and a bare name with a default domain', async () => {
    const s = sambaScenario('good');
    for (const name of [s.upn, s.dn, s.downLevel]) {
      expect(codes(await validateLdapBind(opts(name, s.password)))).toEqual(['ldap.ok']);
    }
    expect(codes(await validateLdapBind(opts(s.user, s.password, { defaultDomain: 'pamtest.local' })))).toEqual(['ldap.ok']);
    expect(codes(await validateLdapBind(opts(s.user, s.password, { defaultDomain: 'PAMTEST' })))).toEqual(['ldap.ok']);
  });

  it('decodes the sub-code the same way whatever the name form', async () => {
    const s = sambaScenario('disabled');
    for (const name of [s.upn, s.dn, s.downLevel]) {
      expect(codes(await validateLdapBind(opts(name, s.password)))).toEqual(['ldap.account-disabled']);
    }
  });
});

describe('awkward passwords', () => {
  const cases: Array<[string, string]> = [
    ['backslash', 'Back\\slash\\\\pw1'],
    ['double quote', 'Quote"d"pw!'],
    ['spaces', '  spaced  out pass  '],
    ['non-ASCII', 'Pässwörd-ñ-日本語-😀'],
    ['127 characters', 'L0ng!' + 'x'.repeat(122)],
  ];
  let admin: Awaited<ReturnType<typeof adminClient>>;
  beforeAll(async () => {
    admin = await adminClient(lab);
  });
  afterAll(async () => {
    await admin.unbind().catch(() => {});
  });
  it.each(cases)('%s', async (label, password) => {
    expect(password.length).toBeGreaterThan(5);
    const user = `pw-${label.replace(/\W+/g, '')}-${process.pid % 10000}`.slice(0, 20);
    await createUser(admin, user, password);
    expect(codes(await validateLdapBind(opts(`${user}@pamtest.local`, password)))).toEqual(['ldap.ok']);
    const wrong = await validateLdapBind(opts(`${user}@pamtest.local`, password.slice(0, -1) + '#'));
    expect(codes(wrong)).toEqual(['ldap.invalid-credentials']);
    expect(JSON.stringify(wrong)).not.toContain(password);
  });
});

describe('transport security', () => {
  it('refuses a plain ldap:// simple bind before sending anything', async () => {
    const s = sambaScenario('good');
    await expect(validateLdapBind({ ...opts(s.upn, s.password), urls: lab.ldapUrl })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('Refusing to send a password over plain ldap://127.0.0.1:389'),
    });
  });

  it('with the loud opt-in, reports that the DC demands strong auth', async () => {
    const s = sambaScenario('good');
    const f = await validateLdapBind({ ...opts(s.upn, s.password), urls: lab.ldapUrl, allowPlainBind: true });
    expect(codes(f)).toEqual(['ldap.plain-bind', 'ldap.strong-auth-required']);
    expect(f[1]!.evidence.diagnosticMessage).toContain('Transport encryption required');
  });

  it('binds over StartTLS on ldap://', async () => {
    const s = sambaScenario('good');
    expect(codes(await validateLdapBind({ ...opts(s.upn, s.password), urls: lab.ldapUrl, starttls: true }))).toEqual(['ldap.ok']);
  });

  it('refuses an untrusted certificate, and accepts it with the CA file', async () => {
    const s = sambaScenario('good');
    const f = await validateLdapBind({ urls: lab.ldapsUrl, username: s.upn, password: new Secret(s.password), timeoutMs: 5000 });
    expect(codes(f)).toEqual(['tls.untrusted']);
    expect(f[0]!.remediation[0]!.action).toContain('--ca-file');
    expect(codes(await validateLdapBind(opts(s.upn, s.password)))).toEqual(['ldap.ok']);
  });

  it('reports a certificate name mismatch ([::1] is not in the SAN)', async () => {
    const s = sambaScenario('good');
    const f = await validateLdapBind({ ...opts(s.upn, s.password), urls: lab.ldapsUrlV6 });
    expect(codes(f)).toEqual(['tls.name-mismatch']);
    // and verifying against the right name works
    expect(codes(await validateLdapBind({ ...opts(s.upn, s.password), urls: lab.ldapsUrlV6, servername: 'localhost' }))).toEqual(['ldap.ok']);
  });

  it('--insecure-skip-tls-verify binds to a certificate that is neither trusted nor for this name, and says so', async () => {
    const s = sambaScenario('good');
    // [::1] is not in the lab certificate's SAN and no CA is given: both checks would fail
    const plain = { urls: lab.ldapsUrlV6, username: s.upn, password: new Secret(s.password), timeoutMs: 5000 };
    expect(codes(await validateLdapBind(plain))).toEqual(['tls.untrusted']);
    const f = await validateLdapBind({ ...plain, insecureSkipTlsVerify: true });
    expect(codes(f)).toEqual(['tls.verification-disabled', 'ldap.ok']);
    expect(f[0]!.severity).toBe('warning');
    expect(f[0]!.remediation[0]!.action).toContain('--ca-file');
    expect(f[1]!.evidence.url).toBe('ldaps://[::1]:636');
    // the warning comes with every answer, a rejection too
    const w = sambaScenario('wrong-password');
    expect(codes(await validateLdapBind({ ...plain, username: w.upn, password: new Secret(w.tryPassword), insecureSkipTlsVerify: true })))
      .toEqual(['tls.verification-disabled', 'ldap.invalid-credentials']);
  });

  it('refuses an empty password (that would be an anonymous bind)', async () => {
    await expect(validateLdapBind(opts('alice@pamtest.local', ''))).rejects.toBeInstanceOf(CredgateError);
  });

  it('names a missing CA file', async () => {
    await expect(validateLdapBind({ ...opts('alice@pamtest.local', 'x1234'), caFile: '/nonexistent/ca.pem' })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('/nonexistent/ca.pem'),
    });
  });
});

describe('network failures and failover', () => {
  let silent: SilentServer;
  beforeAll(async () => {
    silent = await silentServer();
  });
  afterAll(async () => {
    await silent.close();
  });

  it('a refused port is net.refused', async () => {
    const port = await closedPort();
    const f = await validateLdapBind({ ...opts('alice@pamtest.local', 'whatever1'), urls: `ldaps://127.0.0.1:${port}` });
    expect(codes(f)).toEqual(['net.refused']);
    expect(f[0]!.evidence.port).toBe(port);
  });

  it('a listener that never answers is net.timeout, within the deadline', async () => {
    const t0 = Date.now();
    const f = await validateLdapBind({ ...opts('alice@pamtest.local', 'whatever1'), urls: `ldaps://127.0.0.1:${silent.port}`, timeoutMs: 700 });
    expect(codes(f)).toEqual(['net.timeout']);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('an unresolvable name is net.dns-failure', async () => {
    const f = await validateLdapBind({ ...opts('alice@pamtest.local', 'whatever1'), urls: `ldaps://${UNRESOLVABLE_HOST}` });
    expect(codes(f)).toEqual(['net.dns-failure']);
  });

  it('fails over to the second URL', async () => {
    const s = sambaScenario('good');
    const port = await closedPort();
    const f = await validateLdapBind({ ...opts(s.upn, s.password), urls: [`ldaps://127.0.0.1:${port}`, lab.ldapsUrl] });
    expect(codes(f)).toEqual(['ldap.ok']);
    expect(f[0]!.evidence.url).toBe('ldaps://127.0.0.1:636');
  });

  it('never retries a bind answer on the next URL', async () => {
    // wrong-password (bob) has a no-lockout PSO; the second URL counts who calls
    const s = sambaScenario('wrong-password');
    const second = await countingServer();
    try {
      const f = await validateLdapBind({ ...opts(s.upn, s.tryPassword), urls: [lab.ldapsUrl, `ldaps://127.0.0.1:${second.port}`] });
      expect(codes(f)).toEqual(['ldap.invalid-credentials']);
      expect(f[0]!.evidence.url).toBe(lab.ldapsUrl);
      expect(second.connections).toBe(0);
    } finally {
      await second.close();
    }
  });

  it('the counting server does see a failover (control for the test above)', async () => {
    const s = sambaScenario('good');
    const first = await countingServer();
    try {
      // it accepts and drops the connection before TLS: unreachable, so the bind goes to Samba
      const f = await validateLdapBind({ ...opts(s.upn, s.password), urls: [`ldaps://127.0.0.1:${first.port}`, lab.ldapsUrl] });
      expect(codes(f)).toEqual(['ldap.ok']);
      expect(first.connections).toBe(1);
      expect(String(f[0]!.evidence.failover)).toContain(`ldaps://127.0.0.1:${first.port} (tls.handshake-failed)`);
    } finally {
      await first.close();
    }
  });

  it('fails over after a timeout: a silent first server (accepts TCP, never answers) is followed by Samba', async () => {
    const s = sambaScenario('good');
    const t0 = Date.now();
    const f = await validateLdapBind({ ...opts(s.upn, s.password), urls: [`ldaps://127.0.0.1:${silent.port}`, lab.ldapsUrl], timeoutMs: 700 });
    const ms = Date.now() - t0;
    expect(codes(f)).toEqual(['ldap.ok']);
    expect(f[0]!.evidence.url).toBe(lab.ldapsUrl);
    expect(String(f[0]!.evidence.failover)).toContain('(net.timeout)');
    expect(ms).toBeGreaterThanOrEqual(650);
    expect(ms).toBeLessThan(5000);
  });

  it('the overall bound (overallTimeoutMs) stops the failover and names the URLs not tried', async () => {
    const s = sambaScenario('good');
    const t0 = Date.now();
    const f = await validateLdapBind({
      ...opts(s.upn, s.password),
      urls: [`ldaps://127.0.0.1:${silent.port}`, `ldaps://localhost:${silent.port}`, lab.ldapsUrl], timeoutMs: 400, overallTimeoutMs: 600,
    });
    expect(codes(f)).toEqual(['net.timeout', 'net.timeout']);
    expect(f[1]!.evidence.notTried).toEqual([lab.ldapsUrl]);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('honours the caller\'s AbortSignal', async () => {
    const ac = new AbortController();
    const p = validateLdapBind({ ...opts('alice@pamtest.local', 'whatever1'), urls: `ldaps://127.0.0.1:${silent.port}`, timeoutMs: 10_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('a connection lost after the bind was sent is final', () => {
  let dir: string;
  let leaf: { cert: string; key: string };
  let caFile: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-lost-'));
    const ca = await makeCA(path.join(dir, 'ca'), { cn: 'credgate test CA (lost bind)' });
    leaf = await issueCert(ca, 'leaf', { cn: 'localhost', sans: ['IP:127.0.0.1', 'DNS:localhost'] });
    caFile = ca.cert;
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // the password goes to a loopback fake, never to the directory
  const pw = 'fake-server-only-pw-1';
  let second: CountingServer;
  beforeAll(async () => {
    second = await countingServer();
  });
  afterAll(async () => {
    await second.close();
  });

  it.each(['close', 'reset'] as const)('server reads the bind then %ss the connection: net.connection-lost, next URL never contacted', async (then) => {
    const fake = await tlsAfterRequestServer({ cert: fs.readFileSync(leaf.cert), key: fs.readFileSync(leaf.key), then });
    const before = second.connections;
    try {
      const f = await validateLdapBind({
        urls: [`ldaps://127.0.0.1:${fake.port}`, `ldaps://127.0.0.1:${second.port}`], caFile,
        username: 'alice@pamtest.local', password: new Secret(pw), timeoutMs: 3000,
      });
      expect(codes(f)).toEqual(['net.connection-lost']);
      expect(f[0]!.evidence).toMatchObject({ url: `ldaps://127.0.0.1:${fake.port}`, phase: 'bind', requestSent: true });
      expect(f[0]!.message).toContain('did not send the bind to another server');
      expect(fake.handshakes).toBe(1);
      expect(fake.requests).toBe(1);
      expect(second.connections).toBe(before);
      expect(JSON.stringify(f)).not.toContain(pw);
    } finally {
      await fake.close();
    }
  });

  it('server reads the bind and never answers: net.timeout, not re-sent', async () => {
    const fake = await tlsAfterRequestServer({ cert: fs.readFileSync(leaf.cert), key: fs.readFileSync(leaf.key), then: 'silent' });
    const before = second.connections;
    try {
      const f = await validateLdapBind({
        urls: [`ldaps://127.0.0.1:${fake.port}`, `ldaps://127.0.0.1:${second.port}`], caFile,
        username: 'alice@pamtest.local', password: new Secret(pw), timeoutMs: 600,
      });
      expect(codes(f)).toEqual(['net.timeout']);
      expect(f[0]!.evidence).toMatchObject({ phase: 'bind', requestSent: true });
      expect(fake.requests).toBe(1);
      expect(second.connections).toBe(before);
    } finally {
      await fake.close();
    }
  });

  it('a TLS failure before the bind is written still fails over (tls.untrusted, then the next URL)', async () => {
    // no caFile for the fake's CA: the handshake fails, nothing was sent, the next URL is tried
    const fake = await tlsAfterRequestServer({ cert: fs.readFileSync(leaf.cert), key: fs.readFileSync(leaf.key), then: 'close' });
    const before = second.connections;
    try {
      const f = await validateLdapBind({
        urls: [`ldaps://127.0.0.1:${fake.port}`, `ldaps://127.0.0.1:${second.port}`], caFile: lab.caFile,
        username: 'alice@pamtest.local', password: new Secret(pw), timeoutMs: 3000,
      });
      expect(codes(f)).toEqual(['tls.untrusted', 'tls.handshake-failed']);
      expect(fake.requests).toBe(0);
      expect(second.connections).toBe(before + 1);
    } finally {
      await fake.close();
    }
  });
});
