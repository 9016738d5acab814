// The results file's line (bulk/results.ts resultLine, hand-built for speed) is exactly the JSON of
// the result's fields in their documented order, whatever the strings hold, however often a code,
// message or URL repeats (their JSON is made once and kept, in a bounded table).
import { describe, it, expect } from 'vitest';
import { resultLine } from '../../../src/bulk/results.js';
import type { VerifyResult } from '../../../src/bulk/types.js';

/** The line as JSON.stringify writes it: the reference resultLine must match byte for byte. */
function reference(r: VerifyResult): string {
  return JSON.stringify({
    line: r.line, id: r.id, account: r.account, ok: r.ok, code: r.code, category: r.category, exitCode: r.exitCode, bound: r.bound,
    ...(r.url ? { url: r.url } : {}), ms: Number.isFinite(r.ms) ? r.ms : 0,
    findings: r.findings.map((f) => ({ code: f.code, severity: f.severity, message: f.message, evidence: f.evidence, ...(f.remediation.length ? { remediation: f.remediation } : {}) })),
  }) + '\n';
}

const base = (over: Partial<VerifyResult> = {}): VerifyResult => ({
  line: 2, id: '7', account: 'uid=a,ou=people,dc=x', ok: true, code: 'ldap.ok', category: 'ok', exitCode: 0, bound: true, url: 'ldaps://127.0.0.1:636', ms: 1.25,
  findings: [{ source: 'ldap-bind', code: 'ldap.ok', severity: 'ok', message: 'The directory accepted the credential.', evidence: { resultCode: 0, passwordPolicy: { received: true }, account: 'uid=a,ou=people,dc=x' }, remediation: [] }],
  ...over,
});

describe('resultLine', () => {
  it('writes the fields in their order, the same line as JSON.stringify, for every shape of result', () => {
    const cases: VerifyResult[] = [
      base(),
      base({ id: undefined, line: undefined, url: undefined, ms: Number.NaN }),
      base({ ok: false, code: 'ldap.invalid-credentials', category: 'rejected', exitCode: 1, findings: [{ source: 'ldap-bind', code: 'ldap.invalid-credentials', severity: 'error', message: 'The directory rejected the user name or password.', evidence: { resultCode: 49, diagnosticMessage: '80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v4563' }, remediation: [{ action: 'Check the password "as typed"', owner: 'caller' }] }] }),
      // strings JSON must escape: quotes, backslashes, control characters, lone surrogates, non-ASCII
      base({ id: 'a"b\\c\u0001', account: 'CORP\\älïce\u2028', url: 'ldaps://dc1.corp.example:636', findings: [{ source: 'x', code: 'net.timeout', severity: 'error', message: 'say "\ud800" \n then', evidence: { nested: { deep: ['\u0000', 1.5, null, true] } }, remediation: [] }] }),
      base({ findings: [] }),
    ];
    for (const r of cases) expect(resultLine(r)).toBe(reference(r));
  });

  it('a repeated code, message or URL reads the same the thousandth time; more than the table holds changes nothing', () => {
    for (let i = 0; i < 2000; i++) {
      const r = base({ account: `uid=u${i}`, url: `ldaps://dc${i % 700}.corp.example`, findings: [{ source: 'x', code: 'ldap.ok', severity: 'ok', message: `message ${i % 900}`, evidence: { i }, remediation: [] }] });
      expect(resultLine(r)).toBe(reference(r));
    }
  });
});
