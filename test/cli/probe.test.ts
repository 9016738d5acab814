import { describe, it, expect } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { labPart } from '../lab/state.js';
import { closedPort } from '../helpers/servers.js';

interface RdpState { caFile: string; nla: { port: number }; expired: { port: number; sha1: string }; valid: { port: number } }

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

  it('NLA host reports that NLA is required', async () => {
    const rdp = labPart<RdpState>('rdp');
    const r = await runCli(['probe', `[127.0.0.1]:${rdp.nla.port}`, '--json']);
    expect(r.json.nlaRequired).toBe(true);
    expect(r.json.findings.map((f: { code: string }) => f.code)).toContain('rdp.nla-required');
  });

  it('--address connects without DNS and checks the certificate against the given name', async () => {
    const rdp = labPart<RdpState>('rdp');
    const ok = await runCli(['probe', `rdp.pamtest.local:${rdp.valid.port}`, '--address', '127.0.0.1', '--ca-file', rdp.caFile, '--json']);
    expect([ok.code, ok.json.code]).toEqual([0, 'rdp.reachable']);
    const other = await runCli(['probe', `rdp-old.pamtest.local:${rdp.valid.port}`, '--address', '127.0.0.1', '--ca-file', rdp.caFile, '--json']);
    expect(other.json.findings.map((f: { code: string }) => f.code)).toEqual(['rdp.reachable', 'rdp.cert-name-mismatch']);
    const bad = await runCli(['probe', `rdp.pamtest.local:${rdp.valid.port}`, '--address', 'not-an-ip']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not-an-ip');
  });

  it('refused: exit 4; bad input: exit 2', async () => {
    const r = await runCli(['probe', `127.0.0.1:${await closedPort()}`]);
    expect(r.code).toBe(4);
    expect(r.stdout).toContain('net.refused');
    expect((await runCli(['probe'])).code).toBe(2);
    expect((await runCli(['probe', 'host:0'])).code).toBe(2);
    expect((await runCli(['probe', 'a', 'b'])).code).toBe(2);
  });
});
