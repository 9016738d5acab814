/** What the bulk pool's workers share: an account as it is tried, and the one try per account (a bind or a pre-authentication). */
import type { Finding } from '../findings/finding.js';
import type { GuardItem } from './guard.js';
import type { AccountLine } from './types.js';

/** An account in the pool: its input line, the name it is tried as, and what the guard decided. */
export interface BulkItem extends GuardItem {
  acct: AccountLine;
  /** The name sent (bind name, or the Kerberos principal), and its case-folded form: the run's key for duplicates. */
  key: { name: string; folded: string };
  /** Kerberos: the account's realm (for KDC discovery). */
  realm?: string;
  t0: number;
}

/** One account's try, answered: its findings, whether the password (or a proof of it) was sent, and where to. */
export interface Attempt {
  findings: Finding[];
  bound: boolean;
  url?: string;
  kdc?: string;
}

/** One worker's way of trying a password; `attempt` resolves undefined when the run stopped before anything was sent. */
export interface Attempter {
  attempt(item: BulkItem): Promise<Attempt | undefined>;
  close(): void;
}
