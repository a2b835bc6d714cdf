// Which rules a selected line goes to. One pass over the line's bytes finds every distinct rule needle it
// contains (a table keyed by each needle's first two bytes, folded to lower case for case-insensitive needles);
// String.includes per needle and rule costs ~100 ns a call on short lines, which dominated busy IIS logs.
import type { RecordRule } from '../rules/types.js';

interface Needle {
  bytes: Buffer;
  insensitive: boolean;
}

const fold = (c: number): number => (c >= 65 && c <= 90 ? c | 32 : c);

export class LineDispatcher {
  private readonly needles: Needle[] = [];
  /** Needle ids by first two bytes (folded for insensitive needles, as written for exact ones): list index or -1. */
  private readonly byPair: { folded: Int32Array; exact: Int32Array };
  /** Needles one byte long, by that byte. */
  private readonly single: { folded: Int32Array; exact: Int32Array };
  private readonly lists: number[][] = [];
  /** Per rule: the ids of its needles; null = the rule reads every line. */
  private readonly ruleNeedles: Array<number[] | null>;
  private readonly found: Uint8Array;
  private readonly hasSingles: boolean;

  constructor(private readonly rules: readonly RecordRule[]) {
    const ids = new Map<string, number>();
    this.byPair = { folded: new Int32Array(65536).fill(-1), exact: new Int32Array(65536).fill(-1) };
    this.single = { folded: new Int32Array(256).fill(-1), exact: new Int32Array(256).fill(-1) };
    this.ruleNeedles = rules.map((r) => {
      if (r.needles.length === 0) return null;
      const insensitive = r.needleCase !== 'exact';
      return r.needles.map((text) => {
        const key = insensitive ? `i${text.toLowerCase()}` : `e${text}`;
        let id = ids.get(key);
        if (id === undefined) {
          id = this.needles.length;
          ids.set(key, id);
          this.add({ bytes: Buffer.from(insensitive ? text.toLowerCase() : text, 'latin1'), insensitive }, id);
        }
        return id;
      });
    });
    this.found = new Uint8Array(this.needles.length);
    this.hasSingles = this.needles.some((n) => n.bytes.length === 1);
  }

  private add(n: Needle, id: number): void {
    this.needles.push(n);
    const b = n.bytes;
    const table = b.length === 1 ? (n.insensitive ? this.single.folded : this.single.exact) : n.insensitive ? this.byPair.folded : this.byPair.exact;
    const key = b.length === 1 ? b[0] : (b[0] << 8) | b[1];
    if (table[key] < 0) {
      table[key] = this.lists.length;
      this.lists.push([]);
    }
    this.lists[table[key]].push(id);
  }

  /** Marks the needles of one table list that really occur at `at` (the first two bytes already match). */
  private mark(list: number, buf: Buffer, at: number, end: number): void {
    const found = this.found;
    for (const id of this.lists[list]) {
      if (found[id] === 1) continue;
      const n = this.needles[id];
      const b = n.bytes;
      if (at + b.length > end) continue;
      let j = 2;
      if (n.insensitive) while (j < b.length && fold(buf[at + j]) === b[j]) j++;
      else while (j < b.length && buf[at + j] === b[j]) j++;
      if (j >= b.length) found[id] = 1;
    }
  }

  /** The rules whose needles occur in `buf[start, end)` (one line). */
  rulesFor(buf: Buffer, start: number, end: number): RecordRule[] {
    const found = this.found;
    found.fill(0);
    const folded = this.byPair.folded;
    const exact = this.byPair.exact;
    const singles = this.hasSingles;
    for (let i = start; i + 1 < end; i++) {
      const a = buf[i];
      const b = buf[i + 1];
      const fa = a >= 65 && a <= 90 ? a | 32 : a;
      const fb = b >= 65 && b <= 90 ? b | 32 : b;
      let l = folded[(fa << 8) | fb];
      if (l >= 0) this.mark(l, buf, i, end);
      l = exact[(a << 8) | b];
      if (l >= 0) this.mark(l, buf, i, end);
      if (singles) this.markSingle(buf, i, end);
    }
    if (singles && end > start) this.markSingle(buf, end - 1, end);
    const out: RecordRule[] = [];
    for (let r = 0; r < this.rules.length; r++) {
      const ids = this.ruleNeedles[r];
      if (ids === null) {
        out.push(this.rules[r]);
        continue;
      }
      for (let k = 0; k < ids.length; k++) {
        if (found[ids[k]] === 1) {
          out.push(this.rules[r]);
          break;
        }
      }
    }
    return out;
  }

  private markSingle(buf: Buffer, i: number, end: number): void {
    const a = buf[i];
    let l = this.single.folded[fold(a)];
    if (l >= 0) this.mark(l, buf, i, end);
    l = this.single.exact[a];
    if (l >= 0) this.mark(l, buf, i, end);
  }
}
