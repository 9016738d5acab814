// Known-answer tests for the Kerberos crypto: RFC 3961 n-fold, RFC 3962 string-to-key and
// AES-CTS vectors, MIT's AES encrypt/checksum vectors, MD4 (RFC 1320) and RC4 vectors, the NT
// hash, and RC4-HMAC / AES values cross-checked against an independent implementation (the
// kcrypto module of Samba's own test suite, run once to produce them).
import { describe, it, expect } from 'vitest';
import {
  aesCtsDecrypt,
  aesCtsEncrypt,
  checksum,
  decrypt,
  encrypt,
  nfold,
  s2kIterations,
  stringToKey,
  type KerberosKey,
} from '../../../../src/protocols/kerberos/crypto.js';
import { md4, ntHash } from '../../../../src/protocols/crypto/md4.js';
import { rc4 } from '../../../../src/protocols/crypto/rc4.js';
import { CredgateError } from '../../../../src/core/errors.js';

const h = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const hex = (b: Buffer) => b.toString('hex');

describe('n-fold (RFC 3961 appendix A.1)', () => {
  const vectors: [number, string, string][] = [
    [64, '012345', 'be072631276b1955'],
    [56, 'password', '78a07b6caf85fa'],
    [64, 'Rough Consensus, and Running Code', 'bb6ed30870b7f0e0'],
    [168, 'password', '59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e'],
    [192, 'MASSACHVSETTS INSTITVTE OF TECHNOLOGY', 'db3b0d8f0b061e603282b308a50841229ad798fab9540c1b'],
    [168, 'Q', '518a54a215a8452a518a54a215a8452a518a54a215'],
    [168, 'ba', 'fb25d531ae8974499f52fd92ea9857c4ba24cf297e'],
    [64, 'kerberos', '6b65726265726f73'],
    [128, 'kerberos', '6b65726265726f737b9b5b2b93132b93'],
    [168, 'kerberos', '8372c236344e5f1550cd0747e15d62ca7a5a3bcea4'],
    [256, 'kerberos', '6b65726265726f737b9b5b2b93132b935c9bdcdad95c9899c4cae4dee6d6cae4'],
  ];
  it.each(vectors)('%i-fold(%j)', (bits, input, out) => {
    expect(hex(nfold(Buffer.from(input, 'latin1'), bits / 8))).toBe(out);
  });
});

describe('AES string-to-key (RFC 3962 appendix B)', () => {
  const X64 = 'X'.repeat(64);
  const vectors: [string, string | Buffer, number, string, string][] = [
    ['password', 'ATHENA.MIT.EDUraeburn', 1, '42263c6e89f4fc28b8df68ee09799f15', 'fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161'],
    ['password', 'ATHENA.MIT.EDUraeburn', 2, 'c651bf29e2300ac27fa469d693bdda13', 'a2e16d16b36069c135d5e9d2e25f896102685618b95914b467c67622225824ff'],
    ['password', 'ATHENA.MIT.EDUraeburn', 1200, '4c01cd46d632d01e6dbe230a01ed642a', '55a6ac740ad17b4846941051e1e8b0a7548d93b0ab30a8bc3ff16280382b8c2a'],
    ['password', h('1234567878563412'), 5, 'e9b23d52273747dd5c35cb55be619d8e', '97a4e786be20d81a382d5ebc96d5909cabcdadc87ca48f574504159f16c36e31'],
    [X64, 'pass phrase equals block size', 1200, '59d1bb789a828b1aa54ef9c2883f69ed', '89adee3608db8bc71f1bfbfe459486b05618b70cbae22092534e56c553ba4b34'],
    [X64 + 'X', 'pass phrase exceeds block size', 1200, 'cb8005dc5f90179a7f02104c0018751d', 'd78c5c9cb872a8c9dad4697f0bb5b2d21496c82beb2caeda2112fceea057401b'],
    ['\u{1D11E}', 'EXAMPLE.COMpianist', 50, 'f149c1f2e154a73452d43e7fe62a56e5', '4b6d9839f84406df1f09cc166db4b83c571848b784a3d6bdc346589a3e393f9e'],
  ];
  it.each(vectors)('%j / %j / %i iterations', async (pass, salt, iter, k128, k256) => {
    const s = typeof salt === 'string' ? Buffer.from(salt, 'utf8') : salt;
    const params = Buffer.alloc(4);
    params.writeUInt32BE(iter);
    expect(hex((await stringToKey(17, pass, s, params)).bytes)).toBe(k128);
    expect(hex((await stringToKey(18, pass, s, params)).bytes)).toBe(k256);
  });

  it('uses 4096 iterations without s2kparams and refuses bad or hostile parameters', async () => {
    expect(s2kIterations(undefined)).toBe(4096);
    const salt = Buffer.from('PAMTEST.LOCALkrb-good');
    expect(hex((await stringToKey(18, 'password', salt)).bytes)).toBe('dd07ffbea376ce6ba93762db078ccdc94d232996c8b1b33a34562e12292777d1');
    for (const bad of [h('00'), h('0000000000'), h('00000000'), h('ffffffff')]) {
      expect(() => s2kIterations(bad)).toThrow(CredgateError);
    }
    try {
      s2kIterations(h('ffffffff'));
    } catch (e) {
      expect((e as CredgateError).code).toBe('PROTOCOL_ERROR');
    }
  });

  it('derives AES keys from non-ASCII passwords as UTF-8', async () => {
    const k = await stringToKey(17, 'Pässwörd€\u{1D11E}', Buffer.from('PAMTEST.LOCALkrb-long'), h('00001000'));
    expect(hex(k.bytes)).toBe('aa06e5d5f1018a9d420cc3f896761274');
  });
});

describe('AES-CTS (RFC 3962 appendix B, key "chicken teriyaki")', () => {
  const key = h('636869636b656e207465726979616b69');
  const input = Buffer.from('I would like the General Gau\'s Chicken, please, and wonton soup.', 'latin1');
  const vectors: [number, string][] = [
    [17, 'c6353568f2bf8cb4d8a580362da7ff7f97'],
    [31, 'fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5'],
    [32, '39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584'],
    [47, '97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be7fcbcc98ebf5'],
    [48, '97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5be7fcbcc98ebf5a8'],
    [64, '97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a84807efe836ee89a526730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8'],
  ];
  it.each(vectors)('%i bytes', (len, out) => {
    const plain = input.subarray(0, len);
    expect(hex(aesCtsEncrypt(key, plain))).toBe(out);
    expect(aesCtsDecrypt(key, h(out)).equals(plain)).toBe(true);
  });

  it('round-trips every length from one block to five', () => {
    for (let n = 16; n <= 80; n++) {
      const p = Buffer.alloc(n, n);
      expect(aesCtsDecrypt(key, aesCtsEncrypt(key, p)).equals(p)).toBe(true);
    }
  });
});

describe('AES-CTS-HMAC-SHA1-96 encrypt / checksum', () => {
  it('matches MIT vectors (AES128 usage 2, AES256 usage 4)', () => {
    const k128: KerberosKey = { etype: 17, bytes: h('9062430C8CDA3388922E6D6A509F5B7A') };
    const c1 = encrypt(k128, 2, Buffer.from('9 bytesss'), h('94B491F481485B9A0678CD3C4EA386AD'));
    expect(hex(c1)).toBe('68fb9679601f45c78857b2bf820fd6e53eca8d42fd4b1d7024a09205abb7cd2ec26c355d2f');
    expect(decrypt(k128, 2, c1)?.toString()).toBe('9 bytesss');
    const k256: KerberosKey = { etype: 18, bytes: h('F1C795E9248A09338D82C3F8D5B567040B0110736845041347235B1404231398') };
    const c2 = encrypt(k256, 4, Buffer.from('30 bytes bytes bytes bytes byt'), h('E45CA518B42E266AD98E165E706FFB60'));
    expect(hex(c2)).toBe('d1137a4d634cfece924dbc3bf6790648bd5cff7de0e7b99460211d0daef3d79a295c688858f3b34b9cbd6eebae81daf6b734d4d498b6714f1c1d');
  });

  it('matches MIT checksum vectors', () => {
    expect(hex(checksum({ etype: 17, bytes: h('9062430C8CDA3388922E6D6A509F5B7A') }, 3, Buffer.from('eight nine ten eleven twelve thirteen')).value)).toBe('01a4b088d45628f6946614e3');
    const c = checksum({ etype: 18, bytes: h('B1AE4CD8462AFF1677053CC9279AAC30B796FB81CE21474DD3DDBCFEA4EC76D7') }, 4, Buffer.from('fourteen'));
    expect(hex(c.value)).toBe('e08739e3279e2903ec8e3836');
    expect(c.cksumtype).toBe(16);
  });

  it('matches values from an independent implementation for short, block and long messages', async () => {
    const k = await stringToKey(18, 'password', Buffer.from('PAMTEST.LOCALkrb-good'));
    const conf = h('000102030405060708090a0b0c0d0e0f');
    const cases: [string, string][] = [
      ['', 'f663696a857559ac73ca383923438b25c2a044300f9a70a008bd79a4'],
      ['a', '4a73f3cde128ff86091f3f40d21fa4d9f6b994f1f840eedef6defce392'],
      ['sixteen byte msg', '8edfa42275c6d599ea04e815074fc6f0f663696a857559ac73ca383923438b253a582ceda83ceaab31cef4ff'],
      ['a somewhat longer message of 41 bytes....', 'f663696a857559ac73ca383923438b253a2f0c186873ced997d429689b020e79e6568bae0e52e07c12cf4d85758eeb350b454b754a0fc0b59adb26c5e5046182c336bb4ac0'],
    ];
    for (const [plain, out] of cases) {
      expect(hex(encrypt(k, 3, Buffer.from(plain), conf))).toBe(out);
      expect(decrypt(k, 3, h(out))?.toString()).toBe(plain);
    }
    expect(hex(checksum(k, 6, Buffer.from('checksum me')).value)).toBe('75ed6cb7a847d7b9eb1c9ea1');
  });

  it('returns null for a wrong key, another usage or a flipped bit, and PROTOCOL_ERROR when too short', async () => {
    const k = await stringToKey(18, 'password', Buffer.from('PAMTEST.LOCALkrb-good'));
    const other = await stringToKey(18, 'Password', Buffer.from('PAMTEST.LOCALkrb-good'));
    const c = encrypt(k, 3, Buffer.from('hello kerberos'));
    expect(decrypt(other, 3, c)).toBeNull();
    expect(decrypt(k, 8, c)).toBeNull();
    const flipped = Buffer.from(c);
    flipped[5]! ^= 1;
    expect(decrypt(k, 3, flipped)).toBeNull();
    expect(() => decrypt(k, 3, Buffer.alloc(27))).toThrow(/shorter/);
  });
});

describe('MD4, RC4, NT hash and RC4-HMAC', () => {
  it('MD4 (RFC 1320 appendix A.5)', () => {
    const v: [string, string][] = [
      ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
      ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
      ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
      ['message digest', 'd9130a8164549fe818874806e1c7014b'],
      ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
      ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', 'e33b4ddc9c38f2199c3e7b164fcc0536'],
    ];
    for (const [i, o] of v) expect(hex(md4(Buffer.from(i)))).toBe(o);
  });

  it('RC4 (the classic test vectors)', () => {
    expect(hex(rc4(Buffer.from('Key'), Buffer.from('Plaintext')))).toBe('bbf316e8d940af0ad3');
    expect(hex(rc4(Buffer.from('Wiki'), Buffer.from('pedia')))).toBe('1021bf0420');
    expect(hex(rc4(Buffer.from('Secret'), Buffer.from('Attack at dawn')))).toBe('45a01f645fc35b383552544b9bf5');
  });

  it('NT hash (RC4-HMAC string-to-key)', async () => {
    expect(hex(ntHash('password'))).toBe('8846f7eaee8fb117ad06bdd830b7586c');
    expect(hex(ntHash(''))).toBe('31d6cfe0d16ae931b73c59d7e0c089c0');
    expect(hex(ntHash('Pässwörd€\u{1D11E}'))).toBe('b5a75471510589f07797372cbd3fc06a');
    expect(hex((await stringToKey(23, 'password', Buffer.from('ignored'))).bytes)).toBe('8846f7eaee8fb117ad06bdd830b7586c');
  });

  it('RC4-HMAC encrypt / decrypt / checksum (AS-REP part sealed with message type 8)', async () => {
    const k = await stringToKey(23, 'password', Buffer.alloc(0));
    const conf = h('0102030405060708');
    const plain = Buffer.from('kerberos plain text');
    const cases: [number, string][] = [
      [1, '48395c60b95f357daa787ff4e61059f937669e98b66c651f1e29404cfe8e66443844b0050931cf3dffe6c3'],
      [3, '34bac0b5196e09d09ccab7fdf54c0e19aec4b47f94e74167e0486ce1d7e54bca296eff518e5d42d94aac36'],
      [7, '4dcc017de709594771c2df664af833355d51b5325002c7a424edddc2c9f3df275c62c0399c6c55202c2a2a'],
      [8, '34bac0b5196e09d09ccab7fdf54c0e19aec4b47f94e74167e0486ce1d7e54bca296eff518e5d42d94aac36'],
    ];
    for (const [usage, out] of cases) {
      expect(hex(encrypt(k, usage, plain, conf))).toBe(out);
      expect(decrypt(k, usage, h(out))?.equals(plain)).toBe(true);
    }
    // usage 9 (TGS-REP with a subkey) is also accepted when the KDC sealed it with 8
    expect(decrypt(k, 9, h(cases[3]![1]))?.equals(plain)).toBe(true);
    expect(decrypt(k, 1, h(cases[1]![1]))).toBeNull();
    expect(hex(checksum(k, 6, Buffer.from('checksum me')).value)).toBe('ad6c528aa9aeabea875cda233374551f');
    expect(checksum(k, 6, Buffer.from('x')).cksumtype).toBe(-138);
    expect(() => decrypt(k, 3, Buffer.alloc(23))).toThrow(/shorter/);
  });
});
