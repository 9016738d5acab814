/**
 * Optional vendor packages (@aws-sdk/credential-providers, @azure/identity): loaded only when a
 * provider's options ask for them, at the first resolve, from where credgate is installed (or the
 * caller's working folder); importing credgate never loads them. A missing package is
 * PROVIDER_MISSING_DEPENDENCY saying what to install and what to choose instead.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { ProviderError } from '../core/errors.js';

/** Import `name`: first as credgate's own dependency would resolve, then from `cwd`'s node_modules. */
export async function importOptional<T>(name: string, provider: string, alternative: string, cwd = process.cwd()): Promise<T> {
  const missing = () => new ProviderError(`The ${provider} provider was asked to use ${name}, which is not installed; run \`npm install ${name}\` next to credgate, or ${alternative}.`, { code: 'PROVIDER_MISSING_DEPENDENCY', details: { provider, package: name } });
  const notFound = (e: unknown) => ['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND'].includes(String((e as NodeJS.ErrnoException)?.code)) && String((e as Error).message).includes(name);
  try {
    // a variable specifier: bundlers leave it alone, and Node resolves it from credgate's own location
    const spec = name;
    return (await import(spec)) as T;
  } catch (e) {
    if (!notFound(e)) throw loadFailed(name, provider, e);
  }
  let resolved: string;
  try {
    resolved = createRequire(path.join(cwd, 'noop.js')).resolve(name);
  } catch {
    throw missing();
  }
  try {
    return (await import(pathToFileURL(resolved).href)) as T;
  } catch (e) {
    throw loadFailed(name, provider, e);
  }
}

function loadFailed(name: string, provider: string, e: unknown): ProviderError {
  const code = (e as NodeJS.ErrnoException)?.code;
  return new ProviderError(`The ${provider} provider could not load ${name} (${code ?? (e instanceof Error ? e.name : 'error')}); reinstall it, or choose another credential source.`, { code: 'PROVIDER_MISSING_DEPENDENCY', details: { provider, package: name, ...(code ? { errno: code } : {}) } });
}
