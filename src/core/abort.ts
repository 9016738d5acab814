/** Abort handling for every network call: race a promise against a signal, listen once, pause. */

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

/**
 * Run `fn` once when `signal` aborts — at once when it already has. Returns the function that
 * stops listening (call it when the operation settles). For operations that end on events (a
 * socket's connect, a TLS handshake); a plain promise is raced with withSignal.
 */
export function onAbort(signal: AbortSignal | undefined, fn: () => void): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    fn();
    return () => {};
  }
  signal.addEventListener('abort', fn, { once: true });
  return () => signal.removeEventListener('abort', fn);
}

/** A pause of `ms` that ends early (resolving) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let stop = () => {};
    const t = setTimeout(() => {
      stop();
      resolve();
    }, ms);
    stop = onAbort(signal, () => {
      clearTimeout(t);
      resolve();
    });
  });
}
