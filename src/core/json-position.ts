/**
 * Where a JSON text goes wrong, without quoting it: Node 20's JSON.parse message carries no
 * position but does quote the text around the fault (which may be a token or a password).
 */
/** The offset of the first JSON syntax error in `text` (text.length when it ends early), or -1 when it is valid. */
export function jsonErrorOffset(text: string): number {
  const n = text.length;
  let i = 0;
  const stack: Array<'{' | '['> = [];
  type Expect = 'value' | 'key' | 'colon' | 'next' | 'done';
  let want: Expect = 'value';
  const after = (): Expect => (stack.length ? 'next' : 'done');
  const skipWs = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  /** Scan a string starting at i (a quote); the offset after it, or -(offset of the fault) - 1. */
  const scanString = (): number => {
    let j = i + 1;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 0x22) return j + 1;
      if (c < 0x20) return -j - 1;
      if (c === 0x5c) {
        const e = text[j + 1];
        if (e === undefined) return -n - 1;
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) return -(j + 1) - 1;
          j += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e)) return -(j + 1) - 1;
        j += 2;
        continue;
      }
      j++;
    }
    return -n - 1;
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  for (;;) {
    skipWs();
    if (i >= n) return want === 'done' ? -1 : n;
    const ch = text[i]!;
    switch (want) {
      case 'done':
        return i;
      case 'colon':
        if (ch !== ':') return i;
        i++;
        want = 'value';
        continue;
      case 'key': {
        if (ch !== '"') return i;
        const j = scanString();
        if (j < 0) return -j - 1;
        i = j;
        want = 'colon';
        continue;
      }
      case 'next': {
        const top = stack[stack.length - 1]!;
        if (ch === ',') {
          i++;
          want = top === '{' ? 'key' : 'value';
          continue;
        }
        if (ch === (top === '{' ? '}' : ']')) {
          i++;
          stack.pop();
          want = after();
          continue;
        }
        return i;
      }
      case 'value': {
        if (ch === '{' || ch === '[') {
          stack.push(ch);
          i++;
          skipWs();
          if (text[i] === (ch === '{' ? '}' : ']')) {
            i++;
            stack.pop();
            want = after();
          } else want = ch === '{' ? 'key' : 'value';
          continue;
        }
        if (ch === '"') {
          const j = scanString();
          if (j < 0) return -j - 1;
          i = j;
          want = after();
          continue;
        }
        let lit = '';
        for (const l of ['true', 'false', 'null']) if (text.startsWith(l, i)) lit = l;
        if (lit) {
          i += lit.length;
          want = after();
          continue;
        }
        NUMBER.lastIndex = i;
        const m = NUMBER.exec(text);
        if (!m || m[0].length === 0) return i;
        i += m[0].length;
        want = after();
        continue;
      }
    }
  }
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text.charCodeAt(k) === 0x0a) {
      line++;
      start = k + 1;
    }
  }
  return { line, column: offset - start + 1 };
}
