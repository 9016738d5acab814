/**
 * Race a promise against a signal: settles with `p`, or, as soon as `signal` aborts, runs onAbort
 * (close the socket, ...) and rejects with `reason()` (default: the signal's reason).
 */
export function withSignal<T>(p: Promise<T>, signal: AbortSignal, onAbort: () => void = () => {}, reason: () => unknown = () => signal.reason): Promise<T> {
  if (signal.aborted) {
    onAbort();
    return Promise.reject(reason());
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(reason());
    };
    signal.addEventListener('abort', abort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', abort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', abort);
        reject(e);
      },
    );
  });
}
