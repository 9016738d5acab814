/**
 * The record parsers of account files, synchronous and incremental: text goes in as it is read
 * (`push`), records come out one at a time (`next`) as soon as one is whole, and `end` gives the
 * last one. No promise and no generator per record: a bulk run reads tens of thousands of
 * accounts a second, and three async layers per record cost it more than the parsing
 * (bench/verify-cli.mjs). `readAccounts`, `csvRecords` and `jsonlRecords` (input.ts) are the
 * streaming faces of these.
 */
import type { CsvDelimiter } from './csv-delimiter.js';

/** One CSV record: its fields, or why it cannot be read; `line` is the line it starts on. */
export interface RawRecord {
  line: number;
  fields?: string[];
  error?: string;
}

/** One JSON Lines record: the object, or why the line is not one. */
export interface JsonRecord {
  line: number;
  value?: Record<string, unknown>;
  error?: string;
}

const AFTER_QUOTE = 'text follows a closing quote (write "" for a quote inside a quoted field)';
const QUOTE_INSIDE = 'a quote inside an unquoted field (quote the whole field and write "" for the quote)';
const NOT_CLOSED = 'a quoted field is not closed before the end of the file';
const tooLong = (max: number) => `the record is longer than ${max} characters`;

const QUOTE = 34;
const LF = 10;
const CR = 13;

/**
 * RFC 4180 CSV: quoted fields (with "" and line breaks inside), CRLF or LF, fields split on the
 * delimiter. A record longer than `maxChars` characters is a bad record, and the rest of its line
 * is skipped; a blank line is no record. Plain text between the special characters is taken a
 * run at a time (one slice), not a character at a time.
 */
export class CsvParser {
  private s = '';
  private i = 0;
  private fields: string[] = [];
  private field = '';
  private size = 0;
  private inQuotes = false;
  private afterQuote = false;
  private bad: string | undefined;
  private skipping = false;
  private line = 1;
  private recLine = 1;
  private readonly d: number;

  constructor(private readonly maxChars = 65_536, private readonly delimiter: CsvDelimiter = ',') {
    this.d = delimiter.charCodeAt(0);
  }

  /** More text. The text pushed before must have been read to its end (`next` gave undefined). */
  push(text: string): void {
    this.s = this.i < this.s.length ? this.s.slice(this.i) + text : text;
    this.i = 0;
  }

  /** The next whole record of the text pushed so far; undefined when the parser needs more text. */
  next(): RawRecord | undefined {
    const s = this.s;
    const n = s.length;
    const d = this.d;
    let i = this.i;
    while (i < n) {
      if (this.skipping) {
        const nl = s.indexOf('\n', i);
        if (nl < 0) {
          i = n;
          break;
        }
        i = nl + 1;
        const r = this.endRecord();
        if (r) {
          this.i = i;
          return r;
        }
        continue;
      }
      if (!this.afterQuote) {
        // a run of plain characters: one slice (bounded by what the record may still hold)
        const room = this.maxChars - this.size;
        const lim = room < n - i ? i + room : n;
        let j = i;
        if (this.inQuotes) {
          // to the closing quote (found natively: a quoted field is the long one, a DN), counting
          // the line breaks inside
          const q = s.indexOf('"', i);
          j = q < 0 || q > lim ? lim : q;
          for (let nl = s.indexOf('\n', i); nl >= 0 && nl < j; nl = s.indexOf('\n', nl + 1)) this.line++;
        } else {
          for (; j < lim; j++) {
            const c = s.charCodeAt(j);
            if (c === d || c === LF || c === CR || c === QUOTE) break;
          }
        }
        if (j > i) {
          this.field = this.field === '' ? s.slice(i, j) : this.field + s.slice(i, j);
          this.size += j - i;
          i = j;
          continue;
        }
      }
      // one special character (or the one past the record's limit)
      const c = s[i]!;
      if (++this.size > this.maxChars) {
        this.bad = tooLong(this.maxChars);
        this.inQuotes = false;
        this.skipping = true;
        this.field = '';
        this.fields = [];
        // a line feed here ends the record: read it again, skipping
        if (c !== '\n') i++;
        continue;
      }
      i++;
      if (this.inQuotes) {
        // only a quote stops a run inside quotes
        this.inQuotes = false;
        this.afterQuote = true;
        continue;
      }
      if (this.afterQuote) {
        this.afterQuote = false;
        if (c === '"') {
          this.field += '"';
          this.inQuotes = true;
          continue;
        }
        if (c !== this.delimiter && c !== '\n' && c !== '\r') {
          this.bad ??= AFTER_QUOTE;
          continue;
        }
      }
      if (c === this.delimiter) {
        this.fields.push(this.field);
        this.field = '';
      } else if (c === '\n') {
        const r = this.endRecord();
        if (r) {
          this.i = i;
          return r;
        }
      } else if (c === '\r') {
        // CRLF: the LF ends the record
      } else if (c === '"') {
        if (this.field === '') this.inQuotes = true;
        else this.bad ??= QUOTE_INSIDE;
      } else {
        this.field += c;
      }
    }
    this.i = i;
    return undefined;
  }

  /**
   * The input is over: the last record, if any. `tail` is what the decoder had left (an
   * incomplete UTF-8 sequence as replacement characters): plain text in the last field.
   */
  end(tail = ''): RawRecord | undefined {
    if (tail && !this.skipping) {
      if (this.afterQuote) this.bad ??= AFTER_QUOTE;
      else if ((this.size += tail.length) > this.maxChars) this.bad = tooLong(this.maxChars);
      else this.field += tail;
    }
    if (this.inQuotes) this.bad = NOT_CLOSED;
    return this.endRecord();
  }

  /** The record that ends here (undefined for a blank line); the next starts on the next line. */
  private endRecord(): RawRecord | undefined {
    this.fields.push(this.field);
    const r: RawRecord | undefined = this.bad
      ? { line: this.recLine, error: this.bad }
      : this.fields.length === 1 && this.fields[0] === '' ? undefined : { line: this.recLine, fields: this.fields };
    this.fields = [];
    this.field = '';
    this.size = 0;
    this.bad = undefined;
    this.afterQuote = false;
    this.inQuotes = false;
    this.skipping = false;
    this.line++;
    this.recLine = this.line;
    return r;
  }
}

/**
 * JSON Lines: one object per line (CRLF or LF; blank lines are no record). A line longer than
 * `maxChars` that is still unread when its text ends is a bad record, and is not kept in memory.
 */
export class JsonlParser {
  private s = '';
  private start = 0;
  private rest = '';
  private line = 0;
  private long = false;

  constructor(private readonly maxChars = 65_536) {}

  /** More text. The text pushed before must have been read to its end (`next` gave undefined). */
  push(text: string): void {
    this.s = text;
    this.start = 0;
  }

  /** The next record of the text pushed so far; undefined when the parser needs more text. */
  next(): JsonRecord | undefined {
    const s = this.s;
    for (let nl = s.indexOf('\n', this.start); nl >= 0; nl = s.indexOf('\n', this.start)) {
      const text = this.rest ? this.rest + s.slice(this.start, nl) : s.slice(this.start, nl);
      this.rest = '';
      this.start = nl + 1;
      const r = this.parse(text);
      if (r) return r;
    }
    if (this.start < s.length) {
      this.rest += s.slice(this.start);
      this.start = s.length;
    }
    if (this.rest.length > this.maxChars) {
      this.long = true;
      this.rest = '';
    }
    return undefined;
  }

  /** The input is over: the last line, if any (`tail`: what the decoder had left). */
  end(tail = ''): JsonRecord | undefined {
    const last = this.rest + tail;
    this.rest = '';
    if (!last.length && !this.long) return undefined;
    return this.parse(last);
  }

  private parse(text: string): JsonRecord | undefined {
    const line = ++this.line;
    if (this.long) {
      this.long = false;
      return { line, error: `the line is longer than ${this.maxChars} characters` };
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
  }
}
