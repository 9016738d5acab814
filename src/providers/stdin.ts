/**
 * The password (or a JSON credential) from a stream, read once: `printf %s "$PW" | credgate ...`.
 * Plain text is the password; a JSON object {username, password, domain?, changedAt?} is a full credential.
 */
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { Secret } from '../core/secret.js';
import { ConfigError, ProviderError, abortError } from '../core/errors.js';
import type { CredentialRef, FetchedCredential } from '../core/credential.js';
import type { Provider, ResolveOptions } from './types.js';

const MAX = 64 * 1024;

export interface StdinProviderOptions {
  stream?: Readable;
  /** User name when stdin holds only the password. */
  username?: string;
  domain?: string;
}

const Json = z.object({ username: z.string().min(1), password: z.string().min(1), domain: z.string().optional(), changedAt: z.string().optional() });

export function fromStdin(options: StdinProviderOptions = {}): Provider {
  let cached: Promise<FetchedCredential> | undefined;
  const read = async (signal?: AbortSignal): Promise<FetchedCredential> => {
    const stream = options.stream ?? process.stdin;
    const chunks: Buffer[] = [];
    let size = 0;
    const onAbort = () => stream.destroy();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const c of stream) {
        const b = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
        size += b.length;
        if (size > MAX) throw new ConfigError('Standard input is larger than 64 KiB; pipe only the password (or a small JSON credential).', { code: 'CONFIG_INVALID' });
        chunks.push(b);
      }
    } catch (e) {
      if (signal?.aborted) throw abortError(signal, 'Reading standard input');
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    let text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
    if (text.length === 0) throw new ProviderError('Standard input was empty: pipe the password in.', { code: 'PROVIDER_NOT_FOUND', details: { provider: 'stdin' } });
    if (text.trimStart().startsWith('{')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ProviderError('Standard input starts with "{" but is not valid JSON; pipe the bare password or {"username","password"}.', { code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'stdin' } });
      }
      text = '';
      const r = Json.safeParse(parsed);
      if (!r.success) throw new ProviderError(`The JSON on standard input lacks ${r.error.issues[0]!.path.join('.')}; it needs {"username": ..., "password": ...}.`, { code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'stdin', field: r.error.issues[0]!.path.join('.') } });
      return {
        username: r.data.username, secret: new Secret(r.data.password), ...(r.data.domain ? { domain: r.data.domain } : {}),
        ...(r.data.changedAt && !Number.isNaN(Date.parse(r.data.changedAt)) ? { changedAt: new Date(r.data.changedAt) } : {}), source: 'stdin (json)',
      };
    }
    return { username: options.username ?? '', secret: new Secret(text), ...(options.domain ? { domain: options.domain } : {}), source: 'stdin' };
  };
  return {
    name: 'stdin',
    resolve(_ref: CredentialRef, { signal }: ResolveOptions = {}) {
      if (signal?.aborted) return Promise.reject(abortError(signal, 'Reading standard input'));
      // stdin can be read once: every resolve gets the same credential
      cached ??= read(signal);
      return cached;
    },
    dispose() {
      cached = undefined;
    },
  };
}
