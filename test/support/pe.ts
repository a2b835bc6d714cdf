// Test stand-ins for Windows PE images.

/** ExSetup.exe stand-in: a VS_FIXEDFILEINFO block (signature 0xFEEF04BD, file version) is all readers use. */
export function fakePe(major: number, minor: number, build: number, rev: number): Buffer {
  const b = Buffer.alloc(256, 0x90);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0xfeef04bd, 100);
  b.writeUInt32LE(0x00010000, 104);
  b.writeUInt32LE(((major << 16) | minor) >>> 0, 108);
  b.writeUInt32LE(((build << 16) | rev) >>> 0, 112);
  return b;
}

/**
 * A DLL stand-in with the parts the module checks read, laid out per the PE/COFF specification: MZ header with
 * e_lfanew, `PE\0\0`, a PE32+ optional header whose 5th data directory (security) holds the file offset and size
 * of a WIN_CERTIFICATE (revision 0x0200, type PKCS_SIGNED_DATA) wrapping `pkcs7`; a VS_FIXEDFILEINFO version.
 */
export function fakeDll(version: [number, number, number, number], pkcs7?: Buffer): Buffer {
  const head = Buffer.alloc(0x200, 0);
  head.write('MZ', 0, 'latin1');
  head.writeUInt32LE(0x80, 0x3c);
  head.write('PE\0\0', 0x80, 'latin1');
  head.writeUInt16LE(0x8664, 0x84); // machine x64
  head.writeUInt16LE(240, 0x80 + 4 + 16); // SizeOfOptionalHeader
  const opt = 0x80 + 24;
  head.writeUInt16LE(0x20b, opt);
  head.writeUInt32LE(16, opt + 108); // NumberOfRvaAndSizes
  const [a, b, c, d] = version;
  head.writeUInt32LE(0xfeef04bd, 0x180);
  head.writeUInt32LE(0x00010000, 0x184);
  head.writeUInt32LE(((a << 16) | b) >>> 0, 0x188);
  head.writeUInt32LE(((c << 16) | d) >>> 0, 0x18c);
  if (!pkcs7) return head;
  const cert = Buffer.alloc(8 + pkcs7.length + ((8 - (pkcs7.length % 8)) % 8), 0);
  cert.writeUInt32LE(8 + pkcs7.length, 0);
  cert.writeUInt16LE(0x0200, 4);
  cert.writeUInt16LE(0x0002, 6);
  pkcs7.copy(cert, 8);
  head.writeUInt32LE(head.length, opt + 112 + 32);
  head.writeUInt32LE(cert.length, opt + 112 + 36);
  return Buffer.concat([head, cert]);
}
