// Which rules a selected line goes to. One pass over the line's bytes finds every distinct rule needle it
// contains; String.includes per needle and rule costs ~100 ns a call on short lines, which dominated busy IIS logs.
// The pass is the SIMD kernel's all16 (multifind.ts LineNeedles) where WebAssembly SIMD runs; the JS byte loop
// below (~2 ns a byte, then ~25% of the CPU of a busy IIS scan) stays for the rest and for very long lines.
//
// Each needle is keyed by one of its byte pairs (folded to lower case): the pair that is rarest in the first text
// the dispatcher sees, so that a line's common pairs (`20` of every date, `mo` of every Mozilla user agent, the
// hex digits of GUIDs) rarely stop the loop. An 8 KiB bitset of the key pairs (it stays in L1 cache, unlike the
// 256 KiB id table) rejects the other pairs first. On dense IIS traffic (bench/traffic.mjs) this cut the
// dispatch from ~4 µs to well under 1 µs a candidate line.
//
// With a field layout (formats whose fields never contain their separator, IIS W3C), each found needle also
// records the fields it starts in, so that a rule whose needles matter only in some fields (`needleFields`) is not
// handed a line where they occur elsewhere: on busy OWA traffic most `.aspx` are in the Referer.
import type { RecordRule } from '../rules/types.js';
import { LineNeedles, type MultiFinder } from './multifind.js';

interface Needle {
  /** Lower-cased when insensitive. */
  bytes: Buffer;
  insensitive: boolean;
  /** Where its key pair starts inside it. */
  key: number;
  /** Whether it holds the field separator (then it counts as found in every field). */
  spans: boolean;
}

/** Which fields each rule's needles must be in, for one field layout (see `LineDispatcher.fieldMasks`). */
export interface FieldMasks {
  /** The separator byte. */
  sep: number;
  /** Fields in the layout: a line with another count is malformed and its fields are not trusted. */
  count: number;
  /** Per rule: bit k = field k (bit 31: field 31 or later); 0 = anywhere. */
  masks: Uint32Array;
}

/** Bit of a field index (fields 31 and later share the top bit). */
const fieldBit = (k: number): number => (k >= 31 ? 0x80000000 : 1 << k) >>> 0;
const ALL_FIELDS = 0xffffffff;

const fold = (c: number): number => (c >= 65 && c <= 90 ? c | 32 : c);
/** ASCII lower case of every byte value. */
const FOLD = Uint8Array.from({ length: 256 }, (_, c) => fold(c));
/** How much of the first text seen is counted to pick each needle's rarest pair (a cold 1 MiB count took 20-80 ms a worker). */
const SAMPLE_BYTES = 64 * 1024;
/**
 * Lines dispatched by the JS loop before the SIMD pass is planned (when no finder's plan is shared): planning costs
 * 25-100 ms (per format and worker), the JS loop ~1 µs a line, so a format with few candidate lines never plans.
 */
const LINES_BEFORE_SIMD = 20_000;

export class LineDispatcher {
  private readonly needles: Needle[] = [];
  /** Per rule: the ids of its needles; null = the rule reads every line. */
  private readonly ruleNeedles: Array<number[] | null>;
  /** Per needle: the fields (bits) it was found in on this line; non-zero = found. */
  private readonly found: Uint32Array;
  /** The needles found on this line (their `found` is non-zero): the first `seenCount` (no array length resets). */
  private readonly seen: Int32Array;
  private seenCount = 0;
  /** Per needle: the rules that have it. */
  private readonly needleRules: number[][];
  /** Per rule: 1 when the line goes to it (cleared as the result is built). */
  private readonly hit: Uint8Array;
  /** The rules (indices) the line goes to, in rule order: the first `count` that `dispatch` returns. */
  readonly ruleIds: Int32Array;
  /** The rules that read every line (no needles), in order. */
  private readonly always: number[];
  /** Needle ids by folded key pair (list index or -1), built by plan() from the first text seen. */
  private byPair: Int32Array | null = null;
  private readonly lists: number[][] = [];
  /** Needles one byte long, by folded byte (list index or -1). */
  private readonly single = new Int32Array(256).fill(-1);
  private readonly hasSingles: boolean;
  /** 1 at (a << 8 | b) when the folded pair a, b is some needle's key pair (64 KiB: one load a byte, no bit math). */
  private readonly pairs = new Uint8Array(65536);
  /** The result of rulesFor, reused from line to line. */
  private readonly out: RecordRule[] = [];
  /** The SIMD pass over a line (null: the JS loop): from a shared finder, else planned after LINES_BEFORE_SIMD lines. */
  private simd: LineNeedles | null = null;
  /** Lines until the SIMD pass is planned (-1: never). */
  private untilSimd: number;
  /** The separators in the last line, when rulesFor was given its layout (else -1). */
  private lastSeparators = -1;
  /** The line finder of the same text, whose SIMD plan the dispatcher reuses (see shareFinder). */
  private finder: MultiFinder | null = null;
  /** Whether the SIMD pass was asked of the shared finder (it answers once: null when it cannot serve). */
  private triedFinder = false;

  /** `opts.simd`: true plans the SIMD pass on the first line, false never (tests compare both). */
  constructor(
    private readonly rules: readonly RecordRule[],
    opts: { simd?: boolean } = {},
  ) {
    this.untilSimd = opts.simd === false ? -1 : opts.simd === true ? 0 : LINES_BEFORE_SIMD;
    const ids = new Map<string, number>();
    this.ruleNeedles = rules.map((r) => {
      if (r.needles.length === 0) return null;
      const insensitive = r.needleCase !== 'exact';
      return r.needles.map((text) => {
        const key = insensitive ? `i${text.toLowerCase()}` : `e${text}`;
        let id = ids.get(key);
        if (id === undefined) {
          id = this.needles.length;
          ids.set(key, id);
          this.needles.push({ bytes: Buffer.from(insensitive ? text.toLowerCase() : text, 'latin1'), insensitive, key: 0, spans: true });
        }
        return id;
      });
    });
    this.found = new Uint32Array(this.needles.length);
    this.seen = new Int32Array(this.needles.length);
    this.needleRules = this.needles.map(() => []);
    this.ruleNeedles.forEach((ids, r) => {
      for (const id of new Set(ids)) this.needleRules[id].push(r);
    });
    this.hit = new Uint8Array(rules.length);
    this.ruleIds = new Int32Array(rules.length);
    this.always = this.ruleNeedles.flatMap((ids, r) => (ids === null ? [r] : []));
    this.hasSingles = this.needles.some((n) => n.bytes.length === 1);
    this.needles.forEach((n, id) => {
      if (n.bytes.length === 1) this.listAt(this.single, FOLD[n.bytes[0]]).push(id);
    });
  }

  private listAt(table: Int32Array, key: number): number[] {
    if (table[key] < 0) {
      table[key] = this.lists.length;
      this.lists.push([]);
    }
    return this.lists[table[key]];
  }

  /** Keys every needle of two bytes or more by its pair that is rarest in `sample`. */
  private plan(sample: Uint8Array): Int32Array {
    const counts = new Uint32Array(65536);
    const n = Math.min(sample.length, SAMPLE_BYTES);
    for (let i = 0; i + 1 < n; i++) counts[(FOLD[sample[i]] << 8) | FOLD[sample[i + 1]]]++;
    const table = new Int32Array(65536).fill(-1);
    this.needles.forEach((needle, id) => {
      const b = needle.bytes;
      if (b.length < 2) return;
      let best = 0;
      let bestCount = Infinity;
      for (let k = 0; k + 1 < b.length; k++) {
        const c = counts[(FOLD[b[k]] << 8) | FOLD[b[k + 1]]];
        if (c < bestCount) [best, bestCount] = [k, c];
      }
      needle.key = best;
      const pair = (FOLD[b[best]] << 8) | FOLD[b[best + 1]];
      this.pairs[pair] = 1;
      this.listAt(table, pair).push(id);
    });
    return table;
  }

  /**
   * The per-rule field masks for a layout of `names` separated by `sep`; null when no rule limits its needles to
   * fields. A rule none of whose fields is in the layout reads the whole line.
   */
  fieldMasks(names: readonly string[], sep: number): FieldMasks | null {
    for (const n of this.needles) n.spans = n.bytes.includes(sep);
    const masks = new Uint32Array(this.rules.length);
    let any = false;
    this.rules.forEach((r, i) => {
      let m = 0;
      for (const f of r.needleFields ?? []) {
        const k = names.indexOf(f);
        if (k >= 0) m |= fieldBit(k);
      }
      masks[i] = m >>> 0;
      if (m !== 0) any = true;
    });
    return any ? { sep, count: names.length, masks } : null;
  }

  /** Marks (with field bit `bit`) the needles of one list whose key pair is at `i` and that occur in `buf[start, end)`. */
  private mark(list: number, buf: Buffer, i: number, start: number, end: number, bit: number): void {
    const found = this.found;
    for (const id of this.lists[list]) {
      if ((found[id] & bit) !== 0) continue;
      const n = this.needles[id];
      const b = n.bytes;
      const at = i - n.key;
      if (at < start || at + b.length > end) continue;
      let j = 0;
      if (n.insensitive) while (j < b.length && FOLD[buf[at + j]] === b[j]) j++;
      else while (j < b.length && buf[at + j] === b[j]) j++;
      // A needle holding the separator spans fields: found in all. Else the key pair's field is the needle's.
      if (j >= b.length) this.found1(id, n.spans ? ALL_FIELDS : bit);
    }
  }

  private found1(id: number, bits: number): void {
    if (this.found[id] === 0) this.seen[this.seenCount++] = id;
    this.found[id] |= bits;
  }

  /** The JS pass: marks the needles of `buf[start, end)` in `found`; returns the separators in the line. */
  private scanLine(table: Int32Array, buf: Buffer, start: number, end: number, sep: number): number {
    const pairs = this.pairs;
    let field = 0;
    let key = end > start ? FOLD[buf[start]] : 0;
    for (let i = start; i + 1 < end; i++) {
      if ((key & 0xff) === sep) field++;
      key = ((key << 8) | FOLD[buf[i + 1]]) & 0xffff;
      if (pairs[key] !== 0) this.mark(table[key], buf, i, start, end, fieldBit(field));
    }
    if (end > start && buf[end - 1] === sep) field++;
    if (this.hasSingles) {
      let f = 0;
      for (let i = start; i < end; i++) {
        const c = FOLD[buf[i]];
        const l = this.single[c];
        if (l >= 0) this.mark(l, buf, i, start, end, fieldBit(f));
        if (c === sep) f++;
      }
    }
    return field;
  }

  /**
   * The rules whose needles occur in `buf[start, end)` (one line) — in the fields a rule names, when `fields` gives
   * the line's layout. The array is reused by the next call.
   */
  rulesFor(buf: Buffer, start: number, end: number, fields: FieldMasks | null = null): readonly RecordRule[] {
    const count = this.dispatch(buf, start, end, fields);
    // Written in place and cut only when shorter: `length = 0` on every line is a runtime call.
    const out = this.out;
    for (let k = 0; k < count; k++) out[k] = this.rules[this.ruleIds[k]];
    if (out.length !== count) out.length = count;
    return out;
  }

  /**
   * rulesFor as indices into the rules given to the constructor: the first (returned) count of `ruleIds`, in rule
   * order, valid until the next call. `at`: where the shared finder's last pass put `buf[start]` (ScannedText.address),
   * or -1. The text scanner reads each rule's tests from arrays by index: one loop over
   * rules of many shapes made its property reads megamorphic and its optimised code was thrown away again and again.
   */
  dispatch(buf: Buffer, start: number, end: number, fields: FieldMasks | null = null, at = -1): number {
    const table = (this.byPair ??= this.plan(buf.subarray(start)));
    if (this.untilSimd >= 0) this.planSimd(buf, start);
    const found = this.found;
    const seen = this.seen;
    for (let k = 0; k < this.seenCount; k++) found[seen[k]] = 0;
    this.seenCount = 0;
    const sep = fields === null ? -1 : fields.sep;
    const simd = this.simd;
    const hits = simd === null ? -1 : simd.find(buf, start, end, sep, at);
    let field: number;
    if (hits >= 0) {
      for (let k = 0; k < hits; k++) {
        const id = simd!.needle(k);
        // A needle holding the separator spans fields: found in all.
        this.found1(id, this.needles[id].spans ? ALL_FIELDS : fieldBit(simd!.field(k)));
      }
      field = simd!.separators();
    } else field = this.scanLine(table, buf, start, end, sep);
    this.lastSeparators = sep < 0 ? -1 : field;
    // A line with more or fewer fields than its layout is malformed: its needles count wherever they are.
    const masks = fields !== null && field + 1 === fields.count ? fields.masks : null;
    // From the needles found to their rules, then the rules in order (the result keeps the rules' order).
    // The rules reached are listed as they are marked (a line reaches a few of the format's dozens of rules), then
    // put in rule order by insertion sort, with the rules that read every line.
    const hit = this.hit;
    const list = this.ruleIds;
    let count = 0;
    for (const r of this.always) {
      hit[r] = 1;
      list[count++] = r;
    }
    for (let k = 0; k < this.seenCount; k++) {
      const id = seen[k];
      for (const r of this.needleRules[id]) {
        if (hit[r] !== 0) continue;
        const m = masks === null || masks[r] === 0 ? ALL_FIELDS : masks[r];
        if ((found[id] & m) === 0) continue;
        hit[r] = 1;
        let j = count++;
        for (; j > 0 && list[j - 1] > r; j--) list[j] = list[j - 1];
        list[j] = r;
      }
    }
    for (let k = 0; k < count; k++) hit[list[k]] = 0;
    return count;
  }

  /**
   * Plans the SIMD pass when due: at once from a shared finder's plan (no planning of its own, so no reason to wait),
   * else after LINES_BEFORE_SIMD lines. Before, the scanner ran 20,000 lines per format and worker in the JS loop and
   * then threw away the optimised code of the dispatch and of its caller, which had never seen the SIMD branch.
   */
  private planSimd(buf: Buffer, start: number): void {
    const shared = this.finder !== null && !this.triedFinder;
    if (!shared && this.untilSimd-- !== 0) return;
    const specs = this.needles.map((n) => ({ text: n.bytes.toString('latin1'), insensitive: n.insensitive }));
    if (shared) {
      this.triedFinder = true;
      this.simd = LineNeedles.fromFinder(this.finder!, specs);
      if (this.simd !== null) this.untilSimd = -1;
      return;
    }
    this.simd = LineNeedles.plan(specs, buf.subarray(start));
  }

  /**
   * The finder that selects the lines this dispatcher gets (its needles among them): when the SIMD pass is due,
   * the dispatcher takes the finder's plan instead of planning its own from the same kind of text.
   */
  shareFinder(finder: MultiFinder): void {
    this.finder = finder;
  }

  /** The field separators in the line of the last rulesFor call, or -1 when it was given no layout. */
  separators(): number {
    return this.lastSeparators;
  }
}
