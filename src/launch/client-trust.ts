/**
 * What the RDP client is told to trust: exactly the certificate credgate verified. When the
 * preflight verified the host's certificate (against --rdp-ca-file, a CA or the certificate itself
 * as a pin), FreeRDP gets `/cert:deny,fingerprint:sha256:<hex>` — that certificate is accepted
 * and anything else is refused without a prompt. When credgate verified none, `/cert:deny`: the
 * client judges the certificate with its own trust store and never stops to ask on a terminal
 * whose stdin carried the password. mstsc cannot be pinned from outside: the trust statement says
 * when it will warn instead.
 */
import { CredgateError } from '../core/errors.js';
import type { PreflightReport } from '../pipeline/types.js';
import type { Finding, FindingCode } from '../findings/finding.js';

export interface MstscNote {
  /** What mstsc does: warns (the .rdp file's `authentication level:i:2`) or refuses. */
  action: 'warn' | 'refuse';
  /** The finding that predicts it. */
  code: FindingCode | 'windows-trust-store';
  reason: string;
}

export interface ClientTrust {
  /**
   * `verified`: the client accepts only the certificate(s) credgate verified; `client`: credgate
   * verified none, the client judges alone and refuses what it does not trust; `caller`: the
   * caller's own /cert client argument decides.
   */
  mode: 'verified' | 'client' | 'caller';
  /** SHA-256 fingerprints (upper-case hex, no separators) of the certificate(s) credgate verified. */
  verified: string[];
  /** The FreeRDP argument that says so (absent in `caller` mode). */
  freerdpArg?: string;
  /** One sentence for the output. */
  summary: string;
  /** mstsc only: when it will warn or refuse, from what the preflight saw. */
  mstsc: MstscNote[];
}

/** FreeRDP 2.11 compares `sha256:<hex>` with its own rendering: lower-case, colon-separated (measured: without colons it does not match). */
export function freerdpFingerprint(hex: string): string {
  const h = hex.replace(/[^0-9a-f]/gi, '').toLowerCase();
  if (h.length !== 64) throw new CredgateError(`verifiedCertificates: not a SHA-256 fingerprint (${h.length} hex digits, not 64); pass the certificate's SHA-256 in hex.`, { code: 'CONFIG_INVALID', details: { option: 'verifiedCertificates' } });
  return h.replace(/(..)(?!$)/g, '$1:');
}

/** A client argument that makes its own certificate decision (FreeRDP 2: /cert:..., /cert-ignore, -cert-tofu, ...). */
export const CALLER_CERT_ARG = /^[/+-]cert(:|-(ignore|deny|tofu|name))/i;

/**
 * The FreeRDP /cert argument for these verified fingerprints: accept only them, or (none) refuse
 * without asking what the client's own store does not trust. None when the caller's arguments
 * carry their own /cert decision.
 */
export function freerdpCertArg(verified: readonly string[], clientArgs: readonly string[] = []): string | undefined {
  if (clientArgs.some((a) => CALLER_CERT_ARG.test(a))) return undefined;
  return verified.length ? `/cert:deny,${verified.map((h) => `fingerprint:sha256:${freerdpFingerprint(h)}`).join(',')}` : '/cert:deny';
}

const find = (r: PreflightReport, code: FindingCode): Finding | undefined => {
  for (const s of r.steps) for (const f of s.findings) if (f.code === code) return f;
  return undefined;
};

/**
 * The certificates the preflight verified: the one the endpoint probe judged against the CA
 * bundle, and the one the NLA check bound its proof to (it refuses any other when a bundle is
 * given). None when no bundle was given or the preflight did not pass.
 */
export function verifiedCertificates(report: PreflightReport, caGiven: boolean): string[] {
  if (!caGiven || !report.ok) return [];
  const endpoint = report.steps.find((s) => s.name === 'rdp-endpoint');
  if (endpoint?.status !== 'passed') return [];
  if (endpoint.findings.some((f) => f.code === 'rdp.cert-untrusted' || f.code === 'rdp.cert-name-mismatch-ca')) return [];
  const out = new Set<string>();
  const cert = find(report, 'rdp.reachable')?.evidence.certificate as { sha256Fingerprint?: string } | undefined;
  if (cert?.sha256Fingerprint) out.add(cert.sha256Fingerprint.toUpperCase());
  const nla = find(report, 'rdp.nla-ok')?.evidence.certSha256;
  if (typeof nla === 'string') out.add(nla.toUpperCase());
  return [...out];
}

/** What mstsc will do with the host's certificate, from the preflight's findings. */
export function mstscNotes(report: PreflightReport, verified: readonly string[]): MstscNote[] {
  const out: MstscNote[] = [];
  const self = find(report, 'rdp.cert-self-signed');
  const name = find(report, 'rdp.cert-name-mismatch');
  const changed = find(report, 'cache.cert-changed');
  const policy = ' (it refuses instead where the policy "Configure server authentication for client" says "Do not connect if authentication fails")';
  if (self) out.push({ action: 'warn', code: 'rdp.cert-self-signed', reason: `the certificate is self-signed, so mstsc cannot tie it to a trusted certification authority and warns${policy}` });
  else if (verified.length) out.push({ action: 'warn', code: 'windows-trust-store', reason: `mstsc judges the certificate by the Windows certificate store, not by --rdp-ca-file: it warns unless the issuing CA is a Trusted Root there${policy}` });
  if (name) out.push({ action: 'warn', code: 'rdp.cert-name-mismatch', reason: `the certificate is not issued for ${report.target.host}, so mstsc warns about the name${policy}` });
  if (changed) out.push({ action: 'warn', code: 'cache.cert-changed', reason: 'the client remembers another certificate (CertHash) for this host, so mstsc warns that the certificate changed' });
  return out;
}

/** The trust the client gets, for the platform's client and the caller's client arguments. */
export function clientTrust(report: PreflightReport, o: { caGiven: boolean; clientArgs?: readonly string[]; platform?: NodeJS.Platform }): ClientTrust {
  const verified = verifiedCertificates(report, o.caGiven);
  const platform = o.platform ?? process.platform;
  const mstsc = platform === 'win32' ? mstscNotes(report, verified) : [];
  if (platform === 'win32') {
    return {
      mode: 'client', verified, mstsc,
      summary: mstsc.length
        ? `mstsc cannot be told which certificate to trust; it will ${mstsc.some((n) => n.action === 'refuse') ? 'refuse' : 'warn'}: ${mstsc.map((n) => n.reason).join('; ')}.`
        : 'mstsc cannot be told which certificate to trust; nothing the check saw makes it warn.',
    };
  }
  const own = (o.clientArgs ?? []).find((a) => CALLER_CERT_ARG.test(a));
  if (own) return { mode: 'caller', verified, mstsc, summary: `the client decides by the caller's ${own}, not by what credgate verified.` };
  const freerdpArg = freerdpCertArg(verified)!;
  if (verified.length) {
    return { mode: 'verified', verified, mstsc, freerdpArg, summary: `the client accepts only the certificate credgate verified (SHA-256 ${freerdpFingerprint(verified[0]!)}) and refuses any other.` };
  }
  return { mode: 'client', verified, mstsc, freerdpArg, summary: 'credgate verified no certificate (no --rdp-ca-file): the client judges it with its own trust store and refuses, without asking, what it does not trust.' };
}
