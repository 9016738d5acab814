/**
 * Loading a dependency when it is first used, not when credgate is imported: zod, ldapts and
 * node-forge cost more than the rest of credgate together at import (they are ~200 files), and a
 * script that only probes an RDP host or reads a cache file needs none of them.
 */
import { createRequire } from 'node:module';

/** require() next to this module (the CJS build gets import.meta.url from tsup's shim). */
const requireHere = createRequire(import.meta.url);

/** A value made on first use and kept. */
export function once<T>(make: () => T): () => T {
  let made = false;
  let value: T;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value;
  };
}

/** A package loaded on first use. */
export function lazyRequire<T>(id: string): () => T {
  return once(() => requireHere(id) as T);
}

/**
 * An object made on first use that stands for itself before then: every property read (a zod
 * schema's `.parse`, `.shape`, ...) makes it and is answered by it. For public constants whose
 * making loads a dependency.
 */
export function lazyObject<T extends object>(make: () => T): T {
  const get = once(make);
  return new Proxy({} as T, {
    get: (_t, p) => {
      const v = get();
      const x = Reflect.get(v, p, v) as unknown;
      return typeof x === 'function' ? (x as (...a: unknown[]) => unknown).bind(v) : x;
    },
    has: (_t, p) => Reflect.has(get(), p),
    ownKeys: () => Reflect.ownKeys(get()),
    getOwnPropertyDescriptor: (_t, p) => {
      const d = Reflect.getOwnPropertyDescriptor(get(), p);
      return d ? { ...d, configurable: true } : undefined;
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(get()),
  });
}

/**
 * An optional package, looked up once when first asked for: undefined when it is not installed
 * (a missing package costs one failed lookup per process, never an error).
 */
export function lazyOptional<T>(id: string): () => T | undefined {
  return once(() => {
    try {
      requireHere.resolve(id);
    } catch {
      return undefined;
    }
    return requireHere(id) as T;
  });
}

/** zod, loaded when the first schema is made (schemas are made when first used). */
export const loadZod = lazyRequire<typeof import('zod')>('zod');

/** ldapts, loaded when the first LDAP connection is made (one instance for every caller). */
export const loadLdapts = lazyRequire<typeof import('ldapts')>('ldapts');
