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
import type { z } from 'zod';
import { lazyObject, loadZod, once } from '../core/lazy.js';
import { ConfigError, CredgateError, ProviderError } from '../core/errors.js';
import type { CredentialRef } from '../core/credential.js';
import { isProvider, type Provider } from './types.js';
import { PROVIDER_TYPES, loadProviderFactory } from './registry.js';
import { jsonErrorOffset, lineColumn } from '../core/json-position.js';
import type { EnvProviderOptions } from './env.js';
import type { StdinProviderOptions } from './stdin.js';
import type { FileProviderOptions } from './file.js';
import type { KeychainProviderOptions } from './keychain.js';
import type { LapsProviderOptions } from './laps.js';
import type { VaultProviderOptions } from './vault.js';
import type { CyberArkCcpOptions } from './cyberark.js';
import type { DelineaOptions } from './delinea.js';
import type { AzureKeyVaultOptions } from './azure-keyvault.js';
import type { AwsSecretsManagerOptions } from './aws-secrets-manager.js';

/** The zod schemas of this module, made (and zod loaded) when first used. */
const schemas = once(() => {
  const { z } = loadZod();
  const ProviderEntry = z.union([
    z.object({ type: z.string().min(1), options: z.record(z.string(), z.unknown()).default({}), testRef: z.union([z.string(), z.record(z.string(), z.unknown())]).optional() }).strict(),
    z.object({ module: z.string().min(1), export: z.string().default('default'), options: z.record(z.string(), z.unknown()).default({}), testRef: z.union([z.string(), z.record(z.string(), z.unknown())]).optional() }).strict(),
  ]);
  const ConfigSchema = z.object({
    $schema: z.string().optional(),
    providers: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'provider names use letters, digits, _ . -'), ProviderEntry).default({}),
  }).strict();
  return { ProviderEntry, ConfigSchema };
});
type Schemas = ReturnType<typeof schemas>;
export const ConfigSchema: Schemas['ConfigSchema'] = lazyObject(() => schemas().ConfigSchema);


export type CredgateConfig = z.input<Schemas['ConfigSchema']> & { /** where it was read from */ file?: string };
export type ProviderConfigEntry = z.infer<Schemas['ProviderEntry']>;

type TestRef = string | Record<string, unknown>;
/** A built-in provider entry, its options typed by its `type` (a misspelt type or option does not type-check). */
export type BuiltinProviderEntry =
  | { type: 'env'; options?: EnvProviderOptions; testRef?: TestRef }
  | { type: 'stdin'; options?: StdinProviderOptions; testRef?: TestRef }
  | { type: 'file'; options?: FileProviderOptions; testRef?: TestRef }
  | { type: 'keychain'; options?: KeychainProviderOptions; testRef?: TestRef }
  | { type: 'laps'; options: LapsProviderOptions; testRef?: TestRef }
  | { type: 'vault' | 'openbao'; options: VaultProviderOptions; testRef?: TestRef }
  | { type: 'cyberark-ccp'; options: CyberArkCcpOptions; testRef?: TestRef }
  | { type: 'delinea'; options: DelineaOptions; testRef?: TestRef }
  | { type: 'azure-keyvault'; options: AzureKeyVaultOptions; testRef?: TestRef }
  | { type: 'aws-secrets-manager'; options: AwsSecretsManagerOptions; testRef?: TestRef };
/** A third-party provider: a package or file whose export is a factory or a provider object. */
export interface ModuleProviderEntry { module: string; export?: string; options?: Record<string, unknown>; testRef?: TestRef }
/** What credgate.config.mjs writes, typed per provider. */
export interface CredgateConfigInput {
  $schema?: string;
  providers?: Record<string, BuiltinProviderEntry | ModuleProviderEntry>;
}

/** Identity helper for credgate.config.mjs, for types and editor completion: options are typed by each entry's `type`. */
export function defineConfig(config: CredgateConfigInput): CredgateConfigInput {
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
      throw new ConfigError(`Cannot load ${file}: ${moduleLoadReason(e, file)}`, { code: 'CONFIG_INVALID', details: { file } });
    }
  } else {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`Cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, { code: 'CONFIG_INVALID', details: { file } });
    }
    text = text.replace(/^\uFEFF/, '');
    try {
      raw = JSON.parse(text);
    } catch {
      // JSON.parse's message quotes the text around the fault (a token, a password): report where, never what
      const at = jsonErrorOffset(text);
      const pos = at >= 0 ? lineColumn(text, at) : undefined;
      throw new ConfigError(`${file} is not valid JSON${pos ? ` at line ${pos.line}, column ${pos.column}` : ''}: fix the syntax there (a missing comma, quote or brace, or a trailing comma); the file's text is not shown.`, {
        code: 'CONFIG_INVALID', details: { file, ...(pos ? { line: pos.line, column: pos.column } : {}) },
      });
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
    const resolved = entry.module.startsWith('.') || path.isAbsolute(entry.module) ? pathToFileURL(path.resolve(dir, entry.module)).href : pathToFileURL(resolvePackage(entry.module, dir)).href;
    mod = await import(resolved);
  } catch (e) {
    throw new ConfigError(`providers.${name}: cannot load module "${entry.module}" (${moduleLoadReason(e)}); install it next to the config.`, { code: 'CONFIG_INVALID', details: { provider: name, module: entry.module } });
  }
  const exp = mod[entry.export];
  let made: unknown;
  try {
    made = typeof exp === 'function' ? await (exp as (o: unknown) => unknown)(entry.options) : exp;
  } catch (e) {
    // the module's own text: labelled, first line, capped
    const code = e instanceof CredgateError ? e.code : 'CONFIG_INVALID';
    const E = code === 'CONFIG_INVALID' ? ConfigError : ProviderError;
    throw new E(`providers.${name}: the factory "${entry.export}" of "${entry.module}" failed: ${moduleLoadReason(e)}`, { code, details: { provider: name, module: entry.module } });
  }
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

/**
 * Why a module could not be loaded, safe to print: the first line of the error, capped; for a syntax
 * error only where it is (V8 quotes the offending token, which may be a secret written in the file).
 */
function moduleLoadReason(e: unknown, file?: string): string {
  const err = e instanceof Error ? e : new Error(typeof e === 'string' ? e : 'unknown error');
  if (err instanceof SyntaxError) {
    if (!file) return 'a SyntaxError (its text is not shown: it may quote a secret)';
    const m = new RegExp(`${escapeRegExp(pathToFileURL(file).href)}:(\\d+)`).exec(String(err.stack));
    return `a JavaScript syntax error${m ? ` at line ${m[1]}` : ''}; the offending text is not shown (node --check ${file} shows where)`;
  }
  const first = (err.message.split('\n')[0] ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ');
  return first.length > 200 ? `${first.slice(0, 200)}…` : first;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Resolve a package name (or name/subpath) from the config's folder: Node's require resolution, and for
 * ESM-only packages (an "exports" map with only an "import" condition, which require cannot resolve)
 * the package's "exports" read with the conditions import, node, default.
 */
function resolvePackage(specifier: string, dir: string): string {
  try {
    return createRequire(path.join(dir, 'noop.js')).resolve(specifier);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED' && code !== 'MODULE_NOT_FOUND') throw e;
    const esm = resolveEsmExports(specifier, dir);
    if (esm) return esm;
    throw e;
  }
}

function resolveEsmExports(specifier: string, dir: string): string | undefined {
  const m = /^((?:@[^/]+\/)?[^/@][^/]*)(\/.+)?$/.exec(specifier);
  if (!m) return undefined;
  const [, name, sub = ''] = m;
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const pkgDir = path.join(d, 'node_modules', name!);
    const pj = path.join(pkgDir, 'package.json');
    if (fs.existsSync(pj)) {
      let pkg: { exports?: unknown; main?: unknown };
      try {
        pkg = JSON.parse(fs.readFileSync(pj, 'utf8')) as typeof pkg;
      } catch {
        return undefined;
      }
      const target = pkg.exports !== undefined ? exportsTarget(pkg.exports, `.${sub}`) : !sub && typeof pkg.main === 'string' ? pkg.main : undefined;
      if (!target || !target.startsWith('./')) return undefined;
      const file = path.resolve(pkgDir, target);
      // an "exports" target stays inside its package
      return file.startsWith(pkgDir + path.sep) && fs.existsSync(file) ? file : undefined;
    }
    if (path.dirname(d) === d) return undefined;
  }
}

const CONDITIONS = new Set(['import', 'node', 'default']);

function exportsTarget(exp: unknown, key: string): string | undefined {
  if (typeof exp === 'string' || Array.isArray(exp)) return key === '.' ? conditionTarget(exp) : undefined;
  if (!exp || typeof exp !== 'object') return undefined;
  const keys = Object.keys(exp);
  if (keys.length > 0 && keys.every((k) => !k.startsWith('.'))) return key === '.' ? conditionTarget(exp) : undefined;
  return Object.hasOwn(exp, key) ? conditionTarget((exp as Record<string, unknown>)[key]) : undefined;
}

function conditionTarget(t: unknown, depth = 0): string | undefined {
  if (depth > 8) return undefined;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    for (const x of t) {
      const r = conditionTarget(x, depth + 1);
      if (r) return r;
    }
    return undefined;
  }
  if (t && typeof t === 'object') {
    // the first condition, in the object's order, that applies to an ESM import in Node
    for (const [k, v] of Object.entries(t)) if (CONDITIONS.has(k)) return conditionTarget(v, depth + 1);
  }
  return undefined;
}

export { jsonErrorOffset };
