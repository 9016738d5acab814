// The readers as they were before they streamed (commit a1075a8), kept as the reference the
// streaming ones are checked against (test/unit/cache/sources/streaming.test.ts). Not used by credgate.
/* eslint-disable */
/**
 * Parse `reg export "HKCU\Software\Microsoft\Terminal Server Client" file.reg` (REGEDIT5 format,
 * UTF-16LE with a BOM as reg.exe writes it; UTF-8 and BOM-less UTF-16 are accepted too):
 *   [...\Terminal Server Client\Servers\<host>]  "UsernameHint"="CORP\\alice"  "CertHash"=hex:0e,cf,...
 *   [...\Terminal Server Client\Default]          "MRU0"="web01.corp.example"
 */
import { decodeWindowsText, hasControlChars, showValue } from '../../../../src/cache/text.js';
import { hostField, normalizeTarget, type CachedCredential, type RdpServerHint } from '../../../../src/cache/types.js';

interface RegistryParseResult {
  hints: RdpServerHint[];
  mru: string[];
  warnings: string[];
}

function unquote(s: string): string | undefined {
  if (!s.startsWith('"') || !s.endsWith('"') || s.length < 2) return undefined;
  return s.slice(1, -1).replace(/\\(["\\])/g, '$1');
}

export function oldParseRdpRegistryExport(input: Buffer | string, file = 'registry export', machine?: string): RegistryParseResult {
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
const LABELS: Record<'target' | 'type' | 'user', string[]> = {
  target: ['target', 'ziel', 'cible', 'destino', 'destinazione', 'doel', 'alvo'],
  type: ['type', 'typ', 'tipo', 'soort'],
  user: ['user', 'benutzer', 'utilisateur', 'usuario', 'utente', 'gebruiker', 'usuário', 'utilizador'],
};

const TYPE_WORDS: Array<[RegExp, string]> = [
  [/domain\s*password|domänenkennwort|mot de passe de domaine|contraseña de dominio|password di dominio|domeinwachtwoord|senha de domínio/i, 'domain-password'],
  [/domain\s*certificate|domänenzertifikat|certificat de domaine|certificado de dominio|certificato di dominio/i, 'domain-certificate'],
  [/domain\s*extended|domänenerweitert/i, 'domain-extended'],
  [/generic\s*certificate|generisches zertifikat|certificat générique/i, 'generic-certificate'],
  [/generic|generisch|générique|genérico|generico|algemeen/i, 'generic'],
];

const PERSIST_WORDS: Array<[RegExp, CachedCredential['persist']]> = [
  [/local machine persistence|lokale computerpersistenz|persistance de l.ordinateur local|persistencia de equipo local|persistenza computer locale/i, 'local-machine'],
  [/enterprise persistence|unternehmenspersistenz|persistance d.entreprise|persistencia de empresa/i, 'enterprise'],
  [/saved for this logon only|nur für diese anmeldung|enregistré pour cette ouverture de session uniquement|guardado solo para este inicio de sesión/i, 'session'],
];

function classifyType(v: string): string {
  for (const [re, t] of TYPE_WORDS) if (re.test(v)) return t;
  return v.trim().toLowerCase().replace(/\s+/g, '-') || 'unknown';
}

/** "Label: value" or "Label : value" (French spacing). */
function splitLabel(line: string): [string, string] | undefined {
  const m = /^\s*([^:]{1,40}?)\s*:\s?(.*)$/.exec(line);
  if (!m) return undefined;
  // a value like "Domain:target=..." must not be split at its own colon: the label has no '='
  if (m[1]!.includes('=')) return undefined;
  return [m[1]!.trim().toLowerCase(), m[2]!.trim()];
}

interface CmdkeyParseResult {
  entries: CachedCredential[];
  warnings: string[];
}

export function oldParseCmdkeyList(input: Buffer | string, file = 'cmdkey output', machine?: string): CmdkeyParseResult {
  const dec = typeof input === 'string' ? { text: input.replace(/\r\n?/g, '\n'), warnings: [] as string[] } : decodeWindowsText(input, file);
  const warnings = [...dec.warnings];
  const lines = dec.text.split('\n');
  const entries: CachedCredential[] = [];
  let cur: { start: number; fields: Array<[string, string]>; bare: string[] } | undefined;
  const flush = () => {
    if (!cur) return;
    const e = toEntry(cur.fields, cur.bare, file, machine);
    const bad = e ? [e.rawTarget, e.username ?? '', e.type].find(hasControlChars) : undefined;
    if (bad !== undefined) warnings.push(`${file}:${cur.start}: ${showValue(bad)} contains control characters; entry skipped`);
    else if (e) entries.push(e);
    else warnings.push(`${file}:${cur.start}: a block without a target was skipped`);
    cur = undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length > 4096) {
      warnings.push(`${file}:${i + 1}: line longer than 4096 characters skipped`);
      continue;
    }
    if (line.trim() === '') {
      flush();
      continue;
    }
    const kv = splitLabel(line);
    const indented = /^\s+/.test(line);
    if (kv && isTargetLine(kv)) {
      flush();
      cur = { start: i + 1, fields: [kv], bare: [] };
      continue;
    }
    if (!cur) continue; // header lines ("Currently stored credentials:") and anything before the first entry
    if (kv && indented) cur.fields.push(kv);
    else if (kv) cur.fields.push(kv);
    else cur.bare.push(line.trim());
  }
  flush();
  return { entries, warnings };
}

function isTargetLine([label, value]: [string, string]): boolean {
  return LABELS.target.includes(label) || /(^|:)target=/i.test(value) || /^TERMSRV\//i.test(value);
}

function toEntry(fields: Array<[string, string]>, bare: string[], file: string, machine?: string): CachedCredential | undefined {
  const get = (k: keyof typeof LABELS, pos: number) => fields.find(([l]) => LABELS[k].includes(l))?.[1] ?? fields[pos]?.[1];
  const raw = fields[0]?.[1];
  if (!raw) return undefined;
  const typeText = get('type', 1);
  let user = get('user', 2);
  if (user && /^<.*>$/.test(user)) user = undefined; // "<none>" style placeholders
  let persist: CachedCredential['persist'];
  for (const b of bare) for (const [re, p] of PERSIST_WORDS) if (re.test(b)) persist = p;
  const target = normalizeTarget(raw);
  return {
    target,
    rawTarget: raw,
    ...hostField(target),
    type: typeText ? classifyType(typeText) : 'unknown',
    ...(user ? { username: user } : {}),
    ...(persist ? { persist } : {}),
    source: `cmdkey:${file}`,
    ...(machine ? { machine } : {}),
  };
}
