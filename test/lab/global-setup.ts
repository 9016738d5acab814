// vitest global setup: start the lab once per run (or reuse one started by `npm run lab:up`),
// and stop exactly the parts this run started, even when tests fail.
import { up, down, readAllStates } from './lab.mjs';

export default async function setup({ provide }: { provide: (key: string, value: unknown) => void }) {
  const t0 = Date.now();
  const { started, timings } = await up();
  const wall = Date.now() - t0;
  process.stderr.write(`lab: ready in ${wall} ms (started: ${started.join(', ') || 'none, reused'}; ${JSON.stringify(timings)})\n`);
  provide('labStartMs', wall);
  void readAllStates;
  return async () => {
    if (started.length) await down(started);
  };
}
