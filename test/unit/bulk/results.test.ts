// The results file's line (bulk/results.ts resultLine, hand-built for speed) is exactly the JSON of
// the result's fields in their documented order, whatever the strings hold, however often a code,
// message or URL repeats (their JSON is made once and kept, in a bounded table).
import { describe, it, expect } from 'vitest';
import { resultLine } from '../../../src/bulk/results.js';
import type { VerifyResult } from '../../../src/bulk/types.js';
import { Secret } from '../../../src/core/secret.js';

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

  it('writes any evidence exactly as JSON.stringify does: 5,000 random values of every kind, nested', () => {
    let seed = 7;
    const r = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    class Point {
      constructor(public x = 1) {}
    }
    const leaves = [
      () => 'plain', () => 'q"u\\o\u0007te\ud800\u2028é', () => 0, () => -0, () => 1e21, () => 3.14159, () => Number.NaN, () => Infinity, () => true, () => false, () => null,
      () => undefined, () => () => 1, () => Symbol('s'), () => new Date(0), () => new Secret('Evidence-Pw-1'), () => new Map([[1, 2]]), () => new String('boxed'),
      () => new Point(), () => Buffer.from('ab'), () => Object.create(null) as object, () => ({ toJSON: () => 'custom' }), () => [, 1] as unknown[],
    ];
    const value = (depth: number): unknown => {
      const k = r();
      if (depth > 11 || k < 0.45) return leaves[Math.floor(r() * leaves.length)]!();
      if (k < 0.7) return Array.from({ length: Math.floor(r() * 4) }, () => value(depth + 1));
      const o: Record<string, unknown> = r() < 0.1 ? Object.create(null) : {};
      for (let i = Math.floor(r() * 5); i > 0; i--) o[['account', 'resultCode', '2', 'a b', 'ü"', 'x'][Math.floor(r() * 6)]!] = value(depth + 1);
      return o;
    };
    for (let i = 0; i < 5000; i++) {
      const evidence = value(0) as Record<string, unknown>;
      if (typeof evidence !== 'object' || evidence === null) continue;
      const res = base({ findings: [{ source: 'x', code: 'ldap.ok', severity: 'ok', message: 'm', evidence, remediation: [] }] });
      expect(resultLine(res), JSON.stringify(evidence)).toBe(reference(res));
    }
  });

  it('writes any account name and id exactly as JSON.stringify does: 5,000 random strings of the characters JSON treats apart', () => {
    const pool = ['a', 'Z', ' ', '"', '\\', '/', '\u0000', '\u001f', '\u007f', '\u2028', 'é', '😀', '\ud83d', '\ude00', '\ud800', '\udfff', '\n', '\t', ','];
    let seed = 11;
    const r = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 5000; i++) {
      let name = '';
      for (let n = Math.floor(r() * 12); n > 0; n--) name += pool[Math.floor(r() * pool.length)];
      const res = base({ account: name, id: name.split('').reverse().join(''), findings: [{ source: 'x', code: 'ldap.ok', severity: 'ok', message: 'm', evidence: { account: name }, remediation: [] }] });
      expect(resultLine(res), JSON.stringify(name)).toBe(reference(res));
    }
  });
});
