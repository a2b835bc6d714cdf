// A linear-time matcher for ECMAScript patterns read from evidence (URL Rewrite rules in a server's web.config).
// The attacker chose those patterns: V8's backtracking engine takes hours on `(?:a|.|.)*!` or `.*.*.*.*!` against a
// 300-character request, and no JS regex can be interrupted. This is a Thompson NFA run as a Pike VM: every input
// position is visited once per program instruction, so `test` costs O(input × pattern). Lookaheads (the final
// ProxyNotShell rule is `(?=.*autodiscover)(?=.*powershell)`) are run as anchored sub-matches, memoised per position
// (O(input² × pattern) at worst). Back-references and lookbehinds are refused (`LinearRegexError`).
//
// Hand-written because no maintained linear-time engine fits: the `re2` package downloads a native binary at install,
// and `re2-wasm` has a fixed 16 MiB heap that aborts the whole process when exhausted.

export class LinearRegexError extends Error {
  override name = 'LinearRegexError';
}

type CharTest = (c: number) => boolean;

type Node =
  | { t: 'char'; test: CharTest }
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; alts: Node[] }
  | { t: 'rep'; node: Node; min: number; max: number }
  | { t: 'bol' }
  | { t: 'eol' }
  | { t: 'wordb'; neg: boolean }
  | { t: 'look'; node: Node; neg: boolean };

/** Longest pattern and largest program accepted: `{n,m}` copies its operand, so a short pattern can be huge. */
const MAX_PATTERN = 4096;
const MAX_PROGRAM = 20_000;

const isWordChar = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const SPACES = new Set([9, 10, 11, 12, 13, 32, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff]);
const isSpace = (c: number): boolean => SPACES.has(c) || (c >= 0x2000 && c <= 0x200a);
const isLineEnd = (c: number): boolean => c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
const not = (f: CharTest): CharTest => (c) => !f(c);

/** Recursive-descent parser for the ECMAScript pattern grammar (the subset above). */
class Parser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly ignoreCase: boolean,
  ) {}

  parse(): Node {
    const n = this.alternation();
    if (this.i < this.src.length) this.fail(`unmatched ")"`);
    return n;
  }

  private fail(msg: string): never {
    throw new LinearRegexError(`${msg} at position ${this.i}`);
  }

  private alternation(): Node {
    const alts = [this.sequence()];
    while (this.src[this.i] === '|') {
      this.i++;
      alts.push(this.sequence());
    }
    return alts.length === 1 ? alts[0] : { t: 'alt', alts };
  }

  private sequence(): Node {
    const items: Node[] = [];
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      const atom = this.atom();
      items.push(this.quantified(atom));
    }
    return { t: 'seq', items };
  }

  private quantified(atom: Node): Node {
    const s = this.src;
    let min: number;
    let max: number;
    const c = s[this.i];
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d{1,5})(,(\d{0,5}))?\}/.exec(s.slice(this.i, this.i + 14));
      if (!m) return atom; // a literal "{", as ECMAScript allows outside unicode mode
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (max < min) this.fail('numbers out of order in {} quantifier');
      this.i += m[0].length - 1;
    } else return atom;
    this.i++;
    if (s[this.i] === '?') this.i++; // lazy: the same language, and test() needs no more
    if (atom.t === 'bol' || atom.t === 'eol' || atom.t === 'wordb') this.fail('nothing to repeat');
    return { t: 'rep', node: atom, min, max };
  }

  private atom(): Node {
    const s = this.src;
    const c = s[this.i++];
    switch (c) {
      case '(': {
        let look: boolean | null = null;
        if (s.startsWith('?:', this.i)) this.i += 2;
        else if (s.startsWith('?=', this.i) || s.startsWith('?!', this.i)) {
          look = s[this.i + 1] === '!';
          this.i += 2;
        } else if (s.startsWith('?<=', this.i) || s.startsWith('?<!', this.i)) this.fail('lookbehind is not supported');
        else if (s.startsWith('?<', this.i)) {
          const end = s.indexOf('>', this.i);
          if (end < 0) this.fail('unterminated group name');
          this.i = end + 1;
        } else if (s[this.i] === '?') this.fail('invalid group');
        const node = this.alternation();
        if (s[this.i] !== ')') this.fail('unterminated group');
        this.i++;
        return look === null ? node : { t: 'look', node, neg: look };
      }
      case '[': {
        // Case folding applies to the class's members, before a "^" negates them.
        const { test, negate } = this.classBody();
        const folded = this.charTest(test);
        return negate ? { t: 'char', test: not(folded.test) } : folded;
      }
      case '.':
        return { t: 'char', test: not(isLineEnd) };
      case '^':
        return { t: 'bol' };
      case '$':
        return { t: 'eol' };
      case '\\':
        return this.escape();
      case '*':
      case '+':
      case '?':
        return this.fail('nothing to repeat');
      case ')':
        return this.fail('unmatched ")"');
      default:
        return this.literal(c.charCodeAt(0));
    }
  }

  private literal(code: number): Node {
    return this.charTest((x) => x === code);
  }

  /** Applies case folding (simple one-to-one mappings, as ECMAScript's Canonicalize without the unicode flag). */
  private charTest(test: CharTest): Node & { t: 'char' } {
    if (!this.ignoreCase) return { t: 'char', test };
    return {
      t: 'char',
      test: (c) => {
        if (test(c)) return true;
        const ch = String.fromCharCode(c);
        const up = ch.toUpperCase();
        const low = ch.toLowerCase();
        return (up.length === 1 && test(up.charCodeAt(0))) || (low.length === 1 && test(low.charCodeAt(0)));
      },
    };
  }

  private escape(): Node {
    const s = this.src;
    const c = s[this.i];
    if (c === 'b' || c === 'B') {
      this.i++;
      return { t: 'wordb', neg: c === 'B' };
    }
    if (c >= '1' && c <= '9') this.fail('back-references are not supported');
    if (c === 'k' && s[this.i + 1] === '<') this.fail('back-references are not supported');
    const test = this.escapeTest();
    return typeof test === 'number' ? this.literal(test) : this.charTest(test);
  }

  /** The escape after a backslash: a class (\d \w \s and negations) or a single code unit. */
  private escapeTest(): CharTest | number {
    const s = this.src;
    if (this.i >= s.length) this.fail('\\ at end of pattern');
    const c = s[this.i++];
    switch (c) {
      case 'd': return isDigit;
      case 'D': return not(isDigit);
      case 'w': return isWordChar;
      case 'W': return not(isWordChar);
      case 's': return isSpace;
      case 'S': return not(isSpace);
      case 'n': return 10;
      case 'r': return 13;
      case 't': return 9;
      case 'f': return 12;
      case 'v': return 11;
      case '0': return 0;
      case 'x':
      case 'u': {
        const len = c === 'x' ? 2 : 4;
        const hex = s.slice(this.i, this.i + len);
        if (hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex)) return c.charCodeAt(0);
        this.i += len;
        return parseInt(hex, 16);
      }
      case 'c': {
        const l = s.charCodeAt(this.i);
        if ((l >= 65 && l <= 90) || (l >= 97 && l <= 122)) {
          this.i++;
          return l % 32;
        }
        this.i--; // "\c" not followed by a letter is a literal backslash
        return 92;
      }
      default:
        return c.charCodeAt(0);
    }
  }

  private classBody(): { test: CharTest; negate: boolean } {
    const s = this.src;
    const negate = s[this.i] === '^';
    if (negate) this.i++;
    const tests: CharTest[] = [];
    const ranges: Array<[number, number]> = [];
    const one = (): CharTest | number => {
      const c = s[this.i++];
      if (c !== '\\') return c.charCodeAt(0);
      if (s[this.i] === 'b') {
        this.i++;
        return 8;
      }
      if (s[this.i] === '-') {
        this.i++;
        return 45;
      }
      return this.escapeTest();
    };
    while (this.i < s.length && s[this.i] !== ']') {
      const lo = one();
      if (typeof lo === 'number' && s[this.i] === '-' && this.i + 1 < s.length && s[this.i + 1] !== ']') {
        this.i++;
        const hi = one();
        if (typeof hi !== 'number') {
          ranges.push([lo, lo], [45, 45]);
          tests.push(hi);
        } else if (hi < lo) this.fail('range out of order in character class');
        else ranges.push([lo, hi]);
      } else if (typeof lo === 'number') ranges.push([lo, lo]);
      else tests.push(lo);
    }
    if (s[this.i] !== ']') this.fail('unterminated character class');
    this.i++;
    return { test: (c) => ranges.some(([a, b]) => c >= a && c <= b) || tests.some((t) => t(c)), negate };
  }
}

// --- compilation to a Pike VM program -------------------------------------------------------------------------

type Inst =
  | { op: 'char'; test: CharTest; next: number }
  | { op: 'split'; a: number; b: number }
  | { op: 'jmp'; to: number }
  | { op: 'bol' | 'eol' | 'wordb' | 'nwordb'; next: number }
  | { op: 'look'; prog: Program; neg: boolean; id: number; next: number }
  | { op: 'match' };

interface Program {
  insts: Inst[];
}

class Compiler {
  readonly insts: Inst[] = [];
  constructor(private readonly budget: { left: number; looks: number }) {}

  private emit(i: Inst): number {
    if (--this.budget.left < 0) throw new LinearRegexError('pattern too large to evaluate');
    this.insts.push(i);
    return this.insts.length - 1;
  }

  program(node: Node): Program {
    this.node(node);
    this.emit({ op: 'match' });
    return { insts: this.insts };
  }

  /** Emits `node` so that it falls through to the next instruction emitted after it. */
  private node(n: Node): void {
    const at = () => this.insts.length;
    switch (n.t) {
      case 'char':
        this.emit({ op: 'char', test: n.test, next: at() + 1 });
        return;
      case 'seq':
        for (const x of n.items) this.node(x);
        return;
      case 'alt': {
        const jumps: number[] = [];
        n.alts.forEach((alt, k) => {
          if (k < n.alts.length - 1) {
            const split = this.emit({ op: 'split', a: at() + 1, b: -1 });
            this.node(alt);
            jumps.push(this.emit({ op: 'jmp', to: -1 }));
            (this.insts[split] as { b: number }).b = at();
          } else this.node(alt);
        });
        for (const j of jumps) (this.insts[j] as { to: number }).to = at();
        return;
      }
      case 'rep': {
        for (let k = 0; k < n.min; k++) this.node(n.node);
        if (n.max === Infinity) {
          const split = this.emit({ op: 'split', a: at() + 1, b: -1 });
          this.node(n.node);
          this.emit({ op: 'jmp', to: split });
          (this.insts[split] as { b: number }).b = at();
        } else {
          const splits: number[] = [];
          for (let k = n.min; k < n.max; k++) {
            splits.push(this.emit({ op: 'split', a: at() + 1, b: -1 }));
            this.node(n.node);
          }
          for (const sp of splits) (this.insts[sp] as { b: number }).b = at();
        }
        return;
      }
      case 'bol':
      case 'eol':
        this.emit({ op: n.t, next: at() + 1 });
        return;
      case 'wordb':
        this.emit({ op: n.neg ? 'nwordb' : 'wordb', next: at() + 1 });
        return;
      case 'look': {
        const prog = new Compiler(this.budget).program(n.node);
        this.emit({ op: 'look', prog, neg: n.neg, id: this.budget.looks++, next: at() + 1 });
        return;
      }
    }
  }
}

/** One search: thread lists are instruction indexes, de-duplicated per position with generation marks. */
class Run {
  /** Lookahead results by id, then position: 0 unknown, 1 true, 2 false. */
  private readonly lookMemo: Uint8Array[] = [];

  constructor(
    private readonly input: string,
    looks: number,
    /** Counts the instructions stepped through, when given (tests bound the work by it, not by a clock). */
    private readonly work?: { steps: number },
  ) {
    for (let k = 0; k < looks; k++) this.lookMemo.push(new Uint8Array(input.length + 1));
  }

  /** Does `prog` match starting somewhere in [from, …] (anchored: only at `from`)? */
  search(prog: Program, from: number, anchored: boolean): boolean {
    const { insts } = prog;
    const input = this.input;
    const work = this.work;
    const mark = new Int32Array(insts.length).fill(-1);
    let clist: number[] = [];
    let nlist: number[] = [];
    const stack: number[] = [];
    // Follows epsilon edges from `pc` at position `pos`; returns true when the match instruction is reached.
    const add = (list: number[], pc0: number, pos: number): boolean => {
      stack.push(pc0);
      while (stack.length) {
        const pc = stack.pop() as number;
        if (work !== undefined) work.steps++;
        if (mark[pc] === pos) continue;
        mark[pc] = pos;
        const inst = insts[pc];
        switch (inst.op) {
          case 'match':
            stack.length = 0;
            return true;
          case 'char':
            list.push(pc);
            break;
          case 'jmp':
            stack.push(inst.to);
            break;
          case 'split':
            stack.push(inst.b, inst.a);
            break;
          case 'bol':
            if (pos === 0) stack.push(inst.next);
            break;
          case 'eol':
            if (pos === input.length) stack.push(inst.next);
            break;
          case 'wordb':
          case 'nwordb': {
            const b = (pos > 0 && isWordChar(input.charCodeAt(pos - 1))) !== (pos < input.length && isWordChar(input.charCodeAt(pos)));
            if (b === (inst.op === 'wordb')) stack.push(inst.next);
            break;
          }
          case 'look':
            if (this.look(inst.prog, inst.id, pos) !== inst.neg) stack.push(inst.next);
            break;
        }
      }
      return false;
    };
    for (let pos = from; pos <= input.length; pos++) {
      if ((!anchored || pos === from) && add(clist, 0, pos)) return true;
      if (clist.length === 0 && anchored) return false;
      if (pos === input.length) break;
      const c = input.charCodeAt(pos);
      for (const pc of clist) {
        const inst = insts[pc] as { test: CharTest; next: number };
        if (inst.test(c) && add(nlist, inst.next, pos + 1)) return true;
      }
      [clist, nlist] = [nlist, clist];
      nlist.length = 0;
    }
    return false;
  }

  private look(prog: Program, id: number, pos: number): boolean {
    const memo = this.lookMemo[id];
    if (memo[pos] === 0) memo[pos] = this.search(prog, pos, true) ? 1 : 2;
    return memo[pos] === 1;
  }
}

export interface LinearRegex {
  /** `work`: counts the instructions stepped through (each is visited at most once per position and lookahead). */
  test(input: string, work?: { steps: number }): boolean;
}

/** Compiles an ECMAScript pattern (flags: only case-insensitivity) for linear-time `test`. Throws LinearRegexError. */
export function linearRegex(pattern: string, ignoreCase: boolean): LinearRegex {
  if (pattern.length > MAX_PATTERN) throw new LinearRegexError(`pattern longer than ${MAX_PATTERN} characters`);
  const budget = { left: MAX_PROGRAM, looks: 0 };
  const prog = new Compiler(budget).program(new Parser(pattern, ignoreCase).parse());
  const looks = budget.looks;
  return { test: (input, work) => new Run(input, looks, work).search(prog, 0, false) };
}
