/**
 * Provider names → factories. A new backend is one file in this folder and one line here.
 * A third-party provider needs no line: name its module in the config (`"module": "acme-credgate"`).
 */
import type { Provider } from './types.js';
import { fromEnv } from './env.js';
import { fromStdin } from './stdin.js';
import { fromFile } from './file.js';
import { fromVault } from './vault.js';
import { fromCyberArkCcp } from './cyberark.js';
import { fromAwsSecretsManager } from './aws-secrets-manager.js';
import { fromDelinea } from './delinea.js';
import { fromAzureKeyVault } from './azure-keyvault.js';
import { fromKeychain } from './keychain.js';
import { fromLaps } from './laps.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const FACTORIES: Record<string, (options: any) => Provider> = {
  env: fromEnv,
  stdin: fromStdin,
  file: fromFile,
  vault: fromVault,
  openbao: fromVault,
  'cyberark-ccp': fromCyberArkCcp,
  'aws-secrets-manager': fromAwsSecretsManager,
  delinea: fromDelinea,
  'azure-keyvault': fromAzureKeyVault,
  keychain: fromKeychain,
  laps: fromLaps,
};
