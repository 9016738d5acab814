// The PowerShell purge script's reading of Credential Manager (it cannot run here: no PowerShell in
// Debian's or npm's registry). Its C# was compiled with Mono's mcs and its List() run against a
// stand-in advapi32 once by hand (1004 then flags 0; 1168 empty; 1312 stops the script); this
// test keeps what that run showed in the text: a failed enumeration is never an empty vault,
// which the script would report as "already gone" for every planned entry.
import { describe, it, expect } from 'vitest';
import { powershellScript } from '../../../src/cache/purge.js';

const cs = (() => {
  const s = powershellScript({ createdAt: '2026-11-25T00:00:00Z', items: [] });
  return /Add-Type -TypeDefinition @'\r?\n([\s\S]*?)\r?\n'@/.exec(s)![1]!;
})();
const list = cs.slice(cs.indexOf('public static List<CredgatePurgeEntry> List()'), cs.indexOf('public static int Delete('));
// the enumeration both scripts share (src/cache/credman-cs.ts)
const enumerate = cs.slice(cs.indexOf('static bool Enumerate('), cs.indexOf('static string OwnTarget('));
const ownTarget = cs.slice(cs.indexOf('static string OwnTarget('));

describe('the purge script reads Credential Manager like the live source', () => {
  it('CRED_ENUMERATE_ALL_CREDENTIALS, then flags 0 on ERROR_INVALID_FLAGS (1004)', () => {
    expect(list).toContain('foreach (var c in ReadAll())');
    expect(cs).toContain('if (!Enumerate(out count, out p)) return all;');
    expect(enumerate).toContain('UInt32 flags = 1;');
    expect(enumerate).toMatch(/if \(!ok && err == 1004\) \{\s+flags = 0;\s+ok = CredEnumerateW\(null, flags, out count, out creds\);/);
  });

  it('only ERROR_NOT_FOUND (1168) is empty; any other failure throws with its Win32 code', () => {
    expect(list.match(/return result;/g)).toHaveLength(1);
    expect(enumerate).toMatch(/if \(ok\) return true;\s+if \(err == 1168\) return false;\s+throw new InvalidOperationException\("CredEnumerateW failed with Win32 error " \+ err/);
    expect(list).not.toMatch(/if \(!CredEnumerateW\([^)]*\)\) return result;/);
  });

  it('Domain:target= / LegacyGeneric:target= taken off by the credential\'s type, as the plan names targets', () => {
    expect(ownTarget).toContain('string ns = (type == 1 || type == 5) ? "LegacyGeneric:target=" : "Domain:target=";');
    expect(list).toContain('Target = OwnTarget(c.TargetName, c.Type), Type = c.Type');
  });
});
