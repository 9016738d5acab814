/**
 * Account files for a bulk run: RFC 4180 CSV with a header, or JSON Lines; the password in its
 * column/field or in the environment variable named there. A bad line is reported by number and
 * reason, never by content.
 */
import { StringDecoder } from 'node:string_decoder';
import { CredgateError } from '../core/errors.js';
import { ENV_NAME, Secret } from '../core/secret.js';
import type { AccountLine } from './types.js';
import { detectDelimiter, firstLine, type CsvDelimiter } from './csv-delimiter.js';
import { CsvParser, JsonlParser, type JsonRecord, type RawRecord } from './record-parsers.js';

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

/**
 * The text of a chunk: a string as it comes, bytes decoded as UTF-8 across chunk boundaries (a
 * character split between two reads is not mangled into two replacement characters).
 */
const textOf = (dec: StringDecoder, chunk: string | Buffer): string => (typeof chunk === 'string' ? chunk : dec.write(chunk));

/** The records a synchronous parser (record-parsers.ts) makes of a stream of text or bytes. */
async function* parsed<R>(src: AsyncIterable<string | Buffer>, p: { push(text: string): void; next(): R | undefined; end(tail: string): R | undefined }): AsyncGenerator<R> {
  const dec = new StringDecoder('utf8');
  for await (const chunk of src) {
    p.push(textOf(dec, chunk));
    for (let r = p.next(); r; r = p.next()) yield r;
  }
  const r = p.end(dec.end());
  if (r) yield r;
}

/** RFC 4180 CSV records from a text stream: quoted fields (with "" and line breaks inside), CRLF or LF; fields split on `delimiter`. */
export function csvRecords(src: AsyncIterable<string | Buffer>, maxChars = 65_536, delimiter: CsvDelimiter = ','): AsyncGenerator<RawRecord> {
  return parsed(src, new CsvParser(maxChars, delimiter));
}

/** JSON Lines records: one object per line. */
export function jsonlRecords(src: AsyncIterable<string | Buffer>, maxChars = 65_536): AsyncGenerator<JsonRecord> {
  return parsed(src, new JsonlParser(maxChars));
}

/**
 * Accounts from a CSV or JSON Lines stream, pulled one at a time without a promise per account:
 * `read()` gives the next record of the text read so far, `fill()` reads the next chunk. The
 * password comes from the password column/field, or from the environment variable named in
 * password_env; a line that has neither, or is malformed, is a bad line with its number and the
 * reason (never its content). A CSV file's delimiter, unless given, is told from its first line
 * (csv-delimiter.ts). `readAccounts` is the same as an async generator.
 */
export class AccountReader {
  private readonly it: AsyncIterator<string | Buffer>;
  private readonly dec = new StringDecoder('utf8');
  private readonly max: number;
  private readonly pwField: string;
  private readonly envField: string;
  private readonly idField: string;
  private readonly env: Record<string, string | undefined>;
  private csv: CsvParser | undefined;
  private readonly jsonl: JsonlParser | undefined;
  /** CSV text read before its delimiter is known (the first line, not yet whole). */
  private head = '';
  private header: string[] | undefined;
  private userIdx = -1;
  private pwIdx = -1;
  private envIdx = -1;
  private idIdx = -1;
  /** The input has no more chunks; `over`: and its last record has been handed out. */
  private inputEnded = false;
  private over = false;
  /** Closed by its reader: read() gives nothing more. */
  private closed = false;

  constructor(src: AsyncIterable<string | Buffer>, private readonly opts: AccountFileOptions) {
    this.it = src[Symbol.asyncIterator]();
    this.max = opts.maxRecordChars ?? 65_536;
    this.pwField = (opts.passwordField ?? 'password').toLowerCase();
    this.envField = (opts.passwordEnvField ?? 'password_env').toLowerCase();
    this.idField = (opts.idField ?? 'id').toLowerCase();
    this.env = opts.env ?? {};
    if (opts.format === 'jsonl') this.jsonl = new JsonlParser(this.max);
    else if (opts.delimiter) this.csv = new CsvParser(this.max, opts.delimiter);
  }

  /** Every record has been handed out. */
  get done(): boolean {
    return this.over;
  }

  /**
   * The next record of the input read so far; undefined when `fill()` must read more first (or,
   * once `done`, at the end). Throws INPUT_INVALID for a CSV header without the account columns.
   */
  read(): InputRecord | undefined {
    // closed: nothing more, not even what a read that was under way brought in
    if (this.closed) return undefined;
    for (;;) {
      if (this.jsonl) {
        const r = this.jsonl.next() ?? this.last(this.jsonl);
        if (!r) return undefined;
        if (r.error || !r.value) return { kind: 'bad', line: r.line, reason: r.error ?? 'empty' };
        const lower = new Map(Object.entries(r.value).map(([k, v]) => [k.toLowerCase(), v]));
        const userKey = this.opts.userField ? this.opts.userField.toLowerCase() : USER_FIELDS.find((k) => lower.has(k));
        return this.make(r.line, userKey ? lower.get(userKey) : undefined, lower.get(this.pwField), lower.get(this.envField), lower.get(this.idField));
      }
      if (!this.csv) {
        if (!this.inputEnded) return undefined;
        this.csv = this.startCsv();
      }
      const r = this.csv.next() ?? this.last(this.csv);
      if (!r) {
        if (this.over && !this.header) throw new CredgateError('The CSV input is empty (not even a header line).', { code: 'INPUT_INVALID' });
        return undefined;
      }
      if (!this.header) {
        this.readHeader(r);
        continue;
      }
      if (!r.fields) return { kind: 'bad', line: r.line, reason: r.error ?? 'unreadable' };
      const f = r.fields;
      if (f.length !== this.header.length) return { kind: 'bad', line: r.line, reason: `${f.length} fields where the header has ${this.header.length}` };
      return this.make(r.line, f[this.userIdx], this.pwIdx >= 0 ? f[this.pwIdx] : undefined, this.envIdx >= 0 ? f[this.envIdx] : undefined, this.idIdx >= 0 ? f[this.idIdx] : undefined);
    }
  }

  /** Read the next chunk of the input (at its end, `read()` gives the last records). */
  async fill(): Promise<void> {
    if (this.inputEnded) return;
    let n: IteratorResult<string | Buffer>;
    try {
      n = await this.it.next();
    } catch (e) {
      // a source that failed is not closed as well (as a for-await over it would not)
      this.inputEnded = true;
      throw e;
    }
    if (this.closed) return;
    if (n.done) {
      this.inputEnded = true;
      return;
    }
    const text = textOf(this.dec, n.value);
    if (this.csv || this.jsonl) {
      (this.csv ?? this.jsonl)!.push(text);
      return;
    }
    // a CSV file's delimiter: from its first line that is not empty, once that line is whole
    this.head += text;
    if (firstLine(this.head, false) || this.head.length > this.max) this.csv = this.startCsv();
  }

  /** Close the input (when the reader is left before its end). */
  async close(): Promise<void> {
    this.closed = true;
    this.over = true;
    if (this.inputEnded) return;
    this.inputEnded = true;
    await this.it.return?.();
  }

  /** The parser's last record once the input has ended (undefined before, and after it). */
  private last<R extends RawRecord | JsonRecord>(p: { end(tail: string): R | undefined }): R | undefined {
    if (!this.inputEnded || this.over) return undefined;
    this.over = true;
    return p.end(this.dec.end());
  }

  private startCsv(): CsvParser {
    const columns = { user: this.opts.userField ? [this.opts.userField.toLowerCase()] : USER_FIELDS, password: [this.pwField, this.envField] };
    const h = firstLine(this.head, this.inputEnded);
    const p = new CsvParser(this.max, detectDelimiter(h?.line ?? '', columns, h?.number ?? 1));
    p.push(this.head);
    this.head = '';
    return p;
  }

  private readHeader(r: RawRecord): void {
    if (!r.fields) {
      throw new CredgateError(`The CSV header (line ${r.line}) cannot be read: ${r.error}.`, { code: 'INPUT_INVALID', details: { line: r.line } });
    }
    const header = r.fields.map((h) => h.trim().toLowerCase().replace(/^\ufeff/, ''));
    const { userField } = this.opts;
    this.userIdx = userField ? header.indexOf(userField.toLowerCase()) : header.findIndex((h) => USER_FIELDS.includes(h));
    this.pwIdx = header.indexOf(this.pwField);
    this.envIdx = header.indexOf(this.envField);
    this.idIdx = header.indexOf(this.idField);
    if (this.userIdx < 0) {
      throw new CredgateError(`The CSV header has no user column (looked for ${userField ?? USER_FIELDS.join(', ')}); name it with --user-field.`, { code: 'INPUT_INVALID', details: { header } });
    }
    if (this.pwIdx < 0 && this.envIdx < 0) {
      throw new CredgateError(`The CSV header has neither a ${this.pwField} nor a ${this.envField} column; name one with --password-field or --password-env-field.`, { code: 'INPUT_INVALID', details: { header } });
    }
    this.header = header;
  }

  private make(line: number, user: unknown, pw: unknown, envName: unknown, id: unknown): InputRecord {
    if (typeof user !== 'string' || !user.trim()) return { kind: 'bad', line, reason: 'no user name' };
    const { envField, pwField } = this;
    let password: string | undefined;
    if (typeof pw === 'string' && pw.length) password = pw;
    else if (typeof envName === 'string' && envName.trim()) {
      const n = envName.trim();
      if (!ENV_NAME.test(n)) return { kind: 'bad', line, reason: `${envField} does not hold a valid environment variable name` };
      password = this.env[n];
      if (password === undefined || password === '') return { kind: 'bad', line, reason: `environment variable ${n} (from ${envField}) is not set or empty` };
    } else if (pw !== undefined && pw !== null && typeof pw !== 'string') {
      return { kind: 'bad', line, reason: `${pwField} is not a string` };
    }
    if (password === undefined) return { kind: 'bad', line, reason: `no password (neither ${pwField} nor ${envField} has a value)` };
    const account: AccountLine = { username: user.trim(), password: new Secret(password), line };
    if ((typeof id === 'string' && id) || typeof id === 'number') account.id = String(id);
    return { kind: 'account', account };
  }
}

/**
 * Turn a CSV or JSON Lines stream into accounts to verify (AccountReader as an async generator).
 * The password comes from the password column/field, or from the environment variable named in
 * password_env; a line that has neither, or is malformed, is a bad line with its number and the
 * reason (never its content).
 */
export async function* readAccounts(src: AsyncIterable<string | Buffer>, opts: AccountFileOptions): AsyncGenerator<InputRecord> {
  const reader = new AccountReader(src, opts);
  try {
    for (;;) {
      const r = reader.read();
      if (r) yield r;
      else if (reader.done) return;
      else await reader.fill();
    }
  } finally {
    await reader.close();
  }
}
