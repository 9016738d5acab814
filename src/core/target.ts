/** Where credgate connects: a host[:port] as the user writes it, parsed once. */
import { ConfigError } from './errors.js';

/** An IPv6 literal without its brackets (`[::1]` → `::1`); any other host unchanged. */
export function unbracket(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}

/**
 * `web01.corp.example`, `web01:3390`, `[2001:db8::5]:3389`, a bare IPv6 literal → host and port
 * (default 3389). A bad value is CONFIG_INVALID naming the input and the accepted forms.
 */
export function parseHostPort(input: string, defaultPort = 3389): { host: string; port: number } {
  const s = input.trim();
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  let host: string;
  let port: number = defaultPort;
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2]) port = Number(bracket[2]);
  } else if ((s.match(/:/g) ?? []).length === 1) {
    const [h, p] = s.split(':');
    host = h!;
    port = Number(p);
  } else {
    host = s;
  }
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`"${input}" is not a host[:port]; write web01.corp.example, web01:3390 or [::1]:3389.`, { code: 'CONFIG_INVALID', details: { host: input } });
  }
  return { host, port };
}
