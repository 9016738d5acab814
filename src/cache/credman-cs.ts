/**
 * The C# both PowerShell scripts compile with Add-Type (the fleet collector and the purge script):
 * Win32 CREDENTIALW (wincred.h) and the CredEnumerateW / CredFree imports. One copy, so the two
 * scripts read Credential Manager the same way.
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
  [DllImport("advapi32.dll")] static extern void CredFree(IntPtr buffer);`;
