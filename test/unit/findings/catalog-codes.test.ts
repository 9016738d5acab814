// src/findings/catalog-codes.ts is what the published types say about catalog.json: it must hold
// exactly the catalog's codes and fix contexts.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const root = path.resolve(import.meta.dirname, '..', '..', '..');

describe('catalog-codes.ts', () => {
  it('is what scripts/catalog-types.mjs makes of catalog.json today', async () => {
    const { render } = (await import(path.join(root, 'scripts', 'catalog-types.mjs'))) as { render: (c: unknown) => string };
    const catalog = JSON.parse(fs.readFileSync(path.join(root, 'src', 'findings', 'catalog.json'), 'utf8')) as Record<string, unknown>;
    expect(fs.readFileSync(path.join(root, 'src', 'findings', 'catalog-codes.ts'), 'utf8')).toBe(render(catalog));
    // and --check says so by its exit code
    expect(() => execFileSync(process.execPath, [path.join(root, 'scripts', 'catalog-types.mjs'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('--check fails, naming the way out, when a code is added to the catalog without regenerating', async () => {
    const { render } = (await import(path.join(root, 'scripts', 'catalog-types.mjs'))) as { render: (c: unknown) => string };
    const catalog = JSON.parse(fs.readFileSync(path.join(root, 'src', 'findings', 'catalog.json'), 'utf8')) as Record<string, unknown>;
    const more = render({ ...catalog, 'x.new-code': { category: 'info', priority: 1, cause: 'x', fix: { default: [] } } });
    expect(more).toContain("'x.new-code': 'default';");
    expect(more).not.toBe(render(catalog));
  });
});
