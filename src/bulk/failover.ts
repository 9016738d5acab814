/** The directory replicas of a bulk run, tried in order: where the next connection starts, and whether all are down. */
import type { Finding } from '../findings/finding.js';
import type { ParsedUrl } from '../protocols/ldap/transport.js';

export interface Failover {
  readonly urls: ParsedUrl[];
  /** The URL the next connection starts at. */
  index: number;
  /** Set once a whole round of URLs refused: every remaining account gets these findings. */
  down?: { findings: Finding[]; url: string };
}

/** A connection to the URL at `index` died: the next connection starts at the next URL. */
export function advancePast(f: Failover, index: number): void {
  if (f.index === index) f.index = (index + 1) % f.urls.length;
}
