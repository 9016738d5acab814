// The RDP probe against the lab's real FreeRDP servers, and against peers that are not RDP.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { probeRdp } from '../../src/validators/rdp-endpoint.js';
import { labPart } from '../lab/state.js';
import { closedPort, silentServer } from '../helpers/servers.js';
import { fakeServer, negFailure, CC_LEGACY, type Fake } from '../helpers/rdp-fakes.js';

interface RdpState { host: string; caFile: string; nla: { port: number }; expired: { port: number; sha1: string; sha256: string }; valid: { port: number; sha1: string } }
let rdp: RdpState;
beforeAll(() => {
  rdp = labPart<RdpState>('rdp');
});
const codes = (r: { findings: { code: string }[] }) => r.findings.map((f) => f.code);

describe('against the lab FreeRDP servers', () => {
  it('NLA server: reachable, NLA required, self-signed auto certificate not issued for 127.0.0.1', async () => {
    const r = await probeRdp({ host: '127.0.0.1', port: rdp.nla.port, timeoutMs: 8000 });
    expect(codes(r)).toEqual(['rdp.reachable', 'rdp.nla-required', 'rdp.cert-self-signed', 'rdp.cert-name-mismatch']);
    expect(r.nlaRequired).toBe(true);
    expect(r.findings[0]!.evidence.selectedProtocol).toBe('HYBRID');
  });

  it('TLS server with the expired certificate: rdp.cert-expired with both thumbprints', async () => {
    const r = await probeRdp({ host: '127.0.0.1', port: rdp.expired.port, timeoutMs: 8000 });
    expect(codes(r)).toEqual(['rdp.reachable', 'rdp.cert-expired', 'rdp.cert-self-signed']);
    const f = r.findings[1]!;
    expect(f.evidence).toMatchObject({ notAfter: '2021-01-01T00:00:00.000Z', sha1Thumbprint: rdp.expired.sha1, sha256Fingerprint: rdp.expired.sha256 });
    expect(f.remediation[0]!.action).toContain('TermService');
    expect(r.sha1Thumbprint).toBe(rdp.expired.sha1);
    expect(r.nlaRequired).toBe(false);
  });

  it('TLS server with a lab-CA certificate: healthy with the CA, untrusted without the right one, name mismatch by another name', async () => {
    expect(codes(await probeRdp({ host: '127.0.0.1', port: rdp.valid.port, caFile: rdp.caFile, timeoutMs: 8000 }))).toEqual(['rdp.reachable']);
    expect(codes(await probeRdp({ host: 'localhost', port: rdp.valid.port, caFile: rdp.caFile, timeoutMs: 8000 }))).toEqual(['rdp.reachable']);
    const other = labPart<{ caFile: string }>('samba').caFile;
    expect(codes(await probeRdp({ host: '127.0.0.1', port: rdp.valid.port, caFile: other, timeoutMs: 8000 }))).toEqual(['rdp.reachable', 'rdp.cert-untrusted']);
  });
});

describe('unreachable and non-RDP peers', () => {
  const fakes: Fake[] = [];
  afterAll(async () => {
    for (const f of fakes) await f.close();
  });
  const fake = async (reply: (b: Buffer) => Buffer | null, end = true) => {
    const f = await fakeServer(reply, end);
    fakes.push(f);
    return f.port;
  };

  it('refused, timed out and unresolvable are different findings', async () => {
    expect(codes(await probeRdp({ host: '127.0.0.1', port: await closedPort() }))).toEqual(['net.refused']);
    const silent = await silentServer();
    try {
      const t0 = Date.now();
      const r = await probeRdp({ host: '127.0.0.1', port: silent.port, timeoutMs: 600 });
      expect(codes(r)).toEqual(['net.timeout']);
      expect(Date.now() - t0).toBeLessThan(4000);
    } finally {
      await silent.close();
    }
    expect(codes(await probeRdp({ host: 'no-such-rdp-host.invalid', timeoutMs: 3000 }))).toEqual(['net.dns-failure']);
  });

  it('an HTTP server, a one-byte close and a huge length are rdp.not-rdp', async () => {
    for (const reply of [
      () => Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'),
      () => Buffer.from([0x03]),
      () => Buffer.from([0x03, 0x00, 0xff, 0xf0, 0x06, 0xd0]),
    ]) {
      const r = await probeRdp({ host: '127.0.0.1', port: await fake(reply), timeoutMs: 3000 });
      expect(codes(r)).toEqual(['rdp.not-rdp']);
    }
  });

  it.each([[1, 'rdp.ssl-required'], [2, 'rdp.ssl-not-allowed'], [3, 'rdp.ssl-cert-missing'], [4, 'rdp.neg-failure'], [5, 'rdp.hybrid-required'], [6, 'rdp.neg-failure']])('negotiation failure %i → %s', async (code, expected) => {
    const r = await probeRdp({ host: '127.0.0.1', port: await fake(() => negFailure(code)), timeoutMs: 3000 });
    expect(codes(r)).toEqual([expected]);
    expect(r.findings[0]!.evidence.failureCode).toBe(code);
  });

  it('legacy RDP security only is reachable with a warning', async () => {
    const r = await probeRdp({ host: '127.0.0.1', port: await fake(() => CC_LEGACY), timeoutMs: 3000 });
    expect(codes(r)).toEqual(['rdp.reachable', 'rdp.legacy-security']);
  });
});
