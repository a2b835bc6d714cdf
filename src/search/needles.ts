// Literal prefilter: find the lines that contain any rule needle, without decoding or parsing the others.
//
// Node's Buffer.indexOf runs at memchr speed only for needles shorter than 8 bytes whose first byte is rare;
// longer needles fall back to Boyer-Moore-Horspool (~2.5 GB/s). So each needle is searched through a short
// anchor that starts at its rarest byte (counted in the file itself), and every anchor hit is verified.
// Case-insensitive needles search the anchor's case variants instead of lower-casing the text.

const NL = 10;
/** Longest anchor that still gets Node's memchr-based linear search. */
const MAX_ANCHOR = 7;

export interface NeedleSpec {
  text: string;
  insensitive: boolean;
}

export interface NeedleSet {
  needles: NeedleSpec[];
  /** True when some rule wants every line (no needles). */
  everyLine: boolean;
}

export function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Drops needles that contain another needle of the set: the shorter one already finds those lines. */
function minimal(specs: NeedleSpec[]): NeedleSpec[] {
  const key = (s: NeedleSpec) => (s.insensitive ? s.text.toLowerCase() : s.text);
  const uniq = [...new Map(specs.map((s) => [`${s.insensitive}\u0000${key(s)}`, s])).values()].sort((a, b) => a.text.length - b.text.length);
  return uniq.filter((n, i) =>
    !uniq.slice(0, i).some((m) => (m.insensitive ? key(n).toLowerCase().includes(key(m)) : !n.insensitive && n.text.includes(m.text))),
  );
}

export function compileNeedles(rules: ReadonlyArray<{ needles: readonly string[]; needleCase?: 'exact' | 'insensitive' }>): NeedleSet {
  const specs: NeedleSpec[] = [];
  let everyLine = false;
  for (const r of rules) {
    if (r.needles.length === 0) everyLine = true;
    for (const text of r.needles) specs.push({ text, insensitive: r.needleCase !== 'exact' });
  }
  return { needles: minimal(specs), everyLine };
}

/** Byte counts of a sample of the text, to find each needle's rarest byte. */
export function byteHistogram(sample: Uint8Array): Uint32Array {
  const h = new Uint32Array(256);
  for (let i = 0; i < sample.length; i++) h[sample[i]]++;
  return h;
}

export interface Finder {
  needle: Buffer;
  insensitive: boolean;
  /** The anchor, and its case variants when insensitive. */
  anchors: Buffer[];
  /** Where the anchor starts inside the needle. */
  offset: number;
  /** Estimated cost of collectNeedleLines, in ns per histogram sample (the units of COST). */
  cost: number;
}

/** Every upper/lower-case spelling of the letters in `anchor`. */
function caseVariants(anchor: Buffer): Buffer[] {
  let out = [Buffer.from(anchor)];
  for (let i = 0; i < anchor.length; i++) {
    if (!isLetter(anchor[i])) continue;
    out = out.flatMap((v) => {
      const lo = Buffer.from(v);
      const up = Buffer.from(v);
      lo[i] |= 32;
      up[i] &= ~32;
      return [lo, up];
    });
  }
  return out;
}

/** Estimated cost (ns per sample) of one pass per anchor variant, the stops at its first byte, the JS checks. */
export const COST = { pass: 100_000, stop: 5, verify: 60 };
const MAX_VARIANTS = 8;

/**
 * Picks the anchor window (up to 7 bytes) with the lowest estimated cost: each case variant is one indexOf pass;
 * indexOf stops at every occurrence of the first byte; every full anchor match is verified in JS.
 */
export function planFinder(spec: NeedleSpec, hist: Uint32Array): Finder {
  const needle = Buffer.from(spec.text, 'latin1');
  const total = hist.reduce((a, b) => a + b, 0) || 1;
  const count = (c: number) => (spec.insensitive && isLetter(c) ? hist[c | 32] + hist[c & ~32] : hist[c]);
  let best = { offset: 0, len: 1, cost: Infinity };
  for (let o = 0; o < needle.length; o++) {
    let variants = 1;
    let matches = count(needle[o]);
    for (let len = 1; len <= MAX_ANCHOR && o + len <= needle.length; len++) {
      const c = needle[o + len - 1];
      if (spec.insensitive && isLetter(c)) variants *= 2;
      if (variants > MAX_VARIANTS) break;
      if (len > 1) matches *= count(c) / total;
      const cost = variants * COST.pass + count(needle[o]) * COST.stop + matches * COST.verify;
      // On a tie, a longer anchor from the same start: fewer matches to verify.
      if (cost < best.cost || (cost === best.cost && o === best.offset)) best = { offset: o, len, cost };
    }
  }
  const anchor = needle.subarray(best.offset, best.offset + best.len);
  const anchors = spec.insensitive ? caseVariants(anchor) : [Buffer.from(anchor)];
  return { needle, insensitive: spec.insensitive, anchors, offset: best.offset, cost: best.cost };
}

/** Whether the finder's needle occurs at `at` (false when it would run past either end of `buf`). */
function matchesAt(buf: Uint8Array, at: number, f: Finder): boolean {
  const n = f.needle;
  if (at < 0 || at + n.length > buf.length) return false;
  if (!f.insensitive) {
    for (let i = 0; i < n.length; i++) if (buf[at + i] !== n[i]) return false;
    return true;
  }
  for (let i = 0; i < n.length; i++) {
    const a = buf[at + i];
    const b = n[i];
    if (a !== b && !(isLetter(a) && (a | 32) === (b | 32))) return false;
  }
  return true;
}

/** Adds to `out` the start offset of every line of `buf` that contains the finder's needle. */
export function collectNeedleLines(buf: Buffer, f: Finder, out: number[]): void {
  for (const anchor of f.anchors) {
    let p = buf.indexOf(anchor);
    while (p !== -1) {
      if (matchesAt(buf, p - f.offset, f)) {
        const at = p - f.offset;
        out.push(at === 0 ? 0 : buf.lastIndexOf(NL, at - 1) + 1);
        const le = buf.indexOf(NL, p);
        if (le === -1) break;
        p = buf.indexOf(anchor, le + 1);
      } else p = buf.indexOf(anchor, p + 1);
    }
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
