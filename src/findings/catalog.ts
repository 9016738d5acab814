/**
 * The finding catalog (catalog.json): every finding code credgate can report, with its category
 * (which decides the exit code), its priority (lower = the more basic cause when several are
 * present), the cause in plain words, and its fixes by the context the code is reported in (e.g.
 * `directory` or `rdp` for a network code, `ad` or `ppolicy` for a directory answer, `nla` for
 * the same cause met at the RDP host's NLA step). A new check adds its rows to catalog.json;
 * nothing else names a cause, a fix or an exit code.
 */
import data from './catalog.json' with { type: 'json' };
import type { CatalogFixContexts } from './catalog-codes.js';

/** What a finding means for the verdict; each category has one exit code (EXIT_CODES). */
export type Category = 'ok' | 'rejected' | 'unusable' | 'unreachable' | 'provider' | 'stale-cache' | 'usage' | 'internal' | 'info' | 'not-checked';

/** Who can carry out a fix. */
export type Owner = 'vault' | 'directory' | 'host' | 'client' | 'network' | 'caller';

export interface Remediation {
  /** One imperative sentence: what to do. */
  action: string;
  /** Who can do it: the vault/PAM admin, the directory admin, the host admin, the end user. */
  owner?: Owner;
  /** Lower runs first when several fixes are ranked. */
  priority?: number;
}

/** What a fix's words may name: `{host}`, `{port}`, `{url}`, `{detail}`, `{items}` (a list, comma-joined) in catalog.json. */
export interface FixContext {
  host?: string;
  port?: number;
  url?: string;
  detail?: string;
  items?: readonly string[];
}

export interface CatalogRow {
  category: Category;
  priority: number;
  cause: string;
  fix?: Readonly<Record<string, readonly Remediation[]>>;
}

/** Every finding code an SDK caller can receive (catalog-codes.ts is generated from catalog.json). */
export type FindingCode = keyof CatalogFixContexts;

/** The contexts a code's fixes are written for (`default` when there is one). */
export type FixVariant<C extends FindingCode> = CatalogFixContexts[C];

const CATEGORIES: ReadonlySet<string> = new Set(['ok', 'rejected', 'unusable', 'unreachable', 'provider', 'stale-cache', 'usage', 'internal', 'info', 'not-checked']);

function load(): Readonly<Record<FindingCode, CatalogRow>> {
  const rows: Record<string, CatalogRow> = {};
  for (const [code, row] of Object.entries(data)) {
    if (code === '$comment') continue;
    const r = row as CatalogRow;
    if (!CATEGORIES.has(r.category)) throw new Error(`catalog.json: ${code} has an unknown category ${String(r.category)}`);
    rows[code] = Object.freeze({ ...r, fix: r.fix && Object.freeze(Object.fromEntries(Object.entries(r.fix).map(([v, list]) => [v, Object.freeze(list.map((x) => Object.freeze({ ...x })))]))) });
  }
  return Object.freeze(rows) as Record<FindingCode, CatalogRow>;
}

export const CATALOG: Readonly<Record<FindingCode, CatalogRow>> = load();

/** One exit code per category (README "Exit codes"), and one per terminating signal that stops a run (128 + its number). */
export const EXIT_CODES = {
  ok: 0,
  rejected: 1,
  usage: 2,
  unusable: 3,
  unreachable: 4,
  provider: 5,
  'stale-cache': 6,
  internal: 70,
  /** The run was stopped by SIGHUP (the terminal closed): 128 + 1. */
  hangup: 129,
  /** The caller interrupted the run (SIGINT, Ctrl-C; on Windows Ctrl-Break too): 128 + 2. */
  interrupted: 130,
  /** The run was stopped by SIGTERM (a service manager, kill): 128 + 15. */
  terminated: 143,
} as const;

export function isFindingCode(code: string): code is FindingCode {
  return code !== '$comment' && Object.prototype.hasOwnProperty.call(CATALOG, code);
}

/** The catalog row of a code; undefined for a string that is not a finding code. */
export function catalogRow(code: string): CatalogRow | undefined {
  return isFindingCode(code) ? CATALOG[code] : undefined;
}

const PLACEHOLDER = /\{(host|port|url|detail|items)\}/g;

/**
 * A code's fixes for one context, with the case's names filled in. A list without placeholders is
 * one shared frozen object (a fleet reports the same fix 100k times).
 */
export function fixes<C extends FindingCode>(code: C, variant: FixVariant<C>, ctx: FixContext = {}): Remediation[] {
  const list = CATALOG[code].fix?.[variant];
  if (!list) return [];
  if (!list.some((r) => r.action.includes('{'))) return list as Remediation[];
  return list.map((r) => ({
    ...r,
    action: r.action.replace(PLACEHOLDER, (_, k: keyof FixContext) => {
      const v = ctx[k];
      return Array.isArray(v) ? v.join(', ') : String(v ?? '');
    }),
  }));
}

/** The exit code of a category. Categories that are not failures (ok, info, not-checked) exit 0. */
export function exitCodeForCategory(c: Category): number {
  return c === 'ok' || c === 'info' || c === 'not-checked' ? EXIT_CODES.ok : EXIT_CODES[c];
}
