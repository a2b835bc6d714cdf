// Single-pass multi-needle line finder: a Teddy-style WebAssembly SIMD scan (multifind.wat) finds the candidate
// positions of all needles at once and verifies them exactly; this side plans the fingerprints and buckets from a
// sample of the file, lays out the wasm memory and turns matches into line starts. Needles that indexOf finds
// cheaper on its own (an anchor whose first byte is rare in the file runs at memchr speed) stay on the per-needle
// path of needles.ts, and so does everything when WebAssembly SIMD is unavailable.
//
// Planning measures rather than guesses: on ~16K positions of the sample, kept as one bitset per (fingerprint byte,
// nibble), it counts how often each needle window occurs (to pick rare fingerprints: bytes that are each rare may
// still occur together on every line, like `y>;` of `<empty>;`) and how many positions a bucket's nibble tables
// would pass with a needle added (to group needles whose nibbles combine into few false candidates). It plans 8 and
// 16 buckets (scan8 and scan16: twice the table lookups) and keeps the cheaper by the cost model.
import { MULTIFIND_RELAXED_WASM_BASE64, MULTIFIND_WASM_BASE64 } from './multifind-wasm.js';
import { byteHistogram, collectNeedleLines, COST, isLetter, planFinder, type Finder, type NeedleSpec } from './needles.js';

const NL = 10;
/** Fingerprint bytes per needle (fixed by multifind.wat). */
const FP = 3;
type Kernel = 8 | 16;

/**
 * Cost model, in ns per MiB of text (measured on bench/multifind.micro.mjs): one SIMD pass (copy into wasm memory +
 * scan) costs `pass` (by the number of buckets), each candidate position `candidate` plus `needle` per needle
 * verified; one indexOf pass per anchor variant costs `indexOf` (memchr over a rare byte), plus the stops and
 * checks that needles.ts estimates.
 */
const SIMD_COST = { pass: { 8: 200_000, 16: 350_000 }, candidate: 25, needle: 4, indexOf: 25_000 };
const MIB = 1024 * 1024;

// Wasm memory layout (see multifind.wat): tables at 0 and 96, the resume position at 256, bucket directory at 320,
// needle records at 448; the output area and the text follow the needle bytes.
const TABLES_B = 96;
const RESUME = 256;
/** Where scan8/scan16 keep the line feeds before the resume position. */
const NEWLINES = 264;
/** Where `field` puts the end of the field it found, and whether the field is plain. */
const FIELD_END = 268;
const FIELD_PLAIN = 272;
/** Output of scan8/scan16 per matching line: its start, its end (line feed) and the line feeds before it. */
const MATCH_BYTES = 12;
const DIR = 320;
const RECORDS = 448;
const RECORD = 32;
const OUT_BYTES = 64 * 1024;
/** Readable bytes the scan may touch past the text (the first one is a line feed sentinel). */
const PAD = 64;

/** Bytes at the start of the first buffer that collectLines plans from when planMultiFinder got no sample. */
const SAMPLE_BYTES = 1024 * 1024;
/** The planner's statistics: this many positions, in STAT_SLICES slices spread over the sample. */
const STAT_POSITIONS = 16 * 1024;
const STAT_SLICES = 4;
/** Rounds of moving needles between buckets after the greedy assignment, and the least gain (ns/MiB) to move. */
const MOVE_ROUNDS = 2;
const MIN_GAIN = 1000;

interface SimdNeedle {
  f: Pick<Finder, 'needle' | 'insensitive'>;
  /** Where the fingerprint starts inside the needle. */
  fp: number;
}

interface SimdPlan {
  /** The start of the wasm memory: tables, bucket directory, needle records and bytes. */
  head: Uint8Array;
  /** 8 (scan8) or 16 (scan16) buckets. */
  buckets: SimdNeedle[][];
}

interface Plan {
  /** Needles searched one at a time with collectNeedleLines. */
  single: Finder[];
  /** The needles of the SIMD pass, or null when there is none. */
  simd: SimdPlan | null;
}

export type MultiFinder = Readonly<Plan>;

/**
 * A plan made when first needed: from the sample given to planMultiFinder, else from the start of the first
 * (non-empty) buffer that collectLines searches, else (when read before any search) from the histogram alone.
 */
class LazyPlan implements MultiFinder {
  private plan: Plan | null = null;
  /**
   * The tables the SIMD pass scans with, when a dispatcher shares this plan (LineNeedles.fromFinder): its own, whose
   * nibble tables are the plan's and whose records add the dispatcher's longer needles (each holds one of the plan's),
   * so the same lines are found, and the dispatcher's pass runs on each line where this pass copied it.
   */
  scanHead: Uint8Array | null = null;

  constructor(
    /** Where collectLines runs the SIMD pass. */
    readonly kernel: SearchKernel,
    readonly finders: Finder[],
    private readonly hist: Uint32Array,
    private readonly opts: PlanOptions,
  ) {
    if (opts.plan) this.plan = fromData(finders, opts.plan);
    else if (opts.sample) this.resolve(opts.sample);
  }

  resolve(sample: Uint8Array | null): Plan {
    this.plan ??= plan(this.finders, this.hist, sample ? Stats.of(sample) : Stats.synthetic(this.hist), this.opts);
    return this.plan;
  }

  /** The plan once made (by a search), else null. */
  get planned(): Plan | null {
    return this.plan;
  }

  get single(): Finder[] {
    return this.resolve(null).single;
  }

  get simd(): SimdPlan | null {
    return this.resolve(null).simd;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The wasm module: a SearchKernel instance for collectLines (one per text scanner, shared by its formats' finders:
// scans through it are synchronous and never interleave), and one per LineNeedles (the dispatcher's tables stay in
// its memory).

type ScanFn = (p: number, base: number, end: number, out: number, outEnd: number) => number;
type AllFn = (base: number, end: number, out: number, outEnd: number, sep: number) => number;
interface WasmExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  scan8: ScanFn;
  scan16: ScanFn;
  all16: AllFn;
  count: (from: number, to: number, byte: number) => number;
  indexOf: (from: number, to: number, byte: number) => number;
  pairs: (base: number, end: number, out: number) => number;
  field: (from: number, to: number, sep: number, k: number) => number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/** The compiled module (null: no WebAssembly SIMD here), compiled once per thread: a cache of a constant. */
let wasmModule: object | null | undefined;

function wasmApi(): WasmApi | undefined {
  // Typed locally: the project's lib settings do not include the DOM's WebAssembly declarations.
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
}

/**
 * The relaxed build where the engine accepts it (Node 22+, or Node 20 with the flag the CLI sets: cli/wasm-flags.ts):
 * its table lookups are one x64 instruction instead of three (scripts/build-wasm.mjs); else the plain one.
 */
function compiledModule(): object | null {
  if (wasmModule === undefined) {
    wasmModule = null;
    try {
      const api = wasmApi();
      for (const b64 of [MULTIFIND_RELAXED_WASM_BASE64, MULTIFIND_WASM_BASE64]) {
        const bytes = Buffer.from(b64, 'base64');
        if (api && api.validate(bytes)) {
          wasmModule = new api.Module(bytes);
          break;
        }
      }
    } catch {
      wasmModule = null;
    }
  }
  return wasmModule;
}

/** A new instance of the module (its own memory), or null when this runtime has no WebAssembly SIMD. */
function newInstance(): WasmExports | null {
  const mod = compiledModule();
  try {
    return mod ? (new (wasmApi()!.Instance)(mod, {}).exports as WasmExports) : null;
  } catch {
    return null;
  }
}

/** Whether the SIMD pass can run here. */
export function simdAvailable(): boolean {
  return compiledModule() !== null;
}

/**
 * One wasm instance that collectLines copies text into and scans: finders that share it (the formats of one text
 * scanner) share its memory, so each pass bumps a generation that tells an older ScannedText its copy is gone.
 */
export class SearchKernel {
  /** Bumped by every SIMD pass: a ScannedText of an older one no longer holds its text. */
  generation = 0;
  /** The tables last written at address 0 (a finder's or a dispatcher's head), or null. */
  head: Uint8Array | null = null;
  /** Views of the memory as of the last memoryFor (the memory grows only there). */
  views: { buffer: ArrayBuffer; u8: Uint8Array; i32: Int32Array } | null = null;
  /** The lines of the last SIMD pass (ScannedText.lines), reused from pass to pass. */
  lines: Int32Array = new Int32Array(3 * 1024);

  private constructor(readonly w: WasmExports) {}

  /** A kernel with its own instance, or null when this runtime has no WebAssembly SIMD. */
  static create(): SearchKernel | null {
    const w = newInstance();
    return w === null ? null : new SearchKernel(w);
  }

  /** Views of the memory, grown to at least `need` bytes. */
  memoryFor(need: number): { u8: Uint8Array; i32: Int32Array } {
    const w = this.w;
    const have = w.memory.buffer.byteLength;
    if (need > have) w.memory.grow(Math.ceil((need - have) / 65536));
    if (this.views === null || this.views.buffer !== w.memory.buffer) {
      const buffer = w.memory.buffer;
      this.views = { buffer, u8: new Uint8Array(buffer), i32: new Int32Array(buffer) };
    }
    return this.views;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Sample statistics

const fold = (c: number) => (c >= 65 && c <= 90 ? c | 32 : c);
const gramKey = (a: number, b: number, c: number) => Math.imul((fold(a) << 16) | (fold(b) << 8) | fold(c), 0x9e3779b1) >>> 16;

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) as number;
}

/** `s` with A-Z folded to a-z only (as the SIMD pass folds; toLowerCase would fold latin1 letters too). */
const asciiLower = (s: string): string => s.replace(/[A-Z]+/g, (c) => c.toLowerCase());

/** Positions of a text sample as bitsets, to count exactly how many of them a set of nibble tables passes. */
class Stats {
  readonly n: number;
  readonly words: number;
  /** bits[32 j + v]: the positions i whose byte i + j has low nibble v (v < 16), or high nibble v - 16. */
  readonly bits: Uint32Array[];
  readonly zero: Uint32Array;
  readonly ones: Uint32Array;
  /** Occurrences of each (ASCII-folded) trigram, by a 16-bit hash: an upper bound. */
  readonly grams = new Uint32Array(65536);

  constructor(readonly text: Uint8Array) {
    const n = (this.n = text.length);
    const words = (this.words = Math.ceil(n / 32));
    this.bits = Array.from({ length: 32 * FP }, () => new Uint32Array(words));
    this.zero = new Uint32Array(words);
    this.ones = new Uint32Array(words).fill(~0);
    if (n % 32) this.ones[words - 1] = (1 << n % 32) - 1;
    for (let j = 0; j < FP; j++) {
      const lo = this.bits.slice(32 * j, 32 * j + 16);
      const hi = this.bits.slice(32 * j + 16, 32 * j + 32);
      for (let i = 0; i + j < n; i++) {
        const c = text[i + j];
        const bit = 1 << (i & 31);
        lo[c & 15][i >> 5] |= bit;
        hi[c >> 4][i >> 5] |= bit;
      }
    }
    for (let i = 0; i + 2 < n; i++) this.grams[gramKey(text[i], text[i + 1], text[i + 2])]++;
  }

  /** Of a sample of up to STAT_POSITIONS bytes: the whole, or slices spread over it. */
  static of(sample: Uint8Array): Stats {
    if (sample.length <= STAT_POSITIONS) return new Stats(sample);
    const slice = STAT_POSITIONS / STAT_SLICES;
    const text = new Uint8Array(STAT_POSITIONS);
    for (let k = 0; k < STAT_SLICES; k++) {
      const from = Math.floor((k * (sample.length - slice)) / (STAT_SLICES - 1));
      text.set(sample.subarray(from, from + slice), k * slice);
    }
    return new Stats(text);
  }

  /** A stand-in sample when there is only the histogram: bytes drawn from it independently (seeded). */
  static synthetic(hist: Uint32Array): Stats {
    const total = hist.reduce((a, b) => a + b, 0);
    const text = new Uint8Array(Math.min(STAT_POSITIONS, total));
    const cdf = new Float64Array(256);
    for (let c = 0, acc = 0; c < 256; c++) cdf[c] = acc += hist[c] / (total || 1);
    let seed = 20210302;
    for (let i = 0; i < text.length; i++) {
      seed = (seed + 0x6d2b79f5) >>> 0;
      let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      let c = 0;
      while (c < 255 && cdf[c] <= u) c++;
      text[i] = c;
    }
    return new Stats(text);
  }
}

/**
 * Per fingerprint byte j: the nibble sets (bit n = nibble n) a bucket or needle accepts, and the positions of the
 * sample whose byte i + j is in them (as ORs of Stats.bits; `ones` for a byte that accepts anything).
 */
interface Accept {
  lo: number[];
  hi: number[];
  loBits: Uint32Array[];
  hiBits: Uint32Array[];
}

function emptyAccept(st: Stats): Accept {
  return { lo: new Array<number>(FP).fill(0), hi: new Array<number>(FP).fill(0), loBits: new Array(FP).fill(st.zero), hiBits: new Array(FP).fill(st.zero) };
}

/** A needle's fingerprint as an Accept (both cases of an insensitive letter; anything past its end). */
function needleAccept(st: Stats, n: SimdNeedle): Accept {
  const a = emptyAccept(st);
  const bytes = n.f.needle;
  for (let j = 0; j < FP; j++) {
    if (n.fp + j >= bytes.length) {
      a.lo[j] = a.hi[j] = 0xffff;
      a.loBits[j] = a.hiBits[j] = st.ones;
      continue;
    }
    const c = bytes[n.fp + j];
    a.lo[j] = 1 << (c & 15);
    a.hi[j] = 1 << (c >> 4);
    a.loBits[j] = st.bits[32 * j + (c & 15)];
    a.hiBits[j] = st.bits[32 * j + 16 + (c >> 4)];
    if (n.f.insensitive && isLetter(c)) {
      a.hi[j] |= 1 << ((c ^ 32) >> 4);
      const other = st.bits[32 * j + 16 + ((c ^ 32) >> 4)];
      const both = new Uint32Array(st.words);
      for (let w = 0; w < st.words; w++) both[w] = a.hiBits[j][w] | other[w];
      a.hiBits[j] = both;
    }
  }
  return a;
}

/**
 * How many sample positions pass `a` with `b` added (both as nibble tables of one bucket). Planning runs once per
 * format and thread, mostly before this is optimised: index reads, not destructuring (an iterator per array).
 */
function passCount(st: Stats, a: Accept, b: Accept): number {
  const al = a.loBits;
  const ah = a.hiBits;
  const bl = b.loBits;
  const bh = b.hiBits;
  const l0 = al[0], l1 = al[1], l2 = al[2], h0 = ah[0], h1 = ah[1], h2 = ah[2];
  const m0 = bl[0], m1 = bl[1], m2 = bl[2], g0 = bh[0], g1 = bh[1], g2 = bh[2];
  let n = 0;
  for (let w = 0; w < st.words; w++) {
    const t = (l0[w] | m0[w]) & (h0[w] | g0[w]) & (l1[w] | m1[w]) & (h1[w] | g1[w]) & (l2[w] | m2[w]) & (h2[w] | g2[w]);
    if (t !== 0) n += popcount(t);
  }
  return n;
}

/** Adds `b` to the bucket `a` (in place; the bitsets of `a` are its own once it has a needle). */
function addAccept(st: Stats, a: Accept, b: Accept): void {
  for (let j = 0; j < FP; j++) {
    addNibbles(st, a.lo, a.loBits, j, b.lo[j], b.loBits[j]);
    addNibbles(st, a.hi, a.hiBits, j, b.hi[j], b.hiBits[j]);
  }
}

/** addAccept for one nibble table of fingerprint byte j: `add` (nibble set) with `addBits` (its positions). */
function addNibbles(st: Stats, sets: number[], bits: Uint32Array[], j: number, add: number, addBits: Uint32Array): void {
  if ((sets[j] | add) === sets[j]) return;
  sets[j] |= add;
  if (sets[j] === 0xffff || addBits === st.ones) {
    bits[j] = st.ones;
    return;
  }
  const own = bits[j] === st.zero ? new Uint32Array(st.words) : bits[j];
  for (let w = 0; w < st.words; w++) own[w] |= addBits[w];
  bits[j] = own;
}

// ---------------------------------------------------------------------------------------------------------------
// Planning

/** The needle's FP-byte window that occurs least in the sample (then: whose bytes are rarest in the histogram). */
function fingerprint(f: Finder, st: Stats, hist: Uint32Array, total: number): number {
  const count = (c: number) => (f.insensitive && isLetter(c) ? hist[c | 32] + hist[c & ~32] : hist[c]);
  let best = { fp: 0, score: Infinity };
  for (let o = 0; o === 0 || o + FP <= f.needle.length; o++) {
    // +1: a byte absent from the histogram is rare, not impossible.
    let rate = 1;
    for (let j = 0; j < FP && o + j < f.needle.length; j++) rate *= (count(f.needle[o + j]) + 1) / (total + 1);
    const seen = o + FP <= f.needle.length ? st.grams[gramKey(f.needle[o], f.needle[o + 1], f.needle[o + 2])] : 0;
    const score = seen + rate * st.n;
    if (score < best.score) best = { fp: o, score };
  }
  return best.fp;
}

/** Verification cost per MiB of text for `passed` candidates among `n` positions, with `needles` needles each. */
function verifyCost(passed: number, n: number, needles: number): number {
  return (passed / Math.max(n, 1)) * MIB * (SIMD_COST.candidate + SIMD_COST.needle * needles);
}

/** The finder's cost per MiB: needles.ts counts a pass per sample (of any size) and the rest per sample bytes. */
function indexOfCost(f: Finder, total: number): number {
  const passes = f.anchors.length;
  return passes * SIMD_COST.indexOf + ((f.cost - passes * COST.pass) * MIB) / total;
}

interface Candidate extends SimdNeedle {
  f: Finder;
  /** Its own indexOf search, ns per MiB. */
  apart: number;
  /** Its fingerprint in the sample's nibble bitsets, and how many positions pass it alone. */
  accept: Accept;
  passed: number;
}

/**
 * Spreads needles over `kernel` buckets, each where it adds the least estimated verification cost; then moves
 * needles to other buckets while that lowers the estimate (the greedy order leaves some badly placed).
 */
function assignBuckets(cands: Candidate[], st: Stats, kernel: Kernel): SimdNeedle[][] {
  const sets = Array.from({ length: kernel }, () => emptyAccept(st));
  const buckets: Candidate[][] = Array.from({ length: kernel }, () => []);
  const cost = new Array<number>(kernel).fill(0);
  /** The cost of bucket b with n added. */
  const withNeedle = (b: number, n: Candidate) =>
    verifyCost(buckets[b].length === 0 ? n.passed : passCount(st, sets[b], n.accept), st.n, buckets[b].length + 1);
  // Needles shorter than the fingerprint first (a bucket with one accepts anything at the missing bytes: they had
  // better share a bucket), then the most frequent fingerprints, while there are still empty buckets for them.
  const short = (n: Candidate) => (n.f.needle.length < FP ? 1 : 0);
  for (const n of [...cands].sort((a, b) => short(b) - short(a) || b.passed - a.passed)) {
    let best = { b: 0, delta: Infinity, cost: 0 };
    for (let b = 0; b < kernel; b++) {
      const c = withNeedle(b, n);
      if (c - cost[b] < best.delta) best = { b, delta: c - cost[b], cost: c };
      // Every empty bucket is the same.
      if (buckets[b].length === 0) break;
    }
    addAccept(st, sets[best.b], n.accept);
    cost[best.b] = best.cost;
    buckets[best.b].push(n);
  }
  for (let round = 0; round < MOVE_ROUNDS; round++) {
    let moved = false;
    // Only from the buckets that cost more than their share: the others have little to gain.
    const share = cost.reduce((x, y) => x + y, 0) / kernel;
    for (let a = 0; a < kernel; a++) {
      if (cost[a] <= share) continue;
      for (const n of [...buckets[a]]) {
        const rest = buckets[a].filter((m) => m !== n);
        const restSet = emptyAccept(st);
        for (const m of rest) addAccept(st, restSet, m.accept);
        const restCost = rest.length === 0 ? 0 : verifyCost(passCount(st, restSet, emptyAccept(st)), st.n, rest.length);
        let best = { b: a, delta: -MIN_GAIN, cost: 0 };
        let triedEmpty = false;
        for (let b = 0; b < kernel; b++) {
          if (b === a || (buckets[b].length === 0 && triedEmpty)) continue;
          triedEmpty ||= buckets[b].length === 0;
          const c = withNeedle(b, n);
          const delta = restCost - cost[a] + c - cost[b];
          if (delta < best.delta) best = { b, delta, cost: c };
        }
        if (best.b === a) continue;
        buckets[a] = rest;
        sets[a] = restSet;
        cost[a] = restCost;
        addAccept(st, sets[best.b], n.accept);
        cost[best.b] = best.cost;
        buckets[best.b].push(n);
        moved = true;
      }
    }
    if (!moved) break;
  }
  return buckets.map((b) => b.map((n) => ({ f: n.f, fp: n.fp })));
}

/** Per fingerprint byte: the nibble sets of a bucket (both cases of an insensitive letter; anything past the end). */
function nibbleSets(bucket: SimdNeedle[]): { lo: number[]; hi: number[] } {
  const s = { lo: new Array<number>(FP).fill(0), hi: new Array<number>(FP).fill(0) };
  for (const n of bucket) {
    const bytes = n.f.needle;
    for (let j = 0; j < FP; j++) {
      if (n.fp + j >= bytes.length) {
        s.lo[j] = s.hi[j] = 0xffff;
        continue;
      }
      const c = bytes[n.fp + j];
      s.lo[j] |= 1 << (c & 15);
      s.hi[j] |= 1 << (c >> 4);
      if (n.f.insensitive && isLetter(c)) s.hi[j] |= 1 << ((c ^ 32) >> 4);
    }
  }
  return s;
}

/** The wasm memory from 0 up to the output area, per the layout in multifind.wat. */
function memoryHead(buckets: SimdNeedle[][]): Uint8Array {
  const needles = buckets.flat();
  const bytesAt = RECORDS + RECORD * needles.length;
  const size = bytesAt + needles.reduce((a, n) => a + n.f.needle.length, 0);
  const head = new Uint8Array(Math.ceil(size / 16) * 16);
  const i32 = new Int32Array(head.buffer);
  buckets.forEach((bucket, b) => {
    const s = nibbleSets(bucket);
    const at = b < 8 ? 0 : TABLES_B;
    for (let j = 0; j < FP; j++) {
      for (let nib = 0; nib < 16; nib++) {
        if (s.lo[j] & (1 << nib)) head[at + 32 * j + nib] |= 1 << b % 8;
        if (s.hi[j] & (1 << nib)) head[at + 32 * j + 16 + nib] |= 1 << b % 8;
      }
    }
  });
  let rec = RECORDS;
  let bytes = bytesAt;
  buckets.forEach((bucket, b) => {
    i32[(DIR >> 2) + 2 * b] = rec;
    for (const n of bucket) {
      const needle = n.f.needle;
      const len = needle.length;
      // The 4-byte check: a window that covers the fingerprint (or the whole of a shorter needle).
      const pre = len >= 4 ? Math.min(n.fp, len - 4) : 0;
      let foldBits = 0;
      let care = 0;
      let value = 0;
      for (let k = 0; k < Math.min(4, len); k++) {
        const c = needle[pre + k];
        const letter = n.f.insensitive && isLetter(c);
        foldBits |= (letter ? 32 : 0) << (8 * k);
        care |= 0xff << (8 * k);
        value |= (letter ? c | 32 : c) << (8 * k);
      }
      i32.set([n.fp, len, bytes, n.f.insensitive ? 1 : 0, pre, foldBits, care, value], rec >> 2);
      for (let k = 0; k < len; k++) {
        const c = needle[k];
        head[bytes + k] = n.f.insensitive && c >= 65 && c <= 90 ? c | 32 : c;
      }
      bytes += len;
      rec += RECORD;
    }
    i32[(DIR >> 2) + 2 * b + 1] = rec;
  });
  return head;
}

/** The estimated cost per MiB of a plan: its pass, and its candidates and needle checks counted on the sample. */
function planCost(buckets: SimdNeedle[][], st: Stats): number {
  const sets = buckets.map(nibbleSets);
  // Per fingerprint byte and byte value: the buckets (bit b) that accept it.
  const accepts = Array.from({ length: FP }, () => new Uint16Array(256));
  sets.forEach((s, b) => {
    for (let j = 0; j < FP; j++) for (let c = 0; c < 256; c++) if ((s.lo[j] >> (c & 15)) & (s.hi[j] >> (c >> 4)) & 1) accepts[j][c] |= 1 << b;
  });
  const sizes = buckets.map((b) => b.length);
  const t = st.text;
  let candidates = 0;
  let needles = 0;
  for (let i = 0; i + FP <= t.length; i++) {
    let m = accepts[0][t[i]] & accepts[1][t[i + 1]] & accepts[2][t[i + 2]];
    if (m === 0) continue;
    candidates++;
    for (; m !== 0; m &= m - 1) needles += sizes[31 - Math.clz32(m & -m)];
  }
  const per = MIB / Math.max(st.n, 1);
  return SIMD_COST.pass[buckets.length as Kernel] + per * (candidates * SIMD_COST.candidate + needles * SIMD_COST.needle);
}

/** The cheaper of the 8- and 16-bucket plans of `cands` (`kernel`: only that one), and its estimated cost. */
function planBuckets(cands: Candidate[], st: Stats, kernel?: Kernel): { plan: SimdPlan; cost: number } {
  // Up to 8 needles: each has a bucket of its own in scan8; past 40, 8 buckets are too full to compete.
  const kernels: Kernel[] = kernel ? [kernel] : cands.length <= 8 ? [8] : cands.length > 40 ? [16] : [8, 16];
  let best: { buckets: SimdNeedle[][]; cost: number } | null = null;
  for (const k of kernels) {
    const buckets = assignBuckets(cands, st, k);
    const cost = planCost(buckets, st);
    if (best === null || cost < best.cost) best = { buckets, cost };
  }
  return { plan: { head: memoryHead(best!.buckets), buckets: best!.buckets }, cost: best!.cost };
}

/**
 * A plan as plain data, for another thread that searches text of the same kind for the same needles (in the same
 * order): the needles searched apart, and the SIMD pass's buckets of [needle, fingerprint offset], by index.
 */
export interface PlanData {
  needles: number;
  single: number[];
  buckets: Array<Array<[number, number]>>;
}

/** The plan of `mf` as data, or null when it has none yet (or searches with no SIMD pass at all). */
export function planData(mf: MultiFinder): PlanData | null {
  if (!(mf instanceof LazyPlan) || mf.planned === null) return null;
  const p = mf.planned;
  const index = new Map<object, number>(mf.finders.map((f, i) => [f, i]));
  return {
    needles: mf.finders.length,
    single: p.single.map((f) => index.get(f)!),
    buckets: p.simd === null ? [] : p.simd.buckets.map((b) => b.map((n): [number, number] => [index.get(n.f)!, n.fp])),
  };
}

/** The plan that `data` describes, over this thread's finders of the same needles. */
function fromData(finders: Finder[], data: PlanData): Plan {
  if (data.needles !== finders.length) throw new Error(`a shared plan of ${data.needles} needles for ${finders.length}`);
  const buckets = data.buckets.map((b) => b.map(([i, fp]) => ({ f: finders[i], fp })));
  return { single: data.single.map((i) => finders[i]), simd: buckets.length === 0 ? null : { head: memoryHead(buckets), buckets } };
}

export interface PlanOptions {
  /** 'simd': every eligible needle in the SIMD pass; 'single': none (tests); 'auto' (default): by the cost model. */
  mode?: 'auto' | 'simd' | 'single';
  /** The SIMD pass's buckets (tests); by default the cheaper by the cost model. */
  buckets?: Kernel;
  /**
   * Text like the text to search, to plan the fingerprints and buckets from. Without it, the plan comes from the
   * histogram alone, and collectLines replans from the start of its first (non-empty) buffer.
   */
  sample?: Uint8Array;
  /** The wasm instance to scan in, shared by the finders of one text scanner (default: one of its own). */
  kernel?: SearchKernel | null;
  /** The plan another thread made (planData), taken as it is: no planning here. */
  plan?: PlanData;
}

/**
 * Plans the search of `specs` for a file whose byte counts are `hist`: needles whose own indexOf pass is cheaper
 * than their share of the SIMD pass stay single, the rest share one SIMD pass (when it beats searching them apart).
 */
export function planMultiFinder(specs: NeedleSpec[], hist: Uint32Array, opts: PlanOptions = {}): MultiFinder {
  const finders = specs.map((s) => planFinder(s, hist));
  const kernel = (opts.mode ?? 'auto') === 'single' ? null : opts.kernel === undefined ? SearchKernel.create() : opts.kernel;
  if (kernel === null) return { single: finders, simd: null };
  return new LazyPlan(kernel, finders, hist, opts);
}

/** The SIMD verifier skips the rest of a line after a match, so a needle with a line feed stays single. */
const eligible = (f: Finder) => f.needle.length > 0 && !f.needle.includes(NL);

function candidate(f: Finder, st: Stats, hist: Uint32Array, total: number): Candidate {
  const fp = fingerprint(f, st, hist, total);
  const accept = needleAccept(st, { f, fp });
  return { f, fp, apart: indexOfCost(f, total), accept, passed: passCount(st, emptyAccept(st), accept) };
}

function plan(finders: Finder[], hist: Uint32Array, st: Stats, opts: PlanOptions): Plan {
  const total = hist.reduce((a, b) => a + b, 0) || 1;
  const single = finders.filter((f) => !eligible(f));
  const cands = finders.filter(eligible).map((f) => candidate(f, st, hist, total));
  if (opts.mode === 'simd') return cands.length ? { single, simd: planBuckets(cands, st, opts.buckets).plan } : { single, simd: null };

  // Move to indexOf the needles that gain most from it, as long as that lowers the total estimated cost.
  const own = (c: Candidate) => verifyCost(c.passed, st.n, 1);
  cands.sort((a, b) => a.apart - own(a) - (b.apart - own(b)));
  let best = { k: 0, cost: Infinity };
  let apart = 0;
  let shared = SIMD_COST.pass[8] + cands.reduce((a, c) => a + own(c), 0);
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
  const { plan, cost } = planBuckets(simdSet, st, opts.buckets);
  // Bucket sharing costs more than each needle alone: check the estimate again with the real tables.
  if (cost > simdSet.reduce((a, c) => a + c.apart, 0)) return { single: finders, simd: null };
  return { single, simd: plan };
}

// ---------------------------------------------------------------------------------------------------------------
// Searching

/** ScannedText.field: the line has fewer separators than asked. */
export const NO_SUCH_FIELD = -2;

/**
 * `buf` as copied into wasm memory by the last SIMD pass: counts and finds bytes in it (Buffer#indexOf per line
 * feed cost ~6% of a busy IIS scan, and per candidate line's end ~5% more). Valid until the next collectLines on
 * this thread; after that `count` and `indexOf` return -1.
 */
export interface ScannedText {
  /** The number of bytes equal to `byte` in `buf[from, to)`, or -1 when the copy is gone. */
  count(from: number, to: number, byte: number): number;
  /** The first position of `byte` in `buf[from, to)`, `to` when it has none, or -1 when the copy is gone. */
  indexOf(from: number, to: number, byte: number): number;
  /** Where `buf[from]` is in the kernel's memory (for LineNeedles.find), or -1 when the copy is gone. */
  address(from: number): number;
  /**
   * Where the field after the `k`-th `sep` (from 0) of the line `buf[from, to)` starts (then fieldEnd and fieldPlain
   * tell its end and whether it is plain: no byte >= 0x80, no `%`); NO_SUCH_FIELD when the line has fewer separators,
   * or -1 when the copy is gone.
   */
  field(from: number, to: number, sep: number, k: number): number;
  /** The end of the last field found (its separator, or the line's `to`). */
  fieldEnd(): number;
  /** Whether the last field found is plain. */
  fieldPlain(): boolean;
  /** The line feeds in the whole of `buf` (counted by the SIMD pass). */
  readonly newlines: number;
  /**
   * The lines the SIMD pass found (the ones it added to `out`), in text order: line k starts at `lines[3k]`, ends at
   * `lines[3k + 1]` (its line feed, or `buf.length`) and has `lines[3k + 2]` line feeds before it in `buf`. Found in
   * the block loop that finds the needles: no second pass over the text to number the lines. Valid until the next
   * collectLines on this thread (also when `count` already returns -1).
   */
  readonly lines: Int32Array;
  /** How many lines `lines` holds. */
  readonly found: number;
}

/**
 * Adds to `out` the start offset of every line of `buf` that contains one of the needles (duplicates possible).
 * Returns the wasm copy of `buf` when a SIMD pass made one, else null.
 */
export function collectLines(mf: MultiFinder, buf: Buffer, out: number[]): ScannedText | null {
  if (buf.length === 0) return null;
  if (!(mf instanceof LazyPlan)) {
    for (const f of mf.single) collectNeedleLines(buf, f, out);
    return null;
  }
  const p = mf.resolve(buf.subarray(0, SAMPLE_BYTES));
  for (const f of p.single) collectNeedleLines(buf, f, out);
  return p.simd === null ? null : simdLines(mf.kernel, p.simd.buckets.length, mf.scanHead ?? p.simd.head, buf, out);
}

function simdLines(kernel: SearchKernel, buckets: number, head: Uint8Array, buf: Buffer, out: number[]): ScannedText {
  const w = kernel.w;
  const scan = buckets === 16 ? w.scan16 : w.scan8;
  const len = buf.length;
  const outAt = head.length;
  const base = outAt + OUT_BYTES;
  const end = base + len;
  // Grown to the region: a text scanner's kernel reaches the usual 4 MiB chunk on its first one (a finder with a
  // kernel of its own, on small texts, stays small).
  const { u8, i32 } = kernel.memoryFor(base + len + PAD);
  u8.set(head, 0);
  kernel.head = head;
  u8.set(buf, base);
  u8.fill(0, end, end + PAD);
  u8[end] = NL;
  i32[NEWLINES >> 2] = 0;
  let lines = kernel.lines;
  let found = 0;
  let p = base;
  while (p < end) {
    // The last match starts below outEnd and ends inside the output area.
    const outEnd = scan(p, base, end, outAt, base - MATCH_BYTES + 4);
    const n = (outEnd - outAt) / MATCH_BYTES;
    if ((found + n) * 3 > lines.length) kernel.lines = lines = growInt32(lines, (found + n) * 3);
    // The kernel reports line starts and ends (a JS walk back per match cost ~3% of a busy IIS scan, the line's end
    // by indexOf ~5%) and the line feeds before each (a count pass per line ~5%).
    for (let e = outAt >> 2, k = found * 3; e < outEnd >> 2; e += 3, k += 3) {
      const start = i32[e] - base;
      out.push(start);
      lines[k] = start;
      lines[k + 1] = i32[e + 1] - base;
      lines[k + 2] = i32[e + 2];
    }
    found += n;
    p = i32[RESUME >> 2];
  }
  const newlines = i32[NEWLINES >> 2];
  const gen = ++kernel.generation;
  return {
    newlines,
    lines,
    found,
    count: (from, to, byte) => (gen === kernel.generation && from >= 0 && from <= to && to <= len ? w.count(base + from, base + to, byte) : -1),
    indexOf: (from, to, byte) => (gen === kernel.generation && from >= 0 && from <= to && to <= len ? w.indexOf(base + from, base + to, byte) - base : -1),
    address: (from) => (gen === kernel.generation && from >= 0 && from <= len ? base + from : -1),
    field: (from, to, sep, k) => {
      if (gen !== kernel.generation || from < 0 || from > to || to > len) return -1;
      const at = w.field(base + from, base + to, sep, k);
      return at < 0 ? NO_SUCH_FIELD : at - base;
    },
    // The views as of now: the memory may have grown since this pass (a dispatcher's first line).
    fieldEnd: () => kernel.views!.i32[FIELD_END >> 2] - base,
    fieldPlain: () => kernel.views!.i32[FIELD_PLAIN >> 2] === 1,
  };
}

/** A copy of `a` with room for at least `need` values (doubling). */
function growInt32(a: Int32Array, need: number): Int32Array {
  const b = new Int32Array(Math.max(need, 2 * a.length));
  b.set(a);
  return b;
}

// ---------------------------------------------------------------------------------------------------------------
// Every needle of one line (for the line dispatcher)

/** Bytes of all16's output (8 per occurrence): a line with more occurrences goes the dispatcher's JS way. */
const LINE_OUT = 16 * 1024;
/** The longest line LineNeedles takes (a longer one goes the dispatcher's JS way), so its memory stays small. */
const LINE_MAX = 64 * 1024;
/** Where all16 stores the separators of the whole line. */
const LINE_SEPS = 260;

/**
 * Finds every occurrence of a set of needles in one line, each with the number of field separators before it, by
 * all16 (a SIMD pass over the line, ~0.2 ns a byte) in a wasm instance of its own that keeps the tables. The
 * dispatcher's JS byte loop cost ~2 ns a byte, on every candidate line (a fifth of busy IIS traffic).
 */
export class LineNeedles {
  private u8: Uint8Array;
  private i32: Int32Array;
  private readonly outAt: number;
  private readonly base: number;

  private constructor(
    private readonly w: WasmExports,
    private readonly head: Uint8Array,
    /** Per needle record (in memory order): the index of its needle in the specs. */
    private readonly ids: Int32Array,
    /** The finder's kernel this pass shares (fromFinder), or null: an instance of its own, tables written once. */
    private readonly kernel: SearchKernel | null,
  ) {
    this.outAt = head.length;
    this.base = this.outAt + LINE_OUT;
    const need = this.base + LINE_MAX + PAD;
    if (kernel !== null) {
      ({ u8: this.u8, i32: this.i32 } = kernel.memoryFor(need));
      return;
    }
    w.memory.grow(Math.max(0, Math.ceil((need - w.memory.buffer.byteLength) / 65536)));
    this.u8 = new Uint8Array(w.memory.buffer);
    this.i32 = new Int32Array(w.memory.buffer);
    this.u8.set(head, 0);
  }

  /** Plans 16 buckets from `sample` (text like the lines to come); null without SIMD or for a needle it cannot take. */
  static plan(specs: readonly NeedleSpec[], sample: Uint8Array): LineNeedles | null {
    if (specs.length === 0 || specs.some((s) => s.text.length === 0 || s.text.includes('\n'))) return null;
    const w = newInstance();
    if (w === null) return null;
    const hist = byteHistogram(sample.subarray(0, SAMPLE_BYTES));
    const total = hist.reduce((a, b) => a + b, 0) || 1;
    const st = Stats.of(sample.subarray(0, SAMPLE_BYTES));
    const finders = specs.map((s) => planFinder(s, hist));
    const { plan } = planBuckets(finders.map((f) => candidate(f, st, hist, total)), st, 16);
    const index = new Map<object, number>(finders.map((f, i) => [f, i]));
    const ids = Int32Array.from(plan.buckets.flat(), (n) => index.get(n.f)!);
    return new LineNeedles(w, plan.head, ids, null);
  }

  /**
   * The SIMD pass a finder planned, for `specs` (text like the finder's, so its fingerprints and buckets serve),
   * without planning again: a cold plan cost 100-120 ms per format and worker. The finder keeps only the needles
   * that contain no other (needles.ts minimal); each spec goes into the bucket of a finder needle it contains, its
   * fingerprint on that needle's, so the bucket's nibble tables stay the same and every occurrence is still a
   * candidate. Null when the finder has no plan yet, searches a needle apart (indexOf), or a spec has no such needle.
   */
  static fromFinder(mf: MultiFinder, specs: readonly NeedleSpec[]): LineNeedles | null {
    if (!(mf instanceof LazyPlan)) return null;
    const p = mf.planned;
    if (p === null || p.simd === null || p.single.length > 0) return null;
    if (specs.length === 0 || specs.some((s) => s.text.length === 0 || s.text.includes('\n'))) return null;
    const buckets: SimdNeedle[][] = p.simd.buckets.map(() => []);
    const ids: number[][] = p.simd.buckets.map(() => []);
    for (const [id, s] of specs.entries()) {
      const text = s.insensitive ? asciiLower(s.text) : s.text;
      let placed = false;
      for (let b = 0; b < buckets.length && !placed; b++) {
        for (const m of p.simd.buckets[b]) {
          const needle = m.f.needle.toString('latin1');
          // As needles.ts minimal: an insensitive needle is found in any case, an exact one only in an exact spec.
          const at = m.f.insensitive ? asciiLower(text).indexOf(asciiLower(needle)) : s.insensitive ? -1 : text.indexOf(needle);
          if (at < 0) continue;
          buckets[b].push({ f: { needle: Buffer.from(text, 'latin1'), insensitive: s.insensitive }, fp: at + m.fp });
          ids[b].push(id);
          placed = true;
          break;
        }
      }
      if (!placed) return null;
    }
    const ln = new LineNeedles(mf.kernel.w, memoryHead(buckets), Int32Array.from(ids.flat()), mf.kernel);
    mf.scanHead = ln.head;
    return ln;
  }

  /**
   * Finds the needles in `buf[start, end)`, counting `sep` bytes before each (sep < 0: no fields). Returns how many
   * occurrences (read with needle(k) and field(k), in text order but for overlaps), or -1 when the line is too
   * long or has too many. `at`: where the finder's last pass put `buf[start]` in the shared kernel's memory
   * (ScannedText.address), or -1. There the line is read in place, with no copy (the copy, its `subarray` and a second
   * cold read of each candidate line cost ~4% of a busy IIS scan); only when that pass scanned with these tables.
   */
  find(buf: Buffer, start: number, end: number, sep: number, at = -1): number {
    if (end - start > LINE_MAX) return -1;
    let from = at;
    const k = this.kernel;
    if (k === null || from < 0 || k.head !== this.head) {
      if (k !== null) {
        ({ u8: this.u8, i32: this.i32 } = k.memoryFor(this.base + LINE_MAX + PAD));
        if (k.head !== this.head) this.u8.set(this.head, 0);
        k.head = this.head;
        // The line goes where the finder's text was: its ScannedText is no longer valid.
        k.generation++;
      }
      // subarray + set: Buffer#copy cost 2-3 times more per line (its argument checks).
      this.u8.set(buf.subarray(start, end), this.base);
      from = this.base;
    } else {
      // The views of the last memoryFor: the memory grows only there (two `memory.buffer` reads a line cost ~1%).
      this.i32 = k.views!.i32;
    }
    const outEnd = this.w.all16(from, from + end - start, this.outAt, this.outAt + LINE_OUT, sep < 0 ? 0 : sep & 0xff);
    return outEnd < 0 ? -1 : (outEnd - this.outAt) >> 3;
  }

  /** The needle (index in the specs) of occurrence k of the last find. */
  needle(k: number): number {
    // RECORD is 32: a shift, not a division (a float one, per occurrence).
    return this.ids[(this.i32[(this.outAt >> 2) + 2 * k] - RECORDS) >> 5];
  }

  /** The separators before occurrence k of the last find. */
  field(k: number): number {
    return this.i32[(this.outAt >> 2) + 2 * k + 1];
  }

  /** The separators in the whole line of the last find. */
  separators(): number {
    return this.i32[LINE_SEPS >> 2];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Positions of a line where a byte pair of some classes may start (a rule's walk over the line's bytes)

/** The longest text PairFilter takes (a longer one is the caller's to walk), and where its output and text go. */
const PAIR_MAX = 64 * 1024;
const PAIR_OUT = 1024;
const PAIR_TEXT = PAIR_OUT + 4 * PAIR_MAX;

/** PairFilter.of's filters, by their classes (a cache per thread, like the compiled module). */
const pairFilters = new WeakMap<readonly PairClass[], PairFilter | null>();

/** A class of byte pairs: a byte of `first` followed by a byte of `next` (0 stands for the end of the text). */
export interface PairClass {
  first: readonly number[];
  next: readonly number[];
}

/**
 * Finds, by the wasm `pairs` pass (~0.1 ns a byte, in an instance of its own), the positions of a text where one of
 * up to 8 classes of byte pairs may start: a superset (nibble tables over-approximate a class), in order. A walk over
 * a line's bytes in JS costs ~2 ns a byte even where nothing starts (autodiscover.json lines: ~10% of a busy IIS
 * scan); with the positions it checks only those.
 */
export class PairFilter {
  private readonly i32: Int32Array;

  private constructor(
    private readonly w: WasmExports,
    private readonly u8: Uint8Array,
  ) {
    this.i32 = new Int32Array(u8.buffer);
  }

  /**
   * The filter of `classes` on this thread, made on first use (null: no WebAssembly SIMD here): a scratch that each
   * find fills and whose positions are read before the next (calls are synchronous), so rules can stay functions.
   */
  static of(classes: readonly PairClass[]): PairFilter | null {
    let f = pairFilters.get(classes);
    if (f === undefined) pairFilters.set(classes, (f = PairFilter.create(classes)));
    return f;
  }

  /** A filter for `classes` (at most 8); null when this runtime has no WebAssembly SIMD. */
  static create(classes: readonly PairClass[]): PairFilter | null {
    if (classes.length > 8) throw new Error(`PairFilter: ${classes.length} classes, at most 8`);
    const w = newInstance();
    if (w === null) return null;
    w.memory.grow(Math.max(0, Math.ceil((PAIR_TEXT + PAIR_MAX + PAD - w.memory.buffer.byteLength) / 65536)));
    const u8 = new Uint8Array(w.memory.buffer);
    classes.forEach((k, bit) => {
      for (const c of k.first) {
        u8[c & 15] |= 1 << bit;
        u8[16 + (c >> 4)] |= 1 << bit;
      }
      for (const c of k.next) {
        u8[32 + (c & 15)] |= 1 << bit;
        u8[48 + (c >> 4)] |= 1 << bit;
      }
    });
    return new PairFilter(w, u8);
  }

  /**
   * Finds the positions in `b[start, end)` (read with position(k), offsets from `start`); returns how many, or -1
   * when the text is longer than the filter takes.
   */
  find(b: Uint8Array, start: number, end: number): number {
    const len = end - start;
    if (len > PAIR_MAX) return -1;
    // A view, not `subarray`: a Buffer's subarray makes a Buffer (its species), ~3 times the cost of this copy.
    this.u8.set(new Uint8Array(b.buffer, b.byteOffset + start, len), PAIR_TEXT);
    this.u8[PAIR_TEXT + len] = 0;
    return (this.w.pairs(PAIR_TEXT, PAIR_TEXT + len, PAIR_OUT) - PAIR_OUT) >> 2;
  }

  /** Position k of the last find, as an offset from its `start`. */
  position(k: number): number {
    return this.i32[(PAIR_OUT >> 2) + k] - PAIR_TEXT;
  }
}
