import { loadConfig, createProvider, testRefOf } from '../../providers/config.js';
import { CredgateError } from '../../core/errors.js';
import type { Command } from '../types.js';
import { intOption, parse } from '../args.js';
import { style } from '../render.js';

const USAGE = `Usage: credgate providers [--config <file>] [--timeout <ms>] [--json]

Lists the providers configured in credgate.config.json / credgate.config.mjs and, for each with a
"testRef", whether it resolves that reference now. Prints user names and sources, never secrets.

Exit codes: 0 all resolve, 2 configuration error, 5 a provider failed.
`;

export const providersCommand: Command = {
  name: 'providers',
  summary: 'list the configured vault providers and whether each resolves (no secrets printed)',
  usage: USAGE,
  async run(argv, io) {
    const { values: v } = parse('providers', argv, { config: { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean' } });
    const config = await loadConfig({ cwd: io.cwd, ...(v.config ? { path: String(v.config) } : {}) });
    const timeoutMs = intOption('timeout', v.timeout as string | undefined, 15_000, 100, 600_000);
    const rows: Array<Record<string, unknown>> = [];
    let failed = false;
    for (const name of Object.keys(config.providers ?? {})) {
      const entry = config.providers![name]!;
      const kind = 'type' in entry ? entry.type : `module ${entry.module}`;
      const ref = testRefOf(config, name);
      const row: Record<string, unknown> = { name, kind, testRef: ref ?? null };
      const t0 = performance.now();
      try {
        const p = await createProvider(config, name);
        try {
          if (ref !== undefined) {
            const c = await p.resolve(ref, { signal: AbortSignal.timeout(timeoutMs) });
            Object.assign(row, { status: 'ok', username: c.username, source: c.source, ...(c.changedAt ? { changedAt: c.changedAt.toISOString() } : {}) });
          } else row.status = 'configured (no testRef)';
        } finally {
          await p.dispose?.();
        }
      } catch (e) {
        failed = true;
        Object.assign(row, { status: 'failed', error: e instanceof CredgateError ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: String(e) } });
      }
      row.ms = Math.round(performance.now() - t0);
      rows.push(row);
    }
    if (v.json) io.stdout.write(JSON.stringify({ config: config.file, providers: rows }, null, 2) + '\n');
    else {
      const s = style(io);
      io.stdout.write(`${s.bold('providers')} from ${config.file}\n`);
      for (const r of rows) {
        const st = r.status === 'ok' ? s.green('✔ resolves') : r.status === 'failed' ? s.red('✖ fails') : s.dim('· configured');
        const err = r.error as { code: string; message: string } | undefined;
        io.stdout.write(`  ${String(r.name).padEnd(18)} ${String(r.kind).padEnd(22)} ${st}  ${r.status === 'ok' ? `${String(r.username)} (${String(r.source)})` : err ? `${err.message} [${err.code}]` : ''}\n`);
      }
    }
    return failed ? 5 : 0;
  },
};
