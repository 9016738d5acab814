// Certificate analysis on real certificates made by the lab PKI (openssl), and on the lab RDP
// servers' own certificates. Thumbprints are checked against openssl's own output.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { certInfo, certMatchesHost, chainTrusted, verifyChain } from '../../../src/protocols/rdp/cert.js';
import { analyseCertificate } from '../../../src/checks/rdp-cert.js';
import { CredgateError } from '../../../src/core/errors.js';
import { diagnose } from '../../../src/findings/diagnose.js';
import { makeCA, makeSubCA, issueCert, type LabCA } from '../../lab/pki.mjs';
import { labPart } from '../../lab/state.js';

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


describe('analyseCertificate', () => {
  it('the lab\'s expired self-signed RSA certificate: expired + self-signed, remediation names the renewal and TermService', () => {
    const rdp = labPart<{ expired: { certFile: string; sha1: string } }>('rdp');
    const a = analyseCertificate(der(rdp.expired.certFile), { host: 'expired.rdp.test' });
    expect(codes(a)).toEqual(['rdp.cert-expired', 'rdp.cert-self-signed']);
    const f = a.findings[0]!;
    expect(f.severity).toBe('error');
    expect(f.message).toContain('2021-01-01');
    expect(f.message).toContain(rdp.expired.sha1);
    expect(f.evidence).toMatchObject({ notAfter: '2021-01-01T00:00:00.000Z', notBefore: '2020-01-01T00:00:00.000Z', sha1Thumbprint: rdp.expired.sha1, key: 'rsa 2048' });
    expect(f.remediation[0]!.action).toMatch(/Renew the Remote Desktop certificate.*TermService/);
    expect(f.remediation[1]!.action).toContain('certlm.msc');
    expect(a.findings.every((x) => x.source === 'rdp-endpoint')).toBe(true);
  });




});
