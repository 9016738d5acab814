/**
 * When a Secret Service item (Linux: gnome-keyring, KWallet, KeePassXC) was last modified. keytar
 * exposes no time, so this asks the Secret Service itself over D-Bus (freedesktop.org Secret
 * Service API: `org.freedesktop.Secret.Service.SearchItems` with keytar's attributes `service` and
 * `account`, then each item's `Modified` property, seconds since the epoch) through `busctl`
 * (systemd) or `gdbus` (GLib), whichever is installed. The secret itself is never requested.
 *
 * Optional enrichment: resolves `undefined` off Linux, without either tool, without a session bus,
 * for no item, or on any error or timeout — never throws.
 */
import { execFile } from 'node:child_process';

export interface SecretServiceTimeOptions {
  /** Environment of the tool (DBUS_SESSION_BUS_ADDRESS, PATH). Default process.env. */
  env?: Record<string, string | undefined>;
  /** Deadline per tool call (ms). Default 3,000. */
  timeoutMs?: number;
  /** Force one tool (tests); default: busctl, then gdbus. */
  tool?: 'busctl' | 'gdbus';
  /** Platform override (tests). Default process.platform. */
  platform?: NodeJS.Platform;
}

const DEST = 'org.freedesktop.secrets';
const ITEM_PATH = /^\/org\/freedesktop\/secrets\/[A-Za-z0-9_/]+$/;

/** What busctl / gdbus need to find the bus, and nothing else (no token or password variable reaches them). */
const PASSED_ENV = ['PATH', 'HOME', 'DBUS_SESSION_BUS_ADDRESS', 'XDG_RUNTIME_DIR', 'LANG', 'LC_ALL'];

function run(cmd: string, args: string[], env: Record<string, string | undefined>, timeoutMs: number): Promise<string | undefined> {
  const childEnv: NodeJS.ProcessEnv = {};
  for (const k of PASSED_ENV) if (env[k] !== undefined) childEnv[k] = env[k];
  return new Promise((resolve) => {
    execFile(cmd, args, { env: childEnv, timeout: timeoutMs, maxBuffer: 1 << 20, windowsHide: true }, (err, stdout) => {
      resolve(err ? undefined : stdout);
    });
  });
}

/** A GVariant text-format string literal (gdbus parses its arguments as GVariant text). */
function gvString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

async function viaBusctl(service: string, account: string, env: Record<string, string | undefined>, timeoutMs: number): Promise<number[] | undefined> {
  const bus = env.DBUS_SESSION_BUS_ADDRESS ? [`--address=${env.DBUS_SESSION_BUS_ADDRESS}`] : ['--user'];
  const found = await run('busctl', [...bus, '--json=short', '--', 'call', DEST, '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service', 'SearchItems', 'a{ss}', '2', 'service', service, 'account', account], env, timeoutMs);
  if (found === undefined) return undefined;
  let paths: string[];
  try {
    const j = JSON.parse(found) as { data: [string[], string[]] };
    paths = [...j.data[0], ...j.data[1]].filter((p) => ITEM_PATH.test(p));
  } catch {
    return undefined;
  }
  const out: number[] = [];
  for (const p of paths) {
    const r = await run('busctl', [...bus, '--json=short', '--', 'get-property', DEST, p, 'org.freedesktop.Secret.Item', 'Modified'], env, timeoutMs);
    try {
      const n = r === undefined ? NaN : Number((JSON.parse(r) as { data: number }).data);
      if (Number.isFinite(n) && n > 0) out.push(n);
    } catch {
      /* not this item */
    }
  }
  return out;
}

async function viaGdbus(service: string, account: string, env: Record<string, string | undefined>, timeoutMs: number): Promise<number[] | undefined> {
  const found = await run('gdbus', ['call', '--session', '--dest', DEST, '--object-path', '/org/freedesktop/secrets', '--method', 'org.freedesktop.Secret.Service.SearchItems', `{'service': ${gvString(service)}, 'account': ${gvString(account)}}`], env, timeoutMs);
  if (found === undefined) return undefined;
  const paths = [...found.matchAll(/'(\/org\/freedesktop\/secrets\/[^']*)'/g)].map((m) => m[1]!).filter((p) => ITEM_PATH.test(p));
  const out: number[] = [];
  for (const p of paths) {
    const r = await run('gdbus', ['call', '--session', '--dest', DEST, '--object-path', p, '--method', 'org.freedesktop.DBus.Properties.Get', 'org.freedesktop.Secret.Item', 'Modified'], env, timeoutMs);
    const m = r === undefined ? null : /uint64 (\d+)/.exec(r);
    if (m) out.push(Number(m[1]));
  }
  return out;
}

/**
 * The last modification time of the Secret Service item keytar stores for (service, account): the
 * latest when several collections hold one. `undefined` when it cannot be known (see the module note).
 */
export async function secretServiceModified(service: string, account: string, o: SecretServiceTimeOptions = {}): Promise<Date | undefined> {
  if ((o.platform ?? process.platform) !== 'linux') return undefined;
  const env = o.env ?? process.env;
  const timeoutMs = o.timeoutMs ?? 3000;
  const tools = o.tool ? [o.tool] : (['busctl', 'gdbus'] as const);
  for (const tool of tools) {
    const times = await (tool === 'busctl' ? viaBusctl : viaGdbus)(service, account, env, timeoutMs);
    if (times === undefined) continue; // tool missing or no answer: try the next one
    return times.length ? new Date(Math.max(...times) * 1000) : undefined;
  }
  return undefined;
}
