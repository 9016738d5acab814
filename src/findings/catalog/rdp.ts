/**
 * Catalog rows for the RDP host: the endpoint probe (X.224 negotiation, the TLS certificate) and
 * the NLA check. Fix lists by context: `default` for the probe, `nla` when the NLA check met the
 * same answer (the host does not offer NLA, so the credential cannot be checked there).
 */
import { fixed, type CatalogRow, type Remediation } from './types.js';
import { NLA_LOGON_FAILURE_FIX } from './ldap.js';

/** The NLA check's fix when the host does not offer NLA. */
const NLA_NOT_OFFERED: Remediation = Object.freeze({ action: 'Enable Network Level Authentication on the host (System → Remote Desktop → "Require devices to use Network Level Authentication"), or check the credential another way (LDAP).', owner: 'host' });
const RENEW = 'Renew the Remote Desktop certificate on the host (or delete it from certlm.msc → Remote Desktop → Certificates so Windows makes a new self-signed one), then restart the Remote Desktop Services service (TermService).';

const INCONSISTENT = Object.freeze({
  action: 'Probe the host\'s own RDP listener directly (bypass the proxy or load balancer, e.g. --address <the host\'s IP>); if that is healthy, set the proxy or load balancer to pass the X.224 Connection Request through unchanged (plain TCP, no TLS offload on the RDP port).',
  owner: 'network',
} as const);
const USER_AUTH = Object.freeze({
  action: 'On the host (or the RDP appliance in front of it) stop demanding TLS client certificates on this listener: set the security layer to Negotiate or SSL with NLA so password logons can connect; otherwise only clients with a client certificate the host trusts get in, and a password cannot be checked there.',
  owner: 'host',
} as const);

export const RDP_ROWS = {
  'rdp.nla-ok': { category: 'ok', priority: 100, cause: 'The RDP host accepted the credential at the NLA step.' },
  'rdp.reachable': { category: 'ok', priority: 100, cause: 'The RDP host answered and negotiated a security protocol.' },
  'rdp.logon-failure': {
    category: 'rejected', priority: 50, cause: 'The RDP host rejected the user name or password at the NLA step.',
    fix: { default: NLA_LOGON_FAILURE_FIX },
  },
  'rdp.not-rdp': {
    category: 'unreachable', priority: 23, cause: 'Something answers on the port, but it does not speak RDP.',
    fix: { default: (c) => [{ action: `Check that port ${c.port} is the Remote Desktop port on this host, and that no proxy or other service took it.`, owner: 'host' }] },
  },
  'rdp.nla-required': {
    category: 'info', priority: 85, cause: 'The host requires Network Level Authentication (CredSSP).',
    fix: { default: fixed({ action: 'Keep NLA; make sure clients have CredSSP enabled (enablecredsspsupport:i:1) and a current password.', owner: 'client' }) },
  },
  'rdp.neg-failure': {
    category: 'unreachable', priority: 25, cause: 'The host refused every security protocol credgate offered.',
    fix: {
      default: fixed({ action: 'Check the host\'s security layer settings.', owner: 'host' }),
      nla: fixed(NLA_NOT_OFFERED),
      // the host's CredSSP answer could not be used
      credssp: fixed({ action: 'Check the host\'s NLA (CredSSP) settings and updates; credgate speaks CredSSP 2–6 with NTLM.', owner: 'host' }),
    },
  },
  'rdp.ssl-required': {
    category: 'unreachable', priority: 25, cause: 'The host requires TLS security, which the client did not offer.',
    fix: {
      default: fixed({ action: 'Use a client that offers TLS; do not force legacy RDP security (negotiate security layer:i:1).', owner: 'host' }),
      nla: fixed(NLA_NOT_OFFERED),
    },
  },
  'rdp.ssl-not-allowed': {
    category: 'unreachable', priority: 25, cause: 'The host only allows legacy RDP security.',
    fix: {
      default: fixed({ action: 'On the host set the security layer to Negotiate or SSL (GPO: Require use of specific security layer for remote (RDP) connections).', owner: 'host' }),
      nla: fixed(NLA_NOT_OFFERED),
    },
  },
  'rdp.ssl-cert-missing': {
    category: 'unreachable', priority: 25, cause: 'The host has no certificate for TLS.',
    fix: {
      default: fixed({ action: 'Give the host an RDP certificate (or delete the broken one so Windows regenerates it) and restart TermService.', owner: 'host' }),
      nla: fixed(NLA_NOT_OFFERED),
    },
  },
  'rdp.hybrid-required': {
    category: 'unreachable', priority: 25, cause: 'The host requires NLA (CredSSP), which the client did not offer.',
    fix: {
      default: fixed({ action: 'Use a client with NLA (CredSSP) enabled: enablecredsspsupport:i:1.', owner: 'host' }),
      nla: fixed(NLA_NOT_OFFERED),
    },
  },
  'rdp.inconsistent-flags': {
    category: 'unreachable', priority: 25, cause: 'The host found the requested security protocols inconsistent with the security already in effect (a proxy or load balancer in front of it started TLS or rewrote the negotiation).',
    fix: { default: fixed(INCONSISTENT), nla: fixed(INCONSISTENT, NLA_NOT_OFFERED) },
  },
  'rdp.ssl-user-auth-required': {
    category: 'unreachable', priority: 25, cause: 'The host requires TLS with a client certificate, which the client did not offer.',
    fix: { default: fixed(USER_AUTH), nla: fixed(USER_AUTH, NLA_NOT_OFFERED) },
  },
  'rdp.legacy-security': {
    category: 'info', priority: 83, cause: 'The host offers only legacy RDP security (no TLS, no NLA).',
    fix: { default: fixed({ action: 'Enable TLS and NLA on the host (security layer Negotiate/SSL, "Allow connections only from computers running Remote Desktop with Network Level Authentication").', owner: 'host' }) },
  },
  'rdp.cert-expired': {
    category: 'unreachable', priority: 30, cause: 'The host\'s RDP certificate has expired.',
    fix: {
      // detail: the certificate's SHA-1 thumbprint
      default: (c) => [
        { action: RENEW, owner: 'host', priority: 1 },
        { action: `Find it by thumbprint ${c.detail} in certlm.msc (Remote Desktop store) or with: Get-ChildItem Cert:\\LocalMachine\\"Remote Desktop"`, owner: 'host', priority: 2 },
      ],
    },
  },
  'rdp.cert-not-yet-valid': {
    category: 'unreachable', priority: 30, cause: 'The host\'s RDP certificate is not valid yet (clock skew or a wrong certificate).',
    fix: { default: fixed({ action: 'Fix the clock on the host or on this machine (w32tm /resync), or reissue the certificate with a correct start date.', owner: 'host' }) },
  },
  'rdp.cert-expiring': {
    category: 'info', priority: 80, cause: 'The host\'s RDP certificate expires soon.',
    fix: { default: fixed({ action: RENEW, owner: 'host' }) },
  },
  'rdp.cert-self-signed': {
    category: 'info', priority: 82, cause: 'The host presents a self-signed RDP certificate.',
    fix: { default: fixed({ action: 'Issue the host an RDP certificate from your enterprise CA (GPO: Computer Configuration → Administrative Templates → Windows Components → Remote Desktop Services → Remote Desktop Session Host → Security → "Server authentication certificate template"), then restart the Remote Desktop Services service (TermService).', owner: 'host' }) },
  },
  'rdp.cert-untrusted': {
    category: 'unreachable', priority: 30, cause: 'The host\'s RDP certificate does not chain to the given CA.',
    fix: {
      'self-signed': fixed({ action: 'Replace the self-signed RDP certificate with one issued by your CA, then restart the Remote Desktop Services service (TermService).', owner: 'host' }),
      // detail: the certificate's issuer
      issued: (c) => [{ action: `Deploy the issuing CA (${c.detail}) to the clients' Trusted Root Certification Authorities store (GPO or certutil -addstore Root), or pass it with --ca-file.`, owner: 'client' }],
    },
  },
  'rdp.cert-name-mismatch-ca': {
    category: 'unreachable', priority: 30, cause: 'The host\'s RDP certificate is not issued for this host name (checked against the given CA).',
    fix: { default: (c) => nameMismatchFix(c.host, c.detail) },
  },
  'rdp.cert-name-mismatch': {
    category: 'info', priority: 81, cause: 'The host\'s RDP certificate is not issued for this host name (no CA was given, or the certificate is pinned, so it is not a failure).',
    fix: { default: (c) => nameMismatchFix(c.host, c.detail) },
  },
  'rdp.cert-weak': {
    category: 'info', priority: 83, cause: 'The host\'s RDP certificate uses a weak key or signature.',
    fix: { default: fixed({ action: 'Reissue the RDP certificate with an RSA 2048+ or ECDSA P-256 key and a SHA-256 signature.', owner: 'host' }) },
  },
} as const satisfies Record<string, CatalogRow>;

/** detail: a name the certificate carries (its first DNS SAN, else its CN), when it has one. */
function nameMismatchFix(host: string | undefined, carried: string | undefined): Remediation[] {
  return [{ action: `Connect with a name the certificate carries${carried ? ` (${carried})` : ''}, or reissue the Remote Desktop certificate with ${host} in its subjectAltName and restart the Remote Desktop Services service (TermService).`, owner: 'host' }];
}
