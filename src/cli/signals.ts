/**
 * The CLI's one answer to a terminating signal, for every command that sends credentials (check,
 * doctor, launch, verify): SIGINT, SIGTERM and SIGHUP (and SIGBREAK on Windows) all stop the run
 * the same way. The first aborts the run's stop signal: no credential is sent after it, what is
 * already in flight (a bind, the NLA exchange) finishes within its timeout and is recorded, and
 * the command then ends with the signal's exit code (128 + n: SIGHUP 129, SIGINT 130, SIGTERM
 * 143; findings/faults exitCodeForSignal). A second signal quits at once, as the signal's default
 * action would.
 */
import { CredgateError } from '../core/errors.js';
import { exitCodeForSignal } from '../findings/faults.js';

/** The terminating signals a command that sends credentials stops on. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = process.platform === 'win32' ? ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface StopSignals extends Disposable {
  /** Aborted on the first signal; its reason is stopReason(signal). */
  readonly signal: AbortSignal;
  /** Stop listening (the process's default action for each signal is back). Idempotent. */
  dispose(): void;
}

/** The abort reason of a stop: an ABORTED error that names the signal. */
export function stopReason(signal: string): CredgateError {
  return new CredgateError(`Stopped by ${signal}.`, { code: 'ABORTED', details: { signal } });
}

/** The signal that stopped a run (from its stop signal's reason), if it was stopped by one. */
export function stoppedBy(stop: AbortSignal | undefined): string | undefined {
  if (!stop?.aborted) return undefined;
  const r: unknown = stop.reason;
  const sig = r instanceof CredgateError ? r.details?.signal : undefined;
  return typeof sig === 'string' ? sig : 'SIGINT';
}

/** A command's exit code, or the stopping signal's when the run was stopped (128 + n). */
export function exitCodeAfterStop(stop: AbortSignal | undefined, code: number): number {
  const sig = stoppedBy(stop);
  return sig === undefined ? code : exitCodeForSignal(sig);
}

/**
 * Listen for the stop signals. `onStop` runs once, on the first (say what is being finished); a
 * second signal removes these listeners and raises itself again, so the process ends at once
 * with the signal's default action.
 */
export function stopOnSignals(onStop: (signal: NodeJS.Signals) => void = () => {}): StopSignals {
  const ac = new AbortController();
  const handler = (sig: NodeJS.Signals): void => {
    if (!ac.signal.aborted) {
      ac.abort(stopReason(sig));
      onStop(sig);
      return;
    }
    dispose();
    process.kill(process.pid, sig);
    // another listener (an embedding program's) may keep the signal from ending the process
    setTimeout(() => process.exit(exitCodeForSignal(sig)), 200).unref();
  };
  let listening = true;
  const dispose = (): void => {
    if (!listening) return;
    listening = false;
    for (const s of STOP_SIGNALS) process.off(s, handler);
  };
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return { signal: ac.signal, dispose, [Symbol.dispose]: dispose };
}
