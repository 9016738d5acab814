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
import { ConfigError } from '../core/errors.js';
import type { CredentialRef } from '../core/credential.js';
import { isProvider, type Provider } from './types.js';
import { FACTORIES } from './registry.js';

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
    const hint = i.code === 'invalid_key' ? 'provider names use letters, digits, _ . - only' : i.code === 'invalid_union' ? 'each provider needs either "type" (a built-in: ' + Object.keys(FACTORIES).join(', ') + ') or "module"' : i.message;
    throw new ConfigError(`${file}: ${at}: ${hint}.`, { code: 'CONFIG_INVALID', details: { file, path: at } });
  }
  return { ...r.data, file };
}

/** Build a named provider from the config (built-in type, or a module loaded by name relative to the config). */
export async function createProvider(config: CredgateConfig, name: string): Promise<Provider> {
  const entry = config.providers?.[name] as ProviderConfigEntry | undefined;
  if (!entry) {
    throw new ConfigError(`No provider named "${name}" in ${config.file ?? 'the config'}; configured: ${Object.keys(config.providers ?? {}).join(', ') || 'none'}.`, { code: 'CONFIG_INVALID', details: { provider: name } });
  }
  const dir = config.file ? path.dirname(config.file) : process.cwd();
  if ('type' in entry) {
    const f = FACTORIES[entry.type];
    if (!f) throw new ConfigError(`providers.${name}.type "${entry.type}" is not a built-in provider (${Object.keys(FACTORIES).join(', ')}); use "module" for a third-party one.`, { code: 'CONFIG_INVALID', details: { provider: name } });
    const opts = entry.type === 'file' ? { cwd: dir, ...entry.options } : entry.options;
    return f(opts);
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

export function testRefOf(config: CredgateConfig, name: string): CredentialRef | undefined {
  return (config.providers?.[name] as ProviderConfigEntry | undefined)?.testRef;
}
