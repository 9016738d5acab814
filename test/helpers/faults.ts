// The fault a promise ends with: it must reject with a CredgateError (anything else, or a
// resolution, fails the test).
import { expect } from 'vitest';
import { CredgateError } from '../../src/core/errors.js';

export async function fault(p: Promise<unknown>): Promise<CredgateError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CredgateError);
    return e as CredgateError;
  }
  throw new Error('expected a CredgateError');
}
