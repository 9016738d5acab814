// The report's readers: a verify output read from its end (each account's last record wins, cut
// and bad lines, any block boundary), a JSON output read member by member in any layout and any
// chunking, each input's kind told by its content, and bad input refused naming the file and line.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { readVerifyOutput } from '../../../src/report/verify-input.js';
import { linesFromEnd } from '../../../src/report/lines-from-end.js';
import { readJsonMembers, visitObject, type MemberVisitor } from '../../../src/report/json-members.js';
import { readReportInput, reportInputOf } from '../../../src/report/read.js';
import { resultLine } from '../../../src/bulk/results.js';
import { CredgateError } from '../../../src/core/errors.js';
import { verifyOutput } from './fixtures.js';
import { prng } from '../../helpers/prng.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-report-in-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string | Buffer) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};
const all = async <T>(it: AsyncIterable<T>) => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};
async function refusal(p: Promise<unknown>): Promise<CredgateError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(CredgateError);
  expect((e as CredgateError).code).toBe('INPUT_INVALID');
  return e as CredgateError;
}
const rec = (account: string, code: string, ok: boolean, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ account, ok, code, category: ok ? 'ok' : 'rejected', exitCode: ok ? 0 : 1, bound: true, ms: 5, findings: [], ...extra }) + '\n';

describe('linesFromEnd', () => {
  it('gives every line, last first, for any line lengths across its 256 KiB blocks (with or without a final newline, CRLF, a BOM)', async () => {
    const r = prng(5);
    const lines = Array.from({ length: 3000 }, (_, i) => `${i}:${'é'.repeat(r.int(400))}${r.next() < 0.01 ? 'x'.repeat(300_000) : ''}`);
    for (const [name, text] of [['a.txt', lines.join('\n') + '\n'], ['b.txt', lines.join('\n')], ['c.txt', '\uFEFF' + lines.join('\r\n') + '\r\n']] as const) {
      const got = await all(linesFromEnd(file(name, text)));
      expect(got.map((l) => l.replace(/\r$/, '')).reverse()).toEqual(lines);
    }
    expect(await all(linesFromEnd(file('empty.txt', '')))).toEqual([]);
    expect(await all(linesFromEnd(file('nl.txt', '\n\n')))).toEqual(['', '']);
  });
});

describe('readVerifyOutput', () => {
  it('counts each account once, by its last record (a resumed run), with the run\'s exit code and the failures, most basic cause first', async () => {
    const fx = verifyOutput(2000, { resumed: 30 });
    const r = await readVerifyOutput(file('v.jsonl', fx.text), 'v.jsonl');
    expect(r).toMatchObject({ kind: 'verify', source: 'v.jsonl', accounts: 2000, ok: fx.ok, failed: 2000 - fx.ok, superseded: 30, badLines: 0, cutLines: 0 });
    expect({ ...r.byCode }).toEqual(fx.byCode);
    expect(r.exitCode).toBe(4); // net.refused is the most basic failure in the mix
    expect(r.worstCode).toBe('net.refused');
    expect(r.failures.total).toBe(2000 - fx.ok);
    expect(r.failures.rows[0]!.code).toBe('net.refused');
    // rows keep file order within a code
    const lines = r.failures.rows.filter((x) => x.code === 'ldap.invalid-credentials').map((x) => x.line!);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
    expect(r.latency.count + r.notBound).toBe(2000);
    expect(r.latency.ok.reduce((a, b) => a + b, 0) + r.latency.failed.reduce((a, b) => a + b, 0)).toBe(r.latency.count);
    expect(r.fixes['ldap.invalid-credentials']![0]!.action).toMatch(/Reconcile the password/);
    // a cause met on both directory servers carries the fix for each, each fix once
    expect(r.fixes['net.refused']!.map((f) => f.action).sort()).toEqual([
      'Check that the directory service is running on dc1.corp.example and listening on port 636 (LDAPS needs a DC certificate).',
      'Check that the directory service is running on dc2.corp.example and listening on port 636 (LDAPS needs a DC certificate).',
    ]);
    expect(r.fixes['ldap.invalid-credentials']).toHaveLength(3);
    expect(Object.values(r.byUrl).reduce((n, u) => n + u.ok + u.failed, 0)).toBe(2000);
  });

  it('caps the failed accounts at 1,000 rows whatever the input, keeping the first of each cause', async () => {
    const text = Array.from({ length: 3000 }, (_, i) => rec(`u${i}`, i % 2 ? 'ldap.invalid-credentials' : 'ldap.account-locked', false, { line: i + 2 })).join('');
    const r = await readVerifyOutput(file('many.jsonl', text));
    expect(r.failures.total).toBe(3000);
    expect(r.failures.rows).toHaveLength(1000);
    // locked (priority 40) before invalid credentials (50); the first locked accounts of the file
    expect(r.failures.rows.every((x) => x.code === 'ldap.account-locked')).toBe(true);
    expect(r.failures.rows.slice(0, 3).map((x) => x.account)).toEqual(['u0', 'u2', 'u4']);
  });

  it('bad input line records are counted apart; a line cut short by an interrupted write is noted, not counted', async () => {
    const text = rec('a', 'ldap.ok', true) + JSON.stringify({ line: 3, ok: false, code: 'input.invalid', category: 'usage', error: 'no password' }) + '\n'
      + '{"account":"b","ok":fa\n' + rec('c', 'ldap.invalid-credentials', false);
    const r = await readVerifyOutput(file('cut.jsonl', text));
    expect(r).toMatchObject({ accounts: 2, ok: 1, failed: 1, badLines: 1, cutLines: 1, exitCode: 1 });
    expect(r.badRows).toEqual({ rows: [{ line: 3, error: 'no password' }], total: 1 });
  });

  it('refuses a line that is not a record, naming the file and the first such line from the start', async () => {
    const text = rec('a', 'ldap.ok', true) + '\n' + 'hello\n' + rec('b', 'ldap.ok', true) + '[1,2]\n' + rec('c', 'ldap.ok', true);
    const e = await refusal(readVerifyOutput(file('bad.jsonl', text), 'bad.jsonl'));
    expect(e.message).toMatch(/^bad\.jsonl line 3: not a JSON record/);
    const e2 = await refusal(readVerifyOutput(file('bad2.jsonl', rec('a', 'ldap.ok', true) + '{"account":"x","code":"ldap.ok"}\n'), 'bad2.jsonl'));
    expect(e2.message).toMatch(/^bad2\.jsonl line 2: an account record without "ok"/);
  });

  it('the failures are the failed accounts by their code: an info code of a valid account is none, an unknown code of a failed one is one', async () => {
    const text = rec('a', 'ldap.password-expiring', true) + rec('b', 'ldap.future-code', false) + rec('c', 'ldap.invalid-credentials', false);
    const r = await readVerifyOutput(file('codes.jsonl', text));
    expect({ ...r.failedByCode }).toEqual({ 'ldap.future-code': 1, 'ldap.invalid-credentials': 1 });
    // as verify decides: the wrong password (priority 50) is more basic than a failure credgate cannot name (internal, 70)
    expect([r.exitCode, r.worstCode]).toEqual([1, 'ldap.invalid-credentials']);
    expect((await readVerifyOutput(file('unknown.jsonl', rec('b', 'ldap.future-code', false)))).exitCode).toBe(70);
  });

  it('an empty output is a report of no account', async () => {
    expect(await readVerifyOutput(file('empty.jsonl', ''))).toMatchObject({ accounts: 0, failed: 0, exitCode: 0, failures: { rows: [], total: 0 } });
  });
});

describe('readJsonMembers', () => {
  const visit = async (text: string, chunk: number, stream = ['findings', 'plan.items']) => {
    const seen: Array<[string, string, unknown]> = [];
    const v: MemberVisitor = { stream: new Set(stream), skip: new Set(['script']), member: (p, x) => seen.push(['m', p, x]), element: (p, x) => seen.push(['e', p, x]) };
    const pieces = Array.from({ length: Math.ceil(text.length / chunk) }, (_, i) => text.slice(i * chunk, (i + 1) * chunk));
    await readJsonMembers(Readable.from(pieces), v, 'in.json');
    return seen;
  };
  const doc = {
    ok: false, code: 'x', n: -1.5e3, t: true, z: null, script: 'big "text" ]}',
    findings: [{ code: 'a', message: 'quote " bracket ] brace } backslash \\', evidence: { nested: [1, { b: '}' }] } }, { code: 'b' }, 'str', 7],
    plan: { createdAt: 'now', items: [{ target: 't' }], other: { deep: [1] } },
    tail: [1, 2, [3]],
  };
  const expected: Array<[string, string, unknown]> = [
    ['m', 'ok', false], ['m', 'code', 'x'], ['m', 'n', -1500], ['m', 't', true], ['m', 'z', null],
    ['e', 'findings', doc.findings[0]], ['e', 'findings', { code: 'b' }], ['e', 'findings', 'str'], ['e', 'findings', 7],
    ['m', 'plan.createdAt', 'now'], ['e', 'plan.items', { target: 't' }], ['m', 'plan.other', { deep: [1] }], ['m', 'tail', [1, 2, [3]]],
  ];

  it('visits the same members and elements for compact and indented JSON, in chunks of any size', async () => {
    for (const text of [JSON.stringify(doc), JSON.stringify(doc, null, 2), '\uFEFF \r\n' + JSON.stringify(doc, null, '\t') + '\n\n']) {
      for (const chunk of [1, 2, 7, 64, 100_000]) expect(await visit(text, chunk)).toEqual(expected);
    }
  });

  it('visitObject visits an object in memory the same way', () => {
    const seen: Array<[string, string, unknown]> = [];
    visitObject(doc, { stream: new Set(['findings', 'plan.items']), skip: new Set(['script']), member: (p, x) => seen.push(['m', p, x]), element: (p, x) => seen.push(['e', p, x]) });
    expect(seen).toEqual(expected);
  });

  it('an error names the line it is on', async () => {
    const cases: Array<[string, RegExp]> = [
      ['{\n "a": 1,\n "b": tru\n}', /^in\.json line 3: not valid JSON here/],
      ['{\n "findings": [\n {"a":1},\n {"a":\n', /^in\.json line 4: the text ends inside the value that starts here/],
      ['{"a": 1} x', /^in\.json line 1: more text after the JSON object/],
      ['[1]', /^in\.json line 1: not a JSON object/],
      ['{"a" 1}', /^in\.json line 1: ":" expected/],
      ['{"a": "never ends', /^in\.json line 1: a string that never ends/],
      ['{"a": 1\n\n "b": 2}', /^in\.json line 3: "}" or "," expected/],
    ];
    for (const [text, want] of cases) for (const chunk of [1, 5, 1000]) expect((await refusal(visit(text, chunk))).message).toMatch(want);
  });
});

describe('readReportInput: the kind of an input, from its content', () => {
  it('tells a verify output, a cache inspection, a purge plan, an executed purge and a doctor verdict apart', async () => {
    expect((await readReportInput(file('v.jsonl', resultLine({ account: 'a', ok: true, code: 'ldap.ok', category: 'ok', exitCode: 0, bound: true, findings: [], ms: 3 })))).kind).toBe('verify');
    const inspect = { ok: false, code: 'cache.stale-password', cause: 'c', exitCode: 6, considered: 3, unknownAge: 0, findings: [{ code: 'cache.stale-password', severity: 'error', message: 'm', evidence: { machine: 'WS-1', target: 'TERMSRV/h' }, remediation: [] }], remediation: [], warnings: [] };
    const r = await readReportInput(file('i.json', JSON.stringify(inspect, null, 2)));
    expect(r).toMatchObject({ kind: 'cache-inspect', considered: 3, findingsByCode: { 'cache.stale-password': 1 }, head: { exitCode: 6 } });
    // a single-line JSON object (jq -c) is not mistaken for a verify output
    expect((await readReportInput(file('i1.json', JSON.stringify(inspect)))).kind).toBe('cache-inspect');
    expect(reportInputOf(inspect, 'this run')).toEqual({ ...r, source: 'this run' });
    const item = { machine: 'WS-1', target: 'TERMSRV/h', rawTarget: 'TERMSRV/h', type: 'domain-password', source: 's', rule: 'cache.stale-password', reason: 'r', evidence: {} };
    expect(await readReportInput(file('p.json', JSON.stringify({ dryRun: true, plan: { createdAt: 'now', items: [item, item] }, commands: ['c1', 'c2'], warnings: [] }))))
      .toMatchObject({ kind: 'cache-purge', purge: { dryRun: true, createdAt: 'now', byRule: { 'cache.stale-password': 2 }, byMachine: { 'WS-1': 2 }, items: { total: 2 } } });
    expect(await readReportInput(file('x.json', JSON.stringify({ dryRun: false, audit: 'a.jsonl', mode: 'emit', items: [{ ...item, result: 'emitted' }], commands: [], powershell: 'x'.repeat(1000), warnings: ['w'] }))))
      .toMatchObject({ kind: 'cache-purge', purge: { dryRun: false, mode: 'emit', byResult: { emitted: 1 } }, warnings: { total: 1 } });
    const doctor = { ok: false, code: 'ldap.account-disabled', cause: 'c', headline: 'h', exitCode: 3, target: { host: 'h', port: 3389, account: 'a' }, steps: [{ name: 'ldap-bind', status: 'failed', ms: 12.5, findings: ['ldap.account-disabled'] }], findings: [{ code: 'ldap.account-disabled', severity: 'error', message: 'm', evidence: { dn: 'CN=a' }, remediation: [{ action: 'Enable it.', owner: 'directory' }] }], remediation: [{ action: 'Enable it.', owner: 'directory' }], timingsMs: { total: 40 } };
    expect(await readReportInput(file('d.json', JSON.stringify(doctor, null, 2))))
      .toMatchObject({ kind: 'doctor', code: 'ldap.account-disabled', exitCode: 3, steps: [{ name: 'ldap-bind', ms: 12.5 }], findings: [{ evidence: { dn: 'CN=a' } }], totalMs: 40 });
  });

  it('refuses what is none of these, naming the file', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['none.json', '{"hello": 1}', /^none\.json: a JSON object that is none of these outputs/],
      ['text.txt', 'Currently stored credentials:', /^text\.txt is not JSON/],
      ['blank.json', '  \n', /^blank\.json is empty/],
      ['finding.json', '{"considered": 1, "code": "x", "findings": [{"message": "no code"}]}', /^finding\.json: a finding without a "code"/],
    ];
    for (const [name, text, want] of cases) expect((await refusal(readReportInput(file(name, text), name))).message).toMatch(want);
    expect((await refusal(readReportInput(path.join(dir, 'missing.json'), 'missing.json'))).message).toMatch(/^Cannot read missing\.json \(ENOENT\)/);
    expect((await refusal(readReportInput(dir, 'a-folder'))).message).toMatch(/^Cannot read a-folder \(EISDIR\)/);
  });
});
