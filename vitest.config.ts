import { defineConfig } from 'vitest/config';

// Two tiers. unit: needs no lab (pure code, loopback servers the test starts itself); run alone with
// `npm run test:unit`. lab: the real servers (Samba AD DC, slapd, FreeRDP, Secret Service) that
// test/lab/ starts once per run, or reuses when `npm run lab:up` started them.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
    // every finding code the suite sees emitted must have a catalog row (test/helpers/code-ledger.ts)
    setupFiles: ['test/helpers/ledger-setup.ts'],
    // each project its own group, run one after another (unit, package, lab): vitest runs the projects
    // of one group together and refuses two with different maxWorkers there ("same
    // 'sequence.groupOrder'"), which made a plain `vitest run` of every project fail before any test
    projects: [
      // unit: 4 workers. Vitest's default is one fewer than the cores (1 on a 2-core machine), and most
      // unit files wait on their own loopback servers, child processes and timers rather than on the
      // CPU; measured on 2 cores: 62 s with 1 worker, 24 s with 4, the same CPU time (~42 s).
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], globalSetup: ['test/helpers/ledger-global.ts'], maxWorkers: 4, sequence: { groupOrder: 0 } } },
      // package: what npm publishes (a clean build packed, publint, arethetypeswrong, a fresh TypeScript
      // consumer); no lab, but ~30 s of its own build and type-check, so not in the unit tier
      { extends: true, test: { name: 'package', include: ['test/package/**/*.test.ts'], globalSetup: ['test/helpers/ledger-global.ts'], sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'lab', include: ['test/integration/**/*.test.ts'], globalSetup: ['test/lab/global-setup.ts', 'test/helpers/ledger-global.ts'], sequence: { groupOrder: 2 } } },
    ],
  },
});
