// Async iteration for stream tests: a text fed in small chunks (so a parser meets every boundary),
// and everything an async iterable yields, collected.

/** `text` as chunks of `size` characters. */
export async function* chunks(text: string, size = 7): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

/** Everything `it` yields, in order. */
export async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
