/**
 * The rows behind a report's table, kept bounded while any number of them streams by: per finding
 * code the first `cap` rows in file order, then the most basic causes first (catalog priority)
 * when the table is made. Memory is codes × cap rows, whatever the size of the input.
 */
import { causeOf } from '../findings/diagnose.js';
import { ROW_CAP, type Capped } from './types.js';

export interface RowsByCode<T> {
  /** A row of `code`, in the order the input is read. */
  add(code: string, row: T): void;
  /** Every code's rows, the most basic cause first (then by code), in file order, at most `cap` in all. */
  take(total: number): Capped<T>;
}

/**
 * `reversed`: the input is read from its end (a verify output, whose last record of an account
 * wins), so the rows to keep are the last ones added, and they are given back in file order.
 */
export function rowsByCode<T>(cap = ROW_CAP, reversed = false): RowsByCode<T> {
  const byCode = new Map<string, T[]>();
  return {
    add(code, row) {
      let list = byCode.get(code);
      if (!list) byCode.set(code, (list = []));
      if (!reversed) {
        if (list.length < cap) list.push(row);
        return;
      }
      list.push(row);
      if (list.length >= 2 * cap) list.splice(0, list.length - cap);
    },
    take(total) {
      const rows: T[] = [];
      for (const code of byPriority([...byCode.keys()])) {
        let list = byCode.get(code)!;
        if (reversed) list = list.slice(-cap).reverse();
        for (const r of list) {
          if (rows.length >= cap) return { rows, total };
          rows.push(r);
        }
      }
      return { rows, total };
    },
  };
}

/** Codes ordered as diagnose ranks causes: the most basic (lowest catalog priority) first, then by name. */
export function byPriority(codes: readonly string[]): string[] {
  return [...codes].sort((a, b) => causeOf(a).priority - causeOf(b).priority || (a < b ? -1 : a > b ? 1 : 0));
}

/** The keys of a count map, the largest count first, ties the most basic cause first. */
export function byCount(map: Readonly<Record<string, number>>): string[] {
  return byPriority(Object.keys(map)).sort((a, b) => map[b]! - map[a]!);
}

/** The first `cap` items of a list that may be long, and its length. */
export function capped<T>(list: readonly T[], cap = ROW_CAP): Capped<T> {
  return { rows: list.slice(0, cap), total: list.length };
}

/** `map[key] += n`, on a plain object made with no prototype (a key such as "__proto__" is a key like any other). */
export function bump(map: Record<string, number>, key: string, n = 1): void {
  map[key] = (map[key] ?? 0) + n;
}

/** A counting map with no prototype. */
export function counts(): Record<string, number> {
  return Object.create(null) as Record<string, number>;
}
