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
