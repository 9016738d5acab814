/** Active Directory's FILETIME attributes (pwdLastSet, lockoutTime, accountExpires, ...): 100 ns since 1601-01-01 UTC. */

const NEVER = 0x7fffffffffffffffn;
const FT_EPOCH = 116444736000000000n;

/** Windows FILETIME (100 ns since 1601) → Date; 0 and "never" → undefined. */
export function filetimeToDate(v: string | bigint | undefined): Date | undefined {
  if (v === undefined || v === '') return undefined;
  let n: bigint;
  try {
    n = BigInt(v);
  } catch {
    return undefined;
  }
  if (n <= 0n || n >= NEVER) return undefined;
  return new Date(Number((n - FT_EPOCH) / 10000n));
}

export function dateToFiletime(d: Date): bigint {
  return BigInt(d.getTime()) * 10000n + FT_EPOCH;
}
