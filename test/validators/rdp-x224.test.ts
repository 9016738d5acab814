import { describe, it, expect } from 'vitest';
import { buildConnectionRequest, parseConnectionConfirm, protocolNames, MAX_CC_LENGTH } from '../../src/validators/rdp-x224.js';
import { CredgateError } from '../../src/core/errors.js';
import { CC_LEGACY, CC_NLA, negFailure } from '../helpers/rdp-fakes.js';

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

  it('survives random and mutated input (bounded fuzz): only PROTOCOL_ERROR, never a crash', () => {
    let seed = 0x5eed;
    const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    const seeds = [CC_NLA, CC_LEGACY, negFailure(5)];
    for (let i = 0; i < 20000; i++) {
      let buf: Buffer;
      if (i % 3 === 0) buf = Buffer.from(Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256)));
      else {
        buf = Buffer.from(seeds[i % seeds.length]!);
        const n = 1 + Math.floor(rnd() * 3);
        for (let k = 0; k < n; k++) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
        if (rnd() < 0.2) buf = buf.subarray(0, Math.floor(rnd() * buf.length));
      }
      try {
        const r = parseConnectionConfirm(buf);
        expect(['response', 'failure', 'legacy']).toContain(r.kind);
        expect(buf.readUInt16BE(2)).toBeLessThanOrEqual(MAX_CC_LENGTH);
      } catch (e) {
        expect(e).toBeInstanceOf(CredgateError);
        expect((e as CredgateError).code).toBe('PROTOCOL_ERROR');
      }
    }
  });
});
