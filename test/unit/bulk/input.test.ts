// Account files: RFC 4180 CSV (quotes, "" escapes, line breaks inside quotes, CRLF, BOM) and JSON
// Lines; bad lines carry their number and a reason, never the line's content.
import { describe, it, expect } from 'vitest';
import { AccountReader, csvRecords, readAccounts, type InputRecord } from '../../../src/bulk/input.js';
import { createSummary } from '../../../src/bulk/summary.js';
import type { FindingCode } from '../../../src/findings/finding.js';
import { all, chunks } from '../../helpers/async-iter.js';

const accounts = (rs: InputRecord[]) => rs.flatMap((r) => (r.kind === 'account' ? [{ line: r.account.line, user: r.account.username, pw: r.account.password.reveal(), id: r.account.id }] : []));
const bad = (rs: InputRecord[]) => rs.flatMap((r) => (r.kind === 'bad' ? [{ line: r.line, reason: r.reason }] : []));

describe('csvRecords', () => {
  it('quotes, escaped quotes, commas and line breaks inside quotes, CRLF; line numbers of record starts', async () => {
    const text = 'a,b\r\n"x,1","say ""hi"""\r\n"multi\nline",z\n\nlast,"q"';
    const rs = await all(csvRecords(chunks(text, 3)));
    expect(rs).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x,1', 'say "hi"'] },
      { line: 3, fields: ['multi\nline', 'z'] },
      { line: 6, fields: ['last', 'q'] },
    ]);
  });

  it('bad quoting is a bad record, and parsing resumes on the next line', async () => {
    const rs = await all(csvRecords(chunks('h1,h2\nab"c,d\n"x"y,z\nok,1\n"open,2')));
    expect(rs.map((r) => [r.line, r.error ? 'bad' : r.fields])).toEqual([[1, ['h1', 'h2']], [2, 'bad'], [3, 'bad'], [4, ['ok', '1']], [5, 'bad']]);
    expect(rs[4]!.error).toMatch(/not closed/);
  });

  it('a character split between two reads of the file is decoded whole (é, €, 😀 at every boundary)', async () => {
    const text = 'user,password\n"uid=é€,dc=x",pä€😀ss\n';
    const bytes = Buffer.from(text, 'utf8');
    for (let size = 1; size <= 8; size++) {
      async function* reads() {
        for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
      }
      const rs = await all(csvRecords(reads()));
      expect(rs, `reads of ${size} bytes`).toEqual([{ line: 1, fields: ['user', 'password'] }, { line: 2, fields: ['uid=é€,dc=x', 'pä€😀ss'] }]);
    }
    // a file cut inside a character: one replacement character, as Buffer#toString writes it
    async function* cut() {
      yield Buffer.from('user,password\nalice,pw', 'utf8');
      yield Buffer.from([0xe2, 0x82]);
    }
    expect(await all(csvRecords(cut()))).toEqual([{ line: 1, fields: ['user', 'password'] }, { line: 2, fields: ['alice', `pw${Buffer.from([0xe2, 0x82]).toString('utf8')}`] }]);
  });

  it('caps a record’s length', async () => {
    const rs = await all(csvRecords(chunks(`h\n${'x'.repeat(100)}\nfine\n`, 16), 50));
    expect(rs.map((r) => [r.line, r.error ? 'bad' : r.fields])).toEqual([[1, ['h']], [2, 'bad'], [3, ['fine']]]);
  });
});

describe('readAccounts', () => {
  it('CSV: password column or password_env, id echoed, bad lines numbered without content', async () => {
    const text = '\ufeffid,UserName,Password,password_env\n' +
      'a,"uid=a,dc=x","p,w""1",\n' +
      'b,uid=b,,MY_PW\n' +
      'c,uid=c,,\n' +
      'd,uid=d,,UNSET_PW\n' +
      'e,uid=e,s3cr3t-in-bad-line\n' +
      'f,,pw,\n' +
      'g,uid=g,,bad name\n';
    const rs = await all(readAccounts(chunks(text), { format: 'csv', env: { MY_PW: 'from-env' } }));
    expect(accounts(rs)).toEqual([
      { line: 2, user: 'uid=a,dc=x', pw: 'p,w"1', id: 'a' },
      { line: 3, user: 'uid=b', pw: 'from-env', id: 'b' },
    ]);
    expect(bad(rs).map((b) => b.line)).toEqual([4, 5, 6, 7, 8]);
    expect(bad(rs)[1]!.reason).toMatch(/UNSET_PW/);
    expect(JSON.stringify(bad(rs))).not.toContain('s3cr3t');
  });

  it('CSV: a header without a user or password column is an input error', async () => {
    await expect(all(readAccounts(chunks('name,secret\nx,y\n'), { format: 'csv' }))).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(all(readAccounts(chunks('user,other\nx,y\n'), { format: 'csv' }))).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    const rs = await all(readAccounts(chunks('login,pass\nx,y\n'), { format: 'csv', userField: 'login', passwordField: 'pass' }));
    expect(accounts(rs)).toEqual([{ line: 2, user: 'x', pw: 'y', id: undefined }]);
  });

  it('JSON Lines: a character split between two reads is decoded whole', async () => {
    const bytes = Buffer.from('{"user":"é€","password":"pä😀"}\n', 'utf8');
    for (let size = 1; size <= 5; size++) {
      async function* reads() {
        for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
      }
      expect(accounts(await all(readAccounts(reads(), { format: 'jsonl' }))), `reads of ${size} bytes`).toEqual([{ line: 1, user: 'é€', pw: 'pä😀', id: undefined }]);
    }
  });

  it('JSON Lines: fields, env names, bad JSON', async () => {
    const text = '{"user":"u1","password":"p1","id":7}\r\n\n{"upn":"u2@x","password_env":"PW2"}\nnot json {"password":"leak-me"}\n[1]\n{"user":"u3","password":5}\n{"user":"u4"}';
    const rs = await all(readAccounts(chunks(text, 5), { format: 'jsonl', env: { PW2: 'p2' } }));
    expect(accounts(rs)).toEqual([
      { line: 1, user: 'u1', pw: 'p1', id: '7' },
      { line: 3, user: 'u2@x', pw: 'p2', id: undefined },
    ]);
    expect(bad(rs).map((b) => b.line)).toEqual([4, 5, 6, 7]);
    expect(JSON.stringify(bad(rs))).not.toContain('leak-me');
  });
});

describe('createSummary', () => {
  const run = (codes: string[], badLines = 0) => {
    const s = createSummary();
    for (const c of codes) s.add({ ok: c === 'ldap.ok', code: c as FindingCode });
    for (let i = 0; i < badLines; i++) s.addBadLine();
    return s.result();
  };
  it('exit 0 only when every account is valid', () => {
    expect(run(['ldap.ok', 'ldap.ok'])).toMatchObject({ total: 2, ok: 2, failed: 0, exitCode: 0 });
    expect(run([])).toMatchObject({ total: 0, exitCode: 0 });
  });
  it('the most basic failure decides: unreachable, then unusable, then rejected; bad lines alone give 2', () => {
    expect(run(['ldap.ok', 'ldap.invalid-credentials', 'ldap.account-locked', 'net.refused'])).toMatchObject({ exitCode: 4, worstCode: 'net.refused', byCode: { 'ldap.ok': 1, 'net.refused': 1 } });
    expect(run(['ldap.invalid-credentials', 'ldap.account-locked'])).toMatchObject({ exitCode: 3, worstCode: 'ldap.account-locked' });
    expect(run(['ldap.ok', 'ldap.invalid-credentials'], 3)).toMatchObject({ exitCode: 1 });
    expect(run(['ldap.ok'], 1)).toMatchObject({ exitCode: 2 });
  });
});

describe('AccountReader, closed or failing', () => {
  it('closed while a read is under way: what that read brings in is not handed out (no cut-off last line as a record)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let returned = false;
    const src: AsyncIterable<string> = {
      [Symbol.asyncIterator]() {
        let n = 0;
        return {
          async next() {
            n++;
            if (n === 1) return { value: 'username,password\nalice,pw1\n', done: false };
            await gate;
            return { value: 'bob,pw2\ncarol,pw3\ndave@corp.exa', done: false };
          },
          async return() {
            returned = true;
            return { value: undefined, done: true };
          },
        };
      },
    };
    const r = new AccountReader(src, { format: 'csv' });
    await r.fill();
    expect(r.read()).toMatchObject({ kind: 'account', account: { username: 'alice' } });
    expect(r.read()).toBeUndefined();
    const pending = r.fill();
    await r.close();
    release();
    await pending;
    expect(returned).toBe(true);
    expect(r.read()).toBeUndefined();
    expect(r.done).toBe(true);
  });

  it('a source whose read fails is not closed as well: its own error is the one reported', async () => {
    let returned = 0;
    const src: AsyncIterable<string> = {
      [Symbol.asyncIterator]() {
        let n = 0;
        return {
          async next() {
            if (n++ === 0) return { value: 'username,password\nalice,pw1\n', done: false };
            throw Object.assign(new Error('read failed'), { code: 'EIO' });
          },
          async return() {
            returned++;
            throw new Error('return() of a failed source');
          },
        };
      },
    };
    const got: InputRecord[] = [];
    await expect((async () => {
      for await (const rec of readAccounts(src, { format: 'csv' })) got.push(rec);
    })()).rejects.toMatchObject({ code: 'EIO' });
    expect(got).toHaveLength(1);
    expect(returned).toBe(0);
  });
});
