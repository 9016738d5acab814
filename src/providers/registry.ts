/**
 * Provider names → factories, loaded on first use: a config naming only `vault` loads neither the
 * AWS signer nor the LDAP client of `laps` (keeps the CLI's start time low). A new backend is one
 * file in this folder and one line here. A third-party provider needs no line: name its module in
 * the config (`"module": "acme-credgate"`).
 */
import type { Provider } from './types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ProviderFactory = (options: any) => Provider;

const LOADERS: Record<string, () => Promise<ProviderFactory>> = {
  env: async () => (await import('./env.js')).fromEnv,
  stdin: async () => (await import('./stdin.js')).fromStdin,
  file: async () => (await import('./file.js')).fromFile,
  vault: async () => (await import('./vault.js')).fromVault,
  openbao: async () => (await import('./vault.js')).fromVault,
  'cyberark-ccp': async () => (await import('./cyberark.js')).fromCyberArkCcp,
  'aws-secrets-manager': async () => (await import('./aws-secrets-manager.js')).fromAwsSecretsManager,
  delinea: async () => (await import('./delinea.js')).fromDelinea,
  'azure-keyvault': async () => (await import('./azure-keyvault.js')).fromAzureKeyVault,
  keychain: async () => (await import('./keychain.js')).fromKeychain,
  laps: async () => (await import('./laps.js')).fromLaps,
};

/** The built-in provider types a config's `"type"` may name. */
export const PROVIDER_TYPES: readonly string[] = Object.freeze(Object.keys(LOADERS));

/** The factory of a built-in provider type, loaded on first use; undefined for an unknown type. */
export async function loadProviderFactory(type: string): Promise<ProviderFactory | undefined> {
  return Object.hasOwn(LOADERS, type) ? LOADERS[type]!() : undefined;
}
