// With a directory configured, the NLA step runs only after the LDAP bind ended with ldap.ok: a
// bind the lockout guard stopped (an unknown lockout risk) or a bind whose answer was lost must
// not be followed by the same password at the RDP host (one more bad-password count on the DC).
// The RDP host here is a loopback stand-in that counts NLA (CredSSP) attempts.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { preflight } from '../../../src/pipeline/preflight.js';
import { Secret } from '../../../src/core/secret.js';
import { CC_NLA } from '../../helpers/rdp-fakes.js';
import { fakeNlaHost, tlsAfterRequestServer, type FakeNlaHost } from '../../helpers/servers.js';
import { restrictedReader, type RestrictedReader } from '../../helpers/account-state-fixtures.js';
import { labPart, samba, allLabPasswords, type SambaState } from '../../lab/state.js';

interface RdpLab { caFile: string }
let lab: SambaState;
let rdp: RdpLab;
let cert: Buffer;
let key: Buffer;
let host: FakeNlaHost;
beforeAll(async () => {
  lab = samba();
  rdp = labPart<RdpLab>('rdp');
  // the lab's RDP certificate (for 127.0.0.1, chained to rdp.caFile), for the fake RDP host and the fake DC
  cert = fs.readFileSync(path.join(path.dirname(rdp.caFile), 'valid.crt'));
  key = fs.readFileSync(path.join(path.dirname(rdp.caFile), 'valid.key'));
  host = await fakeNlaHost({ cert, key, confirm: CC_NLA });
});
afterAll(async () => {
  await host?.close();
});
const step = (r: { steps: Array<{ name: string }> }, name: string) => r.steps.find((x) => x.name === name) as unknown as { status: string; note?: string; findings: Array<{ code: string; evidence: Record<string, unknown> }> };
const noLeak = (r: unknown, extra: string[] = []) => {
  const text = JSON.stringify(r);
  for (const p of [...allLabPasswords(), ...extra]) expect(text.includes(p), 'a password in the report').toBe(false);
};

// connections the endpoint probe alone makes (measured in the control below)
let probeConnections = -1;

describe('the fake RDP host counts NLA attempts (control)', () => {
  it('with NLA switched off only the endpoint probe connects', async () => {
    const before = host.connections;
    const r = await preflight({ host: `127.0.0.1:${host.port}` }, { rdp: { caFile: rdp.caFile, nla: false }, deadlineMs: 8_000, stepTimeoutMs: 3_000 });
    expect(step(r, 'rdp-endpoint').status).toBe('passed');
    probeConnections = host.connections - before;
    expect(probeConnections).toBeGreaterThan(0);
    expect(host.credsspRequests).toBe(0);
  }, 15_000);

  it('without a directory the NLA step runs and reaches it', async () => {
    const before = host.credsspRequests;
    const r = await preflight({ host: `127.0.0.1:${host.port}`, account: 'nobody@pamtest.local', password: new Secret('fake-host-only-pw-0') }, {
      rdp: { caFile: rdp.caFile }, deadlineMs: 8_000, stepTimeoutMs: 3_000,
    });
    expect(step(r, 'rdp-endpoint').status).toBe('passed');
    expect(step(r, 'rdp-nla').status).not.toBe('not-checked');
    expect(host.credsspRequests).toBe(before + 1);
    expect(probeConnections).toBeGreaterThan(0);
  }, 15_000);
});

describe('the lockout guard stopped the bind (badPwdCount unreadable: lockout risk unknown)', () => {
  let svc: RestrictedReader;
  const user = `svc-nobad-${process.pid % 10000}`;
  const dn = () => `CN=${user},CN=Users,${lab.baseDn}`;
  beforeAll(async () => {
    // the service account may not read its own user object (badPwdCount and the rest); the domain
    // object stays readable, so the lockout threshold is known. It is both the reader and the
    // target, so no scenario account is touched, and NLA could only ever reach the loopback fake.
    svc = await restrictedReader(lab, user, [dn()]);
  }, 60_000);
  afterAll(async () => {
    await svc?.remove();
  }, 60_000);

  it('account-state returns a state and ldap.lockout-risk (unknown), the bind is skipped, and NLA is not attempted', async () => {
    const before = { connections: host.connections, credssp: host.credsspRequests };
    const r = await preflight({ host: `127.0.0.1:${host.port}`, account: dn(), password: new Secret(svc.password) }, {
      directory: { urls: lab.ldapsUrl, caFile: lab.caFile, service: { username: svc.upn, password: new Secret(svc.password) } },
      rdp: { caFile: rdp.caFile }, deadlineMs: 10_000, stepTimeoutMs: 5_000,
    });
    const st = step(r, 'account-state');
    expect(st.findings.map((f) => f.code)).toEqual(['ldap.lockout-risk']);
    expect(st.findings[0]!.evidence).toMatchObject({ lockoutRisk: 'unknown', lockoutThresholdSource: 'domain', dn: dn() });
    expect(st.findings[0]!.evidence.badPwdCount).toBeUndefined();
    expect(step(r, 'ldap-bind')).toMatchObject({ status: 'not-checked', note: expect.stringContaining('ldap.lockout-risk') });
    expect(step(r, 'rdp-endpoint').status).toBe('passed');
    expect(step(r, 'rdp-nla')).toMatchObject({ status: 'not-checked', note: expect.stringContaining('ldap.lockout-risk') });
    // the endpoint probe's connections only, and no CredSSP request
    expect(host.credsspRequests).toBe(before.credssp);
    expect(host.connections).toBe(before.connections + probeConnections);
    expect(r.verdict).toMatchObject({ ok: false, code: 'ldap.lockout-risk', exitCode: 3 });
    noLeak(r, [svc.password]);
  }, 20_000);
});

describe('the bind was sent and its answer lost', () => {
  it.each(['close', 'reset'] as const)('the DC reads the bind then %ss: net.connection-lost, and NLA is not attempted', async (then) => {
    const dc = await tlsAfterRequestServer({ cert, key, then });
    const before = { connections: host.connections, credssp: host.credsspRequests };
    const pw = 'fake-dc-only-pw-1';
    try {
      const r = await preflight({ host: `127.0.0.1:${host.port}`, account: 'alice@pamtest.local', password: new Secret(pw) }, {
        directory: { urls: `ldaps://127.0.0.1:${dc.port}`, caFile: rdp.caFile },
        rdp: { caFile: rdp.caFile }, deadlineMs: 8_000, stepTimeoutMs: 3_000,
      });
      const bind = step(r, 'ldap-bind');
      expect(bind.status).toBe('failed');
      expect(bind.findings[0]).toMatchObject({ code: 'net.connection-lost', evidence: { requestSent: true } });
      expect(dc.requests).toBe(1);
      expect(step(r, 'rdp-endpoint').status).toBe('passed');
      expect(step(r, 'rdp-nla')).toMatchObject({ status: 'not-checked', note: expect.stringContaining('net.connection-lost') });
      expect(host.credsspRequests).toBe(before.credssp);
      expect(host.connections).toBe(before.connections + probeConnections);
      expect(r.verdict).toMatchObject({ ok: false, code: 'net.connection-lost', exitCode: 4 });
      noLeak(r, [pw]);
    } finally {
      await dc.close();
    }
  }, 15_000);

  it('the DC reads the bind and never answers: net.timeout, and NLA is not attempted', async () => {
    const dc = await tlsAfterRequestServer({ cert, key, then: 'silent' });
    const before = host.credsspRequests;
    try {
      const r = await preflight({ host: `127.0.0.1:${host.port}`, account: 'alice@pamtest.local', password: new Secret('fake-dc-only-pw-2') }, {
        directory: { urls: `ldaps://127.0.0.1:${dc.port}`, caFile: rdp.caFile },
        rdp: { caFile: rdp.caFile }, deadlineMs: 6_000, stepTimeoutMs: 800,
      });
      expect(step(r, 'ldap-bind').findings[0]).toMatchObject({ code: 'net.timeout', evidence: { requestSent: true } });
      expect(step(r, 'rdp-nla')).toMatchObject({ status: 'not-checked', note: expect.stringContaining('net.timeout') });
      expect(host.credsspRequests).toBe(before);
    } finally {
      await dc.close();
    }
  }, 15_000);
});
