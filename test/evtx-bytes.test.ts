// The EVTX byte renderers against independent references: BigInt and Date arithmetic for FILETIME, the byte
// order of the GUID registry form, zlib for the CRC32 fallback. Random inputs from a fixed seed.
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Js, FiletimeText, filetimeIso, guidString, hex64 } from '../src/parsers/evtx/bytes.js';
import { normalizeTime } from '../src/parsers/evtx/event.js';

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EPOCH = 11644473600n;
const TICKS = 10_000_000n;

/** The reference: whole seconds through Date, the 7 fractional digits from the remainder. */
function reference(ticks: bigint): string | null {
  const ms = Number((ticks / TICKS - EPOCH) * 1000n);
  if (ms < -62135596800000) return null;
  if (ms > 253402300799000) return null;
  return `${new Date(ms).toISOString().slice(0, 19)}.${(ticks % TICKS).toString().padStart(7, '0')}Z`;
}

/** One renderer for the whole test, as for a chunk: its cached day is reused and left. */
const renderer = new FiletimeText();
function filetime(ticks: bigint): string | null {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(ticks);
  const s = renderer.render(b, 0);
  expect(filetimeIso(b, 0)).toBe(s);
  return s;
}

describe('FILETIME rendering', () => {
  it('matches BigInt/Date arithmetic at the range ends, day and second boundaries, and on random values', () => {
    const at = (iso: string) => (BigInt(Date.parse(iso)) / 1000n + EPOCH) * TICKS;
    const edges = ['0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '1970-01-01T00:00:00Z', '2000-02-29T23:59:59Z', '2021-03-03T00:00:00Z'];
    const values: bigint[] = [0n, 0xffffffffffffffffn, at('9999-12-31T23:59:59Z') + TICKS, at('0001-01-01T00:00:00Z') - 1n];
    for (const e of edges) for (const d of [-1n, 0n, 1n, TICKS - 1n, TICKS]) values.push(at(e) + d);
    const r = random(20260303);
    let t = at('2021-03-03T00:00:00Z');
    for (let i = 0; i < 20_000; i++) {
      values.push((BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32)));
      t += BigInt(Math.floor(r() * 5e9)); // records in time order: the cached day is reused and left
      values.push(t);
    }
    for (const v of values) {
      if (v < 0n) continue;
      expect(filetime(v), `${v}`).toBe(reference(v));
    }
    expect(filetime(at('2021-03-03T12:34:56Z') + 1234567n)).toBe('2021-03-03T12:34:56.1234567Z');
    expect(filetime(0xffffffffffffffffn)).toBeNull();
  });
});

describe('event times', () => {
  it('keeps a time already in Windows form, pads or cuts others to 7 digits, refuses anything else', () => {
    const t = '2016-07-08T18:12:51.6816408Z';
    expect(normalizeTime(t)).toBe(t);
    expect(normalizeTime('2016-07-08T18:12:51.68Z')).toBe('2016-07-08T18:12:51.6800000Z');
    expect(normalizeTime('2016-07-08T18:12:51.681640812Z')).toBe(t);
    expect(normalizeTime('2016-07-08T18:12:51Z')).toBe('2016-07-08T18:12:51.0000000Z');
    // Each character of the fast form changed to its neighbours below and above ('/' and ':' around the digits).
    for (let i = 0; i < t.length; i++) {
      for (const d of [-1, 1]) {
        const bad = t.slice(0, i) + String.fromCharCode(t.charCodeAt(i) + d) + t.slice(i + 1);
        const still = /\d/.test(t[i]) && /\d/.test(bad[i]); // one digit for another
        expect(normalizeTime(bad), bad).toBe(still ? bad : null);
      }
    }
  });
});

describe('GUID rendering', () => {
  it('writes the first three groups little-endian and the last two in byte order', () => {
    const b = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    expect(guidString(b, 0)).toBe('{33221100-5544-7766-8899-AABBCCDDEEFF}');
    const r = random(7);
    const buf = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(r() * 256)));
    for (let o = 0; o + 16 <= buf.length; o += 7) {
      const h = buf.toString('hex', o, o + 16).toUpperCase();
      const rev = (s: string) => s.match(/../g)!.reverse().join('');
      expect(guidString(buf, o)).toBe(`{${rev(h.slice(0, 8))}-${rev(h.slice(8, 12))}-${rev(h.slice(12, 16))}-${h.slice(16, 20)}-${h.slice(20)}}`);
    }
  });
});

describe('HexInt64 rendering', () => {
  it('is 0x and the value in lowercase hex without leading zeros (BigInt reference)', () => {
    const r = random(64);
    const b = Buffer.alloc(8);
    const values = [0n, 1n, 0xfn, 0x10n, 0xffffffffn, 0x100000000n, 0x8020000000000000n, 0xffffffffffffffffn];
    for (let i = 0; i < 5000; i++) values.push(((BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32))) >> BigInt(Math.floor(r() * 64)));
    for (const v of values) {
      b.writeBigUInt64LE(v);
      expect(hex64(b, 0)).toBe(`0x${v.toString(16)}`);
    }
  });
});

describe('chunk CRC32', () => {
  it('the table loop (Node < 20.15) and the zlib path agree with zlib, also continued from a prior sum', (ctx) => {
    const zlibCrc32 = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
    if (!zlibCrc32) return ctx.skip('zlib.crc32 needs Node >= 20.15');
    const r = random(99);
    const buf = Buffer.from(Array.from({ length: 70_000 }, () => Math.floor(r() * 256)));
    for (const [s, e] of [[0, 0], [0, 120], [128, 512], [512, 65536], [3, 69_999]]) {
      const want = zlibCrc32(buf.subarray(s, e));
      expect(crc32Js(buf, s, e)).toBe(want);
      expect(crc32(buf, s, e)).toBe(want);
      expect(crc32Js(buf, 128, 512, crc32Js(buf, 0, 120))).toBe(zlibCrc32(buf.subarray(128, 512), zlibCrc32(buf.subarray(0, 120))));
    }
  });
});
