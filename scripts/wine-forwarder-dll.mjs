// A PE32+ (x86-64) DLL whose only content is an export table of forwarders: each exported name
// is resolved by the loader to a function of another DLL. No code, no imports, no entry point.
// The Windows tier uses it for what Wine 8 lacks and Node for Windows' tools need:
// bcryptprimitives.dll!ProcessPrng (Rust >= 1.78 programs import it; rolldown's native binding,
// which vitest 4 loads through vite 8, is one) forwarded to advapi32!SystemFunction036
// (RtlGenRandom), which Wine has. Both fill a buffer with random bytes and return TRUE; the size
// is a SIZE_T for one and a ULONG for the other, equal for any buffer under 4 GiB.
// Format: learn.microsoft.com/windows/win32/debug/pe-format (export directory, forwarder RVAs).

/**
 * @param {string} dllName the DLL's own name (export directory Name)
 * @param {Array<[string, string]>} forwards [exported name, "otherdll.Function"]
 * @returns {Buffer}
 */
export function forwarderDll(dllName, forwards) {
  const FILE_ALIGN = 0x200;
  const SECTION_ALIGN = 0x1000;
  const RVA = 0x1000; // the one section (.rdata), right after the headers
  // the name pointer table must be sorted (the loader binary-searches it)
  const names = [...forwards].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const n = names.length;
  let off = 40; // IMAGE_EXPORT_DIRECTORY
  const eat = off;
  off += 4 * n;
  const npt = off;
  off += 4 * n;
  const ordinals = off;
  off += 2 * n;
  const strings = [];
  const put = (s) => {
    const at = off;
    strings.push([at, s]);
    off += Buffer.byteLength(s, 'latin1') + 1;
    return at;
  };
  const nameAt = put(dllName);
  const fnAt = names.map(([f]) => put(f));
  const fwAt = names.map(([, t]) => put(t));
  const dataSize = off; // the export directory's size covers the forwarder strings: that makes them forwarders
  const rawSize = Math.ceil(dataSize / FILE_ALIGN) * FILE_ALIGN;

  const sec = Buffer.alloc(rawSize);
  sec.writeUInt32LE(RVA + nameAt, 12); // Name
  sec.writeUInt32LE(1, 16); // Base (first ordinal)
  sec.writeUInt32LE(n, 20); // NumberOfFunctions
  sec.writeUInt32LE(n, 24); // NumberOfNames
  sec.writeUInt32LE(RVA + eat, 28); // AddressOfFunctions
  sec.writeUInt32LE(RVA + npt, 32); // AddressOfNames
  sec.writeUInt32LE(RVA + ordinals, 36); // AddressOfNameOrdinals
  names.forEach((_, i) => {
    sec.writeUInt32LE(RVA + fwAt[i], eat + 4 * i); // an RVA inside the export directory: a forwarder string
    sec.writeUInt32LE(RVA + fnAt[i], npt + 4 * i);
    sec.writeUInt16LE(i, ordinals + 2 * i);
  });
  for (const [at, s] of strings) sec.write(`${s}\0`, at, 'latin1');

  const hdr = Buffer.alloc(FILE_ALIGN);
  hdr.write('MZ', 0, 'latin1');
  hdr.writeUInt32LE(0x40, 0x3c); // e_lfanew
  let p = 0x40;
  hdr.write('PE\0\0', p, 'latin1');
  p += 4;
  // COFF file header
  hdr.writeUInt16LE(0x8664, p); // IMAGE_FILE_MACHINE_AMD64
  hdr.writeUInt16LE(1, p + 2); // NumberOfSections
  hdr.writeUInt16LE(240, p + 16); // SizeOfOptionalHeader (PE32+)
  hdr.writeUInt16LE(0x2022, p + 18); // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE | DLL
  p += 20;
  // optional header, PE32+
  const o = p;
  hdr.writeUInt16LE(0x20b, o); // Magic
  hdr.writeUInt32LE(rawSize, o + 8); // SizeOfInitializedData
  hdr.writeUInt32LE(0, o + 16); // AddressOfEntryPoint: none
  hdr.writeUInt32LE(RVA, o + 20); // BaseOfCode
  hdr.writeBigUInt64LE(0x180000000n, o + 24); // ImageBase
  hdr.writeUInt32LE(SECTION_ALIGN, o + 32);
  hdr.writeUInt32LE(FILE_ALIGN, o + 36);
  hdr.writeUInt16LE(6, o + 40); // MajorOperatingSystemVersion
  hdr.writeUInt16LE(6, o + 48); // MajorSubsystemVersion
  hdr.writeUInt32LE(RVA + Math.ceil(dataSize / SECTION_ALIGN) * SECTION_ALIGN, o + 56); // SizeOfImage
  hdr.writeUInt32LE(FILE_ALIGN, o + 60); // SizeOfHeaders
  hdr.writeUInt16LE(3, o + 68); // Subsystem: console
  hdr.writeUInt16LE(0x0100, o + 70); // DllCharacteristics: NX_COMPAT
  hdr.writeBigUInt64LE(0x100000n, o + 72); // SizeOfStackReserve
  hdr.writeBigUInt64LE(0x1000n, o + 80); // SizeOfStackCommit
  hdr.writeBigUInt64LE(0x100000n, o + 88); // SizeOfHeapReserve
  hdr.writeBigUInt64LE(0x1000n, o + 96); // SizeOfHeapCommit
  hdr.writeUInt32LE(16, o + 108); // NumberOfRvaAndSizes
  hdr.writeUInt32LE(RVA, o + 112); // DataDirectory[EXPORT].VirtualAddress
  hdr.writeUInt32LE(dataSize, o + 116); // DataDirectory[EXPORT].Size
  p = o + 240;
  // section header
  hdr.write('.rdata', p, 'latin1');
  hdr.writeUInt32LE(dataSize, p + 8); // VirtualSize
  hdr.writeUInt32LE(RVA, p + 12); // VirtualAddress
  hdr.writeUInt32LE(rawSize, p + 16); // SizeOfRawData
  hdr.writeUInt32LE(FILE_ALIGN, p + 20); // PointerToRawData
  hdr.writeUInt32LE(0x40000040, p + 36); // INITIALIZED_DATA | MEM_READ
  return Buffer.concat([hdr, sec]);
}

/** bcryptprimitives.dll as the Windows tier installs it into its Wine prefix. */
export function bcryptprimitivesShim() {
  return forwarderDll('bcryptprimitives.dll', [['ProcessPrng', 'advapi32.SystemFunction036']]);
}
