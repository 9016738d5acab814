/**
 * Resuming a bulk run from its own output file: which accounts are already answered, which had a
 * bind sent and its answer lost (never resent), which input lines were already recorded as bad.
 */
import fs from 'node:fs';
import { hash } from 'node:crypto';

const PRESENT = 0x80;
/** The account's last record is a definitive answer (not unreachable before a bind, not a bad line). */
const ANSWERED = 1;
/** A bind was sent for the account and its answer was lost (bound: true): never resent, whatever follows. */
const LOST = 2;
/** Bits 2..6: 1 + the index of the first lost record's code in AccountStates' code table (0: none / table full). */
const LOST_CODE_SHIFT = 2;
const LOST_CODE_MASK = 0x7c;
const LOST_CODES_MAX = LOST_CODE_MASK >> LOST_CODE_SHIFT;
/** What a resumed run does with an account: bind it, skip it (answered), or skip it unresolved (its answer was lost). */
export type ResumeState = 'new' | 'answered' | 'lost';

/**
 * What the output file already says about each account, for resume. Keyed by a 96-bit hash of the
 * account name (the first 12 bytes of its MD5), not the name: 12 bytes of key and 1 of state a
 * slot, open addressing, at most 70% full, so 1,000,000 accounts take 2^21 slots = 27 MB (peak RSS
 * of a resume over a 1,000,000-account output: 175 MB; 279 MB with a Set of the names;
 * bench/verify-memory.mjs). Two different names share a key with a probability of ~n²/2^97
 * (~1e-17 for a million accounts).
 */
export class AccountStates {
  private bits = 10;
  private keys = new Uint32Array(3 << this.bits);
  private states = new Uint8Array(1 << this.bits);
  /** The codes of lost records (net.connection-lost, net.timeout, ...): a handful, indexed by the state bits. */
  private readonly lostCodes: string[] = [];
  size = 0;

  private slot(a: number, b: number, c: number): number {
    const mask = (1 << this.bits) - 1;
    for (let i = a & mask; ; i = (i + 1) & mask) {
      if (this.states[i] === 0) return i;
      const k = i * 3;
      if (this.keys[k] === a && this.keys[k + 1] === b && this.keys[k + 2] === c) return i;
    }
  }

  private static key(name: string): [number, number, number] {
    const h = hash('md5', name, 'buffer');
    return [h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8)];
  }

  private grow(): void {
    const { keys, states } = this;
    this.bits++;
    this.keys = new Uint32Array(3 << this.bits);
    this.states = new Uint8Array(1 << this.bits);
    for (let i = 0; i < states.length; i++) {
      if (states[i] === 0) continue;
      const j = this.slot(keys[i * 3]!, keys[i * 3 + 1]!, keys[i * 3 + 2]!);
      this.keys.set(keys.subarray(i * 3, i * 3 + 3), j * 3);
      this.states[j] = states[i]!;
    }
  }

  private lostCodeBits(code: string | undefined): number {
    if (code === undefined) return 0;
    let i = this.lostCodes.indexOf(code);
    if (i < 0) {
      if (this.lostCodes.length >= LOST_CODES_MAX) return 0;
      i = this.lostCodes.push(code) - 1;
    }
    return (i + 1) << LOST_CODE_SHIFT;
  }

  /**
   * Fold in one record (the last one wins, except that a lost answer stays lost). `lostCode`: the
   * record's code when it is a lost answer (the first lost code of an account is kept).
   */
  record(name: string, answered: boolean, lost: boolean, lostCode?: string): void {
    if ((this.size + 1) * 10 > this.states.length * 7) this.grow();
    const [a, b, c] = AccountStates.key(name);
    const i = this.slot(a, b, c);
    const old = this.states[i]!;
    if (old === 0) {
      this.size++;
      this.keys[i * 3] = a;
      this.keys[i * 3 + 1] = b;
      this.keys[i * 3 + 2] = c;
    }
    const codeBits = old & LOST ? old & LOST_CODE_MASK : lost ? this.lostCodeBits(lostCode) : 0;
    this.states[i] = PRESENT | (lost || (old & LOST) ? LOST : 0) | (answered ? ANSWERED : 0) | codeBits;
  }

  /**
   * What a rerun does with the account: 'new' (bind it), 'answered' (its last record is a definitive
   * answer: skip it) or 'lost' (a bind was sent and its answer lost, and no later answer came: skip
   * it — never resent — but it is unresolved).
   */
  state(name: string): ResumeState {
    if (this.size === 0) return 'new';
    const [a, b, c] = AccountStates.key(name);
    const st = this.states[this.slot(a, b, c)]!;
    if (st & ANSWERED) return 'answered';
    return st & LOST ? 'lost' : 'new';
  }

  /** The code of the account's first lost record (net.connection-lost when it was not kept). */
  lostCode(name: string): string {
    const [a, b, c] = AccountStates.key(name);
    const bits = (this.states[this.slot(a, b, c)]! & LOST_CODE_MASK) >> LOST_CODE_SHIFT;
    return (bits ? this.lostCodes[bits - 1] : undefined) ?? 'net.connection-lost';
  }

  /** Whether a rerun must skip the account: answered, or a bind was sent whose answer was lost. */
  answered(name: string): boolean {
    if (this.size === 0) return false;
    const [a, b, c] = AccountStates.key(name);
    return (this.states[this.slot(a, b, c)]! & (ANSWERED | LOST)) !== 0;
  }
}

/**
 * Read an earlier output file: the accounts already answered, and the input lines already
 * recorded as bad (by line number), so a rerun neither re-binds nor repeats them. An account whose
 * last record is unreachable with no bind sent (bound: false) is checked again; one with a bind
 * sent whose answer was lost (bound: true: net.timeout, net.connection-lost) is not — it may have
 * cost a bad-password count, and a resend could cost another.
 */
export async function readPreviousOutput(file: string): Promise<{ states: AccountStates; badLines: Set<number>; endsWithNewline: boolean; records: number }> {
  const states = new AccountStates();
  const badLines = new Set<number>();
  let records = 0;
  let last = '';
  let rest = '';
  const handle = (text: string) => {
    if (!text.trim()) return;
    let r: { account?: unknown; category?: unknown; code?: unknown; bound?: unknown; line?: unknown };
    try {
      r = JSON.parse(text);
    } catch {
      return; // a line cut by a crash: ignored, that account is checked again
    }
    if (!r || typeof r !== 'object') return;
    const invalid = r.code === 'input.invalid';
    if (invalid && typeof r.line === 'number') badLines.add(r.line);
    if (typeof r.account !== 'string') return;
    records++;
    const lost = r.bound === true && r.category === 'unreachable';
    states.record(r.account, !invalid && r.category !== 'unreachable', lost, lost && typeof r.code === 'string' ? r.code : undefined);
  };
  const stream = fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  for await (const chunk of stream) {
    const s = chunk as string;
    let start = 0;
    for (let nl = s.indexOf('\n'); nl >= 0; nl = s.indexOf('\n', start)) {
      handle(rest + s.slice(start, nl));
      rest = '';
      start = nl + 1;
    }
    rest = rest + s.slice(start);
    if (s.length) last = s;
  }
  handle(rest);
  return { states, badLines, endsWithNewline: last === '' || last.endsWith('\n'), records };
}
