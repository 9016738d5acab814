// The tests' own view of Windows, independent of the code under test: a second koffi binding of
// advapi32's Credential Manager (CredWriteW to set up, CredReadW and CredEnumerateW with a filter
// to check, CredDeleteW to clean up), the raw command line, and whether this Windows is Wine.
// Test code only: CredReadW here reads a password blob to compare its hash, which credgate never does.
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import type * as Koffi from 'koffi';

const require = createRequire(import.meta.url);
// koffi is CommonJS; loaded once per process
const koffi = require('koffi') as typeof Koffi;

const advapi = koffi.load('advapi32.dll');
const kernel32 = koffi.load('kernel32.dll');
const FILETIME = koffi.struct('T_FILETIME', { lo: 'uint32', hi: 'uint32' });
const CREDENTIALW = koffi.struct('T_CREDENTIALW', {
  Flags: 'uint32', Type: 'uint32', TargetName: 'str16', Comment: 'str16', LastWritten: FILETIME,
  CredentialBlobSize: 'uint32', CredentialBlob: 'void *', Persist: 'uint32', AttributeCount: 'uint32',
  Attributes: 'void *', TargetAlias: 'str16', UserName: 'str16',
});
const CredWriteW = advapi.func('bool __stdcall CredWriteW(T_CREDENTIALW *cred, uint32 flags)');
const CredReadW = advapi.func('bool __stdcall CredReadW(str16 target, uint32 type, uint32 flags, _Out_ void **cred)');
const CredEnumerateW = advapi.func('bool __stdcall CredEnumerateW(str16 filter, uint32 flags, _Out_ uint32 *count, _Out_ void **creds)');
const CredDeleteW = advapi.func('bool __stdcall CredDeleteW(str16 target, uint32 type, uint32 flags)');
const CredFree = advapi.func('void __stdcall CredFree(void *buffer)');
const GetLastError = kernel32.func('uint32 __stdcall GetLastError()');
const SetLastError = kernel32.func('void __stdcall SetLastError(uint32 code)');
const GetCommandLineW = kernel32.func('str16 __stdcall GetCommandLineW()');

export const TYPE = { generic: 1, 'domain-password': 2 } as const;
export const PERSIST = { session: 1, 'local-machine': 2, enterprise: 3 } as const;
export const ERROR_NOT_FOUND = 1168;

/** Wine's version when this Windows is Wine (ntdll exports wine_get_version), undefined on Windows. */
export function wineVersion(): string | undefined {
  try {
    return koffi.load('ntdll.dll').func('const char * __cdecl wine_get_version()')() as string;
  } catch {
    return undefined;
  }
}

export interface TestCredential {
  target: string;
  type: keyof typeof TYPE;
  user: string;
  password: string;
  persist?: keyof typeof PERSIST;
  comment?: string;
}

export function credWrite(c: TestCredential): void {
  const blob = Buffer.from(c.password, 'utf16le');
  const ok = CredWriteW({
    Flags: 0, Type: TYPE[c.type], TargetName: c.target, Comment: c.comment ?? null, LastWritten: { lo: 0, hi: 0 },
    CredentialBlobSize: blob.length, CredentialBlob: blob, Persist: PERSIST[c.persist ?? 'local-machine'],
    AttributeCount: 0, Attributes: null, TargetAlias: null, UserName: c.user,
  }, 0) as boolean;
  if (!ok) throw new Error(`test setup: CredWriteW ${c.target} failed with ${GetLastError() as number}`);
}

export interface ReadBack {
  target: string;
  type: number;
  user: string | null;
  persist: number;
  comment: string | null;
  lastWritten: Date;
  /** sha256 of the stored blob (never the blob itself) */
  blobSha256: string;
  blobSize: number;
}

const EPOCH_1601 = 116444736000000000n;

function decode(p: unknown): ReadBack {
  const c = koffi.decode(p, CREDENTIALW) as { Type: number; TargetName: string; Comment: string | null; UserName: string | null; Persist: number; LastWritten: { lo: number; hi: number }; CredentialBlobSize: number; CredentialBlob: unknown };
  const blob = c.CredentialBlobSize ? Buffer.from(koffi.decode(c.CredentialBlob, 'uint8', c.CredentialBlobSize) as number[]) : Buffer.alloc(0);
  const ft = (BigInt(c.LastWritten.hi >>> 0) << 32n) | BigInt(c.LastWritten.lo >>> 0);
  const r = {
    target: c.TargetName, type: c.Type, user: c.UserName, persist: c.Persist, comment: c.Comment,
    lastWritten: new Date(Number((ft - EPOCH_1601) / 10000n)),
    blobSha256: createHash('sha256').update(blob).digest('hex'), blobSize: blob.length,
  };
  blob.fill(0);
  return r;
}

/** CredReadW, or undefined when there is no such credential (ERROR_NOT_FOUND). */
export function credRead(target: string, type: keyof typeof TYPE): ReadBack | undefined {
  const out: unknown[] = [null];
  if (!(CredReadW(target, TYPE[type], 0, out) as boolean)) {
    const e = GetLastError() as number;
    if (e === ERROR_NOT_FOUND) return undefined;
    throw new Error(`CredReadW ${target} failed with ${e}`);
  }
  try {
    return decode(out[0]);
  } finally {
    CredFree(out[0]);
  }
}

/** CredEnumerateW(filter, 0): the credentials whose TargetName starts with `prefix`. */
export function credList(prefix: string): ReadBack[] {
  const count = [0];
  const out: unknown[] = [null];
  if (!(CredEnumerateW(`${prefix}*`, 0, count, out) as boolean)) {
    const e = GetLastError() as number;
    if (e === ERROR_NOT_FOUND) return [];
    throw new Error(`CredEnumerateW ${prefix}* failed with ${e}`);
  }
  try {
    return (koffi.decode(out[0], 'void *', count[0]!) as unknown[]).map(decode);
  } finally {
    CredFree(out[0]);
  }
}

/** Delete quietly (test clean-up): true when it was there. */
export function credDelete(target: string, type: keyof typeof TYPE): boolean {
  return CredDeleteW(target, TYPE[type], 0) as boolean;
}

export function setLastError(code: number): void {
  SetLastError(code);
}

export function getLastError(): number {
  return GetLastError() as number;
}

/** This process's command line as Windows holds it. */
export function commandLine(): string {
  return GetCommandLineW() as string;
}

/** sha256 of a password as mstsc finds it in the credential blob (UTF-16LE). */
export function blobHashOf(password: string): string {
  return createHash('sha256').update(Buffer.from(password, 'utf16le')).digest('hex');
}

/** What CredEnumerateW(NULL, flags) answers, the credentials freed unread. */
export function enumerateFlagsResult(flags: number): { ok: boolean; err?: number } {
  const count = [0];
  const out: unknown[] = [null];
  const ok = CredEnumerateW(null, flags, count, out) as boolean;
  if (!ok) return { ok, err: GetLastError() as number };
  CredFree(out[0]);
  return { ok };
}
