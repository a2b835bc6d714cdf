// Linear-time matching everywhere evidence is matched: every regex literal in src/, every regex exhunt builds at
// run time (rule tables, IOC data, content signatures), run on hostile strings made from its own literals up to
// 1 MB. A failure names the regex's file, line and rule, with the size, the time and the start of the input.
import { describe, expect, it } from 'vitest';
import { INPUT_BOUNDS, alternativesOf, hostileUnits, sourceRegexes, superLinearWork, timeRegex, type NamedRegex } from './regex-budget.js';

/** Regexes built with `new RegExp` at run time: recorded by wrapping the constructor while the modules load. */
async function runtimeRegexes(): Promise<NamedRegex[]> {
  const out: NamedRegex[] = [];
  const Original = RegExp;
  globalThis.RegExp = new Proxy(Original, {
    construct(target, args: [string | RegExp, string?]) {
      const re = Reflect.construct(target, args) as RegExp;
      const site = new Error().stack?.split('\n').find((l) => l.includes('/src/'));
      if (site) out.push({ name: `new RegExp at ${site.trim().replace(/^at /, '').replace(/.*\/src\//, 'src/')} ${re.source.slice(0, 80)}`, re });
      return re;
    },
  });
  try {
    await import('../../src/engine/registry.js');
    const { builtinIocs } = await import('../../src/rules/iocs.js');
    builtinIocs();
    const { SIGNATURES, SHELL_KEYWORDS } = await import('../../src/rules/files/signatures.js');
    const terms = [...SHELL_KEYWORDS, ...SIGNATURES.flatMap((s) => s.when.flatMap((w) => [...(w.all ?? []), ...(w.any ?? []), ...(w.none ?? [])]))];
    for (const b64 of terms) {
      const t = Buffer.from(b64, 'base64').toString('utf8');
      if (t.startsWith('re:')) out.push({ name: `content signature ${t.slice(0, 80)}`, re: new Original(t.slice(3), 'i') });
    }
  } finally {
    globalThis.RegExp = Original;
  }
  return out;
}

describe('the timing harness', () => {
  it("repeats every alternative's own literals, not only the first ones", () => {
    expect(alternativesOf('a(b|c)|[|]d|e\\|f')).toEqual(['a(b|c)', '[|]d', 'e\\|f']);
    const late = ['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8', 'x9'].map((x) => `${x}y`).join('|');
    expect(hostileUnits(`${late}|(?:@|%40)(?:[a-z]|%[0-9a-f]{2})+/`)).toContain('%40');
    // The shape it exists for: flagged when unbounded.
    expect(timeRegex({ name: 'unbounded', re: new RegExp(`${late}|(?:@|%40)(?:[a-z]|%[0-9a-f]{2})+/`, 'i') }, 1 << 20)?.name).toBe('unbounded');
  });

  it('flags backtracking shapes and passes linear ones with many matches', () => {
    expect(timeRegex({ name: 'nested', re: /(?:a|a)*!/ }, 1 << 20)?.name).toBe('nested');
    expect(timeRegex({ name: 'quadratic', re: /\s*=x/g }, 1 << 20)?.name).toBe('quadratic');
    expect(timeRegex({ name: 'linear', re: /\//g }, 1 << 20)).toBeNull();
  });

  it('flags any work that grows faster than its input (rule matches, parsers), not linear work', () => {
    const quadratic = /\s*=x/;
    expect(superLinearWork((n) => ' '.repeat(n), (s) => quadratic.exec(s), 1 << 20)?.size).toBeGreaterThan(256);
    expect(superLinearWork((n) => ' '.repeat(n), (s) => s.indexOf('=x'), 1 << 20)).toBeNull();
  });
});

/** Every regex a rule carries (its line test), named by the rule: listed even if another enumeration missed it. */
async function ruleRegexes(): Promise<NamedRegex[]> {
  const { defaultRuleSet } = await import('../../src/rules/ruleset.js');
  return defaultRuleSet().recordRules.flatMap((r) => (r.lineTest ? [{ name: `lineTest of ${r.id} ${r.lineTest.source.slice(0, 80)}`, re: r.lineTest }] : []));
}

describe('every regex that sees evidence runs in linear time', async () => {
  const found = [...sourceRegexes(), ...(await runtimeRegexes())];
  const rules = await ruleRegexes();
  const all = [...found, ...rules.filter((r) => !found.some((f) => f.re.source === r.re.source && f.re.flags === r.re.flags))];

  it('finds the regexes (the enumeration itself works)', () => {
    expect(all.length).toBeGreaterThan(150);
    expect(all.some((r) => r.name.includes('(PL-22 match)'))).toBe(true);
    expect(all.some((r) => r.name.startsWith('new RegExp at src/rules/iis.ts'))).toBe(true);
    // Every rule's line test is among them (the autodiscover.json one was once quadratic).
    expect(rules.length).toBeGreaterThan(10);
    for (const r of rules) expect(all.some((a) => a.re.source === r.re.source && a.re.flags === r.re.flags), r.name).toBe(true);
  });

  it(`each stays within its time budget on hostile inputs up to 1 MB`, { timeout: 600_000 }, () => {
    const slow = all
      .map((r) => {
        const bound = INPUT_BOUNDS.find((b) => b.name.test(r.name));
        return bound?.max === 0 ? null : timeRegex(r, bound?.max ?? 1 << 20);
      })
      .filter((s) => s !== null);
    expect(slow).toEqual([]);
  });
});
