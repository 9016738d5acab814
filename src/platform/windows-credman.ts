/**
 * Windows Credential Manager, live: CredEnumerateW / CredFree / CredDeleteW / CredWriteW in
 * advapi32 through koffi (an optional dependency, imported lazily and only on win32). The one
 * binding credgate has: the live cache source (cache/sources/credman.ts: list, remove) and `launch`
 * (write) use it.
 * Reads Type, TargetName, UserName, LastWritten (FILETIME), Persist and Comment. CredentialBlob is
 * never read: the struct declares it as an opaque pointer that is never dereferenced; writing
 * hands CredWriteW a buffer that is zeroed as soon as the call returns.
 *
 * Errors: every failing call is reported with its Win32 error (GetLastError), never read as
 * "nothing there". A failed enumeration is an error, not an empty vault: only ERROR_NOT_FOUND
 * (1168, "no credentials") is empty. The last error is read as koffi keeps it reliable (see
 * `lastErrorOf`).
 *
 * Exercised by the Windows tier (`npm run test:windows`, test/windows/) on Node for Windows under
 * Wine; docs/windows.md says what Wine does differently.
 * Reference: learn.microsoft.com/windows/win32/api/wincred/ns-wincred-credentialw,
 * .../nf-wincred-credenumeratew, .../nf-wincred-creddeletew, .../nf-wincred-credwritew.
 */
import os from 'node:os';
import type * as Koffi from 'koffi';
import { CredgateError, UnsupportedPlatformError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';

/** CRED_TYPE_* → the type names credgate uses (the same as the collector's). */
export const CRED_TYPES: Readonly<Record<number, string>> = { 1: 'generic', 2: 'domain-password', 3: 'domain-certificate', 4: 'domain-visible-password', 5: 'generic-certificate', 6: 'domain-extended' };
const TYPE_NUMBER: Readonly<Record<string, number>> = Object.fromEntries(Object.entries(CRED_TYPES).map(([n, t]) => [t, Number(n)]));
/** CRED_PERSIST_*: how long a credential stays in the vault. */
export type CredentialPersistence = 'session' | 'local-machine' | 'enterprise';
const PERSIST: Readonly<Record<number, CredentialPersistence>> = { 1: 'session', 2: 'local-machine', 3: 'enterprise' };
const PERSIST_NUMBER: Readonly<Record<CredentialPersistence, number>> = { session: 1, 'local-machine': 2, enterprise: 3 };
const FILETIME_UNIX_EPOCH = 116444736000000000n; // 100-ns intervals from 1601-01-01 to 1970-01-01

/** CRED_ENUMERATE_ALL_CREDENTIALS: every credential of the user's set (Vista and later). */
export const CRED_ENUMERATE_ALL_CREDENTIALS = 1;
export const ERROR_NOT_FOUND = 1168;
export const ERROR_INVALID_FLAGS = 1004;

/** Names of the Win32 errors the Cred* functions document, for messages. */
const WIN32_NAMES: Readonly<Record<number, string>> = {
  5: 'ERROR_ACCESS_DENIED',
  8: 'ERROR_NOT_ENOUGH_MEMORY',
  87: 'ERROR_INVALID_PARAMETER',
  1004: 'ERROR_INVALID_FLAGS',
  1168: 'ERROR_NOT_FOUND',
  1312: 'ERROR_NO_SUCH_LOGON_SESSION',
  1315: 'ERROR_INVALID_ACCOUNT_NAME',
  2202: 'ERROR_BAD_USERNAME',
};

/** `1312 (ERROR_NO_SUCH_LOGON_SESSION)`, or just the number for an error without a known name. */
export function win32ErrorText(code: number): string {
  const name = WIN32_NAMES[code];
  return name ? `${code} (${name})` : String(code);
}

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

/**
 * The credential's own TargetName from what CredEnumerateW returned. With
 * CRED_ENUMERATE_ALL_CREDENTIALS, Windows documents that "the target name of each credential is
 * returned in the namespace:attribute=target format" (`Domain:target=TERMSRV/web01`,
 * `LegacyGeneric:target=git:https://x`, as `cmdkey /list` prints them), and CredDeleteW needs the
 * bare name. Only the two legacy namespaces matching the credential's type are taken off; a name
 * that is namespaced itself (`WindowsLive:target=...`) is kept as it is.
 */
export function credmanTargetName(returned: string, type: number): string {
  const generic = type === 1 || type === 5;
  const m = (generic ? /^LegacyGeneric:target=(.+)$/s : /^Domain:target=(.+)$/s).exec(returned);
  return m ? m[1]! : returned;
}

/** The advapi32 / kernel32 functions the source calls (koffi's; a unit test gives stand-ins). */
export interface CredmanApi {
  koffi: Pick<typeof Koffi, 'decode'>;
  CREDENTIALW: Koffi.IKoffiCType;
  CredEnumerateW: Koffi.KoffiFunction;
  CredFree: Koffi.KoffiFunction;
  CredDeleteW: Koffi.KoffiFunction;
  CredWriteW: Koffi.KoffiFunction;
  GetLastError: Koffi.KoffiFunction;
}

type Api = CredmanApi;

let cached: Promise<Api> | undefined;

function api(what = 'The live Windows Credential Manager source'): Promise<Api> {
  if (process.platform !== 'win32') {
    return Promise.reject(new UnsupportedPlatformError(`${what} only works on Windows (this is ${process.platform}); export it with "credgate cache collector" and read the JSON with --from.`, { code: 'UNSUPPORTED_PLATFORM', details: { platform: process.platform } }));
  }
  cached ??= (async () => {
    let koffi: typeof Koffi;
    const name = 'koffi';
    try {
      const m = (await import(/* @vite-ignore */ name)) as typeof Koffi & { default?: typeof Koffi };
      koffi = m.default ?? m;
    } catch (e) {
      throw new CredgateError('The optional package "koffi" is needed for Windows Credential Manager (the live cache source and launch) and is not installed; run npm install koffi next to credgate.', { code: 'PROVIDER_MISSING_DEPENDENCY', cause: e, details: { module: 'koffi' } });
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
      CredWriteW: advapi.func('bool __stdcall CredWriteW(const CG_CREDENTIALW *cred, uint32 flags)'),
      GetLastError: koffi.load('kernel32.dll').func('uint32 __stdcall GetLastError()'),
    };
  })();
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}

/**
 * The Win32 error of the BOOL-returning call that just returned `ok` (0 when it succeeded).
 *
 * koffi (since 2.6.10, "Protect GetLastError() value from Node.js and V8 on Windows"; Koromix/koffi
 * issue 112) saves the thread's last error the moment each native call returns and puts it back
 * just before the next native call, so the Win32 code Node and V8 run in between cannot overwrite
 * it; a GetLastError() bound through koffi then returns the failed call's error, but only when it
 * is the very next koffi call. This helper is the one place that reads it: synchronously, right
 * after the call, with nothing (no await, no other FFI call, no callback) in between.
 */
function lastErrorOf(a: Api, ok: boolean): number {
  return ok ? 0 : ((a.GetLastError() as number) >>> 0);
}

interface Enumerated {
  ok: boolean;
  err: number;
  count: number;
  ptr: unknown;
}

function enumerate(a: Api, flags: number): Enumerated {
  const count = [0];
  const out: unknown[] = [null];
  const ok = a.CredEnumerateW(null, flags, count, out) as boolean;
  const err = lastErrorOf(a, ok);
  return { ok, err, count: count[0] ?? 0, ptr: out[0] };
}

/**
 * CredEnumerateW(NULL) for every credential of the current user: with
 * CRED_ENUMERATE_ALL_CREDENTIALS, and with flags 0 when that flag is refused
 * (ERROR_INVALID_FLAGS: Windows before Vista, and Wine 8, measured by the Windows tier). Any other
 * failure throws with its Win32 error; ERROR_NOT_FOUND is the only "no credentials".
 */
function enumerateAll(a: Api): Enumerated & { flags: number } {
  let flags = CRED_ENUMERATE_ALL_CREDENTIALS;
  let r = enumerate(a, flags);
  if (!r.ok && r.err === ERROR_INVALID_FLAGS) {
    flags = 0;
    r = enumerate(a, flags);
  }
  if (!r.ok && r.err !== ERROR_NOT_FOUND) {
    throw new CredgateError(
      `Could not list the Windows Credential Manager: CredEnumerateW failed with Win32 error ${win32ErrorText(r.err)}; nothing was inspected. Run credgate in the interactive logon session of the user whose vault it is (a service or network logon has no credential set), or export the vault with "credgate cache collector" and read it with --from.`,
      { code: 'INTERNAL', details: { win32: r.err, function: 'CredEnumerateW', flags } },
    );
  }
  return { ...r, flags };
}

/** One credential as Credential Manager returns it (metadata only: the password blob is never read). */
export interface WindowsCredential {
  /** The credential's own target name (a `Domain:target=` prefix of CRED_ENUMERATE_ALL_CREDENTIALS taken off). */
  targetName: string;
  /** CRED_TYPE_* number. */
  type: number;
  userName?: string;
  lastWritten?: Date;
  persist?: CredentialPersistence;
  comment?: string;
}

/** Every credential of the current user's vault (an empty list only for ERROR_NOT_FOUND); any other failure throws with its Win32 code. */
export async function listWindowsCredentials(load: () => Promise<CredmanApi> = api): Promise<WindowsCredential[]> {
  const a = await load();
  const r = enumerateAll(a);
  if (!r.ok) return []; // ERROR_NOT_FOUND: the user has no credentials at all
  try {
    const ptrs = a.koffi.decode(r.ptr, 'void *', r.count) as unknown[];
    return ptrs.map((p) => {
      const c = a.koffi.decode(p, a.CREDENTIALW) as { Type: number; TargetName: string; Comment: string | null; UserName: string | null; Persist: number; LastWritten: { lo: number; hi: number } };
      const lastWritten = fileTimeToDate(c.LastWritten.lo, c.LastWritten.hi);
      const persist = PERSIST[c.Persist];
      return {
        targetName: credmanTargetName(c.TargetName, c.Type), type: c.Type,
        ...(c.UserName ? { userName: c.UserName } : {}),
        ...(lastWritten ? { lastWritten } : {}),
        ...(persist ? { persist } : {}),
        ...(c.Comment ? { comment: c.Comment } : {}),
      };
    });
  } finally {
    a.CredFree(r.ptr);
  }
}

/**
 * Delete exactly one credential: the target name and type come from the raw target
 * (`Domain:target=TERMSRV/x` → CRED_TYPE_DOMAIN_PASSWORD, `LegacyGeneric:target=x` → CRED_TYPE_GENERIC).
 * Resolves false when it is already gone (ERROR_NOT_FOUND); any other failure throws with its Win32 error.
 */
export async function deleteWindowsCredential(rawTarget: string, type?: string, load: () => Promise<CredmanApi> = api): Promise<boolean> {
  const a = await load();
  const m = /^(Domain|LegacyGeneric|Generic)\s*:\s*target=(.*)$/is.exec(rawTarget);
  const name = m ? m[2]! : rawTarget;
  const t = (type && TYPE_NUMBER[type]) || (m && /generic/i.test(m[1]!) ? 1 : 2);
  const ok = a.CredDeleteW(name, t, 0) as boolean;
  const err = lastErrorOf(a, ok);
  if (ok) return true;
  if (err === ERROR_NOT_FOUND) return false;
  throw new CredgateError(`CredDeleteW failed with Win32 error ${win32ErrorText(err)} for ${name}; nothing else was touched.`, { code: 'INTERNAL', details: { win32: err, function: 'CredDeleteW', target: name } });
}

export interface WindowsCredentialToWrite {
  /** TargetName, e.g. `TERMSRV/web01.corp.example`. */
  target: string;
  /** `domain-password` (what mstsc reads for TERMSRV/<host>) or `generic`. */
  type: 'domain-password' | 'generic';
  username: string;
  secret: Secret;
  /** Default `session`: gone when the user logs off. */
  persist?: CredentialPersistence;
  comment?: string;
}

/**
 * CredWriteW one credential for the current user (win32 only), replacing one with the same target
 * and type. The password goes in as UTF-16LE (what mstsc and cmdkey store) in a buffer zeroed
 * right after the call; it never appears in an error.
 */
export async function writeWindowsCredential(c: WindowsCredentialToWrite): Promise<void> {
  const a = await api('Writing to Windows Credential Manager');
  const type = TYPE_NUMBER[c.type]!;
  const persist = PERSIST_NUMBER[c.persist ?? 'session'];
  const blob = Buffer.from(c.secret.reveal(), 'utf16le');
  let ok: boolean;
  let err: number;
  try {
    ok = a.CredWriteW({
      Flags: 0, Type: type, TargetName: c.target, Comment: c.comment ?? null,
      LastWritten: { lo: 0, hi: 0 }, CredentialBlobSize: blob.length, CredentialBlob: blob.length ? blob : null,
      Persist: persist, AttributeCount: 0, Attributes: null, TargetAlias: null, UserName: c.username,
    }, 0) as boolean;
    err = lastErrorOf(a, ok);
  } finally {
    blob.fill(0);
  }
  if (!ok) {
    throw new CredgateError(`CredWriteW failed with Win32 error ${win32ErrorText(err)} for ${c.target}; nothing was stored. Check that Credential Manager is available for this user (an interactive logon session).`, { code: 'INTERNAL', details: { win32: err, function: 'CredWriteW', target: c.target } });
  }
}
