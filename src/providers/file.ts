/**
 * A credential from a JSON file: `{"username", "password", "domain"?, "changedAt"?}`, or an object
 * of such entries keyed by name (`{"web01": {...}, "db01": {...}}`).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { lazyObject, loadZod, once } from '../core/lazy.js';
import { Secret } from '../core/secret.js';
import { ConfigError, ProviderError, abortError, disposedError } from '../core/errors.js';
import { describeIssues, issueFields, validateOptions } from './options.js';
import type { OwnedProvider, ResolveOptions } from './types.js';
import { observed } from './observed.js';
import { CHANNELS, publish } from '../core/telemetry.js';
import type { CredentialRef, FetchedCredential } from '../core/credential.js';

export interface FileProviderWarning {
  code: 'file.world-readable';
  message: string;
  path: string;
  /** Octal permission bits, e.g. "644". */
  mode: string;
}

/** The zod schemas of this module, made (and zod loaded) when first used. */
const schemas = once(() => {
  const { z } = loadZod();
  const FileOptions = z.object({
    /** The file. When set, a string ref names an entry in it; when not, a string ref is the file's path. */
    path: z.string().min(1).optional(),
    /** Relative paths (in options and refs) resolve against this directory; default: the working directory. */
    cwd: z.string().min(1).optional(),
    /** Refuse files larger than this (bytes). Default 1 MiB. */
    maxBytes: z.number().int().positive().max(64 * 1024 * 1024).default(1024 * 1024),
    /** Warn when the file is readable by every user (POSIX mode o+r). Default true. */
    checkPermissions: z.boolean().default(true),
    /** Receives permission warnings (also published on the credgate:warning channel, code file.world-readable). */
    onWarning: z.custom<(w: FileProviderWarning) => void>((v) => typeof v === 'function', 'expected a function').optional(),
  }).strict();
  /** One credential in a file. */
  const FileCredentialSchema = z.object({
    username: z.string().min(1, 'must be a non-empty string'),
    password: z.string().min(1, 'must be a non-empty string'),
    domain: z.string().min(1, 'must be a non-empty string when present').optional(),
    changedAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z' }).optional(),
  }).strict();
  const RefObject = z.object({
    path: z.string().min(1).optional(),
    entry: z.string().min(1).optional(),
  }).strict();
  return { FileOptions, FileCredentialSchema, RefObject };
});
type Schemas = ReturnType<typeof schemas>;
export const FileCredentialSchema: Schemas['FileCredentialSchema'] = lazyObject(() => schemas().FileCredentialSchema);
export type FileProviderOptions = z.input<Schemas['FileOptions']>;
/** A reference for fromFile: "path", "path#entry", an entry name (with the path option), or { path?, entry? }. */
export type FileRef = string | z.input<Schemas['RefObject']>;

export type FileCredential = z.infer<Schemas['FileCredentialSchema']>;


/** Refs that mean "the whole file is the credential". */
const WHOLE = new Set(['', '.', '-']);

interface Target {
  file: string;
  entry?: string;
}

function refError(message: string): ProviderError {
  return new ProviderError(message, { code: 'CONFIG_INVALID', details: { provider: 'file' } });
}

/**
 * The credential from a JSON file, read on every resolve (it may be rotated underneath), capped in
 * size and validated with zod. Errors name the file and the bad field, never a value. A file
 * readable by every user on the machine produces a warning (chmod 600 it).
 *
 * References: with the `path` option set, a string ref is an entry name (`"web01"`; `"-"` or `""`
 * for a file holding one credential); without it, a string ref is `"path"` or `"path#entry"`.
 * `{ path?, entry? }` works in both cases.
 */
export function fromFile(options: FileProviderOptions = {}): OwnedProvider<FileRef> {
  const parsed = { data: validateOptions('file', schemas().FileOptions, options) };
  const opts = parsed.data;
  const warned = new Set<string>();
  let disposed = false;

  const target = (ref: CredentialRef): Target => {
    let file: string | undefined;
    let entry: string | undefined;
    if (typeof ref === 'string') {
      if (opts.path) {
        file = opts.path;
        entry = WHOLE.has(ref) ? undefined : ref;
      } else {
        const hash = ref.lastIndexOf('#');
        file = (hash >= 0 ? ref.slice(0, hash) : ref) || undefined;
        entry = hash >= 0 ? ref.slice(hash + 1) || undefined : undefined;
      }
    } else {
      const r = schemas().RefObject.safeParse(ref);
      if (!r.success) throw refError(`Invalid file provider reference: ${describeIssues(r.error.issues)}; use "path", "path#entry" or { path, entry }.`);
      file = r.data.path ?? opts.path;
      entry = r.data.entry;
    }
    if (!file) throw refError('The file provider needs a file: pass its path as the ref or set the "path" option.');
    return { file: path.resolve(opts.cwd ?? process.cwd(), file), ...(entry ? { entry } : {}) };
  };

  const warn = (w: FileProviderWarning) => {
    if (warned.has(w.path)) return;
    warned.add(w.path);
    publish(CHANNELS.warning, { code: w.code, message: w.message, provider: 'file', path: w.path });
    opts.onWarning?.(w);
  };

  const read = async (file: string, signal: AbortSignal | undefined): Promise<string> => {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (e) {
      throw openError(e, file);
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) {
        throw new ProviderError(`${file} is not a regular file; point the file provider at a JSON file.`, {
          code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'file', path: file },
        });
      }
      if (opts.checkPermissions && process.platform !== 'win32' && (st.mode & 0o004) !== 0) {
        const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
        warn({
          code: 'file.world-readable',
          path: file,
          mode,
          message: `Credential file ${file} is readable by every user on this machine (mode ${mode}); restrict it with chmod 600 ${file}.`,
        });
      }
      if (st.size > opts.maxBytes) throw tooLarge(file, opts.maxBytes);
      const buf = await handle.readFile(signal ? { signal } : {});
      if (buf.length > opts.maxBytes) {
        buf.fill(0);
        throw tooLarge(file, opts.maxBytes);
      }
      const text = buf.toString('utf8');
      buf.fill(0);
      return text;
    } catch (e) {
      if (signal?.aborted) throw abortError(signal, `Reading ${file}`);
      if (e instanceof ProviderError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw new ProviderError(`Reading ${file} failed (${code ?? 'read error'}); check the file and its disk.`, {
        code: 'PROVIDER_UNAVAILABLE', details: { provider: 'file', path: file, ...(code ? { error: code } : {}) },
      });
    } finally {
      await handle.close().catch(() => {});
    }
  };

  const provider: OwnedProvider<FileRef> = {
    name: 'file',
    async resolve(ref: CredentialRef, { signal }: ResolveOptions = {}): Promise<FetchedCredential> {
      if (disposed) throw disposedError('file provider', 'create a new one with fromFile()', { provider: 'file' });
      if (signal?.aborted) throw abortError(signal, 'Reading the credential file');
      const t = target(ref);
      const text = await read(t.file, signal);
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        // JSON.parse's own message quotes the file's text (the password); never pass it on
        throw new ProviderError(`${t.file} is not valid JSON; write {"username": "...", "password": "..."}.`, {
          code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'file', path: t.file },
        });
      }
      let node = raw;
      let where = t.file;
      if (t.entry !== undefined) {
        where = `${t.file}#${t.entry}`;
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
          throw new ProviderError(`${t.file} is not an object of named entries, so it has no entry "${t.entry}".`, {
            code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'file', path: t.file, entry: t.entry },
          });
        }
        if (!Object.prototype.hasOwnProperty.call(raw, t.entry)) {
          throw new ProviderError(`${t.file} has no entry "${t.entry}"; check the reference.`, {
            code: 'PROVIDER_NOT_FOUND', details: { provider: 'file', path: t.file, entry: t.entry },
          });
        }
        node = (raw as Record<string, unknown>)[t.entry];
      }
      const r = FileCredentialSchema.safeParse(node);
      if (!r.success) {
        throw new ProviderError(`${where} is not a valid credential: ${describeIssues(r.error.issues)}.`, {
          code: 'PROVIDER_BAD_RESPONSE',
          details: { provider: 'file', path: t.file, ...(t.entry ? { entry: t.entry } : {}), fields: issueFields(r.error.issues) },
        });
      }
      return {
        username: r.data.username,
        secret: new Secret(r.data.password),
        ...(r.data.domain ? { domain: r.data.domain } : {}),
        ...(r.data.changedAt ? { changedAt: new Date(r.data.changedAt) } : {}),
        source: `file ${where}`,
      };
    },
    async dispose() {
      disposed = true;
    },
    async [Symbol.asyncDispose]() {
      provider.dispose?.();
    },
  };
  return observed(provider);
}

function tooLarge(file: string, max: number): ProviderError {
  return new ProviderError(`${file} is larger than ${max} bytes, too large for a credential file; check the path (or raise maxBytes).`, {
    code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'file', path: file, maxBytes: max },
  });
}

function openError(e: unknown, file: string): ProviderError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new ProviderError(`Credential file ${file} does not exist; check the path.`, { code: 'PROVIDER_NOT_FOUND', details: { provider: 'file', path: file } });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new ProviderError(`Credential file ${file} is not readable by this user; grant read access to the account running credgate.`, {
      code: 'PROVIDER_FORBIDDEN', details: { provider: 'file', path: file },
    });
  }
  return new ProviderError(`Opening ${file} failed (${code ?? 'error'}); check the path.`, {
    code: code === 'EISDIR' ? 'PROVIDER_BAD_RESPONSE' : 'PROVIDER_UNAVAILABLE', details: { provider: 'file', path: file, ...(code ? { error: code } : {}) },
  });
}
