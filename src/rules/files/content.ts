// Matchers over file bytes: decoded content signatures, magic-number checks (PST / DER / binary "aspx",
// minidumps) and the WS-31 keyword heuristic.
import { SHELL_KEYWORDS, SIGNATURES, type ContentSignature } from './signatures.js';

type Term = ((text: string) => boolean) & { regex: boolean };

function compileTerm(b64: string): Term {
  const t = Buffer.from(b64, 'base64').toString('utf8');
  if (t.startsWith('re:')) {
    const re = new RegExp(t.slice(3), 'i');
    return Object.assign((text: string) => re.test(text), { regex: true });
  }
  return Object.assign((text: string) => text.includes(t), { regex: false });
}

/** Literal terms before regular expressions: a file that fails a cheap `includes` runs no regex. */
const literalsFirst = (terms: Term[]): Term[] => [...terms.filter((t) => !t.regex), ...terms.filter((t) => t.regex)];

interface CompiledCondition {
  max: number;
  /** `all` split into its literals and regexes, tested in that order (the same conjunction). */
  allLiterals: Term[];
  allRegexes: Term[];
  any: Term[];
  none: Term[];
}
interface Compiled {
  sig: ContentSignature;
  when: CompiledCondition[];
}

const COMPILED: readonly Compiled[] = SIGNATURES.map((sig) => ({
  sig,
  when: sig.when.map((w) => {
    const all = (w.all ?? []).map(compileTerm);
    return {
      max: w.max,
      allLiterals: all.filter((t) => !t.regex),
      allRegexes: all.filter((t) => t.regex),
      any: literalsFirst((w.any ?? []).map(compileTerm)),
      none: literalsFirst((w.none ?? []).map(compileTerm)),
    };
  }),
}));

/** The searchable texts of a file: Latin-1 lower case, plus UTF-16LE lower case when it looks wide. */
export function fileTexts(buf: Buffer): string[] {
  const texts = [buf.toString('latin1').toLowerCase()];
  if (looksWide(buf)) texts.push(buf.toString('utf16le').toLowerCase());
  return texts;
}

/** UTF-16LE BOM, or many NULs at odd offsets near the start. */
function looksWide(buf: Buffer): boolean {
  if (buf[0] === 0xff && buf[1] === 0xfe) return true;
  const n = Math.min(buf.length, 512);
  let zeros = 0;
  for (let i = 1; i < n; i += 2) if (buf[i] === 0) zeros++;
  return n > 16 && zeros > n / 4;
}

function holds(c: CompiledCondition, size: number, text: string): boolean {
  return (
    size <= c.max &&
    c.allLiterals.every((t) => t(text)) &&
    c.allRegexes.every((t) => t(text)) &&
    (c.any.length === 0 || c.any.some((t) => t(text))) &&
    !c.none.some((t) => t(text))
  );
}

/** Content signatures that match (at most one hit per signature). */
export function matchSignatures(texts: string[], size: number): ContentSignature[] {
  return COMPILED
    .filter((c) => c.when.some((w) => texts.some((t) => holds(w, size, t))))
    .map((c) => c.sig);
}

const KEYWORD_TERMS: ReadonlyArray<{ name: string; test: Term }> = SHELL_KEYWORDS.map((b64) => ({ name: Buffer.from(b64, 'base64').toString('utf8').replace(/^re:/, ''), test: compileTerm(b64) }));
/** WS-31: the cert-lv keywords present in the text (distinct). */
export function shellKeywords(text: string): string[] {
  return KEYWORD_TERMS.filter((k) => k.test(text)).map((k) => k.name);
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
export function binaryPage(head: Buffer, lowerText: string): boolean {
  if (!lowerText.includes('page language=') || lowerText.includes('page language="java"')) return false;
  if (BINARY_HEADERS.some((sig) => sig.every((b, i) => head[i] === b))) return false;
  for (let i = 0; i < Math.min(8, head.length); i++) {
    const c = head[i];
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return true;
  }
  return false;
}
