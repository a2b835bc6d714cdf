// The content signatures' prefilters are necessary conditions: the byte pass (one SIMD pass for every literal) and
// the literal each regular expression is guarded by must never hide a match the plain text search finds.
import { describe, expect, it } from 'vitest';
import { FileContent, LiteralFinder, binaryPage, matchSignatures, requiredLiterals, shellKeywords } from '../src/rules/files/content.js';
import { SHELL_KEYWORDS, SIGNATURES } from '../src/rules/files/signatures.js';
import { simdAvailable } from '../src/search/multifind.js';

const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

/** A shortest-path match of every regex term (optional parts left out), by its source. */
const WITNESS: Record<string, string[]> = {
  '<%@\\s*page\\s+language=.jscript.%>\\s*<%\\s*eval\\(request\\.item\\[[\\s\\S]{0,100}unsafe': ['<%@page language="jscript"%><%eval(request.item[unsafe'],
  'eval\\(request\\["[\\s\\S]{1,32}"\\],"unsafe"\\)': ['eval(request["x"],"unsafe")'],
  '\\(request\\.item\\[[\\s\\S]{1,36}\\]\\)\\),"unsafe"\\)': ['(request.item[x])),"unsafe")'],
  'io\\.streamwriter\\(request\\.form\\[[\\s\\S]{1,24}\\]': ['io.streamwriter(request.form[x]'],
  'write\\(request\\.form\\[[\\s\\S]{1,24}\\]': ['write(request.form[x]'],
  'eval\\s*\\([^)]{0,80}(\\\\x[0-9a-f]{2}){2,}': ['eval(\\x41\\x42'],
  'inherits\\s{0,4}=\\s{0,4}["\']microsoft\\.exchange\\.': ['inherits="microsoft.exchange.'],
  'request(?:\\.(?:form|params|querystring|cookies|item))?\\s{0,4}[\\[(]\\s{0,4}["\'](?:password|passwordtext|passwd|pwd|pass)["\']|request\\.form\\.get(?:values)?\\(\\s{0,4}["\']password': ['request("pwd"', 'request.form.get("password'],
  '(?:(?:gbid|getelementbyid)\\(\\s{0,4}["\']password(?:text)?["\']\\s{0,4}\\)|logonform(?:\\.password|\\[["\']password["\']\\])|\\$\\(\\s{0,4}["\']#password["\']\\s{0,4}\\))\\.val(?:ue|\\()': ['gbid("password").value', '$("#password").val(', 'logonform.password.value'],
  'document\\.cookie\\s{0,4}=[^;\\n]{0,200}(?:password|passw|pwd)': ['document.cookie=pwd'],
  'externalurl|internalurl': ['internalurl', 'externalurl'],
  ': http://[\\s\\S]/': [': http://x/'],
  'eval\\s?\\(': ['eval('],
  'process\\s?\\(': ['process('],
};

const regexTerms = [...SIGNATURES.flatMap((s) => s.when.flatMap((w) => [...(w.all ?? []), ...(w.any ?? []), ...(w.none ?? [])])), ...SHELL_KEYWORDS]
  .map(decode)
  .filter((t) => t.startsWith('re:'))
  .map((t) => t.slice(3));

/** A text that holds one condition: its `all` terms and first `any` term (a regex as its witness). */
const asText = (t: string) => (t.startsWith('re:') ? WITNESS[t.slice(3)][0] : t);

/** Benign web text to plan the byte pass from (it plans from the start of a thread's first files, 64 KiB in all). */
const FILLER = Buffer.from('function render(items) { var div = this.layout; return span.margin + color; }\n'.repeat(1000), 'latin1');

function planned(): LiteralFinder {
  const finder = new LiteralFinder();
  for (let i = 0; i < 16 && finder.present(FILLER) === null; i++);
  return finder;
}

function bothWays(buf: Buffer, finder: LiteralFinder) {
  const fast = new FileContent(buf, finder);
  const plain = new FileContent(buf, null);
  const ids = (c: FileContent) => matchSignatures(c, buf.length).map((s) => s.id);
  return {
    fast: { sigs: ids(fast), keywords: shellKeywords(fast), page: binaryPage(buf.subarray(0, 8), fast) },
    plain: { sigs: ids(plain), keywords: shellKeywords(plain), page: binaryPage(buf.subarray(0, 8), plain) },
  };
}

describe('content signature prefilters', () => {
  it('reads the literals a regex needs, leaving out optional parts, classes and groups', () => {
    expect(requiredLiterals('eval\\s?\\(')).toEqual(['eval', '(']);
    expect(requiredLiterals('ab?c')).toEqual(['a', 'c']);
    expect(requiredLiterals('ab*cd')).toEqual(['cd', 'a']);
    expect(requiredLiterals('ab+cd')).toEqual(['ab', 'cd']);
    expect(requiredLiterals('xa{0,3}yz')).toEqual(['yz', 'x']);
    expect(requiredLiterals('xa{2}yz')).toEqual(['xa', 'yz']);
    expect(requiredLiterals('[abc]DEF(?:gh)+ij')).toEqual(['def', 'ij']);
    expect(requiredLiterals('\\w+\\.dll\\b')).toEqual(['.dll']);
    expect(requiredLiterals('a.b^c$')).toEqual(['a', 'b', 'c']);
    // A top-level alternation, or what the reader does not know: no guard (the regex always runs).
    expect(requiredLiterals('abc|def')).toEqual([]);
    expect(requiredLiterals('abc{')).toEqual([]);
    expect(requiredLiterals('(abc')).toEqual([]);
  });

  it('reads escapes that take more than one character as what they match (a wrong guard would hide a match)', () => {
    // Each source with a text it matches: every literal read from it must be in that text.
    const cases: Array<[string, string]> = [
      ['\\x3c%@\\s*page', '<%@ page'],
      ['eval\\u0028request', 'eval(request'],
      ['\\x4a\\x53cript', 'JScript'],
      ['\\cJabc', '\nabc'],
      ['(?<q>[\'"])x\\k<q>abc', '"x"abc'],
      ['(a)\\1bcd', 'aabcd'],
      ['(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)\\12mno', 'abcdefghijkllmno'],
      ['\\101bcd', 'Abcd'],
      ['\\0123xyz', '\u000a3xyz'],
      ['\\x4gzz', 'x4gzz'],
      ['\\u{41}bc', `${'u'.repeat(41)}bc`],
    ];
    for (const [source, text] of cases) {
      expect(new RegExp(source, 'i').test(text), `${source} matches ${JSON.stringify(text)}`).toBe(true);
      for (const lit of requiredLiterals(source)) expect(text.toLowerCase(), `${source} needs ${JSON.stringify(lit)}`).toContain(lit);
    }
    // The character an escape names is a literal like any other.
    expect(requiredLiterals('\\x3c%@\\s*page')).toEqual(['page', '<%@']);
    expect(requiredLiterals('eval\\u0028request')).toEqual(['eval(request']);
  });

  it('has a witness for every regex term, and every guard literal is in it', () => {
    expect(regexTerms.filter((r) => WITNESS[r] === undefined)).toEqual([]);
    for (const r of regexTerms) {
      for (const w of WITNESS[r]) {
        expect(new RegExp(r, 'i').test(w), `${r} matches ${w}`).toBe(true);
        for (const lit of requiredLiterals(r)) expect(w.toLowerCase(), `${r} needs ${lit}`).toContain(lit);
      }
    }
  });

  it('uses only lower-case ASCII literals (what the byte pass folds case for)', () => {
    const literals = [...SIGNATURES.flatMap((s) => s.when.flatMap((w) => [...(w.all ?? []), ...(w.any ?? []), ...(w.none ?? [])])), ...SHELL_KEYWORDS].map(decode).filter((t) => !t.startsWith('re:'));
    expect(literals.filter((l) => !/^[\x20-\x7e]+$/.test(l) || l !== l.toLowerCase())).toEqual([]);
  });

  it('finds each condition the same way with the byte pass as with the text search, in any case, across window edges and wide', (ctx) => {
    if (!simdAvailable()) ctx.skip();
    const finder = planned();
    expect(finder.present(Buffer.from('x'))).not.toBeNull();
    let matched = 0;
    for (const sig of SIGNATURES) {
      for (const w of sig.when) {
        const text = [...(w.all ?? []), ...(w.any ?? []).slice(0, 1)].map((t) => asText(decode(t))).join(' \n ');
        const variants = [
          Buffer.from(text, 'latin1'),
          Buffer.from(text.toUpperCase(), 'latin1'),
          // The condition's text straddling the byte pass's 64 KiB windows.
          Buffer.concat([FILLER.subarray(0, 65536 - 7), Buffer.from(text, 'latin1')]),
          Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
        ];
        for (const v of variants) {
          const r = bothWays(v, finder);
          expect(r.fast, `${sig.id} ${text}`).toEqual(r.plain);
        }
        // The condition's own text matches (sizes aside), so the comparison above is not vacuous.
        if (text.length <= w.max) {
          expect(matchSignatures(new FileContent(variants[0], finder), variants[0].length).map((s) => s.id), sig.id).toContain(sig.id);
          matched++;
        }
      }
    }
    expect(matched).toBeGreaterThan(20);
  });

  it('finds the keywords and the page directive the same way', (ctx) => {
    if (!simdAvailable()) ctx.skip();
    const finder = planned();
    const text = [...SHELL_KEYWORDS.map((k) => asText(decode(k))), 'Page Language="C#"'].join(' ');
    const r = bothWays(Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(text, 'latin1')]), finder);
    expect(r.fast).toEqual(r.plain);
    expect(r.fast.keywords.length).toBe(SHELL_KEYWORDS.length);
    expect(r.fast.page).toBe(true);
  });
});
