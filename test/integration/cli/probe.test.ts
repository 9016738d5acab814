import { describe, it, expect } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { labPart } from '../../lab/state.js';
import { closedPort } from '../../helpers/servers.js';

interface RdpState { caFile: string; nla: { port: number }; expired: { port: number; sha1: string }; valid: { port: number } }

const codesOf = (j: { findings: Array<{ code: string }> }) => j.findings.map((f) => f.code);

describe('credgate probe', () => {
  it('healthy host: exit 0, thumbprints printed', async () => {
    const rdp = labPart<RdpState>('rdp');
    const r = await runCli(['probe', `127.0.0.1:${rdp.valid.port}`, '--ca-file', rdp.caFile]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^OK {2}127\.0\.0\.1:\d+ — .* answers RDP and selected SSL/);
    expect(r.stdout).toMatch(/thumbprint \(SHA-1\): [0-9A-F]{40}/);
  });

  it('expired certificate: exit 4, JSON names the cause and thumbprint', async () => {
    const rdp = labPart<RdpState>('rdp');
    const r = await runCli(['probe', `127.0.0.1:${rdp.expired.port}`, '--json']);
    expect(r.code).toBe(4);
    expect(r.json).toMatchObject({ ok: false, code: 'rdp.cert-expired', exitCode: 4, sha1Thumbprint: rdp.expired.sha1, nlaRequired: false });
  });

  it('NLA host reports that NLA is required; without a CA its self-signed certificate for another name is reported, exit 0', async () => {
    const rdp = labPart<RdpState>('rdp');
    const r = await runCli(['probe', `[127.0.0.1]:${rdp.nla.port}`, '--json']);
    expect(r.json.nlaRequired).toBe(true);
    expect(codesOf(r.json)).toEqual(['rdp.reachable', 'rdp.nla-required', 'rdp.cert-self-signed', 'rdp.cert-name-mismatch']);
    expect([r.code, r.json.ok, r.json.exitCode]).toEqual([0, true, 0]);
    const human = await runCli(['probe', `127.0.0.1:${rdp.nla.port}`]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^ {2}! The host's RDP certificate is not issued for 127\.0\.0\.1 .*\[rdp\.cert-name-mismatch\]$/m);
  });

  it('--ca-file: a certificate outside that CA is exit 4 (rdp.cert-untrusted), as check exits 4 for tls.untrusted', async () => {
    const rdp = labPart<RdpState>('rdp');
    const other = labPart<{ caFile: string }>('samba').caFile;
    const r = await runCli(['probe', `127.0.0.1:${rdp.valid.port}`, '--ca-file', other, '--json']);
    expect([r.code, r.json.ok, r.json.code, r.json.exitCode]).toEqual([4, false, 'rdp.cert-untrusted', 4]);
    const nla = await runCli(['probe', `127.0.0.1:${rdp.nla.port}`, '--ca-file', rdp.caFile]);
    expect(nla.code).toBe(4);
    expect(nla.stdout).toMatch(/^FAIL {2}127\.0\.0\.1:\d+ — .*does not chain to the given CA bundle.*\[rdp\.cert-untrusted\]$/m);
    expect(nla.stdout).toContain('[rdp.cert-name-mismatch-ca]');
  });

  it('--address connects without DNS and checks the certificate against the given name', async () => {
    const rdp = labPart<RdpState>('rdp');
    const ok = await runCli(['probe', `rdp.pamtest.local:${rdp.valid.port}`, '--address', '127.0.0.1', '--ca-file', rdp.caFile, '--json']);
    expect([ok.code, ok.json.code]).toEqual([0, 'rdp.reachable']);
    // with --ca-file a certificate not issued for the name asked is a failure (exit 4), as check's tls.name-mismatch
    const other = await runCli(['probe', `rdp-old.pamtest.local:${rdp.valid.port}`, '--address', '127.0.0.1', '--ca-file', rdp.caFile, '--json']);
    expect(codesOf(other.json)).toEqual(['rdp.reachable', 'rdp.cert-name-mismatch-ca']);
    expect([other.code, other.json.code]).toEqual([4, 'rdp.cert-name-mismatch-ca']);
    // without --ca-file the same mismatch is a warning: reported, exit 0
    const unverified = await runCli(['probe', `rdp-old.pamtest.local:${rdp.valid.port}`, '--address', '127.0.0.1', '--json']);
    expect(codesOf(unverified.json)).toEqual(['rdp.reachable', 'rdp.cert-name-mismatch']);
    expect([unverified.code, unverified.json.findings[1].severity]).toEqual([0, 'warning']);
    const bad = await runCli(['probe', `rdp.pamtest.local:${rdp.valid.port}`, '--address', 'not-an-ip']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not-an-ip');
  });

});
