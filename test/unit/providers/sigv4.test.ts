// SigV4 against AWS's published aws-sig-v4-test-suite vectors (credential AKIDEXAMPLE /
// wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830T123600Z, us-east-1, service "service",
// host example.amazonaws.com) and the General Reference's IAM example. Each case asserts the
// published Authorization header, so the canonical request is proved byte for byte.
import { describe, it, expect } from 'vitest';
import crypto from 'node:crypto';
import { signRequest, signingKey, canonicalPath, uriEncode } from '../../../src/providers/sigv4.js';

const KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const sign = (method: string, target: string, headers: Record<string, string> = {}, body = '', sessionToken?: string) =>
  signRequest({ method, url: `https://example.amazonaws.com${target}`, headers, body, region: 'us-east-1', service: 'service', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: KEY, amzDate: '20150830T123600Z', ...(sessionToken ? { sessionToken } : {}) });
const auth = (signed: string, sig: string) => `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${signed}, Signature=${sig}`;

const VECTORS: Array<[name: string, method: string, target: string, headers: Record<string, string>, body: string, signed: string, signature: string]> = [
  ['get-vanilla', 'GET', '/', {}, '', 'host;x-amz-date', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
  ['get-unreserved', 'GET', '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', {}, '', 'host;x-amz-date', '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f'],
  ['get-slashes', 'GET', '//example//', {}, '', 'host;x-amz-date', '9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84'],
  ['get-vanilla-query-order-key-case', 'GET', '/?Param2=value2&Param1=value1', {}, '', 'host;x-amz-date', 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500'],
  ['get-vanilla-query-order-value', 'GET', '/?Param1=value2&Param1=value1', {}, '', 'host;x-amz-date', '5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694'],
  ['get-vanilla-utf8-query', 'GET', '/?\u1234=bar', {}, '', 'host;x-amz-date', '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04'],
  ['get-header-value-order', 'GET', '/', { 'My-Header1': 'value4,value1,value3,value2' }, '', 'host;my-header1;x-amz-date', '08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01'],
  ['get-header-key-duplicate', 'GET', '/', { 'My-Header1': 'value2,value2,value1' }, '', 'host;my-header1;x-amz-date', 'c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea'],
  ['get-header-value-trim', 'GET', '/', { 'My-Header1': ' value1', 'My-Header2': '"a   b   c"' }, '', 'host;my-header1;my-header2;x-amz-date', 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736'],
  ['post-x-www-form-urlencoded', 'POST', '/', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'Param1=value1', 'content-type;host;x-amz-date', 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a'],
];

describe('SigV4: the aws-sig-v4-test-suite vectors', () => {
  for (const [name, method, target, headers, body, signed, sig] of VECTORS) {
    it(name, () => {
      expect(sign(method, target, headers, body).headers.authorization).toBe(auth(signed, sig));
    });
  }

  it('get-vanilla: canonical request and string to sign as published', () => {
    const r = sign('GET', '/');
    expect(r.canonicalRequest).toBe('GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(r.stringToSign).toBe(`AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n${crypto.createHash('sha256').update(r.canonicalRequest).digest('hex')}`);
    expect(r.stringToSign.split('\n')[3]).toBe('bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63');
  });

  it('a session token is signed as x-amz-security-token and sent', () => {
    const token = '6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267';
    const r = sign('GET', '/', {}, '', token);
    expect(r.headers.authorization).toBe(auth('host;x-amz-date;x-amz-security-token', '07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8'));
    expect(r.headers['x-amz-security-token']).toBe(token);
  });

  it('canonical paths of the normalize-path, get-space and get-utf8 cases', () => {
    expect(canonicalPath('/example space/')).toBe('/example%20space/');
    expect(canonicalPath('/\u1234')).toBe('/%E1%88%B4');
    expect(canonicalPath('/%E1%88%B4')).toBe('/%E1%88%B4');
    expect(canonicalPath('/example/..')).toBe('/');
    expect(canonicalPath('/example1/example2/../..')).toBe('/');
    expect(canonicalPath('/./')).toBe('/');
    expect(canonicalPath('/./example')).toBe('/example');
    expect(canonicalPath('')).toBe('/');
    expect(sign('GET', '/example%20space/').canonicalRequest.split('\n')[1]).toBe('/example%20space/');
  });

  it('General Reference example: IAM ListUsers and its signing key', () => {
    expect(signingKey(KEY, '20150830', 'us-east-1', 'iam').toString('hex')).toBe('c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9');
    const r = signRequest({ method: 'GET', url: 'https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08', headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: '', region: 'us-east-1', service: 'iam', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: KEY, amzDate: '20150830T123600Z' });
    expect(r.signature).toBe('5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
  });

  it('RFC 3986 encoding: unreserved kept, everything else %XX upper-case, UTF-8 byte by byte', () => {
    expect(uriEncode('a b+c/d~e*f=')).toBe('a%20b%2Bc%2Fd~e%2Af%3D');
    expect(uriEncode('\u00e9')).toBe('%C3%A9');
  });
});
