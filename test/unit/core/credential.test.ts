import { describe, it, expect } from 'vitest';
import { parseAccountName } from '../../../src/core/credential.js';
import { CredgateError } from '../../../src/core/errors.js';

describe('parseAccountName', () => {
  it.each([
    ['alice@pamtest.local', undefined, 'upn', 'alice', 'pamtest.local', 'alice@pamtest.local'],
    ['PAMTEST\\alice', undefined, 'down-level', 'alice', 'PAMTEST', 'PAMTEST\\alice'],
    ['CN=Alice Smith,CN=Users,DC=pamtest,DC=local', undefined, 'dn', 'Alice Smith', undefined, 'CN=Alice Smith,CN=Users,DC=pamtest,DC=local'],
    ['CN=Smith\\, Alice,OU=x,DC=y', undefined, 'dn', 'Smith, Alice', undefined, 'CN=Smith\\, Alice,OU=x,DC=y'],
    ['uid=good,ou=people,dc=pamtest,dc=local', undefined, 'dn', 'good', undefined, 'uid=good,ou=people,dc=pamtest,dc=local'],
    ['alice', 'pamtest.local', 'upn', 'alice', 'pamtest.local', 'alice@pamtest.local'],
    ['alice', 'PAMTEST', 'down-level', 'alice', 'PAMTEST', 'PAMTEST\\alice'],
    ['alice', undefined, 'bare', 'alice', undefined, 'alice'],
    ['  alice@x.y  ', undefined, 'upn', 'alice', 'x.y', 'alice@x.y'],
  ])('%s (default %s) → %s', (input, def, form, user, domain, bindName) => {
    const a = parseAccountName(input, def);
    expect(a.form).toBe(form);
    expect(a.user).toBe(user);
    expect(a.domain).toBe(domain);
    expect(a.bindName).toBe(bindName);
  });

  it('rejects empty names and domain-only names with a usable message', () => {
    expect(() => parseAccountName('  ')).toThrow(/account name is empty/);
    try {
      parseAccountName('PAMTEST\\');
      expect.fail('should throw');
    } catch (e) {
      expect(e).toBeInstanceOf(CredgateError);
      expect((e as CredgateError).code).toBe('CONFIG_INVALID');
      expect((e as Error).message).toContain('DOMAIN\\user');
    }
  });
});
