// Principal / realm parsing (UPN as NT-ENTERPRISE, DOMAIN\user, bare names, SPNs), KDC address
// lists ("host[:port]", IPv6 in brackets) and DNS SRV discovery through an injected resolver: no
// real DNS is ever asked.
import { describe, it, expect } from 'vitest';
import { parseClientPrincipal, parseServicePrincipal, normalizeRealm } from '../../../../src/protocols/kerberos/principal.js';
import { discoverKdcs, parseKdcAddress, parseKdcList, type SrvRecord, type SrvResolver } from '../../../../src/protocols/kerberos/kdcs.js';
import { CredgateError } from '../../../../src/core/errors.js';

const configError = (fn: () => unknown): CredgateError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CredgateError);
    expect((e as CredgateError).code).toBe('CONFIG_INVALID');
    return e as CredgateError;
  }
  throw new Error('expected CONFIG_INVALID');
};

describe('client principal and realm', () => {
  it('a UPN: realm from the suffix, sent as NT-ENTERPRISE, salt guessed from the prefix', () => {
    const p = parseClientPrincipal('alice@corp.example');
    expect(p).toMatchObject({ realm: 'CORP.EXAMPLE', form: 'upn', user: 'alice', name: { nameType: 10, names: ['alice@corp.example'] }, defaultSalt: 'CORP.EXAMPLEalice' });
    expect(p.display).toBe('alice\\@corp.example@CORP.EXAMPLE');
  });

  it('a UPN as NT-PRINCIPAL on request, and with an explicit realm', () => {
    expect(parseClientPrincipal('alice@corp.example', { enterprise: false })).toMatchObject({ realm: 'CORP.EXAMPLE', name: { nameType: 1, names: ['alice'] }, display: 'alice@CORP.EXAMPLE' });
    expect(parseClientPrincipal('alice@example.com', { realm: 'corp.example' })).toMatchObject({ realm: 'CORP.EXAMPLE', name: { nameType: 10, names: ['alice@example.com'] } });
  });

  it('DOMAIN\\user needs the realm option or a DNS default domain; a NetBIOS domain alone is refused', () => {
    expect(parseClientPrincipal('CORP\\alice', { realm: 'corp.example' })).toMatchObject({ realm: 'CORP.EXAMPLE', form: 'down-level', name: { nameType: 1, names: ['alice'] } });
    expect(parseClientPrincipal('CORP\\alice', { defaultDomain: 'corp.example' }).realm).toBe('CORP.EXAMPLE');
    expect(parseClientPrincipal('corp.example\\alice').realm).toBe('CORP.EXAMPLE');
    const e = configError(() => parseClientPrincipal('CORP\\alice'));
    expect(e.message).toMatch(/NetBIOS domain name, not a realm; pass realm/);
    expect(e.details).toMatchObject({ option: 'realm' });
    configError(() => parseClientPrincipal('CORP\\alice', { defaultDomain: 'CORP' }));
  });

  it('bare names take the realm option or a DNS default domain', () => {
    expect(parseClientPrincipal('alice', { defaultDomain: 'pamtest.local' })).toMatchObject({ realm: 'PAMTEST.LOCAL', form: 'bare', defaultSalt: 'PAMTEST.LOCALalice' });
    expect(configError(() => parseClientPrincipal('alice')).message).toMatch(/has no domain; pass realm/);
  });

  it('refuses empty, malformed and ambiguous names', () => {
    for (const bad of ['', '   ', '@corp.example', 'alice@', 'CORP\\', '\\alice', 'CORP\\a\\b', 'alice@CORP', 'a\u0000b@corp.example']) configError(() => parseClientPrincipal(bad));
    configError(() => parseClientPrincipal('a@b@corp.example', { enterprise: false }));
    configError(() => normalizeRealm('bad realm'));
    expect(normalizeRealm(' corp.example ')).toBe('CORP.EXAMPLE');
  });

  it('service principal names', () => {
    expect(parseServicePrincipal('TERMSRV/rdp01.corp.example', 'CORP.EXAMPLE')).toEqual({ realm: 'CORP.EXAMPLE', name: { nameType: 2, names: ['TERMSRV', 'rdp01.corp.example'] }, display: 'TERMSRV/rdp01.corp.example@CORP.EXAMPLE' });
    expect(parseServicePrincipal('MSSQLSvc/db.corp.example:1433@other.example', 'CORP.EXAMPLE').realm).toBe('OTHER.EXAMPLE');
    for (const bad of ['TERMSRV', 'TERMSRV/', '/host', 'a/b/c/d/e', '']) configError(() => parseServicePrincipal(bad, 'R.X'));
  });
});

describe('KDC addresses', () => {
  it('host, host:port, IPv4, [IPv6]:port and bare IPv6', () => {
    expect(parseKdcAddress('dc1.corp.example')).toEqual({ host: 'dc1.corp.example', port: 88, label: 'dc1.corp.example:88' });
    expect(parseKdcAddress('10.0.0.5:8888')).toEqual({ host: '10.0.0.5', port: 8888, label: '10.0.0.5:8888' });
    expect(parseKdcAddress('[::1]:750')).toEqual({ host: '::1', port: 750, label: '[::1]:750' });
    expect(parseKdcAddress('[2001:db8::5]')).toEqual({ host: '2001:db8::5', port: 88, label: '[2001:db8::5]:88' });
    expect(parseKdcAddress('2001:db8::5')).toEqual({ host: '2001:db8::5', port: 88, label: '[2001:db8::5]:88' });
  });

  it('refuses malformed entries with CONFIG_INVALID naming the option', () => {
    for (const bad of ['', 'host:', 'host:0', 'host:65536', 'host:88x', '[::1', '[::1]x', '[nothost]:88', 'ho st', 'http://dc1', 'a:b:c']) {
      expect(configError(() => parseKdcAddress(bad)).details).toMatchObject({ option: 'kdcs' });
    }
  });

  it('lists: comma/space separated strings or arrays, duplicates dropped, empty refused', () => {
    expect(parseKdcList('dc1, dc2:88 dc1:88 [::1]').map((k) => k.label)).toEqual(['dc1:88', 'dc2:88', '[::1]:88']);
    expect(parseKdcList(['127.0.0.1:1088']).map((k) => k.port)).toEqual([1088]);
    configError(() => parseKdcList(''));
    configError(() => parseKdcList([]));
    configError(() => parseKdcList(Array.from({ length: 40 }, (_, i) => `h${i}`)));
  });
});

describe('DNS SRV discovery (injected resolver)', () => {
  const resolver = (table: Record<string, SrvRecord[] | Error | 'hang'>): SrvResolver & { asked: string[] } => {
    const asked: string[] = [];
    return {
      asked,
      resolveSrv: (name: string) => {
        asked.push(name);
        const v = table[name];
        if (v === 'hang') return new Promise<SrvRecord[]>(() => {});
        if (v instanceof Error) return Promise.reject(v);
        if (!v) return Promise.reject(Object.assign(new Error('queryNotFound'), { code: 'ENOTFOUND' }));
        return Promise.resolve(v);
      },
    };
  };
  const srv = (name: string, port: number, priority: number, weight: number): SrvRecord => ({ name, port, priority, weight });

  it('asks _kerberos._udp and _kerberos._tcp, orders by priority then weight, drops duplicates and "."', async () => {
    const r = resolver({
      '_kerberos._udp.corp.example': [srv('dc2.corp.example', 88, 10, 10), srv('dc1.corp.example', 88, 0, 50)],
      '_kerberos._tcp.corp.example': [srv('dc1.corp.example', 88, 0, 50), srv('dc3.corp.example.', 1088, 10, 90), srv('.', 0, 0, 0)],
    });
    const kdcs = await discoverKdcs('CORP.EXAMPLE', { resolver: r });
    expect(kdcs.map((k) => k.label)).toEqual(['dc1.corp.example:88', 'dc3.corp.example:1088', 'dc2.corp.example:88']);
    expect(r.asked.sort()).toEqual(['_kerberos._tcp.corp.example', '_kerberos._udp.corp.example']);
  });

  it('TCP-only asks only _kerberos._tcp', async () => {
    const r = resolver({ '_kerberos._tcp.corp.example': [srv('127.0.0.1', 88, 0, 0)] });
    expect((await discoverKdcs('CORP.EXAMPLE', { resolver: r, transport: 'tcp' })).map((k) => k.label)).toEqual(['127.0.0.1:88']);
    expect(r.asked).toEqual(['_kerberos._tcp.corp.example']);
  });

  it('no record: CONFIG_INVALID naming kdcs; a DNS failure: CONNECTION_FAILED kind dns', async () => {
    await expect(discoverKdcs('NONE.EXAMPLE', { resolver: resolver({}) })).rejects.toMatchObject({ code: 'CONFIG_INVALID', details: { option: 'kdcs' } });
    const servfail = Object.assign(new Error('queryServFail'), { code: 'ESERVFAIL' });
    await expect(discoverKdcs('BAD.EXAMPLE', { resolver: resolver({ '_kerberos._udp.bad.example': servfail }) })).rejects.toMatchObject({ code: 'CONNECTION_FAILED', details: { kind: 'dns' } });
  });

  it('a resolver that never answers: TIMEOUT at the deadline; the caller abort: ABORTED', async () => {
    const hang = resolver({ '_kerberos._udp.slow.example': 'hang', '_kerberos._tcp.slow.example': 'hang' });
    const t = Date.now();
    await expect(discoverKdcs('SLOW.EXAMPLE', { resolver: hang, timeoutMs: 150 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - t).toBeLessThan(2000);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    await expect(discoverKdcs('SLOW.EXAMPLE', { resolver: hang, timeoutMs: 5000, signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  }, 10_000);
});
