// connectRdp over real sockets: the lab's FreeRDP servers (the local peers and the codec are unit
// tests: test/unit/protocols/rdp/x224.test.ts).
import { describe, it, expect } from 'vitest';
import tls from 'node:tls';
import { connectRdp, resolveRdpHost, PROTOCOL_SSL, PROTOCOL_HYBRID } from '../../../../src/protocols/rdp/x224.js';
import { labPart } from '../../../lab/state.js';

interface RdpLab { nla: { port: number }; expired: { port: number; sha1: string } }

describe('connectRdp', () => {
  it('NLA server: HYBRID selected, TLS on the same socket, the DER certificate, timings per phase', async () => {
    const lab = labPart<RdpLab>('rdp');
    const c = await connectRdp({ host: '127.0.0.1', port: lab.nla.port, timeoutMs: 5000 });
    try {
      expect(c.negotiation).toMatchObject({ kind: 'response', selectedProtocol: PROTOCOL_HYBRID });
      expect(c.socket).toBeInstanceOf(tls.TLSSocket);
      expect(c.peerCertificate![0]).toBe(0x30);
      expect(c.tlsAuthorizationError).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
      expect(Object.keys(c.timings)).toEqual(['dns', 'tcp', 'x224', 'tls']);
      expect(c.timings.dns).toBe(0);
      expect(c.attempts).toEqual([expect.objectContaining({ address: '127.0.0.1', result: 'connected' })]);
    } finally {
      c.dispose();
      c.dispose();
      await c[Symbol.asyncDispose]();
    }
    expect(c.socket.destroyed).toBe(true);
  });

  it('negotiateOnly stops before TLS; an SSL-only offer to the NLA server is HYBRID_REQUIRED', async () => {
    const lab = labPart<RdpLab>('rdp');
    const c = await connectRdp({ host: '127.0.0.1', port: lab.expired.port, requestedProtocols: PROTOCOL_SSL, negotiateOnly: true, timeoutMs: 5000 });
    expect(c.socket).not.toBeInstanceOf(tls.TLSSocket);
    expect(c.peerCertificate).toBeUndefined();
    expect(c.negotiation).toMatchObject({ kind: 'response', selectedProtocol: PROTOCOL_SSL });
    c.close();
    const f = await connectRdp({ host: '127.0.0.1', port: lab.nla.port, requestedProtocols: PROTOCOL_SSL, timeoutMs: 5000 });
    expect(f.negotiation).toEqual({ kind: 'failure', failureCode: 5, failureName: 'HYBRID_REQUIRED_BY_SERVER' });
    expect(f.socket).not.toBeInstanceOf(tls.TLSSocket);
    f.close();
  });

  it('a name resolves to every address with timing; localhost tries each address in turn', async () => {
    const r = await resolveRdpHost('localhost');
    expect(r.addresses.map((a) => a.address)).toContain('127.0.0.1');
    expect(r.ms).toBeGreaterThanOrEqual(0);
    const lab = labPart<RdpLab>('rdp');
    const c = await connectRdp({ host: 'localhost', port: lab.expired.port, timeoutMs: 5000 });
    c.close();
    expect(c.address).toBe('127.0.0.1');
    expect(c.attempts.at(-1)!.result).toBe('connected');
    expect(c.timings.dns).toBeGreaterThanOrEqual(0);
    expect(c.socket).toBeInstanceOf(tls.TLSSocket);
  });

});
