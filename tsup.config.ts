import { defineConfig, type Options } from 'tsup';

// the package root, the CLI, and the public subpaths (package.json "exports"; docs/sdk.md)
const SUBPATHS: Record<string, string> = {
  'cli/main': 'src/cli/main.ts',
  'providers/env': 'src/providers/env.ts',
  'providers/stdin': 'src/providers/stdin.ts',
  'providers/file': 'src/providers/file.ts',
  'providers/keychain': 'src/providers/keychain.ts',
  'providers/laps': 'src/providers/laps.ts',
  'providers/vault': 'src/providers/vault.ts',
  'providers/cyberark': 'src/providers/cyberark.ts',
  'providers/delinea': 'src/providers/delinea.ts',
  'providers/azure-keyvault': 'src/providers/azure-keyvault.ts',
  'providers/aws-secrets-manager': 'src/providers/aws-secrets-manager.ts',
  'providers/compose': 'src/providers/compose.ts',
  'providers/config': 'src/providers/config.ts',
  'checks/ldap-bind': 'src/checks/ldap-bind.ts',
  'checks/account-state': 'src/checks/account-state.ts',
  'checks/rdp-endpoint': 'src/checks/rdp-endpoint.ts',
  'checks/rdp-nla': 'src/checks/rdp-nla.ts',
  'checks/rdp-cert': 'src/checks/rdp-cert.ts',
  'checks/kerberos': 'src/checks/kerberos.ts',
  'cache/index': 'src/cache/index.ts',
  'report/index': 'src/report/index.ts',
  'findings/index': 'src/findings/index.ts',
  'bulk/index': 'src/bulk/index.ts',
};
const ROOT = { index: 'src/index.ts' };

const common: Options = {
  // maps for stack traces (node --enable-source-maps), without the source text itself
  sourcemap: true,
  esbuildOptions(o) {
    o.sourcesContent = false;
  },
  // not wiped between builds (tests may be reading dist while another build runs);
  // `npm pack` / `npm publish` build from an empty dist (the prepack script)
  clean: false,
  target: 'node20',
  platform: 'node',
  // import.meta.url in the CJS build (core/lazy.ts loads dependencies with createRequire)
  shims: true,
  outDir: 'dist',
};

export default defineConfig([
  {
    ...common,
    // the subpaths share their code in chunks (a subpath loads only what it uses); the type
    // declarations of every entry, the root's too, come from this one build, so a type (Secret,
    // CredgateError) is one declaration whichever entry it is imported from
    entry: SUBPATHS,
    format: ['esm', 'cjs'],
    dts: { entry: { ...ROOT, ...SUBPATHS } },
    splitting: true,
  },
  {
    ...common,
    // the package root in one file: `import('credgate')` loaded 47 chunks (~0.4 ms each, cold);
    // what it loads on first use (providers, the LDAP client) is in the same file, evaluated only
    // then. Its module state is its own, as the CJS build's always was: Secret and CredgateError
    // are recognised across copies by Symbol.for marks (core/secret.ts, core/errors.ts)
    entry: ROOT,
    format: ['esm', 'cjs'],
    dts: false,
    splitting: false,
  },
]);
