// A benchmark's time bound, Ctrl-C and ending: `runBounded(limitMs, cleanup, body)` runs `body`
// (which sets process.exitCode: 0 when its target is met, 1 when not); past `limitMs` or on SIGINT
// it runs `cleanup` (stop what the bench started) and exits (1, or 130 for SIGINT); a body that
// throws is a failed bench (exit 1). `cleanup` runs once either way.
export async function runBounded(limitMs, cleanup, body) {
  const guard = setTimeout(async () => {
    process.stderr.write(`bench: over the ${limitMs / 1000} s limit, stopping\n`);
    await cleanup();
    process.exit(1);
  }, limitMs);
  process.once('SIGINT', async () => {
    await cleanup();
    process.exit(130);
  });
  try {
    await body();
  } catch (e) {
    console.error(`bench failed: ${e?.stack ?? e}`);
    process.exitCode = 1;
  } finally {
    clearTimeout(guard);
    await cleanup();
  }
}
