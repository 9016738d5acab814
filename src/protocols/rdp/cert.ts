/**
 * The RDP host's TLS certificate, analysed: validity window, expiry warning, self-signed, trust
 * against a CA bundle, host name in CN/SAN (DNS and IP), key strength and signature hash.
 * node-forge reads the certificate (names, validity, subjectAltName, key size, signature
 * algorithm) straight from its DER, which works for RSA and EC keys alike (forge's own
 * certificateFromAsn1 accepts RSA only); node:crypto verifies signatures and matches host names.
 * The thumbprints are the ones admins see: SHA-1 uppercase hex as certlm.msc shows it and as the
 * RDP client stores it (registry `CertHash`), and SHA-256.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import type Forge from 'node-forge';
import { lazyRequire } from '../../core/lazy.js';

/** node-forge, loaded when a certificate is first read. */
const loadForge = lazyRequire<typeof Forge>('node-forge');
import { CredgateError } from '../../core/errors.js';

export interface CertInfo {
  subject: string;
  issuer: string;
  commonName?: string;
  dnsNames: string[];
  ipAddresses: string[];
  notBefore: Date;
  notAfter: Date;
  selfSigned: boolean;
  /** basicConstraints cA. */
  isCA: boolean;
  signatureAlgorithm: string;
  keyType: string;
  keyBits?: number;
  serialNumber: string;
  /** SHA-1 of the DER, uppercase hex: the "Thumbprint" of certlm.msc and the client's CertHash. */
  sha1Thumbprint: string;
  sha256Fingerprint: string;
}

const SIG_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.10040.4.3': 'dsa-with-SHA1',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.3.101.112': 'Ed25519',
};

const KEY_TYPES: Record<string, string> = {
  '1.2.840.113549.1.1.1': 'rsa', '1.2.840.10045.2.1': 'ec', '1.3.101.112': 'ed25519', '1.3.101.113': 'ed448', '1.2.840.10040.4.1': 'dsa', '1.2.840.113549.1.1.10': 'rsa-pss',
};
const CURVE_BITS: Record<string, number> = { '1.2.840.10045.3.1.7': 256, '1.3.132.0.34': 384, '1.3.132.0.35': 521, '1.3.132.0.10': 256 };
const SHORT: Record<string, string> = { commonName: 'CN', organizationName: 'O', organizationalUnitName: 'OU', countryName: 'C', localityName: 'L', stateOrProvinceName: 'ST', emailAddress: 'E' };

type Node = Forge.asn1.Asn1;
const kids = (n: Node | undefined): Node[] => (n && Array.isArray(n.value) ? (n.value as Node[]) : []);

function notCert(why: string): never {
  throw new CredgateError(`The host's certificate could not be read (${why}).`, { code: 'PROTOCOL_ERROR', details: { kind: 'certificate', why } });
}

function rdn(node: Node | undefined): Array<{ short: string; value: string }> {
  const forge = loadForge();
  const out: Array<{ short: string; value: string }> = [];
  for (const set of kids(node)) {
    for (const atv of kids(set)) {
      const [oidNode, valNode] = kids(atv);
      if (!oidNode || !valNode || typeof valNode.value !== 'string') continue;
      const oid = forge.asn1.derToOid(oidNode.value as string);
      const name = (forge.pki.oids as Record<string, string>)[oid];
      const raw = valNode.value as string;
      const value = valNode.type === forge.asn1.Type.BMPSTRING
        ? Buffer.from(raw, 'binary').swap16().toString('utf16le')
        : valNode.type === forge.asn1.Type.UTF8 ? forge.util.decodeUtf8(raw) : raw;
      out.push({ short: (name && SHORT[name]) ?? name ?? oid, value });
    }
  }
  return out;
}

function asnTime(n: Node | undefined): Date {
  const forge = loadForge();
  if (!n || typeof n.value !== 'string') return notCert('no validity time');
  const d = n.type === forge.asn1.Type.UTCTIME ? forge.asn1.utcTimeToDate(n.value) : forge.asn1.generalizedTimeToDate(n.value);
  if (Number.isNaN(d.getTime())) notCert('invalid validity time');
  return d;
}

/** Parse a DER certificate with node-forge's ASN.1 reader. Throws PROTOCOL_ERROR (details.kind 'certificate') on garbage. */
export function certInfo(der: Buffer): CertInfo {
  try {
    return parseCert(der);
  } catch (e) {
    if (e instanceof CredgateError) throw e;
    return notCert((e as Error).message);
  }
}

function parseCert(der: Buffer): CertInfo {
  const forge = loadForge();
  let root: Node;
  try {
    root = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')), true);
  } catch (e) {
    return notCert(`not DER: ${(e as Error).message}`);
  }
  const [tbs, sigAlg] = kids(root);
  const fields = kids(tbs);
  if (!tbs || !sigAlg || fields.length < 6) notCert('not an X.509 certificate');
  const off = fields[0]!.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC ? 1 : 0; // [0] version
  const serial = fields[off]!;
  const issuerAttrs = rdn(fields[off + 2]);
  const [nb, na] = kids(fields[off + 3]);
  const subjectAttrs = rdn(fields[off + 4]);
  const spki = fields[off + 5]!;
  const sigOid = forge.asn1.derToOid(kids(sigAlg)[0]!.value as string);
  // SubjectPublicKeyInfo: algorithm OID (+ curve), key bits
  const [algSeq] = kids(spki);
  const [algOidNode, algParam] = kids(algSeq);
  const keyOid = algOidNode ? forge.asn1.derToOid(algOidNode.value as string) : '';
  const keyType = KEY_TYPES[keyOid] ?? (keyOid || 'unknown');
  let keyBits: number | undefined;
  if (keyType === 'rsa') {
    try {
      keyBits = (forge.pki.publicKeyFromAsn1(spki) as Forge.pki.rsa.PublicKey).n.bitLength();
    } catch {
      keyBits = undefined;
    }
  } else if (keyType === 'ec' && algParam?.type === forge.asn1.Type.OID) {
    keyBits = CURVE_BITS[forge.asn1.derToOid(algParam.value as string)];
  } else if (keyType === 'ed25519') keyBits = 256;
  // extensions: [3] { SEQUENCE OF Extension }
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  let isCA = false;
  const extWrap = fields.slice(off + 6).find((f) => f.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && f.type === 3);
  for (const ext of kids(kids(extWrap)[0])) {
    const parts = kids(ext);
    const oid = forge.asn1.derToOid(parts[0]!.value as string);
    const octets = parts[parts.length - 1]!;
    if (typeof octets.value !== 'string') continue;
    let inner: Node;
    try {
      inner = forge.asn1.fromDer(octets.value, true);
    } catch {
      continue;
    }
    if (oid === '2.5.29.17') {
      for (const gn of kids(inner)) {
        if (gn.tagClass !== forge.asn1.Class.CONTEXT_SPECIFIC || typeof gn.value !== 'string') continue;
        if (gn.type === 2) dnsNames.push(gn.value);
        else if (gn.type === 7) {
          const ip = (forge.util as unknown as { bytesToIP(b: string): string | null }).bytesToIP(gn.value);
          if (ip) ipAddresses.push(ip);
        }
      }
    } else if (oid === '2.5.29.19') {
      const first = kids(inner)[0];
      isCA = first?.type === forge.asn1.Type.BOOLEAN && typeof first.value === 'string' && first.value.charCodeAt(0) !== 0;
    }
  }
  const cn = subjectAttrs.filter((a) => a.short === 'CN').at(-1)?.value;
  const dn = (attrs: Array<{ short: string; value: string }>) => attrs.map((a) => `${a.short}=${a.value}`).join(', ');
  // self-signed: the subject names itself as issuer and its own key verifies the signature
  // (X509Certificate.checkIssued would also demand keyCertSign, which RDP leaf certificates lack)
  let selfSigned = false;
  if (Buffer.from(forge.asn1.toDer(fields[off + 2]!).getBytes(), 'binary').equals(Buffer.from(forge.asn1.toDer(fields[off + 4]!).getBytes(), 'binary'))) {
    try {
      const x = new crypto.X509Certificate(der);
      selfSigned = x.verify(x.publicKey);
    } catch {
      selfSigned = false;
    }
  }
  return {
    subject: dn(subjectAttrs),
    issuer: dn(issuerAttrs),
    ...(cn ? { commonName: cn } : {}),
    dnsNames,
    ipAddresses,
    notBefore: asnTime(nb),
    notAfter: asnTime(na),
    selfSigned,
    isCA,
    signatureAlgorithm: SIG_NAMES[sigOid] ?? sigOid,
    keyType,
    ...(keyBits ? { keyBits } : {}),
    serialNumber: forge.util.bytesToHex(serial.value as string).toUpperCase(),
    sha1Thumbprint: crypto.createHash('sha1').update(der).digest('hex').toUpperCase(),
    sha256Fingerprint: crypto.createHash('sha256').update(der).digest('hex').toUpperCase(),
  };
}

/** Does the certificate name this host? IP literals match IP SANs only; names match DNS SANs (wildcards one label deep), else the CN. */
export function certMatchesHost(der: Buffer, host: string): boolean {
  const x = new crypto.X509Certificate(der);
  const h = host.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (net.isIP(h)) return x.checkIP(h) !== undefined;
  return x.checkHost(h, { subject: 'default' }) !== undefined;
}

export interface ChainResult {
  trusted: boolean;
  /** Why not, in words (no issuer in the bundle, issuer expired, issuer not a CA, loop). */
  reason?: string;
  /** Subjects from the leaf up to the trust anchor that was found. */
  chain: string[];
  /** The bundle holds this very certificate (a pin), so it is trusted whatever names it carries. */
  pinned?: boolean;
}

function pemCerts(caPems: Array<string | Buffer>): crypto.X509Certificate[] {
  const out: crypto.X509Certificate[] = [];
  for (const pem of caPems) {
    const text = pem.toString();
    for (const m of text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)) {
      try {
        out.push(new crypto.X509Certificate(m[0]));
      } catch {
        // an unreadable block in a bundle is skipped, like OpenSSL does
      }
    }
  }
  return out;
}

/**
 * Walk from the leaf to a certificate of the bundle: each issuer must be in the bundle, sign its
 * child, be a CA and be valid now. A bundle holding the (self-signed) leaf itself trusts it (pinning).
 */
export function verifyChain(der: Buffer, caPems: Array<string | Buffer>, now: Date = new Date()): ChainResult {
  const leaf = new crypto.X509Certificate(der);
  const cas = pemCerts(caPems);
  const chain = [leaf.subject.replace(/\n/g, ', ')];
  if (cas.some((c) => c.raw.equals(leaf.raw))) return { trusted: true, chain, pinned: true };
  const signs = (child: crypto.X509Certificate, c: crypto.X509Certificate) => {
    if (child.issuer !== c.subject) return false;
    try {
      return child.verify(c.publicKey);
    } catch {
      return false;
    }
  };
  let cur = leaf;
  for (let depth = 0; depth < 8; depth++) {
    const issuer = cas.find((c) => signs(cur, c));
    if (!issuer) return { trusted: false, reason: `no certificate in the CA bundle issued "${cur.subject.replace(/\n/g, ', ')}"`, chain };
    chain.push(issuer.subject.replace(/\n/g, ', '));
    if (!issuer.ca) return { trusted: false, reason: `"${issuer.subject.replace(/\n/g, ', ')}" is not a CA certificate`, chain };
    if (new Date(issuer.validTo).getTime() < now.getTime() || new Date(issuer.validFrom).getTime() > now.getTime()) {
      return { trusted: false, reason: `the issuing CA "${issuer.subject.replace(/\n/g, ', ')}" is outside its validity (${issuer.validFrom} – ${issuer.validTo})`, chain };
    }
    if (issuer.subject === issuer.issuer) return { trusted: true, chain };
    cur = issuer;
  }
  return { trusted: false, reason: 'the chain is longer than 8 certificates', chain };
}

/** Verify the chain against CA certificates (PEM). Intermediates may be included in the bundle. */
export function chainTrusted(der: Buffer, caPems: Array<string | Buffer>, now: Date = new Date()): boolean {
  return verifyChain(der, caPems, now).trusted;
}
