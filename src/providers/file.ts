/**
 * A credential from a JSON file: {"username": "...", "password": "...", "domain"?: "...", "changedAt"?: "ISO"},
 * or a map of such objects keyed by reference. The file should be readable only by its owner;
 * credgate warns (in the source text) when it is not.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { Secret } from '../core/secret.js';
import { ProviderError, abortError } from '../core/errors.js';
import type { CredentialRef, FetchedCredential } from '../core/credential.js';
import type { Provider, ResolveOptions } from './types.js';
import { validateOptions } from './options.js';

const Options = z.object({ path: z.string().min(1), cwd: z.string().optional() }).strict();
export type FileProviderOptions = z.input<typeof Options>;

const Cred = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
  domain: z.string().optional(),
  changedAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not an ISO date').optional(),
});

export function fromFile(options: FileProviderOptions): Provider {
  const o = validateOptions('file', Options, options);
  const file = path.resolve(o.cwd ?? process.cwd(), o.path);
  return {
    name: 'file',
    async resolve(ref: CredentialRef, { signal }: ResolveOptions = {}): Promise<FetchedCredential> {
      if (signal?.aborted) throw abortError(signal, `Reading ${file}`);
      let text: string;
      let mode = 0;
      try {
        text = await fs.promises.readFile(file, { encoding: 'utf8', ...(signal ? { signal } : {}) });
        mode = (await fs.promises.stat(file)).mode;
      } catch (e) {
        if (signal?.aborted) throw abortError(signal, `Reading ${file}`);
        const code = (e as NodeJS.ErrnoException).code;
        throw new ProviderError(`Cannot read the credential file ${file} (${code ?? 'error'}).`, { code: code === 'ENOENT' ? 'PROVIDER_NOT_FOUND' : 'PROVIDER_UNAVAILABLE', details: { provider: 'file', path: file } });
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new ProviderError(`The credential file ${file} is not valid JSON.`, { code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'file', path: file } });
      }
      const key = typeof ref === 'string' && ref !== '' && ref !== '.' ? ref : undefined;
      const node = key ? (json as Record<string, unknown>)?.[key] : json;
      if (key && node === undefined) {
        throw new ProviderError(`The credential file ${file} has no entry "${key}".`, { code: 'PROVIDER_NOT_FOUND', details: { provider: 'file', path: file, ref: key } });
      }
      const r = Cred.safeParse(node);
      if (!r.success) {
        const f = r.error.issues[0]!.path.join('.') || '(root)';
        throw new ProviderError(`The credential file ${file}${key ? ` entry "${key}"` : ''} has no valid "${f}" (${r.error.issues[0]!.message}).`, { code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'file', path: file, field: f } });
      }
      const loose = (mode & 0o077) !== 0;
      return {
        username: r.data.username, secret: new Secret(r.data.password), ...(r.data.domain ? { domain: r.data.domain } : {}),
        ...(r.data.changedAt ? { changedAt: new Date(r.data.changedAt) } : {}),
        source: `file ${file}${key ? `#${key}` : ''}${loose ? ' (WARNING: readable by group/others; chmod 600)' : ''}`,
      };
    },
  };
}
