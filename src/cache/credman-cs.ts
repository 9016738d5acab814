/**
 * The C# both PowerShell scripts compile with Add-Type (the fleet collector and the purge script):
 * Win32 CREDENTIALW (wincred.h), the CredEnumerateW / CredFree imports, and how to enumerate and
 * name what it returns. One copy, so the two scripts read Credential Manager the same way as the
 * live source (src/platform/windows-credman.ts): CRED_ENUMERATE_ALL_CREDENTIALS, flags 0 where that
 * flag is refused (ERROR_INVALID_FLAGS), only ERROR_NOT_FOUND an empty vault, any other failure an
 * error with its Win32 code — never read as "no credentials".
 */
export const CS_CREDMAN_DECLARATIONS = String.raw`  [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
  struct CREDENTIAL {
    public UInt32 Flags; public UInt32 Type; public string TargetName; public string Comment;
    public System.Runtime.InteropServices.ComTypes.FILETIME LastWritten;
    public UInt32 CredentialBlobSize; public IntPtr CredentialBlob; public UInt32 Persist;
    public UInt32 AttributeCount; public IntPtr Attributes; public string TargetAlias; public string UserName;
  }
  [DllImport("advapi32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
  static extern bool CredEnumerateW(string filter, UInt32 flags, out UInt32 count, out IntPtr creds);
  [DllImport("advapi32.dll")] static extern void CredFree(IntPtr buffer);
  static bool Enumerate(out UInt32 count, out IntPtr creds) {
    UInt32 flags = 1;
    bool ok = CredEnumerateW(null, flags, out count, out creds);
    int err = ok ? 0 : Marshal.GetLastWin32Error();
    if (!ok && err == 1004) {
      flags = 0;
      ok = CredEnumerateW(null, flags, out count, out creds);
      err = ok ? 0 : Marshal.GetLastWin32Error();
    }
    if (ok) return true;
    if (err == 1168) return false;
    throw new InvalidOperationException("CredEnumerateW failed with Win32 error " + err + " (flags " + flags + ")");
  }
  // every credential in the vault of the user, as a copy of its CREDENTIAL (CredentialBlob is never read), freed at once
  static List<CREDENTIAL> ReadAll() {
    var all = new List<CREDENTIAL>();
    UInt32 count; IntPtr p;
    if (!Enumerate(out count, out p)) return all;
    try {
      for (int i = 0; i < count; i++) all.Add((CREDENTIAL)Marshal.PtrToStructure(Marshal.ReadIntPtr(p, i * IntPtr.Size), typeof(CREDENTIAL)));
    } finally { CredFree(p); }
    return all;
  }
  static long FileTime(CREDENTIAL c) { return ((long)c.LastWritten.dwHighDateTime << 32) | (uint)c.LastWritten.dwLowDateTime; }
  // with CRED_ENUMERATE_ALL_CREDENTIALS, Windows documents target names as namespace:attribute=target
  // (Domain:target=TERMSRV/x): the namespace of the type of the credential is taken off
  static string OwnTarget(string target, UInt32 type) {
    string ns = (type == 1 || type == 5) ? "LegacyGeneric:target=" : "Domain:target=";
    return (target != null && target.Length > ns.Length && target.StartsWith(ns, StringComparison.Ordinal)) ? target.Substring(ns.Length) : target;
  }`;
