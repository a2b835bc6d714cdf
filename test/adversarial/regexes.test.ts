// Linear-time matching everywhere evidence is matched: every regex literal in src/, every regex exhunt builds at
// run time (rule tables, IOC data, content signatures), run on hostile strings made from its own literals up to
// 1 MB. A failure names the regex's file, line and rule, with the size, the time and the start of the input.
import { describe, expect, it } from 'vitest';
import { INPUT_BOUNDS, sourceRegexes, timeRegex, type NamedRegex } from './regex-budget.js';

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
  it('flags backtracking shapes and passes linear ones with many matches', () => {
    expect(timeRegex({ name: 'nested', re: /(?:a|a)*!/ }, 1 << 20)?.name).toBe('nested');
    expect(timeRegex({ name: 'quadratic', re: /\s*=x/g }, 1 << 20)?.name).toBe('quadratic');
    expect(timeRegex({ name: 'linear', re: /\//g }, 1 << 20)).toBeNull();
  });
});

describe('every regex that sees evidence runs in linear time', async () => {
  const all = [...sourceRegexes(), ...(await runtimeRegexes())];

  it('finds the regexes (the enumeration itself works)', () => {
    expect(all.length).toBeGreaterThan(150);
    expect(all.some((r) => r.name.includes('(PL-22 match)'))).toBe(true);
    expect(all.some((r) => r.name.startsWith('new RegExp at src/rules/iis.ts'))).toBe(true);
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
