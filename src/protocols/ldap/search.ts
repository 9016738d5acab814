/** Reading search results and writing search filters (RFC 4515 escaping). */
import type { Entry } from 'ldapts';

/** An attribute's first value as a string (binary values decoded as UTF-8); undefined when absent. */
export function attrString(e: Entry, a: string): string | undefined {
  const v = e[a];
  const x = Array.isArray(v) ? v[0] : v;
  if (x === undefined) return undefined;
  return Buffer.isBuffer(x) ? x.toString('utf8') : String(x);
}

/** A value for an equality filter: `\ * ( )` and NUL escaped as RFC 4515 hex pairs. */
export function escapeFilter(v: string): string {
  return v.replace(/[\\*()\0]/g, (c) => '\\' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

/** A DN compared loosely: spaces around `,` and `=` dropped, lower case. */
export const normalizeDn = (dn: string): string => dn.replace(/\s*,\s*/g, ',').replace(/\s*=\s*/g, '=').toLowerCase();
