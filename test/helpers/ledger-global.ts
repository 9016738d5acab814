// Global setup of both test tiers: a folder for the code ledger (code-ledger.ts); at teardown, every
// code recorded must have a row in src/findings/catalog.json, except the codes tests make up on
// purpose to prove that a code without a row is never read as passing (FOREIGN below).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const catalog = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'src', 'findings', 'catalog.json'), 'utf8')) as Record<string, unknown>;
/** Codes the tests invent to check the handling of codes outside the catalog (a third-party check's). */
const FOREIGN = new Set(['ldap.some-new-error', 'x.some-note', 'x.other', 'x.unheard-of']);

export default function setup({ provide }: { provide: (key: string, value: unknown) => void }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-codes-'));
  provide('codeLedgerDir', dir);
  return () => {
    const seen = new Set<string>();
    let files = 0;
    for (const f of fs.readdirSync(dir)) {
      for (const c of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
        if (c === '#file') files++;
        else if (c) seen.add(c);
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
    const missing = [...seen].filter((c) => !(c in catalog) && !FOREIGN.has(c) && c !== '$comment');
    process.stderr.write(`code ledger: ${seen.size} distinct finding codes emitted, ${missing.length} without a catalog row\n`);
    // a throw here is only logged by vitest: the run fails through its exit code
    const fail = (msg: string) => {
      process.stderr.write(`FAIL code ledger: ${msg}\n`);
      process.exitCode = 1;
    };
    if (missing.length) fail(`finding codes emitted without a row in src/findings/catalog.json: ${missing.sort().join(', ')}`);
    // a whole tier emits dozens of codes; a handful of files may emit none
    if (files >= 20 && seen.size < 5) fail(`the code ledger recorded only ${seen.size} codes over ${files} test files: its setup file is not recording`);
  };
}
