/** `credgate providers`: every configured provider listed and tried, no secret printed. */
import { loadConfig, createProvider, testRefOf } from '../../providers/config.js';
import { CredgateError } from '../../core/errors.js';
import { EXIT_CODES } from '../../findings/catalog.js';
import type { Command } from '../types.js';
import { alsoAccepted, intOption, parse } from '../args.js';
import { lines, say, style, t, type Shown } from '../render.js';
import { exitCodeHelp, type ExitMeanings } from '../exit-help.js';

const EXITS: ExitMeanings = {
  ok: 'every provider resolves',
  usage: 'a configuration error (the config file, or a provider whose options or testRef are invalid: CONFIG_INVALID), also when another provider failed',
  provider: 'a provider failed',
  internal: 'internal error',
};

const USAGE = `Usage: credgate providers [--config <file>] [--timeout <ms>] [--json]

Lists the providers configured in credgate.config.json / credgate.config.mjs and, for each with a
"testRef", whether it resolves that reference now. Prints user names and sources, never secrets.
--timeout <ms> bounds each provider's resolve (default 15000). ${alsoAccepted(['timeout'])}

${exitCodeHelp(EXITS)}`;

/** Longest message shown from a provider error; a third-party module's text is its own, not ours. */
const MAX_MESSAGE = 300;

/** Printable, bounded: control characters (terminal escapes) out, capped. */
function clean(text: string, max = MAX_MESSAGE): string {
  const t = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, ' ').replace(/\s*\n\s*/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/**
 * What a row shows of a failure. credgate's own providers say what happened in their message; a
 * third-party module's error (or a non-credgate throw) is labelled as coming from that module, its text
 * capped and stripped of control characters, and String(e) is never used (it may print anything).
 */
function rowError(e: unknown, module: string | undefined): { code: string; message: string } {
  if (e instanceof CredgateError && module === undefined) return { code: e.code, message: e.message };
  if (module !== undefined) {
    const text = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
    const kind = e instanceof CredgateError ? '' : e instanceof Error ? ` (${clean(e.name, 40)})` : ` (threw a ${e === null ? 'null' : typeof e})`;
    return {
      code: e instanceof CredgateError ? e.code : 'INTERNAL',
      message: `from the provider module "${clean(module, 100)}"${kind}: ${text ? clean(text) : 'no message'}`,
    };
  }
  return { code: 'INTERNAL', message: `unexpected ${e instanceof Error ? clean(e.name, 40) : typeof e} while testing the provider: ${e instanceof Error ? clean(e.message) : 'no message'}` };
}

export const providersCommand: Command = {
  name: 'providers',
  summary: 'list the configured vault providers and whether each resolves (no secrets printed)',
  usage: USAGE,
  exits: EXITS,
  async run(argv, io) {
    const { values: v } = parse('providers', argv, { config: { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean' } });
    const timeoutMs = intOption('timeout', v.timeout as string | undefined, 15_000, 100, 600_000);
    const config = await loadConfig({ cwd: io.cwd, ...(v.config ? { path: String(v.config) } : {}) });
    const rows: Array<Record<string, unknown>> = [];
    let failed = false;
    let configInvalid = false;
    for (const name of Object.keys(config.providers ?? {})) {
      const entry = config.providers![name]!;
      const kind = 'type' in entry ? entry.type : `module ${entry.module}`;
      const ref = testRefOf(config, name);
      const row: Record<string, unknown> = { name, kind, testRef: ref ?? null };
      const t0 = performance.now();
      // createProvider's errors are credgate's own (a third-party factory's are wrapped there); what a
      // third-party provider's resolve or dispose throws is its module's text
      let phase: 'create' | 'use' = 'create';
      try {
        const p = await createProvider(config, name);
        phase = 'use';
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
        const err = rowError(e, phase === 'use' && 'module' in entry ? entry.module : undefined);
        if (err.code === 'CONFIG_INVALID') configInvalid = true;
        Object.assign(row, { status: 'failed', error: err });
      }
      row.ms = Math.round(performance.now() - t0);
      rows.push(row);
    }
    for (const r of rows) {
      // a third-party provider's user name and source are its text too
      if (r.status === 'ok' && typeof r.kind === 'string' && r.kind.startsWith('module ')) {
        r.username = clean(String(r.username), 200);
        r.source = clean(String(r.source), 200);
      }
    }
    if (v.json) io.stdout.write(JSON.stringify({ config: config.file, providers: rows }, null, 2) + '\n');
    else {
      // names, user names, sources and error text come from the config and the vaults: escaped (t)
      const s = style(io);
      const out: Shown[] = [t`${s.bold('providers')} from ${config.file}`];
      for (const r of rows) {
        const st = r.status === 'ok' ? s.green('✔ resolves') : r.status === 'failed' ? s.red('✖ fails') : s.dim('· configured');
        const err = r.error as { code: string; message: string } | undefined;
        const detail = r.status === 'ok' ? t`${String(r.username)} (${String(r.source)})` : err ? t`${err.message} [${err.code}]` : t``;
        out.push(t`  ${String(r.name).padEnd(18)} ${String(r.kind).padEnd(22)} ${st}  ${detail}`);
      }
      say(io.stdout, lines(out));
    }
    // a config problem is fixed in the config, not at the vault: usage/config exit code first
    return configInvalid ? EXIT_CODES.usage : failed ? EXIT_CODES.provider : EXIT_CODES.ok;
  },
};
