// credgate/cache: the cache inspector for fleet scripts — read cached credentials (files or the
// live Windows Credential Manager), rate them, plan and carry out a purge. Re-exports only.
export { inspectCache, sameAccount, type InspectInput, type InspectResult } from './inspect.js';
export { planPurge, cmdkeyCommands, powershellScript, executePurge, type PurgePlan, type PurgeItem, type AuditRecord } from './purge.js';
export { parseCmdkeyList } from './sources/cmdkey.js';
export { parseRdpRegistryExport } from './sources/rdp-registry.js';
export { readCollectorFile, COLLECTOR_PS1, COLLECTOR_SCHEMA } from './sources/collector.js';
export { loadCacheFile, mergeSnapshots } from './load.js';
export { hostKey, sameHost } from './hosts.js';
export { normalizeTarget, termsrvHost, type CachedCredential, type RdpServerHint, type CacheSnapshot, type CacheSource } from './types.js';
export { windowsCredentialManager } from './sources/credman.js';
