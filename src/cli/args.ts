/** Command-line parsing shared by the commands: usage errors that name the option, secrets from stdin or a named variable, the service account. */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CredgateError } from '../core/errors.js';
import { ENV_NAME, Secret } from '../core/secret.js';
import type { CliIO } from './types.js';
import { wrap } from './render.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with usage errors that name the option and point at --help. */
export interface Parsed {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/**
 * Other names accepted for an option, one documented name per idea (docs/cli.md "Option names"):
 * a command that takes the documented name takes its other name too, with the same meaning. The
 * usage shows only the documented name, and one "Also accepted:" line (alsoAccepted).
 */
export const OPTION_ALIASES: Readonly<Record<string, string>> = {
  account: 'user',
  deadline: 'timeout',
  'user-column': 'user-field',
  'password-column': 'password-field',
  'password-env-column': 'password-env-field',
};

/** The usage line naming the other names a command accepts for its options, e.g. ['user', 'timeout']. */
export function alsoAccepted(names: readonly string[]): string {
  const pairs = Object.entries(OPTION_ALIASES).filter(([, name]) => names.includes(name));
  return wrap('', `Also accepted: ${pairs.map(([alias, name]) => `--${alias} for --${name}`).join(', ')}.`, 2);
}

export function parse(command: string, argv: string[], options: Options, allowPositionals = false): Parsed {
  const all: Options = { ...options };
  for (const [alias, name] of Object.entries(OPTION_ALIASES)) if (options[name] && !options[alias]) all[alias] = options[name];
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args: argv, options: all, allowPositionals, strict: true }) as Parsed;
  } catch (e) {
    // node's messages quote what was typed; a stray argument, an unknown option or an option's value
    // may be a password typed in the wrong place, so none of them is repeated (no cause either)
    throw optionError(command, e, all);
  }
  for (const [alias, name] of Object.entries(OPTION_ALIASES)) {
    if (all[alias] === options[alias] || parsed.values[alias] === undefined) continue;
    if (parsed.values[name] !== undefined) throw usageError(`--${alias} is another name for --${name}: give one of them; see "credgate ${command} --help".`);
    parsed.values[name] = parsed.values[alias];
    delete parsed.values[alias];
  }
  return parsed;
}

/**
 * An option naming a file that credgate writes for something else to read or keep (the purge
 * audit record, the RDP client's .rdp file): there "-" cannot mean standard output.
 */
export function fileNotStdout(option: string, value: unknown, why: string): void {
  if (value === '-') throw usageError(`--${option} takes a file name (${why}); "-" for standard output is not accepted here.`);
}

/**
 * The RDP host of doctor, launch and probe: the one positional or --host, the same way in each.
 * With --host, a positional is a stray argument (perhaps a password): not repeated.
 */
export function hostArgument(command: string, v: Parsed['values'], positionals: readonly string[]): string {
  if (positionals.length > (v.host !== undefined ? 0 : 1)) throw unexpectedArgument(command);
  const host = typeof v.host === 'string' ? v.host : positionals[0];
  if (!host) throw usageError(`The RDP host is required: credgate ${command} <host>[:port], or --host <host>[:port]; see "credgate ${command} --help".`);
  return host;
}

/**
 * The usage error for parseArgs' complaint: names the option and what it expects, never the text
 * that was typed (a value, a stray argument, an unknown option: any of them may be a password).
 */
function optionError(command: string, e: unknown, options: Options): CredgateError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const help = `see "credgate ${command} --help"`;
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return unexpectedArgument(command);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const typed = /Unknown option '([^']*)'/.exec(e instanceof Error ? e.message : '')?.[1] ?? '';
    const near = nearestName(typed, Object.keys(options));
    return usageError(`An unknown option (not shown: it may be a password).${near ? ` Did you mean --${near}?` : ''} See "credgate ${command} --help".`);
  }
  // ERR_PARSE_ARGS_INVALID_OPTION_VALUE: a missing value, a value given to a flag, or a value that
  // starts with a dash; the option's name is shown only when it is one of ours
  const msg = e instanceof Error ? e.message : '';
  const name = /'--?([A-Za-z0-9-]+)/.exec(msg)?.[1];
  const known = name !== undefined && Object.prototype.hasOwnProperty.call(options, name) ? name : undefined;
  if (!known) return usageError(`An option was given a value it does not take, or none (not shown: it may be a password); ${help}.`);
  const o = options[known]!;
  if (o.type === 'boolean') return usageError(`--${known} is a switch and takes no value (the value given is not shown: it may be a password); ${help}.`);
  if (/ambiguous/.test(msg)) {
    return usageError(`--${known} expects a value, and the next argument starts with "-" (not shown: it may be a password); write --${known}=<value> to give a value that starts with a dash; ${help}.`);
  }
  return usageError(`--${known} expects a value; ${help}.`);
}

/**
 * What a mistyped option or command was probably meant to be: only for text shaped like one of
 * credgate's names (lower-case words joined by dashes, no digits or capitals: a password such as
 * --Summer2024 is not), within two edits of one. The typed text itself is never returned.
 */
export function nearestName(typed: string, names: readonly string[]): string | undefined {
  const word = /^(?:--)?([a-z][a-z-]{1,40})(?:=.*)?$/s.exec(typed)?.[1];
  if (word === undefined) return undefined;
  let best: string | undefined;
  let bestD = 3;
  for (const n of names) {
    const d = editDistance(word, n, bestD);
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  // a short name is one or two edits from far too many words
  return best !== undefined && bestD <= Math.min(2, Math.floor(best.length / 3)) ? best : undefined;
}

/** Levenshtein distance, giving up (returning max) once it reaches max. */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) >= max) return max;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin >= max) return max;
    prev = cur;
  }
  return Math.min(prev[b.length]!, max);
}

/** The extensions of the files credgate reads: accounts, collector exports, cmdkey text. */
const INPUT_EXTENSION = /\.(?:csv|tsv|jsonl|ndjson|json|txt)$/i;

/**
 * Whether a stray argument may be repeated as a file name: it names something that exists, ends
 * in an input file's extension (accounts.csv), or has a "/" (also "\" on Windows) under a
 * directory that exists (data/accounts). Anything else may be a password typed in the wrong
 * place (Summer/2024, CORP\alice) and is never shown.
 */
export function plausiblePath(arg: string, cwd: string): boolean {
  if (!arg || arg.startsWith('-') || /[\u0000-\u001f\u007f]/.test(arg)) return false;
  const full = path.resolve(cwd, arg);
  if (fs.existsSync(full) || INPUT_EXTENSION.test(arg)) return true;
  const sep = process.platform === 'win32' ? /[\\/]/ : /\//;
  return sep.test(arg) && fs.existsSync(path.dirname(full));
}

/** A file name as it would be typed in a shell: quoted when it has anything but the plain characters of a path. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./~-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * A positional where the command takes a file with an option (credgate verify accounts.csv): the
 * error names the option, repeats the argument only when plausiblePath says it is one, and says
 * whether that file exists. `given`: the option was given as well (the argument is an extra).
 */
export function misplacedFile(command: string, positionals: readonly string[], o: { option: string; what: string; given: boolean; cwd: string }): CredgateError {
  const [arg] = positionals;
  if (positionals.length !== 1 || arg === undefined || !plausiblePath(arg, o.cwd)) return unexpectedArgument(command);
  const word = shellWord(arg);
  if (o.given) return usageError(`${command} takes one ${o.what}, with --${o.option} <file>; ${word} is an extra argument: drop it, or give it as --${o.option} ${word}.`);
  const exists = fs.existsSync(path.resolve(o.cwd, arg));
  return usageError(`${command} takes the ${o.what} with --${o.option} <file>; did you mean --${o.option} ${word}?${exists ? '' : ` ${word} does not exist${path.isAbsolute(arg) ? '' : ` (in ${o.cwd})`}.`}`);
}

/** A positional the command does not take; its text is not shown (it may be a password). */
export function unexpectedArgument(command: string): CredgateError {
  return usageError(`An unexpected argument (not shown: it may be a password). Passwords go through --password-stdin or --password-env <VAR>, never on the command line; see "credgate ${command} --help".`);
}

/**
 * Whether a --password-env / --service-password-env value may be repeated in messages and JSON:
 * only a conventional environment variable name (upper case, digits, underscores, such as
 * CREDGATE_PW). Anything else (Summer2024, pw-1!) may be a password given where the NAME belongs.
 */
export function showableVariableName(name: string): boolean {
  return /^[A-Z_][A-Z0-9_]{0,127}$/.test(name);
}

/** The variable for messages: its name when that looks like a variable name, else a placeholder. */
export function variableLabel(name: string, option: string): string {
  return showableVariableName(name) ? name : `named on --${option} (name not shown: it does not look like a variable name)`;
}

export function usageError(message: string): CredgateError {
  return new CredgateError(message, { code: 'USAGE' });
}

/** Integer option with bounds, e.g. --timeout. The value is never repeated: a password typed here must not be echoed. */
export function intOption(name: string, value: string | undefined, def: number, min = 1, max = 86_400_000): number {
  if (value === undefined) return def;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw valueError(name, `a whole number from ${min} to ${max}`);
  return n;
}

/** An option's value is not what it expects: names the option and what it expects, never the value. */
export function valueError(option: string, expects: string): CredgateError {
  return usageError(`--${option} expects ${expects}; the value given does not fit (not shown: it may be a password).`);
}

/** Read all of stdin (for --password-stdin). A single trailing newline is removed. */
export async function readStdinSecret(io: CliIO, what = 'password'): Promise<Secret> {
  if (io.stdin.isTTY) {
    throw usageError(`--${what}-stdin expects the ${what} on standard input (pipe it: printf %s "$PW" | credgate ...).`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of io.stdin) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > 64 * 1024) throw usageError(`standard input is too large for a ${what} (over 64 KiB).`);
    chunks.push(b);
  }
  let text = Buffer.concat(chunks).toString('utf8');
  if (text.endsWith('\r\n')) text = text.slice(0, -2);
  else if (text.endsWith('\n')) text = text.slice(0, -1);
  if (text.length === 0) throw usageError(`standard input was empty; pipe the ${what} to --${what}-stdin.`);
  return new Secret(text);
}

/** Read a secret from a named environment variable (for --password-env VAR). */
export function envSecret(io: CliIO, variable: string, option: string): Secret {
  if (!ENV_NAME.test(variable)) {
    throw usageError(`--${option} takes the NAME of an environment variable, not a value; got an invalid name (not shown: it may be a password).`);
  }
  const v = io.env[variable];
  if (v === undefined || v === '') {
    const shown = showableVariableName(variable);
    throw new CredgateError(
      shown
        ? `Environment variable ${variable} (from --${option}) is not set or empty; export it first.`
        : `The environment variable named on --${option} is not set or empty (the name is not shown: it does not look like a variable name, and may be a password). --${option} takes the NAME of a variable, e.g. --${option} CREDGATE_PW after export CREDGATE_PW=...`,
      { code: 'CONFIG_INVALID', ...(shown ? { details: { variable } } : {}) },
    );
  }
  return new Secret(v);
}

/**
 * The read-only service account of --service-user / --service-password-env (each needs the other),
 * and the rule that --allow-unknown-threshold needs one: it relaxes the lockout guard that account reads.
 */
export function serviceAccount(v: Record<string, unknown>, io: CliIO): { username: string; password: Secret } | undefined {
  let service: { username: string; password: Secret } | undefined;
  if (v['service-user']) {
    if (!v['service-password-env']) throw usageError('--service-user needs --service-password-env <VAR>.');
    service = { username: String(v['service-user']), password: envSecret(io, String(v['service-password-env']), 'service-password-env') };
  } else if (v['service-password-env']) {
    throw usageError('--service-password-env needs --service-user <name>.');
  }
  if (v['allow-unknown-threshold'] && !v['service-user']) {
    throw usageError('--allow-unknown-threshold relaxes the lockout guard, which reads the account with --service-user <name> --service-password-env <VAR>; without a service account there is no guard to relax.');
  }
  return service;
}

/** The Kerberos options every command that checks a credential takes (check, doctor, verify). */
export const KERBEROS_OPTIONS = {
  kdc: { type: 'string' },
  kerberos: { type: 'boolean' },
  realm: { type: 'string' },
  'kdc-transport': { type: 'string' },
  'dns-server': { type: 'string' },
  'spn-host': { type: 'string', multiple: true },
  workstation: { type: 'string' },
} as const;

export interface KerberosArgs {
  kdc?: string[];
  realm?: string;
  transport?: 'udp' | 'tcp';
  dnsServers?: string[];
  spnHosts?: string[];
  workstation?: string;
}

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

/**
 * --kdc <host[:port]>[,...] or --kerberos (the realm's KDCs from DNS SRV records), with --realm,
 * --kdc-transport, --dns-server, --spn-host, --workstation. Undefined when neither is given; the
 * Kerberos-only options without them are a usage error (never silently ignored).
 */
export function kerberosArgs(v: Record<string, unknown>, command: string): KerberosArgs | undefined {
  const extras = (['realm', 'kdc-transport', 'dns-server', 'spn-host', 'workstation'] as const).filter((k) => v[k] !== undefined);
  if (!v.kdc && !v.kerberos) {
    if (extras.length) throw usageError(`${extras.map((k) => `--${k}`).join(', ')} ${extras.length > 1 ? 'apply' : 'applies'} to the Kerberos check: add --kdc <host[:port]> or --kerberos; see "credgate ${command} --help".`);
    return undefined;
  }
  if (v.kdc && v.kerberos) throw usageError('Give --kdc <host[:port]>[,...] (the KDCs to ask) or --kerberos (find them in DNS), not both.');
  if (v.kdc !== undefined && (typeof v.kdc !== 'string' || !list(v.kdc).length)) throw usageError('--kdc needs a KDC address: --kdc dc1.corp.example or --kdc 10.0.0.5:88,10.0.0.6.');
  if (v['dns-server'] && !v.kerberos) throw usageError('--dns-server is for the SRV look-up of --kerberos; with --kdc the KDCs are given.');
  const t = v['kdc-transport'];
  if (t !== undefined && t !== 'tcp' && t !== 'udp') throw usageError(`--kdc-transport must be tcp or udp, got "${String(t)}".`);
  return {
    ...(typeof v.kdc === 'string' ? { kdc: list(v.kdc) } : {}),
    ...(typeof v.realm === 'string' ? { realm: v.realm } : {}),
    ...(t ? { transport: t } : {}),
    ...(typeof v['dns-server'] === 'string' ? { dnsServers: list(v['dns-server']) } : {}),
    ...(Array.isArray(v['spn-host']) ? { spnHosts: (v['spn-host'] as string[]).flatMap(list) } : {}),
    ...(typeof v.workstation === 'string' ? { workstation: v.workstation } : {}),
  };
}
