# credgate fleet collector (schema credgate-collector/1)
# Exports Windows Credential Manager METADATA (never passwords) and the RDP client's registry
# hints for the current user, as JSON. Run as the user whose cache you want:
#   powershell -NoProfile -ExecutionPolicy Bypass -File credgate-collector.ps1 -Out \\share\cache\%COMPUTERNAME%-%USERNAME%.json
param([string]$Out = "$env:COMPUTERNAME-$env:USERNAME.credgate.json")
$ErrorActionPreference = 'Stop'
Add-Type -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
public static class CredgateCredMan {
  [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
  struct CREDENTIAL {
    public UInt32 Flags; public UInt32 Type; public string TargetName; public string Comment;
    public System.Runtime.InteropServices.ComTypes.FILETIME LastWritten;
    public UInt32 CredentialBlobSize; public IntPtr CredentialBlob; public UInt32 Persist;
    public UInt32 AttributeCount; public IntPtr Attributes; public string TargetAlias; public string UserName;
  }
  [DllImport("advapi32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
  static extern bool CredEnumerateW(string filter, UInt32 flags, out UInt32 count, out IntPtr creds);
  [DllImport("advapi32.dll")] static extern void CredFree(IntPtr buffer);
  public static List<object[]> List() {
    var result = new List<object[]>();
    UInt32 count; IntPtr p;
    if (!CredEnumerateW(null, 1 /* CRED_ENUMERATE_ALL_CREDENTIALS */, out count, out p)) return result;
    try {
      for (int i = 0; i < count; i++) {
        var c = (CREDENTIAL)Marshal.PtrToStructure(Marshal.ReadIntPtr(p, i * IntPtr.Size), typeof(CREDENTIAL));
        long ft = ((long)c.LastWritten.dwHighDateTime << 32) | (uint)c.LastWritten.dwLowDateTime;
        // CredentialBlob is deliberately never read
        result.Add(new object[] { c.TargetName, c.Type, c.UserName, DateTime.FromFileTimeUtc(ft).ToString("o"), c.Persist, c.Comment });
      }
    } finally { CredFree(p); }
    return result;
  }
}
'@
$types = @{ 1 = 'generic'; 2 = 'domain-password'; 3 = 'domain-certificate'; 4 = 'domain-visible-password'; 5 = 'generic-certificate'; 6 = 'domain-extended' }
$persist = @{ 1 = 'session'; 2 = 'local-machine'; 3 = 'enterprise' }
$creds = foreach ($c in [CredgateCredMan]::List()) {
  [ordered]@{ target = $c[0]; type = $types[[int]$c[1]]; userName = $c[2]; lastWritten = $c[3]; persist = $persist[[int]$c[4]]; comment = $c[5] }
}
$base = 'HKCU:\Software\Microsoft\Terminal Server Client'
$servers = @()
if (Test-Path "$base\Servers") {
  $servers = foreach ($k in Get-ChildItem "$base\Servers") {
    $hint = (Get-ItemProperty $k.PSPath -Name UsernameHint -ErrorAction SilentlyContinue).UsernameHint
    $hash = (Get-ItemProperty $k.PSPath -Name CertHash -ErrorAction SilentlyContinue).CertHash
    [ordered]@{ server = $k.PSChildName; usernameHint = $hint; certHash = if ($hash) { ($hash | ForEach-Object { $_.ToString('X2') }) -join '' } else { $null } }
  }
}
$mru = @()
if (Test-Path "$base\Default") {
  $d = Get-ItemProperty "$base\Default"
  $mru = 0..9 | ForEach-Object { $d."MRU$_" } | Where-Object { $_ }
}
[ordered]@{
  schema = 'credgate-collector/1'; machine = $env:COMPUTERNAME; user = "$env:USERDOMAIN\$env:USERNAME"
  collectedAt = (Get-Date).ToUniversalTime().ToString('o'); credentials = @($creds); rdpServers = @($servers); mru = @($mru)
} | ConvertTo-Json -Depth 4 | Out-File -Encoding utf8 $Out
Write-Host "credgate collector: $(@($creds).Count) credential(s), $(@($servers).Count) RDP server hint(s) -> $Out"
