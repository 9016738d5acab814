/**
 * JSON.parse over text that comes in pieces (a collector file read a chunk at a time): the same
 * value, built as the text goes by, so what stays in memory is the value, never the whole text.
 * A syntax error is reported where src/core/json-position.ts's jsonErrorOffset places it (the
 * same line in credgate's message as before), worded like V8's JSON.parse messages but without
 * quoting the text around the fault.
 */
import { own } from './text.js';

export class JsonSyntaxError extends Error {
  constructor(message: string, readonly offset: number, readonly line: number) {
    super(message);
  }
}

const WS = /[ \t\n\r]*/y;
const PLAIN = /[^"\\\u0000-\u001f]*/y;
const DIGITS = /[0-9]*/y;
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const HEX4 = /^[0-9a-fA-F]{4}$/;

type Container = { array: unknown[]; object?: undefined; key?: undefined } | { object: Record<string, unknown>; array?: undefined; key: string | undefined };

/** Parse the JSON text made of `pieces` joined; throws JsonSyntaxError. */
export function parseJsonPieces(pieces: Iterator<string>): unknown {
  let buf = '';
  let pos = 0;
  let base = 0; // offset of buf[0] in the whole text
  let lines = 0; // line ends before base
  let eof = false;
  /** Drop what was read, take the next piece; false at the end of the text. */
  const more = (): boolean => {
    if (eof) return false;
    const r = pieces.next();
    for (let k = buf.indexOf('\n'); k >= 0 && k < pos; k = buf.indexOf('\n', k + 1)) lines++;
    base += pos;
    buf = buf.slice(pos);
    pos = 0;
    if (r.done) {
      eof = true;
      return false;
    }
    buf += r.value;
    return true;
  };
  const fail = (detail: string, offset: number): never => {
    let line = lines + 1;
    for (let k = buf.indexOf('\n'); k >= 0 && base + k < offset; k = buf.indexOf('\n', k + 1)) line++;
    throw new JsonSyntaxError(detail, offset, line);
  };
  const end = () => base + buf.length; // the offset of the end of the text, once eof
  const at = (offset: number) => `in JSON at position ${offset}`;
  const show = (c: string) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c);
  /** At least n characters from pos in buf, unless the text ends first. */
  const need = (n: number) => {
    while (buf.length - pos < n && more());
  };
  const skipWs = () => {
    for (;;) {
      WS.lastIndex = pos;
      WS.exec(buf);
      pos = WS.lastIndex;
      if (pos < buf.length || !more()) return;
    }
  };
  /** The string that starts at pos (a quote); pos after it. */
  const string = (): string => {
    pos++;
    const parts: string[] = [];
    let escaped = false;
    for (;;) {
      PLAIN.lastIndex = pos;
      PLAIN.exec(buf);
      const j = PLAIN.lastIndex;
      if (j >= buf.length) {
        // the string goes on in the next piece: keep what was read of it, and read on
        if (j > pos) parts.push(buf.slice(pos, j));
        pos = j;
        if (!more()) fail(`Unterminated string ${at(end())}`, end());
        continue;
      }
      const c = buf.charCodeAt(j);
      if (c === 0x22) {
        if (j > pos || !parts.length) parts.push(buf.slice(pos, j));
        pos = j + 1;
        const raw = parts.length === 1 ? parts[0]! : parts.join('');
        return escaped ? (JSON.parse(`"${raw}"`) as string) : own(raw);
      }
      if (c < 0x20) fail(`Bad control character in string literal ${at(base + j)}`, base + j);
      // a backslash: its escape must be whole in buf
      if (j > pos) parts.push(buf.slice(pos, j));
      pos = j;
      need(6);
      const e = buf[pos + 1];
      if (e === undefined) fail(`Unterminated string ${at(end())}`, end());
      if (e === 'u') {
        if (!HEX4.test(buf.slice(pos + 2, pos + 6))) fail(`Bad Unicode escape ${at(base + pos + 1)}`, base + pos + 1);
        parts.push(buf.slice(pos, pos + 6));
        pos += 6;
      } else {
        if (!'"\\/bfnrt'.includes(e!)) fail(`Bad escaped character ${at(base + pos + 1)}`, base + pos + 1);
        parts.push(buf.slice(pos, pos + 2));
        pos += 2;
      }
      escaped = true;
    }
  };
  /** The run of digits at pos (across pieces). */
  const digits = (): string => {
    let d = '';
    for (;;) {
      DIGITS.lastIndex = pos;
      DIGITS.exec(buf);
      const j = DIGITS.lastIndex;
      d += buf.slice(pos, j);
      pos = j;
      if (j < buf.length || !more()) return d;
    }
  };
  /** A literal or a number at pos: what the NUMBER pattern of jsonErrorOffset takes, read across pieces. */
  const scalar = (): unknown => {
    need(5);
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (buf.startsWith(word, pos)) {
        pos += word.length;
        return value;
      }
    }
    const start = pos;
    let t = '';
    if (buf[pos] === '-') {
      t = '-';
      pos++;
      need(1);
    }
    if (buf[pos] === '0') {
      t += '0';
      pos++;
    } else if (buf[pos] !== undefined && buf[pos]! >= '1' && buf[pos]! <= '9') t += digits();
    else if (t) fail(`No number after minus sign ${at(base + pos)}`, base + start);
    else fail(`Unexpected token '${show(buf[pos]!)}' ${at(base + pos)}`, base + pos);
    need(2);
    if (buf[pos] === '.' && isDigit(buf[pos + 1])) {
      pos++;
      t += `.${digits()}`;
    }
    need(3);
    if (buf[pos] === 'e' || buf[pos] === 'E') {
      const k = buf[pos + 1] === '+' || buf[pos + 1] === '-' ? 2 : 1;
      if (isDigit(buf[pos + k])) {
        t += buf.slice(pos, pos + k);
        pos += k;
        t += digits();
      }
    }
    return Number(t);
  };

  const stack: Container[] = [];
  let root: unknown;
  type Want = 'value' | 'key' | 'colon' | 'next' | 'done';
  let want = 'value' as Want;
  const put = (v: unknown) => {
    const top = stack[stack.length - 1];
    if (!top) root = v;
    else if (top.array) top.array.push(v);
    else if (top.key === '__proto__') Object.defineProperty(top.object, '__proto__', { value: v, writable: true, enumerable: true, configurable: true });
    else top.object[top.key!] = v;
    want = stack.length ? 'next' : 'done';
  };
  for (;;) {
    skipWs();
    if (pos >= buf.length) {
      if (want === 'done') return root;
      fail('Unexpected end of JSON input', end());
    }
    const ch = buf[pos]!;
    switch (want) {
      case 'done':
        fail(`Unexpected non-whitespace character after JSON ${at(base + pos)}`, base + pos);
        break;
      case 'colon':
        if (ch !== ':') fail(`Expected ':' after property name ${at(base + pos)}`, base + pos);
        pos++;
        want = 'value';
        break;
      case 'key': {
        if (ch !== '"') fail(`Expected double-quoted property name ${at(base + pos)}`, base + pos);
        (stack[stack.length - 1] as { key: string | undefined }).key = string();
        want = 'colon';
        break;
      }
      case 'next': {
        const top = stack[stack.length - 1]!;
        if (ch === ',') {
          pos++;
          want = top.array ? 'value' : 'key';
        } else if (ch === (top.array ? ']' : '}')) {
          pos++;
          stack.pop();
          put(top.array ?? top.object);
        } else fail(top.array ? `Expected ',' or ']' after array element ${at(base + pos)}` : `Expected ',' or '}' after property value ${at(base + pos)}`, base + pos);
        break;
      }
      case 'value': {
        if (ch === '{' || ch === '[') {
          pos++;
          skipWs();
          if (buf[pos] === (ch === '{' ? '}' : ']')) {
            pos++;
            put(ch === '{' ? {} : []);
          } else {
            stack.push(ch === '{' ? { object: {}, key: undefined } : { array: [] });
            want = ch === '{' ? 'key' : 'value';
          }
        } else if (ch === '"') put(string());
        else put(scalar());
        break;
      }
    }
  }
}
