// The CLI bundled from src/ (esbuild, ~20 ms), started exactly as bin/credgate.mjs starts dist: a
// test of a real credgate process that tests the source as it is, whatever state dist/ is in. The
// bundle lives under the project's node_modules/.cache, so its dependencies (left external)
// resolve from this checkout's node_modules wherever the test runs it from.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let n = 0;

/** Bundle src/cli/main.ts as an executable script; returns its path and a dispose that removes it. */
export async function bundleCli(): Promise<{ bin: string; dispose(): void }> {
  const dir = path.join(root, 'node_modules', '.cache', 'credgate-cli-test');
  fs.mkdirSync(dir, { recursive: true });
  const bin = path.join(dir, `credgate-${process.pid}-${n++}.mjs`);
  await build({
    stdin: {
      contents: `import { main } from ${JSON.stringify(path.join(root, 'src/cli/main.ts'))};\nmain(process.argv.slice(2)).then((c) => { process.exitCode = c; }, (e) => { process.stderr.write('credgate: internal error: ' + (e && e.message) + '\\n'); process.exitCode = 70; });\n`,
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: bin, logLevel: 'silent',
  });
  return { bin, dispose: () => fs.rmSync(bin, { force: true }) };
}
