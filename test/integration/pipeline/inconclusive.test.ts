// When nothing proved the credential (no ldap.ok, no rdp.nla-ok) the verdict is the distinct
// inconclusive `credential.not-checked` (ok: false, exit 2) with what to add — never "will work".
// Host failures still decide a probe-only run.
import { describe, it, expect, beforeAll } from 'vitest';
import { preflight } from '../../../src/pipeline/preflight.js';
import { Secret } from '../../../src/core/secret.js';
import { labPart, sambaScenario } from '../../lab/state.js';

interface RdpLab { nla: { port: number }; valid: { port: number }; expired: { port: number }; caFile: string }
let rdp: RdpLab;
beforeAll(() => {
  rdp = labPart<RdpLab>('rdp');
});
const step = (r: { steps: Array<{ name: string; status: string }> }, name: string) => r.steps.find((x) => x.name === name)!;

describe('nothing proved the credential', () => {
  it('only the RDP port answered (a TLS-only host, no directory): inconclusive, exit 2, says to add --ldap', async () => {
    const s = sambaScenario('good');
    const r = await preflight({ host: `127.0.0.1:${rdp.valid.port}`, account: s.upn, password: new Secret(s.password) }, { rdp: { caFile: rdp.caFile }, deadlineMs: 15_000 });
    expect(step(r, 'rdp-endpoint').status).toBe('passed');
    expect(step(r, 'rdp-nla').status).toBe('not-checked');
    expect(r.ok).toBe(false);
    expect(r.verdict).toMatchObject({ ok: false, code: 'credential.not-checked', exitCode: 2 });
    expect(r.verdict.cause).toContain('nothing checked the password');
    expect(r.verdict.remediation.map((x) => x.action).join(' ')).toMatch(/--ldap.*NLA/s);
    expect(r.headline).toMatch(/^Cannot tell whether /);
    expect(r.headline).toContain('--ldap');
    expect(JSON.stringify(r)).not.toContain(s.password);
  });

  it('NLA switched off and no directory: inconclusive, exit 2, says to allow NLA', async () => {
    const s = sambaScenario('good');
    const r = await preflight({ host: `127.0.0.1:${rdp.nla.port}`, account: s.downLevel, password: new Secret(s.password) }, { rdp: { nla: false }, deadlineMs: 15_000 });
    expect(step(r, 'rdp-nla').status).toBe('not-checked');
    expect(r.verdict).toMatchObject({ ok: false, code: 'credential.not-checked', exitCode: 2 });
    expect(r.verdict.findings.find((f) => f.code === 'credential.not-checked')?.evidence).toMatchObject({ rdpNla: expect.stringContaining('switched off') });
    expect(r.verdict.remediation.some((x) => x.action.includes('no --no-nla'))).toBe(true);
  });

  it('the NLA check alone proves it (no directory): ok', async () => {
    const s = sambaScenario('good');
    const r = await preflight({ host: `127.0.0.1:${rdp.nla.port}`, account: s.downLevel, password: new Secret(s.password) }, { deadlineMs: 15_000 });
    expect(r.verdict).toMatchObject({ ok: true, code: 'rdp.nla-ok', exitCode: 0 });
  });

  it('a failure still decides over "not proven"', async () => {
    const s = sambaScenario('wrong-password');
    // the NLA host knows bob's current password; it rejects the old one at the NLA step
    const r = await preflight({ host: `127.0.0.1:${rdp.nla.port}`, account: 'bob', password: new Secret(s.tryPassword) }, { deadlineMs: 15_000 });
    expect(r.verdict).toMatchObject({ ok: false, code: 'rdp.logon-failure', exitCode: 1 });
  });
});

describe('probe-only (no credential given)', () => {
  it('a healthy host: inconclusive about the credential, exit 2, points at a credential or `credgate probe`', async () => {
    const r = await preflight({ host: `127.0.0.1:${rdp.valid.port}` }, { rdp: { caFile: rdp.caFile }, deadlineMs: 15_000 });
    expect(step(r, 'rdp-endpoint').status).toBe('passed');
    expect(r.verdict).toMatchObject({ ok: false, code: 'credential.not-checked', exitCode: 2 });
    expect(r.headline).toContain('no credential was given');
    expect(r.headline).toContain('credgate probe');
  });

  it('a broken host still decides: the expired certificate, exit 4', async () => {
    const r = await preflight({ host: `127.0.0.1:${rdp.expired.port}` }, { deadlineMs: 15_000 });
    expect(r.verdict).toMatchObject({ ok: false, code: 'rdp.cert-expired', exitCode: 4 });
  });
});
