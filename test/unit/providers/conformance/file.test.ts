// file through the shared suite: a one-credential file named by the ref itself (no path option);
// "not found" is a path that does not exist.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fromFile } from '../../../../src/providers/file.js';
import { providerConformance } from '../../../helpers/provider-conformance.js';

const PW = 'File!Conformance-Pass-7';

providerConformance('file (path as the ref)', { auth: false, unavailable: false }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-conf-file-'));
  fs.writeFileSync(path.join(dir, 'web01.json'), JSON.stringify({ username: 'carol', password: PW, changedAt: '2026-10-01T08:00:00Z' }), { mode: 0o600 });
  return {
    provider: fromFile({ cwd: dir }),
    okRef: 'web01.json',
    expect: { username: 'carol', password: PW, changedAt: new Date('2026-10-01T08:00:00Z') },
    notFoundRef: 'db99.json',
    secrets: [PW],
    teardown: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});
