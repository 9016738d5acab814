// credgate verify over a semicolon-separated file (Excel's CSV in comma-decimal locales), against the
// lab's slapd: the delimiter told from the header, quoted fields holding commas (each DN) and
// semicolons, the results on stdout with --output -. Only correct passwords are sent.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { slapd, type SlapdState } from '../../lab/state.js';
import { runCli } from '../../helpers/cli.js';
import { EXIT_CODES } from '../../../src/findings/catalog.js';

const dn = (lab: SlapdState, uid: string) => `uid=${uid},ou=people,${lab.suffix}`;
const q = (s: string) => `"${s.replace(/"/g, '""')}"`;

describe('credgate verify, semicolon-separated input', () => {
  it('every account bound and answered; results on stdout, the summary on stderr', async () => {
    const lab = slapd();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-verify-delim-'));
    try {
      const users = ['bench60', 'bench61', 'bench62', 'bench63'];
      const rows = ['\ufeffid;username;password', ...users.map((u, i) => `${q(`row ${i}; "${u}"`)};${q(dn(lab, u))};${q(lab.benchPassword)}`)];
      fs.writeFileSync(path.join(dir, 'export.csv'), rows.join('\r\n') + '\r\n');
      const r = await runCli(['verify', '--input', 'export.csv', '--output', '-', '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--concurrency', '2'], { cwd: dir, secrets: [lab.benchPassword] });
      expect(r.code, r.stderr).toBe(EXIT_CODES.ok);
      const recs = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { id: string; account: string; code: string; line: number });
      expect(recs.map((x) => [x.line, x.id, x.account, x.code]).sort()).toEqual(users.map((u, i) => [i + 2, `row ${i}; "${u}"`, dn(lab, u), 'ldap.ok']));
      expect(r.stderr).toMatch(/credgate verify: 4 checked in .*\n {2}ldap\.ok\s+4 /);
      expect(r.stderr).toContain('Results: standard output');
      expect(fs.readdirSync(dir)).toEqual(['export.csv']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
