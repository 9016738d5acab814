// MD4 (RFC 1320 test suite), RC4 (RFC 6229 and the classic vectors), and NTLMv2 against the
// MS-NLMP 4.2.4 worked example, byte for byte; plus bounded fuzzing of the NTLM parsers.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { md4 } from '../../../../src/protocols/crypto/md4.js';
import { Rc4, rc4 } from '../../../../src/protocols/crypto/rc4.js';
import {
  AV, AV_FLAG_MIC_PRESENT, MAX_NTLM_MESSAGE, NTLM_FLAGS, DEFAULT_NEGOTIATE_FLAGS, buildAuthenticate, buildNegotiate,
  encodeAvPairs, ntowfv1, ntowfv2, parseAuthenticate, parseAvPairs, parseChallenge, NtlmSession,
} from '../../../../src/protocols/rdp/ntlm/ntlm.js';
import { CredgateError } from '../../../../src/core/errors.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('MD4 (RFC 1320 appendix A.5)', () => {
  it.each([
    ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
    ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
    ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
    ['message digest', 'd9130a8164549fe818874806e1c7014b'],
    ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
    ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', 'e33b4ddc9c38f2199c3e7b164fcc0536'],
  ])('MD4(%j)', (input, digest) => {
    expect(md4(Buffer.from(input, 'latin1')).toString('hex')).toBe(digest);
  });

  it('NT hash of "Password" is the MS-NLMP 4.2.4.1.1 value', () => {
    expect(ntowfv1('Password').toString('hex')).toBe('a4f49c406510bdcab6824ee7c30fd852');
  });
});

describe('RC4', () => {
  it.each([
    ['Key', 'Plaintext', 'bbf316e8d940af0ad3'],
    ['Wiki', 'pedia', '1021bf0420'],
    ['Secret', 'Attack at dawn', '45a01f645fc35b383552544b9bf5'],
  ])('key %j, plaintext %j', (key, pt, ct) => {
    expect(rc4(Buffer.from(key), Buffer.from(pt)).toString('hex')).toBe(ct);
  });

  it('RFC 6229 key 0x0102030405: keystream bytes 0–31, also when produced in pieces', () => {
    const expected = 'b2396305f03dc027ccc3524a0a1118a8' + '6982944f18fc82d589c403a47a0d0919';
    expect(rc4(hex('0102030405'), Buffer.alloc(32)).toString('hex')).toBe(expected);
    const r = new Rc4(hex('0102030405'));
    expect(Buffer.concat([r.update(Buffer.alloc(7)), r.update(Buffer.alloc(25))]).toString('hex')).toBe(expected);
  });

  it('MD4 and RC4 agree with OpenSSL\'s legacy provider on random inputs', () => {
    const cases = Array.from({ length: 24 }, (_, i) => ({ key: randomBytes(1 + (i % 32)), data: randomBytes(i * 13) }));
    const script = `const c=require('crypto');const cs=JSON.parse(require('fs').readFileSync(0,'utf8'));
      process.stdout.write(JSON.stringify(cs.map(x=>{const k=Buffer.from(x.key,'hex'),d=Buffer.from(x.data,'hex');
      const e=c.createCipheriv('rc4',k,null);return [c.createHash('md4').update(d).digest('hex'),Buffer.concat([e.update(d),e.final()]).toString('hex')]})))`;
    let out: string;
    try {
      out = execFileSync(process.execPath, ['--openssl-legacy-provider', '-e', script], {
        input: JSON.stringify(cases.map((c) => ({ key: c.key.toString('hex'), data: c.data.toString('hex') }))), timeout: 10_000,
      }).toString();
    } catch (e) {
      throw new Error(`node --openssl-legacy-provider is needed for this cross-check: ${(e as Error).message}`);
    }
    const ref = JSON.parse(out) as Array<[string, string]>;
    cases.forEach((c, i) => {
      expect(md4(c.data).toString('hex')).toBe(ref[i]![0]);
      expect(rc4(c.key, c.data).toString('hex')).toBe(ref[i]![1]);
    });
  });
});

// ---- MS-NLMP 4.2.4 (NTLMv2 authentication), the published example bytes
const CHALLENGE_424 = hex(`4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044000000060070170000000f
  53006500720076006500720002000c0044006f006d00610069006e0001000c0053006500720076006500720000000000`);
const AUTHENTICATE_424 = hex(`4e544c4d535350000300000018001800 6c00000054005400840000000c000c00 48000000080008005400000010001000
  5c00000010001000d8000000358288e2 0501280a0000000f44006f006d006100 69006e00550073006500720043004f00
  4d005000550054004500520086c35097 ac9cec102554764a57cccc19aaaaaaaa aaaaaaaa68cd0ab851e51c96aabc927b
  ebef6a1c010100000000000000000000 00000000aaaaaaaaaaaaaaaa00000000 02000c0044006f006d00610069006e00
  01000c00530065007200760065007200 0000000000000000c5dad2544fc97990 94ce1ce90bc9d03e`);

function example424() {
  const challenge = parseChallenge(CHALLENGE_424);
  // The example's client flags: the challenge's flags minus OEM and those the server alone sets.
  const negotiate = buildNegotiate(0xe2888235);
  return buildAuthenticate({
    negotiate, challenge, user: 'User', domain: 'Domain', workstation: 'COMPUTER',
    responseKeyNT: ntowfv2({ user: 'User', domain: 'Domain', password: 'Password' }),
    clientChallenge: hex('aaaaaaaaaaaaaaaa'), exportedSessionKey: Buffer.alloc(16, 0x55), time: Buffer.alloc(8), plainTargetInfo: true,
  });
}

describe('NTLMv2: the MS-NLMP 4.2.4 worked example', () => {
  it('parses the example CHALLENGE', () => {
    const c = parseChallenge(CHALLENGE_424);
    expect(c.flags >>> 0).toBe(0xe28a8233);
    expect(c.serverChallenge.toString('hex')).toBe('0123456789abcdef');
    expect(c.targetName).toBe('Server');
    expect(c.avPairs.map((p) => [p.id, p.value.toString('utf16le')])).toEqual([[AV.NbDomainName, 'Domain'], [AV.NbComputerName, 'Server']]);
    expect(c.timestamp).toBeUndefined();
    expect(c.version).toEqual({ major: 6, minor: 0, build: 6000 });
  });

  it('NTOWFv2 (4.2.4.1.1), NTProofStr, SessionBaseKey and the encrypted session key (4.2.4.1–4.2.4.2)', () => {
    expect(ntowfv2({ user: 'User', domain: 'Domain', password: 'Password' }).toString('hex')).toBe('0c868a403bfd7a93a3001ef22ef02e3f');
    expect(ntowfv2({ user: 'user', domain: 'Domain', ntHash: ntowfv1('Password') }).toString('hex')).toBe('0c868a403bfd7a93a3001ef22ef02e3f');
    const a = example424();
    expect(a.lmChallengeResponse.toString('hex')).toBe('86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa');
    expect(a.ntProofStr.toString('hex')).toBe('68cd0ab851e51c96aabc927bebef6a1c');
    expect(a.sessionBaseKey.toString('hex')).toBe('8de40ccadbc14a82f15cb0ad0de95ca3');
    expect(a.encryptedRandomSessionKey.toString('hex')).toBe('c5dad2544fc9799094ce1ce90bc9d03e');
    expect(a.mic).toBeUndefined();
  });

  it('the AUTHENTICATE message is the example\'s, byte for byte (except the 8-byte VERSION credgate announces)', () => {
    const m = Buffer.from(example424().message);
    expect(m.length).toBe(AUTHENTICATE_424.length);
    AUTHENTICATE_424.copy(m, 64, 64, 72);
    expect(m.toString('hex')).toBe(AUTHENTICATE_424.toString('hex'));
    const p = parseAuthenticate(example424().message);
    expect([p.user, p.domain, p.workstation, p.flags >>> 0]).toEqual(['User', 'Domain', 'COMPUTER', 0xe2888235]);
  });

  it('session keys and GSS_WrapEx of "Plaintext" (4.2.4.4)', () => {
    const { session } = example424();
    expect(session.clientSigningKey.toString('hex')).toBe('4788dc861b4782f35d43fd98fe1a2d39');
    expect(session.clientSealingKey.toString('hex')).toBe('59f600973cc4960a25480a7c196e4c58');
    const { signature, sealed } = session.seal(Buffer.from('Plaintext', 'utf16le'));
    expect(sealed.toString('hex')).toBe('54e50165bf1936dc996020c1811b0f06fb5f');
    expect(signature.toString('hex')).toBe('010000007fb38ec5c55d497600000000');
  });

  it('unseal verifies the server direction and rejects a tampered message', () => {
    const key = Buffer.alloc(16, 0x55);
    const flags = 0xe2888235;
    // play the server: its outgoing direction is the client's incoming one
    const server = new NtlmSession(key, flags);
    const asServer = (s: NtlmSession) => {
      const o = s as unknown as { out: Rc4; clientSigningKey: Buffer; clientSealingKey: Buffer };
      Object.assign(o, { out: new Rc4(s.serverSealingKey), clientSigningKey: s.serverSigningKey });
      return s;
    };
    const srv = asServer(server);
    const a = srv.seal(Buffer.from('proof one'));
    const b = srv.seal(Buffer.from('proof two'));
    const client = new NtlmSession(key, flags);
    expect(client.unseal(a.signature, a.sealed)?.toString()).toBe('proof one');
    const tampered = Buffer.from(b.sealed);
    tampered[0]! ^= 1;
    expect(client.unseal(b.signature, tampered)).toBeUndefined();
  });
});

describe('AUTHENTICATE with MIC (a server that sends MsvAvTimestamp)', () => {
  // A CHALLENGE captured from the lab's FreeRDP NLA server.
  const LAB_CHALLENGE = hex(`4e544c4d53535000020000000400040038000000358288e21f1802a855f468940000000000000000300030003c0000000601b11d0000000f
    56004d000200040056004d000100040056004d000400040076006d000300040076006d000700080080cdb622a07cdd0100000000`);

  it('adds MsvAvFlags=MIC, sends Z(24) as LM response, and the MIC is HMAC-MD5 over the three messages', () => {
    const challenge = parseChallenge(LAB_CHALLENGE);
    expect(challenge.timestamp?.toString('hex')).toBe('80cdb622a07cdd01');
    const negotiate = buildNegotiate();
    const a = buildAuthenticate({ negotiate, challenge, user: 'alice', domain: 'PAMTEST', spn: 'TERMSRV/host', responseKeyNT: ntowfv2({ user: 'alice', domain: 'PAMTEST', password: 'x' }) });
    expect(a.lmChallengeResponse.equals(Buffer.alloc(24))).toBe(true);
    const p = parseAuthenticate(a.message);
    expect(p.mic?.equals(a.mic!)).toBe(true);
    const zeroed = Buffer.from(a.message);
    zeroed.fill(0, 72, 88);
    expect(createHmac('md5', a.exportedSessionKey).update(negotiate).update(LAB_CHALLENGE).update(zeroed).digest().equals(a.mic!)).toBe(true);
    // the blob: timestamp from the server, AV pairs with MsvAvFlags and the SPN
    const blob = p.ntChallengeResponse.subarray(16);
    expect(blob.subarray(8, 16).equals(challenge.timestamp!)).toBe(true);
    const pairs = parseAvPairs(blob.subarray(28));
    expect(pairs.find((x) => x.id === AV.Flags)?.value.readUInt32LE(0)).toBe(AV_FLAG_MIC_PRESENT);
    expect(pairs.find((x) => x.id === AV.TargetName)?.value.toString('utf16le')).toBe('TERMSRV/host');
    expect(p.flags & NTLM_FLAGS.KEY_EXCH).toBeTruthy();
    expect(p.flags & NTLM_FLAGS.OEM).toBe(0);
    expect(DEFAULT_NEGOTIATE_FLAGS & NTLM_FLAGS.N128).toBeTruthy();
  });

  it('two AUTHENTICATEs for the same challenge differ (random client challenge and session key)', () => {
    const challenge = parseChallenge(LAB_CHALLENGE);
    const k = ntowfv2({ user: 'a', domain: '', password: 'x' });
    const x = buildAuthenticate({ negotiate: buildNegotiate(), challenge, user: 'a', domain: '', responseKeyNT: k });
    const y = buildAuthenticate({ negotiate: buildNegotiate(), challenge, user: 'a', domain: '', responseKeyNT: k });
    expect(x.ntProofStr.equals(y.ntProofStr)).toBe(false);
    expect(x.exportedSessionKey.equals(y.exportedSessionKey)).toBe(false);
  });

  it('refuses a server without Unicode or one offering NTLMv1-style sealing', () => {
    const noUni = Buffer.from(LAB_CHALLENGE);
    noUni.writeUInt32LE((noUni.readUInt32LE(20) & ~NTLM_FLAGS.UNICODE) >>> 0, 20);
    const k = ntowfv2({ user: 'a', domain: '', password: 'x' });
    expect(() => buildAuthenticate({ negotiate: buildNegotiate(), challenge: parseChallenge(noUni), user: 'a', domain: '', responseKeyNT: k })).toThrow(CredgateError);
    const v1 = Buffer.from(LAB_CHALLENGE);
    v1.writeUInt32LE((v1.readUInt32LE(20) & ~NTLM_FLAGS.EXTENDED_SESSIONSECURITY) >>> 0, 20);
    expect(() => buildAuthenticate({ negotiate: buildNegotiate(), challenge: parseChallenge(v1), user: 'a', domain: '', responseKeyNT: k })).toThrow(CredgateError);
  });

  it('AV pairs round-trip', () => {
    const pairs = [{ id: AV.NbDomainName, value: Buffer.from('D', 'utf16le') }, { id: AV.Timestamp, value: Buffer.alloc(8, 1) }];
    expect(parseAvPairs(encodeAvPairs(pairs))).toEqual(pairs);
  });

  // bounded fuzz: random bytes, and the real messages with bytes flipped, truncated or lengths bent
  it('parsers survive random and mutated messages: PROTOCOL_ERROR or a result, never a crash or a large allocation', () => {
    let seed = 0xc0ffee;
    const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const seeds = [LAB_CHALLENGE, CHALLENGE_424];
    const authSeeds = [AUTHENTICATE_424];
    const before = process.memoryUsage().arrayBuffers;
    const t0 = Date.now();
    let parsed = 0;
    for (let i = 0; i < 30_000; i++) {
      const pool = i % 2 ? seeds : authSeeds;
      let buf: Buffer;
      if (i % 5 === 0) {
        buf = Buffer.from(Array.from({ length: Math.floor(rnd() * 120) }, () => Math.floor(rnd() * 256)));
        if (rnd() < 0.5 && buf.length >= 12) { Buffer.from('NTLMSSP\0').copy(buf); buf.writeUInt32LE(i % 2 ? 2 : 3, 8); }
      } else {
        buf = Buffer.from(pool[i % pool.length]!);
        const n = 1 + Math.floor(rnd() * 4);
        for (let k = 0; k < n; k++) {
          const at = Math.floor(rnd() * buf.length);
          buf[at] = rnd() < 0.3 ? 0xff : Math.floor(rnd() * 256);
        }
        if (rnd() < 0.2) buf = buf.subarray(0, Math.floor(rnd() * buf.length));
      }
      try {
        const r = i % 2 ? parseChallenge(buf) : parseAuthenticate(buf);
        parsed++;
        const size = 'targetInfo' in r ? r.targetInfo.length : r.ntChallengeResponse.length;
        expect(size).toBeLessThanOrEqual(buf.length);
      } catch (e) {
        expect(e).toBeInstanceOf(CredgateError);
        expect((e as CredgateError).code).toBe('PROTOCOL_ERROR');
      }
    }
    expect(parsed).toBeGreaterThan(100); // the mutations also hit valid messages
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    expect(() => parseChallenge(Buffer.concat([LAB_CHALLENGE, Buffer.alloc(MAX_NTLM_MESSAGE)]))).toThrow(CredgateError);
  });
});
