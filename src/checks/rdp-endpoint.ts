/**
 * Probe an RDP host the way a client starts: DNS (every address), TCP, X.224 negotiation, TLS on
 * the same socket, the certificate. Every outcome is a finding with evidence and the concrete fix;
 * nothing here needs a credential.
 */
import fs from 'node:fs';
import net from 'node:net';
import { CredgateError, ConfigError } from '../core/errors.js';
import { unbracket } from '../core/target.js';
import { finding, type Finding } from '../findings/finding.js';
import { fixes } from '../findings/catalog.js';
import { rdpFaultFinding } from '../findings/faults.js';
import { analyseCertificate } from './rdp-cert.js';
import {
  connectRdp, resolveRdpHost, protocolNames, PROTOCOL_HYBRID, PROTOCOL_HYBRID_EX, PROTOCOL_SSL, type Negotiation, type RdpConnection,
} from '../protocols/rdp/x224.js';

export interface ProbeOptions {
  host: string;
  port?: number;
  /** CA bundle file(s) that should have issued the host's certificate. */
  caFile?: string | string[];
  /** Warn when the certificate expires within this many days. Default 30. */
  expiringDays?: number;
  /** One deadline for the whole probe. Default 10,000 ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
  now?: Date;
  /**
   * Connect to these IP addresses instead of resolving `host` (like curl's --resolve); the
   * certificate is still checked against `host`. For a name not yet in DNS, or one address of a
   * farm behind a load balancer.
   */
  addresses?: string[];
}

export interface ProbeResult {
  findings: Finding[];
  /** Every address the name resolved to, in the resolver's order. */
  addresses: string[];
  negotiation?: Negotiation;
  /** SHA-1 thumbprint of the presented certificate (for the cache's CertHash rule). */
  sha1Thumbprint?: string;
  selectedProtocol?: number;
  nlaRequired?: boolean;
  timings: Record<string, number>;
}

const SRC = 'rdp-endpoint';

/** The finding codes of the RDP_NEG_FAILURE answers (their fixes are the catalog's, `default` or `nla`). */
export type NegFailureCode = 'rdp.ssl-required' | 'rdp.ssl-not-allowed' | 'rdp.ssl-cert-missing' | 'rdp.inconsistent-flags' | 'rdp.hybrid-required' | 'rdp.ssl-user-auth-required' | 'rdp.neg-failure';

/**
 * Each RDP_NEG_FAILURE code (MS-RDPBCGR 2.2.1.2.2) as its own finding code and message; the NLA
 * check (rdp-nla.ts) uses the same codes.
 */
export const NEG_FAILURE_FINDINGS: Record<number, { code: NegFailureCode; message: string }> = {
  1: { code: 'rdp.ssl-required', message: 'The host requires TLS security (SSL_REQUIRED_BY_SERVER).' },
  2: { code: 'rdp.ssl-not-allowed', message: 'The host only allows legacy RDP security (SSL_NOT_ALLOWED_BY_SERVER); NLA and TLS are switched off.' },
  3: { code: 'rdp.ssl-cert-missing', message: 'The host has no certificate for TLS (SSL_CERT_NOT_ON_SERVER).' },
  4: {
    code: 'rdp.inconsistent-flags',
    message: 'The host answered INCONSISTENT_FLAGS: the requested security protocols do not match the security already in effect on the connection, which happens when something in front of the host (an RDP proxy, gateway or TLS-offloading load balancer) has already started TLS or rewrites the negotiation.',
  },
  5: { code: 'rdp.hybrid-required', message: 'The host requires Network Level Authentication (HYBRID_REQUIRED_BY_SERVER).' },
  6: {
    code: 'rdp.ssl-user-auth-required',
    message: 'The host requires TLS with certificate-based client authentication (SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER): it accepts only clients that present a TLS client certificate, which neither mstsc\'s nor credgate\'s offer (TLS | CredSSP) includes.',
  },
};

function loadCa(caFile: string | string[] | undefined): Array<string | Buffer> | undefined {
  if (!caFile) return undefined;
  const files = Array.isArray(caFile) ? caFile : [caFile];
  return files.map((f) => {
    try {
      return fs.readFileSync(f);
    } catch (e) {
      throw new ConfigError(`Cannot read the CA file ${f} (${(e as NodeJS.ErrnoException).code ?? 'error'}); pass a readable PEM file.`, { code: 'CONFIG_INVALID', cause: e, details: { path: f } });
    }
  });
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * The whole probe under one deadline (timeoutMs, default 10 s): DNS once (every address, timed),
 * then two connections in parallel on the resolved addresses: the full offer a Windows client
 * sends (TLS | CredSSP | CredSSP-EX, followed by TLS and the certificate) and a TLS-only offer
 * that stops after the negotiation, whose answer tells whether the host *requires* NLA.
 */
export async function probeRdp(o: ProbeOptions): Promise<ProbeResult> {
  const port = o.port ?? 3389;
  const timeoutMs = Math.max(1, Math.ceil(o.timeoutMs ?? 10_000));
  const ca = loadCa(o.caFile);
  const t = AbortSignal.timeout(timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, t]) : t;
  const started = performance.now();
  const findings: Finding[] = [];
  const result: ProbeResult = { findings, addresses: [], timings: {} };
  const aborted = () => new CredgateError(`The RDP probe of ${o.host}:${port} was aborted by the caller.`, { code: 'ABORTED', details: { host: o.host, port } });
  if (o.signal?.aborted) throw aborted();
  const host = unbracket(o.host);

  let dnsEv: Record<string, unknown>;
  try {
    const bad = o.addresses?.find((a) => !net.isIP(unbracket(a)));
    if (bad !== undefined) throw new ConfigError(`addresses: "${bad}" is not an IP address; give IPv4 or IPv6 literals (the host name is checked against the certificate).`, { code: 'CONFIG_INVALID', details: { option: 'addresses' } });
    const r = o.addresses?.length
      ? { addresses: o.addresses.map(unbracket).map((a) => ({ address: a, family: net.isIP(a) })), ms: 0 }
      : await resolveRdpHost(host, signal);
    result.addresses = r.addresses.map((a) => a.address);
    result.timings.dns = r.ms;
    dnsEv = { addresses: result.addresses, dns: { addresses: r.addresses, ms: round(r.ms) } };
  } catch (e) {
    if (o.signal?.aborted) throw aborted();
    if (!(e instanceof CredgateError) || e instanceof ConfigError) throw e;
    findings.push(rdpFaultFinding(e, host, port, { dns: { ms: e.details?.dnsMs ?? round(performance.now() - started) } }));
    return result;
  }
  const remaining = () => Math.max(1, Math.ceil(timeoutMs - (performance.now() - started)));
  const common = { host, port, addresses: result.addresses, signal, ...(ca ? { ca } : {}) };
  const [full, tlsOnly] = await Promise.allSettled([
    connectRdp({ ...common, requestedProtocols: PROTOCOL_SSL | PROTOCOL_HYBRID | PROTOCOL_HYBRID_EX, timeoutMs: remaining() }),
    connectRdp({ ...common, requestedProtocols: PROTOCOL_SSL, negotiateOnly: true, timeoutMs: remaining() }).then((c) => {
      c.close();
      return c.negotiation;
    }),
  ]);
  if (o.signal?.aborted) {
    if (full.status === 'fulfilled') full.value.close();
    throw aborted();
  }
  if (full.status === 'rejected') {
    const e = full.reason;
    if (!(e instanceof CredgateError)) throw e;
    findings.push(rdpFaultFinding(e, host, port, dnsEv));
    result.timings.total = performance.now() - started;
    return result;
  }
  const conn: RdpConnection = full.value;
  try {
    result.timings = { ...result.timings, ...conn.timings };
    const ev: Record<string, unknown> = {
      host, port, ...dnsEv, address: conn.address, attempts: conn.attempts.map((a) => ({ ...a, ms: round(a.ms) })),
      timingsMs: Object.fromEntries(Object.entries(result.timings).map(([k, v]) => [k, round(v)])),
    };
    const neg = conn.negotiation;
    result.negotiation = neg;
    if (neg.kind === 'failure') {
      const nf = NEG_FAILURE_FINDINGS[neg.failureCode] ?? { code: 'rdp.neg-failure', message: `The host refused the negotiation (${neg.failureName}).` };
      findings.push(finding(SRC, nf.code, 'error', nf.message, { ...ev, requested: protocolNames(PROTOCOL_SSL | PROTOCOL_HYBRID | PROTOCOL_HYBRID_EX), failureCode: neg.failureCode, failureName: neg.failureName }, fixes(nf.code, 'default')));
      return result;
    }
    if (neg.kind === 'legacy') {
      findings.push(finding(SRC, 'rdp.reachable', 'ok', `${host}:${port} answers RDP, with legacy RDP security only (no TLS, no NLA).`, { ...ev, selectedProtocol: 'RDP' }));
      findings.push(finding(SRC, 'rdp.legacy-security', 'warning', 'The host offers only legacy RDP security: no TLS, no NLA, no server authentication.', ev, fixes('rdp.legacy-security', 'default')));
      return result;
    }
    result.selectedProtocol = neg.selectedProtocol;
    const selected = protocolNames(neg.selectedProtocol).join('|');
    const tlsOnlyNeg = tlsOnly.status === 'fulfilled' ? tlsOnly.value : undefined;
    result.nlaRequired = tlsOnlyNeg?.kind === 'failure' && tlsOnlyNeg.failureCode === 5;
    findings.push(finding(SRC, 'rdp.reachable', 'ok', `${host}:${port} answers RDP and selected ${selected}${conn.tlsProtocol ? ` over ${conn.tlsProtocol}` : ''}.`, {
      ...ev, selectedProtocol: selected, flags: neg.flagNames, nlaRequired: tlsOnlyNeg ? result.nlaRequired : null,
      ...(conn.tlsProtocol ? { tlsProtocol: conn.tlsProtocol, tlsCipher: conn.tlsCipher } : {}),
    }));
    if (result.nlaRequired) {
      findings.push(finding(SRC, 'rdp.nla-required', 'info', 'The host requires Network Level Authentication: the credential is checked before the session starts, so a wrong or stale password fails at connect time (0x904 / 0x7 style errors).', { ...ev, tlsOnlyOffer: 'HYBRID_REQUIRED_BY_SERVER' }, fixes('rdp.nla-required', 'default')));
    }
    if (conn.peerCertificate) {
      const a = analyseCertificate(conn.peerCertificate, {
        host, ...(ca ? { ca } : {}), ...(conn.tlsAuthorizationError ? { tlsAuthorizationError: conn.tlsAuthorizationError } : {}),
        ...(o.expiringDays !== undefined ? { expiringDays: o.expiringDays } : {}), ...(o.now ? { now: o.now } : {}),
      });
      result.sha1Thumbprint = a.info.sha1Thumbprint;
      findings[0]!.evidence.certificate = {
        subject: a.info.subject, issuer: a.info.issuer, notBefore: a.info.notBefore.toISOString(), notAfter: a.info.notAfter.toISOString(),
        dnsNames: a.info.dnsNames, ipAddresses: a.info.ipAddresses, selfSigned: a.info.selfSigned, key: `${a.info.keyType}${a.info.keyBits ? ` ${a.info.keyBits}` : ''}`,
        signatureAlgorithm: a.info.signatureAlgorithm, sha1Thumbprint: a.info.sha1Thumbprint, sha256Fingerprint: a.info.sha256Fingerprint,
      };
      findings.push(...a.findings);
    }
    return result;
  } finally {
    conn.close();
    result.timings.total = performance.now() - started;
  }
}

/** The validator shape: `(input, { signal }) → Finding[]`. */
export async function probeRdpEndpoint(o: ProbeOptions): Promise<Finding[]> {
  return (await probeRdp(o)).findings;
}
