// credgate.config.json / .mjs, third-party providers by module name, `credgate providers`, and
// `credgate check --provider` end to end: the vault fixture holds a lab account's password.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../helpers/cli.js';
import { startVault, VAULT_TOKEN } from '../../fixtures/vendors/vault.js';
import { samba, sambaScenario } from '../../lab/state.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-config-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const write = (name: string, content: unknown) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return f;
};

describe('CLI with providers', () => {
  it('credgate check --provider takes the credential from the vault; a vault fault exits 5', async () => {
    const lab = samba();
    const good = sambaScenario('good');
    const srv = await startVault();
    try {
      // the fixture's KV store holds the lab account for this test
      const store = (await import('../../fixtures/vendors/vault.js')).KV2_DATA as Record<string, unknown>;
      store['rdp/alice'] = { versions: [{ data: { username: good.upn, password: good.password }, created_time: '2026-11-21T00:00:00Z' }] };
      write('credgate.config.json', { providers: { corp: { type: 'vault', options: { address: srv.url, caFile: srv.caFile, tokenEnv: 'VAULT_TOKEN' } } } });
      const ok = await runCli(['check', '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--provider', 'corp', '--ref', 'kv2:secret/rdp/alice', '--json'], { cwd: dir, env: { VAULT_TOKEN }, secrets: [VAULT_TOKEN] });
      expect(ok.code).toBe(0);
      expect(ok.json).toMatchObject({ ok: true, account: good.upn, credentialSource: 'vault kv-v2 secret/rdp/alice v1' });
      const missing = await runCli(['check', '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--provider', 'corp', '--ref', 'kv2:secret/rdp/ghost'], { cwd: dir, env: { VAULT_TOKEN }, secrets: [VAULT_TOKEN] });
      expect(missing.code).toBe(5);
      expect(missing.stderr).toContain('PROVIDER_NOT_FOUND');
      const badToken = await runCli(['check', '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--provider', 'corp', '--ref', 'kv2:secret/rdp/alice'], { cwd: dir, env: { VAULT_TOKEN: 'hvs.not-the-token-123' }, secrets: [VAULT_TOKEN, 'hvs.not-the-token-123'] });
      expect(badToken.code).toBe(5);
      expect(badToken.stderr).toContain('PROVIDER_AUTH_FAILED');
      delete store['rdp/alice'];
    } finally {
      await srv.close();
    }
  });




});
