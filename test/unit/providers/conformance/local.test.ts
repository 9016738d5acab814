// env, stdin and file providers pass the same suite (they have no credgate credentials to refuse,
// and nothing to be unreachable, so those two cases do not apply).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fromEnv } from '../../../../src/providers/env.js';
import { fromStdin } from '../../../../src/providers/stdin.js';
import { fromFile } from '../../../../src/providers/file.js';
import { providerConformance } from '../../../helpers/provider-conformance.js';

const PW = 'Env!Pass-Value-77';

providerConformance('env', { auth: false, unavailable: false }, async () => ({
  provider: fromEnv({ env: { RDP_PW: PW, RDP_USER: 'PAMTEST\\alice' }, usernameVar: 'RDP_USER' }),
  okRef: 'RDP_PW',
  expect: { username: 'PAMTEST\\alice', password: PW },
  notFoundRef: 'NOT_SET_ANYWHERE',
  secrets: [PW],
}));

providerConformance('stdin (JSON)', { auth: false, unavailable: false }, async () => {
  // stdin is read once; "not found" for stdin is an empty stream, served here by a second instance
  const real = fromStdin({ stream: Readable.from([Buffer.from(JSON.stringify({ username: 'bob', password: 'Stdin!Json-Pass', changedAt: '2026-11-01T00:00:00Z' }))]) });
  const empty = fromStdin({ stream: Readable.from([]) });
  return {
    provider: {
      name: 'stdin',
      resolve: (ref: unknown, o?: { signal?: AbortSignal }) => (ref === 'EMPTY' ? empty.resolve('', o) : real.resolve('', o)),
      dispose: () => real.dispose?.(),
    },
    okRef: '-',
    expect: { username: 'bob', password: 'Stdin!Json-Pass', changedAt: new Date('2026-11-01T00:00:00Z') },
    notFoundRef: 'EMPTY',
    secrets: ['Stdin!Json-Pass'],
  };
});

providerConformance('file', { auth: false, unavailable: false }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-file-'));
  const f = path.join(dir, 'creds.json');
  fs.writeFileSync(f, JSON.stringify({ web01: { username: 'carol', password: 'File!Pass-Value', domain: 'PAMTEST', changedAt: '2026-11-02T03:04:05Z' } }), { mode: 0o600 });
  return {
    provider: fromFile({ path: f }),
    okRef: 'web01',
    expect: { username: 'carol', password: 'File!Pass-Value', domain: 'PAMTEST', changedAt: new Date('2026-11-02T03:04:05Z') },
    notFoundRef: 'db99',
    secrets: ['File!Pass-Value'],
    teardown: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});
