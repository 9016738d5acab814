/**
 * A JSON object read as it streams by, member by member: the arrays named in `stream` (a fleet's
 * findings, a purge plan's items) are handed over one element at a time and never held whole,
 * the other members as values. Any layout of JSON (credgate's own --json output, or the same
 * re-indented by another tool) reads the same. A syntax error names the line it is on.
 */
import { CredgateError } from '../core/errors.js';

export interface MemberVisitor {
  /** Dotted paths of arrays whose elements are visited one at a time (`findings`, `plan.items`). */
  stream: ReadonlySet<string>;
  /** Dotted paths whose values are passed over unparsed (a purge's PowerShell script). */
  skip?: ReadonlySet<string>;
  /** A member that is not streamed: its path and value. */
  member(path: string, value: unknown): void;
  /** One element of a streamed array. */
  element(path: string, value: unknown): void;
}

const WS = /[ \t\n\r]*/y;
const STRUCT = /["{}[\]]/g;
const SCALAR_END = /[,}\]\s]/g;

/** The objects on the way to the streamed arrays (`plan` for `plan.items`). */
function prefixesOf(stream: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const p of stream) for (let i = p.indexOf('.'); i > 0; i = p.indexOf('.', i + 1)) out.add(p.slice(0, i));
  return out;
}

const isPlain = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype;

/**
 * The same visit over an object in memory (what a command would write with --json): the streamed
 * arrays (or iterables) element by element, the objects on the way member by member.
 */
export function visitObject(obj: Record<string, unknown>, v: MemberVisitor, prefix = '', prefixes = prefixesOf(v.stream)): void {
  for (const [key, value] of Object.entries(obj)) {
    if (value === undefined || typeof value === 'function') continue;
    const path = prefix ? `${prefix}.${key}` : key;
    if (v.stream.has(path) && value && typeof value === 'object' && Symbol.iterator in value) {
      for (const x of value as Iterable<unknown>) v.element(path, x);
    } else if (isPlain(value) && prefixes.has(path)) visitObject(value, v, path, prefixes);
    else if (!v.skip?.has(path)) v.member(path, value);
  }
}

/** Read the JSON object made of `chunks` (text) into `v`; throws INPUT_INVALID naming `label` and the line. */
export async function readJsonMembers(chunks: AsyncIterable<string | Buffer>, v: MemberVisitor, label: string): Promise<void> {
  const it = chunks[Symbol.asyncIterator]();
  let buf = '';
  let pos = 0;
  let lines = 0; // line ends in the text dropped before buf[0]
  let eof = false;
  let first = true;
  const prefixes = prefixesOf(v.stream);

  const lineAt = (at: number) => {
    let n = lines + 1;
    for (let k = buf.indexOf('\n'); k >= 0 && k < at; k = buf.indexOf('\n', k + 1)) n++;
    return n;
  };
  const fail = (what: string, at = pos): never => {
    throw new CredgateError(`${label} line ${lineAt(at)}: ${what}; expected the JSON output of credgate cache inspect|purge --json or doctor --json.`, {
      code: 'INPUT_INVALID', details: { path: label, line: lineAt(at) },
    });
  };
  /** Drop what was read (keeping buf[pos..]), append the next chunk; false at the end of the text. */
  const more = async (): Promise<boolean> => {
    if (eof) return false;
    if (pos > 65536) {
      for (let k = buf.indexOf('\n'); k >= 0 && k < pos; k = buf.indexOf('\n', k + 1)) lines++;
      buf = buf.slice(pos);
      pos = 0;
    }
    const r = await it.next();
    if (r.done) {
      eof = true;
      return false;
    }
    let text = typeof r.value === 'string' ? r.value : r.value.toString('utf8');
    if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    first = false;
    buf += text;
    return true;
  };
  /** The next character that is not white space (pos on it); undefined at the end of the text. */
  const peek = async (): Promise<string | undefined> => {
    for (;;) {
      WS.lastIndex = pos;
      WS.exec(buf);
      pos = WS.lastIndex;
      if (pos < buf.length) return buf[pos];
      if (!(await more())) return undefined;
    }
  };
  /** The length of the string that starts at pos + rel (a quote), quotes included. */
  const stringLength = async (rel: number): Promise<number> => {
    let j = pos + rel + 1;
    for (;;) {
      const q = buf.indexOf('"', j);
      if (q < 0) {
        j = buf.length;
        const shift = pos;
        if (!(await more())) return fail('a string that never ends', pos + rel);
        j -= shift - pos;
        continue;
      }
      let back = 0;
      while (buf[q - 1 - back] === '\\') back++;
      if (back % 2 === 0) return q + 1 - (pos + rel);
      j = q + 1;
    }
  };
  /** The length of the value that starts at pos (an object, an array, a string or a scalar). */
  const valueLength = async (): Promise<number> => {
    let rel = 0;
    let depth = 0;
    for (;;) {
      if (pos + rel >= buf.length && !(await more())) {
        if (depth === 0 && rel > 0) return rel; // a scalar at the very end
        return fail('the text ends inside the value that starts here');
      }
      const c = buf[pos + rel]!;
      if (c === '"') {
        rel += await stringLength(rel);
        if (depth === 0) return rel;
      } else if (c === '{' || c === '[') {
        depth++;
        rel++;
      } else if (c === '}' || c === ']') {
        if (depth === 0) return rel === 0 ? fail(`an unexpected "${c}"`) : rel;
        depth--;
        rel++;
        if (depth === 0) return rel;
      } else if (depth === 0) {
        SCALAR_END.lastIndex = pos + rel;
        const m = SCALAR_END.exec(buf);
        if (m) return m.index - pos;
        rel = buf.length - pos;
      } else {
        STRUCT.lastIndex = pos + rel;
        const m = STRUCT.exec(buf);
        rel = m ? m.index - pos : buf.length - pos;
      }
    }
  };
  const value = async (parse = true): Promise<unknown> => {
    if ((await peek()) === undefined) fail('the text ends too soon');
    const n = await valueLength();
    const text = buf.slice(pos, pos + n);
    let out: unknown;
    if (parse) {
      try {
        out = JSON.parse(text);
      } catch {
        fail('not valid JSON here');
      }
    }
    pos += n;
    return out;
  };
  /** After a member or element: true when another follows, false at `close`. */
  const next = async (close: string): Promise<boolean> => {
    const c = await peek();
    if (c === ',') {
      pos++;
      return true;
    }
    if (c === close) {
      pos++;
      return false;
    }
    return fail(c === undefined ? 'the text ends too soon' : `"${close}" or "," expected`);
  };
  const array = async (path: string): Promise<void> => {
    pos++;
    if ((await peek()) === ']') {
      pos++;
      return;
    }
    do v.element(path, await value());
    while (await next(']'));
  };
  const object = async (prefix: string): Promise<void> => {
    if ((await peek()) !== '{') fail('not a JSON object');
    pos++;
    if ((await peek()) === '}') {
      pos++;
      return;
    }
    do {
      if ((await peek()) !== '"') fail('a member name expected');
      const key = (await value()) as string;
      if ((await peek()) !== ':') fail('":" expected');
      pos++;
      const path = prefix ? `${prefix}.${key}` : key;
      const c = await peek();
      if (c === '[' && v.stream.has(path)) await array(path);
      else if (c === '{' && prefixes.has(path)) await object(path);
      else if (v.skip?.has(path)) await value(false);
      else v.member(path, await value());
    } while (await next('}'));
  };
  await object('');
  if ((await peek()) !== undefined) fail('more text after the JSON object');
}
