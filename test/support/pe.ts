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
