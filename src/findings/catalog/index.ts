/**
 * The finding catalog: every finding code credgate can report, with its category (which decides
 * the exit code), its priority (lower = the more basic cause when several are present), the
 * cause in plain words and its fixes. A new check adds its rows to one of the area files here;
 * nothing else names a cause, a fix or an exit code.
 */
import type { CatalogRow, Category, FixContext, Fixes, Remediation } from './types.js';
import { LDAP_ROWS } from './ldap.js';
import { NETWORK_ROWS } from './network.js';
import { RDP_ROWS } from './rdp.js';
import { CACHE_ROWS } from './cache.js';
import { RUN_ROWS } from './run.js';

export type { CatalogRow, Category, FixContext, Fixes, Owner, Remediation } from './types.js';

export const CATALOG = {
  ...LDAP_ROWS,
  ...NETWORK_ROWS,
  ...RDP_ROWS,
  ...CACHE_ROWS,
  ...RUN_ROWS,
} as const;

/** Every finding code an SDK caller can receive. */
export type FindingCode = keyof typeof CATALOG;

type RowOf<C extends FindingCode> = (typeof CATALOG)[C];
/** The contexts a code's fixes are written for (`default` when there is one). */
export type FixVariant<C extends FindingCode> = RowOf<C> extends { fix: infer F } ? keyof F & string : never;

/** One exit code per category (README "Exit codes"). */
export const EXIT_CODES = {
  ok: 0,
  rejected: 1,
  usage: 2,
  unusable: 3,
  unreachable: 4,
  provider: 5,
  'stale-cache': 6,
  internal: 70,
  /** The caller interrupted the run (SIGINT, or any terminating signal the CLI handles): 128 + 2. */
  interrupted: 130,
} as const;

export function isFindingCode(code: string): code is FindingCode {
  return Object.prototype.hasOwnProperty.call(CATALOG, code);
}

/** The catalog row of a code; undefined for a string that is not a finding code. */
export function catalogRow(code: string): CatalogRow | undefined {
  return isFindingCode(code) ? (CATALOG[code] as CatalogRow) : undefined;
}

/**
 * A code's fixes for one context, with the server of the case named where the words need it.
 * Fixed lists are shared frozen objects (a fleet reports the same fix 100k times).
 */
export function fixes<C extends FindingCode>(code: C, variant: FixVariant<C>, ctx: FixContext = {}): Remediation[] {
  const f = (CATALOG[code] as CatalogRow).fix?.[variant] as Fixes | undefined;
  if (!f) return [];
  return (typeof f === 'function' ? f(ctx) : f) as Remediation[];
}

/** The exit code of a category. Categories that are not failures (ok, info, not-checked) exit 0. */
export function exitCodeForCategory(c: Category): number {
  return c === 'ok' || c === 'info' || c === 'not-checked' ? EXIT_CODES.ok : EXIT_CODES[c];
}
