/**
 * The bulk pool's LDAP try: persistent connections (LDAPS or StartTLS) that re-bind once per
 * account, with DC failover. A bind is re-sent on another connection only when it provably never
 * left (the socket was already closed); one whose answer is lost is `net.connection-lost` /
 * `net.timeout`, never retried. When a whole round of URLs refuses, every remaining account gets
 * the connection finding (failover.down).
 */
import { setMaxListeners } from 'node:events';
import { CHANNELS, publish, traced, tracing } from '../core/telemetry.js';
import { finding, type Finding } from '../findings/finding.js';
import { fixes } from '../findings/catalog.js';
import { connectionFinding } from '../findings/faults.js';
import { accountAnswerFindings } from '../checks/ldap-answer.js';
import { tlsOptionsFor, type ParsedUrl } from '../protocols/ldap/transport.js';
import { LdapWireConnection, WireConnectionError } from '../protocols/ldap/connection.js';
import { advancePast, type Failover } from './failover.js';
import type { Attempt, Attempter, BulkItem } from './attempt.js';
import type { DirectoryRunOptions } from './types.js';

export const LDAP_SOURCE = 'ldap-bind';

/** The connections of one run (shared by its workers): where they go, and the ones open now. */
export class LdapPool {
  private readonly conns = new Set<LdapWireConnection>();
  private disposed = false;
  /** Aborts connection attempts in progress when the pool is disposed. */
  private readonly ac = new AbortController();

  constructor(
    private readonly opts: DirectoryRunOptions,
    private readonly ca: Array<string | Buffer> | undefined,
    readonly failover: Failover,
    private readonly timeoutMs: number,
    private readonly warnDays: number,
    /** The run is stopping: nothing new is sent. */
    private readonly stopping: () => boolean,
  ) {
    // every worker opening its connection listens on it at once: up to the run's concurrency, not a
    // leak (past 10, Node printed MaxListenersExceededWarning for a verify with --concurrency 11+)
    setMaxListeners(0, this.ac.signal);
  }

  /** A worker's binder: one connection at a time, reconnecting (with failover) when it dies. */
  worker(): Attempter {
    let conn: LdapWireConnection | undefined;
    let connUrl = -1;
    // the same for every bind of this worker
    const bindOpts = { ppolicy: this.opts.passwordPolicy !== false, timeoutMs: this.timeoutMs };
    return {
      attempt: async (item: BulkItem): Promise<Attempt | undefined> => {
        const bindName = item.key.name;
        const pw = item.acct.password.reveal();
        let url: string | undefined;
        for (let attempt = 0; ; attempt++) {
          // stopped while this bind waited (rate limit, connect, a duplicate in flight): it is
          // not in flight, so it is not sent and not answered; a rerun checks it
          if (this.stopping()) return undefined;
          if (!conn || !conn.alive) {
            if (conn) this.release(conn);
            conn = undefined;
            const c = await this.connect();
            if (!c) {
              const d = this.failover.down;
              if (!d) return undefined; // the run was stopped while connecting: the consumer is gone
              return { findings: d.findings.map((f) => ({ ...f, evidence: { ...f.evidence, account: bindName } })), bound: false, url: d.url };
            }
            conn = c.conn;
            connUrl = c.index;
            if (this.stopping()) return undefined;
          }
          const u = this.failover.urls[connUrl]!;
          url = u.url;
          try {
            const c = conn;
            // unobserved (the usual bulk run): the bind itself, with no event fields or closures made for it
            const r = tracing(CHANNELS.bind)
              ? await traced(CHANNELS.bind, { protocol: 'ldap', source: 'bulk', url, account: bindName }, () => c.bind(bindName, pw, bindOpts), () => ({ outcome: 'answered' }))
              : await c.bind(bindName, pw, bindOpts);
            return { findings: accountAnswerFindings(r, pw, this.warnDays, bindName), bound: true, url };
          } catch (e) {
            if (e instanceof WireConnectionError && !e.sent && attempt < this.failover.urls.length + 2) {
              publish(CHANNELS.retry, { what: 'bind', url, attempt: attempt + 2, reason: e.code });
              continue;
            }
            const bound = !(e instanceof WireConnectionError) || e.sent;
            this.release(conn);
            conn = undefined;
            advancePast(this.failover, connUrl);
            return { findings: [this.lostFinding(e, u, bindName)], bound, url };
          }
        }
      },
      close: () => {
        if (conn) this.release(conn);
        conn = undefined;
      },
    };
  }

  private release(c: LdapWireConnection): void {
    this.conns.delete(c);
    c.dispose();
  }

  private lostFinding(e: unknown, u: ParsedUrl, account: string): Finding {
    const code = (e as { code?: unknown }).code;
    if (code === 'PROTOCOL_ERROR') {
      // the server answered this bind with bytes that break the protocol: not an answer, never resent
      const f = connectionFinding(e, u, LDAP_SOURCE, 'bind', false, { requestSent: true })!;
      f.evidence.account = account;
      return f;
    }
    if (code === 'ETIMEDOUT') {
      const f = connectionFinding(e, u, LDAP_SOURCE, 'bind', true)!;
      f.message = `${u.url} did not answer this account's bind within ${this.timeoutMs} ms; it was not retried.`;
      f.evidence.account = account;
      return f;
    }
    const msg = e instanceof Error ? e.message : String(e);
    return finding(LDAP_SOURCE, 'net.connection-lost', 'error', `The connection to ${u.url} was lost before the directory answered this account's bind; it was not retried.`, {
      url: u.url, host: u.host, port: u.port, phase: 'bind', account, error: typeof code === 'string' ? code : msg.slice(0, 200),
    }, fixes('net.connection-lost', 'bulk'));
  }

  private async connect(): Promise<{ conn: LdapWireConnection; index: number } | undefined> {
    const fo = this.failover;
    if (fo.down) return undefined;
    const start = fo.index;
    const failures: Finding[] = [];
    for (let k = 0; k < fo.urls.length; k++) {
      if (fo.down) return undefined;
      const index = (start + k) % fo.urls.length;
      const u = fo.urls[index]!;
      const mode = u.scheme === 'ldaps' ? 'ldaps' : this.opts.starttls ? 'starttls' : 'plain';
      try {
        const conn = await LdapWireConnection.connect({
          host: u.host, port: u.port, mode, tls: tlsOptionsFor(u, this.opts, this.ca), timeoutMs: this.timeoutMs, signal: this.ac.signal,
        });
        if (this.disposed) {
          conn.dispose();
          return undefined;
        }
        this.conns.add(conn);
        if (k > 0 && fo.index === start) fo.index = index;
        return { conn, index };
      } catch (e) {
        if (this.disposed) return undefined;
        const phase = mode === 'starttls' ? 'starttls' : 'connect';
        const f = connectionFinding(e, u, LDAP_SOURCE, phase, false)
          ?? finding(LDAP_SOURCE, 'net.connection-lost', 'error', `Could not open an LDAP connection to ${u.url}: ${(e instanceof Error ? e.message : String(e)).slice(0, 200)}.`, { url: u.url, phase }, fixes('net.connection-lost', 'bulk'));
        failures.push(f);
      }
    }
    if (!fo.down) {
      if (failures.length > 1) for (const f of failures) f.evidence.failover = `${failures.length} URLs tried in order`;
      fo.down = { findings: failures, url: fo.urls[(start + failures.length - 1) % fo.urls.length]!.url };
    }
    return undefined;
  }

  /** Close every connection and stop connecting. Idempotent. */
  dispose(): void {
    this.disposed = true;
    this.ac.abort();
    for (const c of this.conns) c.dispose();
    this.conns.clear();
  }
}
