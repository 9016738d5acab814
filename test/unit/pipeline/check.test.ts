// runCheck with a KDC (a fake one on loopback) and an RDP host that is a closed loopback port: the
// KDC is tried first, NLA only after it accepted the password; a pass carries the logon-right note.
import { describe, it, expect, afterEach } from 'vitest';
import { runCheck } from '../../../src/pipeline/check.js';
import { Secret } from '../../../src/core/secret.js';
import { PASSWORD, startFakeKdc, stopFakeKdcs } from '../../helpers/fake-kdc.js';
import { closedPort } from '../../helpers/servers.js';

afterEach(stopFakeKdcs);
const cred = (password = PASSWORD) => ({ username: 'alice@pamtest.local', password: new Secret(password) });

describe('runCheck with a KDC', () => {
  it('the KDC alone: krb.ok and the note on what it did not prove', async () => {
    const kdc = await startFakeKdc();
    const r = await runCheck({ credential: cred(), kerberos: { kdc: [kdc.label] }, timeoutMs: 4000 });
    expect(r.findings.map((f) => f.code)).toEqual(['krb.ok', 'rdp.logon-right-not-checked']);
    expect(r.timingsMs.kerberos).toBeGreaterThan(0);
  });

  it('the KDC accepted: NLA is tried next (here a closed port: net.refused), and the SPN of the --rdp host is looked up', async () => {
    const kdc = await startFakeKdc();
    const port = await closedPort();
    const r = await runCheck({ credential: cred(), kerberos: { kdc: [kdc.label] }, rdp: { target: `127.0.0.1:${port}` }, timeoutMs: 4000 });
    expect(r.findings.map((f) => f.code)).toEqual(['krb.ok', 'krb.no-spn', 'net.refused']);
    expect(kdc.count('tgs')).toBe(2); // TERMSRV/127.0.0.1 and HOST/127.0.0.1
  });

  it('the KDC refused: NLA is not attempted, and says why', async () => {
    const kdc = await startFakeKdc({ password: 'Another-Password-4' });
    const port = await closedPort();
    const r = await runCheck({ credential: cred(), kerberos: { kdc: [kdc.label], spnHosts: false }, rdp: { target: `127.0.0.1:${port}` }, timeoutMs: 4000 });
    expect(r.findings.map((f) => f.code)).toEqual(['krb.invalid-credentials', 'not-checked']);
    expect(r.findings[1]).toMatchObject({ evidence: { step: 'rdp-nla', because: 'krb.invalid-credentials' } });
    expect(r.findings[1]!.message).toContain('the KDC already rejected the credential');
    expect(r.timingsMs.rdpNla).toBeUndefined();
  });

  it('an unreachable KDC stops NLA too: no try is made after a try that did not accept the password', async () => {
    const [k, p] = [await closedPort(), await closedPort()];
    const r = await runCheck({ credential: cred(), kerberos: { kdc: [`127.0.0.1:${k}`] }, rdp: { target: `127.0.0.1:${p}` }, timeoutMs: 4000 });
    expect(r.findings.map((f) => f.code)).toEqual(['net.refused', 'not-checked']);
    expect(r.findings[1]!.evidence.because).toBe('net.refused');
  });
});
