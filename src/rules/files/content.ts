// Matchers over file bytes: decoded content signatures, magic-number checks (PST / DER / binary "aspx",
// minidumps) and the WS-31 keyword heuristic.
//
// Every literal term (and a literal each regular expression needs) is looked for in one SIMD pass over the file's
// bytes (search/multifind.ts LineNeedles): testing each term with its own `includes` over the decoded text cost
// ~25 passes per file, a third of a file sweep's CPU. Regular expressions run only when their literals are present,
// and the text is decoded only for a regex or a rule that reads it.
import { LineNeedles } from '../../search/multifind.js';
import { SHELL_KEYWORDS, SIGNATURES, type ContentSignature } from './signatures.js';

/**
 * The literal runs every match of a regular expression (source, case-insensitive, no `u` flag) contains, lower
 * case, longest first: characters matched one by one outside groups, classes and optional parts. Empty when the
 * source has a top-level alternation or a construct this reader does not know (the regex then runs unguarded).
 */
export function requiredLiterals(source: string): string[] {
  const runs: string[] = [];
  let run = '';
  const cut = () => {
    if (run) runs.push(run);
    run = '';
  };
  let i = 0;
  /** The end of the group or class that starts at `from` (escapes and nested classes skipped), or -1. */
  const closing = (from: number): number => {
    let depth = 0;
    for (let j = from; j < source.length; j++) {
      const c = source[j];
      if (c === '\\') j++;
      else if (c === '[') {
        const end = classEnd(j);
        if (end < 0) return -1;
        j = end;
      } else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) return j;
    }
    return -1;
  };
  const classEnd = (from: number): number => {
    for (let j = from + 1; j < source.length; j++) {
      if (source[j] === '\\') j++;
      else if (source[j] === ']' && j > from + 1) return j;
    }
    return -1;
  };
  while (i < source.length) {
    const c = source[i];
    let literal: string | null = null;
    let next: number;
    if (c === '|') return [];
    if (c === '\\') {
      const e = source[i + 1];
      if (e === undefined) return [];
      next = i + 2;
      const hex = e === 'x' ? 2 : e === 'u' ? 4 : 0;
      const code = source.slice(next, next + hex);
      if (hex !== 0 && code.length === hex && /^[0-9a-f]+$/i.test(code)) {
        // `\xHH`, `\uHHHH`: the character they name.
        literal = String.fromCharCode(Number.parseInt(code, 16));
        next += hex;
      } else if (/[0-9]/.test(e)) {
        // A back-reference or an octal code (`\1`, `\12`, `\101`): none is a known character; its digits are not text.
        while (next < source.length && /[0-9]/.test(source[next])) next++;
      } else if (e === 'c' || e === 'k') {
        // `\cX`, `\k<name>`: how much they take depends on what follows (and on the regex's groups): no guard.
        return [];
      } else if (!/[A-Za-z]/.test(e)) literal = e;
      // Other letter escapes are classes, boundaries or control characters: not a plain character.
    } else if (c === '[') {
      next = classEnd(i) + 1;
      if (next === 0) return [];
    } else if (c === '(') {
      next = closing(i) + 1;
      if (next === 0) return [];
    } else if (c === ')' || c === ']' || c === '{' || c === '}' || c === '*' || c === '+' || c === '?') {
      return [];
    } else {
      if (c !== '.' && c !== '^' && c !== '$') literal = c;
      next = i + 1;
    }
    // A quantifier: ?, *, {0,n} make the atom optional; +, {n,m} with n >= 1 keep one but end the run after it.
    const q = /^(?:([?*])|\+|\{(\d+)(?:,\d*)?\})\??/.exec(source.slice(next));
    const optional = q !== null && (q[1] !== undefined || q[2] === '0');
    if (literal !== null && !optional) run += literal.toLowerCase();
    if (literal === null || q !== null) cut();
    i = next + (q ? q[0].length : 0);
  }
  cut();
  return runs.sort((a, b) => b.length - a.length);
}

/** A literal (an id in LITERALS: lower case, looked for in the lower-cased text), or a regex with the literals it needs. */
type Term = { lit: number } | { re: RegExp; needs: number[] };

interface CompiledCondition {
  max: number;
  /** `all`, literals first (the same conjunction). */
  all: Term[];
  any: Term[];
  none: Term[];
}
interface Compiled {
  sig: ContentSignature;
  when: CompiledCondition[];
}

/** Literal terms before regular expressions: a file that fails a literal runs no regex. */
const literalsFirst = (terms: Term[]): Term[] => [...terms.filter((t) => 'lit' in t), ...terms.filter((t) => 're' in t)];

/** The signatures and keywords compiled, with every literal they look for listed once (the byte pass's needles). */
function compileAll() {
  const literals: string[] = [];
  const id = (s: string): number => {
    const at = literals.indexOf(s);
    return at >= 0 ? at : literals.push(s) - 1;
  };
  // A regex is guarded by its longest required literal of 3+ printable ASCII characters (what the byte pass finds).
  const guard = (source: string): number[] => {
    const run = requiredLiterals(source).find((r) => r.length >= 3 && /^[\x20-\x7e]+$/.test(r));
    return run === undefined ? [] : [id(run)];
  };
  const term = (b64: string): Term => {
    const t = Buffer.from(b64, 'base64').toString('utf8');
    return t.startsWith('re:') ? { re: new RegExp(t.slice(3), 'i'), needs: guard(t.slice(3)) } : { lit: id(t) };
  };
  const terms = (list: string[] | undefined) => literalsFirst((list ?? []).map(term));
  const compiled: Compiled[] = SIGNATURES.map((sig) => ({ sig, when: sig.when.map((w) => ({ max: w.max, all: terms(w.all), any: terms(w.any), none: terms(w.none) })) }));
  const keywords = SHELL_KEYWORDS.map((b64) => ({ name: Buffer.from(b64, 'base64').toString('utf8').replace(/^re:/, ''), term: term(b64) }));
  // WS-29's page directive, and the Java pages it leaves out.
  const page = { directive: id('page language='), java: id('page language="java"') };
  return { literals, compiled, keywords, page };
}

const { literals: LITERALS, compiled: COMPILED, keywords: KEYWORD_TERMS, page: PAGE } = compileAll();

/** One searchable text of a file: which literals it holds, and the text itself for regular expressions. */
export interface TextProbe {
  has(lit: number): boolean;
  text(): string;
}

function holdsTerm(t: Term, p: TextProbe): boolean {
  return 'lit' in t ? p.has(t.lit) : t.needs.every((n) => p.has(n)) && t.re.test(p.text());
}

function holds(c: CompiledCondition, size: number, p: TextProbe): boolean {
  return (
    size <= c.max &&
    c.all.every((t) => holdsTerm(t, p)) &&
    (c.any.length === 0 || c.any.some((t) => holdsTerm(t, p))) &&
    !c.none.some((t) => holdsTerm(t, p))
  );
}

/** The searchable texts of a file: Latin-1 lower case, plus UTF-16 lower case when it looks wide. */
export function fileTexts(buf: Buffer): string[] {
  const texts = [buf.toString('latin1').toLowerCase()];
  if (looksWide(buf)) texts.push(wideText(buf).toLowerCase());
  return texts;
}

/**
 * UTF-16 text: big-endian after its BOM (ASP.NET reads a page saved so: a China Chopper in UTF-16BE ran, and matched
 * no signature), else little-endian. A copy is swapped, never the evidence buffer.
 */
function wideText(buf: Buffer): string {
  if (buf[0] !== 0xfe || buf[1] !== 0xff) return buf.toString('utf16le');
  return Buffer.from(buf.subarray(0, buf.length & ~1)).swap16().toString('utf16le');
}

/** A UTF-16 BOM (either order), or many NULs at odd offsets near the start. */
function looksWide(buf: Buffer): boolean {
  if ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff)) return true;
  const n = Math.min(buf.length, 512);
  let zeros = 0;
  for (let i = 1; i < n; i += 2) if (buf[i] === 0) zeros++;
  return n > 16 && zeros > n / 4;
}

/** Bytes per LineNeedles.find call (its longest line). */
const WINDOW = 64 * 1024;
const LONGEST = Math.max(...LITERALS.map((l) => l.length));
/**
 * The plan's sample: this much of the thread's first text files (no NUL in their start), at most PLAN_PART of each:
 * a tiny first file, or images and fonts, plan fingerprints that are frequent in the web files to come.
 */
const PLAN_SAMPLE = 64 * 1024;
const PLAN_PART = 8 * 1024;

/**
 * One thread's byte pass over files for the literals (a sweep makes one per worker), planned from the start of its
 * first files (the plan only sets speed: every candidate is verified). `present` is null until then, where
 * WebAssembly SIMD is missing, or when a window holds too many occurrences: the literals are then tested on the text.
 */
export class LiteralFinder {
  private needles: LineNeedles | null | undefined;
  private readonly sample: Buffer[] = [];
  private sampled = 0;

  present(buf: Buffer): Uint8Array | null {
    if (this.needles === undefined) {
      const part = buf.subarray(0, PLAN_PART);
      if (part.includes(0)) return null;
      this.sample.push(Buffer.from(part));
      this.sampled += part.length;
      if (this.sampled < PLAN_SAMPLE) return null;
      this.needles = LineNeedles.plan(LITERALS.map((text) => ({ text, insensitive: true })), Buffer.concat(this.sample));
      this.sample.length = 0;
    }
    const ln = this.needles;
    if (ln === null) return null;
    const seen = new Uint8Array(LITERALS.length);
    // Windows overlap by the longest literal less one byte: an occurrence across an edge is whole in one of them.
    for (let s = 0; s < buf.length; s += WINDOW - LONGEST + 1) {
      const end = Math.min(buf.length, s + WINDOW);
      const n = ln.find(buf, s, end, -1);
      if (n < 0) return null;
      for (let k = 0; k < n; k++) seen[ln.needle(k)] = 1;
      if (end === buf.length) break;
    }
    return seen;
  }
}

/**
 * A file's content as the content rules read it: its texts (fileTexts), decoded when first needed, and for the
 * Latin-1 text the literals the byte pass found. Lower-cased Latin-1 holds a lower-case ASCII literal exactly
 * where the bytes hold it in any ASCII case, so the byte pass answers `includes` on that text.
 */
export class FileContent {
  private decoded: string[] | null = null;
  readonly probes: TextProbe[];

  constructor(readonly buf: Buffer, finder: LiteralFinder | null) {
    const seen = finder?.present(buf) ?? null;
    const first: TextProbe = seen === null ? { has: (lit) => this.texts()[0].includes(LITERALS[lit]), text: () => this.texts()[0] } : { has: (lit) => seen[lit] === 1, text: () => this.texts()[0] };
    this.probes = looksWide(buf) ? [first, { has: (lit) => this.texts()[1].includes(LITERALS[lit]), text: () => this.texts()[1] }] : [first];
  }

  texts(): string[] {
    return (this.decoded ??= fileTexts(this.buf));
  }
}

/** Content signatures that match (at most one hit per signature). */
export function matchSignatures(content: FileContent, size: number): ContentSignature[] {
  return COMPILED.filter((c) => c.when.some((w) => content.probes.some((p) => holds(w, size, p)))).map((c) => c.sig);
}

/** WS-31: the cert-lv keywords present in the file's texts (distinct). */
export function shellKeywords(content: FileContent): string[] {
  return content.probes.flatMap((p) => KEYWORD_TERMS.filter((k) => holdsTerm(k.term, p)).map((k) => k.name)).filter((k, i, a) => a.indexOf(k) === i);
}

// ---- magic numbers ---------------------------------------------------------------------------------------

export const MAGIC = {
  pst: (h: Buffer) => h.length >= 4 && h.readUInt32BE(0) === 0x2142444e, // "!BDN"
  der: (h: Buffer) => h.length >= 2 && h[0] === 0x30 && h[1] === 0x82,
  minidump: (h: Buffer) => h.length >= 4 && h.toString('latin1', 0, 4) === 'MDMP',
  zip: (h: Buffer) => h.length >= 4 && h.readUInt32LE(0) === 0x04034b50,
  sevenZip: (h: Buffer) => h.length >= 6 && h.toString('latin1', 0, 6) === '7z\xbc\xaf\x27\x1c',
  rar: (h: Buffer) => h.length >= 7 && h.toString('latin1', 0, 7) === 'Rar!\x1a\x07\x00' || (h.length >= 8 && h.toString('latin1', 0, 8) === 'Rar!\x1a\x07\x01\x00'),
  pe: (h: Buffer) => h.length >= 2 && h[0] === 0x4d && h[1] === 0x5a,
};

/** Headers of formats that legitimately start with binary bytes (signature-base's exclusions for WS-29). */
const BINARY_HEADERS = [
  [0x50, 0x4b], [0x52, 0x61, 0x72, 0x21], [0x1f, 0x8b], [0x4d, 0x5a], [0xd0, 0xcf, 0x11, 0xe0], [0xd4, 0xc3, 0xb2, 0xa1],
  [0xa1, 0xb2, 0xc3, 0xd4], [0x0a, 0x0d, 0x0d, 0x0a], [0x4d, 0x53, 0x43, 0x46], [0xef, 0xbb, 0xbf], [0xff, 0xfe], [0xfe, 0xff],
];

/** WS-29: an ASP.NET page directive in a file whose first 8 bytes are not text (a file carried inside another). */
export function binaryPage(head: Buffer, content: FileContent): boolean {
  const text = content.probes[0];
  if (!text.has(PAGE.directive) || text.has(PAGE.java)) return false;
  if (BINARY_HEADERS.some((sig) => sig.every((b, i) => head[i] === b))) return false;
  for (let i = 0; i < Math.min(8, head.length); i++) {
    const c = head[i];
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return true;
  }
  return false;
}
