/**
 * The directory replicas of a bulk run, tried in order: where the next connection starts, whether
 * all are down, connecting to the first that answers, and the finding of a bind whose connection died.
 */
import { finding, type Finding } from '../findings/finding.js';
import { fixes } from '../findings/catalog.js';
import { connectionFinding } from '../findings/faults.js';
import { tlsOptionsFor, type ParsedUrl } from '../protocols/ldap/transport.js';
import { LdapWireConnection } from '../protocols/ldap/wire.js';
import type { VerifyManyOptions } from './types.js';

const SOURCE = 'ldap-bind';

export interface Failover {
  readonly urls: ParsedUrl[];
  /** The URL the next connection starts at. */
  index: number;
  /** Set once a whole round of URLs refused: every remaining account gets these findings. */
  down?: { findings: Finding[]; url: string };
}

/** A connection to the URL at `index` died: the next connection starts at the next URL. */
export function advancePast(f: Failover, index: number): void {
  if (f.index === index) f.index = (index + 1) % f.urls.length;
}

/**
 * A connection to the first replica that accepts one, in order from `fo.index`; undefined when a
 * whole round refused (then `fo.down` holds their findings, for every remaining account) or the
 * run stopped meanwhile.
 */
export async function connectFirst(
  fo: Failover,
  o: { opts: VerifyManyOptions; ca: Array<string | Buffer> | undefined; timeoutMs: number; signal: AbortSignal },
  stopped: () => boolean,
): Promise<{ conn: LdapWireConnection; index: number } | undefined> {
  if (fo.down) return undefined;
  const start = fo.index;
  const failures: Finding[] = [];
  for (let k = 0; k < fo.urls.length; k++) {
    if (fo.down) return undefined;
    const index = (start + k) % fo.urls.length;
    const u = fo.urls[index]!;
    const mode = u.scheme === 'ldaps' ? 'ldaps' : o.opts.starttls ? 'starttls' : 'plain';
    try {
      const conn = await LdapWireConnection.connect({
        host: u.host, port: u.port, mode, tls: tlsOptionsFor(u, o.opts, o.ca), timeoutMs: o.timeoutMs, signal: o.signal,
      });
      if (stopped()) {
        conn.dispose();
        return undefined;
      }
      if (k > 0 && fo.index === start) fo.index = index;
      return { conn, index };
    } catch (e) {
      if (stopped()) return undefined;
      const phase = mode === 'starttls' ? 'starttls' : 'connect';
      const f = connectionFinding(e, u, SOURCE, phase, false)
        ?? finding(SOURCE, 'net.connection-lost', 'error', `Could not open an LDAP connection to ${u.url}: ${(e instanceof Error ? e.message : String(e)).slice(0, 200)}.`, { url: u.url, phase }, fixes('net.connection-lost', 'bulk'));
      failures.push(f);
    }
  }
  if (!fo.down) {
    if (failures.length > 1) for (const f of failures) f.evidence.failover = `${failures.length} URLs tried in order`;
    fo.down = { findings: failures, url: fo.urls[(start + failures.length - 1) % fo.urls.length]!.url };
  }
  return undefined;
}

/**
 * A bind whose connection failed after it was written: never resent. A protocol breach or no
 * answer within `timeoutMs` says so; anything else is a lost connection.
 */
export function lostBindFinding(e: unknown, u: ParsedUrl, account: string, timeoutMs: number): Finding {
  const code = (e as { code?: unknown }).code;
  if (code === 'PROTOCOL_ERROR') {
    // the server answered this bind with bytes that break the protocol: not an answer, never resent
    const f = connectionFinding(e, u, SOURCE, 'bind', false, { requestSent: true })!;
    f.evidence.account = account;
    return f;
  }
  if (code === 'ETIMEDOUT') {
    const f = connectionFinding(e, u, SOURCE, 'bind', true)!;
    f.message = `${u.url} did not answer this account's bind within ${timeoutMs} ms; it was not retried.`;
    f.evidence.account = account;
    return f;
  }
  const msg = e instanceof Error ? e.message : String(e);
  return finding(SOURCE, 'net.connection-lost', 'error', `The connection to ${u.url} was lost before the directory answered this account's bind; it was not retried.`, {
    url: u.url, host: u.host, port: u.port, phase: 'bind', account, error: typeof code === 'string' ? code : msg.slice(0, 200),
  }, fixes('net.connection-lost', 'bulk'));
}
