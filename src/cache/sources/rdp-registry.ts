/**
 * Parse `reg export "HKCU\Software\Microsoft\Terminal Server Client" file.reg` (REGEDIT5 format,
 * UTF-16LE with a BOM as reg.exe writes it; UTF-8 and BOM-less UTF-16 are accepted too):
 *   [...\Terminal Server Client\Servers\<host>]  "UsernameHint"="CORP\\alice"  "CertHash"=hex:0e,cf,...
 *   [...\Terminal Server Client\Default]          "MRU0"="web01.corp.example"
 */
import { decodeWindowsText, hasControlChars, showValue } from '../text.js';
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

export function parseRdpRegistryExport(input: Buffer | string, file = 'registry export', machine?: string): RegistryParseResult {
  const dec = typeof input === 'string' ? { text: input.replace(/\r\n?/g, '\n'), warnings: [] as string[] } : decodeWindowsText(input, file);
  const warnings = [...dec.warnings];
  const rawLines = dec.text.split('\n');
  if (!/^(Windows Registry Editor Version 5\.00|REGEDIT4)\s*$/.test((rawLines[0] ?? '').replace(/^\uFEFF/, ''))) {
    warnings.push(`${file}:1: no "Windows Registry Editor Version 5.00" header; reading it anyway`);
  }
  // join continuation lines (hex values wrap with a trailing backslash)
  const lines: Array<{ n: number; text: string }> = [];
  for (let i = 0; i < rawLines.length; i++) {
    let t = rawLines[i]!;
    const n = i + 1;
    while (t.endsWith('\\') && i + 1 < rawLines.length && /^\s/.test(rawLines[i + 1]!)) {
      t = t.slice(0, -1) + rawLines[++i]!.trim();
    }
    lines.push({ n, text: t });
  }
  const servers = new Map<string, RdpServerHint>();
  const mru: Array<[number, string]> = [];
  let section: { kind: 'server'; host: string } | { kind: 'default' } | { kind: 'other' } = { kind: 'other' };
  for (const { n, text } of lines) {
    const line = text.trim();
    if (!line || line.startsWith(';') || (n === 1 && /^(\uFEFF)?(Windows Registry Editor|REGEDIT4)/.test(line))) continue;
    if (line.length > 65536) {
      warnings.push(`${file}:${n}: line too long, skipped`);
      continue;
    }
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) {
        warnings.push(`${file}:${n}: malformed key line, skipped`);
        section = { kind: 'other' };
        continue;
      }
      const key = line.slice(1, -1);
      const m = /\\Terminal Server Client\\Servers\\([^\\]+)$/i.exec(key);
      if (m && hasControlChars(m[1]!)) {
        warnings.push(`${file}:${n}: server ${showValue(m[1]!)} contains control characters; skipped`);
        section = { kind: 'other' };
      } else if (m) {
        section = { kind: 'server', host: m[1]! };
        if (!servers.has(m[1]!.toLowerCase())) servers.set(m[1]!.toLowerCase(), { server: m[1]!, source: `registry:${file}`, ...(machine ? { machine } : {}) });
      } else if (/\\Terminal Server Client\\Default$/i.test(key)) section = { kind: 'default' };
      else section = { kind: 'other' };
      continue;
    }
    const eq = /^("(?:[^"\\]|\\.)*"|@)=(.*)$/.exec(line);
    if (!eq) {
      warnings.push(`${file}:${n}: not a value line, skipped`);
      continue;
    }
    const name = eq[1] === '@' ? '' : unquote(eq[1]!) ?? '';
    const raw = eq[2]!;
    if (section.kind === 'server') {
      const h = servers.get(section.host.toLowerCase())!;
      if (/^usernamehint$/i.test(name)) {
        const v = unquote(raw);
        if (v !== undefined && hasControlChars(v)) warnings.push(`${file}:${n}: UsernameHint ${showValue(v)} contains control characters; skipped`);
        else if (v !== undefined) h.usernameHint = v;
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
      else if (m && v) mru.push([Number(m[1]), v]);
    }
  }
  return { hints: [...servers.values()], mru: mru.sort((a, b) => a[0] - b[0]).map(([, v]) => v), warnings };
}
