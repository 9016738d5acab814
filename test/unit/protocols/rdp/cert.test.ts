// Certificate analysis on real certificates made by the lab PKI (openssl; no lab server needed).
// Thumbprints are checked against openssl's own output. The lab RDP server's own certificate:
// test/integration/checks/rdp-cert.test.ts.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { certInfo, certMatchesHost, chainTrusted, verifyChain } from '../../../../src/protocols/rdp/cert.js';
import { analyseCertificate } from '../../../../src/checks/rdp-cert.js';
import { CredgateError } from '../../../../src/core/errors.js';
import { diagnose } from '../../../../src/findings/diagnose.js';
import { makeCA, makeSubCA, issueCert, type LabCA } from '../../../lab/pki.mjs';

const der = (file: string) => new crypto.X509Certificate(fs.readFileSync(file)).raw;
const codes = (a: { findings: { code: string }[] }) => a.findings.map((f) => f.code);
const opensslFingerprint = (file: string, alg: string) =>
  execFileSync('openssl', ['x509', '-in', file, '-noout', '-fingerprint', `-${alg}`], { encoding: 'utf8' }).trim().split('=')[1]!.replace(/:/g, '');

let dir: string;
let ca: LabCA;
let caPem: Buffer;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-cert-'));
  ca = await makeCA(path.join(dir, 'root'), { cn: 'test root CA', keyType: 'ec' });
  caPem = fs.readFileSync(ca.cert);
}, 30_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('certInfo (node-forge)', () => {
  it('reads RSA and EC certificates: names, SANs (DNS, IPv4, IPv6), dates, key, signature, serial, thumbprints as openssl prints them', async () => {
    const c = await issueCert(ca, 'rsa', { cn: 'rdp01.corp.test', sans: ['DNS:rdp01.corp.test', 'DNS:*.farm.corp.test', 'IP:10.1.2.3', 'IP:2001:db8::5'], keyType: 'rsa' });
    const i = certInfo(der(c.cert));
    expect(i).toMatchObject({
      subject: 'CN=rdp01.corp.test, O=credgate lab', issuer: 'CN=test root CA, O=credgate lab', commonName: 'rdp01.corp.test',
      dnsNames: ['rdp01.corp.test', '*.farm.corp.test'], ipAddresses: ['10.1.2.3', '2001:db8::5'],
      keyType: 'rsa', keyBits: 2048, signatureAlgorithm: 'ecdsa-with-SHA256', selfSigned: false, isCA: false,
    });
    expect(i.sha1Thumbprint).toBe(opensslFingerprint(c.cert, 'sha1'));
    expect(i.sha1Thumbprint).toMatch(/^[0-9A-F]{40}$/);
    expect(i.sha256Fingerprint).toBe(opensslFingerprint(c.cert, 'sha256'));
    const serial = execFileSync('openssl', ['x509', '-in', c.cert, '-noout', '-serial'], { encoding: 'utf8' }).trim().split('=')[1];
    expect(i.serialNumber).toBe(serial);
    const x = new crypto.X509Certificate(fs.readFileSync(c.cert));
    expect(i.notAfter.getTime()).toBe(new Date(x.validTo).getTime());
    expect(i.notBefore.getTime()).toBe(new Date(x.validFrom).getTime());
    const root = certInfo(der(ca.cert));
    expect(root).toMatchObject({ selfSigned: true, isCA: true, keyType: 'ec', keyBits: 256 });
  });

  it('garbage is PROTOCOL_ERROR, never another exception (bounded mutation fuzz)', async () => {
    const c = await issueCert(ca, 'fuzz', { cn: 'fuzz.test', sans: ['DNS:fuzz.test'] });
    const good = der(c.cert);
    let seed = 0xc0ffee;
    const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    let parsed = 0;
    for (let i = 0; i < 1500; i++) {
      const b = Buffer.from(good);
      for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      const input = rnd() < 0.2 ? b.subarray(0, Math.floor(rnd() * b.length)) : b;
      try {
        certInfo(input);
        parsed++;
      } catch (e) {
        expect(e).toBeInstanceOf(CredgateError);
        expect((e as CredgateError).code).toBe('PROTOCOL_ERROR');
      }
    }
    expect(parsed).toBeGreaterThan(0);
    expect(() => certInfo(Buffer.from('HTTP/1.1 200 OK\r\n'))).toThrow(CredgateError);
  });
});

describe('analyseCertificate', () => {

  it('validity window: not yet valid, expiring within N days (warning), the expiringDays threshold and a given clock', async () => {
    const soon = der((await issueCert(ca, 'soon', { cn: 'soon.test', sans: ['DNS:soon.test'], notAfter: new Date(Date.now() + 10 * 86400e3) })).cert);
    const w = analyseCertificate(soon, { host: 'soon.test', ca: [caPem] });
    expect(codes(w)).toEqual(['rdp.cert-expiring']);
    expect(w.findings[0]!.severity).toBe('warning');
    expect(w.findings[0]!.message).toMatch(/expires in (9|10) day/);
    expect(codes(analyseCertificate(soon, { host: 'soon.test', ca: [caPem], expiringDays: 5 }))).toEqual([]);
    expect(codes(analyseCertificate(soon, { host: 'soon.test', now: new Date(Date.now() + 11 * 86400e3) }))).toEqual(['rdp.cert-expired']);
    const future = der((await issueCert(ca, 'future', { cn: 'future.test', sans: ['DNS:future.test'], notBefore: new Date(Date.now() + 5 * 86400e3), notAfter: new Date(Date.now() + 50 * 86400e3) })).cert);
    const nv = analyseCertificate(future, { host: 'future.test' });
    expect(codes(nv)).toEqual(['rdp.cert-not-yet-valid']);
    expect(nv.findings[0]!.remediation[0]!.action).toContain('clock');
  });

  it('host names: DNS SAN, one-label wildcard, IPv4 and IPv6 SANs, CN only when there is no DNS SAN', async () => {
    const d = der((await issueCert(ca, 'names', { cn: 'cn-only.test', sans: ['DNS:ok.test', 'DNS:*.wild.test', 'IP:10.1.2.3', 'IP:2001:db8::5'] })).cert);
    for (const h of ['ok.test', 'OK.TEST', 'ok.test.', 'x.wild.test', '10.1.2.3', '2001:db8::5', '[2001:db8:0::5]']) expect(certMatchesHost(d, h)).toBe(true);
    for (const h of ['cn-only.test', 'a.b.wild.test', 'wild.test', '10.1.2.4', '::1', 'other.test']) expect(certMatchesHost(d, h)).toBe(false);
    // with a CA the caller asked for a verified certificate: a mismatch is an error with its own code (exit 4)
    const m = analyseCertificate(d, { host: 'other.test', ca: [caPem] });
    expect(codes(m)).toEqual(['rdp.cert-name-mismatch-ca']);
    expect(m.findings[0]!.severity).toBe('error');
    expect(m.findings[0]!.message).toContain('SAN ok.test, *.wild.test, 10.1.2.3, 2001:db8::5');
    expect(m.findings[0]!.remediation[0]!.action).toMatch(/subjectAltName.*TermService/);
    expect(diagnose(m.findings).exitCode).toBe(4);
    // without a CA: the same mismatch is a warning and does not fail
    const w = analyseCertificate(d, { host: 'other.test' });
    expect(codes(w)).toEqual(['rdp.cert-name-mismatch']);
    expect(w.findings[0]!.severity).toBe('warning');
    expect(diagnose(w.findings).exitCode).toBe(0);
    const cnOnly = der((await issueCert(ca, 'cnonly', { cn: 'legacy.test' })).cert);
    expect(certMatchesHost(cnOnly, 'legacy.test')).toBe(true);
    expect(certMatchesHost(cnOnly, '127.0.0.1')).toBe(false);
  });

  it('trust: right CA, wrong CA, missing and expired intermediates, a leaf posing as CA, a pinned self-signed certificate', async () => {
    const leaf = der((await issueCert(ca, 'leaf', { cn: 'leaf.test', sans: ['DNS:leaf.test'] })).cert);
    expect(verifyChain(leaf, [caPem])).toEqual({ trusted: true, chain: ['CN=leaf.test, O=credgate lab', 'CN=test root CA, O=credgate lab'] });
    const other = await makeCA(path.join(dir, 'other'), { cn: 'other CA' });
    const u = analyseCertificate(leaf, { host: 'leaf.test', ca: [fs.readFileSync(other.cert)] });
    expect(codes(u)).toEqual(['rdp.cert-untrusted']);
    expect(u.findings[0]!.severity).toBe('error');
    expect(diagnose(u.findings)).toMatchObject({ ok: false, code: 'rdp.cert-untrusted', exitCode: 4 });
    expect(u.findings[0]!.evidence.chainError).toBe('no certificate in the CA bundle issued "CN=leaf.test\nO=credgate lab"'.replace('\n', ', '));
    expect(u.findings[0]!.remediation[0]!.action).toMatch(/Deploy the issuing CA/);

    const sub = await makeSubCA(ca, path.join(dir, 'sub'), { cn: 'test issuing CA' });
    const viaSub = der((await issueCert(sub, 'viasub', { cn: 'sub.test', sans: ['DNS:sub.test'] })).cert);
    expect(chainTrusted(viaSub, [caPem])).toBe(false);
    expect(verifyChain(viaSub, [Buffer.concat([caPem, fs.readFileSync(sub.cert)])]).chain).toHaveLength(3);
    expect(chainTrusted(viaSub, [caPem, fs.readFileSync(sub.cert)])).toBe(true);

    const oldSub = await makeSubCA(ca, path.join(dir, 'oldsub'), { cn: 'expired issuing CA', notBefore: new Date(Date.now() - 400 * 86400e3), notAfter: new Date(Date.now() - 86400e3) });
    const viaOld = der((await issueCert(oldSub, 'viaold', { cn: 'old.test', sans: ['DNS:old.test'] })).cert);
    expect(verifyChain(viaOld, [caPem, fs.readFileSync(oldSub.cert)]).reason).toMatch(/expired issuing CA.*outside its validity/);

    // a leaf certificate used to sign another: not a CA
    const fakeIssuer = { dir: path.join(dir, 'fake'), cert: '', key: '' };
    const pretender = await issueCert(ca, 'pretender', { cn: 'pretender.test' });
    fs.cpSync(path.join(dir, 'sub'), fakeIssuer.dir, { recursive: true });
    fs.writeFileSync(path.join(fakeIssuer.dir, 'ca.cnf'), fs.readFileSync(path.join(dir, 'sub', 'ca.cnf'), 'utf8').replaceAll(path.join(dir, 'sub'), fakeIssuer.dir));
    fakeIssuer.cert = pretender.cert;
    fakeIssuer.key = pretender.key;
    const viaLeaf = der((await issueCert(fakeIssuer, 'vialeaf', { cn: 'victim.test', sans: ['DNS:victim.test'] })).cert);
    expect(verifyChain(viaLeaf, [caPem, fs.readFileSync(pretender.cert)]).reason).toMatch(/pretender\.test.*is not a CA certificate/);

    const self = await issueCert(ca, 'self', { cn: 'self.test', sans: ['DNS:self.test'], keyType: 'rsa', selfSigned: true });
    const s = der(self.cert);
    expect(codes(analyseCertificate(s, { host: 'self.test' }))).toEqual(['rdp.cert-self-signed']);
    expect(codes(analyseCertificate(s, { host: 'self.test', ca: [caPem] }))).toEqual(['rdp.cert-self-signed', 'rdp.cert-untrusted']);
    expect(codes(analyseCertificate(s, { host: 'self.test', ca: [fs.readFileSync(self.cert)] }))).toEqual(['rdp.cert-self-signed']);
    expect(verifyChain(s, [fs.readFileSync(self.cert)])).toMatchObject({ trusted: true, pinned: true });
    // a pinned certificate proves the host's identity whatever names it carries: a mismatch stays a warning
    const pinned = analyseCertificate(s, { host: 'other.test', ca: [fs.readFileSync(self.cert)] });
    expect(codes(pinned)).toEqual(['rdp.cert-self-signed', 'rdp.cert-name-mismatch']);
    expect(pinned.findings[1]).toMatchObject({ severity: 'warning', evidence: { pinned: true } });
    expect(diagnose(pinned.findings).exitCode).toBe(0);
    // the same certificate with an unrelated CA: untrusted and, verified, a name mismatch: both errors
    expect(codes(analyseCertificate(s, { host: 'other.test', ca: [caPem] }))).toEqual(['rdp.cert-self-signed', 'rdp.cert-untrusted', 'rdp.cert-name-mismatch-ca']);
  }, 30_000);

  it('weak: an RSA 1024-bit key and a SHA-1 signature; a healthy certificate has no finding at all', async () => {
    const d = der((await issueCert(ca, 'weak', { cn: 'weak.test', sans: ['DNS:weak.test'], keyType: 'rsa1024', md: 'sha1' })).cert);
    const a = analyseCertificate(d, { host: 'weak.test', ca: [caPem] });
    expect(codes(a)).toEqual(['rdp.cert-weak']);
    expect(a.findings[0]!.message).toBe("The host's RDP certificate is weak: RSA 1024-bit key, ecdsa-with-SHA1 signature.");
    expect(a.info.keyBits).toBe(1024);
    const ok = der((await issueCert(ca, 'healthy', { cn: 'healthy.test', sans: ['DNS:healthy.test'], keyType: 'rsa' })).cert);
    expect(analyseCertificate(ok, { host: 'healthy.test', ca: [caPem] }).findings).toEqual([]);
  });
});
