/**
 * credgate.config.json / credgate.config.mjs (default export `defineConfig({...})`): named
 * providers and their options, validated with zod; errors name the file, the exact path and the fix.
 *
 *   { "providers": {
 *       "corp-vault": { "type": "vault", "options": { "address": "https://vault:8200", "tokenEnv": "VAULT_TOKEN" }, "testRef": "kv2:secret/rdp/web01" },
 *       "acme":       { "module": "@acme/credgate-provider", "export": "fromAcme", "options": { ... } } } }
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { ConfigError, CredgateError } from '../core/errors.js';
import type { CredentialRef } from '../core/credential.js';
import { isProvider, type Provider } from './types.js';
import { PROVIDER_TYPES, loadProviderFactory } from './registry.js';

const ProviderEntry = z.union([
  z.object({ type: z.string().min(1), options: z.record(z.string(), z.unknown()).default({}), testRef: z.union([z.string(), z.record(z.string(), z.unknown())]).optional() }).strict(),
  z.object({ module: z.string().min(1), export: z.string().default('default'), options: z.record(z.string(), z.unknown()).default({}), testRef: z.union([z.string(), z.record(z.string(), z.unknown())]).optional() }).strict(),
]);

export const ConfigSchema = z.object({
  $schema: z.string().optional(),
  providers: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'provider names use letters, digits, _ . -'), ProviderEntry).default({}),
}).strict();

export type CredgateConfig = z.input<typeof ConfigSchema> & { /** where it was read from */ file?: string };
export type ProviderConfigEntry = z.infer<typeof ProviderEntry>;

/** Identity helper for credgate.config.mjs, for types and editor completion. */
export function defineConfig(config: z.input<typeof ConfigSchema>): z.input<typeof ConfigSchema> {
  return config;
}

const CANDIDATES = ['credgate.config.mjs', 'credgate.config.js', 'credgate.config.json'];

/**
 * Find and validate the config. With `path`, read that file (relative to `cwd`); without, the first of
 * credgate.config.mjs, credgate.config.js, credgate.config.json in `cwd`. A `.mjs`/`.js` file is imported
 * and its default export (or `config`) used; JSON is parsed. Every problem is a `ConfigError`
 * (code CONFIG_INVALID) whose message starts with the file and the exact path (`providers.corp.type`)
 * and says the fix. The returned config carries `file`, which `createProvider` uses to resolve
 * relative paths and modules.
 */
export async function loadConfig({ cwd = process.cwd(), path: p }: { cwd?: string; path?: string } = {}): Promise<CredgateConfig> {
  const file = p ? path.resolve(cwd, p) : CANDIDATES.map((c) => path.join(cwd, c)).find((f) => fs.existsSync(f));
  if (!file) {
    throw new ConfigError(`No credgate.config.json or credgate.config.mjs in ${cwd}; create one or pass --config <file>.`, { code: 'CONFIG_INVALID', details: { cwd } });
  }
  let raw: unknown;
  if (/\.(mjs|js|cjs)$/.test(file)) {
    try {
      const mod = await import(pathToFileURL(file).href);
      raw = mod.default ?? mod.config;
    } catch (e) {
      throw new ConfigError(`Cannot load ${file}: ${(e as Error).message}`, { code: 'CONFIG_INVALID', details: { file } });
    }
  } else {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`Cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, { code: 'CONFIG_INVALID', details: { file } });
    }
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`${file} is not valid JSON (${(e as Error).message.slice(0, 100)}).`, { code: 'CONFIG_INVALID', details: { file } });
    }
  }
  const r = ConfigSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const at = i.path.join('.') || '(root)';
    const hint = i.code === 'invalid_key' ? 'provider names use letters, digits, _ . - only' : i.code === 'invalid_union' ? 'each provider needs either "type" (a built-in: ' + PROVIDER_TYPES.join(', ') + ') or "module"' : i.message;
    throw new ConfigError(`${file}: ${at}: ${hint}.`, { code: 'CONFIG_INVALID', details: { file, path: at } });
  }
  for (const [name, entry] of Object.entries(r.data.providers)) {
    if ('type' in entry && !PROVIDER_TYPES.includes(entry.type)) {
      throw new ConfigError(`${file}: providers.${name}.type: "${entry.type}" is not a built-in provider; use one of ${PROVIDER_TYPES.join(', ')}, or "module" for a third-party one.`, { code: 'CONFIG_INVALID', details: { file, path: `providers.${name}.type` } });
    }
  }
  return { ...r.data, file };
}

/**
 * Build the provider named `name` from a loaded config: a built-in `type` through the registry
 * (options validated by the provider's zod schema; relative caFile/certFile/keyFile resolved from the
 * config's folder), or a third-party `module` (a package name resolved from the config's folder, or a
 * relative path) whose `export` is a factory called with `options` or a provider object. No I/O
 * happens against the backend until the first `resolve`. Errors are ConfigError naming
 * `providers.<name>...`; the caller owns the provider and should `dispose()` it.
 */
export async function createProvider(config: CredgateConfig, name: string): Promise<Provider> {
  const entry = config.providers?.[name] as ProviderConfigEntry | undefined;
  if (!entry) {
    throw new ConfigError(`No provider named "${name}" in ${config.file ?? 'the config'}; configured: ${Object.keys(config.providers ?? {}).join(', ') || 'none'}.`, { code: 'CONFIG_INVALID', details: { provider: name } });
  }
  const dir = config.file ? path.dirname(config.file) : process.cwd();
  if ('type' in entry) {
    const f = await loadProviderFactory(entry.type);
    if (!f) throw new ConfigError(`providers.${name}.type "${entry.type}" is not a built-in provider (${PROVIDER_TYPES.join(', ')}); use "module" for a third-party one.`, { code: 'CONFIG_INVALID', details: { provider: name } });
    const opts = withPathsFrom(dir, entry.type === 'file' ? { cwd: dir, ...entry.options } : entry.options);
    try {
      return f(opts);
    } catch (e) {
      // name the place in the config file: providers.<name>.options.<option>
      if (e instanceof ConfigError || (e instanceof CredgateError && e.code === 'CONFIG_INVALID')) {
        const option = typeof e.details?.option === 'string' ? e.details.option : undefined;
        const at = `providers.${name}.options${option && option !== '(options)' ? `.${option}` : ''}`;
        throw new ConfigError(`${config.file ?? 'config'}: ${at}: ${e.message}`, { code: 'CONFIG_INVALID', cause: e, details: { ...(config.file ? { file: config.file } : {}), path: at, provider: name } });
      }
      throw e;
    }
  }
  let mod: Record<string, unknown>;
  try {
    const resolved = entry.module.startsWith('.') ? pathToFileURL(path.resolve(dir, entry.module)).href : pathToFileURL(createRequire(path.join(dir, 'noop.js')).resolve(entry.module)).href;
    mod = await import(resolved);
  } catch (e) {
    throw new ConfigError(`providers.${name}: cannot load module "${entry.module}" (${(e as Error).message.split('\n')[0]}); install it next to the config.`, { code: 'CONFIG_INVALID', details: { provider: name, module: entry.module } });
  }
  const exp = mod[entry.export] ?? (entry.export === 'default' ? undefined : undefined);
  const made = typeof exp === 'function' ? await (exp as (o: unknown) => unknown)(entry.options) : exp;
  if (!isProvider(made)) {
    throw new ConfigError(`providers.${name}: export "${entry.export}" of "${entry.module}" is not a provider (a factory returning { name, resolve(ref, { signal }) } or such an object).`, { code: 'CONFIG_INVALID', details: { provider: name, module: entry.module } });
  }
  return made;
}

/** caFile / certFile / keyFile written relative in a config file are relative to that file's folder. */
function withPathsFrom(dir: string, options: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...options };
  const abs = (v: unknown) => (typeof v === 'string' && !path.isAbsolute(v) ? path.resolve(dir, v) : v);
  for (const k of ['caFile', 'certFile', 'keyFile']) {
    if (k in out) out[k] = Array.isArray(out[k]) ? (out[k] as unknown[]).map(abs) : abs(out[k]);
  }
  return out;
}

/** The reference `credgate providers` resolves to test a provider (the entry's "testRef"), if any. */
export function testRefOf(config: CredgateConfig, name: string): CredentialRef | undefined {
  return (config.providers?.[name] as ProviderConfigEntry | undefined)?.testRef;
}
