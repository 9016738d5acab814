/**
 * Windows Credential Manager, live: CredEnumerateW / CredDeleteW through koffi (an optional
 * dependency, loaded only on win32). Reads Type, TargetName, UserName, LastWritten, Persist and
 * Comment — never CredentialBlob. Not exercised in this project's CI (no Windows runner).
 */
import os from 'node:os';
import { CredgateError, UnsupportedPlatformError } from '../core/errors.js';
import { normalizeTarget, type CacheSource, type CachedCredential } from './types.js';

const TYPES: Record<number, string> = { 1: 'generic', 2: 'domain-password', 3: 'domain-certificate', 4: 'domain-visible-password', 5: 'generic-certificate', 6: 'domain-extended' };
const PERSIST: Record<number, CachedCredential['persist']> = { 1: 'session', 2: 'local-machine', 3: 'enterprise' };
const FT_EPOCH = 116444736000000000n;

/* eslint-disable @typescript-eslint/no-explicit-any */
async function api(): Promise<any> {
  if (process.platform !== 'win32') {
    throw new UnsupportedPlatformError(`The live Windows Credential Manager source only works on Windows (this is ${process.platform}); export it with "credgate cache collector" and read the JSON with --from.`, { code: 'UNSUPPORTED_PLATFORM', details: { platform: process.platform } });
  }
  let koffi: any;
  const name = 'koffi';
  try {
    const m = await import(name);
    koffi = m.default ?? m;
  } catch (e) {
    throw new CredgateError('The optional package "koffi" is needed for the live Credential Manager source; run npm install koffi.', { code: 'PROVIDER_MISSING_DEPENDENCY', cause: e });
  }
  const advapi = koffi.load('advapi32.dll');
  const FILETIME = koffi.struct('CG_FILETIME', { lo: 'uint32', hi: 'uint32' });
  const CREDENTIALW = koffi.struct('CG_CREDENTIALW', {
    Flags: 'uint32', Type: 'uint32', TargetName: 'str16', Comment: 'str16', LastWritten: FILETIME,
    CredentialBlobSize: 'uint32', CredentialBlob: 'void *', Persist: 'uint32', AttributeCount: 'uint32',
    Attributes: 'void *', TargetAlias: 'str16', UserName: 'str16',
  });
  return {
    koffi, CREDENTIALW,
    CredEnumerateW: advapi.func('bool __stdcall CredEnumerateW(str16 filter, uint32 flags, _Out_ uint32 *count, _Out_ void **creds)'),
    CredFree: advapi.func('void __stdcall CredFree(void *buffer)'),
    CredDeleteW: advapi.func('bool __stdcall CredDeleteW(str16 target, uint32 type, uint32 flags)'),
    GetLastError: koffi.load('kernel32.dll').func('uint32 __stdcall GetLastError()'),
  };
}

export function windowsCredentialManager(): CacheSource {
  return {
    name: 'credman',
    async list(): Promise<CachedCredential[]> {
      const a = await api();
      const count = [0];
      const out = [null];
      if (!a.CredEnumerateW(null, 1, count, out)) {
        const err = a.GetLastError();
        if (err === 1168 /* ERROR_NOT_FOUND */) return [];
        throw new CredgateError(`CredEnumerateW failed with Win32 error ${err}.`, { code: 'INTERNAL', details: { win32: err } });
      }
      try {
        const ptrs = a.koffi.decode(out[0], 'void *', count[0]);
        return (ptrs as unknown[]).map((p) => {
          const c = a.koffi.decode(p, a.CREDENTIALW);
          const ft = (BigInt(c.LastWritten.hi) << 32n) | BigInt(c.LastWritten.lo);
          return {
            target: normalizeTarget(c.TargetName), rawTarget: c.TargetName, type: TYPES[c.Type] ?? `type-${c.Type}`,
            ...(c.UserName ? { username: c.UserName } : {}),
            ...(ft > 0n ? { lastWritten: new Date(Number((ft - FT_EPOCH) / 10000n)) } : {}),
            ...(PERSIST[c.Persist] ? { persist: PERSIST[c.Persist] } : {}),
            ...(c.Comment ? { comment: c.Comment } : {}),
            source: 'credman', machine: os.hostname(),
          } satisfies CachedCredential;
        });
      } finally {
        a.CredFree(out[0]);
      }
    },
    async remove(rawTarget: string): Promise<boolean> {
      const a = await api();
      for (const type of [2, 1, 3, 4]) {
        if (a.CredDeleteW(rawTarget.replace(/^(Domain|LegacyGeneric):target=/i, ''), type, 0)) return true;
      }
      return false;
    },
  };
}
