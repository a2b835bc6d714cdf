// Single-pass multi-needle line finder: a Teddy-style WebAssembly SIMD scan (multifind.wat) finds the candidate
// positions of all needles at once and verifies them exactly; this side plans the fingerprints and buckets from the
// file's byte histogram, lays out the wasm memory and turns matches into line starts. Needles that indexOf finds
// cheaper on its own (an anchor whose first byte is rare in the file runs at memchr speed) stay on the per-needle
// path of needles.ts, and so does everything when WebAssembly SIMD is unavailable.
import { MULTIFIND_WASM_BASE64 } from './multifind-wasm.js';
import { collectNeedleLines, COST, isLetter, planFinder, type Finder, type NeedleSpec } from './needles.js';

const NL = 10;
const BUCKETS = 8;
/** Fingerprint bytes per needle (fixed by multifind.wat). */
const FP = 3;

/**
 * Cost model, in ns per MiB of text (measured on bench/multifind.micro.mjs): one SIMD pass (copy into wasm memory +
 * scan) costs `pass`, each candidate `candidate` plus `needle` per needle verified; one indexOf pass per anchor
 * variant costs `indexOf` (memchr over a rare byte), plus the stops and checks that needles.ts estimates.
 */
const SIMD_COST = { pass: 200_000, candidate: 8, needle: 4, indexOf: 25_000 };
const MIB = 1024 * 1024;

// Wasm memory layout (see multifind.wat): tables at 0, the resume position at 128, bucket directory at 256, needle
// records at 320; the output area and the text follow the needle bytes.
const RESUME = 128;
const DIR = 256;
const RECORDS = 320;
const OUT_BYTES = 64 * 1024;
/** Readable bytes the scan may touch past the text (the first one is a line feed sentinel). */
const PAD = 64;

interface SimdNeedle {
  f: Finder;
  /** Where the fingerprint starts inside the needle. */
  fp: number;
}

interface SimdPlan {
  /** The start of the wasm memory: tables, bucket directory, needle records and bytes. */
  head: Uint8Array;
  buckets: SimdNeedle[][];
}

export interface MultiFinder {
  /** Needles searched one at a time with collectNeedleLines. */
  single: Finder[];
  /** The needles of the SIMD pass, or null when there is none. */
  simd: SimdPlan | null;
}

// ---------------------------------------------------------------------------------------------------------------
// The wasm module: one instance per thread (collectLines is synchronous, so scans never interleave).

interface WasmExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  scan(p: number, base: number, end: number, out: number, outEnd: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

let wasm: WasmExports | null | undefined;

/** The scanner, or null when this runtime has no WebAssembly SIMD. */
function instance(): WasmExports | null {
  if (wasm !== undefined) return wasm;
  wasm = null;
  // Typed locally: the project's lib settings do not include the DOM's WebAssembly declarations.
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  try {
    const bytes = Buffer.from(MULTIFIND_WASM_BASE64, 'base64');
    if (api && api.validate(bytes)) wasm = new api.Instance(new api.Module(bytes), {}).exports as WasmExports;
  } catch {
    wasm = null;
  }
  return wasm;
}

/** Whether the SIMD pass can run here. */
export function simdAvailable(): boolean {
  return instance() !== null;
}

// ---------------------------------------------------------------------------------------------------------------
// Planning

/** Per fingerprint byte: the sets of low and high nibbles (bit n = nibble n) a bucket accepts. */
interface NibbleSets {
  lo: number[];
  hi: number[];
}

function emptySets(): NibbleSets {
  return { lo: new Array<number>(FP).fill(0), hi: new Array<number>(FP).fill(0) };
}

/** Adds a needle's fingerprint to nibble sets (both cases of an insensitive letter; anything past its end). */
function addFingerprint(s: NibbleSets, n: SimdNeedle): void {
  const bytes = n.f.needle;
  for (let j = 0; j < FP; j++) {
    if (n.fp + j >= bytes.length) {
      s.lo[j] = 0xffff;
      s.hi[j] = 0xffff;
      continue;
    }
    const c = bytes[n.fp + j];
    s.lo[j] |= 1 << (c & 15);
    s.hi[j] |= 1 << (c >> 4);
    if (n.f.insensitive && isLetter(c)) s.hi[j] |= 1 << ((c ^ 32) >> 4);
  }
}

/** Probability (by the histogram, bytes taken as independent) that a position passes the nibble sets. */
function passRate(s: NibbleSets, hist: Uint32Array, total: number): number {
  let p = 1;
  for (let j = 0; j < FP; j++) {
    if (s.lo[j] === 0xffff && s.hi[j] === 0xffff) continue;
    // Over the set bits only: planning runs once per file, mostly as cold code.
    let n = 0;
    for (let hs = s.hi[j]; hs !== 0; hs &= hs - 1) {
      const h = 31 - Math.clz32(hs & -hs);
      for (let ls = s.lo[j]; ls !== 0; ls &= ls - 1) n += hist[(h << 4) | (31 - Math.clz32(ls & -ls))];
    }
    p *= n / total;
  }
  return p;
}

/** The needle's FP-byte window whose bytes are rarest in the file. */
function fingerprint(f: Finder, hist: Uint32Array, total: number): { fp: number; rate: number } {
  const count = (c: number) => (f.insensitive && isLetter(c) ? hist[c | 32] + hist[c & ~32] : hist[c]);
  let best = { fp: 0, rate: Infinity };
  for (let o = 0; o === 0 || o + FP <= f.needle.length; o++) {
    let rate = 1;
    // +1: a byte absent from the sample is rare, not impossible.
    for (let j = 0; j < FP && o + j < f.needle.length; j++) rate *= (count(f.needle[o + j]) + 1) / (total + 1);
    if (rate < best.rate) best = { fp: o, rate };
  }
  return best;
}

/** Verification cost per MiB of candidates at `rate` per byte, with `needles` needles to check each. */
function simdCost(rate: number, needles: number): number {
  return rate * MIB * (SIMD_COST.candidate + SIMD_COST.needle * needles);
}

/** The finder's cost per MiB: needles.ts counts a pass per sample (of any size) and the rest per sample bytes. */
function indexOfCost(f: Finder, total: number): number {
  const passes = f.anchors.length;
  return passes * SIMD_COST.indexOf + ((f.cost - passes * COST.pass) * MIB) / total;
}

/** Spreads needles over the buckets, each where it adds the least estimated verification cost. */
function assignBuckets(needles: Array<SimdNeedle & { rate: number }>, hist: Uint32Array, total: number) {
  const sets = Array.from({ length: BUCKETS }, emptySets);
  const buckets: SimdNeedle[][] = Array.from({ length: BUCKETS }, () => []);
  const cost = new Array<number>(BUCKETS).fill(0);
  // The most frequent fingerprints first, while there are still empty buckets for them.
  for (const n of [...needles].sort((a, b) => b.rate - a.rate)) {
    let best = { b: 0, delta: Infinity, sets: sets[0], cost: 0 };
    for (let b = 0; b < BUCKETS; b++) {
      const s = { lo: [...sets[b].lo], hi: [...sets[b].hi] };
      addFingerprint(s, n);
      const c = simdCost(passRate(s, hist, total), buckets[b].length + 1);
      if (c - cost[b] < best.delta) best = { b, delta: c - cost[b], sets: s, cost: c };
    }
    sets[best.b] = best.sets;
    cost[best.b] = best.cost;
    buckets[best.b].push({ f: n.f, fp: n.fp });
  }
  return { plan: { head: memoryHead(sets, buckets), buckets }, cost: cost.reduce((a, b) => a + b, 0) };
}

/** The wasm memory from 0 up to the output area, per the layout in multifind.wat. */
function memoryHead(sets: NibbleSets[], buckets: SimdNeedle[][]): Uint8Array {
  const needles = buckets.flat();
  const bytesAt = RECORDS + 16 * needles.length;
  const size = bytesAt + needles.reduce((a, n) => a + n.f.needle.length, 0);
  const head = new Uint8Array(Math.ceil(size / 16) * 16);
  const i32 = new Int32Array(head.buffer);
  for (let b = 0; b < BUCKETS; b++) {
    for (let j = 0; j < FP; j++) {
      for (let nib = 0; nib < 16; nib++) {
        if (sets[b].lo[j] & (1 << nib)) head[32 * j + nib] |= 1 << b;
        if (sets[b].hi[j] & (1 << nib)) head[32 * j + 16 + nib] |= 1 << b;
      }
    }
  }
  let rec = RECORDS;
  let bytes = bytesAt;
  for (let b = 0; b < BUCKETS; b++) {
    i32[(DIR >> 2) + 2 * b] = rec;
    for (const n of buckets[b]) {
      const needle = n.f.needle;
      i32.set([n.fp, needle.length, bytes, n.f.insensitive ? 1 : 0], rec >> 2);
      for (let k = 0; k < needle.length; k++) {
        const c = needle[k];
        head[bytes + k] = n.f.insensitive && c >= 65 && c <= 90 ? c | 32 : c;
      }
      bytes += needle.length;
      rec += 16;
    }
    i32[(DIR >> 2) + 2 * b + 1] = rec;
  }
  return head;
}

export interface PlanOptions {
  /** 'simd': every eligible needle in the SIMD pass; 'single': none (tests); 'auto' (default): by the cost model. */
  mode?: 'auto' | 'simd' | 'single';
}

/**
 * Plans the search of `specs` for a file whose byte counts are `hist`: needles whose own indexOf pass is cheaper
 * than their share of the SIMD pass stay single, the rest share one SIMD pass (when it beats searching them apart).
 */
export function planMultiFinder(specs: NeedleSpec[], hist: Uint32Array, opts: PlanOptions = {}): MultiFinder {
  const mode = opts.mode ?? 'auto';
  const finders = specs.map((s) => planFinder(s, hist));
  const total = hist.reduce((a, b) => a + b, 0) || 1;
  // The SIMD verifier skips the rest of a line after a match, so a needle with a line feed stays single.
  const eligible = (f: Finder) => f.needle.length > 0 && !f.needle.includes(NL);
  if (mode === 'single' || instance() === null) return { single: finders, simd: null };
  const single = finders.filter((f) => !eligible(f));
  const cands = finders.filter(eligible).map((f) => ({ f, apart: indexOfCost(f, total), ...fingerprint(f, hist, total) }));
  if (mode === 'simd') return cands.length ? { single, simd: assignBuckets(cands, hist, total).plan } : { single, simd: null };

  // Move to indexOf the needles that gain most from it, as long as that lowers the total estimated cost.
  const own = (c: (typeof cands)[number]) => simdCost(c.rate, 1);
  cands.sort((a, b) => a.apart - own(a) - (b.apart - own(b)));
  let best = { k: 0, cost: Infinity };
  let apart = 0;
  let shared = SIMD_COST.pass + cands.reduce((a, c) => a + own(c), 0);
  for (let k = 0; k <= cands.length; k++) {
    const cost = apart + (k < cands.length ? shared : 0);
    if (cost < best.cost) best = { k, cost };
    if (k < cands.length) {
      apart += cands[k].apart;
      shared -= own(cands[k]);
    }
  }
  const simdSet = cands.slice(best.k);
  single.push(...cands.slice(0, best.k).map((c) => c.f));
  if (simdSet.length === 0) return { single, simd: null };
  const { plan, cost } = assignBuckets(simdSet, hist, total);
  // Bucket sharing costs more than each needle alone: check the estimate again with the real tables.
  if (SIMD_COST.pass + cost > simdSet.reduce((a, c) => a + c.apart, 0)) return { single: finders, simd: null };
  return { single, simd: plan };
}

// ---------------------------------------------------------------------------------------------------------------
// Searching

let views: { buffer: ArrayBuffer; u8: Uint8Array; i32: Int32Array } | null = null;

function memoryFor(w: WasmExports, need: number) {
  const have = w.memory.buffer.byteLength;
  if (need > have) w.memory.grow(Math.ceil((need - have) / 65536));
  if (views === null || views.buffer !== w.memory.buffer) {
    const buffer = w.memory.buffer;
    views = { buffer, u8: new Uint8Array(buffer), i32: new Int32Array(buffer) };
  }
  return views;
}

/** Adds to `out` the start offset of every line of `buf` that contains one of the needles (duplicates possible). */
export function collectLines(mf: MultiFinder, buf: Buffer, out: number[]): void {
  for (const f of mf.single) collectNeedleLines(buf, f, out);
  if (mf.simd !== null && buf.length > 0) simdLines(mf.simd, buf, out);
}

function simdLines(plan: SimdPlan, buf: Buffer, out: number[]): void {
  const w = instance()!;
  const len = buf.length;
  const outAt = plan.head.length;
  const base = outAt + OUT_BYTES;
  const end = base + len;
  // Grow once for the usual 4 MiB chunk; a longer region (a carried-over long line) grows it further.
  const { u8, i32 } = memoryFor(w, base + Math.max(len, 4 * 1024 * 1024) + PAD);
  u8.set(plan.head, 0);
  u8.set(buf, base);
  u8.fill(0, end, end + PAD);
  u8[end] = NL;
  let p = base;
  while (p < end) {
    const outEnd = w.scan(p, base, end, outAt, base);
    for (let e = outAt >> 2; e < outEnd >> 2; e++) {
      const at = i32[e] - base;
      out.push(at === 0 ? 0 : buf.lastIndexOf(NL, at - 1) + 1);
    }
    p = i32[RESUME >> 2];
  }
}
