/**
 * The live Windows Credential Manager as a cache source: the current user's credentials (metadata
 * only) listed and deleted through the one binding in platform/windows-credman.ts. Win32 only;
 * elsewhere list and remove reject with UNSUPPORTED_PLATFORM.
 */
import os from 'node:os';
import { CRED_TYPES, credmanRawTarget, deleteWindowsCredential, listWindowsCredentials, type CredmanApi } from '../../platform/windows-credman.js';
import { hostField, normalizeTarget, type CacheSource, type CachedCredential } from '../types.js';

/** The current user's Credential Manager. */
export function windowsCredentialManager(): CacheSource {
  return credentialManagerSource();
}

/** The live source over a given binding (koffi's by default; unit tests a stand-in). */
export function credentialManagerSource(load?: () => Promise<CredmanApi>): CacheSource {
  return {
    name: 'credman',
    async list(): Promise<CachedCredential[]> {
      const creds = await listWindowsCredentials(load);
      const machine = os.hostname();
      return creds.map((c) => {
        const target = normalizeTarget(c.targetName);
        return {
          target, rawTarget: credmanRawTarget(c.targetName, c.type), ...hostField(target), type: CRED_TYPES[c.type] ?? `type-${c.type}`,
          ...(c.userName ? { username: c.userName } : {}),
          ...(c.lastWritten ? { lastWritten: c.lastWritten } : {}),
          ...(c.persist ? { persist: c.persist } : {}),
          ...(c.comment ? { comment: c.comment } : {}),
          source: 'credman', machine,
        } satisfies CachedCredential;
      });
    },
    remove(rawTarget: string, type?: string): Promise<boolean> {
      return deleteWindowsCredential(rawTarget, type, load);
    },
  };
}
