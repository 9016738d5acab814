/** Catalog rows for the client's credential cache (Credential Manager, cmdkey, the RDP client's registry). */
import { fixed, type CatalogRow } from './types.js';

const client = 'client' as const;

export const CACHE_ROWS = {
  'cache.clean': { category: 'ok', priority: 100, cause: 'No cached credential for the host conflicts with the target account.' },
  'cache.stale-password': {
    category: 'stale-cache', priority: 60, cause: 'The client caches a password written before the account\'s password last changed.',
    fix: {
      default: fixed(
        { action: 'Purge the stale entries: credgate cache purge --yes (or cmdkey /delete:TERMSRV/<host> on the machine).', owner: client, priority: 1 },
        { action: 'Let the PAM client write the current password at the next launch; do not re-save it by hand.', owner: client, priority: 2 },
      ),
    },
  },
  'cache.wrong-user': {
    category: 'stale-cache', priority: 61, cause: 'The client caches a credential for another user for this host.',
    fix: { default: fixed({ action: 'Delete the entries cached for another user so the client uses the vault\'s account: credgate cache purge --yes.', owner: client }) },
  },
  'cache.conflicting-entries': {
    category: 'info', priority: 85, cause: 'The client caches the same host under several names with different users or times.',
    // items: the cached targets of the host
    fix: { default: (c) => [{ action: `Keep one entry per host; delete the others (${(c.items ?? []).map((t) => `cmdkey /delete:${t}`).join(', ')}).`, owner: client }] },
  },
  'cache.unknown-age': {
    category: 'not-checked', priority: 86, cause: 'A cached entry has no write time, so whether it predates the password change could not be judged.',
    fix: {
      default: fixed(
        { action: 'Read this machine with the fleet collector (credgate cache collector), which records each entry\'s LastWritten, and inspect again.', owner: client, priority: 1 },
        { action: 'Or, to be sure, delete the entry (cmdkey /delete:<target> on the machine) and let the PAM client write the current password at the next launch.', owner: client, priority: 2 },
      ),
    },
  },
  'cache.username-hint-mismatch': {
    category: 'info', priority: 84, cause: 'The RDP client remembers another user name for this host.',
    // host: the server name as the client's registry spells it
    fix: { default: (c) => [{ action: `Clear the hint: reg delete "HKCU\\Software\\Microsoft\\Terminal Server Client\\Servers\\${c.host}" /v UsernameHint /f`, owner: client }] },
  },
  'cache.cert-changed': {
    category: 'info', priority: 84, cause: 'The host\'s certificate differs from the one the client remembers.',
    fix: { default: fixed({ action: 'If the host\'s certificate was renewed on purpose, clear the old CertHash so users are not trained to click through warnings; otherwise investigate.', owner: client }) },
  },
  'cache.orphan': {
    category: 'info', priority: 90, cause: 'The client caches a credential for a host not in the inventory.',
    fix: { default: fixed({ action: 'Remove credentials cached for decommissioned hosts (cmdkey /delete:TERMSRV/<host>).', owner: client }) },
  },
} as const satisfies Record<string, CatalogRow>;
