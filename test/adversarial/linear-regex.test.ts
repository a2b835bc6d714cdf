// The linear-time matcher used for URL Rewrite patterns from evidence: same answers as V8 on the published rules and
// on random patterns (differential), and linear time on the shapes that hang V8.
import { describe, expect, it } from 'vitest';
import { linearRegex, LinearRegexError } from '../../src/mitigations/linear-regex.js';
import { PROXYLOGON_EOMT, PROXYNOTSHELL_VERSIONS } from '../../src/mitigations/catalogue.js';
import { rulePatterns } from '../../src/mitigations/urlrewrite.js';
import { prng } from './gen/random.js';

const PUBLISHED = [...PROXYLOGON_EOMT.rules, ...PROXYNOTSHELL_VERSIONS.map((v) => v.rule)].flatMap(rulePatterns);
const REQUESTS = [
  '/autodiscover/autodiscover.json?@evil.com/Powershell?&Email=autodiscover/autodiscover.json%3F@evil.com',
  '/autodiscover/autodiscover.json?a=1/PowerShell',
  '/autodiscover/autodiscover.xml',
  'X-AnonResource=true; X-AnonResource-Backend=localhost/ecp/default.flt?~3; X-BEResource=localhost/owa/auth/logon.aspx?~3',
  'X-BEResource=a]@EXCH01:444/ecp/proxyLogon.ecp#~1941962753',
  '',
];

/** Small patterns over a tiny alphabet, so random inputs hit both matches and near-misses. */
function randomPattern(rnd: () => number, depth = 0): string {
  const pick = <T,>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const atom = (): string =>
    depth < 2 && rnd() < 0.25 ? `(${pick(['', '?:', '?=', '?!'])}${randomPattern(rnd, depth + 1)})` : pick(['a', 'b', '.', '[ab]', '[^a]', '\\w', '\\s', '\\d', 'A', '-', '^', '$', '\\b', '[a-c]']);
  let s = '';
  for (let n = 1 + Math.floor(rnd() * 4); n > 0; n--) {
    let a = atom();
    if (!['^', '$', '\\b'].includes(a) && rnd() < 0.4) a += pick(['*', '+', '?', '{2}', '{1,3}', '{2,}', '*?']);
    s += a;
  }
  return rnd() < 0.2 ? `${s}|${randomPattern(rnd, depth + 1)}` : s;
}

describe('linear-time matcher for evidence patterns', () => {
  it('agrees with V8 on the published URL Rewrite rules', () => {
    for (const p of PUBLISHED) for (const ic of [true, false]) for (const r of REQUESTS) expect([p, r, linearRegex(p, ic).test(r)]).toEqual([p, r, new RegExp(p, ic ? 'i' : '').test(r)]);
  });

  it('agrees with V8 on 1500 random patterns × 20 inputs', () => {
    const rnd = prng(17);
    let matched = 0;
    for (let k = 0; k < 1500; k++) {
      const p = randomPattern(rnd);
      const ic = rnd() < 0.5;
      const re = new RegExp(p, ic ? 'i' : '');
      const lin = linearRegex(p, ic);
      for (let j = 0; j < 20; j++) {
        let input = '';
        for (let n = Math.floor(rnd() * 8); n > 0; n--) input += 'abAB -1\n'[Math.floor(rnd() * 8)];
        const want = re.test(input);
        if (want) matched++;
        expect([p, ic, input, lin.test(input)]).toEqual([p, ic, input, want]);
      }
    }
    expect(matched).toBeGreaterThan(5_000);
  });

  it('refuses back-references, lookbehinds and oversized programs by name', () => {
    expect(() => linearRegex('(a)\\1', true)).toThrow(/back-references/);
    expect(() => linearRegex('(?<=a)b', true)).toThrow(/lookbehind/);
    expect(() => linearRegex('(?:a{1000}){1000}', true)).toThrow(LinearRegexError);
    expect(() => linearRegex('a'.repeat(5000), true)).toThrow(/longer than/);
    expect(() => linearRegex('(a', true)).toThrow(/unterminated/);
  });

  it('the shapes that hang V8 take work linear in the input (V8: hours for the first two on 300 characters)', () => {
    // Work counted in the matcher's steps, not timed: four times the input takes four times the steps (a
    // backtracking engine's work multiplies per repetition).
    const cases: Array<[string, (n: number) => string, number, number]> = [
      ['(?:X-BEResource|.|.)*!', (n) => 'X-BEResource'.repeat(n), 5_000, 4],
      ['.*.*.*.*!', (n) => 'x'.repeat(n), 50_000, 4],
      ['(a+)+$', (n) => `${'a'.repeat(n)}!`, 50_000, 4],
      // Lookaheads are quadratic (an anchored sub-match per position): fine for requests, which IIS caps at 16 KB.
      ['(?=.*autodiscover)(?=.*powershell)', (n) => 'autodiscover'.repeat(n), 50, 16],
    ];
    for (const [p, input, n, growth] of cases) {
      const re = linearRegex(p, true);
      const steps = (k: number) => {
        const work = { steps: 0 };
        re.test(input(k), work);
        return work.steps;
      };
      expect([p, steps(4 * n) / steps(n) <= growth * 1.02]).toEqual([p, true]);
    }
  });
});
