// Certificate analysis on the lab RDP server's own expired certificate (the unit tier covers
// certificates made by the lab PKI: test/unit/protocols/rdp/cert.test.ts).
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { analyseCertificate } from '../../../src/checks/rdp-cert.js';
import { labPart } from '../../lab/state.js';

const der = (file: string) => new crypto.X509Certificate(fs.readFileSync(file)).raw;
const codes = (a: { findings: { code: string }[] }) => a.findings.map((f) => f.code);

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
