// Delinea's zone-less times under a zone far from UTC: this test file's process (a vitest fork) runs
// in America/New_York, set before any Date is made here and restored afterwards. A parse as local time
// would shift changedAt by 5 hours; the provider reads such times as UTC.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { fromDelinea } from '../../../src/providers/delinea.js';
import { startDelinea, SS_USER, SS_PASSWORD, type DelineaFixture } from '../../fixtures/vendors/delinea.js';

const savedTz = process.env.TZ;
let srv: DelineaFixture;
beforeAll(async () => {
  process.env.TZ = 'America/New_York';
  srv = await startDelinea();
});
afterAll(async () => {
  await srv.close();
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe('delinea changedAt under TZ=America/New_York', () => {
  it('the zone is in effect (a naive parse would be off by 5 hours)', () => {
    expect(new Date(2026, 0, 15).getTimezoneOffset()).toBe(300);
    expect(new Date('2026-11-23T04:15:00').toISOString()).toBe('2026-11-23T09:15:00.000Z');
  });

  it('reads lastPasswordChangeAttempt "2026-11-23T04:15:00" as UTC', async () => {
    const p = fromDelinea({ url: `${srv.url}/SecretServer`, caFile: srv.caFile, username: SS_USER, password: SS_PASSWORD, domain: 'PAMTEST' });
    try {
      expect((await p.resolve('4711')).changedAt?.toISOString()).toBe('2026-11-23T04:15:00.000Z');
    } finally {
      await p.dispose!();
    }
  });
});
