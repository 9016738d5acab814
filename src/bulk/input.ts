/**
 * Account files for a bulk run: RFC 4180 CSV with a header, or JSON Lines; the password in its
 * column/field or in the environment variable named there. A bad line is reported by number and
 * reason, never by content.
 */
import { StringDecoder } from 'node:string_decoder';
import { CredgateError } from '../core/errors.js';
import { ENV_NAME, Secret } from '../core/secret.js';
import type { AccountLine } from './types.js';
import { csvDelimiter, type CsvDelimiter } from './csv-delimiter.js';

export interface AccountFileOptions {
  format: 'csv' | 'jsonl';
  /** Column / field with the account name. Default: the first of username, user, account, upn, dn, samaccountname. */
  userField?: string;
  /** Column / field with the password. Default: password. */
  passwordField?: string;
  /** Column / field naming an environment variable that holds the password. Default: password_env. */
  passwordEnvField?: string;
  /** Column / field echoed as the result's id. Default: id. */
  idField?: string;
  /** Where password_env names are looked up. */
  env?: Record<string, string | undefined>;
  /** A record longer than this (characters) is a bad line. Default 65,536. */
  maxRecordChars?: number;
  /** The CSV delimiter. Default: the one that splits the header line into the account columns (csv-delimiter.ts). */
  delimiter?: CsvDelimiter;
}

/** One input record: an account to verify, or a bad line (never echoing the line's content). */
export type InputRecord = { kind: 'account'; account: AccountLine } | { kind: 'bad'; line: number; reason: string };

const USER_FIELDS = ['username', 'user', 'account', 'upn', 'dn', 'samaccountname', 'user_name'];

interface RawRecord {
  line: number;
  fields?: string[];
  error?: string;
}

/**
 * The text of a chunk: a string as it comes, bytes decoded as UTF-8 across chunk boundaries (a
 * character split between two reads is not mangled into two replacement characters). Inline in
 * the readers, not a generator of its own: one more async layer per chunk cost a resumed run over
 * a million-line input ~40 MB of peak RSS (bench/verify-memory.mjs).
 */
const textOf = (dec: StringDecoder, chunk: string | Buffer): string => (typeof chunk === 'string' ? chunk : dec.write(chunk));

/** RFC 4180 CSV records from a text stream: quoted fields (with "" and line breaks inside), CRLF or LF; fields split on `delimiter`. */
export async function* csvRecords(src: AsyncIterable<string | Buffer>, maxChars = 65_536, delimiter: CsvDelimiter = ','): AsyncGenerator<RawRecord> {
  let fields: string[] = [];
  let field = '';
  let size = 0;
  let inQuotes = false;
  let afterQuote = false;
  let bad: string | undefined;
  let skipping = false;
  let line = 1;
  let recLine = 1;
  const endRecord = (): RawRecord | undefined => {
    fields.push(field);
    const r: RawRecord | undefined = bad
      ? { line: recLine, error: bad }
      : fields.length === 1 && fields[0] === '' ? undefined : { line: recLine, fields };
    fields = [];
    field = '';
    size = 0;
    bad = undefined;
    afterQuote = false;
    skipping = false;
    return r;
  };
  const dec = new StringDecoder('utf8');
  for await (const chunk of src) {
    const s = textOf(dec, chunk);
    for (let i = 0; i < s.length; i++) {
      const c = s[i]!;
      if (skipping) {
        if (c === '\n') {
          const r = endRecord();
          if (r) yield r;
          line++;
          recLine = line;
        }
        continue;
      }
      if (++size > maxChars) {
        bad = `the record is longer than ${maxChars} characters`;
        inQuotes = false;
        skipping = true;
        field = '';
        fields = [];
        if (c === '\n') i--;
        continue;
      }
      if (inQuotes) {
        if (c === '"') {
          inQuotes = false;
          afterQuote = true;
        } else {
          field += c;
          if (c === '\n') line++;
        }
        continue;
      }
      if (afterQuote) {
        afterQuote = false;
        if (c === '"') {
          field += '"';
          inQuotes = true;
          continue;
        }
        if (c !== delimiter && c !== '\n' && c !== '\r') {
          bad ??= 'text follows a closing quote (write "" for a quote inside a quoted field)';
          continue;
        }
      }
      if (c === delimiter) {
        fields.push(field);
        field = '';
      } else if (c === '\n') {
        const r = endRecord();
        if (r) yield r;
        line++;
        recLine = line;
      } else if (c === '\r') {
        // CRLF: the LF ends the record
      } else if (c === '"') {
        if (field === '') inQuotes = true;
        else bad ??= 'a quote inside an unquoted field (quote the whole field and write "" for the quote)';
      } else {
        field += c;
      }
    }
  }
  // an incomplete UTF-8 sequence at the very end: replacement characters, plain text in the field
  const tail = dec.end();
  if (tail && !skipping) {
    if (afterQuote) bad ??= 'text follows a closing quote (write "" for a quote inside a quoted field)';
    else if ((size += tail.length) > maxChars) bad = `the record is longer than ${maxChars} characters`;
    else field += tail;
  }
  if (inQuotes) {
    bad = 'a quoted field is not closed before the end of the file';
  }
  const r = endRecord();
  if (r) yield r;
}

/** JSON Lines records: one object per line. */
export async function* jsonlRecords(src: AsyncIterable<string | Buffer>, maxChars = 65_536): AsyncGenerator<{ line: number; value?: Record<string, unknown>; error?: string }> {
  let rest = '';
  let line = 0;
  let tooLong = false;
  const parse = (text: string) => {
    line++;
    if (tooLong) {
      tooLong = false;
      return { line, error: `the line is longer than ${maxChars} characters` };
    }
    const t = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (!t.trim()) return undefined;
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch {
      return { line, error: 'the line is not valid JSON' };
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) return { line, error: 'the line is not a JSON object' };
    return { line, value: v as Record<string, unknown> };
  };
  const dec = new StringDecoder('utf8');
  for await (const chunk of src) {
    const s = textOf(dec, chunk);
    let start = 0;
    for (let nl = s.indexOf('\n'); nl >= 0; nl = s.indexOf('\n', start)) {
      const text = rest + s.slice(start, nl);
      rest = '';
      start = nl + 1;
      const r = parse(text);
      if (r) yield r;
    }
    rest += s.slice(start);
    if (rest.length > maxChars) {
      tooLong = true;
      rest = '';
    }
  }
  rest += dec.end();
  if (rest.length || tooLong) {
    const r = parse(rest);
    if (r) yield r;
  }
}

/**
 * Turn a CSV or JSON Lines stream into accounts to verify. The password comes from the password
 * column/field, or from the environment variable named in password_env; a line that has neither,
 * or is malformed, is a bad line with its number and the reason (never its content).
 */
export async function* readAccounts(src: AsyncIterable<string | Buffer>, opts: AccountFileOptions): AsyncGenerator<InputRecord> {
  const pwField = (opts.passwordField ?? 'password').toLowerCase();
  const envField = (opts.passwordEnvField ?? 'password_env').toLowerCase();
  const idField = (opts.idField ?? 'id').toLowerCase();
  const env = opts.env ?? {};
  const make = (line: number, user: unknown, pw: unknown, envName: unknown, id: unknown): InputRecord => {
    if (typeof user !== 'string' || !user.trim()) return { kind: 'bad', line, reason: 'no user name' };
    let password: string | undefined;
    if (typeof pw === 'string' && pw.length) password = pw;
    else if (typeof envName === 'string' && envName.trim()) {
      const n = envName.trim();
      if (!ENV_NAME.test(n)) return { kind: 'bad', line, reason: `${envField} does not hold a valid environment variable name` };
      password = env[n];
      if (password === undefined || password === '') return { kind: 'bad', line, reason: `environment variable ${n} (from ${envField}) is not set or empty` };
    } else if (pw !== undefined && pw !== null && typeof pw !== 'string') {
      return { kind: 'bad', line, reason: `${pwField} is not a string` };
    }
    if (password === undefined) return { kind: 'bad', line, reason: `no password (neither ${pwField} nor ${envField} has a value)` };
    const account: AccountLine = { username: user.trim(), password: new Secret(password), line };
    if ((typeof id === 'string' && id) || typeof id === 'number') account.id = String(id);
    return { kind: 'account', account };
  };
  if (opts.format === 'jsonl') {
    for await (const r of jsonlRecords(src, opts.maxRecordChars)) {
      if (r.error || !r.value) {
        yield { kind: 'bad', line: r.line, reason: r.error ?? 'empty' };
        continue;
      }
      const lower = new Map(Object.entries(r.value).map(([k, v]) => [k.toLowerCase(), v]));
      const userKey = opts.userField ? opts.userField.toLowerCase() : USER_FIELDS.find((k) => lower.has(k));
      yield make(r.line, userKey ? lower.get(userKey) : undefined, lower.get(pwField), lower.get(envField), lower.get(idField));
    }
    return;
  }
  let header: string[] | undefined;
  let userIdx = -1;
  let pwIdx = -1;
  let envIdx = -1;
  let idIdx = -1;
  const csv = opts.delimiter
    ? { delimiter: opts.delimiter, rest: src }
    : await csvDelimiter(src, { user: opts.userField ? [opts.userField.toLowerCase()] : USER_FIELDS, password: [pwField, envField] }, opts.maxRecordChars);
  for await (const r of csvRecords(csv.rest, opts.maxRecordChars, csv.delimiter)) {
    if (!header) {
      if (!r.fields) {
        throw new CredgateError(`The CSV header (line ${r.line}) cannot be read: ${r.error}.`, { code: 'INPUT_INVALID', details: { line: r.line } });
      }
      header = r.fields.map((h) => h.trim().toLowerCase().replace(/^\ufeff/, ''));
      userIdx = opts.userField ? header.indexOf(opts.userField.toLowerCase()) : header.findIndex((h) => USER_FIELDS.includes(h));
      pwIdx = header.indexOf(pwField);
      envIdx = header.indexOf(envField);
      idIdx = header.indexOf(idField);
      if (userIdx < 0) {
        throw new CredgateError(`The CSV header has no user column (looked for ${opts.userField ?? USER_FIELDS.join(', ')}); name it with --user-field.`, { code: 'INPUT_INVALID', details: { header } });
      }
      if (pwIdx < 0 && envIdx < 0) {
        throw new CredgateError(`The CSV header has neither a ${pwField} nor a ${envField} column; name one with --password-field or --password-env-field.`, { code: 'INPUT_INVALID', details: { header } });
      }
      continue;
    }
    if (!r.fields) {
      yield { kind: 'bad', line: r.line, reason: r.error ?? 'unreadable' };
      continue;
    }
    if (r.fields.length !== header.length) {
      yield { kind: 'bad', line: r.line, reason: `${r.fields.length} fields where the header has ${header.length}` };
      continue;
    }
    yield make(r.line, r.fields[userIdx], pwIdx >= 0 ? r.fields[pwIdx] : undefined, envIdx >= 0 ? r.fields[envIdx] : undefined, idIdx >= 0 ? r.fields[idIdx] : undefined);
  }
  if (!header) throw new CredgateError('The CSV input is empty (not even a header line).', { code: 'INPUT_INVALID' });
}

