// fromKeychain when no Secret Service can be reached: this file runs in its own process (vitest
// forks per file) whose session bus address points at a socket nobody listens on.
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fromKeychain } from '../../../src/providers/keychain.js';
import { isCredgateError, type CredgateError } from '../../../src/core/errors.js';

beforeAll(() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-nobus-'));
  process.env.DBUS_SESSION_BUS_ADDRESS = `unix:path=${path.join(dir, 'no-bus-here')}`;
  delete process.env.DISPLAY;
});

describe('fromKeychain without a Secret Service', () => {
  it('is PROVIDER_UNAVAILABLE, fast, with the fix in the message', async () => {
    const t0 = Date.now();
    let err: unknown;
    try {
      await fromKeychain({ timeoutMs: 5000 }).resolve({ service: 'credgate-nobus', account: 'alice' });
    } catch (e) {
      err = e;
    }
    expect(isCredgateError(err), String(err)).toBe(true);
    expect((err as CredgateError).code).toBe('PROVIDER_UNAVAILABLE');
    expect((err as CredgateError).message).toMatch(/Secret Service/);
    expect((err as CredgateError).details).toMatchObject({ service: 'credgate-nobus', account: 'alice', reason: expect.any(String) });
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
