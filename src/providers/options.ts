/** Shared option handling for providers: zod validation with messages that name the option and the fix. */
import type http from 'node:http';
import type { z } from 'zod';
import { loadZod, once } from '../core/lazy.js';
import { ConfigError } from '../core/errors.js';
import { Secret } from '../core/secret.js';

/** Turn zod issues into "field: problem" text (never the offending value, nor a field name that does not look like one). */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      const where = i.path.length ? i.path.map(String).join('.') : '(root)';
      if (i.code === 'unrecognized_keys') {
        // a field name is the input's text too (a password pasted as a key): shown only when it looks like a name
        const shown = i.keys.filter((k) => /^[A-Za-z_$][A-Za-z0-9_$-]{0,31}$/.test(k));
        const hidden = i.keys.length - shown.length;
        return `${where}: unknown field(s) ${[...shown.map((k) => `"${k}"`), ...(hidden ? [`${hidden} whose name is not shown`] : [])].join(', ')}`;
      }
      return `${where}: ${i.message}`;
    })
    .join('; ');
}

/** The field paths of zod issues, for `details.fields`. */
export function issueFields(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) => i.path.map(String).join('.') || '(root)');
}

/** A provider factory's options checked by its schema: CONFIG_INVALID naming every bad option and what is wrong with it. */
export function validateOptions<T extends z.ZodTypeAny>(provider: string, schema: T, options: unknown): z.infer<T> {
  const r = schema.safeParse(options ?? {});
  if (!r.success) {
    const fields = issueFields(r.error.issues);
    throw new ConfigError(`Invalid ${provider} provider options: ${describeIssues(r.error.issues)}.`, { code: 'CONFIG_INVALID', details: { provider, option: fields[0], fields } });
  }
  return r.data;
}

/** The zod schemas of this module, made (and zod loaded) when first used. */
const schemas = once(() => {
  const { z } = loadZod();
  /** A secret given either directly (discouraged, but a Secret never prints) or by environment variable name. */
  const secretInput = z.union([z.string().min(1), z.custom<Secret>((v) => v instanceof Secret, 'expected a Secret')]);
  const httpOptionsSchema = {
    caFile: z.union([z.string(), z.array(z.string())]).optional(),
    timeoutMs: z.number().int().min(100).max(600_000).optional(),
    retries: z.number().int().min(0).max(10).optional(),
    backoffMs: z.number().int().min(0).max(60_000).optional(),
    maxBodyBytes: z.number().int().min(1024).max(64 * 1024 * 1024).optional(),
    /** A proxy URL for every request, or false for none; default HTTPS_PROXY / HTTP_PROXY / NO_PROXY. */
    proxy: z.union([z.string().min(1), z.literal(false)]).optional(),
    /** The caller's agent for https requests (e.g. a proxy agent); credgate then does no proxying of its own. */
    agent: z.custom<http.Agent>((v) => typeof v === 'object' && v !== null && typeof (v as { addRequest?: unknown }).addRequest === 'function', 'expected an http.Agent / https.Agent (an undici Dispatcher is not used: credgate speaks node:https)').optional(),
    /** The named opt-in for plain http to a loopback vault (a dev server); never for any other host. */
    insecureLoopbackHttp: z.literal(true, 'insecureLoopbackHttp is either absent or true').optional(),
  };
  return { secretInput, httpOptionsSchema };
});
type Schemas = ReturnType<typeof schemas>;
export const secretInput = (): Schemas['secretInput'] => schemas().secretInput;
export const httpOptionsSchema = (): Schemas['httpOptionsSchema'] => schemas().httpOptionsSchema;

export function secretFrom(provider: string, option: string, direct: string | Secret | undefined, envName: string | undefined, env: Record<string, string | undefined> = process.env): Secret | undefined {
  if (direct !== undefined) return Secret.from(direct);
  if (envName !== undefined) {
    const v = env[envName];
    if (v === undefined || v === '') {
      throw new ConfigError(`The ${provider} provider's ${option} comes from environment variable ${envName}, which is not set.`, { code: 'CONFIG_INVALID', details: { provider, option, variable: envName } });
    }
    return new Secret(v);
  }
  return undefined;
}

