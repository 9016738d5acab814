/**
 * Windows Credential Manager, live: CredEnumerateW / CredFree / CredDeleteW in advapi32 through
 * koffi (an optional dependency, imported lazily and only on win32). Reads Type, TargetName,
 * UserName, LastWritten (FILETIME), Persist and Comment. CredentialBlob is never read: the struct
 * declares it as an opaque pointer that is never dereferenced.
 * Not exercised in this project's CI (no Windows runner); typed against koffi's declarations.
 * Reference: learn.microsoft.com/windows/win32/api/wincred/ns-wincred-credentialw,
 * .../nf-wincred-credenumeratew, .../nf-wincred-creddeletew.
 */
import os from 'node:os';
import type * as Koffi from 'koffi';
import { CredgateError, UnsupportedPlatformError } from '../core/errors.js';
import { hostField, normalizeTarget, type CacheSource, type CachedCredential } from '../cache/types.js';

/** CRED_TYPE_* → the type names credgate uses (the same as the collector's). */
export const CRED_TYPES: Readonly<Record<number, string>> = { 1: 'generic', 2: 'domain-password', 3: 'domain-certificate', 4: 'domain-visible-password', 5: 'generic-certificate', 6: 'domain-extended' };
const TYPE_NUMBER: Readonly<Record<string, number>> = Object.fromEntries(Object.entries(CRED_TYPES).map(([n, t]) => [t, Number(n)]));
const PERSIST: Readonly<Record<number, CachedCredential['persist']>> = { 1: 'session', 2: 'local-machine', 3: 'enterprise' };
const FILETIME_UNIX_EPOCH = 116444736000000000n; // 100-ns intervals from 1601-01-01 to 1970-01-01
const ERROR_NOT_FOUND = 1168;

/** FILETIME (two uint32 halves, 100-ns ticks since 1601) → Date; undefined for 0. */
export function fileTimeToDate(lo: number, hi: number): Date | undefined {
  const ft = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  if (ft === 0n) return undefined;
  return new Date(Number((ft - FILETIME_UNIX_EPOCH) / 10000n));
}

/** The `cmdkey /list` spelling of a credential: `Domain:target=X` for domain types, `LegacyGeneric:target=X` for generic. */
export function credmanRawTarget(targetName: string, type: number): string {
  return `${type === 1 || type === 5 ? 'LegacyGeneric' : 'Domain'}:target=${targetName}`;
}

interface Api {
  koffi: typeof Koffi;
  CREDENTIALW: Koffi.IKoffiCType;
  CredEnumerateW: Koffi.KoffiFunction;
  CredFree: Koffi.KoffiFunction;
  CredDeleteW: Koffi.KoffiFunction;
  GetLastError: Koffi.KoffiFunction;
}

let cached: Promise<Api> | undefined;

function api(): Promise<Api> {
  if (process.platform !== 'win32') {
    return Promise.reject(new UnsupportedPlatformError(`The live Windows Credential Manager source only works on Windows (this is ${process.platform}); export it with "credgate cache collector" and read the JSON with --from.`, { code: 'UNSUPPORTED_PLATFORM', details: { platform: process.platform } }));
  }
  cached ??= (async () => {
    let koffi: typeof Koffi;
    const name = 'koffi';
    try {
      const m = (await import(/* @vite-ignore */ name)) as typeof Koffi & { default?: typeof Koffi };
      koffi = m.default ?? m;
    } catch (e) {
      throw new CredgateError('The optional package "koffi" is needed for the live Credential Manager source and is not installed; run npm install koffi next to credgate.', { code: 'PROVIDER_MISSING_DEPENDENCY', cause: e, details: { module: 'koffi' } });
    }
    const advapi = koffi.load('advapi32.dll');
    const FILETIME = koffi.struct('CG_FILETIME', { lo: 'uint32', hi: 'uint32' });
    // CREDENTIALW; CredentialBlob is an opaque pointer credgate never dereferences
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
  })();
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}

/** The current user's Credential Manager (win32 only; elsewhere list/remove reject with UNSUPPORTED_PLATFORM). */
export function windowsCredentialManager(): CacheSource {
  return {
    name: 'credman',
    async list(): Promise<CachedCredential[]> {
      const a = await api();
      const count = [0];
      const out: unknown[] = [null];
      if (!a.CredEnumerateW(null, 1 /* CRED_ENUMERATE_ALL_CREDENTIALS */, count, out)) {
        const err = a.GetLastError() as number;
        if (err === ERROR_NOT_FOUND || count[0] === 0) return [];
        throw new CredgateError(`CredEnumerateW failed with Win32 error ${err} while listing the Credential Manager; run credgate as the user whose vault it is.`, { code: 'INTERNAL', details: { win32: err } });
      }
      const machine = os.hostname();
      try {
        const ptrs = a.koffi.decode(out[0], 'void *', count[0]!) as unknown[];
        return ptrs.map((p) => {
          const c = a.koffi.decode(p, a.CREDENTIALW) as { Type: number; TargetName: string; Comment: string | null; UserName: string | null; Persist: number; LastWritten: { lo: number; hi: number } };
          const target = normalizeTarget(c.TargetName);
          const lastWritten = fileTimeToDate(c.LastWritten.lo, c.LastWritten.hi);
          const persist = PERSIST[c.Persist];
          return {
            target, rawTarget: credmanRawTarget(c.TargetName, c.Type), ...hostField(target), type: CRED_TYPES[c.Type] ?? `type-${c.Type}`,
            ...(c.UserName ? { username: c.UserName } : {}),
            ...(lastWritten ? { lastWritten } : {}),
            ...(persist ? { persist } : {}),
            ...(c.Comment ? { comment: c.Comment } : {}),
            source: 'credman', machine,
          } satisfies CachedCredential;
        });
      } finally {
        a.CredFree(out[0]);
      }
    },
    /**
     * Delete exactly one credential: the target name and type come from the raw target
     * (`Domain:target=TERMSRV/x` → CRED_TYPE_DOMAIN_PASSWORD, `LegacyGeneric:target=x` → CRED_TYPE_GENERIC).
     * Resolves false when it is already gone.
     */
    async remove(rawTarget: string, type?: string): Promise<boolean> {
      const a = await api();
      const m = /^(Domain|LegacyGeneric|Generic)\s*:\s*target=(.*)$/i.exec(rawTarget);
      const name = m ? m[2]! : rawTarget;
      const t = (type && TYPE_NUMBER[type]) || (m && /generic/i.test(m[1]!) ? 1 : 2);
      if (a.CredDeleteW(name, t, 0)) return true;
      const err = a.GetLastError() as number;
      if (err === ERROR_NOT_FOUND) return false;
      throw new CredgateError(`CredDeleteW failed with Win32 error ${err} for ${name}; nothing else was touched.`, { code: 'INTERNAL', details: { win32: err, target: name } });
    },
  };
}
