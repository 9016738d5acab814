/**
 * Parse `cmdkey /list` output captured on any Windows machine, in any display language.
 * Known labels (English, German, French, Spanish, Italian, Portuguese, Dutch) are read by name;
 * an unknown language is read by structure: an entry is a block of `label: value` lines whose
 * first value holds the target (`...target=...` or `TERMSRV/...`), then the type, then the user,
 * then bare lines such as the persistence note.
 */
import { eachLine, hasControlChars, own, showValue, windowsTextPieces, type TextInput } from '../text.js';
import { normalizedHostOf, normalizeTarget, type CachedCredential } from '../types.js';

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
  return own(v.trim().toLowerCase().replace(/\s+/g, '-')) || 'unknown';
}

/** "Label: value" or "Label : value" (French spacing). */
function splitLabel(line: string): [string, string] | undefined {
  const m = /^\s*([^:]{1,40}?)\s*:\s?(.*)$/.exec(line);
  if (!m) return undefined;
  // a value like "Domain:target=..." must not be split at its own colon: the label has no '='
  if (m[1]!.includes('=')) return undefined;
  return [m[1]!.trim().toLowerCase(), m[2]!.trim()];
}

export interface CmdkeyParseResult {
  entries: CachedCredential[];
  warnings: string[];
}

/**
 * Read cmdkey /list text: a string, a buffer, or a file (`{ path }`), streamed a chunk at a time
 * (memory bounded by the entries kept, not by the size of the capture).
 */
export function parseCmdkeyList(input: TextInput | string, file = 'cmdkey output', machine?: string): CmdkeyParseResult {
  const stream = typeof input === 'string' ? { pieces: [input.replace(/\r\n?/g, '\n')], result: { warnings: [] as string[] } } : windowsTextPieces(input, file);
  const warnings: string[] = [];
  const entries: CachedCredential[] = [];
  const source = `cmdkey:${file}`; // one string for every entry
  let cur: { start: number; fields: Array<[string, string]>; bare: string[] } | undefined;
  const flush = () => {
    if (!cur) return;
    const e = toEntry(cur.fields, cur.bare, source, machine);
    const bad = e ? [e.rawTarget, e.username ?? '', e.type].find(hasControlChars) : undefined;
    if (bad !== undefined) warnings.push(`${file}:${cur.start}: ${showValue(bad)} contains control characters; entry skipped`);
    else if (e) entries.push(e);
    else warnings.push(`${file}:${cur.start}: a block without a target was skipped`);
    cur = undefined;
  };
  const onLine = (line: string, n: number) => {
    if (line.trim() === '') {
      flush();
      return;
    }
    const kv = splitLabel(line);
    if (kv && isTargetLine(kv)) {
      flush();
      cur = { start: n, fields: [kv], bare: [] };
      return;
    }
    if (!cur) return; // header lines ("Currently stored credentials:") and anything before the first entry
    if (kv) cur.fields.push(kv);
    else cur.bare.push(line.trim());
  };
  // a line over 4096 characters is skipped: only its first 4097 are ever held
  let line = '';
  let long = false;
  let n = 0;
  eachLine(stream.pieces, {
    piece(p) {
      if (long) return;
      if (line.length + p.length > 4096) {
        long = true;
        line = '';
      } else line += p;
    },
    end() {
      n++;
      if (long) warnings.push(`${file}:${n}: line longer than 4096 characters skipped`);
      else onLine(line, n);
      line = '';
      long = false;
    },
  });
  flush();
  return { entries, warnings: [...stream.result.warnings, ...warnings] };
}

function isTargetLine([label, value]: [string, string]): boolean {
  return LABELS.target.includes(label) || /(^|:)target=/i.test(value) || /^TERMSRV\//i.test(value);
}

function toEntry(fields: Array<[string, string]>, bare: string[], source: string, machine?: string): CachedCredential | undefined {
  const get = (k: keyof typeof LABELS, pos: number) => fields.find(([l]) => LABELS[k].includes(l))?.[1] ?? fields[pos]?.[1];
  const cut = fields[0]?.[1];
  if (!cut) return undefined;
  const raw = own(cut); // the values kept are copies: no view into the chunk they were read from
  const typeText = get('type', 1);
  let user = get('user', 2);
  if (user) user = own(user);
  if (user && /^<.*>$/.test(user)) user = undefined; // "<none>" style placeholders
  let persist: CachedCredential['persist'];
  for (const b of bare) for (const [re, p] of PERSIST_WORDS) if (re.test(b)) persist = p;
  const target = normalizeTarget(raw);
  // built field by field, in the order JSON shows them (no spread objects: a capture has 100k entries)
  const e = { target, rawTarget: raw } as CachedCredential;
  const host = normalizedHostOf(target);
  if (host !== undefined) e.normalizedHost = host;
  e.type = typeText ? classifyType(typeText) : 'unknown';
  if (user) e.username = user;
  if (persist) e.persist = persist;
  e.source = source;
  if (machine) e.machine = machine;
  return e;
}
