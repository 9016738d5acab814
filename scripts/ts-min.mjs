#!/usr/bin/env node
// The minimum TypeScript version credgate's published types need (docs/sdk.md): an ESM (.mts) and a
// CommonJS (.cts) consumer importing credgate's built types (dist/*.d.ts, *.d.cts, through package.json
// "exports") are type-checked with TypeScript TS_MIN (must pass, skipLibCheck off: credgate's and zod's
// declarations are checked too) and with the release before it (expected to fail; reported). The
// compilers are installed once with npm into node_modules/.cache/credgate-ts-min.
//   node scripts/ts-min.mjs            (after npm run build)
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TS_MIN = '5.4';
const BELOW = '5.3';
const VERSIONS = { [TS_MIN]: '5.4.5', [BELOW]: '5.3.3' };

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cache = path.join(root, 'node_modules', '.cache', 'credgate-ts-min');
if (!fs.existsSync(path.join(root, 'dist', 'index.d.ts'))) {
  console.error('ts-min: dist/index.d.ts is missing; run npm run build first.');
  process.exit(2);
}

// the compilers, installed once
const wanted = Object.entries(VERSIONS).map(([k, v]) => `ts${k.replace('.', '')}@npm:typescript@${v}`);
const have = (k) => fs.existsSync(path.join(cache, 'node_modules', `ts${k.replace('.', '')}`, 'bin', 'tsc'));
if (!Object.keys(VERSIONS).every(have)) {
  fs.mkdirSync(cache, { recursive: true });
  if (!fs.existsSync(path.join(cache, 'package.json'))) fs.writeFileSync(path.join(cache, 'package.json'), '{"private":true}\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', ...wanted], { cwd: cache, stdio: 'inherit', timeout: 300_000 });
}

// a consumer project: credgate as a dependency (a link to this checkout), @types/node from this checkout
const work = fs.mkdtempSync(path.join(cache, 'consumer-'));
try {
  fs.mkdirSync(path.join(work, 'node_modules'));
  fs.symlinkSync(root, path.join(work, 'node_modules', 'credgate'), 'dir');
  fs.writeFileSync(path.join(work, 'package.json'), '{"private":true,"type":"module"}\n');
  const body = `
const vault = fromVault({ address: 'https://vault.example:8200', tokenEnv: 'VAULT_TOKEN' });
export async function run(): Promise<boolean> {
  await using env = fromEnv({ passwordVar: 'RDP_PASSWORD', username: 'svc-rdp' });
  await using pf = createPreflight({ providers: { vault, env }, logger: (e: TelemetryEvent) => void e.channel });
  const report = await pf.check({ host: 'web01.corp.example', provider: 'vault', ref: { mount: 'secret', path: 'rdp/web01' } });
  const cfg = defineConfig({ providers: { v: { type: 'vault', options: { address: 'https://v:8200' } } } });
  // @ts-expect-error a misspelt reference field
  void vault.resolve({ mount: 'secret', pathh: 'x' });
  try {
    await vault.resolve('kv2:secret/rdp/web01');
  } catch (e) {
    if (e instanceof ConnectionError || (e instanceof CredgateError && e.name === 'AbortError')) return false;
  }
  return report.ok && CHANNELS.step === 'credgate:step' && cfg.providers !== undefined;
}
`;
  const names = 'fromVault, fromEnv, createPreflight, defineConfig, CredgateError, ConnectionError, CHANNELS, type TelemetryEvent';
  fs.writeFileSync(path.join(work, 'esm.mts'), `import { ${names} } from 'credgate';\n${body}`);
  fs.writeFileSync(path.join(work, 'cjs.cts'), `import { ${names} } from 'credgate';\n${body}`);
  fs.writeFileSync(path.join(work, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true, noEmit: true, skipLibCheck: false, module: 'node16', moduleResolution: 'node16', target: 'es2022',
      lib: ['es2022', 'esnext.disposable'], types: ['node'], typeRoots: [path.join(root, 'node_modules', '@types')],
    },
    files: ['esm.mts', 'cjs.cts'],
  }, null, 2));
  const results = {};
  for (const k of Object.keys(VERSIONS)) {
    const tsc = path.join(cache, 'node_modules', `ts${k.replace('.', '')}`, 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', work], { encoding: 'utf8', timeout: 120_000 });
    results[k] = { ok: r.status === 0, out: (r.stdout + r.stderr).trim() };
    console.log(`TypeScript ${VERSIONS[k]}: ${r.status === 0 ? 'types check (ESM and CJS consumer)' : 'fails'}`);
    if (r.status !== 0) console.log(results[k].out.split('\n').slice(0, 8).map((l) => `  ${l}`).join('\n'));
  }
  if (!results[TS_MIN].ok) {
    console.error(`ts-min: credgate's types do not check with TypeScript ${TS_MIN}, the documented minimum.`);
    process.exitCode = 1;
  } else if (results[BELOW].ok) {
    console.log(`ts-min: TypeScript ${BELOW} checks too: the documented minimum (${TS_MIN}) could be lowered.`);
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
