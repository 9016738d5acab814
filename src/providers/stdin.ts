/**
 * The credential from a stream (standard input by default), read once:
 * `printf %s "$PW" | credgate check --password-stdin ...`.
 */
import type { z } from 'zod';
import { loadZod, once } from '../core/lazy.js';
import { Secret } from '../core/secret.js';
import { ConfigError, ProviderError, abortError, disposedError } from '../core/errors.js';
import { withSignal } from '../core/abort.js';
import type { OwnedProvider, ResolveOptions } from './types.js';
import { observed } from './observed.js';
import { describeIssues, issueFields, validateOptions } from './options.js';
import type { CredentialRef, FetchedCredential } from '../core/credential.js';

/** The zod schemas of this module, made (and zod loaded) when first used. */
const schemas = once(() => {
  const { z } = loadZod();
  /** What the stream carries. */
  const StdinFormat = z.enum(['auto', 'password', 'username:password', 'json']);
  const StdinOptions = z.object({
    /** The stream to read; defaults to process.stdin. Read once, on the first resolve. */
    stream: z.custom<NodeJS.ReadableStream>(
      (v) => typeof v === 'object' && v !== null && typeof (v as NodeJS.ReadableStream).on === 'function',
      'expected a readable stream',
    ).optional(),
    /**
     * `auto` (default): a JSON object when the input starts with `{`, else the password;
     * `password`: the whole input is the password (one trailing newline removed), even if it starts with `{`;
     * `username:password`: the first line, split at the first colon;
     * `json`: `{ "username", "password", "domain"?, "changedAt"? }`.
     */
    format: StdinFormat.default('auto'),
    /** The account name when the input carries only a password. */
    username: z.string().min(1).optional(),
    domain: z.string().min(1).optional(),
    /** Refuse input larger than this (bytes). Default 64 KiB. */
    maxBytes: z.number().int().positive().max(16 * 1024 * 1024).default(64 * 1024),
    /** Give up waiting for input after this long (ms). Default 30 s. */
    timeoutMs: z.number().int().positive().default(30_000),
  }).strict();
  const JsonCredential = z.object({
    username: z.string().min(1, 'must be a non-empty string'),
    password: z.string().min(1, 'must be a non-empty string'),
    domain: z.string().min(1).optional(),
    changedAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z' }).optional(),
  }).strict();
  return { StdinFormat, StdinOptions, JsonCredential };
});
type Schemas = ReturnType<typeof schemas>;

export type StdinProviderOptions = z.input<Schemas['StdinOptions']>;


/** Read a whole stream, refusing more than maxBytes (stops listening at once and wipes what it held). */
function readAll(stream: NodeJS.ReadableStream, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const wipe = () => {
      for (const c of chunks) c.fill(0);
      chunks.length = 0;
    };
    const cleanup = () => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
      stream.removeListener('close', onClose);
    };
    const onData = (chunk: Buffer | string) => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      size += b.length;
      if (size > maxBytes) {
        cleanup();
        wipe();
        b.fill(0);
        stream.pause();
        reject(new ProviderError(`Standard input is larger than ${maxBytes} bytes; pipe only the credential (or raise maxBytes).`, {
          code: 'PROVIDER_BAD_RESPONSE',
          details: { provider: 'stdin', maxBytes },
        }));
        return;
      }
      chunks.push(b);
    };
    const onEnd = () => {
      cleanup();
      const buf = Buffer.concat(chunks);
      const text = buf.toString('utf8');
      buf.fill(0);
      wipe();
      resolve(text);
    };
    const onError = (e: unknown) => {
      cleanup();
      wipe();
      reject(new ProviderError('Reading standard input failed; check what is piped into credgate.', {
        code: 'PROVIDER_UNAVAILABLE',
        details: { provider: 'stdin', error: (e as NodeJS.ErrnoException)?.code ?? 'read error' },
      }));
    };
    // a stream destroyed without an error and without 'end'
    const onClose = () => {
      if ((stream as { readableEnded?: boolean }).readableEnded) return;
      onError(Object.assign(new Error('closed'), { code: 'ECLOSED' }));
    };
    // a stream that ended before anyone listened (an empty pipe whose writer exited: Node ends and
    // destroys it at once) emits nothing more: it is empty, not a wait until the deadline
    const st = stream as { readableEnded?: boolean; destroyed?: boolean };
    if (st.readableEnded) return onEnd();
    if (st.destroyed) return onClose();
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
    stream.resume();
  });
}

function stripOneNewline(s: string): string {
  if (s.endsWith('\r\n')) return s.slice(0, -2);
  if (s.endsWith('\n')) return s.slice(0, -1);
  return s;
}

type Opts = z.output<Schemas['StdinOptions']>;

function parseJson(text: string, opts: Opts): FetchedCredential {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the input; it is never passed on (and is not the cause)
    throw new ProviderError('Standard input is not valid JSON; pipe {"username": "...", "password": "..."} (or the bare password with format "password").', {
      code: 'PROVIDER_BAD_RESPONSE',
      details: { provider: 'stdin', format: 'json' },
    });
  }
  const r = schemas().JsonCredential.safeParse(raw);
  if (!r.success) {
    throw new ProviderError(`The JSON on standard input is not a credential: ${describeIssues(r.error.issues)}.`, {
      code: 'PROVIDER_BAD_RESPONSE',
      details: { provider: 'stdin', format: 'json', fields: issueFields(r.error.issues) },
    });
  }
  const domain = r.data.domain ?? opts.domain;
  return {
    username: r.data.username,
    secret: new Secret(r.data.password),
    ...(domain ? { domain } : {}),
    ...(r.data.changedAt ? { changedAt: new Date(r.data.changedAt) } : {}),
    source: 'stdin (json)',
  };
}

function parseInput(text: string, opts: Opts): FetchedCredential {
  if (opts.format === 'json' || (opts.format === 'auto' && text.trimStart().startsWith('{'))) return parseJson(text, opts);
  const line = stripOneNewline(text);
  if (line.length === 0) {
    throw new ProviderError('Standard input was empty; pipe the credential in (printf %s "$PW" | credgate ...).', {
      code: 'PROVIDER_NOT_FOUND',
      details: { provider: 'stdin' },
    });
  }
  if (opts.format === 'username:password') {
    const first = line.split(/\r?\n/, 1)[0] ?? '';
    const colon = first.indexOf(':');
    if (colon <= 0) {
      throw new ProviderError('Standard input is not "username:password" (no user name before the first colon).', {
        code: 'PROVIDER_BAD_RESPONSE',
        details: { provider: 'stdin', format: 'username:password' },
      });
    }
    if (colon === first.length - 1) {
      throw new ProviderError('Standard input has a user name but an empty password ("username:password").', {
        code: 'PROVIDER_BAD_RESPONSE',
        details: { provider: 'stdin', format: 'username:password' },
      });
    }
    return {
      username: first.slice(0, colon),
      secret: new Secret(first.slice(colon + 1)),
      ...(opts.domain ? { domain: opts.domain } : {}),
      source: 'stdin (username:password)',
    };
  }
  return {
    username: opts.username ?? '',
    secret: new Secret(line),
    ...(opts.domain ? { domain: opts.domain } : {}),
    source: 'stdin',
  };
}

/**
 * The credential from a stream (standard input by default), read once on the first resolve and
 * then answered from memory: a PAM hook pipes the password in, credgate uses it for every check
 * of that run. The reference is ignored (`'-'` by convention). Input is capped (`maxBytes`), a
 * terminal is refused (it would wait for typing), and nothing read ever appears in an error.
 */
export function fromStdin(options: StdinProviderOptions = {}): OwnedProvider {
  const parsed = { data: validateOptions('stdin', schemas().StdinOptions, options) };
  const opts = parsed.data;
  let pending: Promise<FetchedCredential> | undefined;
  let disposed = false;

  const load = (): Promise<FetchedCredential> => {
    if (!pending) {
      const stream = opts.stream ?? process.stdin;
      if ((stream as NodeJS.ReadStream).isTTY) {
        pending = Promise.reject(new ProviderError('Standard input is a terminal, not a pipe; pipe the credential in (printf %s "$PW" | credgate ...).', {
          code: 'PROVIDER_NOT_FOUND',
          details: { provider: 'stdin', tty: true },
        }));
      } else {
        pending = readAll(stream, opts.maxBytes).then((text) => parseInput(text, opts));
      }
      pending.catch(() => {});
    }
    return pending;
  };

  const provider: OwnedProvider = {
    name: 'stdin',
    async resolve(_ref: CredentialRef, { signal }: ResolveOptions = {}): Promise<FetchedCredential> {
      if (disposed) {
        throw disposedError('stdin provider', 'create a new one with fromStdin()', { provider: 'stdin' });
      }
      if (signal?.aborted) throw abortError(signal, 'Reading standard input');
      const deadline = AbortSignal.timeout(opts.timeoutMs);
      const all = signal ? AbortSignal.any([signal, deadline]) : deadline;
      // the read goes on when one caller gives up: the next resolve still gets the credential
      const cred = await withSignal(load(), all, undefined, () => (signal?.aborted
        ? abortError(signal, 'Reading standard input')
        : new ProviderError(`Nothing complete arrived on standard input within ${opts.timeoutMs} ms; pipe the credential in and close the pipe.`, {
          code: 'TIMEOUT', details: { provider: 'stdin', timeoutMs: opts.timeoutMs },
        })));
      return { ...cred };
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
