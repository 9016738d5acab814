/**
 * Catalog rows for the network and TLS, shared by every server credgate talks to. Fix lists by
 * context: `directory` (an LDAP server), `directory-sent` (the directory had the request, e.g. a
 * bind, when the connection failed), `rdp` (an RDP host), `nla-*` (the NLA check's own faults),
 * `bulk` (a bulk run, which is resumable), `step` (a preflight step past its deadline).
 */
import { fixed, type CatalogRow } from './types.js';

export const NETWORK_ROWS = {
  'net.dns-failure': {
    category: 'unreachable', priority: 20, cause: 'The host name does not resolve.',
    fix: {
      directory: (c) => [{ action: `Check the spelling of ${c.host} and the client's DNS servers (nslookup ${c.host}).`, owner: 'network' }],
      rdp: (c) => [{ action: `Check the name and the client's DNS (Resolve-DnsName ${c.host}); use the FQDN the host is registered under.`, owner: 'network' }],
    },
  },
  'net.refused': {
    category: 'unreachable', priority: 21, cause: 'Nothing accepts connections on that port (service stopped or wrong port).',
    fix: {
      directory: (c) => [{ action: `Check that the directory service is running on ${c.host} and listening on port ${c.port} (${c.scheme === 'ldaps' ? 'LDAPS needs a DC certificate' : 'LDAP'}).`, owner: 'directory' }],
      rdp: (c) => [
        { action: 'On the host: enable Remote Desktop (System → Remote Desktop) and check that TermService is running.', owner: 'host' },
        { action: `Check the port: HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp\\PortNumber (you asked for ${c.port}).`, owner: 'host' },
      ],
    },
  },
  'net.timeout': {
    category: 'unreachable', priority: 22, cause: 'The host did not answer in time (firewall, port forward or a hung service).',
    fix: {
      directory: (c) => [
        { action: `Check that ${c.host} is up and that port ${c.port} is not silently dropped by a firewall.`, owner: 'network' },
        { action: 'Raise --timeout if the directory is known to be slow.', owner: 'caller' },
      ],
      'directory-sent': (c) => [
        { action: `Check ${c.host}'s directory service (hung or overloaded) and the path to port ${c.port}.`, owner: 'directory' },
        { action: 'Raise --timeout if the directory is known to be slow; run the check again later.', owner: 'caller' },
      ],
      rdp: (c) => [
        { action: `Check firewalls and port forwards on the path to ${c.host}:${c.port} (Windows Defender Firewall rule "Remote Desktop - User Mode (TCP-In)").`, owner: 'network' },
        { action: 'If the TCP connection opens but nothing answers, restart Remote Desktop Services (TermService) on the host.', owner: 'host' },
      ],
      step: fixed({ action: 'Raise the deadline or check the server that did not answer.', owner: 'network' }),
    },
  },
  'net.unreachable': {
    category: 'unreachable', priority: 22, cause: 'There is no route to the host.',
    fix: {
      directory: fixed({ action: 'Check routing / VPN between this machine and the directory.', owner: 'network' }),
      rdp: (c) => [{ action: `Check routing between this machine and ${c.host}: the VPN is connected, the subnet is routed (tracert ${c.host} / ip route get), the host is up.`, owner: 'network' }],
      // a connection fault of a kind credgate does not name
      other: fixed({ action: 'Check the host and the network path.', owner: 'network' }),
    },
  },
  'net.connection-lost': {
    category: 'unreachable', priority: 22, cause: 'The connection to the server was lost before it answered.',
    fix: {
      'directory-sent': (c) => [
        { action: `Check ${c.host}'s directory service logs (a crash or a reset connection) and any load balancer or firewall in the path that cuts connections.`, owner: 'directory' },
        { action: 'Run the check again once the server is stable.', owner: 'caller' },
      ],
      bulk: fixed({ action: 'Check the directory server\'s health and logs; rerun with the same --output to verify the remaining accounts (credgate does not resend a bind whose answer was lost).', owner: 'directory' }),
      rdp: (c) => [{ action: `Check the network path to ${c.host}:${c.port} and retry; if it persists, restart Remote Desktop Services (TermService) on the host.`, owner: 'network' }],
      'nla-closed': fixed({ action: 'Retry; if it persists, restart Remote Desktop Services (TermService) on the host and check its event log (RemoteDesktopServices-RdpCoreTS).', owner: 'host' }),
    },
  },
  'tls.untrusted': {
    category: 'unreachable', priority: 30, cause: 'The server\'s certificate is not trusted.',
    fix: {
      directory: fixed({ action: 'Pass the issuing CA with --ca-file <pem> (your enterprise root CA), or install it in the system trust store.', owner: 'caller' }),
      rdp: fixed({ action: 'Give the host an RDP certificate from the CA in --rdp-ca-file, or pass the CA that issued its certificate.', owner: 'host' }),
    },
  },
  'tls.name-mismatch': {
    category: 'unreachable', priority: 30, cause: 'The server\'s certificate is not for this host name.',
    fix: {
      directory: (c) => [{ action: `Connect with the name the certificate is issued for (its CN/SAN), or reissue the DC certificate with ${c.host} in its subjectAltName.`, owner: 'directory' }],
    },
  },
  'tls.expired': {
    category: 'unreachable', priority: 30, cause: 'The server\'s certificate has expired.',
    fix: {
      directory: fixed({ action: 'Renew the domain controller certificate (autoenrollment or the Kerberos/Domain Controller template) and restart the service.', owner: 'directory' }),
      rdp: fixed({ action: 'Renew the host\'s RDP certificate (Remote Desktop certificate template or auto-enrolment) and restart TermService.', owner: 'host' }),
    },
  },
  'tls.handshake-failed': {
    category: 'unreachable', priority: 31, cause: 'The TLS handshake failed.',
    fix: {
      directory: fixed({ action: 'Check that the port speaks the protocol of the URL (ldaps:// on 636, ldap:// + --starttls on 389) and that the server has a certificate.', owner: 'directory' }),
      rdp: fixed(
        { action: 'Check the host\'s TLS settings (SCHANNEL protocols enabled, a usable RDP certificate with its private key).', owner: 'host' },
        { action: 'Restart Remote Desktop Services (TermService) after fixing the certificate.', owner: 'host' },
      ),
      // the host's CredSSP public-key proof did not match its TLS certificate
      'nla-pubkey': fixed({ action: 'Connect without the TLS-intercepting proxy in between, or fix the host\'s CredSSP/TLS configuration.', owner: 'network' }),
    },
  },
  'tls.verification-disabled': {
    category: 'info', priority: 87, cause: 'TLS certificate verification was switched off for this check.',
    fix: { default: fixed({ action: 'Pass the directory\'s CA with --ca-file instead of disabling verification.', owner: 'caller' }) },
  },
} as const satisfies Record<string, CatalogRow>;
