import { defineConfig } from 'tsup';

export default defineConfig({
  entry: [
    'src/index.ts',
    'src/cli/main.ts',
    'src/providers/*.ts',
    'src/checks/*.ts',
    'src/cache/*.ts',
  ],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  // not wiped between builds (tests may be reading dist while another build runs);
  // `npm pack` / `npm publish` build from an empty dist (the prepack script)
  clean: false,
  splitting: true,
  target: 'node20',
  platform: 'node',
  shims: false,
  outDir: 'dist',
});
