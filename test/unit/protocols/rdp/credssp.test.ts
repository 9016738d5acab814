// CredSSP TSRequest DER (MS-CSSP 2.2.1) and the public-key binding (3.1.5), plus a bounded fuzz
// of the DER reader with random and mutated real TSRequests.
import { describe, it, expect, beforeAll } from 'vitest';
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeCA, issueCert } from '../../../lab/pki.mjs';
import {
  CREDSSP_VERSION, MAX_TSREQUEST, clientPubKeyAuth, decodeTsRequest, derInteger, encodeTsRequest, expectedServerPubKeyAuth,
  readInteger32, readTlv, subjectPublicKey, tsRequestLength,
} from '../../../../src/protocols/rdp/credssp.js';
import { buildNegotiate } from '../../../../src/protocols/rdp/ntlm/ntlm.js';
import { CredgateError } from '../../../../src/core/errors.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// The lab FreeRDP NLA server's answer to NEGOTIATE: TSRequest v6 with a CHALLENGE and a clientNonce.
const LAB_TSREQ = hex(`30819fa003020106a17430723070a06e046c4e544c4d53535000020000000400040038000000358288e21f1802a855f468940000000000000000
  300030003c0000000601b11d0000000f56004d000200040056004d000100040056004d000400040076006d000300040076006d000700080080cdb622a07cdd01
  00000000a522042043a0c454137de74e78cd0bd85529d3ff406c471df2adb750c413ae5b7c0d35b4`);
// What Windows sends for a locked-out account (CredSSP v6): errorCode as a 4-byte INTEGER.
const WINDOWS_LOCKED = hex('300da003020106a4060204c0000234');

describe('TSRequest encoding', () => {
  it('the first leg is 57 bytes: version 6 and one NTLM NEGOTIATE', () => {
    const neg = buildNegotiate();
    const b = encodeTsRequest({ version: CREDSSP_VERSION, negoTokens: [neg] });
    expect(b.length).toBe(57);
    expect(b.subarray(0, 17).toString('hex')).toBe('3037a003020106a130302e302ca02a0428');
    expect(b.subarray(17).equals(neg)).toBe(true);
    expect(decodeTsRequest(b)).toEqual({ version: 6, negoTokens: [neg] });
  });

  it('errorCode is written exactly as Windows writes it (4-byte two\'s complement)', () => {
    expect(encodeTsRequest({ version: 6, errorCode: 0xc0000234 }).equals(WINDOWS_LOCKED)).toBe(true);
    expect(derInteger(0xc000006d, true).toString('hex')).toBe('0204c000006d');
    expect(derInteger(0x7f, true).toString('hex')).toBe('02017f');
    expect(derInteger(0x80).toString('hex')).toBe('02020080');
  });

  it('round-trips every field, long-form lengths included', () => {
    const r = { version: 5, negoTokens: [Buffer.alloc(300, 1), Buffer.from([2])], pubKeyAuth: Buffer.alloc(1000, 3), errorCode: 0xc0000071, clientNonce: Buffer.alloc(32, 9) };
    const b = encodeTsRequest(r);
    expect(b[1]).toBe(0x82);
    expect(decodeTsRequest(b)).toEqual(r);
    expect(tsRequestLength(b)).toBe(b.length);
    expect(tsRequestLength(b.subarray(0, b.length - 1))).toBe(0);
    expect(tsRequestLength(b.subarray(0, 1))).toBe(0);
    expect(tsRequestLength(Buffer.concat([b, Buffer.from([0x30])]))).toBe(b.length);
  });
});

describe('TSRequest decoding', () => {
  it('reads the lab server\'s CHALLENGE answer', () => {
    const r = decodeTsRequest(LAB_TSREQ);
    expect(r.version).toBe(6);
    expect(r.negoTokens?.[0]?.subarray(0, 8).toString('latin1')).toBe('NTLMSSP\0');
    expect(r.clientNonce?.length).toBe(32);
    expect(r.errorCode).toBeUndefined();
  });

  it('reads Windows\' errorCode, and the 5-byte positive form too', () => {
    expect(decodeTsRequest(WINDOWS_LOCKED)).toEqual({ version: 6, errorCode: 0xc0000234 });
    expect(decodeTsRequest(hex('300ea003020103a407020500c0000234')).errorCode).toBe(0xc0000234);
    expect(readInteger32(readTlv(hex('0201ff')))).toBe(0xffffffff);
  });

  it.each([
    ['indefinite length', '3080a003020106 0000'],
    ['trailing bytes', '3005a00302010600'],
    ['fields out of order', '300aa4030201 01a0030201 06'],
    ['no version', '3005a403020101'],
    ['a 5-length-byte length', '3085000000000a'],
    ['an integer of 6 bytes', '300aa0080206010203040506'],
    ['a wrong outer tag', '3103a00100'],
    ['negoTokens that are not a SEQUENCE', '300aa003020106a1030401ff'],
  ])('rejects %s with PROTOCOL_ERROR', (_n, h) => {
    expect(() => decodeTsRequest(hex(h))).toThrow(CredgateError);
    try {
      decodeTsRequest(hex(h));
    } catch (e) {
      expect((e as CredgateError).code).toBe('PROTOCOL_ERROR');
    }
  });

  it('refuses announcements above the bound before buffering them', () => {
    expect(() => tsRequestLength(hex('3084 7fffffff'))).toThrow(CredgateError);
    expect(() => tsRequestLength(hex('0400'))).toThrow(CredgateError);
  });

  it('bounded fuzz: random and mutated TSRequests give a result or PROTOCOL_ERROR, never a crash, hang or big allocation', () => {
    let seed = 0xd3d;
    const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const seeds = [LAB_TSREQ, WINDOWS_LOCKED, encodeTsRequest({ version: 6, negoTokens: [buildNegotiate()], pubKeyAuth: Buffer.alloc(48, 7), clientNonce: Buffer.alloc(32, 1) })];
    const before = process.memoryUsage().arrayBuffers;
    const t0 = Date.now();
    let ok = 0;
    for (let i = 0; i < 30_000; i++) {
      let buf: Buffer;
      if (i % 4 === 0) buf = Buffer.from(Array.from({ length: Math.floor(rnd() * 64) }, (_, k) => (k === 0 && rnd() < 0.7 ? 0x30 : Math.floor(rnd() * 256))));
      else {
        buf = Buffer.from(seeds[i % seeds.length]!);
        const n = 1 + Math.floor(rnd() * 3);
        for (let k = 0; k < n; k++) buf[Math.floor(rnd() * buf.length)] = rnd() < 0.3 ? [0x80, 0x84, 0xff, 0x00][Math.floor(rnd() * 4)]! : Math.floor(rnd() * 256);
        if (rnd() < 0.2) buf = buf.subarray(0, Math.floor(rnd() * buf.length));
      }
      try {
        const len = tsRequestLength(buf);
        expect(len).toBeLessThanOrEqual(MAX_TSREQUEST);
        const r = decodeTsRequest(buf);
        ok++;
        for (const t of r.negoTokens ?? []) expect(t.length).toBeLessThan(buf.length);
      } catch (e) {
        expect(e).toBeInstanceOf(CredgateError);
        expect((e as CredgateError).code).toBe('PROTOCOL_ERROR');
      }
    }
    expect(ok).toBeGreaterThan(100);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('public-key binding (MS-CSSP 3.1.5)', () => {
  // an RSA certificate from the lab PKI (openssl), made here: a unit test needs no running lab
  let certDer: Buffer;
  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-credssp-'));
    const ca = await makeCA(path.join(dir, 'root'), { cn: 'credssp test CA', keyType: 'rsa' });
    const leaf = await issueCert(ca, 'rdp', { cn: 'rdp.test', sans: ['DNS:rdp.test'], keyType: 'rsa' });
    certDer = new X509Certificate(fs.readFileSync(leaf.cert)).raw;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('SubjectPublicKey of an RSA certificate is its PKCS#1 RSAPublicKey', () => {
    const pk = subjectPublicKey(certDer);
    const pkcs1 = new X509Certificate(certDer!).publicKey.export({ type: 'pkcs1', format: 'der' });
    expect(pk.equals(pkcs1)).toBe(true);
    expect(pk[0]).toBe(0x30);
  });

  it('v5+: SHA-256 over the label with its NUL, the nonce and the key, in each direction', () => {
    const pk = Buffer.from('3082010a0282010100c0ffee', 'hex');
    const nonce = Buffer.alloc(32, 0xab);
    const c = createHash('sha256').update('CredSSP Client-To-Server Binding Hash\0').update(nonce).update(pk).digest();
    const s = createHash('sha256').update('CredSSP Server-To-Client Binding Hash\0').update(nonce).update(pk).digest();
    expect(clientPubKeyAuth(6, pk, nonce).equals(c)).toBe(true);
    expect(clientPubKeyAuth(5, pk, nonce).equals(c)).toBe(true);
    expect(expectedServerPubKeyAuth(6, pk, nonce).equals(s)).toBe(true);
    expect(() => clientPubKeyAuth(5, pk)).toThrow(TypeError);
  });

  it('v2–4: the client sends the key itself, the server returns it with the first byte plus one', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pk = publicKey.export({ type: 'pkcs1', format: 'der' });
    for (const v of [2, 3, 4]) {
      expect(clientPubKeyAuth(v, pk).equals(pk)).toBe(true);
      const s = expectedServerPubKeyAuth(v, pk);
      expect(s[0]).toBe(pk[0]! + 1);
      expect(s.subarray(1).equals(pk.subarray(1))).toBe(true);
    }
    expect(pk[0]).toBe(0x30); // unchanged: the expected value is a copy
    expect(expectedServerPubKeyAuth(3, Buffer.from([0xff, 1]))[0]).toBe(0);
  });
});
