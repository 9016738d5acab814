// CSV account files separated by semicolons (Excel in comma-decimal locales) or tabs: the delimiter
// is told once from the header line, and RFC 4180 quoting holds for every delimiter; a header that
// fits more than one delimiter is an error naming its line.
import { describe, it, expect } from 'vitest';
import { readAccounts, type InputRecord } from '../../../src/bulk/input.js';
import { detectDelimiter, headerFields } from '../../../src/bulk/csv-delimiter.js';
import { CredgateError } from '../../../src/core/errors.js';
import { all, chunks } from '../../helpers/async-iter.js';

const read = (text: string, opts: Partial<Parameters<typeof readAccounts>[1]> = {}, size = 5) => all(readAccounts(chunks(text, size), { format: 'csv', ...opts }));
const rows = (rs: InputRecord[]) => rs.map((r) => (r.kind === 'account' ? { line: r.account.line, user: r.account.username, pw: r.account.password.reveal(), id: r.account.id } : { line: r.line, bad: r.reason }));

describe('CSV delimiter from the header', () => {
  it('semicolons: quoted fields keep commas, semicolons, quotes and line breaks', async () => {
    const text = '\ufeffid;username;password\r\n' +
      '1;"CORP\\alice";"pa,ss;wo""rd"\r\n' +
      '2;bob@corp.example;plain,with,commas\r\n' +
      '3;"carol";"two\nlines"\r\n';
    for (const size of [1, 3, 64]) {
      expect(rows(await read(text, {}, size))).toEqual([
        { line: 2, user: 'CORP\\alice', pw: 'pa,ss;wo"rd', id: '1' },
        { line: 3, user: 'bob@corp.example', pw: 'plain,with,commas', id: '2' },
        { line: 4, user: 'carol', pw: 'two\nlines', id: '3' },
      ]);
    }
  });

  it('tabs: quoted fields keep tabs, semicolons and commas; a wrong field count is a bad line by number', async () => {
    const text = 'user\tpassword_env\tid\n' +
      'alice\tPW_A\ta;b,c\n' +
      '"bob\t2"\tPW_B\t"x;y,z\t"\n' +
      'carol\tPW_A\n';
    expect(rows(await read(text, { env: { PW_A: 'secret-a', PW_B: 'secret-b' } }))).toEqual([
      { line: 2, user: 'alice', pw: 'secret-a', id: 'a;b,c' },
      { line: 3, user: 'bob\t2', pw: 'secret-b', id: 'x;y,z\t' },
      { line: 4, bad: '2 fields where the header has 3' },
    ]);
  });

  it('commas still work, with semicolons inside fields; an explicit delimiter wins over the header', async () => {
    expect(rows(await read('username,password\nalice,"a;b"\nbob,c;d\n'))).toEqual([
      { line: 2, user: 'alice', pw: 'a;b', id: undefined },
      { line: 3, user: 'bob', pw: 'c;d', id: undefined },
    ]);
    // told to split on semicolons, the comma header is one column: no user column
    await expect(read('username,password\nalice,x\n', { delimiter: ';' })).rejects.toThrow(/no user column/);
  });

  it('a custom --user-field / --password-field decides which delimiter fits', async () => {
    expect(rows(await read('login;secret\nalice;pw1\n', { userField: 'login', passwordField: 'secret' }))).toEqual([{ line: 2, user: 'alice', pw: 'pw1', id: undefined }]);
  });

  it('a header that splits into the account columns with two delimiters: INPUT_INVALID naming its line', async () => {
    // ',' gives username | password;username;password;x | password; ';' gives username,password | username | password | x,password
    const header = 'username,password;username;password;x,password';
    const err = await read(`\n${header}\nalice,pw\n`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredgateError);
    expect((err as CredgateError).code).toBe('INPUT_INVALID');
    expect((err as CredgateError).message).toBe('The CSV header (line 2) splits into the account columns with more than one delimiter (comma and semicolon); name the delimiter with --delimiter comma|semicolon, or rename the columns.');
    expect(rows(await read(`${header}\nalice,x;y,pw\n`, { delimiter: ',' }))).toEqual([{ line: 2, user: 'alice', pw: 'pw', id: undefined }]);
  });

  it('no delimiter fits: comma, and the header check names what is missing', async () => {
    expect(detectDelimiter('name;secret', { user: ['username'], password: ['password'] })).toBe(',');
    await expect(read('name;secret\nalice;x\n')).rejects.toThrow(/no user column \(looked for username, user, account/);
  });

  it('headerFields honours quotes; the header is found after empty lines, across Buffer chunks, and every chunk is parsed', async () => {
    expect(headerFields('"user;name";"pass""word"', ';')).toEqual(['user;name', 'pass"word']);
    expect(headerFields('\ufeff User ,PASSWORD', ',')).toEqual(['user', 'password']);
    const src = async function* () {
      yield Buffer.from('\r\n');
      yield Buffer.from('a;b\r');
      yield Buffer.from('\nalice;p');
      yield Buffer.from('w\r\nbob;pw2');
    };
    expect(rows(await all(readAccounts(src(), { format: 'csv', userField: 'a', passwordField: 'b' })))).toEqual([
      { line: 3, user: 'alice', pw: 'pw', id: undefined },
      { line: 4, user: 'bob', pw: 'pw2', id: undefined },
    ]);
  });

  it('a bad header closes the input stream (as a for-await over it would)', async () => {
    let closed = false;
    const src = (async function* () {
      try {
        yield 'username,password;username;password;x,password\n';
        yield 'alice,pw\n';
      } finally {
        closed = true;
      }
    })();
    await expect(all(readAccounts(src, { format: 'csv' }))).rejects.toThrow(/more than one delimiter/);
    expect(closed).toBe(true);
  });
});
