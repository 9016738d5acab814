// fromKeychain against a REAL Secret Service: the lab's gnome-keyring in a private D-Bus session
// (test/lab/keyring.mjs). Items are written with @github/keytar itself and with secret-tool, and
// read back through the provider. Each run uses its own service names and deletes what it made.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { inspect } from 'node:util';
import { labPart } from '../../lab/state.js';
import { fromKeychain, loadKeytar, type KeytarApi } from '../../../src/providers/keychain.js';
import type { CredgateError } from '../../../src/core/errors.js';
import { failsWith } from '../../helpers/provider-conformance.js';

interface KeyringState { env: Record<string, string>; busAddress: string; probe: { service: string; account: string } }

const RUN = `credgate-test-${process.pid}-${Date.now().toString(36)}`;
const SVC = `${RUN}/rdp`; // a service name with a slash: "service/account" splits at the last one
const PW = 'Keychain!Secret-ü€-42';
const PW2 = 'Keychain!Other-43';
let kt: KeytarApi & { setPassword(s: string, a: string, p: string): Promise<void>; deletePassword(s: string, a: string): Promise<boolean> };
let lab: KeyringState;
const made: Array<[string, string]> = [];

const fails = (p: Promise<unknown>, code: string, secrets: string[] = [PW, PW2]): Promise<CredgateError> => failsWith(p, code, secrets);

beforeAll(async () => {
  lab = labPart<KeyringState>('keyring');
  // libsecret reads the bus address when it first connects: set it before any keytar call
  Object.assign(process.env, lab.env);
  kt = (await loadKeytar('@github/keytar')) as typeof kt;
  const put = async (s: string, a: string, p: string) => {
    await kt.setPassword(s, a, p);
    made.push([s, a]);
  };
  await put(SVC, 'PAMTEST\\alice', PW);
  await put(`${RUN}-single`, 'svc-rdp', PW2);
  await put(`${RUN}-two`, 'one', PW);
  await put(`${RUN}-two`, 'two', PW2);
});

afterAll(async () => {
  for (const [s, a] of made) await kt.deletePassword(s, a).catch(() => false);
});

describe('fromKeychain on the lab Secret Service', () => {
  it('resolves { service, account }: username defaults to the account, domain from options', async () => {
    const p = fromKeychain({ domain: 'PAMTEST' });
    const c = await p.resolve({ service: SVC, account: 'PAMTEST\\alice' });
    expect(c.secret.reveal()).toBe(PW);
    expect(c).toMatchObject({ username: 'PAMTEST\\alice', domain: 'PAMTEST', source: `keychain ${SVC}/PAMTEST\\alice` });
    // the Secret Service item's Modified time (secret-service.test.ts covers it in depth)
    expect(Math.abs(c.changedAt!.getTime() - Date.now())).toBeLessThan(120_000);
    expect(JSON.stringify(c) + inspect(c)).not.toContain(PW);
  });

  it('string refs: "service/account" split at the last slash; bare account with the service option', async () => {
    expect((await fromKeychain().resolve(`${SVC}/PAMTEST\\alice`)).secret.reveal()).toBe(PW);
    const p = fromKeychain({ service: SVC, username: 'alice@pamtest.local' });
    const c = await p.resolve('PAMTEST\\alice');
    expect(c.username).toBe('alice@pamtest.local');
    expect(c.secret.equals(PW)).toBe(true);
  });

  it('a service holding one account resolves by service alone; two accounts is ambiguous and lists names only', async () => {
    const c = await fromKeychain().resolve(`${RUN}-single`);
    expect(c.username).toBe('svc-rdp');
    expect(c.secret.reveal()).toBe(PW2);
    const e = await fails(fromKeychain().resolve(`${RUN}-two`), 'PROVIDER_BAD_RESPONSE');
    expect(e.details?.accounts).toEqual(expect.arrayContaining(['one', 'two']));
  });

  it('reads an item that secret-tool (libsecret, keytar\'s schema) stored', async () => {
    const svc = `${RUN}-st`;
    execFileSync('secret-tool', ['store', '--label=credgate test', 'service', svc, 'account', 'frank', 'xdg:schema', 'org.freedesktop.Secret.Generic'], {
      input: PW2, env: { ...process.env, ...lab.env }, timeout: 5000,
    });
    made.push([svc, 'frank']);
    const c = await fromKeychain().resolve({ service: svc, account: 'frank' });
    expect(c.secret.reveal()).toBe(PW2);
  });

  it('sees a rotation at once (no caching in the provider)', async () => {
    const svc = `${RUN}-rot`;
    await kt.setPassword(svc, 'gina', 'Rot!First-1');
    made.push([svc, 'gina']);
    const p = fromKeychain({ service: svc });
    expect((await p.resolve('gina')).secret.reveal()).toBe('Rot!First-1');
    await kt.setPassword(svc, 'gina', 'Rot!Second-2');
    expect((await p.resolve('gina')).secret.reveal()).toBe('Rot!Second-2');
  });

  it('not found: unknown account, unknown service', async () => {
    const e = await fails(fromKeychain().resolve({ service: SVC, account: 'nobody' }), 'PROVIDER_NOT_FOUND');
    expect(e.message).toContain('nobody');
    await fails(fromKeychain().resolve(`${RUN}-absent`), 'PROVIDER_NOT_FOUND');
  });

  it('the package is loaded lazily: a missing one fails only on resolve, with the install command', async () => {
    const p = fromKeychain({ module: '@credgate-test/no-such-keytar' });
    const e = await fails(p.resolve({ service: SVC, account: 'x' }), 'PROVIDER_MISSING_DEPENDENCY');
    expect(e.message).toContain('npm install @credgate-test/no-such-keytar');
    // a module that is not keytar-shaped
    const e2 = await fails(fromKeychain({ module: 'node:path' }).resolve({ service: SVC, account: 'x' }), 'PROVIDER_MISSING_DEPENDENCY');
    expect(e2.message).toMatch(/keytar API/);
  });

  it('abort and dispose', async () => {
    const p = fromKeychain();
    await fails(p.resolve({ service: SVC, account: 'PAMTEST\\alice' }, { signal: AbortSignal.abort() }), 'ABORTED');
    p.dispose?.();
    await p[Symbol.asyncDispose]?.();
    await fails(p.resolve({ service: SVC, account: 'PAMTEST\\alice' }), 'USAGE');
  });

  it('invalid options and refs name the field', async () => {
    expect(() => fromKeychain({ timeoutMs: -5 })).toThrow(/timeoutMs/);
    expect(() => fromKeychain({ account: 'x' } as never)).toThrow(/"account"/);
    await fails(fromKeychain().resolve({ account: 'x' }), 'CONFIG_INVALID');
    await fails(fromKeychain().resolve({ service: SVC, acount: 'typo' } as never), 'CONFIG_INVALID');
  });
});
