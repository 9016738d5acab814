// Reading HTTPS_PROXY / HTTP_PROXY / NO_PROXY (the forms curl and Node 24 accept) and the proxy
// option; the end-to-end behaviour through a real proxy is test/integration/providers/proxy.test.ts.
import { describe, it, expect } from 'vitest';
import { bypassesProxy, parseNoProxy, parseProxyUrl, proxyFor, proxySettings } from '../../../src/providers/proxy.js';
import { expectThrow } from '../../helpers/provider-conformance.js';

describe('NO_PROXY', () => {
  const np = parseNoProxy(' corp.example, .internal.example ,*.svc.local 10.0.0.0/8 192.168.1.7, [fd00::1], vault.dmz:8200, 2001:db8::/32 ');
  it.each([
    ['corp.example', 443, true], ['vault.corp.example', 443, true], ['notcorp.example', 443, false],
    ['a.internal.example', 443, true], ['internal.example', 443, true], ['x.svc.local', 8200, true],
    ['10.1.2.3', 443, true], ['11.1.2.3', 443, false], ['192.168.1.7', 8200, true], ['192.168.1.8', 8200, false],
    ['[fd00::1]', 443, true], ['fd00::2', 443, false], ['2001:db8::5', 443, true],
    ['vault.dmz', 8200, true], ['vault.dmz', 443, false], ['VAULT.CORP.EXAMPLE.', 443, true],
  ])('%s:%i bypasses the proxy: %s', (host, port, expected) => {
    expect(bypassesProxy(host, port, np)).toBe(expected);
  });

  it('"*" exempts everything; an empty value nothing', () => {
    expect(bypassesProxy('anything.example', 443, parseNoProxy('*'))).toBe(true);
    expect(bypassesProxy('anything.example', 443, parseNoProxy(''))).toBe(false);
  });
});

describe('proxy settings', () => {
  it('lowercase variables win; https targets use HTTPS_PROXY, http targets HTTP_PROXY', () => {
    const s = proxySettings({ https_proxy: 'http://a:3128', HTTPS_PROXY: 'http://b:3128', HTTP_PROXY: 'proxy.corp:8080', NO_PROXY: 'vault.corp' });
    expect(proxyFor(new URL('https://kv.example'), s)?.url.host).toBe('a:3128');
    expect(proxyFor(new URL('https://kv.example'), s)?.from).toBe('https_proxy');
    expect(proxyFor(new URL('http://kv.example'), s)?.url.href).toBe('http://proxy.corp:8080/');
    expect(proxyFor(new URL('https://vault.corp:8200'), s)).toBeUndefined();
  });

  it('the option wins over the environment; false means none', () => {
    expect(proxyFor(new URL('https://kv.example'), proxySettings({ HTTPS_PROXY: 'http://b:1' }, 'http://opt:3128'))?.url.host).toBe('opt:3128');
    expect(proxyFor(new URL('https://kv.example'), proxySettings({ HTTPS_PROXY: 'http://b:1' }, false))).toBeUndefined();
    expect(proxyFor(new URL('https://kv.example'), proxySettings({}))).toBeUndefined();
  });

  it('a bad proxy URL is CONFIG_INVALID naming the variable, never echoing credentials', () => {
    const e = expectThrow(() => parseProxyUrl('socks5://user:S3cret-proxy@p:1080', 'HTTPS_PROXY'), { code: 'CONFIG_INVALID' }, ['S3cret-proxy']);
    expect(e.message).toMatch(/HTTPS_PROXY/);
    expectThrow(() => parseProxyUrl('http://[bad', 'HTTP_PROXY'), { code: 'CONFIG_INVALID', details: { variable: 'HTTP_PROXY' } }, []);
  });
});
