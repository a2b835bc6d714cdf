// Byte-level helpers for EVTX: CRC32, FILETIME/SYSTEMTIME, GUID, SID and integer rendering.
// Everything here works on a Buffer plus an offset and never allocates per byte.

import * as zlib from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** The table loop (exported for the test that holds it to zlib's). */
export function crc32Js(buf: Buffer, start: number, end: number, crc = 0): number {
  let c = ~crc;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// zlib's crc32 (Node >= 20.15) is ~20x faster than the table loop, which was a tenth of EVTX reading time; the
// loop stays for Node 20.11-20.14, which the package still supports.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC32 (IEEE, as zlib) over `buf[start, end)`, continuing from `crc` (0 for a fresh sum). */
export function crc32(buf: Buffer, start: number, end: number, crc = 0): number {
  return nativeCrc32 ? nativeCrc32(buf.subarray(start, end), crc) : crc32Js(buf, start, end, crc);
}

/** A u64 as a JS number; exact below 2^53, which every real record number and size is. */
export function readU64(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off + 4) * 0x100000000 + buf.readUInt32LE(off);
}

/** A u64 as a decimal string, exact over the whole range (hot path avoids BigInt when it can). */
export function u64String(buf: Buffer, off: number): string {
  const hi = buf.readUInt32LE(off + 4);
  if (hi < 0x200000) return String(hi * 0x100000000 + buf.readUInt32LE(off));
  return buf.readBigUInt64LE(off).toString();
}

export function i64String(buf: Buffer, off: number): string {
  const hi = buf.readInt32LE(off + 4);
  if (hi >= -0x200000 && hi < 0x200000) return String(hi * 0x100000000 + buf.readUInt32LE(off));
  return buf.readBigInt64LE(off).toString();
}

const LOWER_HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/**
 * `0x` + lowercase hex without padding, as Windows renders HexInt64 (Keywords, logon ids: two per Security
 * record). From the bytes by one fromCharCode call: Number#toString(16) and padStart took 5% of reading.
 */
export function hex64(buf: Buffer, off: number): string {
  let i = 7;
  while (i > 0 && buf[off + i] === 0) i--;
  const top = buf[off + i];
  const codes: number[] = new Array(2 * i + (top >= 16 ? 4 : 3));
  codes[0] = 0x30;
  codes[1] = 0x78;
  let k = 2;
  if (top >= 16) codes[k++] = LOWER_HEX[top >> 4];
  codes[k++] = LOWER_HEX[top & 15];
  for (let j = i - 1; j >= 0; j--) {
    codes[k++] = LOWER_HEX[buf[off + j] >> 4];
    codes[k++] = LOWER_HEX[buf[off + j] & 15];
  }
  return String.fromCharCode.apply(null, codes);
}

const FILETIME_UNIX_SECONDS = 11644473600;

/**
 * FILETIME (100 ns ticks since 1601) as ISO 8601 with 7 fractional digits and Z, the precision Windows itself
 * renders; fixed width so times sort as strings. Null when the value is outside the representable range.
 * One renderer per chunk: it keeps the last day it rendered (records come in time order) and builds each time by
 * one fromCharCode call (one string per record instead of a dozen pieces joined).
 */
export class FiletimeText {
  private day = -1;
  /** Character codes of the day's `YYYY-MM-DDT`. */
  private readonly prefix = new Uint8Array(11);

  render(buf: Buffer, off: number): string | null {
    const hi = buf.readUInt32LE(off + 4);
    const lo = buf.readUInt32LE(off);
    // ticks = hi * 2^32 + lo, and 2^32 = 429 * 10^7 + 4967296: split so every step stays exact (for any year up to
    // 9999; larger values give a day out of range, below). Division and subtraction only, on small integers past
    // the first step: a floating-point % is a call into C, and seven of them were most of this function's time.
    const rest = hi * 4967296 + lo;
    const q = Math.floor(rest / 1e7);
    let f = rest - q * 1e7;
    const secs = hi * 429 + q;
    const day = Math.floor(secs / 86400);
    const d = this.prefix;
    if (day !== this.day) {
      const ms = (day * 86400 - FILETIME_UNIX_SECONDS) * 1000;
      // years 0001..9999 (253402214400000 is the start of 9999-12-31)
      if (!(ms >= -62135596800000 && ms <= 253402214400000)) return null;
      const iso = new Date(ms).toISOString();
      for (let i = 0; i < 11; i++) d[i] = iso.charCodeAt(i);
      this.day = day;
    }
    const sod = (secs - day * 86400) | 0;
    const h = (sod / 3600) | 0;
    const rem = sod - h * 3600;
    const m = (rem / 60) | 0;
    const sec = rem - m * 60;
    f |= 0;
    const f0 = (f / 1000000) | 0; f -= f0 * 1000000;
    const f1 = (f / 100000) | 0; f -= f1 * 100000;
    const f2 = (f / 10000) | 0; f -= f2 * 10000;
    const f3 = (f / 1000) | 0; f -= f3 * 1000;
    const f4 = (f / 100) | 0; f -= f4 * 100;
    const f5 = (f / 10) | 0;
    const f6 = f - f5 * 10;
    const h0 = (h / 10) | 0;
    const m0 = (m / 10) | 0;
    const s0 = (sec / 10) | 0;
    return String.fromCharCode(
      d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10],
      0x30 + h0, 0x30 + h - h0 * 10, 0x3a, 0x30 + m0, 0x30 + m - m0 * 10, 0x3a, 0x30 + s0, 0x30 + sec - s0 * 10,
      0x2e, 0x30 + f0, 0x30 + f1, 0x30 + f2, 0x30 + f3, 0x30 + f4, 0x30 + f5, 0x30 + f6, 0x5a,
    );
  }
}

/** One FILETIME alone (see FiletimeText). */
export function filetimeIso(buf: Buffer, off: number): string | null {
  return new FiletimeText().render(buf, off);
}

const p2 = (n: number): string => String(n).padStart(2, '0');

/** SYSTEMTIME (8 × u16: year, month, weekday, day, hour, minute, second, ms) as ISO 8601. */
export function systemtimeIso(buf: Buffer, off: number): string {
  const y = buf.readUInt16LE(off);
  const mo = buf.readUInt16LE(off + 2);
  const d = buf.readUInt16LE(off + 6);
  const h = buf.readUInt16LE(off + 8);
  const mi = buf.readUInt16LE(off + 10);
  const s = buf.readUInt16LE(off + 12);
  const ms = buf.readUInt16LE(off + 14);
  return `${String(y).padStart(4, '0')}-${p2(mo)}-${p2(d)}T${p2(h)}:${p2(mi)}:${p2(s)}.${String(ms).padStart(3, '0')}Z`;
}

/** Character codes of each byte's two uppercase hex digits. */
const HI = Uint8Array.from({ length: 256 }, (_, i) => '0123456789ABCDEF'.charCodeAt(i >> 4));
const LO = Uint8Array.from({ length: 256 }, (_, i) => '0123456789ABCDEF'.charCodeAt(i & 15));

/**
 * GUID in registry form `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}` (first three groups little-endian). One
 * fromCharCode call makes the one string: joining 21 pieces made ~25 intermediate strings per GUID, and every
 * record has one or two.
 */
export function guidString(b: Buffer, o: number): string {
  return String.fromCharCode(
    0x7b, HI[b[o + 3]], LO[b[o + 3]], HI[b[o + 2]], LO[b[o + 2]], HI[b[o + 1]], LO[b[o + 1]], HI[b[o]], LO[b[o]],
    0x2d, HI[b[o + 5]], LO[b[o + 5]], HI[b[o + 4]], LO[b[o + 4]],
    0x2d, HI[b[o + 7]], LO[b[o + 7]], HI[b[o + 6]], LO[b[o + 6]],
    0x2d, HI[b[o + 8]], LO[b[o + 8]], HI[b[o + 9]], LO[b[o + 9]],
    0x2d, HI[b[o + 10]], LO[b[o + 10]], HI[b[o + 11]], LO[b[o + 11]], HI[b[o + 12]], LO[b[o + 12]],
    HI[b[o + 13]], LO[b[o + 13]], HI[b[o + 14]], LO[b[o + 14]], HI[b[o + 15]], LO[b[o + 15]], 0x7d,
  );
}

/** Uppercase hex of a byte range (BinaryType values). */
export function hexString(buf: Buffer, start: number, end: number): string {
  return buf.toString('hex', start, end).toUpperCase();
}

/** SID as `S-R-A-S1-S2…`; `size` bounds the read so a truncated SID cannot run past its value. */
export function sidString(buf: Buffer, off: number, size: number): string | null {
  if (size < 8) return null;
  const count = buf[off + 1];
  if (8 + count * 4 > size) return null;
  const authority = buf.readUIntBE(off + 2, 6);
  let s = `S-${buf[off]}-${authority}`;
  for (let i = 0; i < count; i++) s += '-' + buf.readUInt32LE(off + 8 + i * 4);
  return s;
}

/** UTF-16LE text with trailing NULs removed (Windows stores many strings NUL-terminated). */
export function utf16(buf: Buffer, start: number, end: number): string {
  if ((end - start) & 1) end--;
  while (end - 2 >= start && buf[end - 1] === 0 && buf[end - 2] === 0) end -= 2;
  return utf16le(buf, start, end);
}

type Slice = (this: Buffer, start: number, end: number) => string;
/**
 * Buffer#ucs2Slice and #latin1Slice are what toString('utf16le' / 'latin1') end in, without its argument checks and
 * encoding lookup: they take half the time on the short strings EVTX is made of (names, values; a few per record
 * element). On every Node release; toString where one were missing.
 */
const { ucs2Slice, latin1Slice } = Buffer.prototype as unknown as { ucs2Slice?: Slice; latin1Slice?: Slice };

/**
 * buf.toString('utf16le', start, end), faster (see ucs2Slice). Up to 4 characters by fromCharCode, without a call
 * into C++ (a third of the time; one character is V8's cached string): event data is full of "-", "0", "%%1833".
 */
export function utf16le(buf: Buffer, start: number, end: number): string {
  if (end > buf.length) end = buf.length;
  if (!(end > start)) return '';
  switch ((end - start) >> 1) {
    case 1: return String.fromCharCode(u16(buf, start));
    case 2: return String.fromCharCode(u16(buf, start), u16(buf, start + 2));
    case 3: return String.fromCharCode(u16(buf, start), u16(buf, start + 2), u16(buf, start + 4));
    case 4: return String.fromCharCode(u16(buf, start), u16(buf, start + 2), u16(buf, start + 4), u16(buf, start + 6));
    default: return ucs2Slice ? ucs2Slice.call(buf, start, end) : buf.toString('utf16le', start, end);
  }
}

const u16 = (buf: Buffer, at: number): number => buf[at] | (buf[at + 1] << 8);

/** buf.toString('latin1', start, end), faster (see ucs2Slice). */
export function latin1(buf: Buffer, start: number, end: number): string {
  if (end > buf.length) end = buf.length;
  if (!(end > start)) return '';
  return latin1Slice ? latin1Slice.call(buf, start, end) : buf.toString('latin1', start, end);
}
