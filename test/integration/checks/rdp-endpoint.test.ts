// The RDP probe against the lab's real FreeRDP servers, and against small local peers on
// 127.0.0.1 / ::1 that are not (proper) RDP servers: refused, never answers, HTTP, closes after
// one byte, a huge TPKT length, each RDP_NEG_FAILURE code as exact bytes, a broken TLS.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import net from 'node:net';
import { probeRdp, probeRdpEndpoint } from '../../../src/checks/rdp-endpoint.js';
import { rdpFaultFinding } from '../../../src/findings/faults.js';
import { CredgateError } from '../../../src/core/errors.js';
import { diagnose, causeOf } from '../../../src/findings/diagnose.js';
import { labPart } from '../../lab/state.js';
import { closedPort, silentServer, UNRESOLVABLE_HOST } from '../../helpers/servers.js';
import { fakeServer, negFailure, CC_LEGACY, type Fake } from '../../helpers/rdp-fakes.js';

interface RdpState { host: string; caFile: string; nla: { port: number; certFile: string }; expired: { port: number; sha1: string; sha256: string }; valid: { port: number; sha1: string; sha256: string } }
let rdp: RdpState;
beforeAll(() => {
  rdp = labPart<RdpState>('rdp');
});
const codes = (r: { findings: { code: string }[] }) => r.findings.map((f) => f.code);

describe('against the lab FreeRDP servers', () => {
  it('NLA server: reachable (HYBRID), NLA required, its auto-made self-signed certificate (CN=hostname) not issued for 127.0.0.1', async () => {
    const r = await probeRdp({ host: '127.0.0.1', port: rdp.nla.port, timeoutMs: 8000 });
    expect(codes(r)).toEqual(['rdp.reachable', 'rdp.nla-required', 'rdp.cert-self-signed', 'rdp.cert-name-mismatch']);
    expect(r.nlaRequired).toBe(true);
    expect(r.selectedProtocol).toBe(2);
    expect(r.findings.every((f) => f.source === 'rdp-endpoint')).toBe(true);
    const ev = r.findings[0]!.evidence;
    expect(ev).toMatchObject({ selectedProtocol: 'HYBRID', addresses: ['127.0.0.1'], address: '127.0.0.1', nlaRequired: true, flags: ['EXTENDED_CLIENT_DATA_SUPPORTED', 'DYNVC_GFX_PROTOCOL_SUPPORTED'] });
    expect(ev.tlsProtocol).toMatch(/^TLSv1\.[23]$/);
    expect(ev.certificate).toMatchObject({ selfSigned: true, key: 'rsa 2048', sha1Thumbprint: r.sha1Thumbprint });
    expect(Object.keys(r.timings)).toEqual(expect.arrayContaining(['dns', 'tcp', 'x224', 'tls', 'total']));
    // no CA given: self-signed is informational, the name mismatch a warning, and the verdict ok (exit 0), as mstsc users accept it
    expect(r.findings.map((f) => f.severity)).toEqual(['ok', 'info', 'info', 'warning']);
    expect(diagnose(r.findings)).toMatchObject({ ok: true, code: 'rdp.reachable', exitCode: 0 });
  });

  it('NLA server with a CA: outside the lab CA it is untrusted and not issued for 127.0.0.1 (exit 4); its own certificate as the bundle pins it (exit 0)', async () => {
    const r = await probeRdp({ host: '127.0.0.1', port: rdp.nla.port, caFile: rdp.caFile, timeoutMs: 8000 });
    expect(codes(r)).toEqual(['rdp.reachable', 'rdp.nla-required', 'rdp.cert-self-signed', 'rdp.cert-untrusted', 'rdp.cert-name-mismatch-ca']);
    expect(r.findings.slice(3).map((f) => f.severity)).toEqual(['error', 'error']);
    expect(r.findings[3]!.remediation[0]!.action).toMatch(/Replace the self-signed RDP certificate/);
    expect(r.findings[4]!.evidence).toMatchObject({ verifiedAgainstCa: true });
    expect(diagnose(r.findings)).toMatchObject({ ok: false, code: 'rdp.cert-untrusted', exitCode: 4 });
    const pinned = await probeRdp({ host: '127.0.0.1', port: rdp.nla.port, caFile: rdp.nla.certFile, timeoutMs: 8000 });
    expect(codes(pinned)).toEqual(['rdp.reachable', 'rdp.nla-required', 'rdp.cert-self-signed', 'rdp.cert-name-mismatch']);
    expect(pinned.findings[3]).toMatchObject({ severity: 'warning', evidence: { pinned: true } });
    expect(pinned.findings[3]!.message).toContain('pinned certificate');
    expect(diagnose(pinned.findings).exitCode).toBe(0);
  });

  it('the expired self-signed certificate: rdp.cert-expired with subject, dates and both thumbprints; exit category unreachable', async () => {
    const r = await probeRdp({ host: '127.0.0.1', port: rdp.expired.port, timeoutMs: 8000 });
    expect(codes(r)).toEqual(['rdp.reachable', 'rdp.cert-expired', 'rdp.cert-self-signed']);
    const f = r.findings[1]!;
    expect(f.evidence).toMatchObject({
      subject: 'CN=expired.rdp.test, O=credgate lab', issuer: 'CN=expired.rdp.test, O=credgate lab',
      notBefore: '2020-01-01T00:00:00.000Z', notAfter: '2021-01-01T00:00:00.000Z', sha1Thumbprint: rdp.expired.sha1, sha256Fingerprint: rdp.expired.sha256,
      tlsAuthorizationError: 'CERT_HAS_EXPIRED',
    });
    expect(f.remediation[0]!.action).toMatch(/Renew the Remote Desktop certificate.*TermService/);
    expect(r.sha1Thumbprint).toBe(rdp.expired.sha1);
    expect(r.nlaRequired).toBe(false);
    expect(r.findings[0]!.evidence.selectedProtocol).toBe('SSL');
    const v = diagnose(r.findings);
    expect([v.ok, v.code, v.exitCode]).toEqual([false, 'rdp.cert-expired', 4]);
  });

  it('the lab-CA certificate: healthy by IP and by a SAN name with the CA; untrusted with another CA; name mismatch by a name not on it', async () => {
    const ok = await probeRdp({ host: '127.0.0.1', port: rdp.valid.port, caFile: rdp.caFile, timeoutMs: 8000 });
    expect(codes(ok)).toEqual(['rdp.reachable']);
    expect(ok.findings[0]!.evidence.certificate).toMatchObject({ issuer: 'CN=credgate lab CA (rdp), O=credgate lab', sha1Thumbprint: rdp.valid.sha1, sha256Fingerprint: rdp.valid.sha256 });
    expect(diagnose(ok.findings).exitCode).toBe(0);
    const byName = await probeRdp({ host: 'localhost', port: rdp.valid.port, caFile: rdp.caFile, timeoutMs: 8000 });
    expect(codes(byName)).toEqual(['rdp.reachable']);
    expect((byName.findings[0]!.evidence.dns as { addresses: unknown[] }).addresses).toContainEqual({ address: '127.0.0.1', family: 4 });
    const other = labPart<{ caFile: string }>('samba').caFile;
    const untrusted = await probeRdp({ host: '127.0.0.1', port: rdp.valid.port, caFile: other, timeoutMs: 8000 });
    expect(codes(untrusted)).toEqual(['rdp.reachable', 'rdp.cert-untrusted']);
    expect(untrusted.findings[1]!.severity).toBe('error');
    expect(untrusted.findings[1]!.remediation[0]!.action).toMatch(/Deploy the issuing CA/);
    // the caller gave a CA: a certificate outside it fails like check's tls.untrusted (exit 4)
    expect(diagnose(untrusted.findings)).toMatchObject({ ok: false, code: 'rdp.cert-untrusted', exitCode: 4 });
    // a name that is not on the certificate, connected on 127.0.0.1 without DNS (addresses = curl --resolve)
    const mismatch = await probeRdp({ host: 'rdp-old.pamtest.local', addresses: ['127.0.0.1'], port: rdp.valid.port, caFile: rdp.caFile, timeoutMs: 8000 });
    expect(codes(mismatch)).toEqual(['rdp.reachable', 'rdp.cert-name-mismatch-ca']);
    expect(mismatch.findings[1]!.severity).toBe('error');
    expect(diagnose(mismatch.findings)).toMatchObject({ ok: false, code: 'rdp.cert-name-mismatch-ca', exitCode: 4 });
    expect(mismatch.addresses).toEqual(['127.0.0.1']);
    // the same name without a CA: reported as a warning, not a failure
    const unverified = await probeRdp({ host: 'rdp-old.pamtest.local', addresses: ['127.0.0.1'], port: rdp.valid.port, timeoutMs: 8000 });
    expect(codes(unverified)).toEqual(['rdp.reachable', 'rdp.cert-name-mismatch']);
    expect(unverified.findings[1]!.severity).toBe('warning');
    expect(diagnose(unverified.findings).exitCode).toBe(0);
    // and the right name through the same address is healthy
    expect(codes(await probeRdp({ host: 'rdp.pamtest.local', addresses: ['127.0.0.1'], port: rdp.valid.port, caFile: rdp.caFile, timeoutMs: 8000 }))).toEqual(['rdp.reachable']);
    await expect(probeRdp({ host: 'rdp.pamtest.local', addresses: ['rdp.pamtest.local'], port: rdp.valid.port })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('addresses') });
    expect(mismatch.findings[1]!.message).toContain('SAN rdp.pamtest.local, localhost, 127.0.0.1');
  });

  it('expiringDays: the valid certificate (one year left) warns with a 400-day threshold', async () => {
    const r = await probeRdp({ host: '127.0.0.1', port: rdp.valid.port, caFile: rdp.caFile, expiringDays: 400, timeoutMs: 8000 });
    expect(codes(r)).toEqual(['rdp.reachable', 'rdp.cert-expiring']);
    expect(diagnose(r.findings).exitCode).toBe(0);
  });

  it('probeRdpEndpoint is the validator shape; a caller abort throws ABORTED', async () => {
    expect(codes({ findings: await probeRdpEndpoint({ host: '127.0.0.1', port: rdp.expired.port, timeoutMs: 8000 }) })).toContain('rdp.cert-expired');
    const ac = new AbortController();
    ac.abort();
    await expect(probeRdp({ host: '127.0.0.1', port: rdp.nla.port, signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    const silent = await silentServer();
    try {
      const ac2 = new AbortController();
      setTimeout(() => ac2.abort(), 50);
      await expect(probeRdp({ host: '127.0.0.1', port: silent.port, signal: ac2.signal, timeoutMs: 5000 })).rejects.toBeInstanceOf(CredgateError);
    } finally {
      await silent.close();
    }
  });
});

describe('unreachable and non-RDP peers', () => {
  const fakes: Fake[] = [];
  afterAll(async () => {
    for (const f of fakes) await f.close();
  });
  const fake = async (reply: (b: Buffer) => Buffer | null, end = true) => {
    const f = await fakeServer(reply, end);
    fakes.push(f);
    return f.port;
  };

  it('refused, timed out and unresolvable are different findings with different fixes, all exit 4', async () => {
    const refused = await probeRdp({ host: '127.0.0.1', port: await closedPort() });
    expect(codes(refused)).toEqual(['net.refused']);
    expect(refused.findings[0]!.evidence).toMatchObject({ errno: 'ECONNREFUSED', addresses: ['127.0.0.1'], attempts: [expect.objectContaining({ address: '127.0.0.1', result: 'refused' })] });
    expect(refused.findings[0]!.remediation[0]!.action).toMatch(/enable Remote Desktop.*TermService/);
    const silent = await silentServer();
    let timeout;
    try {
      const t0 = Date.now();
      timeout = await probeRdp({ host: '127.0.0.1', port: silent.port, timeoutMs: 600 });
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      await silent.close();
    }
    expect(codes(timeout)).toEqual(['net.timeout']);
    expect(timeout.findings[0]!.evidence.phase).toBe('x224');
    expect(timeout.findings[0]!.remediation[0]!.action).toMatch(/firewall/i);
    const dns = await probeRdp({ host: UNRESOLVABLE_HOST, timeoutMs: 3000 });
    expect(codes(dns)).toEqual(['net.dns-failure']);
    expect(dns.findings[0]!.evidence).toMatchObject({ kind: 'dns', host: UNRESOLVABLE_HOST });
    expect(typeof (dns.findings[0]!.evidence.dns as { ms: number }).ms).toBe('number');
    const fixes = [refused, timeout, dns].map((r) => r.findings[0]!.remediation[0]!.action);
    expect(new Set(fixes).size).toBe(3);
    for (const r of [refused, timeout, dns]) expect(diagnose(r.findings).exitCode).toBe(4);
  });

  it('unreachable (no route) maps to its own finding and fix', () => {
    const e = new CredgateError('Connecting to 10.9.9.9 port 3389 failed: EHOSTUNREACH.', { code: 'CONNECTION_FAILED', details: { kind: 'unreachable', errno: 'EHOSTUNREACH', address: '10.9.9.9' } });
    const f = rdpFaultFinding(e, 'h.test', 3389);
    expect([f.code, f.remediation[0]!.owner]).toEqual(['net.unreachable', 'network']);
    expect(f.remediation[0]!.action).toMatch(/routing/);
  });

  it('an HTTP server, a one-byte close, a huge length and a reset are rdp.not-rdp', async () => {
    for (const [reply, why] of [
      [() => Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'), /HTTP server/],
      [() => Buffer.from([0x03]), /closed the connection after 1 byte/],
      [() => Buffer.from([0x03, 0x00, 0xff, 0xf0, 0x06, 0xd0]), /65520-byte TPKT/],
    ] as const) {
      const r = await probeRdp({ host: '127.0.0.1', port: await fake(reply), timeoutMs: 3000 });
      expect(codes(r)).toEqual(['rdp.not-rdp']);
      expect(r.findings[0]!.message).toMatch(why);
      expect(diagnose(r.findings).exitCode).toBe(4);
    }
  });

  it('a peer streaming megabytes after a huge TPKT header is cut off at the header (no unbounded read)', async () => {
    let sent = 0;
    let closedByClient = false;
    const srv = net.createServer((s) => {
      s.on('error', () => {});
      s.on('close', () => (closedByClient = true));
      s.once('data', () => {
        const chunk = Buffer.alloc(64 * 1024, 0x41);
        chunk.writeUInt32BE(0x0300ffff, 0);
        const pump = () => {
          while (!s.destroyed && sent < 32 * 1024 * 1024 && s.write(chunk)) sent += chunk.length;
          if (!s.destroyed && sent < 32 * 1024 * 1024) s.once('drain', pump);
        };
        pump();
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    try {
      const r = await probeRdp({ host: '127.0.0.1', port: (srv.address() as net.AddressInfo).port, timeoutMs: 3000 });
      expect(codes(r)).toEqual(['rdp.not-rdp']);
      await new Promise((res) => setTimeout(res, 50));
      expect(closedByClient).toBe(true);
      expect(sent).toBeLessThan(32 * 1024 * 1024);
    } finally {
      srv.close();
    }
  });

  const negSeen = new Map<number, { code: string; message: string; action: string }>();
  it.each([
    [1, 'rdp.ssl-required', /offers TLS/], [2, 'rdp.ssl-not-allowed', /security layer to Negotiate or SSL/], [3, 'rdp.ssl-cert-missing', /RDP certificate/],
    [4, 'rdp.inconsistent-flags', /bypass the proxy or load balancer.*X\.224 Connection Request through unchanged/], [5, 'rdp.hybrid-required', /enablecredsspsupport/],
    [6, 'rdp.ssl-user-auth-required', /stop demanding TLS client certificates/],
  ] as const)('RDP_NEG_FAILURE %i → %s, its own cause and fix, exit 4', async (code, expected, fix) => {
    const r = await probeRdp({ host: '127.0.0.1', port: await fake(() => negFailure(code)), timeoutMs: 3000 });
    expect(codes(r)).toEqual([expected]);
    expect(r.findings[0]!.evidence).toMatchObject({ failureCode: code, requested: ['SSL', 'HYBRID', 'HYBRID_EX'] });
    expect(r.findings[0]!.remediation[0]!.action).toMatch(fix);
    const v = diagnose(r.findings);
    expect([v.code, v.exitCode]).toEqual([expected, 4]);
    // the diagnose table names this code itself (not the fallback row)
    expect(causeOf(expected)).toMatchObject({ category: 'unreachable', priority: 25 });
    negSeen.set(code, { code: expected, message: r.findings[0]!.message, action: r.findings[0]!.remediation[0]!.action });
  });

  it('the six RDP_NEG_FAILURE codes are six different findings with six different causes', () => {
    expect(negSeen.size).toBe(6);
    for (const k of ['code', 'message'] as const) expect(new Set([...negSeen.values()].map((x) => x[k])).size).toBe(6);
    expect([...negSeen.values()].some((x) => x.code === 'rdp.neg-failure')).toBe(false);
    expect(negSeen.get(6)!.message).toMatch(/certificate-based client authentication/);
  });

  it('an RDP_NEG_FAILURE code outside the specification stays rdp.neg-failure, named in the message', async () => {
    const r = await probeRdp({ host: '127.0.0.1', port: await fake(() => negFailure(9)), timeoutMs: 3000 });
    expect(codes(r)).toEqual(['rdp.neg-failure']);
    expect(r.findings[0]!.message).toContain('UNKNOWN_9');
    expect(diagnose(r.findings).exitCode).toBe(4);
  });

  it('legacy RDP security only is reachable with a warning', async () => {
    const r = await probeRdp({ host: '127.0.0.1', port: await fake(() => CC_LEGACY), timeoutMs: 3000 });
    expect(codes(r)).toEqual(['rdp.reachable', 'rdp.legacy-security']);
  });

  it('a TLS handshake that fails after SSL was selected is tls.handshake-failed (exit 4)', async () => {
    const port = await fake(() => Buffer.from('030000130ed000000000000203080001000000', 'hex'), false);
    const r = await probeRdp({ host: '127.0.0.1', port, timeoutMs: 600 });
    // the peer selected SSL and then never answers the ClientHello: a timeout during TLS
    expect(codes(r)).toEqual(['net.timeout']);
    expect(r.findings[0]!.evidence.phase).toBe('tls');
    const garbage = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => {
        s.write(Buffer.from('030000130ed000000000000203080001000000', 'hex'));
        s.once('data', () => s.end(Buffer.from('\x15\x03\x03\x00\x02\x02\x28not tls')));
      });
    });
    await new Promise<void>((res) => garbage.listen(0, '127.0.0.1', () => res()));
    try {
      const t = await probeRdp({ host: '127.0.0.1', port: (garbage.address() as net.AddressInfo).port, timeoutMs: 3000 });
      expect(codes(t)).toEqual(['tls.handshake-failed']);
      expect(t.findings[0]!.remediation.map((x) => x.action).join(' ')).toContain('TermService');
      expect(diagnose(t.findings).exitCode).toBe(4);
    } finally {
      garbage.close();
    }
  });

  it('IPv6 loopback: a bracketed or bare ::1 is probed on ::1', async () => {
    const srv = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.end(negFailure(2)));
    });
    await new Promise<void>((res) => srv.listen(0, '::1', () => res()));
    try {
      const port = (srv.address() as net.AddressInfo).port;
      for (const host of ['::1', '[::1]']) {
        const r = await probeRdp({ host, port, timeoutMs: 3000 });
        expect(codes(r)).toEqual(['rdp.ssl-not-allowed']);
        expect(r.findings[0]!.evidence).toMatchObject({ address: '::1', addresses: ['::1'] });
      }
    } finally {
      srv.close();
    }
  });
});
