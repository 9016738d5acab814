// A fake KDC on loopback for unit tests (UDP and TCP on one port): it answers AS-REQs as an AD KDC
// does (PREAUTH_REQUIRED with ETYPE-INFO2, then an AS-REP sealed with the password's key, or
// PREAUTH_FAILED), checks a TGS-REQ's authenticator and body checksum and answers found / unknown /
// referral, and lets a test hook any reply (errors with e-data, silence, garbage). Real crypto and
// real DER, so the client under test meets the bytes a KDC sends. Stop them with stopFakeKdcs().
import dgram from 'node:dgram';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { app, ctx, derFlags, derInt, derKerberosTime, derKString, derOctets, fields, readInt32, readOctets, readTlv, readWhole, readUInt32, sequenceOf, seq } from '../../src/protocols/kerberos/der.js';
import { encodeEncryptedData, encodePaData, encodePrincipalName, type PrincipalName } from '../../src/protocols/kerberos/messages.js';
import { parsePrincipalName } from '../../src/protocols/kerberos/replies.js';
import { checksum, decrypt, encrypt, stringToKey, type KerberosKey } from '../../src/protocols/kerberos/crypto.js';
import type { SupportedEtype } from '../../src/protocols/kerberos/constants.js';

export const REALM = 'PAMTEST.LOCAL';
export const PASSWORD = 'Corr3ct-Horse!Battery-Staple';
export const SALT = 'PAMTEST.LOCALalice';

// ---- reply builders ---------------------------------------------------------------------------

export const pn = (nameType: number, ...names: string[]): PrincipalName => ({ nameType, names });
export function krbError(code: number, eData?: Buffer, stime = new Date()): Buffer {
  return app(30, seq(
    ctx(0, derInt(5)), ctx(1, derInt(30)), ctx(4, derKerberosTime(stime)), ctx(5, derInt((stime.getTime() % 1000) * 1000)), ctx(6, derInt(code)),
    ctx(9, derKString(REALM)), ctx(10, encodePrincipalName(pn(2, 'krbtgt', REALM))), eData ? ctx(12, derOctets(eData)) : undefined,
  ));
}
export type Entry = { etype: number; salt?: string; params?: Buffer };
export const etypeInfo2 = (entries: Entry[]) => seq(...entries.map((e) => seq(ctx(0, derInt(e.etype)), e.salt !== undefined ? ctx(1, derKString(e.salt)) : undefined, e.params ? ctx(2, derOctets(e.params)) : undefined)));
export const methodData = (pas: { type: number; value: Buffer }[]) => seq(...pas.map(encodePaData));
export const ext = (status: number) => {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(status >>> 0, 0);
  b.writeUInt32LE(1, 8);
  return b;
};
const ticket = (sname: PrincipalName, cipher: Buffer) => app(1, seq(ctx(0, derInt(5)), ctx(1, derKString(REALM)), ctx(2, encodePrincipalName(sname)), ctx(3, encodeEncryptedData({ etype: 18, kvno: 5, cipher }))));
function encRepPart(tag: number, key: KerberosKey, nonce: number, sname: PrincipalName): Buffer {
  const now = new Date();
  return app(tag, seq(
    ctx(0, seq(ctx(0, derInt(key.etype)), ctx(1, derOctets(key.bytes)))), ctx(1, seq(seq(ctx(0, derInt(0)), ctx(1, derKerberosTime(now))))),
    ctx(2, derInt(nonce)), ctx(3, derKerberosTime(new Date(now.getTime() + 30 * 86400e3))), ctx(4, derFlags(0x40e10000)), ctx(5, derKerberosTime(now)),
    ctx(7, derKerberosTime(new Date(now.getTime() + 36e6))), ctx(9, derKString(REALM)), ctx(10, encodePrincipalName(sname)),
  ));
}
const kdcRep = (msgType: number, cname: PrincipalName, tkt: Buffer, encPart: Buffer, etype: number) =>
  app(msgType, seq(ctx(0, derInt(5)), ctx(1, derInt(msgType)), ctx(3, derKString(REALM)), ctx(4, encodePrincipalName(cname)), ctx(5, tkt), ctx(6, encodeEncryptedData({ etype, cipher: encPart }))));

// ---- the fake KDC -------------------------------------------------------------------------------

export type Kind = 'probe' | 'proof' | 'tgs';
export type Reply = Buffer | 'silent' | 'close' | { raw: Buffer };
export interface Seen { kind: Kind; transport: 'udp' | 'tcp'; bytes: Buffer }
export interface FakeOptions {
  password?: string;
  entries?: Entry[];
  paTypes?: number[];
  preauth?: boolean;
  spns?: string[];
  udp?: boolean;
  tcp?: boolean;
  hook?: (kind: Kind, transport: 'udp' | 'tcp', seen: Seen[]) => Reply | undefined;
}
export interface FakeKdc { port: number; label: string; seen: Seen[]; count: (kind: Kind, transport?: 'udp' | 'tcp') => number; /** Idempotent. */ close: () => Promise<void> }

const running: FakeKdc[] = [];

/** Stop every fake KDC started so far (afterEach). */
export async function stopFakeKdcs(): Promise<void> {
  await Promise.all(running.splice(0).map((k) => k.close()));
}

async function respond(o: FakeOptions, req: Buffer, sessions: Map<string, KerberosKey>): Promise<{ kind: Kind; reply: Buffer }> {
  const top = readWhole(req, 'req');
  const f = fields(req, readTlv(req, top.start, top.end, 'req'), 'req');
  const padata = f.get(3) ? sequenceOf(req, f.get(3)!, 'pa').map((p) => { const pf = fields(req, p, 'pa'); return { type: readInt32(req, pf.get(1)!, 't'), value: readOctets(req, pf.get(2)!, 'v') }; }) : [];
  const bodyT = f.get(4)!;
  const body = fields(req, bodyT, 'body');
  const nonce = readUInt32(req, body.get(7)!, 'nonce');
  const entries = o.entries ?? [{ etype: 18, salt: SALT, params: Buffer.from('00001000', 'hex') }];
  const userKey = async (etype: number) => { const e = entries.find((x) => x.etype === etype) ?? entries[0]!; return stringToKey(etype as SupportedEtype, o.password ?? PASSWORD, Buffer.from(e.salt ?? SALT), e.params); };
  const asRep = async (etype: number) => {
    const session: KerberosKey = { etype: 18, bytes: randomBytes(32) };
    const tcipher = randomBytes(48);
    sessions.set(tcipher.toString('hex'), session);
    const key = await userKey(etype);
    const cname = parsePrincipalName(req, body.get(1)!, 'cname');
    const canonical = cname.nameType === 10 ? pn(1, cname.names[0]!.split('@')[0]!) : cname;
    return kdcRep(11, canonical, ticket(pn(2, 'krbtgt', REALM), tcipher), encrypt(key, 3, encRepPart(25, session, nonce, pn(2, 'krbtgt', REALM))), key.etype);
  };
  if (top.tag === 10) {
    const ts = padata.find((p) => p.type === 2);
    if (!ts) {
      if (o.preauth === false) return { kind: 'probe', reply: await asRep(entries[0]!.etype) };
      const md = methodData([...(o.paTypes ?? [2]).map((type) => ({ type, value: Buffer.alloc(0) })), { type: 19, value: etypeInfo2(entries) }]);
      return { kind: 'probe', reply: krbError(25, md) };
    }
    const ed = fields(ts.value, readWhole(ts.value, 'ed'), 'ed');
    const etype = readInt32(ts.value, ed.get(0)!, 'etype');
    const plain = decrypt(await userKey(etype), 1, readOctets(ts.value, ed.get(2)!, 'cipher'));
    if (!plain) return { kind: 'proof', reply: krbError(24, methodData([{ type: 19, value: etypeInfo2(entries) }])) };
    return { kind: 'proof', reply: await asRep(etype) };
  }
  // TGS-REQ: check the AP-REQ's authenticator and its checksum over the body, as a KDC does
  const ap = padata.find((p) => p.type === 1)!.value;
  const apTop = readWhole(ap, 'ap');
  const apf = fields(ap, readTlv(ap, apTop.start, apTop.end, 'ap'), 'ap');
  const tkt = apf.get(3)!;
  const tf = fields(ap, readTlv(ap, tkt.start, tkt.end, 'tkt'), 'tkt');
  const tcipher = readOctets(ap, fields(ap, tf.get(3)!, 'enc').get(2)!, 'c');
  const session = sessions.get(tcipher.toString('hex'));
  const af = fields(ap, apf.get(4)!, 'auth');
  const auth = session && decrypt(session, 7, readOctets(ap, af.get(2)!, 'c'));
  if (!session || !auth) return { kind: 'tgs', reply: krbError(31) };
  const authTop = readWhole(auth, 'a');
  const authF = fields(auth, readTlv(auth, authTop.start, authTop.end, 'a'), 'a');
  const ck = fields(auth, authF.get(3)!, 'ck');
  const want = checksum(session, 6, req.subarray(bodyT.begin, bodyT.end)).value;
  if (!readOctets(auth, ck.get(1)!, 'v').equals(want)) return { kind: 'tgs', reply: krbError(41) };
  const sname = parsePrincipalName(req, body.get(3)!, 'sname');
  const spn = sname.names.join('/').toLowerCase();
  const known = (o.spns ?? []).map((s) => s.toLowerCase());
  const tgsRep = (returned: PrincipalName) => kdcRep(13, pn(1, 'alice'), ticket(returned, randomBytes(40)), encrypt(session, 8, encRepPart(26, { etype: 18, bytes: randomBytes(32) }, nonce, returned)), 18);
  if (known.includes(spn)) return { kind: 'tgs', reply: tgsRep(sname) };
  if (spn.startsWith('referral/')) return { kind: 'tgs', reply: tgsRep(pn(2, 'krbtgt', 'OTHER.EXAMPLE')) };
  return { kind: 'tgs', reply: krbError(7) };
}

function kindOf(req: Buffer): Kind {
  try {
    return readWhole(req, 'r').tag === 12 ? 'tgs' : req.includes(Buffer.from([0xa1, 0x03, 0x02, 0x01, 0x02])) ? 'proof' : 'probe';
  } catch {
    return 'probe';
  }
}

export async function startFakeKdc(o: FakeOptions = {}): Promise<FakeKdc> {
  const seen: Seen[] = [];
  const sessions = new Map<string, KerberosKey>();
  const handle = async (req: Buffer, transport: 'udp' | 'tcp'): Promise<Reply> => {
    const kind = kindOf(req);
    seen.push({ kind, transport, bytes: req });
    const hooked = o.hook?.(kind, transport, seen);
    if (hooked !== undefined) return hooked;
    return (await respond(o, req, sessions)).reply;
  };
  for (let attempt = 0; ; attempt++) {
    const server = net.createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.on('error', () => {});
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length < 4 || buf.length < 4 + buf.readUInt32BE(0)) return;
        const req = buf.subarray(4, 4 + buf.readUInt32BE(0));
        void handle(req, 'tcp').then((r) => {
          if (r === 'silent') return;
          if (r === 'close') return void sock.destroy();
          if (Buffer.isBuffer(r)) {
            const len = Buffer.alloc(4);
            len.writeUInt32BE(r.length);
            sock.end(Buffer.concat([len, r]));
          } else sock.end(r.raw);
        });
      });
    });
    const udp = dgram.createSocket('udp4');
    udp.on('message', (msg, rinfo) => {
      void handle(msg, 'udp').then((r) => {
        if (Buffer.isBuffer(r)) udp.send(r, rinfo.port, rinfo.address);
        else if (typeof r === 'object') udp.send(r.raw, rinfo.port, rinfo.address);
      });
    });
    udp.on('error', () => {});
    try {
      await new Promise<void>((res, rej) => { server.once('error', rej); server.listen(0, '127.0.0.1', () => res()); });
      const port = (server.address() as net.AddressInfo).port;
      await new Promise<void>((res, rej) => { udp.once('error', rej); udp.bind(port, '127.0.0.1', () => res()); });
      if (o.tcp === false) await new Promise<void>((res) => server.close(() => res()));
      if (o.udp === false) await new Promise<void>((res) => udp.close(() => res()));
      let closed = false;
      const kdc: FakeKdc = {
        port,
        label: `127.0.0.1:${port}`,
        seen,
        count: (kind, transport) => seen.filter((s) => s.kind === kind && (!transport || s.transport === transport)).length,
        close: async () => {
          if (closed) return;
          closed = true;
          if (o.tcp !== false) await new Promise<void>((res) => server.close(() => res()));
          if (o.udp !== false) await new Promise<void>((res) => udp.close(() => res()));
        },
      };
      running.push(kdc);
      return kdc;
    } catch (e) {
      server.close();
      try { udp.close(); } catch { /* not bound */ }
      if (attempt > 5) throw e;
    }
  }
}
