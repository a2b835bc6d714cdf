// A small condition language over mapped record fields, for rules written as data (shipped declarative rules and
// imported Sigma rules). Case: equals / contains / startswith / endswith compare case-insensitively (Sigma's rule);
// `re` is case-sensitive unless `ignoreCase` is set, and runs on the linear-time matcher (evidence is hostile).
// The prefilter needles are derived from the condition, so a rule written this way needs no hand-picked needles.
import { linearRegex, type LinearRegex } from '../mitigations/linear-regex.js';

export type Op = 'equals' | 'contains' | 'startswith' | 'endswith' | 're';

export type Condition =
  /**
   * `field: null` = any value of the record (Sigma keywords). `all`: every value must hold, else any one. `logged`:
   * the field as the log wrote it, where a reader otherwise gives a decoded view (IIS URLs: `%26` stays `%26`, not
   * `&`), for separators that only work unescaped. Sigma compares the logged form anyway: it exports unchanged.
   */
  | { field: string | null; op: Op; values: string[]; all?: boolean; ignoreCase?: boolean; logged?: boolean }
  | { any: Condition[] }
  | { all: Condition[] }
  | { not: Condition };

/**
 * How a condition reads a field from a record: the mapped value, or null when the record has none. `field`, when
 * given, resolves a field name once into its own reader (conditions are compiled once and run on every record).
 */
export type FieldReader<R> = ((rec: R, field: string | null, logged?: boolean) => string | null) & {
  field?(name: string | null, logged?: boolean): (rec: R) => string | null;
};

export type Test<R> = (rec: R) => boolean;

function leafTest<R>(c: Extract<Condition, { op: Op }>, reader: FieldReader<R>): Test<R> {
  const logged = c.logged === true;
  const get = reader.field ? reader.field(c.field, logged) : (rec: R) => reader(rec, c.field, logged);
  const read = (rec: R, _field: string | null) => get(rec);
  let one: (v: string) => boolean;
  if (c.op === 're') {
    const res: LinearRegex[] = c.values.map((p) => linearRegex(p, c.ignoreCase === true));
    const tests = res.map((r) => (v: string) => r.test(v));
    return (rec) => {
      const v = read(rec, c.field);
      return v !== null && (c.all ? tests.every((t) => t(v)) : tests.some((t) => t(v)));
    };
  }
  const wants = c.values.map((x) => x.toLowerCase());
  switch (c.op) {
    case 'equals':
      one = (v) => wants.includes(v);
      break;
    case 'contains':
      one = (v) => (c.all ? wants.every((w) => v.includes(w)) : wants.some((w) => v.includes(w)));
      break;
    case 'startswith':
      one = (v) => wants.some((w) => v.startsWith(w));
      break;
    case 'endswith':
      one = (v) => wants.some((w) => v.endsWith(w));
      break;
  }
  // Most records fail a leaf: for ASCII wanted values, equals / startswith / endswith compare in place, folding ASCII
  // case, with no lower-cased copy of the value. A non-ASCII character where a wanted value is compared (it may
  // lower-case to ASCII: the Kelvin sign) sends the value down the full path, so the answer is the same.
  const ascii = wants.every((w) => /^[\x00-\x7f]*$/.test(w));
  if (ascii && c.op !== 'contains') {
    const op = c.op;
    const n = wants.length;
    return (rec) => {
      const v = get(rec);
      if (v === null) return false;
      for (let i = 0; i < n; i++) {
        const w = wants[i];
        const at = op === 'endswith' ? v.length - w.length : 0;
        if (op === 'equals' ? v.length !== w.length : at < 0) continue;
        const r = foldedAt(v, w, at);
        if (r === null) return one(v.toLowerCase());
        if (r) return true;
      }
      return false;
    };
  }
  return (rec) => {
    const v = read(rec, c.field);
    return v !== null && one(v.toLowerCase());
  };
}

/** Whether `v` holds the lower-case ASCII `w` at `at`, any ASCII case; null at a non-ASCII character. */
function foldedAt(v: string, w: string, at: number): boolean | null {
  for (let i = 0; i < w.length; i++) {
    let ch = v.charCodeAt(at + i);
    if (ch > 0x7f) return null;
    if (ch >= 0x41 && ch <= 0x5a) ch += 0x20;
    if (ch !== w.charCodeAt(i)) return false;
  }
  return true;
}

/** Compiles a condition once into a test over records. Throws for a regex the linear matcher refuses. */
export function compileCondition<R>(c: Condition, read: FieldReader<R>): Test<R> {
  if ('op' in c) return leafTest(c, read);
  if ('not' in c) {
    const t = compileCondition(c.not, read);
    return (rec) => !t(rec);
  }
  if ('any' in c) {
    const ts = c.any.map((x) => compileCondition(x, read));
    return (rec) => ts.some((t) => t(rec));
  }
  const ts = c.all.map((x) => compileCondition(x, read));
  const [first, second] = ts;
  if (ts.length === 2) return (rec) => first(rec) && second(rec);
  return (rec) => {
    for (let i = 0; i < ts.length; i++) if (!ts[i](rec)) return false;
    return true;
  };
}

/**
 * Literal pieces a matching record's raw line must contain: the longest run of each value between characters a log
 * may write differently (space as `+`, `?` between URL stem and query, quotes, and for decoded fields `%` escapes). Null when no literal is
 * certain (a `not`, a regex, a value too short): the rule then needs every line of its format. Case is kept as
 * written (the engine lower-cases needles of rules that match in any case; `needleCase: 'exact'` rules write values
 * in the case the server logs them).
 */
export function conditionNeedles(c: Condition): string[] | null {
  const choices = needleChoices(c);
  if (choices.length === 0) return null;
  // All branches must hold: one branch's needles are enough; take the one whose shortest needle is longest (a
  // status code like `500` would put every line through), then the fewest.
  const shortest = (p: string[]) => Math.min(...p.map((x) => x.length));
  return [...choices].sort((a, b) => shortest(b) - shortest(a) || a.length - b.length)[0];
}

/** Drops needles that contain another needle of the same list (any one of them is enough). */
function minimal(needles: string[]): string[] {
  const uniq = [...new Set(needles)];
  return uniq.filter((n) => !uniq.some((m) => m !== n && n.toLowerCase().includes(m.toLowerCase())));
}

/**
 * Every needle list the condition proves necessary (one per conjunct that yields literals): a rule may pick one of
 * them as its `needles` when it knows which is rarer in real traffic (test/declarative-rules.test.ts checks that a
 * declarative rule's needles are one of these).
 */
export function needleChoices(c: Condition): string[][] {
  if ('op' in c) {
    if (c.op === 're') return [];
    // A logged value is in the line as written: only spaces (`+`), the stem/query join and quotes may differ.
    const split = c.logged ? /[\s+?"']/ : /[\s+?"'%&=]/;
    const pieces = c.values.map((v) => v.split(split).reduce((a, b) => (b.length > a.length ? b : a), ''));
    if (pieces.some((p) => p.length < 3)) return [];
    // `all`: any one value's piece must be there; pick the longest for the fewest candidates.
    return [c.all ? [pieces.reduce((a, b) => (b.length > a.length ? b : a))] : minimal(pieces)];
  }
  if ('not' in c) return [];
  if ('any' in c) {
    const parts = c.any.map(conditionNeedles);
    return parts.some((p) => p === null) ? [] : [minimal(parts.flat() as string[])];
  }
  return c.all.flatMap(needleChoices);
}
