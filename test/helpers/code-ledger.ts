// The code ledger: every finding code the suite sees emitted (by finding(), by diagnose() and
// decideAccount(), in the JSON the CLI prints) is written to a per-run folder; at the end of the
// run the global teardown fails on any code that has no row in src/findings/catalog.json.
import fs from 'node:fs';
import path from 'node:path';

const CODE_IN_JSON = /"code":\s*"([a-z][a-z0-9]*(?:[.-][a-z0-9]+)*)"/g;

let dir: string | undefined;

/** Where this test worker writes (set by the setup file from the run's global setup). */
export function useLedger(d: string | undefined): void {
  dir = d;
}

export function recordCodes(codes: Iterable<string>): void {
  if (!dir) return;
  const list = [...codes].filter(Boolean);
  if (list.length) fs.appendFileSync(path.join(dir, `${process.pid}.txt`), list.join('\n') + '\n');
}

/** The lower-case dotted codes in a CLI's JSON output ("code": "ldap.invalid-credentials", ...). */
export function recordCodesInText(text: string): void {
  recordCodes([...text.matchAll(CODE_IN_JSON)].map((m) => m[1]!));
}
