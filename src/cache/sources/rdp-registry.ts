/**
 * Parse `reg export "HKCU\Software\Microsoft\Terminal Server Client" file.reg` (REGEDIT5 format,
 * UTF-16LE with a BOM as reg.exe writes it; UTF-8 and BOM-less UTF-16 are accepted too):
 *   [...\Terminal Server Client\Servers\<host>]  "UsernameHint"="CORP\\alice"  "CertHash"=hex:0e,cf,...
 *   [...\Terminal Server Client\Default]          "MRU0"="web01.corp.example"
 */
import { eachLine, hasControlChars, isJsWhitespace, own, showValue, windowsTextPieces, type TextInput } from '../text.js';
import type { RdpServerHint } from '../types.js';

export interface RegistryParseResult {
  hints: RdpServerHint[];
  mru: string[];
  warnings: string[];
}

function unquote(s: string): string | undefined {
  if (!s.startsWith('"') || !s.endsWith('"') || s.length < 2) return undefined;
  return s.slice(1, -1).replace(/\\(["\\])/g, '$1');
}

/** More than the longest line read (65,536 characters): a longer one is only known to be too long. */
const HELD = 65537;

/**
 * One line of the export, or several joined (a hex value wraps with a trailing backslash), as its
 * trimmed text, without ever holding more than HELD characters of it: S is the text from its first
 * non-whitespace character on; its first HELD characters are held, with its length and what its
 * end is made of (the trailing whitespace, the backslashes before it, the whitespace before those),
 * which is all the joining and the checks need. Exactly what `raw.trim()` and
 * `t.slice(0, -1) + next.trim()` give, when the text fits; its length and first characters when not.
 */
class LineText {
  /** The whitespace before S (up to 2 characters of it: only "" and a BOM matter). */
  lead = '';
  started = false;
  /** The line's raw first character (a continuation line starts with whitespace). */
  first: number | undefined;
  head = '';
  len = 0;
  /** Trailing whitespace of S. */
  ws = 0;
  /** Backslashes at the end of S before its trailing whitespace, and the whitespace before them. */
  bs = 0;
  wsBeforeBs = 0;

  pushRaw(p: string): void {
    if (!p) return;
    if (this.first === undefined) this.first = p.charCodeAt(0);
    if (!this.started) {
      let i = 0;
      while (i < p.length && isJsWhitespace(p.charCodeAt(i))) i++;
      if (this.lead.length < 2) this.lead += p.slice(0, Math.min(i, 2 - this.lead.length));
      if (i === p.length) return;
      this.started = true;
      p = p.slice(i);
    }
    this.push(p);
  }

  /** Append to S. */
  private push(p: string): void {
    if (this.head.length < HELD) this.head += p.length <= HELD - this.head.length ? p : p.slice(0, HELD - this.head.length);
    this.len += p.length;
    let t = 0;
    while (t < p.length && isJsWhitespace(p.charCodeAt(p.length - 1 - t))) t++;
    if (t === p.length) {
      this.ws += t;
      return;
    }
    this.endWith(p.length - t, (k) => p.charCodeAt(k));
    this.ws = t;
  }

  /** S now ends (before new trailing whitespace) with q characters whose k-th is at(k), q > 0, the last not whitespace. */
  private endWith(q: number, at: (k: number) => number): void {
    const oldWs = this.ws;
    let b = 0;
    while (b < q && at(q - 1 - b) === 0x5c) b++;
    if (b === q) {
      if (oldWs === 0 && this.bs > 0) this.bs += b;
      else {
        this.bs = b;
        this.wsBeforeBs = oldWs;
      }
    } else if (b > 0) {
      let c = 0;
      while (c < q - b && isJsWhitespace(at(q - b - 1 - c))) c++;
      this.bs = b;
      this.wsBeforeBs = c === q - b ? c + oldWs : c;
    } else this.bs = 0;
  }

  get trimmedLength(): number {
    return this.len - this.ws;
  }

  /** The trimmed text; only when trimmedLength <= HELD. */
  trimmed(): string {
    return this.head.slice(0, this.len - this.ws);
  }

  endsWithBackslash(): boolean {
    return this.ws === 0 && this.bs > 0;
  }

  startsWithWhitespace(): boolean {
    return this.first !== undefined && isJsWhitespace(this.first);
  }

  /** t.slice(0, -1) when t ends with a backslash. */
  dropBackslash(): void {
    this.len--;
    this.bs--;
    if (this.head.length > this.len) this.head = this.head.slice(0, this.len);
    if (this.bs === 0) this.ws = this.wsBeforeBs; // nothing is joined after this: it no longer ends with a backslash
  }

  /** t + next.trim(). */
  appendTrimmed(next: LineText): void {
    const n = next.trimmedLength;
    if (n === 0) return;
    if (!this.started) this.started = true;
    if (n <= HELD) {
      this.push(next.trimmed());
      return;
    }
    if (this.head.length < HELD) this.head += next.head.slice(0, HELD - this.head.length);
    this.len += n;
    // next's text is longer than what is held of it: its end is known from its own counts
    if (next.bs === n) this.endWith(n, () => 0x5c);
    else {
      this.bs = next.bs;
      this.wsBeforeBs = next.wsBeforeBs;
    }
    this.ws = 0;
  }
}

/**
 * Read a registry export: a string, a buffer, or a file (`{ path }`), streamed a chunk at a time
 * (memory bounded by the hints kept, not by the size of the export).
 */
export function parseRdpRegistryExport(input: TextInput | string, file = 'registry export', machine?: string): RegistryParseResult {
  const stream = typeof input === 'string' ? { pieces: [input.replace(/\r\n?/g, '\n')], result: { warnings: [] as string[] } } : windowsTextPieces(input, file);
  const warnings: string[] = [];
  const source = `registry:${file}`;
  const servers = new Map<string, RdpServerHint>();
  const mru: Array<[number, string]> = [];
  let section: { kind: 'server'; host: string } | { kind: 'default' } | { kind: 'other' } = { kind: 'other' };
  let headerChecked = false;
  const onLine = (n: number, t: LineText) => {
    const len = t.trimmedLength;
    if (!len || t.head.startsWith(';') || (n === 1 && /^(\uFEFF)?(Windows Registry Editor|REGEDIT4)/.test(t.head))) return;
    if (len > 65536) {
      warnings.push(`${file}:${n}: line too long, skipped`);
      return;
    }
    const line = t.trimmed();
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) {
        warnings.push(`${file}:${n}: malformed key line, skipped`);
        section = { kind: 'other' };
        return;
      }
      const key = line.slice(1, -1);
      const m = /\\Terminal Server Client\\Servers\\([^\\]+)$/i.exec(key);
      if (m && hasControlChars(m[1]!)) {
        warnings.push(`${file}:${n}: server ${showValue(m[1]!)} contains control characters; skipped`);
        section = { kind: 'other' };
      } else if (m) {
        const host = own(m[1]!);
        section = { kind: 'server', host };
        if (!servers.has(host.toLowerCase())) {
          const h = { server: host, source } as RdpServerHint;
          if (machine) h.machine = machine;
          servers.set(own(host.toLowerCase()), h);
        }
      } else if (/\\Terminal Server Client\\Default$/i.test(key)) section = { kind: 'default' };
      else section = { kind: 'other' };
      return;
    }
    const eq = /^("(?:[^"\\]|\\.)*"|@)=(.*)$/.exec(line);
    if (!eq) {
      warnings.push(`${file}:${n}: not a value line, skipped`);
      return;
    }
    const name = eq[1] === '@' ? '' : unquote(eq[1]!) ?? '';
    const raw = eq[2]!;
    if (section.kind === 'server') {
      const h = servers.get(section.host.toLowerCase())!;
      if (/^usernamehint$/i.test(name)) {
        const v = unquote(raw);
        if (v !== undefined && hasControlChars(v)) warnings.push(`${file}:${n}: UsernameHint ${showValue(v)} contains control characters; skipped`);
        else if (v !== undefined) h.usernameHint = own(v);
        else warnings.push(`${file}:${n}: UsernameHint is not a string, skipped`);
      } else if (/^certhash$/i.test(name)) {
        const hx = /^hex(?:\(\d+\))?:(.*)$/i.exec(raw);
        if (hx) {
          const bytes = hx[1]!.split(',').map((x) => x.trim()).filter(Boolean);
          if (bytes.every((b) => /^[0-9a-f]{2}$/i.test(b))) h.certHash = bytes.join('').toUpperCase();
          else warnings.push(`${file}:${n}: CertHash has malformed hex, skipped`);
        } else warnings.push(`${file}:${n}: CertHash is not a hex value, skipped`);
      }
    } else if (section.kind === 'default') {
      const m = /^MRU(\d+)$/i.exec(name);
      const v = unquote(raw);
      if (m && v && hasControlChars(v)) warnings.push(`${file}:${n}: ${name} ${showValue(v)} contains control characters; skipped`);
      else if (m && v) mru.push([Number(m[1]), own(v)]);
    }
  };
  // the lines, joined where a line ends with a backslash and the next starts with whitespace
  let cur: LineText | undefined;
  let curN = 0;
  let line = new LineText();
  let n = 0;
  eachLine(stream.pieces, {
    piece: (p) => line.pushRaw(p),
    end() {
      n++;
      const t = line;
      line = new LineText();
      if (!headerChecked) {
        // the first line as it is (only a BOM before it): the header, with nothing but whitespace after it
        headerChecked = true;
        const ok = (t.lead === '' || t.lead === '\uFEFF') && t.trimmedLength <= 64 && /^(Windows Registry Editor Version 5\.00|REGEDIT4)$/.test(t.trimmed());
        if (!ok) warnings.push(`${file}:1: no "Windows Registry Editor Version 5.00" header; reading it anyway`);
      }
      if (cur && cur.endsWithBackslash() && t.startsWithWhitespace()) {
        cur.dropBackslash();
        cur.appendTrimmed(t);
        return;
      }
      if (cur) onLine(curN, cur);
      cur = t;
      curN = n;
    },
  });
  if (cur) onLine(curN, cur);
  return { hints: [...servers.values()], mru: mru.sort((a, b) => a[0] - b[0]).map(([, v]) => v), warnings: [...stream.result.warnings, ...warnings] };
}
