// stdin through the shared suite: "username:password" over a real OS pipe (a child process
// writing into it); "not found" is an empty pipe; the slow backend is a pipe nobody closes.
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fromStdin } from '../../../../src/providers/stdin.js';
import type { CredentialRef } from '../../../../src/core/credential.js';
import { providerConformance } from '../../../helpers/provider-conformance.js';

const PW = 'Pipe!Conformance:Pass-6';

const pipe = (text: string) => spawn('printf', ['%s', text], { stdio: ['ignore', 'pipe', 'ignore'] }).stdout;

providerConformance('stdin (username:password over a pipe)', { auth: false, unavailable: false, slow: true }, async () => {
  const real = fromStdin({ stream: pipe(`PAMTEST\\bob:${PW}\n`), format: 'username:password', domain: 'PAMTEST' });
  const empty = fromStdin({ stream: pipe(''), format: 'username:password' });
  const never = new PassThrough();
  return {
    provider: {
      name: 'stdin',
      resolve: (ref: CredentialRef, o?: { signal?: AbortSignal }) => (ref === 'EMPTY' ? empty.resolve('-', o) : real.resolve('-', o)),
      dispose: () => real.dispose?.(),
    },
    okRef: '-',
    expect: { username: 'PAMTEST\\bob', password: PW, domain: 'PAMTEST' },
    notFoundRef: 'EMPTY',
    slowProvider: fromStdin({ stream: never }),
    secrets: [PW],
    teardown: async () => {
      never.destroy();
    },
  };
});
