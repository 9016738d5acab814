// Setup file of both test tiers: records every finding code the tests see emitted (see code-ledger.ts).
import { inject, vi } from 'vitest';
import { recordCodes, useLedger } from './code-ledger.js';

useLedger(inject('codeLedgerDir' as never) as string | undefined);
// one mark per test file, so the teardown knows how much of the suite ran
recordCodes(['#file']);

vi.mock('../../src/findings/finding.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/findings/finding.js')>();
  return {
    ...m,
    finding: (...a: Parameters<typeof m.finding>) => {
      recordCodes([a[1]]);
      return m.finding(...a);
    },
  };
});

vi.mock('../../src/findings/diagnose.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/findings/diagnose.js')>();
  return {
    ...m,
    diagnose: (...a: Parameters<typeof m.diagnose>) => {
      recordCodes(a[0].map((f) => f.code));
      return m.diagnose(...a);
    },
    decideAccount: (...a: Parameters<typeof m.decideAccount>) => {
      recordCodes(a[0].map((f) => f.code));
      return m.decideAccount(...a);
    },
  };
});
