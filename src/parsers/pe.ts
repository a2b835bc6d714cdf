// Windows PE images: the file version from the VS_FIXEDFILEINFO resource. Used for ExSetup.exe, whose file version
// is the server's full Exchange build including the Security Update (the collector and the file sweep read it).

const FIXED_FILE_INFO_SIGNATURE = Buffer.from([0xbd, 0x04, 0xef, 0xfe]);

/** VS_FIXEDFILEINFO file version of a PE image (ExSetup.exe → full Exchange build incl. SU), or null. */
export function peFileVersion(buf: Buffer): string | null {
  const sig = FIXED_FILE_INFO_SIGNATURE;
  for (let at = buf.indexOf(sig); at >= 0 && at + 16 <= buf.length; at = buf.indexOf(sig, at + 1)) {
    const ms = buf.readUInt32LE(at + 8);
    const ls = buf.readUInt32LE(at + 12);
    if (ms >>> 16 === 15) return `${ms >>> 16}.${ms & 0xffff}.${ls >>> 16}.${ls & 0xffff}`;
  }
  return null;
}

/** VS_FIXEDFILEINFO file version of any PE image (`10.0.17763.4968` for a Windows DLL), or null. */
export function peAnyFileVersion(buf: Buffer): string | null {
  const at = buf.indexOf(FIXED_FILE_INFO_SIGNATURE);
  if (at < 0 || at + 16 > buf.length) return null;
  const ms = buf.readUInt32LE(at + 8);
  const ls = buf.readUInt32LE(at + 12);
  return `${ms >>> 16}.${ms & 0xffff}.${ls >>> 16}.${ls & 0xffff}`;
}

/**
 * The Authenticode blob of a PE image: the PKCS#7 SignedData (DER) of the first WIN_CERTIFICATE in the security
 * data directory (PE/COFF spec: data directory 4 holds a file offset, not an RVA). `null` = not a PE image;
 * `'unsigned'` = a PE image without a certificate table.
 */
export function peSignature(buf: Buffer): Buffer | 'unsigned' | null {
  if (buf.length < 64 || buf.toString('latin1', 0, 2) !== 'MZ') return null;
  const pe = buf.readUInt32LE(0x3c);
  if (pe + 24 > buf.length || buf.toString('latin1', pe, pe + 4) !== 'PE\0\0') return null;
  const opt = pe + 24;
  if (opt + 2 > buf.length) return null;
  const magic = buf.readUInt16LE(opt);
  // Data directories start at 96 (PE32) or 112 (PE32+) into the optional header; the security entry is the 5th.
  const dirs = magic === 0x10b ? opt + 96 : magic === 0x20b ? opt + 112 : -1;
  if (dirs < 0 || dirs + 40 > buf.length) return null;
  const offset = buf.readUInt32LE(dirs + 32);
  const size = buf.readUInt32LE(dirs + 36);
  if (offset === 0 || size < 8) return 'unsigned';
  if (offset + 8 > buf.length) return 'unsigned';
  const length = buf.readUInt32LE(offset);
  const type = buf.readUInt16LE(offset + 6);
  // WIN_CERT_TYPE_PKCS_SIGNED_DATA; other types (X.509 alone, reserved) are not Authenticode signatures.
  if (type !== 0x0002 || length < 8 || offset + length > buf.length) return 'unsigned';
  return buf.subarray(offset + 8, offset + length);
}
