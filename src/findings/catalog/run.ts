/**
 * Catalog rows for the run itself: the vault provider's answer, bulk input lines, and a preflight
 * step that could not give an answer (a fault inside it), or gave none.
 */
import { fixed, type CatalogRow } from './types.js';

const VAULT_FIX = fixed({ action: 'Fix the vault reference or credgate\'s access to the vault, then run the check again.', owner: 'vault' });

export const RUN_ROWS = {
  'provider.ok': { category: 'ok', priority: 100, cause: 'The vault returned a credential.' },
  'not-checked': { category: 'not-checked', priority: 95, cause: 'This part of the check did not run.' },

  'provider.not-found': { category: 'provider', priority: 10, cause: 'The vault has no credential under that reference.', fix: { default: VAULT_FIX } },
  'provider.auth-failed': { category: 'provider', priority: 10, cause: 'credgate could not authenticate to the vault.', fix: { default: VAULT_FIX } },
  'provider.unavailable': { category: 'provider', priority: 11, cause: 'The vault could not be reached.', fix: { default: VAULT_FIX } },
  'provider.error': { category: 'provider', priority: 12, cause: 'The vault answered with an error or something unusable.', fix: { default: VAULT_FIX } },

  'input.invalid': {
    category: 'usage', priority: 15, cause: 'The input line could not be used (malformed, or no user name or password), so it was not checked.',
    fix: { default: fixed({ action: 'Fix the account line (a user name and a non-empty password are required).', owner: 'caller' }) },
  },

  'config.invalid': {
    category: 'usage', priority: 15, cause: 'A configuration value is invalid (a path, an option, the service account), so a step could not run.',
    fix: { default: fixed({ action: 'Fix the configuration named above.', owner: 'caller' }) },
  },
  'step.connection-failed': {
    category: 'unreachable', priority: 22, cause: 'A connection a step needed could not be made or was lost.',
    fix: { default: fixed({ action: 'Check that the server is up and reachable from here.', owner: 'network' }) },
  },
  'step.protocol-error': {
    category: 'unreachable', priority: 26, cause: 'A server answered with bytes that do not follow the protocol (a proxy, a broken server, or not the service expected).',
    fix: { default: fixed({ action: 'Check that the port is the real service (not a proxy or another protocol) and the server\'s logs.', owner: 'network' }) },
  },
  'step.tls-failed': {
    category: 'unreachable', priority: 30, cause: 'A step stopped at TLS: the server\'s certificate was rejected or its identity proof did not match (possibly a TLS-intercepting proxy).',
    fix: { default: fixed({ action: 'Check the certificate the server presents against the CA you gave (--rdp-ca-file / --ca-file); an identity proof that does not match the certificate can mean a TLS-intercepting proxy.', owner: 'network' }) },
  },
  'step.error': {
    category: 'internal', priority: 70, cause: 'A step failed unexpectedly, so its part of the check has no answer.',
    fix: { default: fixed({ action: 'See the error above; report it if it persists.', owner: 'caller' }) },
  },
  'step.aborted': {
    category: 'internal', priority: 71, cause: 'The caller aborted the check before this step answered.',
    fix: { default: fixed({ action: 'Run the check again without aborting it.', owner: 'caller' }) },
  },
  // nothing failed, but nothing proved the credential either (no ldap.ok, no rdp.nla-ok)
  'credential.not-checked': {
    category: 'usage', priority: 96, cause: 'Nothing proved the credential: neither the directory nor the RDP host (NLA) checked it.',
    fix: {
      'no-credential': fixed({ action: 'Give the credential (--provider with --ref, --password-env or --password-stdin; SDK: provider + ref, or password), or use `credgate probe` to check the host alone.', owner: 'caller' }),
      'no-directory': fixed(
        { action: 'Add the directory (--ldap <url> with --ca-file; SDK: directory) so one bind checks the password.', owner: 'caller' },
        { action: 'Or allow the NLA check (no --no-nla; SDK: rdp.nla / rdp.probe not false) against a host that offers NLA, so the RDP host itself checks the credential.', owner: 'caller' },
      ),
      // detail: why the bind did not run
      'bind-not-run': (c) => [
        { action: `Let the LDAP bind run (it did not: ${c.detail}).`, owner: 'caller' },
        { action: 'Or allow the NLA check (no --no-nla; SDK: rdp.nla / rdp.probe not false) against a host that offers NLA, so the RDP host itself checks the credential.', owner: 'caller' },
      ],
    },
  },
} as const satisfies Record<string, CatalogRow>;
