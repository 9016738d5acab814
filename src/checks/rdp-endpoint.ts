/**
 * Probe an RDP host the way a client starts: DNS (every address), TCP, X.224 negotiation, TLS on
 * the same socket, the certificate. Every outcome is a finding with evidence and the concrete fix;
 * nothing here needs a credential.
 */
import fs from 'node:fs';
import net from 'node:net';
import { CredgateError, ConfigError } from '../core/errors.js';
import { finding, type Finding, type Remediation } from '../findings/finding.js';
import { analyseCertificate } from '../protocols/rdp/cert.js';
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

/**
 * A connection fault from connectRdp (details.kind) as the finding an admin acts on: DNS,
 * refused, timed out, unreachable, lost, not RDP, TLS. Each names a different fix.
 */
export function rdpFaultFinding(e: CredgateError, host: string, port: number, extra: Record<string, unknown> = {}): Finding {
  return failureFinding(e, host, port, extra);
}

function failureFinding(e: CredgateError, host: string, port: number, extra: Record<string, unknown>): Finding {
  const kind = String(e.details?.kind ?? '');
  const ev = { host, port, ...extra, error: e.message, ...(e.details ?? {}) };
  switch (kind) {
    case 'dns':
      return finding(SRC, 'net.dns-failure', 'error', `The host name ${host} does not resolve.`, ev, [
        { action: `Check the name and the client's DNS (Resolve-DnsName ${host}); use the FQDN the host is registered under.`, owner: 'network' },
      ]);
    case 'refused':
      return finding(SRC, 'net.refused', 'error', `Nothing accepts connections on ${host} port ${port}: Remote Desktop is off or listens elsewhere.`, ev, [
        { action: 'On the host: enable Remote Desktop (System → Remote Desktop) and check that TermService is running.', owner: 'host' },
        { action: `Check the port: HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp\\PortNumber (you asked for ${port}).`, owner: 'host' },
      ]);
    case 'timeout':
      return finding(SRC, 'net.timeout', 'error', `${host} port ${port} did not answer in time${e.details?.phase && e.details.phase !== 'tcp' ? ` (during ${String(e.details.phase)})` : ''}: a firewall drops the packets, a port forward is missing, or the service hangs.`, ev, [
        { action: `Check firewalls and port forwards on the path to ${host}:${port} (Windows Defender Firewall rule "Remote Desktop - User Mode (TCP-In)").`, owner: 'network' },
        { action: 'If the TCP connection opens but nothing answers, restart Remote Desktop Services (TermService) on the host.', owner: 'host' },
      ]);
    case 'unreachable':
      return finding(SRC, 'net.unreachable', 'error', `There is no route to ${host} (${String(e.details?.errno ?? 'unreachable')}).`, ev, [
        { action: `Check routing between this machine and ${host}: the VPN is connected, the subnet is routed (tracert ${host} / ip route get), the host is up.`, owner: 'network' },
      ]);
    case 'socket':
      return finding(SRC, 'net.connection-lost', 'error', `The connection to ${host}:${port} failed (${String(e.details?.errno ?? e.message)}).`, ev, [
        { action: `Check the network path to ${host}:${port} and retry; if it persists, restart Remote Desktop Services (TermService) on the host.`, owner: 'network' },
      ]);
    case 'not-rdp':
    case 'reset':
      return finding(SRC, 'rdp.not-rdp', 'error', `Something answers on ${host}:${port}, but it is not an RDP server (${e.message})`, ev, [
        { action: `Check that port ${port} is the Remote Desktop port on this host, and that no proxy or other service took it.`, owner: 'host' },
      ]);
    case 'tls':
      return finding(SRC, 'tls.handshake-failed', 'error', `The TLS handshake with the RDP host failed (${String(e.details?.errno ?? e.message)}).`, ev, [
        { action: 'Check the host\'s TLS settings (SCHANNEL protocols enabled, a usable RDP certificate with its private key).', owner: 'host' },
        { action: 'Restart Remote Desktop Services (TermService) after fixing the certificate.', owner: 'host' },
      ]);
    default:
      return finding(SRC, 'net.unreachable', 'error', `Connecting to ${host}:${port} failed: ${e.message}`, ev, [{ action: 'Check the host and the network path.', owner: 'network' }]);
  }
}

/**
 * Each RDP_NEG_FAILURE code (MS-RDPBCGR 2.2.1.2.2) as its own finding code, cause and fix; the
 * NLA check (rdp-nla.ts) uses the same codes.
 */
export const NEG_FAILURE_FINDINGS: Record<number, { code: string; message: string; action: string; owner: NonNullable<Remediation['owner']> }> = {
  1: { code: 'rdp.ssl-required', message: 'The host requires TLS security (SSL_REQUIRED_BY_SERVER).', action: 'Use a client that offers TLS; do not force legacy RDP security (negotiate security layer:i:1).', owner: 'host' },
  2: { code: 'rdp.ssl-not-allowed', message: 'The host only allows legacy RDP security (SSL_NOT_ALLOWED_BY_SERVER); NLA and TLS are switched off.', action: 'On the host set the security layer to Negotiate or SSL (GPO: Require use of specific security layer for remote (RDP) connections).', owner: 'host' },
  3: { code: 'rdp.ssl-cert-missing', message: 'The host has no certificate for TLS (SSL_CERT_NOT_ON_SERVER).', action: 'Give the host an RDP certificate (or delete the broken one so Windows regenerates it) and restart TermService.', owner: 'host' },
  4: {
    code: 'rdp.inconsistent-flags',
    message: 'The host answered INCONSISTENT_FLAGS: the requested security protocols do not match the security already in effect on the connection, which happens when something in front of the host (an RDP proxy, gateway or TLS-offloading load balancer) has already started TLS or rewrites the negotiation.',
    action: 'Probe the host\'s own RDP listener directly (bypass the proxy or load balancer, e.g. --address <the host\'s IP>); if that is healthy, set the proxy or load balancer to pass the X.224 Connection Request through unchanged (plain TCP, no TLS offload on the RDP port).',
    owner: 'network',
  },
  5: { code: 'rdp.hybrid-required', message: 'The host requires Network Level Authentication (HYBRID_REQUIRED_BY_SERVER).', action: 'Use a client with NLA (CredSSP) enabled: enablecredsspsupport:i:1.', owner: 'host' },
  6: {
    code: 'rdp.ssl-user-auth-required',
    message: 'The host requires TLS with certificate-based client authentication (SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER): it accepts only clients that present a TLS client certificate, which neither mstsc\'s nor credgate\'s offer (TLS | CredSSP) includes.',
    action: 'On the host (or the RDP appliance in front of it) stop demanding TLS client certificates on this listener: set the security layer to Negotiate or SSL with NLA so password logons can connect; otherwise only clients with a client certificate the host trusts get in, and a password cannot be checked there.',
    owner: 'host',
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
  const host = o.host.replace(/^\[(.*)\]$/, '$1');

  let dnsEv: Record<string, unknown>;
  try {
    const bad = o.addresses?.find((a) => !net.isIP(a.replace(/^\[(.*)\]$/, '$1')));
    if (bad !== undefined) throw new ConfigError(`addresses: "${bad}" is not an IP address; give IPv4 or IPv6 literals (the host name is checked against the certificate).`, { code: 'CONFIG_INVALID', details: { option: 'addresses' } });
    const r = o.addresses?.length
      ? { addresses: o.addresses.map((a) => a.replace(/^\[(.*)\]$/, '$1')).map((a) => ({ address: a, family: net.isIP(a) })), ms: 0 }
      : await resolveRdpHost(host, signal);
    result.addresses = r.addresses.map((a) => a.address);
    result.timings.dns = r.ms;
    dnsEv = { addresses: result.addresses, dns: { addresses: r.addresses, ms: round(r.ms) } };
  } catch (e) {
    if (o.signal?.aborted) throw aborted();
    if (!(e instanceof CredgateError) || e instanceof ConfigError) throw e;
    findings.push(failureFinding(e, host, port, { dns: { ms: e.details?.dnsMs ?? round(performance.now() - started) } }));
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
    findings.push(failureFinding(e, host, port, dnsEv));
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
      const nf = NEG_FAILURE_FINDINGS[neg.failureCode] ?? { code: 'rdp.neg-failure', message: `The host refused the negotiation (${neg.failureName}).`, action: 'Check the host\'s security layer settings.', owner: 'host' as const };
      findings.push(finding(SRC, nf.code, 'error', nf.message, { ...ev, requested: protocolNames(PROTOCOL_SSL | PROTOCOL_HYBRID | PROTOCOL_HYBRID_EX), failureCode: neg.failureCode, failureName: neg.failureName }, [{ action: nf.action, owner: nf.owner }]));
      return result;
    }
    if (neg.kind === 'legacy') {
      findings.push(finding(SRC, 'rdp.reachable', 'ok', `${host}:${port} answers RDP, with legacy RDP security only (no TLS, no NLA).`, { ...ev, selectedProtocol: 'RDP' }));
      findings.push(finding(SRC, 'rdp.legacy-security', 'warning', 'The host offers only legacy RDP security: no TLS, no NLA, no server authentication.', ev, [
        { action: 'Enable TLS and NLA on the host (security layer Negotiate/SSL, "Allow connections only from computers running Remote Desktop with Network Level Authentication").', owner: 'host' },
      ]));
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
      findings.push(finding(SRC, 'rdp.nla-required', 'info', 'The host requires Network Level Authentication: the credential is checked before the session starts, so a wrong or stale password fails at connect time (0x904 / 0x7 style errors).', { ...ev, tlsOnlyOffer: 'HYBRID_REQUIRED_BY_SERVER' }, [
        { action: 'Keep NLA; make sure clients have CredSSP enabled (enablecredsspsupport:i:1) and a current password.', owner: 'client' },
      ]));
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
