// Where the KDCs are: "host[:port]" lists (port 88 by default, IPv6 in brackets) and DNS SRV
// discovery of _kerberos._udp / _kerberos._tcp.<realm> through an injectable resolver, so tests
// (and callers with their own DNS) never need the system resolver.
import { isIP } from 'node:net';
import { Resolver } from 'node:dns/promises';
import { CredgateError } from '../../core/errors.js';
import { withSignal } from '../../core/abort.js';

export const KERBEROS_PORT = 88;
/** At most this many KDCs are tried or kept from DNS. */
export const MAX_KDCS = 32;

export interface KdcAddress {
  host: string;
  port: number;
  /** "host:port" or "[v6]:port", as reported in results and errors. */
  label: string;
}

export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

/** What discovery needs from DNS: node:dns/promises Resolver fits, and so does a test double. */
export interface SrvResolver {
  resolveSrv(name: string): Promise<SrvRecord[]>;
}

const HOST_RE = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,253})$/;

function bad(entry: string): CredgateError {
  return new CredgateError(`The KDC address "${entry.slice(0, 200)}" is not host[:port] or [IPv6]:port; pass kdcs such as ["dc1.corp.example", "10.0.0.5:88", "[2001:db8::5]:88"].`, {
    code: 'CONFIG_INVALID',
    details: { option: 'kdcs', entry: entry.slice(0, 200) },
  });
}

export function kdcLabel(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Parse one "host[:port]" / "[v6]:port" / bare IPv6 entry. */
export function parseKdcAddress(entry: string): KdcAddress {
  const e = entry.trim();
  let host: string;
  let portText: string | undefined;
  if (e.startsWith('[')) {
    const close = e.indexOf(']');
    if (close < 0) throw bad(e);
    host = e.slice(1, close);
    const rest = e.slice(close + 1);
    if (rest && !rest.startsWith(':')) throw bad(e);
    portText = rest ? rest.slice(1) : undefined;
    if (isIP(host) !== 6) throw bad(e);
  } else if ((e.match(/:/g) ?? []).length > 1) {
    host = e;
    if (isIP(host) !== 6) throw bad(e);
  } else {
    const colon = e.indexOf(':');
    host = colon >= 0 ? e.slice(0, colon) : e;
    portText = colon >= 0 ? e.slice(colon + 1) : undefined;
    if (!isIP(host) && !HOST_RE.test(host)) throw bad(e);
  }
  let port = KERBEROS_PORT;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) throw bad(e);
    port = Number(portText);
    if (port < 1 || port > 65535) throw bad(e);
  }
  return { host, port, label: kdcLabel(host, port) };
}

/** Parse a KDC list: an array, or one string separated by commas or spaces. Duplicates are dropped. */
export function parseKdcList(kdcs: string | readonly string[]): KdcAddress[] {
  const entries = (typeof kdcs === 'string' ? kdcs.split(/[\s,]+/) : [...kdcs]).map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) {
    throw new CredgateError('No KDC address was given; pass kdcs (e.g. ["dc1.corp.example"]) or leave it out to look the realm up in DNS.', {
      code: 'CONFIG_INVALID',
      details: { option: 'kdcs' },
    });
  }
  const out: KdcAddress[] = [];
  for (const e of entries) {
    const a = parseKdcAddress(e);
    if (!out.some((x) => x.label === a.label)) out.push(a);
  }
  if (out.length > MAX_KDCS) throw new CredgateError(`Too many KDC addresses (${out.length}); pass at most ${MAX_KDCS}.`, { code: 'CONFIG_INVALID', details: { option: 'kdcs' } });
  return out;
}

export interface DiscoverOptions {
  resolver?: SrvResolver;
  /** 'tcp' looks up only _kerberos._tcp; otherwise both, UDP records first within a priority. */
  transport?: 'udp' | 'tcp';
  signal?: AbortSignal;
  timeoutMs?: number;
}

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'ENONAME']);

/**
 * The realm's KDCs from DNS SRV records, ordered by priority then weight (heaviest first).
 * No records at all is CONFIG_INVALID (pass kdcs); a DNS failure is CONNECTION_FAILED kind 'dns'.
 */
export async function discoverKdcs(realm: string, opts: DiscoverOptions = {}): Promise<KdcAddress[]> {
  const domain = realm.toLowerCase();
  const timeoutMs = opts.timeoutMs ?? 5000;
  const own = opts.resolver ? undefined : new Resolver({ timeout: timeoutMs, tries: 1 });
  const resolver: SrvResolver = opts.resolver ?? own!;
  const names = opts.transport === 'tcp' ? [`_kerberos._tcp.${domain}`] : [`_kerberos._udp.${domain}`, `_kerberos._tcp.${domain}`];
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
  const failures: string[] = [];
  const found: (SrvRecord & { order: number })[] = [];
  const lookups = names.map(async (name, order) => {
    try {
      const recs = await withSignal(resolver.resolveSrv(name), signal, () => own?.cancel(), () =>
        opts.signal?.aborted
          ? new CredgateError(`Looking up ${name} was aborted by the caller.`, { code: 'ABORTED' })
          : new CredgateError(`Looking up ${name} took longer than ${timeoutMs} ms; check DNS or pass kdcs.`, { code: 'TIMEOUT', details: { name } }),
      );
      for (const r of recs.slice(0, MAX_KDCS)) found.push({ ...r, order });
    } catch (e) {
      if (e instanceof CredgateError) throw e;
      const code = (e as { code?: string }).code ?? 'ERROR';
      if (!NOT_FOUND.has(code)) failures.push(`${name}: ${code}`);
    }
  });
  await Promise.all(lookups);
  const usable = found.filter((r) => r.name && r.name !== '.' && r.port > 0 && r.port <= 65535 && (isIP(r.name) || HOST_RE.test(r.name.replace(/\.$/, ''))));
  usable.sort((a, b) => a.priority - b.priority || b.weight - a.weight || a.order - b.order);
  const out: KdcAddress[] = [];
  for (const r of usable) {
    const host = r.name.replace(/\.$/, '');
    const label = kdcLabel(host, r.port);
    if (!out.some((x) => x.label === label)) out.push({ host, port: r.port, label });
  }
  if (out.length) return out.slice(0, MAX_KDCS);
  if (failures.length) {
    throw new CredgateError(`DNS could not be asked for the KDCs of ${realm} (${failures.join('; ')}); check DNS or pass kdcs.`, {
      code: 'CONNECTION_FAILED',
      details: { kind: 'dns', realm, failures },
    });
  }
  throw new CredgateError(`DNS has no ${names.join(' or ')} SRV record for realm ${realm}; pass kdcs (e.g. ["dc1.${domain}"]).`, {
    code: 'CONFIG_INVALID',
    details: { option: 'kdcs', realm },
  });
}
