// The keychain provider scrubs what it has already read from the keychain's own error text: a keytar
// binding that hands back a malformed item and then fails with a message quoting that item's password
// (a fake keytar module: no Secret Service needed).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, expect, afterAll } from 'vitest';
import { fromKeychain } from '../../../src/providers/keychain.js';
import { expectFailure } from '../../helpers/provider-conformance.js';

const PW = 'Fake!Keytar-Leaky-Pw-1';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-fake-keytar-'));
const mod = path.join(dir, 'fake-keytar.mjs');
fs.writeFileSync(mod, `
export async function getPassword() { return null; }
export async function findCredentials() {
  const item = { password: ${JSON.stringify(PW)} };
  Object.defineProperty(item, 'account', { get() { throw new Error('item with secret ${PW} has no account attribute'); } });
  return [item];
}
`);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('keychain error scrubbing', () => {
  it('a keychain error quoting a password the lookup already read is scrubbed from message and details', async () => {
    const p = fromKeychain({ module: mod, changedAt: false });
    const e = await expectFailure(p.resolve('some-service'), { code: 'PROVIDER_UNAVAILABLE' }, [PW]);
    expect(String(e.details?.reason)).toMatch(/^item with secret .+ has no account attribute$/);
  });
});
