// What the client is told to trust: exactly the certificate(s) the preflight verified against
// --rdp-ca-file, or nothing it does not already trust; and what mstsc will warn about.
import { describe, it, expect } from 'vitest';
import { clientTrust, freerdpFingerprint, verifiedCertificates } from '../../../src/launch/client-trust.js';
import { finding, type Finding } from '../../../src/findings/finding.js';
import type { PreflightReport, StepReport } from '../../../src/pipeline/types.js';
import { diagnose } from '../../../src/findings/diagnose.js';

const A = 'AB'.repeat(32);
const B = 'CD'.repeat(32);

function report(endpoint: Finding[], nla: Finding[] = [], cache: Finding[] = []): PreflightReport {
  const step = (name: StepReport['name'], findings: Finding[]): StepReport => ({ name, status: findings.some((f) => f.severity === 'error') ? 'failed' : 'passed', findings, ms: 1, startMs: 0 });
  const all = [...endpoint, ...nla, ...cache];
  const verdict = diagnose(all);
  return { ok: verdict.ok, verdict, headline: '', target: { host: 'web01.example', port: 3389 }, steps: [step('rdp-endpoint', endpoint), step('rdp-nla', nla), step('cache', cache)], timingsMs: {} };
}
const reachable = (sha: string) => finding('rdp-endpoint', 'rdp.reachable', 'ok', 'up', { certificate: { sha256Fingerprint: sha } });
const nlaOk = (sha: string) => finding('rdp-nla', 'rdp.nla-ok', 'ok', 'ok', { certSha256: sha });

describe('the trust the client gets', () => {
  it('FreeRDP 2.11 fingerprints: lower-case, colon-separated', () => {
    expect(freerdpFingerprint('C6E65B' + '0'.repeat(58))).toBe(`c6:e6:5b${':00'.repeat(29)}`);
    expect(() => freerdpFingerprint('C6E6')).toThrow(/verifiedCertificates: not a SHA-256 fingerprint \(4 hex digits, not 64\)/);
  });

  it('verified: the certificate the probe judged and the one NLA bound its proof to, only with a CA bundle and a passing preflight', () => {
    const r = report([reachable(A)], [nlaOk(B)]);
    expect(verifiedCertificates(r, true)).toEqual([A, B]);
    expect(verifiedCertificates(r, false)).toEqual([]);
    const t = clientTrust(r, { caGiven: true, platform: 'linux' });
    expect(t).toMatchObject({ mode: 'verified', verified: [A, B], freerdpArg: `/cert:deny,fingerprint:sha256:${freerdpFingerprint(A)},fingerprint:sha256:${freerdpFingerprint(B)}` });
    expect(t.summary).toContain('accepts only the certificate credgate verified');
    const untrusted = report([reachable(A), finding('rdp-endpoint', 'rdp.cert-untrusted', 'error', 'no', {})]);
    expect(verifiedCertificates(untrusted, true)).toEqual([]);
  });

  it('nothing verified: /cert:deny, so the client never stops to ask on the terminal whose stdin carried the password', () => {
    const t = clientTrust(report([reachable(A)], [nlaOk(A)]), { caGiven: false, platform: 'linux' });
    expect(t).toMatchObject({ mode: 'client', verified: [], freerdpArg: '/cert:deny' });
  });

  it("the caller's /cert argument decides instead, and says so", () => {
    const t = clientTrust(report([reachable(A)]), { caGiven: true, clientArgs: ['/size:800x600', '/cert:ignore'], platform: 'linux' });
    expect(t.mode).toBe('caller');
    expect(t.freerdpArg).toBeUndefined();
    expect(t.summary).toContain('/cert:ignore');
  });

  it('mstsc cannot be pinned: the verdict says when it will warn (self-signed, name mismatch, a changed CertHash)', () => {
    const r = report(
      [reachable(A), finding('rdp-endpoint', 'rdp.cert-self-signed', 'info', 's'), finding('rdp-endpoint', 'rdp.cert-name-mismatch', 'warning', 'n')],
      [nlaOk(A)],
      [finding('cache', 'cache.cert-changed', 'info', 'c')],
    );
    const t = clientTrust(r, { caGiven: true, platform: 'win32' });
    expect(t.freerdpArg).toBeUndefined();
    expect(t.mstsc.map((n) => [n.action, n.code])).toEqual([['warn', 'rdp.cert-self-signed'], ['warn', 'rdp.cert-name-mismatch'], ['warn', 'cache.cert-changed']]);
    expect(t.summary).toMatch(/^mstsc cannot be told which certificate to trust; it will warn: the certificate is self-signed/);
    expect(t.mstsc[0]!.reason).toContain('refuses instead where the policy');
    const ca = clientTrust(report([reachable(A)], [nlaOk(A)]), { caGiven: true, platform: 'win32' });
    expect(ca.mstsc.map((n) => n.code)).toEqual(['windows-trust-store']);
    expect(clientTrust(report([reachable(A)]), { caGiven: false, platform: 'win32' }).summary).toContain('nothing the check saw makes it warn');
  });
});
