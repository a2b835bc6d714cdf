// Literal prefilter: find the lines that contain any rule needle, without parsing the others.

const NL = 10;

/** Lower-cases ASCII letters of `src` into `dst`, four bytes at a time (no branch per byte). */
export function asciiLower(src: Uint8Array, dst: Uint8Array): void {
  dst.set(src);
  const words = src.length >>> 2;
  if (words > 0 && dst.byteOffset % 4 === 0) {
    const w32 = new Int32Array(dst.buffer, dst.byteOffset, words);
    for (let i = 0; i < words; i++) {
      const w = w32[i];
      const low7 = w & 0x7f7f7f7f;
      // High bit of each byte set where 0x41 <= byte <= 0x5a and the byte itself is ASCII.
      const upper = (low7 + 0x3f3f3f3f) & ~(low7 + 0x25252525) & ~w & 0x80808080;
      w32[i] = w | (upper >>> 2);
    }
  }
  for (let i = dst.byteOffset % 4 === 0 ? words << 2 : 0; i < dst.length; i++) {
    const c = dst[i];
    if (c >= 65 && c <= 90) dst[i] = c | 32;
  }
}

export interface NeedleSet {
  exact: Buffer[];
  /** Lower-cased; searched in a lower-cased copy of the text. */
  insensitive: Buffer[];
  /** True when some rule wants every line (no needles). */
  everyLine: boolean;
}

/** Drops needles that contain another needle of the same set: the shorter one already finds those lines. */
function minimal(needles: string[]): string[] {
  const uniq = [...new Set(needles)].sort((a, b) => a.length - b.length);
  return uniq.filter((n, i) => !uniq.slice(0, i).some((m) => n.includes(m)));
}

export function compileNeedles(rules: ReadonlyArray<{ needles: readonly string[]; needleCase?: 'exact' | 'insensitive' }>): NeedleSet {
  const exact: string[] = [];
  const insensitive: string[] = [];
  let everyLine = false;
  for (const r of rules) {
    if (r.needles.length === 0) everyLine = true;
    for (const n of r.needles) (r.needleCase === 'exact' ? exact : insensitive).push(r.needleCase === 'exact' ? n : n.toLowerCase());
  }
  const ins = minimal(insensitive);
  // An exact needle already covered by a case-insensitive one adds nothing.
  const ex = minimal(exact).filter((n) => !ins.some((m) => n.toLowerCase().includes(m)));
  return { exact: ex.map((n) => Buffer.from(n, 'latin1')), insensitive: ins.map((n) => Buffer.from(n, 'latin1')), everyLine };
}

/** Adds to `out` the start offset of every line in `buf[start, end)` that contains `needle`. */
export function collectLineStarts(buf: Buffer, needle: Buffer, start: number, end: number, out: number[]): void {
  let p = buf.indexOf(needle, start);
  while (p !== -1 && p + needle.length <= end) {
    const ls = p === start ? start : buf.lastIndexOf(NL, p - 1) + 1;
    out.push(ls < start ? start : ls);
    const le = buf.indexOf(NL, p);
    if (le === -1 || le >= end) break;
    p = buf.indexOf(needle, le + 1);
  }
}

/** Number of line feeds in `buf[from, to)`. */
export function countNewlines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  let p = buf.indexOf(NL, from);
  while (p !== -1 && p < to) {
    n++;
    p = buf.indexOf(NL, p + 1);
  }
  return n;
}
