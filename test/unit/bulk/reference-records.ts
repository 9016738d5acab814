// The account-file record readers as they were before the synchronous parsers (src/bulk/
// record-parsers.ts): a character at a time, one async generator per layer. Kept, unchanged in
// behaviour, as the independent reference the differential test holds the parsers to.
import { StringDecoder } from 'node:string_decoder';

export interface RawRecord {
  line: number;
  fields?: string[];
  error?: string;
}

const textOf = (dec: StringDecoder, chunk: string | Buffer): string => (typeof chunk === 'string' ? chunk : dec.write(chunk));

/** RFC 4180 CSV records from a text stream: quoted fields (with "" and line breaks inside), CRLF or LF; fields split on `delimiter`. */
export async function* referenceCsvRecords(src: AsyncIterable<string | Buffer>, maxChars = 65_536, delimiter: string = ','): AsyncGenerator<RawRecord> {
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
export async function* referenceJsonlRecords(src: AsyncIterable<string | Buffer>, maxChars = 65_536): AsyncGenerator<{ line: number; value?: Record<string, unknown>; error?: string }> {
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
