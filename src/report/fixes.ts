/** A code's fixes for the report: the ones a result carried (catalog text, the case filled in), else the catalog's own. */
import { CATALOG, isFindingCode, type Remediation } from '../findings/catalog.js';

/** What a placeholder reads as when no case fills it in. */
const GENERIC: Readonly<Record<string, string>> = { host: 'the host', port: 'its port', url: 'the directory', detail: '(see the finding)', items: 'the other entries' };

/** The catalog's fixes for a code (its `default` context, else its first), placeholders in general words. */
export function catalogFixes(code: string): Remediation[] {
  if (!isFindingCode(code)) return [];
  const fix = CATALOG[code].fix;
  if (!fix) return [];
  const list = fix.default ?? Object.values(fix)[0] ?? [];
  return list.map((r) => ({ ...r, action: r.action.replace(/\{(host|port|url|detail|items)\}/g, (_, k: string) => GENERIC[k]!) }));
}

/** The well-formed fixes of a result's `remediation` (as JSON carries it): action and owner. */
export function remediationOf(x: unknown): Remediation[] {
  if (!Array.isArray(x)) return [];
  return x
    .filter((r): r is Remediation => !!r && typeof r === 'object' && typeof (r as Remediation).action === 'string')
    .map((r) => ({ action: r.action, ...(typeof r.owner === 'string' ? { owner: r.owner } : {}) }));
}

/** How many different fixes a code collects (the same fix for another host or URL is another fix). */
const FIXES_PER_CODE = 4;

/**
 * Add a result's fixes to its code's: each action once, at most FIXES_PER_CODE, so a cause met on
 * two directory servers lists the fix for each ("... running on dc1 ...", "... on dc2 ...")
 * rather than one server's for all.
 */
export function addFixes(map: Record<string, Remediation[]>, code: string, list: readonly Remediation[]): void {
  if (!list.length) return;
  const have = (map[code] ??= []);
  if (have.length >= FIXES_PER_CODE) return;
  for (const r of list) if (have.length < FIXES_PER_CODE && !have.some((h) => h.action === r.action)) have.push(r);
}

/** The fixes to show for a code: those the input carried for it, else the catalog's. */
export function fixesFor(code: string, carried: Readonly<Record<string, Remediation[]>>): Remediation[] {
  const own = carried[code];
  return own?.length ? own : catalogFixes(code);
}
