/**
 * The "Exit codes:" section of the CLI's help: made from EXIT_CODES (findings/catalog.ts) and
 * each command's meanings, ordered by number, with the signal codes (from exitCodeForSignal) for
 * the commands that send credentials. No exit code is typed by hand in a usage text.
 */
import { EXIT_CODES } from '../findings/catalog.js';
import { exitCodeForSignal } from '../findings/faults.js';
import { wrap } from './render.js';

import type { ExitKey, ExitMeanings, SignalKey } from './types.js';

export type { ExitKey, ExitMeanings } from './types.js';

/** The terminating signals a command that sends credentials stops on, with what a user knows them by. */
export const SIGNAL_ROWS: ReadonlyArray<{ signal: string; key: SignalKey; meaning: string }> = [
  { signal: 'SIGHUP', key: 'hangup', meaning: 'stopped by SIGHUP (the terminal closed)' },
  { signal: 'SIGINT', key: 'interrupted', meaning: 'stopped by SIGINT (Ctrl-C)' },
  { signal: 'SIGTERM', key: 'terminated', meaning: 'stopped by SIGTERM (kill, a service manager)' },
];

export interface ExitHelpOptions {
  /** Said in the heading's parentheses: how the code is chosen ("the most basic failure's"). */
  lead?: string;
  /**
   * For a command that sends credentials (Command.inFlight): what a stop lets finish. The signal
   * codes are then listed, and a paragraph after the section says what a signal does.
   */
  inFlight?: string;
  /** The signal codes without a command's inFlight (the top-level help): the paragraph after the section. */
  signals?: string;
}

/** "  " + the number (up to 3 digits) + "  ": where a meaning starts. */
const PAD = 7;

/** One row: the code, then its meaning wrapped under itself. */
const row = (code: number, meaning: string): string => wrap(`  ${String(code).padEnd(PAD - 4)}  `, meaning, PAD);

/**
 * The "Exit codes:" section: one row per code the command ends with, by number, then the signal
 * codes when the command sends credentials; ends with a newline. A paragraph after it (separated
 * by a blank line) says what a signal lets finish.
 */
export function exitCodeHelp(meanings: ExitMeanings, o: ExitHelpOptions = {}): string {
  const rows: Array<{ code: number; meaning: string }> = (Object.entries(meanings) as Array<[ExitKey, string]>).map(([k, m]) => ({ code: EXIT_CODES[k], meaning: m }));
  if (o.inFlight !== undefined || o.signals !== undefined) {
    for (const s of SIGNAL_ROWS) rows.push({ code: exitCodeForSignal(s.signal), meaning: s.meaning });
  }
  rows.sort((a, b) => a.code - b.code);
  const text = [`Exit codes${o.lead ? ` (${o.lead})` : ''}:`, ...rows.map((r) => row(r.code, r.meaning))];
  if (o.inFlight !== undefined) {
    text.push('', wrap('', `On the first signal credgate sends no further credential and finishes ${o.inFlight}, reporting the outcome; a second signal quits at once.`, 0));
  } else if (o.signals !== undefined) text.push('', wrap('', o.signals, 0));
  return text.join('\n') + '\n';
}

/** An exit code for a sentence in a usage text ("exits 6 when ..."): never a number typed by hand. */
export const exitCode = (k: keyof typeof EXIT_CODES): number => EXIT_CODES[k];
