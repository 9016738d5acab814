/**
 * The RDP host's certificate judged as findings: validity window, self-signed, trust against the
 * given CA bundle (or a pinned certificate), the host name, weak keys and signatures.
 */
import { finding, type Finding } from '../findings/finding.js';
import { fixes } from '../findings/catalog.js';
import { certInfo, certMatchesHost, verifyChain, type CertInfo } from '../protocols/rdp/cert.js';

export interface CertAnalysisOptions {
  host: string;
  /**
   * CA bundle (PEM contents) to judge trust against. Giving one asks for a verified certificate:
   * `rdp.cert-untrusted` and `rdp.cert-name-mismatch-ca` are then errors (exit 4, like check's
   * tls.untrusted / tls.name-mismatch). Without one, self-signed is informational and a name
   * mismatch (`rdp.cert-name-mismatch`) a warning, as mstsc users accept them after its prompt.
   * A bundle holding the certificate itself pins it: a name mismatch then stays a warning.
   */
  ca?: Array<string | Buffer>;
  /** OpenSSL's verdict from the handshake (e.g. DEPTH_ZERO_SELF_SIGNED_CERT), as extra evidence. */
  tlsAuthorizationError?: string;
  expiringDays?: number;
  now?: Date;
  source?: string;
}

export function analyseCertificate(der: Buffer, o: CertAnalysisOptions): { info: CertInfo; findings: Finding[] } {
  const src = o.source ?? 'rdp-endpoint';
  const info = certInfo(der);
  const now = o.now ?? new Date();
  const ev: Record<string, unknown> = {
    subject: info.subject, issuer: info.issuer, notBefore: info.notBefore.toISOString(), notAfter: info.notAfter.toISOString(),
    dnsNames: info.dnsNames, ipAddresses: info.ipAddresses, sha1Thumbprint: info.sha1Thumbprint, sha256Fingerprint: info.sha256Fingerprint,
    signatureAlgorithm: info.signatureAlgorithm, key: `${info.keyType}${info.keyBits ? ` ${info.keyBits}` : ''}`,
    ...(o.tlsAuthorizationError ? { tlsAuthorizationError: o.tlsAuthorizationError } : {}),
  };
  const out: Finding[] = [];
  const days = (info.notAfter.getTime() - now.getTime()) / 86400e3;
  if (info.notAfter.getTime() < now.getTime()) {
    out.push(finding(src, 'rdp.cert-expired', 'error', `The host's RDP certificate expired on ${info.notAfter.toISOString().slice(0, 10)} (thumbprint ${info.sha1Thumbprint}).`, ev, fixes('rdp.cert-expired', 'default', { detail: info.sha1Thumbprint })));
  } else if (info.notBefore.getTime() > now.getTime()) {
    out.push(finding(src, 'rdp.cert-not-yet-valid', 'error', `The host's RDP certificate is not valid until ${info.notBefore.toISOString()} (check the host's and this machine's clocks).`, ev, fixes('rdp.cert-not-yet-valid', 'default')));
  } else if (days < (o.expiringDays ?? 30)) {
    out.push(finding(src, 'rdp.cert-expiring', 'warning', `The host's RDP certificate expires in ${Math.floor(days)} day(s), on ${info.notAfter.toISOString().slice(0, 10)}.`, ev, fixes('rdp.cert-expiring', 'default')));
  }
  if (info.selfSigned) {
    out.push(finding(src, 'rdp.cert-self-signed', 'info', `The host presents a self-signed RDP certificate (${info.subject}); clients warn about it and cannot tell it from an impostor.`, ev, fixes('rdp.cert-self-signed', 'default')));
  }
  const verify = o.ca !== undefined && o.ca.length > 0;
  const chain = verify ? verifyChain(der, o.ca!, now) : undefined;
  if (chain && !chain.trusted) {
    out.push(finding(src, 'rdp.cert-untrusted', 'error', `The host's RDP certificate (issuer ${info.issuer}) does not chain to the given CA bundle: ${chain.reason}.`, { ...ev, chain: chain.chain, chainError: chain.reason }, info.selfSigned
      ? fixes('rdp.cert-untrusted', 'self-signed')
      : fixes('rdp.cert-untrusted', 'issued', { detail: info.issuer })));
  }
  if (!certMatchesHost(der, o.host)) {
    const names = `CN ${info.commonName ?? '-'}, SAN ${[...info.dnsNames, ...info.ipAddresses].join(', ') || 'none'}`;
    // the fix names a name the certificate carries (its first DNS SAN, else its CN) when it has one
    const carriedName = info.dnsNames[0] ?? info.commonName;
    const carried = { host: o.host, ...(carriedName ? { detail: carriedName } : {}) };
    const variant = carriedName ? 'default' : 'unnamed';
    if (verify && !chain?.pinned) {
      // the caller asked for a verified certificate: one issued for another name is a failure, as in check (tls.name-mismatch)
      out.push(finding(src, 'rdp.cert-name-mismatch-ca', 'error', `The host's RDP certificate is not issued for ${o.host} (${names}); verified against the given CA, it does not prove this host's identity.`, { ...ev, verifiedAgainstCa: true }, fixes('rdp.cert-name-mismatch-ca', variant, carried)));
    } else {
      out.push(finding(src, 'rdp.cert-name-mismatch', 'warning', `The host's RDP certificate is not issued for ${o.host} (${names})${chain?.pinned ? '; it is the pinned certificate from the given bundle, so its identity is still proven' : ''}.`, { ...ev, ...(chain?.pinned ? { pinned: true } : {}) }, fixes('rdp.cert-name-mismatch', variant, carried)));
    }
  }
  const weak: string[] = [];
  if (info.keyType === 'rsa' && info.keyBits !== undefined && info.keyBits < 2048) weak.push(`RSA ${info.keyBits}-bit key`);
  if (/sha1|md5/i.test(info.signatureAlgorithm)) weak.push(`${info.signatureAlgorithm} signature`);
  if (weak.length) {
    out.push(finding(src, 'rdp.cert-weak', 'warning', `The host's RDP certificate is weak: ${weak.join(', ')}.`, ev, fixes('rdp.cert-weak', 'default')));
  }
  return { info, findings: out };
}
