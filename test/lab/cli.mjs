#!/usr/bin/env node
// npm run lab:up [part...] | npm run lab:down [part...] | node test/lab/cli.mjs status
import { up, down, status, PARTS, readAllStates } from './lab.mjs';

const [cmd = 'status', ...rest] = process.argv.slice(2);
const names = rest.length ? rest : PARTS;
for (const n of names) {
  if (!PARTS.includes(n)) {
    console.error(`unknown lab part "${n}"; parts are: ${PARTS.join(', ')}`);
    process.exit(2);
  }
}
try {
  if (cmd === 'up') {
    const t0 = Date.now();
    const { started } = await up(names);
    console.log(JSON.stringify({ started, wallMs: Date.now() - t0, parts: readAllStates() }, null, 2));
  } else if (cmd === 'down') {
    await down(names);
  } else if (cmd === 'status') {
    console.log(JSON.stringify(status(), null, 2));
  } else {
    console.error('usage: node test/lab/cli.mjs up|down|status [part...]');
    process.exitCode = 2;
  }
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
}
