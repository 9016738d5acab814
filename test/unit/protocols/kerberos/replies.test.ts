// DER round trips for every Kerberos structure the client writes or reads, e-data in its three
// shapes, malformed-input cases, and seeded fuzzing of every KDC reply parser: random and mutated
// bytes must end in a value or a CredgateError PROTOCOL_ERROR, quickly, never anything else.
import { describe, it, expect } from 'vitest';
import { app, ctx, derFlags, derInt, derKerberosTime, derKString, derOctets, fields, readFlags, readInt32, readKerberosTime, readKString, readTlv, readUInt32, readWhole, seq, tlv } from '../../../../src/protocols/kerberos/der.js';
import { encodeApReq, encodeAuthenticator, encodeEncryptedData, encodeKdcReq, encodeKdcReqBody, encodePaData, encodePaEncTsEnc, encodePrincipalName, netbiosAddress, type PrincipalName } from '../../../../src/protocols/kerberos/messages.js';
import { parseEncKdcRepPart, parseEncryptedData, parseEtypeInfo, parseEtypeInfo2, parseKdcReply, parseMethodData, parsePrincipalName } from '../../../../src/protocols/kerberos/replies.js';
import { decodeEData } from '../../../../src/protocols/kerberos/edata.js';
import { failureReason, ntstatusName, krbErrorName, NTSTATUS } from '../../../../src/protocols/kerberos/constants.js';
import { decrypt } from '../../../../src/protocols/kerberos/crypto.js';
import { CredgateError } from '../../../../src/core/errors.js';
import { prng } from '../../../helpers/prng.js';

// ---- builders for what a KDC sends (test side) ----------------------------------------------

const pn = (nameType: number, ...names: string[]): PrincipalName => ({ nameType, names });
const T0 = new Date(Date.UTC(2026, 11, 4, 12, 0, 0));

function krbError(o: { code: number; stime?: Date; susec?: number; eText?: string; eData?: Buffer; crealm?: string; cname?: PrincipalName; ctime?: Date }): Buffer {
  return app(30, seq(
    ctx(0, derInt(5)), ctx(1, derInt(30)),
    o.ctime ? ctx(2, derKerberosTime(o.ctime)) : undefined,
    o.ctime ? ctx(3, derInt(1)) : undefined,
    ctx(4, derKerberosTime(o.stime ?? T0)), ctx(5, derInt(o.susec ?? 123456)), ctx(6, derInt(o.code)),
    o.crealm ? ctx(7, derKString(o.crealm)) : undefined,
    o.cname ? ctx(8, encodePrincipalName(o.cname)) : undefined,
    ctx(9, derKString('PAMTEST.LOCAL')), ctx(10, encodePrincipalName(pn(2, 'krbtgt', 'PAMTEST.LOCAL'))),
    o.eText !== undefined ? ctx(11, derKString(o.eText)) : undefined,
    o.eData ? ctx(12, derOctets(o.eData)) : undefined,
  ));
}
const etypeInfo2 = (entries: { etype: number; salt?: string; params?: Buffer }[]) =>
  seq(...entries.map((e) => seq(ctx(0, derInt(e.etype)), e.salt !== undefined ? ctx(1, derKString(e.salt)) : undefined, e.params ? ctx(2, derOctets(e.params)) : undefined)));
const methodData = (pas: { type: number; value: Buffer }[]) => seq(...pas.map(encodePaData));
const ext = (status: number, flags = 1) => {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(status >>> 0, 0);
  b.writeUInt32LE(flags, 8);
  return b;
};
const kerbErrorData = (type: number, value?: Buffer) => seq(ctx(1, derInt(type)), value ? ctx(2, derOctets(value)) : undefined);
const ticket = () => app(1, seq(ctx(0, derInt(5)), ctx(1, derKString('PAMTEST.LOCAL')), ctx(2, encodePrincipalName(pn(2, 'krbtgt', 'PAMTEST.LOCAL'))), ctx(3, encodeEncryptedData({ etype: 18, kvno: 2, cipher: Buffer.alloc(40, 7) }))));
const kdcRep = (msgType: number, padata: { type: number; value: Buffer }[] = []) =>
  app(msgType, seq(
    ctx(0, derInt(5)), ctx(1, derInt(msgType)),
    padata.length ? ctx(2, seq(...padata.map(encodePaData))) : undefined,
    ctx(3, derKString('PAMTEST.LOCAL')), ctx(4, encodePrincipalName(pn(1, 'alice'))), ctx(5, ticket()),
    ctx(6, encodeEncryptedData({ etype: 18, cipher: Buffer.alloc(64, 9) })),
  ));
const encPart = (tag: number, nonce = 4242, keyExpiration?: Date) =>
  app(tag, seq(
    ctx(0, seq(ctx(0, derInt(18)), ctx(1, derOctets(Buffer.alloc(32, 1))))),
    ctx(1, seq(seq(ctx(0, derInt(0)), ctx(1, derKerberosTime(T0))))),
    ctx(2, derInt(nonce)),
    keyExpiration ? ctx(3, derKerberosTime(keyExpiration)) : undefined,
    ctx(4, derFlags(0x40e10000)), ctx(5, derKerberosTime(T0)), ctx(7, derKerberosTime(new Date(T0.getTime() + 36e6))),
    ctx(9, derKString('PAMTEST.LOCAL')), ctx(10, encodePrincipalName(pn(2, 'krbtgt', 'PAMTEST.LOCAL'))),
  ));

const protocolError = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CredgateError);
    expect((e as CredgateError).code).toBe('PROTOCOL_ERROR');
    return e as CredgateError;
  }
  throw new Error('expected PROTOCOL_ERROR');
};

describe('DER primitives round-trip', () => {
  it('Int32 / UInt32 at their edges', () => {
    for (const n of [0, 1, 127, 128, 255, 256, -1, -128, -129, -138, 65535, 2147483647, -2147483648]) {
      const b = derInt(n);
      expect(readInt32(b, readWhole(b, 'int'), 'int')).toBe(n);
    }
    for (const n of [0, 2147483648, 4294967295]) {
      const b = derInt(n);
      expect(readUInt32(b, readWhole(b, 'uint'), 'uint')).toBe(n);
    }
    protocolError(() => readInt32(derInt(2147483648), readWhole(derInt(2147483648), 'x'), 'x'));
    protocolError(() => readUInt32(derInt(-1), readWhole(derInt(-1), 'x'), 'x'));
    protocolError(() => readInt32(derInt(2n ** 40n), readWhole(derInt(2n ** 40n), 'x'), 'x'));
  });

  it('KerberosTime, KerberosString (UTF-8) and KerberosFlags', () => {
    const d = new Date(Date.UTC(2037, 8, 13, 2, 48, 5));
    const t = derKerberosTime(d);
    expect(t.subarray(2).toString()).toBe('20370913024805Z');
    expect(readKerberosTime(t, readWhole(t, 't'), 't').getTime()).toBe(d.getTime());
    for (const bad of ['20261304120000Z', '20260231120000Z', '2026120412000Z', '20261204120000', '20261204250000Z']) {
      const b = tlv(0x18, Buffer.from(bad));
      protocolError(() => readKerberosTime(b, readWhole(b, 't'), 't'));
    }
    const s = derKString('Ünïcødé@RÉALM');
    expect(readKString(s, readWhole(s, 's'), 's')).toBe('Ünïcødé@RÉALM');
    const f = derFlags(0x40810010);
    expect(readFlags(f, readWhole(f, 'f'), 'f')).toBe(0x40810010);
  });

  it('PrincipalName, EncryptedData and the requests the client sends', () => {
    const p = encodePrincipalName(pn(10, 'alice@corp.example'));
    expect(parsePrincipalName(p, readWhole(p, 'pn'), 'pn')).toEqual(pn(10, 'alice@corp.example'));
    const e = encodeEncryptedData({ etype: -138, kvno: 3, cipher: Buffer.from('abc') });
    expect(parseEncryptedData(e, readWhole(e, 'ed'), 'ed')).toEqual({ etype: -138, kvno: 3, cipher: Buffer.from('abc') });
    const body = encodeKdcReqBody({ options: 0x40010010, cname: pn(1, 'alice'), realm: 'PAMTEST.LOCAL', sname: pn(2, 'krbtgt', 'PAMTEST.LOCAL'), till: T0, nonce: 0x7ffffffe, etypes: [18, 17, 23], addresses: [netbiosAddress('ws01')] });
    const req = encodeKdcReq(10, [{ type: 2, value: Buffer.from([1, 2]) }], body);
    const top = readWhole(req, 'req');
    expect([top.cls, top.tag]).toEqual([1, 10]);
    const f = fields(req, readTlv(req, top.start, top.end, 'req'), 'req');
    expect([...f.keys()]).toEqual([1, 2, 3, 4]);
    const bf = fields(req, f.get(4)!, 'body');
    expect([...bf.keys()]).toEqual([0, 1, 2, 3, 5, 7, 8, 9]);
    expect(readUInt32(req, bf.get(7)!, 'nonce')).toBe(0x7ffffffe);
    expect(req.includes(Buffer.from('WS01           \x20', 'latin1'))).toBe(true);
    const ts = encodePaEncTsEnc(new Date(T0.getTime() + 789));
    const tf = fields(ts, readWhole(ts, 'ts'), 'ts');
    expect(readUInt32(ts, tf.get(1)!, 'usec')).toBe(789000);
    const auth = encodeAuthenticator({ crealm: 'R', cname: pn(1, 'a'), cksum: { cksumtype: 16, value: Buffer.alloc(12) }, now: T0 });
    expect(readWhole(auth, 'auth').tag).toBe(2);
    const ap = encodeApReq(ticket(), { etype: 18, cipher: Buffer.alloc(30) });
    expect(readWhole(ap, 'ap').tag).toBe(14);
    expect(ap.includes(ticket())).toBe(true);
  });
});

describe('KDC replies', () => {
  it('KRB-ERROR with every field', () => {
    const eData = methodData([{ type: 19, value: etypeInfo2([{ etype: 18, salt: 'PAMTEST.LOCALalice', params: Buffer.from('00001000', 'hex') }]) }]);
    const r = parseKdcReply(krbError({ code: 25, eText: 'NEEDED_PREAUTH', eData, crealm: 'PAMTEST.LOCAL', cname: pn(1, 'alice'), ctime: T0 }));
    expect(r.kind).toBe('error');
    if (r.kind !== 'error') return;
    expect(r.error).toMatchObject({ errorCode: 25, susec: 123456, realm: 'PAMTEST.LOCAL', crealm: 'PAMTEST.LOCAL', eText: 'NEEDED_PREAUTH', cusec: 1 });
    expect(r.error.stime.getTime()).toBe(T0.getTime());
    expect(r.error.eData?.equals(eData)).toBe(true);
  });

  it('AS-REP and TGS-REP keep the Ticket byte for byte', () => {
    const r = parseKdcReply(kdcRep(11, [{ type: 19, value: etypeInfo2([{ etype: 18, salt: 'X' }]) }]));
    expect(r.kind).toBe('rep');
    if (r.kind !== 'rep') return;
    expect(r.rep.ticket.equals(ticket())).toBe(true);
    expect(r.rep).toMatchObject({ msgType: 11, crealm: 'PAMTEST.LOCAL', ticketEtype: 18, ticketKvno: 2, cname: pn(1, 'alice') });
    expect(r.rep.padata.map((p) => p.type)).toEqual([19]);
    expect((parseKdcReply(kdcRep(13)) as { rep: { msgType: number } }).rep.msgType).toBe(13);
  });

  it('EncASRepPart and EncTGSRepPart (either tag for either reply)', () => {
    for (const tag of [25, 26]) {
      const p = parseEncKdcRepPart(encPart(tag, 99, T0));
      expect(p).toMatchObject({ keytype: 18, nonce: 99, flags: 0x40e10000, srealm: 'PAMTEST.LOCAL' });
      expect(p.keyExpiration?.getTime()).toBe(T0.getTime());
    }
    protocolError(() => parseEncKdcRepPart(encPart(27)));
  });

  it('ETYPE-INFO2 / ETYPE-INFO / METHOD-DATA', () => {
    const e2 = parseEtypeInfo2(etypeInfo2([{ etype: 18, salt: 'S', params: Buffer.from('00001000', 'hex') }, { etype: 23 }]));
    expect(e2.map((e) => [e.etype, e.salt?.toString(), e.s2kparams?.toString('hex')])).toEqual([[18, 'S', '00001000'], [23, undefined, undefined]]);
    const e1 = parseEtypeInfo(seq(seq(ctx(0, derInt(17)), ctx(1, derOctets(Buffer.from('salt'))))));
    expect(e1[0]).toMatchObject({ etype: 17 });
    expect(parseMethodData(methodData([{ type: 2, value: Buffer.alloc(0) }])).map((p) => p.type)).toEqual([2]);
    protocolError(() => parseEtypeInfo2(seq()));
  });

  it('refuses what is not a Kerberos reply', () => {
    for (const b of [Buffer.alloc(0), Buffer.from([0x30, 0x00]), app(14, seq()), Buffer.concat([krbError({ code: 6 }), Buffer.from([0])]), Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')]) {
      protocolError(() => parseKdcReply(b));
    }
    const e = krbError({ code: 6 });
    const indefinite = Buffer.from(e);
    indefinite[1] = 0x80;
    protocolError(() => parseKdcReply(indefinite));
    const overLong = Buffer.from(e);
    overLong[1] = 0x84;
    protocolError(() => parseKdcReply(overLong));
    protocolError(() => parseKdcReply(Buffer.from([0x7f, 0x81, 0x00])));
    const wrongPvno = app(30, seq(ctx(0, derInt(4)), ctx(1, derInt(30))));
    expect(protocolError(() => parseKdcReply(wrongPvno)).message).toMatch(/pvno/);
    const manyKids = seq(...Array.from({ length: 1100 }, () => seq()));
    protocolError(() => decodeEData(manyKids));
  });
});

describe('e-data in its three shapes', () => {
  it('KERB-ERROR-DATA with KERB_ERR_TYPE_EXTENDED (MS-KILE 2.2.1/2.2.2)', () => {
    const info = decodeEData(kerbErrorData(3, ext(NTSTATUS.ACCOUNT_LOCKED_OUT, 1)));
    expect(info).toMatchObject({ form: 'kerb-error-data', dataTypes: [3], extended: { status: 0xc0000234, flags: 1 }, extendedFrom: 'kerb-ext-error' });
    expect(decodeEData(kerbErrorData(2))).toMatchObject({ form: 'kerb-error-data', dataTypes: [2] });
    protocolError(() => decodeEData(kerbErrorData(3, Buffer.alloc(5))));
  });

  it('METHOD-DATA with ETYPE-INFO2 and a PA-PW-SALT carrying the NTSTATUS (as Windows and Samba send it)', () => {
    const info = decodeEData(methodData([{ type: 19, value: etypeInfo2([{ etype: 18, salt: 'S' }]) }, { type: 3, value: ext(NTSTATUS.ACCOUNT_DISABLED) }]));
    expect(info).toMatchObject({ form: 'method-data', padataTypes: [19, 3], extended: { status: 0xc0000072 }, extendedFrom: 'pa-pw-salt' });
    expect(info.etypeInfo2?.[0]?.etype).toBe(18);
    const salt = decodeEData(methodData([{ type: 3, value: Buffer.from('REALM.Xalice') }]));
    expect(salt.extended).toBeUndefined();
    expect(salt.pwSalt?.toString()).toBe('REALM.Xalice');
  });

  it('TYPED-DATA and an empty SEQUENCE', () => {
    expect(decodeEData(seq(seq(ctx(0, derInt(104)), ctx(1, derOctets(Buffer.alloc(2))))))).toMatchObject({ form: 'typed-data', dataTypes: [104] });
    expect(decodeEData(seq())).toMatchObject({ form: 'method-data', padataTypes: [] });
  });

  it('maps codes and NTSTATUS values to reasons and names', () => {
    expect(failureReason(18, 0xc0000072, true)).toBe('account-disabled');
    expect(failureReason(18, 0xc0000234, true)).toBe('account-locked');
    expect(failureReason(18, 0xc0000193, true)).toBe('account-expired');
    expect(failureReason(18, 0xc000006f, true)).toBe('logon-hours');
    expect(failureReason(12, 0xc0000070, true)).toBe('workstation-restricted');
    expect(failureReason(23, 0xc0000071, true)).toBe('password-expired');
    expect(failureReason(23, 0xc0000224, true)).toBe('password-must-change');
    expect(failureReason(23, undefined, true)).toBe('password-expired');
    expect(failureReason(18, undefined, true)).toBe('account-revoked');
    expect(failureReason(24, undefined, true)).toBe('invalid-credentials');
    expect(failureReason(6, undefined, false)).toBe('user-not-found');
    expect(failureReason(37, undefined, true)).toBe('clock-skew');
    expect(failureReason(14, undefined, false)).toBe('etype-unsupported');
    expect(failureReason(31, undefined, true)).toBe('invalid-credentials');
    expect(failureReason(31, undefined, false)).toBe('other');
    expect(failureReason(7, undefined, true)).toBe('service-not-found');
    expect(ntstatusName(0xc0000234)).toBe('STATUS_ACCOUNT_LOCKED_OUT');
    expect(ntstatusName(0xc0001234)).toBe('0xC0001234');
    expect(krbErrorName(52)).toBe('KRB_ERR_RESPONSE_TOO_BIG');
    expect(krbErrorName(999)).toBe('KRB_ERROR_999');
  });
});

// ---- fuzzing ----------------------------------------------------------------------------------

const PARSERS: [string, (b: Buffer) => unknown, Buffer[]][] = [
  ['parseKdcReply', parseKdcReply, [
    krbError({ code: 25, eText: 'x', eData: methodData([{ type: 19, value: etypeInfo2([{ etype: 18, salt: 'S', params: Buffer.from('00001000', 'hex') }]) }]), cname: pn(1, 'a'), crealm: 'R', ctime: T0 }),
    krbError({ code: 18, eData: methodData([{ type: 3, value: ext(0xc0000072) }]) }),
    kdcRep(11, [{ type: 19, value: etypeInfo2([{ etype: 18 }]) }]),
    kdcRep(13),
  ]],
  ['parseEncKdcRepPart', parseEncKdcRepPart, [encPart(25, 1, T0), encPart(26)]],
  ['parseEtypeInfo2', parseEtypeInfo2, [etypeInfo2([{ etype: 18, salt: 'PAMTEST.LOCALalice', params: Buffer.from('00001000', 'hex') }, { etype: 23 }])]],
  ['parseEtypeInfo', parseEtypeInfo, [seq(seq(ctx(0, derInt(17)), ctx(1, derOctets(Buffer.from('salt')))))]],
  ['parseMethodData', parseMethodData, [methodData([{ type: 2, value: Buffer.alloc(0) }, { type: 19, value: etypeInfo2([{ etype: 18 }]) }])]],
  ['decodeEData', decodeEData, [
    kerbErrorData(3, ext(0xc0000234)),
    methodData([{ type: 19, value: etypeInfo2([{ etype: 18, salt: 'S' }]) }, { type: 3, value: ext(0xc0000072) }, { type: 11, value: seq(seq(ctx(0, derInt(23)))) }]),
    seq(seq(ctx(0, derInt(104)), ctx(1, derOctets(Buffer.alloc(3))))),
  ]],
  ['decrypt (AES)', (b) => decrypt({ etype: 18, bytes: Buffer.alloc(32, 3) }, 3, b), [Buffer.alloc(60, 1)]],
  ['decrypt (RC4)', (b) => decrypt({ etype: 23, bytes: Buffer.alloc(16, 3) }, 3, b), [Buffer.alloc(40, 1)]],
];

function mutate(r: ReturnType<typeof prng>, seed: Buffer): Buffer {
  const b = Buffer.from(seed);
  switch (r.int(6)) {
    case 0: // flip bits
      for (let i = 0, n = 1 + r.int(4); i < n && b.length; i++) b[r.int(b.length)]! ^= 1 << r.int(8);
      return b;
    case 1: // set a byte to an edge value (length bytes become 0x80..0x84, 0xff, 0)
      if (b.length) b[r.int(b.length)] = r.pick([0x00, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x85, 0xff, 0x30, 0xa0]);
      return b;
    case 2: // truncate
      return b.subarray(0, r.int(b.length + 1));
    case 3: // insert random bytes
      return Buffer.concat([b.subarray(0, r.int(b.length + 1)), Buffer.from(Array.from({ length: 1 + r.int(8) }, () => r.int(256))), b.subarray(r.int(b.length + 1))]);
    case 4: // duplicate a slice (repeated fields, bigger lengths)
      {
        const s = r.int(b.length + 1);
        const e = s + r.int(b.length - s + 1);
        return Buffer.concat([b.subarray(0, e), b.subarray(s, e), b.subarray(e)]);
      }
    default: // append garbage
      return Buffer.concat([b, Buffer.from(Array.from({ length: 1 + r.int(16) }, () => r.int(256)))]);
  }
}

describe('fuzzing every reply parser (seeded, bounded)', () => {
  it.each(PARSERS)('%s: random and mutated input gives a value or PROTOCOL_ERROR, fast', (name, parse, seeds) => {
    const r = prng(0x6b72622d ^ name.length * 7919);
    const started = Date.now();
    let worst = 0;
    let outcomes = 0;
    for (let i = 0; i < 4000; i++) {
      const input = i < 1000
        ? Buffer.from(Array.from({ length: r.int(96) }, () => r.int(256)))
        : mutate(r, i % 7 === 0 ? mutate(r, r.pick(seeds)) : r.pick(seeds));
      const t = Date.now();
      try {
        parse(input);
        outcomes++;
      } catch (e) {
        if (!(e instanceof CredgateError) || e.code !== 'PROTOCOL_ERROR') {
          throw new Error(`${name} threw ${(e as Error)?.name}: ${(e as Error)?.message} on ${input.toString('hex')}`);
        }
      }
      worst = Math.max(worst, Date.now() - t);
    }
    for (const s of seeds) parse(s); // the seeds themselves are valid
    expect(worst).toBeLessThan(250);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(outcomes).toBeGreaterThanOrEqual(0);
  }, 15_000);

  it('length fields claiming huge sizes are refused before any allocation', () => {
    const huge = Buffer.from([0x7e, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x30, 0x00]);
    const t = Date.now();
    protocolError(() => parseKdcReply(huge));
    protocolError(() => parseKdcReply(Buffer.concat([Buffer.from([0x7e, 0x83, 0x20, 0x00, 0x00]), Buffer.alloc(0x200000)])));
    expect(Date.now() - t).toBeLessThan(200);
  });
});
