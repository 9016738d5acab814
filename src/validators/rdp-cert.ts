/**
 * The RDP host's TLS certificate, analysed: validity window, expiry warning, self-signed, trust
 * against a CA bundle, host name in CN/SAN, key strength and signature hash. Fields are read with
 * node-forge; signatures are verified with node:crypto (it handles RSA and ECDSA alike).
 * The thumbprints are the ones admins see: SHA-1 uppercase hex as certlm.msc shows it and as the
 * RDP client stores it (registry `CertHash`), and SHA-256.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import forge from 'node-forge';
import { finding, type Finding } from '../core/findings.js';

export interface CertInfo {
  subject: string;
  issuer: string;
  commonName?: string;
  dnsNames: string[];
  ipAddresses: string[];
  notBefore: Date;
  notAfter: Date;
  selfSigned: boolean;
  signatureAlgorithm: string;
  keyType: string;
  keyBits?: number;
  serialNumber: string;
  sha1Thumbprint: string;
  sha256Fingerprint: string;
}

const SIG_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
};

function dnString(attrs: forge.pki.CertificateField[]): string {
  return attrs.map((a) => `${a.shortName ?? a.name ?? a.type}=${String(a.value)}`).join(', ');
}

/** Parse a DER certificate. forge cannot parse EC public keys, so the key comes from node:crypto. */
export function certInfo(der: Buffer): CertInfo {
  const x = new crypto.X509Certificate(der);
  const asn1 = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
  // TBSCertificate fields by position: forge's certificateFromAsn1 rejects non-RSA keys, so read the parts we need directly
  const tbs = (asn1.value as forge.asn1.Asn1[])[0]!;
  const sigAlgSeq = (asn1.value as forge.asn1.Asn1[])[1]!;
  const sigOid = forge.asn1.derToOid((sigAlgSeq.value as forge.asn1.Asn1[])[0]!.value as string);
  const fields = tbs.value as forge.asn1.Asn1[];
  const off = fields[0]!.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  const rdn = (node: forge.asn1.Asn1) => {
    const list: forge.pki.CertificateField[] = [];
    for (const set of node.value as forge.asn1.Asn1[]) {
      for (const atv of set.value as forge.asn1.Asn1[]) {
        const [oidNode, valNode] = atv.value as forge.asn1.Asn1[];
        const type = forge.asn1.derToOid(oidNode!.value as string);
        const name = (forge.pki.oids as Record<string, string>)[type];
        const shortName = name ? ({ commonName: 'CN', organizationName: 'O', organizationalUnitName: 'OU', countryName: 'C', localityName: 'L', stateOrProvinceName: 'ST' } as Record<string, string>)[name] : undefined;
        list.push({ type, ...(name ? { name } : {}), ...(shortName ? { shortName } : {}), value: forge.util.decodeUtf8(valNode!.value as string) } as forge.pki.CertificateField);
      }
    }
    return list;
  };
  const issuerAttrs = rdn(fields[off + 2]!);
  const subjectAttrs = rdn(fields[off + 4]!);
  const cn = subjectAttrs.find((a) => a.shortName === 'CN')?.value as string | undefined;
  const san = x.subjectAltName ?? '';
  const dnsNames = [...san.matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]!);
  const ipAddresses = [...san.matchAll(/IP Address:([^,\s]+)/g)].map((m) => m[1]!);
  const pk = x.publicKey;
  const details = pk.asymmetricKeyDetails;
  const keyBits = details?.modulusLength ?? (details?.namedCurve ? { prime256v1: 256, secp384r1: 384, secp521r1: 521 }[details.namedCurve] : undefined);
  let selfSigned = false;
  if (x.subject === x.issuer) {
    try {
      selfSigned = x.verify(pk);
    } catch {
      selfSigned = false;
    }
  }
  return {
    subject: dnString(subjectAttrs),
    issuer: dnString(issuerAttrs),
    ...(cn ? { commonName: cn } : {}),
    dnsNames,
    ipAddresses,
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
    selfSigned,
    signatureAlgorithm: SIG_NAMES[sigOid] ?? sigOid,
    keyType: pk.asymmetricKeyType ?? 'unknown',
    ...(keyBits ? { keyBits } : {}),
    serialNumber: x.serialNumber,
    sha1Thumbprint: crypto.createHash('sha1').update(der).digest('hex').toUpperCase(),
    sha256Fingerprint: crypto.createHash('sha256').update(der).digest('hex').toUpperCase(),
  };
}

/** Does the certificate name this host? IP literals match IP SANs; names match DNS SANs (wildcards one label deep), else CN. */
export function certMatchesHost(der: Buffer, host: string): boolean {
  const x = new crypto.X509Certificate(der);
  const h = host.replace(/^\[|\]$/g, '');
  if (net.isIP(h)) return x.checkIP(h) !== undefined;
  return x.checkHost(h, { subject: 'default' }) !== undefined;
}

/** Verify the chain against CA certificates (PEM). Intermediates may be included in the bundle. */
export function chainTrusted(der: Buffer, caPems: Array<string | Buffer>): boolean {
  const leaf = new crypto.X509Certificate(der);
  const cas: crypto.X509Certificate[] = [];
  for (const pem of caPems) {
    const text = pem.toString();
    for (const m of text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)) cas.push(new crypto.X509Certificate(m[0]));
  }
  let cur = leaf;
  for (let depth = 0; depth < 8; depth++) {
    const issuer = cas.find((c) => cur.checkIssued(c) && (() => { try { return cur.verify(c.publicKey); } catch { return false; } })());
    if (!issuer) return false;
    if (issuer.subject === issuer.issuer) return true;
    if (issuer.fingerprint256 === cur.fingerprint256) return false;
    cur = issuer;
  }
  return false;
}

export interface CertAnalysisOptions {
  host: string;
  /** CA bundle (PEM contents) to judge trust against. */
  ca?: Array<string | Buffer>;
  /** OpenSSL's verdict from the handshake (e.g. DEPTH_ZERO_SELF_SIGNED_CERT), as extra evidence. */
  tlsAuthorizationError?: string;
  expiringDays?: number;
  now?: Date;
  source?: string;
}

const RENEW = 'Renew the Remote Desktop certificate on the host (or delete it from certlm.msc → Remote Desktop → Certificates so Windows makes a new self-signed one), then restart the Remote Desktop Services service (TermService).';

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
    out.push(finding(src, 'rdp.cert-expired', 'error', `The host's RDP certificate expired on ${info.notAfter.toISOString().slice(0, 10)} (thumbprint ${info.sha1Thumbprint}).`, ev, [
      { action: RENEW, owner: 'host', priority: 1 },
      { action: `Find it by thumbprint ${info.sha1Thumbprint} in certlm.msc (Remote Desktop store) or with: Get-ChildItem Cert:\\LocalMachine\\"Remote Desktop"`, owner: 'host', priority: 2 },
    ]));
  } else if (info.notBefore.getTime() > now.getTime()) {
    out.push(finding(src, 'rdp.cert-not-yet-valid', 'error', `The host's RDP certificate is not valid until ${info.notBefore.toISOString()} (check the host's and this machine's clocks).`, ev, [
      { action: 'Fix the clock on the host or on this machine (w32tm /resync), or reissue the certificate with a correct start date.', owner: 'host' },
    ]));
  } else if (days < (o.expiringDays ?? 30)) {
    out.push(finding(src, 'rdp.cert-expiring', 'warning', `The host's RDP certificate expires in ${Math.floor(days)} day(s), on ${info.notAfter.toISOString().slice(0, 10)}.`, ev, [
      { action: RENEW, owner: 'host' },
    ]));
  }
  if (info.selfSigned) {
    out.push(finding(src, 'rdp.cert-self-signed', 'info', 'The host presents a self-signed RDP certificate; clients will warn, and cannot tell it from an impostor.', ev, [
      { action: 'Issue the host an RDP certificate from your enterprise CA (the "Remote Desktop" template via GPO: Server Authentication certificate template).', owner: 'host' },
    ]));
  } else if (o.ca && o.ca.length && !chainTrusted(der, o.ca)) {
    out.push(finding(src, 'rdp.cert-untrusted', 'warning', `The host's RDP certificate (issuer ${info.issuer}) does not chain to the given CA bundle.`, ev, [
      { action: 'Pass the issuing CA with --ca-file, or deploy the issuing CA to clients\' Trusted Root store.', owner: 'client' },
    ]));
  }
  if (!certMatchesHost(der, o.host)) {
    out.push(finding(src, 'rdp.cert-name-mismatch', 'warning', `The host's RDP certificate is not issued for ${o.host} (CN ${info.commonName ?? '-'}, SAN ${[...info.dnsNames, ...info.ipAddresses].join(', ') || 'none'}).`, ev, [
      { action: `Connect with a name on the certificate, or reissue it with ${o.host} in its subjectAltName.`, owner: 'host' },
    ]));
  }
  const weak: string[] = [];
  if (info.keyType === 'rsa' && info.keyBits !== undefined && info.keyBits < 2048) weak.push(`RSA ${info.keyBits}-bit key`);
  if (/sha1|md5/i.test(info.signatureAlgorithm)) weak.push(`${info.signatureAlgorithm} signature`);
  if (weak.length) {
    out.push(finding(src, 'rdp.cert-weak', 'warning', `The host's RDP certificate is weak: ${weak.join(', ')}.`, ev, [
      { action: 'Reissue the RDP certificate with an RSA 2048+ or ECDSA P-256 key and a SHA-256 signature.', owner: 'host' },
    ]));
  }
  return { info, findings: out };
}
