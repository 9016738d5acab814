import { describe, it, expect } from 'vitest';
import { buildConnectionRequest, parseConnectionConfirm, protocolNames, MAX_CC_LENGTH } from '../../../../src/protocols/rdp/x224.js';
import { CredgateError } from '../../../../src/core/errors.js';
import { CC_LEGACY, CC_NLA, negFailure } from '../../../helpers/rdp-fakes.js';

describe('X.224 Connection Request', () => {
  it('matches the bytes a Windows client sends (no cookie: 19 bytes)', () => {
    expect(buildConnectionRequest({ requestedProtocols: 0x0b }).toString('hex')).toBe('030000130ee000000000000100080' + '00b000000');
  });
  it('carries the mstshash cookie', () => {
    const b = buildConnectionRequest({ requestedProtocols: 3, cookie: 'alice' });
    expect(b.length).toBe(43);
    expect(b.readUInt16BE(2)).toBe(43);
    expect(b[4]).toBe(38);
    expect(b.subarray(11, 35).toString()).toBe('Cookie: mstshash=alice\r\n');
    expect(() => buildConnectionRequest({ requestedProtocols: 3, cookie: 'a b\r\n' })).toThrow(CredgateError);
  });
});

describe('X.224 Connection Confirm', () => {
  it('reads a negotiation response (FreeRDP NLA server bytes)', () => {
    expect(parseConnectionConfirm(CC_NLA)).toEqual({ kind: 'response', selectedProtocol: 2, flags: 3, flagNames: ['EXTENDED_CLIENT_DATA_SUPPORTED', 'DYNVC_GFX_PROTOCOL_SUPPORTED'] });
    expect(protocolNames(2)).toEqual(['HYBRID']);
    expect(protocolNames(0x0b)).toEqual(['SSL', 'HYBRID', 'HYBRID_EX']);
  });
  it.each([[1, 'SSL_REQUIRED_BY_SERVER'], [2, 'SSL_NOT_ALLOWED_BY_SERVER'], [3, 'SSL_CERT_NOT_ON_SERVER'], [4, 'INCONSISTENT_FLAGS'], [5, 'HYBRID_REQUIRED_BY_SERVER'], [6, 'SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER']])('failure %i = %s', (code, name) => {
    expect(parseConnectionConfirm(negFailure(code))).toEqual({ kind: 'failure', failureCode: code, failureName: name });
  });
  it('a confirm without negotiation data is legacy RDP security', () => {
    expect(parseConnectionConfirm(CC_LEGACY)).toEqual({ kind: 'legacy' });
  });
  it.each([
    ['HTTP', Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')],
    ['empty', Buffer.alloc(0)],
    ['huge length', Buffer.from([3, 0, 0xff, 0xff, 6, 0xd0, 0, 0, 0, 0, 0])],
    ['truncated', CC_NLA.subarray(0, 12)],
    ['connection request instead of confirm', buildConnectionRequest({ requestedProtocols: 1 })],
  ])('rejects %s as not RDP', (_n, buf) => {
    try {
      parseConnectionConfirm(buf);
      expect.fail('should throw');
    } catch (e) {
      expect((e as CredgateError).code).toBe('PROTOCOL_ERROR');
      expect((e as CredgateError).details?.kind).toBe('not-rdp');
    }
  });

  it('survives random and mutated input (bounded fuzz): only PROTOCOL_ERROR, never a crash, a hang or a big allocation', () => {
    let seed = 0x5eed;
    const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    // seeds include lengths at and just past the cap, and a 64 KB buffer announcing the largest TPKT length
    const atCap = Buffer.concat([CC_NLA, Buffer.alloc(MAX_CC_LENGTH - CC_NLA.length)]);
    atCap.writeUInt16BE(MAX_CC_LENGTH, 2);
    const pastCap = Buffer.concat([atCap, Buffer.alloc(1)]);
    pastCap.writeUInt16BE(MAX_CC_LENGTH + 1, 2);
    const huge = Buffer.concat([CC_NLA, Buffer.alloc(0xffff - CC_NLA.length)]);
    huge.writeUInt16BE(0xffff, 2);
    const seeds = [CC_NLA, CC_LEGACY, negFailure(5), negFailure(4), negFailure(6), atCap, pastCap, huge];
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    let parsed = 0;
    let rejected = 0;
    let slowest = 0;
    let peakGrowth = 0;
    for (let i = 0; i < 20000; i++) {
      let buf: Buffer;
      if (i % 3 === 0) buf = Buffer.from(Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256)));
      else {
        buf = Buffer.from(seeds[i % seeds.length]!);
        const n = 1 + Math.floor(rnd() * 3);
        // bytes 2-3 (the TPKT length) are hit often: lengths past the cap must be refused, not followed
        for (let k = 0; k < n; k++) buf[rnd() < 0.3 ? 2 + Math.floor(rnd() * 2) : Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
        if (rnd() < 0.2) buf = buf.subarray(0, Math.floor(rnd() * buf.length));
      }
      // sampled on every 7th input (7 is prime to the 3 input kinds and the 8 seeds, so every seed is measured)
      const sample = i % 7 === 0;
      const heapBefore = sample ? process.memoryUsage().arrayBuffers : 0;
      const p0 = performance.now();
      try {
        const r = parseConnectionConfirm(buf);
        parsed++;
        expect(['response', 'failure', 'legacy']).toContain(r.kind);
        expect(buf.readUInt16BE(2)).toBeLessThanOrEqual(MAX_CC_LENGTH);
      } catch (e) {
        rejected++;
        expect(e).toBeInstanceOf(CredgateError);
        expect((e as CredgateError).code).toBe('PROTOCOL_ERROR');
      }
      slowest = Math.max(slowest, performance.now() - p0);
      // a single parse allocates nothing near the input's announced size: at most MAX_CC_LENGTH beyond the input itself
      if (sample) peakGrowth = Math.max(peakGrowth, process.memoryUsage().arrayBuffers - heapBefore - buf.length);
    }
    expect(parsed).toBeGreaterThan(1000); // the mutations also hit valid confirms
    expect(rejected).toBeGreaterThan(1000);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(slowest).toBeLessThan(250);
    expect(peakGrowth).toBeLessThanOrEqual(MAX_CC_LENGTH);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });
});

// connectRdp over real sockets: the lab's FreeRDP servers and small local peers on 127.0.0.1.
import net from 'node:net';
import tls from 'node:tls';
import { connectRdp, resolveRdpHost, PROTOCOL_SSL, PROTOCOL_HYBRID } from '../../../../src/protocols/rdp/x224.js';
import { closedPort, silentServer, UNRESOLVABLE_HOST } from '../../../helpers/servers.js';
import { fakeServer } from '../../../helpers/rdp-fakes.js';
import { fault } from '../../../helpers/faults.js';

describe('connectRdp', () => {
  it('classifies faults: dns, refused, timeout, aborted, not-rdp, reset, tls', async () => {
    expect((await fault(connectRdp({ host: UNRESOLVABLE_HOST, port: 3389, timeoutMs: 3000 }))).details).toMatchObject({ kind: 'dns', host: UNRESOLVABLE_HOST });
    const refused = await fault(connectRdp({ host: '127.0.0.1', port: await closedPort(), timeoutMs: 3000 }));
    expect([refused.code, refused.details?.kind, refused.details?.errno]).toEqual(['CONNECTION_FAILED', 'refused', 'ECONNREFUSED']);
    const silent = await silentServer();
    try {
      const t0 = Date.now();
      const to = await fault(connectRdp({ host: '127.0.0.1', port: silent.port, timeoutMs: 300 }));
      expect([to.code, to.details?.kind, to.details?.phase]).toEqual(['TIMEOUT', 'timeout', 'x224']);
      expect(Date.now() - t0).toBeLessThan(2000);
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      const ab = await fault(connectRdp({ host: '127.0.0.1', port: silent.port, timeoutMs: 5000, signal: ac.signal }));
      expect([ab.code, ab.details?.kind]).toEqual(['ABORTED', 'aborted']);
    } finally {
      await silent.close();
    }
    const http = await fakeServer(() => Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const reset = net.createServer((s) => s.once('data', () => s.resetAndDestroy()));
    await new Promise<void>((r) => reset.listen(0, '127.0.0.1', () => r()));
    // selects SSL, then answers the TLS ClientHello with garbage
    const badTls = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => {
        s.write(Buffer.from('030000130ed000000000000203080001000000', 'hex'));
        s.once('data', () => s.end(Buffer.from('this is not a TLS record at all, not at all\r\n')));
      });
    });
    await new Promise<void>((r) => badTls.listen(0, '127.0.0.1', () => r()));
    try {
      const h = await fault(connectRdp({ host: '127.0.0.1', port: http.port, timeoutMs: 3000 }));
      expect([h.code, h.details?.kind]).toEqual(['PROTOCOL_ERROR', 'not-rdp']);
      expect(h.message).toContain('HTTP');
      const rs = await fault(connectRdp({ host: '127.0.0.1', port: (reset.address() as net.AddressInfo).port, timeoutMs: 3000 }));
      expect([rs.code, rs.details?.kind]).toEqual(['PROTOCOL_ERROR', 'reset']);
      const tl = await fault(connectRdp({ host: '127.0.0.1', port: (badTls.address() as net.AddressInfo).port, timeoutMs: 3000 }));
      expect([tl.code, tl.details?.kind, tl.details?.phase]).toEqual(['TLS_FAILED', 'tls', 'tls']);
    } finally {
      await http.close();
      reset.close();
      badTls.close();
    }
  });
});
