#!/usr/bin/env node
// Writes src/findings/catalog-codes.ts from src/findings/catalog.json: the finding codes and each
// code's fix contexts as TypeScript types. The published declarations name these types instead of
// inlining the JSON (a .d.ts cannot hold the data itself). `npm run build` runs it; `--check`
// exits 1 when the file is out of date (test/unit/findings/catalog-codes.test.ts runs that).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const json = path.join(root, 'src', 'findings', 'catalog.json');
const out = path.join(root, 'src', 'findings', 'catalog-codes.ts');

export function render(catalog) {
  const lines = [
    '// Generated from catalog.json by scripts/catalog-types.mjs (npm run build); do not edit.',
    '// test/unit/findings/catalog-codes.test.ts fails when it is out of date.',
    '',
    '/** Each finding code, with the contexts its fixes are written for (never: it has no fixes). */',
    'export interface CatalogFixContexts {',
  ];
  for (const [code, row] of Object.entries(catalog)) {
    if (code === '$comment') continue;
    const variants = row.fix ? Object.keys(row.fix) : [];
    lines.push(`  ${JSON.stringify(code)}: ${variants.length ? variants.map((v) => JSON.stringify(v)).join(' | ') : 'never'};`);
  }
  lines.push('}', '');
  return lines.join('\n').replaceAll('"', "'");
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = render(JSON.parse(fs.readFileSync(json, 'utf8')));
  const current = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
  if (process.argv.includes('--check')) {
    if (current !== text) {
      console.error('src/findings/catalog-codes.ts is out of date with catalog.json: run node scripts/catalog-types.mjs (npm run build does).');
      process.exit(1);
    }
  } else if (current !== text) {
    fs.writeFileSync(out, text);
  }
}
