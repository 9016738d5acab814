/** Shared option handling for providers: zod validation with messages that name the option and the fix. */
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { Secret } from '../core/secret.js';

export function validateOptions<T extends z.ZodTypeAny>(provider: string, schema: T, options: unknown): z.infer<T> {
  const r = schema.safeParse(options ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    const at = i.path.join('.') || '(options)';
    throw new ConfigError(`Invalid ${provider} provider option ${at}: ${i.message}.`, { code: 'CONFIG_INVALID', details: { provider, option: at } });
  }
  return r.data;
}

/** A secret given either directly (discouraged, but a Secret never prints) or by environment variable name. */
export const secretInput = z.union([z.string().min(1), z.custom<Secret>((v) => v instanceof Secret, 'expected a Secret')]);

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

export const httpOptionsSchema = {
  caFile: z.union([z.string(), z.array(z.string())]).optional(),
  timeoutMs: z.number().int().min(100).max(600_000).optional(),
  retries: z.number().int().min(0).max(10).optional(),
  backoffMs: z.number().int().min(0).max(60_000).optional(),
  maxBodyBytes: z.number().int().min(1024).max(64 * 1024 * 1024).optional(),
};
