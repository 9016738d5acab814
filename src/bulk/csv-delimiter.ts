/**
 * The delimiter of a CSV account file, read once from its header line: comma, semicolon (the
 * CSV of Excel in locales whose decimal separator is a comma) or tab. The one that splits the
 * header into the account columns wins (AccountReader, input.ts, reads the first line and then
 * parses the whole text with it).
 */
import { CredgateError } from '../core/errors.js';

export type CsvDelimiter = ',' | ';' | '\t';

/** The delimiters tried, in this order, with the names errors use. */
export const CSV_DELIMITERS: ReadonlyArray<{ char: CsvDelimiter; name: string }> = [
  { char: ',', name: 'comma' },
  { char: ';', name: 'semicolon' },
  { char: '\t', name: 'tab' },
];

/** What the header must name: one user column, and a password or password-environment column. */
export interface HeaderColumns {
  user: readonly string[];
  password: readonly string[];
}

/** A header line's fields split on `d`, RFC 4180 quotes honoured, trimmed and lower-cased (a leading BOM dropped). */
export function headerFields(line: string, d: CsvDelimiter): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c !== '"') field += c;
      else if (line[i + 1] === '"') field += line[++i];
      else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === d) {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out.map((f) => f.replace(/^\ufeff/, '').trim().toLowerCase());
}

/**
 * The delimiter that splits `header` (line `line` of the input) into the account columns. None
 * does: a comma (the parser's header check then says which column is missing). More than one
 * does: an INPUT_INVALID error naming the line and the delimiters (give --delimiter).
 */
export function detectDelimiter(header: string, columns: HeaderColumns, line = 1): CsvDelimiter {
  const fits = CSV_DELIMITERS.filter(({ char }) => {
    const f = headerFields(header, char);
    return f.length > 1 && f.some((h) => columns.user.includes(h)) && f.some((h) => columns.password.includes(h));
  });
  if (fits.length > 1) {
    throw new CredgateError(
      `The CSV header (line ${line}) splits into the account columns with more than one delimiter (${fits.map((d) => d.name).join(' and ')}); name the delimiter with --delimiter ${fits.map((d) => d.name).join('|')}, or rename the columns.`,
      { code: 'INPUT_INVALID', details: { line, delimiters: fits.map((d) => d.name) } },
    );
  }
  return fits[0]?.char ?? ',';
}

/** The first line of `text` that is not empty, and its number; undefined until a line end (or the end of the input) shows one. */
export function firstLine(text: string, ended: boolean): { line: string; number: number } | undefined {
  let start = 0;
  let n = 1;
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
    const l = text.slice(start, nl).replace(/\r$/, '');
    if (l !== '') return { line: l, number: n };
    start = nl + 1;
    n++;
  }
  return ended && text.slice(start) !== '' ? { line: text.slice(start), number: n } : undefined;
}
