// The bounded BER codec for bulk binds: exact bytes for requests, decoding of real response shapes
// (AD diagnostic, ppolicy control, notice of disconnection), and a fuzz run over mutated and
// random input in which the decoder may only return a result or throw PROTOCOL_ERROR.
import { describe, it, expect } from 'vitest';
import {
  encodeBindRequest, encodeStartTlsRequest, encodeUnbindRequest, decodeResponse, messageLength, MAX_MESSAGE_BYTES,
} from '../../../../src/protocols/ldap/wire.js';
import { PPOLICY_OID } from '../../../../src/protocols/ldap/ppolicy.js';
import { CredgateError } from '../../../../src/core/errors.js';
import { berInt, tlv } from '../../../helpers/ldap-server.js';

// the expected bytes from an independent TLV builder (the scripted test server's)
const int = berInt;
const str = (tag: number, s: string | Buffer) => tlv(tag, Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8'));

function bindResponse(id: number, rc: number, diag = '', controls?: Buffer): Buffer {
  return tlv(0x30, int(0x02, id), tlv(0x61, int(0x0a, rc), str(0x04, ''), str(0x04, diag)), ...(controls ? [controls] : []));
}
const ppControl = (value: Buffer) => tlv(0xa0, tlv(0x30, str(0x04, PPOLICY_OID), str(0x04, value)));

describe('encoding', () => {
  it('BindRequest bytes match RFC 4511 for short and long values, with and without the ppolicy control', () => {
    for (const [id, name, pw] of [[1, 'uid=a,dc=x', 'pw'], [300, 'CN=' + 'x'.repeat(300), 'p'.repeat(200)], [0x7fffffff, 'ü@例え.jp', 'päss"w,rd']] as const) {
      const simple = tlv(0x30, int(0x02, id), tlv(0x60, int(0x02, 3), str(0x04, name), str(0x80, pw)));
      expect(encodeBindRequest(id, name, pw).equals(simple)).toBe(true);
      const withCtl = tlv(0x30, int(0x02, id), tlv(0x60, int(0x02, 3), str(0x04, name), str(0x80, pw)), tlv(0xa0, tlv(0x30, str(0x04, PPOLICY_OID))));
      expect(encodeBindRequest(id, name, pw, { ppolicy: true }).equals(withCtl)).toBe(true);
    }
  });

  it('StartTLS and Unbind', () => {
    expect(encodeStartTlsRequest(7).equals(tlv(0x30, int(0x02, 7), tlv(0x77, str(0x80, '1.3.6.1.4.1.1466.20037'))))).toBe(true);
    expect(encodeUnbindRequest(9).toString('hex')).toBe('30050201094200');
  });

  it('refuses message IDs outside 1..2^31-1', () => {
    expect(() => encodeBindRequest(0, 'a', 'b')).toThrow(RangeError);
    expect(() => encodeBindRequest(2 ** 31, 'a', 'b')).toThrow(RangeError);
  });
});

describe('decoding', () => {
  it('a success, an AD rejection, and a ppolicy control', () => {
    expect(decodeResponse(bindResponse(5, 0))).toMatchObject({ messageId: 5, op: 0x61, resultCode: 0, diagnosticMessage: '' });
    const diag = '80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 775, v1db1';
    expect(decodeResponse(bindResponse(6, 49, diag))).toMatchObject({ resultCode: 49, diagnosticMessage: diag });
    // error [1] accountLocked(1)
    const r = decodeResponse(bindResponse(7, 49, '', ppControl(Buffer.from([0x30, 0x03, 0x81, 0x01, 0x01]))));
    expect(r.ppolicy).toMatchObject({ received: true, error: 1, errorName: 'accountLocked' });
    // warning [0] timeBeforeExpiration [0] 86400
    const w = decodeResponse(bindResponse(8, 0, '', ppControl(Buffer.from([0x30, 0x07, 0xa0, 0x05, 0x80, 0x03, 0x01, 0x51, 0x80]))));
    expect(w.ppolicy).toMatchObject({ timeBeforeExpiration: 86400 });
  });

  it('skips referral and SASL credentials, reads the notice of disconnection', () => {
    const withExtras = tlv(0x30, int(0x02, 3), tlv(0x61, int(0x0a, 10), str(0x04, 'dc=x'), str(0x04, 'see other'), tlv(0xa3, str(0x04, 'ldap://b/')), str(0x87, 'creds')));
    expect(decodeResponse(withExtras)).toMatchObject({ messageId: 3, resultCode: 10, matchedDN: 'dc=x' });
    const notice = tlv(0x30, int(0x02, 0), tlv(0x78, int(0x0a, 52), str(0x04, ''), str(0x04, 'shutting down'), str(0x8a, '1.3.6.1.4.1.1466.20036')));
    expect(decodeResponse(notice)).toMatchObject({ messageId: 0, op: 0x78, resultCode: 52, responseName: '1.3.6.1.4.1.1466.20036' });
  });

  it('frames messages: incomplete, complete, oversized, indefinite', () => {
    const m = bindResponse(1, 0);
    expect(messageLength(m.subarray(0, 1))).toBe(-1);
    expect(messageLength(m.subarray(0, m.length - 1))).toBe(-1);
    expect(messageLength(Buffer.concat([m, m]))).toBe(m.length);
    expect(() => messageLength(Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]))).toThrow(/cap/);
    expect(() => messageLength(Buffer.from([0x30, 0x80]))).toThrow(/indefinite/);
    expect(() => messageLength(Buffer.from([0x04, 0x00]))).toThrow(CredgateError);
    expect(MAX_MESSAGE_BYTES).toBeLessThanOrEqual(1 << 20);
  });

  it('rejects truncation, overruns and trailing bytes', () => {
    const m = bindResponse(1, 49, 'x');
    expect(() => decodeResponse(m.subarray(0, m.length - 1))).toThrow(CredgateError);
    expect(() => decodeResponse(Buffer.concat([m, Buffer.from([0])]))).toThrow(CredgateError);
    const bad = Buffer.from(m);
    bad[bad.indexOf(0x0a) + 1] = 0x7f; // resultCode length overruns
    expect(() => decodeResponse(bad)).toThrow(CredgateError);
  });
});

describe('fuzz', () => {
  // deterministic PRNG (mulberry32)
  function rng(seed: number) {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const seeds = [
    bindResponse(1, 0),
    bindResponse(2, 49, '80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v1db1'),
    bindResponse(3, 49, '', ppControl(Buffer.from([0x30, 0x03, 0x81, 0x01, 0x00]))),
    bindResponse(4, 0, '', ppControl(Buffer.from([0x30, 0x07, 0xa0, 0x05, 0x81, 0x03, 0x01, 0x00, 0x00]))),
    tlv(0x30, int(0x02, 0), tlv(0x78, int(0x0a, 52), str(0x04, ''), str(0x04, 'bye'), str(0x8a, '1.3.6.1.4.1.1466.20036'))),
  ];

  it('40,000 mutated and random messages: only results or PROTOCOL_ERROR', () => {
    const rand = rng(0xc0ffee);
    let decoded = 0;
    let rejected = 0;
    for (let n = 0; n < 40_000; n++) {
      let buf: Buffer;
      if (n % 4 === 3) {
        buf = Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
        if (rand() < 0.5 && buf.length) buf[0] = 0x30;
      } else {
        buf = Buffer.from(seeds[n % seeds.length]!);
        const edits = 1 + Math.floor(rand() * 4);
        for (let e = 0; e < edits; e++) {
          const kind = rand();
          const at = Math.floor(rand() * buf.length);
          if (kind < 0.6) buf[at] = Math.floor(rand() * 256);
          else if (kind < 0.8) buf = buf.subarray(0, at);
          else buf = Buffer.concat([buf.subarray(0, at), Buffer.from([Math.floor(rand() * 256)]), buf.subarray(at)]);
        }
      }
      try {
        const len = messageLength(buf);
        const r = decodeResponse(len > 0 ? buf.subarray(0, len) : buf);
        expect(typeof r.resultCode).toBe('number');
        expect(Number.isFinite(r.messageId)).toBe(true);
        decoded++;
      } catch (e) {
        if (!(e instanceof CredgateError) || e.code !== 'PROTOCOL_ERROR') throw e;
        rejected++;
      }
    }
    // both paths were exercised
    expect(decoded).toBeGreaterThan(500);
    expect(rejected).toBeGreaterThan(5000);
  });
});
