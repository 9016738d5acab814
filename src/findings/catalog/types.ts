/**
 * The shape of the finding catalog: for each finding code, what kind of failure it is (which
 * decides the exit code), how strongly it explains an RDP 0x904 / 0x7 failure (priority: lower
 * wins), the cause in plain words, and the fixes — one list per context the code is reported in.
 */

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

/**
 * What a fix's words may name: the server (host, port, URL, scheme) and a few facts of the case.
 * Fields a fix does not use are ignored.
 */
export interface FixContext {
  host?: string;
  port?: number;
  url?: string;
  scheme?: string;
  /** An AD sub-code, a certificate thumbprint, a name the certificate carries, ... */
  detail?: string;
  /** Commands or targets the fix lists. */
  items?: readonly string[];
}

/** A fix list: fixed words, or words that name the server of the case. */
export type Fixes = readonly Remediation[] | ((c: FixContext) => Remediation[]);

export interface CatalogRow {
  category: Category;
  /** Lower = more likely the root cause when several findings are present. */
  priority: number;
  /** The cause in the words an RDP admin would use. */
  cause: string;
  /** The fixes, by the context the code is reported in; `default` when there is one context. */
  fix?: Readonly<Record<string, Fixes>>;
}

/** A fixed fix list, frozen so one object serves every finding that carries it (a fleet has 100k). */
export function fixed(...r: Remediation[]): readonly Remediation[] {
  return Object.freeze(r.map((x) => Object.freeze(x))) as readonly Remediation[];
}
