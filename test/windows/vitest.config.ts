import path from 'node:path';
import { defineConfig } from 'vitest/config';

// The Windows tier: credgate's Windows code paths on Node for Windows (process.platform 'win32').
// `npm run test:windows` runs it under Wine (scripts/windows-tier.mjs holds everything Wine needs);
// on a Windows runner: npx vitest run --config test/windows/vitest.config.ts (after npm run build).
// The live Credential Manager tests write, list and delete credentials of the current user: each
// test names its own (a per-run id in every target) and touches nothing else.
export default defineConfig({
  root: path.resolve(import.meta.dirname, '..', '..'),
  test: {
    include: ['test/windows/**/*.test.ts', 'test/unit/cache/sources/sources.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
