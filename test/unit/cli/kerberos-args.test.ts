// The Kerberos options of check, doctor and verify: --kdc or --kerberos, and the options that only
// mean something with one of them are refused without (never silently ignored).
import { describe, it, expect } from 'vitest';
import { kerberosArgs } from '../../../src/cli/args.js';
import { CredgateError } from '../../../src/core/errors.js';

const usage = (v: Record<string, unknown>) => {
  try {
    kerberosArgs(v, 'check');
  } catch (e) {
    expect(e).toBeInstanceOf(CredgateError);
    expect((e as CredgateError).code).toBe('USAGE');
    return (e as CredgateError).message;
  }
  throw new Error('expected a usage error');
};

describe('kerberosArgs', () => {
  it('nothing Kerberos: undefined', () => {
    expect(kerberosArgs({ ldap: 'ldaps://dc' }, 'check')).toBeUndefined();
  });

  it('--kdc: a comma list; --kerberos: discovery; the rest passed through', () => {
    expect(kerberosArgs({ kdc: ' dc1.corp.example, 10.0.0.5:88 ,[::1]:88', realm: 'corp.example', 'kdc-transport': 'udp', 'spn-host': ['rdp01,rdp01.corp.example', 'rdp02'], workstation: 'WS01' }, 'check')).toEqual({
      kdc: ['dc1.corp.example', '10.0.0.5:88', '[::1]:88'], realm: 'corp.example', transport: 'udp', spnHosts: ['rdp01', 'rdp01.corp.example', 'rdp02'], workstation: 'WS01',
    });
    expect(kerberosArgs({ kerberos: true, 'dns-server': '10.0.0.2,127.0.0.1:5353' }, 'check')).toEqual({ dnsServers: ['10.0.0.2', '127.0.0.1:5353'] });
  });

  it.each([
    [{ realm: 'CORP.EXAMPLE' }, /--realm applies to the Kerberos check: add --kdc <host\[:port\]> or --kerberos/],
    [{ 'spn-host': ['x'], workstation: 'W' }, /--spn-host, --workstation apply to the Kerberos check/],
    [{ kdc: 'dc1', kerberos: true }, /not both/],
    [{ kdc: ' , ' }, /--kdc needs a KDC address/],
    [{ kdc: 'dc1', 'dns-server': '10.0.0.2' }, /--dns-server is for the SRV look-up of --kerberos/],
    [{ kdc: 'dc1', 'kdc-transport': 'sctp' }, /--kdc-transport must be tcp or udp, got "sctp"/],
  ])('%j is a usage error', (v, why) => expect(usage(v)).toMatch(why));
});
