import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { collectLines, LineNeedles, NO_SUCH_FIELD, PairFilter, planData, planMultiFinder, SearchKernel, simdAvailable, type PairClass, type PlanOptions, type ScannedText } from '../src/search/multifind.js';
import { byteHistogram, compileNeedles, type NeedleSpec } from '../src/search/needles.js';
import { defaultRuleSet } from '../src/rules/ruleset.js';
import { external } from './support/external.js';
import { rng } from './support/rng.js';

const RECORD_RULES = defaultRuleSet().recordRules;

const QZ = external('Qazeer-artefacts.help/extracted'); // vendored (CC0)

/** Start offsets of the lines (split at LF) that contain a needle, by plain string search. */
function naive(buf: Buffer, specs: NeedleSpec[]): number[] {
  const text = buf.toString('latin1');
  const starts: number[] = [];
  let pos = 0;
  for (const line of text.split('\n')) {
    // ASCII-only case folding, as the finders do (toLowerCase would also fold latin1 letters).
    const folded = line.replace(/[A-Z]/g, (c) => c.toLowerCase());
    if (specs.some((s) => (s.insensitive ? folded.includes(s.text.replace(/[A-Z]/g, (c) => c.toLowerCase())) : line.includes(s.text)))) starts.push(pos);
    pos += line.length + 1;
  }
  return starts;
}

function found(buf: Buffer, specs: NeedleSpec[], opts: PlanOptions, hist = byteHistogram(buf)): number[] {
  const mf = planMultiFinder(specs, hist, opts);
  const out: number[] = [];
  const scanned = collectLines(mf, buf, out);
  if (scanned !== null) expectNumbered(buf, scanned, out);
  return [...new Set(out)].sort((a, b) => a - b);
}

/**
 * The SIMD pass's own numbering (ScannedText.lines, newlines) against a plain count: each line it found once, in
 * order, with its end (line feed or buffer end) and the line feeds before it; all line feeds of the buffer.
 */
function expectNumbered(buf: Buffer, scanned: ScannedText, out: number[]): void {
  const before = new Int32Array(buf.length + 1);
  for (let i = 0; i < buf.length; i++) before[i + 1] = before[i] + (buf[i] === 10 ? 1 : 0);
  expect(scanned.newlines).toBe(before[buf.length]);
  const got: number[][] = [];
  for (let k = 0; k < scanned.found; k++) got.push([scanned.lines[3 * k], scanned.lines[3 * k + 1], scanned.lines[3 * k + 2]]);
  const starts = [...new Set(out)].sort((a, b) => a - b);
  // Every line the pass added to `out` (the rest came from needles searched apart).
  const simd = got.map((l) => l[0]);
  expect(simd).toEqual(starts.filter((s) => simd.includes(s)));
  const want = simd.map((s) => {
    const nl = buf.indexOf(10, s);
    return [s, nl === -1 ? buf.length : nl, before[s]];
  });
  expect(got).toEqual(want);
}

describe('multifind', () => {
  it('has WebAssembly SIMD in this Node', () => {
    expect(simdAvailable()).toBe(true);
  });

  it('finds exactly the lines a naive search finds: random text, 1-60 needles, mixed case, every mode', () => {
    const rnd = rng(20210302);
    const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
    // Small alphabets so that needles, near misses and case variants are frequent; \x00 and latin1 to catch padding
    // and folding mistakes.
    // The edges of A-Z and a-z and their neighbours ('@[`{') check the case folding.
    const alphabets = ['0123456789.\n', '0123456789..aAbB\n', 'aAbBsSeErRvV~/.@\n ,1', 'xyXY01.\n\r\x00\xe9\xc9', '1.\n', 'aAzZ@[`{\n'];
    let lines = 0;
    for (let round = 0; round < 1500; round++) {
      const alphabet = alphabets[round % alphabets.length];
      const len = round % 50 === 0 ? int(0, 40) : int(1, 3000);
      const chars = Array.from({ length: len }, () => alphabet[int(0, alphabet.length - 1)]);
      const nNeedles = round % 7 === 0 ? int(30, 60) : int(1, 12);
      const specs: NeedleSpec[] = [];
      for (let k = 0; k < nNeedles; k++) {
        const nlen = int(1, round % 3 === 0 ? 40 : 8);
        let text = Array.from({ length: nlen }, () => alphabet[int(0, alphabet.length - 1)]).join('');
        // Some needles taken from the text, and some planted at its very end or start.
        if (len > nlen && rnd() < 0.5) {
          const at = rnd() < 0.2 ? len - nlen : rnd() < 0.2 ? 0 : int(0, len - nlen);
          text = chars.slice(at, at + nlen).join('');
        }
        text = text.replace(/\n/g, 'q');
        if (rnd() < 0.3) text = text.toUpperCase();
        specs.push({ text, insensitive: rnd() < 0.5 });
      }
      if (len > 0 && rnd() < 0.3) {
        // A needle ending on the last byte of the buffer.
        const n = specs[int(0, specs.length - 1)];
        const tail = n.insensitive && rnd() < 0.5 ? n.text.toLowerCase() : n.text;
        chars.splice(Math.max(0, len - tail.length), tail.length, ...tail);
      }
      const buf = Buffer.from(chars.join('').slice(0, Math.max(len, 0)), 'latin1');
      const want = naive(buf, specs);
      lines += want.length;
      const label = `round ${round}: ${JSON.stringify(specs)}`;
      for (const mode of ['simd', 'auto', 'single'] as const) expect(found(buf, specs, { mode }), `${label} ${mode}`).toEqual(want);
      // A histogram from other text (the plan is made once per file, from its first region).
      expect(found(buf, specs, { mode: 'simd' }, byteHistogram(Buffer.from('zzzz'))), `${label} foreign histogram`).toEqual(want);
      // Both kernels, planned from a sample of other text (fingerprints and buckets fit for something else).
      const other = Buffer.from(alphabets[(round + 1) % alphabets.length].repeat(40), 'latin1');
      for (const buckets of [8, 16] as const) {
        expect(found(buf, specs, { mode: 'simd', buckets, sample: other }), `${label} ${buckets} buckets, foreign sample`).toEqual(want);
      }
      if (round % 3 === 0) expect(found(buf, specs, { mode: 'simd', buckets: 16, sample: buf }), `${label} 16 buckets`).toEqual(want);
    }
    expect(lines).toBeGreaterThan(10_000);
  });

  it('handles buffers of every length around the block sizes, with the needle at the last bytes', () => {
    const specs: NeedleSpec[] = [
      { text: '103.77.192.219', insensitive: true },
      { text: 'ServerInfo~', insensitive: false },
      { text: 'x-beresource', insensitive: true },
      { text: 'ab', insensitive: false },
    ];
    for (let len = 0; len < 200; len++) {
      for (const needle of ['103.77.192.219', 'ServerInfo~', 'X-BEResource', 'ab']) {
        if (len < needle.length) continue;
        const body = `${'1.2.3\n'.repeat(50)}`.slice(0, len - needle.length) + needle;
        const buf = Buffer.from(body, 'latin1');
        const want = naive(buf, specs);
        expect(want.length).toBeGreaterThan(0);
        for (const buckets of [8, 16] as const) expect(found(buf, specs, { mode: 'simd', buckets }), `${len} ${needle} ${buckets}`).toEqual(want);
      }
      const miss = Buffer.from('103.77.192.21\n'.repeat(20).slice(0, len), 'latin1');
      for (const buckets of [8, 16] as const) expect(found(miss, specs, { mode: 'simd', buckets })).toEqual([]);
    }
  });

  it('resumes when the match output area fills up, and survives a candidate at every position', () => {
    const many = Buffer.from(`${'xab\n'.repeat(40_000)}ab`, 'latin1');
    const ab: NeedleSpec[] = [{ text: 'AB', insensitive: true }];
    const want = naive(many, ab);
    expect(want.length).toBe(40_001);
    for (const buckets of [8, 16] as const) expect(found(many, ab, { mode: 'simd', buckets })).toEqual(want);
    // Every position is a candidate, and only the end of the second long line matches.
    const specs: NeedleSpec[] = [{ text: '1111111111x', insensitive: false }];
    const ones = Buffer.from(`${'1'.repeat(1_000_000)}\n${'1'.repeat(999_999)}x\n222\n1`, 'latin1');
    for (const buckets of [8, 16] as const) expect(found(ones, specs, { mode: 'simd', buckets })).toEqual([1_000_001]);
    // The same in the second set of buckets: 15 needles that never occur take buckets of their own first.
    const never: NeedleSpec[] = Array.from({ length: 15 }, (_, k) => ({ text: `#${String.fromCharCode(65 + k)}#`, insensitive: false }));
    expect(found(ones, [...never, ...specs], { mode: 'simd', buckets: 16 })).toEqual([1_000_001]);
    expect(found(many, [...never, ...ab], { mode: 'simd', buckets: 16 })).toEqual(want);
  });

  it('finds the httpproxy rule needles planted in a real HttpProxy log, in every mode', () => {
    const specs = compileNeedles(RECORD_RULES.filter((r) => r.formats.includes('httpproxy'))).needles;
    expect(specs.length).toBeGreaterThan(20);
    const real = readFileSync(`${QZ}/Mapi__HttpProxy_2023010601-1.LOG`, 'latin1').split(/\r?\n/).filter((l) => l && !l.startsWith('#'));
    const rnd = rng(4);
    const rows: string[] = [];
    let planted = 0;
    for (let i = 0; i < 4000; i++) {
      let row = real[i % real.length];
      if (rnd() < 0.05) {
        const s = specs[Math.floor(rnd() * specs.length)];
        const text = s.insensitive && rnd() < 0.5 ? s.text.toLowerCase() : s.text;
        const at = Math.floor(rnd() * row.length);
        row = row.slice(0, at) + text + row.slice(at);
        planted++;
      }
      // Near misses: an IP with its last digit cut, a needle with a case change where case matters.
      if (rnd() < 0.05) row += `,${specs[Math.floor(rnd() * specs.length)].text.slice(0, -1)}`;
      rows.push(row);
    }
    const buf = Buffer.from(`${rows.join('\r\n')}\r\n`, 'latin1');
    const want = naive(buf, specs);
    expect(want.length).toBeGreaterThanOrEqual(Math.min(planted, 1));
    for (const mode of ['simd', 'auto', 'single'] as const) expect(found(buf, specs, { mode }), mode).toEqual(want);
    for (const buckets of [8, 16] as const) expect(found(buf, specs, { mode: 'simd', buckets }), `${buckets} buckets`).toEqual(want);
    const auto = planMultiFinder(specs, byteHistogram(buf));
    expect(auto.simd, 'the IP needles share one SIMD pass').not.toBeNull();
  });

  it('finds the iis rule needles planted in IIS lines (and their near misses), in every mode and both kernels', () => {
    const specs = compileNeedles(RECORD_RULES.filter((r) => r.formats.includes('iis'))).needles;
    expect(specs.length).toBeGreaterThan(40);
    const real = readFileSync('test/fixtures/iis/benign_W3SVC1.log', 'latin1').split(/\r?\n/).filter((l) => l && !l.startsWith('#'));
    const rnd = rng(5);
    const pick = () => specs[Math.floor(rnd() * specs.length)];
    const rows: string[] = [];
    for (let i = 0; i < 6000; i++) {
      let row = real[i % real.length];
      const r = rnd();
      if (r < 0.1) {
        // A needle in another case, at any place (also first and last).
        const s = pick();
        const text = s.insensitive ? s.text.replace(/[a-z]/gi, (c) => (rnd() < 0.5 ? c.toUpperCase() : c.toLowerCase())) : s.text;
        const at = rnd() < 0.2 ? 0 : rnd() < 0.2 ? row.length : Math.floor(rnd() * row.length);
        row = row.slice(0, at) + text + row.slice(at);
      } else if (r < 0.3) {
        // Near misses: a needle with one byte cut or changed.
        const t = pick().text;
        const k = Math.floor(rnd() * t.length);
        row += ` ${rnd() < 0.5 ? t.slice(0, k) + t.slice(k + 1) : t.slice(0, k) + String.fromCharCode(t.charCodeAt(k) ^ 1) + t.slice(k + 1)}`;
      }
      rows.push(row);
    }
    const buf = Buffer.from(`${rows.join('\r\n')}\r\n`, 'latin1');
    const want = naive(buf, specs);
    expect(want.length).toBeGreaterThan(500);
    for (const mode of ['simd', 'auto', 'single'] as const) expect(found(buf, specs, { mode }), mode).toEqual(want);
    for (const buckets of [8, 16] as const) {
      expect(found(buf, specs, { mode: 'simd', buckets }), `${buckets} buckets`).toEqual(want);
      expect(found(buf, specs, { mode: 'simd', buckets, sample: buf.subarray(0, 5000) }), `${buckets} buckets, sample`).toEqual(want);
    }
    const auto = planMultiFinder(specs, byteHistogram(buf), { sample: buf });
    expect(auto.simd?.buckets.length, 'the many IIS needles use 16 buckets').toBe(16);
  });

  it("takes another thread's plan as data (planData) and finds the same lines with it, planning nothing", () => {
    const specs = compileNeedles(RECORD_RULES.filter((r) => r.formats.includes('iis'))).needles;
    const real = readFileSync('test/fixtures/iis/benign_W3SVC1.log', 'latin1');
    const rnd = rng(16);
    // Text with needles planted, and a plan made from other text (a single needle kept apart, as `auto` may).
    const rows = real.split(/\r?\n/).filter((l) => l && !l.startsWith('#'));
    const text = Buffer.from(`${Array.from({ length: 3000 }, (_, i) => (rnd() < 0.1 ? `${rows[i % rows.length]} ${specs[Math.floor(rnd() * specs.length)].text}` : rows[i % rows.length])).join('\n')}\n`, 'latin1');
    const want = naive(text, specs);
    expect(want.length).toBeGreaterThan(200);
    for (const opts of [{ sample: Buffer.from(real, 'latin1') }, { mode: 'simd', buckets: 8 }] satisfies PlanOptions[]) {
      const made = planMultiFinder(specs, byteHistogram(Buffer.from(real, 'latin1')), opts);
      // Planned at once from a sample, else by the first search.
      if (!('sample' in opts)) expect(planData(made), 'no plan before a search').toBeNull();
      collectLines(made, text, []);
      const data = planData(made)!;
      expect(data.needles).toBe(specs.length);
      // Through a structured clone, as between threads.
      const taken = planMultiFinder(specs, byteHistogram(text), { plan: structuredClone(data) });
      expect(planData(taken), 'the plan as given, before any search').toEqual(data);
      expect(taken.simd?.buckets.map((b) => b.map((n) => [n.f.needle.toString('latin1'), n.fp]))).toEqual(made.simd?.buckets.map((b) => b.map((n) => [n.f.needle.toString('latin1'), n.fp])));
      const out: number[] = [];
      const scanned = collectLines(taken, text, out);
      if (scanned !== null) expectNumbered(text, scanned, out);
      expect([...new Set(out)].sort((a, b) => a - b)).toEqual(want);
    }
    expect(() => planMultiFinder(specs.slice(1), byteHistogram(text), { plan: planData(planMultiFinder(specs, byteHistogram(text), { sample: text }))! })).toThrow(/shared plan/);
  });
});

describe('LineNeedles (all16: every needle of a line, with the separators before it)', () => {
  /** Every (needle index, separators before it) in `line`, by plain string search (ASCII folding). */
  function reference(line: string, specs: NeedleSpec[], sep: string): string[] {
    const fold = (x: string) => x.replace(/[A-Z]/g, (c) => c.toLowerCase());
    const out: string[] = [];
    specs.forEach((s, i) => {
      const hay = s.insensitive ? fold(line) : line;
      const n = s.insensitive ? fold(s.text) : s.text;
      for (let p = hay.indexOf(n); p !== -1; p = hay.indexOf(n, p + 1)) out.push(`${i}@${line.slice(0, p).split(sep).length - 1}`);
    });
    return out.sort();
  }

  it.skipIf(!simdAvailable())('reports every occurrence and field on random lines past one block pair', () => {
    const rnd = rng(16);
    const alphabet = 'aAbB .~=/x';
    const word = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
    let hits = 0;
    for (let round = 0; round < 300; round++) {
      const specs: NeedleSpec[] = Array.from({ length: 1 + Math.floor(rnd() * 40) }, () => ({ text: word(1 + Math.floor(rnd() * 6)), insensitive: rnd() < 0.6 }));
      const ln = LineNeedles.plan(specs, Buffer.from(word(2000), 'latin1'))!;
      for (let k = 0; k < 5; k++) {
        const line = word(Math.floor(rnd() * 150));
        // Bytes around the line that would match: only [start, end) counts.
        const buf = Buffer.from(`a/b ${line} a/b`, 'latin1');
        const n = ln.find(buf, 4, 4 + line.length, 32);
        const got = Array.from({ length: n }, (_, j) => `${ln.needle(j)}@${ln.field(j)}`).sort();
        const want = reference(line, specs, ' ');
        expect(got, `${JSON.stringify(line)} ${JSON.stringify(specs)}`).toEqual(want);
        expect(ln.separators()).toBe(line.split(' ').length - 1);
        hits += n;
      }
    }
    expect(hits).toBeGreaterThan(1000);
  });

  it.skipIf(!simdAvailable())("reuses a finder's plan for more needles (those that contain a finder's needle): same occurrences", () => {
    const rnd = rng(23);
    const alphabet = 'aAbB .~=/xY';
    const word = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
    let reused = 0;
    let hits = 0;
    for (let round = 0; round < 300; round++) {
      const specs: NeedleSpec[] = Array.from({ length: 1 + Math.floor(rnd() * 30) }, () => ({ text: word(1 + Math.floor(rnd() * 6)), insensitive: rnd() < 0.6 }));
      // Longer needles that contain others, as a dispatcher's rules do (the finder keeps only the shorter).
      for (const s of specs.slice(0, 10)) specs.push({ text: `${word(Math.floor(rnd() * 3))}${s.text}${word(Math.floor(rnd() * 3))}`, insensitive: s.insensitive && rnd() < 0.7 });
      const sample = Buffer.from(word(3000), 'latin1');
      const mf = planMultiFinder(compileNeedles(specs.map((s) => ({ needles: [s.text], needleCase: s.insensitive ? undefined : 'exact' }))).needles, byteHistogram(sample), { sample, mode: 'simd' });
      collectLines(mf, sample, []);
      const ln = LineNeedles.fromFinder(mf, specs);
      if (ln === null) continue;
      reused++;
      for (let k = 0; k < 5; k++) {
        const line = word(Math.floor(rnd() * 150));
        const buf = Buffer.from(`a/b ${line} a/b`, 'latin1');
        const n = ln.find(buf, 4, 4 + line.length, 32);
        const got = Array.from({ length: n }, (_, j) => `${ln.needle(j)}@${ln.field(j)}`).sort();
        expect(got, `${JSON.stringify(line)} ${JSON.stringify(specs)}`).toEqual(reference(line, specs, ' '));
        hits += n;
      }
    }
    expect(reused).toBeGreaterThan(250);
    expect(hits).toBeGreaterThan(1000);
    // No plan yet (no search ran), or a needle searched apart: none to reuse.
    const specs = [{ text: 'ab', insensitive: true }];
    expect(LineNeedles.fromFinder(planMultiFinder(specs, byteHistogram(Buffer.from('xab'))), specs)).toBeNull();
    expect(LineNeedles.fromFinder(planMultiFinder(specs, byteHistogram(Buffer.from('xab')), { mode: 'single' }), specs)).toBeNull();
  });

  it.skipIf(!simdAvailable())('reads each line where the finder copied it, once the finder scans with its tables (the same lines)', () => {
    const rnd = rng(37);
    const alphabet = 'aAbB .~=/xY';
    const word = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
    let inPlace = 0;
    let hits = 0;
    for (let round = 0; round < 60; round++) {
      const specs: NeedleSpec[] = Array.from({ length: 1 + Math.floor(rnd() * 20) }, () => ({ text: word(2 + Math.floor(rnd() * 5)), insensitive: rnd() < 0.6 }));
      for (const s of specs.slice(0, 8)) specs.push({ text: `${word(1 + Math.floor(rnd() * 2))}${s.text}${word(Math.floor(rnd() * 3))}`, insensitive: s.insensitive && rnd() < 0.7 });
      const lines = Array.from({ length: 200 }, () => word(Math.floor(rnd() * 120)));
      const text = Buffer.from(`${lines.join('\n')}\n`, 'latin1');
      const starts = lines.map((_, i) => lines.slice(0, i).reduce((a, l) => a + l.length + 1, 0));
      const mf = planMultiFinder(compileNeedles(specs.map((s) => ({ needles: [s.text], needleCase: s.insensitive ? undefined : 'exact' }))).needles, byteHistogram(text), { sample: text, mode: 'simd' });
      const before: number[] = [];
      const first = collectLines(mf, text, before)!;
      const ln = LineNeedles.fromFinder(mf, specs);
      if (ln === null) continue;
      const check = (scanned: ScannedText) => {
        lines.forEach((line, i) => {
          const n = ln.find(text, starts[i], starts[i] + line.length, 32, scanned.address(starts[i]));
          const got = Array.from({ length: n }, (_, j) => `${ln.needle(j)}@${ln.field(j)}`).sort();
          expect(got, `${JSON.stringify(line)} ${JSON.stringify(specs)}`).toEqual(reference(line, specs, ' '));
          hits += n;
        });
      };
      // Copied with the finder's own tables: the lines are copied again (and that copy is given up).
      check(first);
      expect(first.address(0)).toBe(-1);
      // From now on the finder scans with the dispatcher's tables: the same lines, read in place.
      const after: number[] = [];
      const second = collectLines(mf, text, after)!;
      expect([...new Set(after)].sort((a, b) => a - b)).toEqual([...new Set(before)].sort((a, b) => a - b));
      check(second);
      if (second.address(0) >= 0) inPlace++;
    }
    expect(inPlace).toBeGreaterThan(50);
    expect(hits).toBeGreaterThan(1000);
  });

  it.skipIf(!simdAvailable())('gives up (-1) on a line with more occurrences than its output holds, or too long', () => {
    const ln = LineNeedles.plan([{ text: 'a', insensitive: true }], Buffer.from('xxa'))!;
    expect(ln.find(Buffer.from('a'.repeat(1000)), 0, 1000, 32)).toBe(1000);
    expect(ln.find(Buffer.from('a'.repeat(3000)), 0, 3000, 32)).toBe(-1);
    expect(ln.find(Buffer.alloc(70000, 0x61), 0, 70000, 32)).toBe(-1);
  });

  it('declines needles it cannot take (empty, or with a line feed)', () => {
    expect(LineNeedles.plan([{ text: 'a\nb', insensitive: false }], Buffer.from('ab'))).toBeNull();
    expect(LineNeedles.plan([], Buffer.from('ab'))).toBeNull();
  });
});

describe('ScannedText (line feeds counted in the wasm copy of the last SIMD pass)', () => {
  it.skipIf(!simdAvailable())('cuts out the k-th field of a line as a walk over its bytes does (its end, whether it is plain)', () => {
    const rnd = rng(31);
    const alphabet = ['a', 'b', ' ', ' ', '%', '\u00e9', '/', 'x'];
    const lines = Array.from({ length: 400 }, () => Array.from({ length: Math.floor(rnd() * 90) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(''));
    const buf = Buffer.from(`${lines.join('\n')}\nneedle\n`, 'utf8');
    const f = planMultiFinder([{ text: 'needle', insensitive: false }], byteHistogram(buf), { mode: 'simd' });
    const text = collectLines(f, buf, [])!;
    let fields = 0;
    for (let from = 0, n = 0; from < buf.length; from = buf.indexOf(10, from) + 1, n++) {
      const to = buf.indexOf(10, from);
      for (let k = 0; k < 12; k++) {
        // The walk: past k separators, then to the next one (or the line's end).
        let at = from;
        for (let i = 0; i < k && at !== -1; i++) {
          const s = buf.indexOf(32, at);
          at = s === -1 || s >= to ? -1 : s + 1;
        }
        const got = text.field(from, to, 32, k);
        if (at === -1) {
          expect(got, `line ${n} k ${k}`).toBe(NO_SUCH_FIELD);
          continue;
        }
        const sp = buf.indexOf(32, at);
        const end = sp === -1 || sp > to ? to : sp;
        const plain = !buf.subarray(at, end).some((c) => c >= 0x80 || c === 37);
        expect([got, text.fieldEnd(), text.fieldPlain()], `line ${n} k ${k}`).toEqual([at, end, plain]);
        fields++;
      }
    }
    expect(fields).toBeGreaterThan(2000);
    collectLines(f, buf, []);
    expect(text.field(0, 5, 32, 0)).toBe(-1);
  });

  it.skipIf(!simdAvailable())('counts like indexOf over random ranges, and declines once a later pass replaced the copy', () => {
    const rnd = rng(61);
    const text = Buffer.from(Array.from({ length: 50_000 }, () => 'ab\nxyz  \n'[Math.floor(rnd() * 9)]).join(''), 'latin1');
    const specs = [{ text: 'xyz', insensitive: false }];
    const mf = planMultiFinder(specs, byteHistogram(text), { mode: 'simd' });
    const scanned = collectLines(mf, text, [])!;
    expect(scanned).not.toBeNull();
    for (let k = 0; k < 300; k++) {
      const a = Math.floor(rnd() * text.length);
      const b = a + Math.floor(rnd() * (text.length - a + 1));
      expect(scanned.count(a, b, 10)).toBe(text.subarray(a, b).toString('latin1').split('\n').length - 1);
    }
    expect(scanned.count(0, text.length + 1, 10)).toBe(-1);
    collectLines(mf, text.subarray(0, 100), []);
    expect(scanned.count(0, 10, 10)).toBe(-1);
  });

  it.skipIf(!simdAvailable())('counts runs of line feeds longer than a byte lane holds (255 blocks a round)', () => {
    for (const n of [15, 16, 4079, 4080, 4081, 4096, 20_000, 70_001]) {
      const text = Buffer.from(`xyz${'\n'.repeat(n)}`, 'latin1');
      const scanned = collectLines(planMultiFinder([{ text: 'xyz', insensitive: false }], byteHistogram(text), { mode: 'simd' }), text, [])!;
      expect(scanned.count(0, text.length, 10)).toBe(n);
      expect(scanned.count(3, text.length - 1, 10)).toBe(n - 1);
      expect(scanned.count(1, 2, 10)).toBe(0);
    }
  });

  it.skipIf(!simdAvailable())('numbers the lines it finds across runs of line feeds longer than its byte lanes hold', () => {
    // The block loop sums its byte lanes every 127 block pairs and at each match: runs of line feeds (and CRs, which
    // are no line ends here) between the needles, of every length around those sums.
    const specs: NeedleSpec[] = [{ text: 'xyz', insensitive: false }];
    for (const n of [0, 1, 15, 16, 31, 32, 33, 253, 254, 255, 256, 4063, 4064, 4065, 4096, 8128, 8129, 70_001]) {
      for (const gap of ['\n', '\r\n', '\r', 'ab\n']) {
        const text = Buffer.from(`xyz${gap.repeat(n)}1xyz\n${'\n'.repeat(n % 97)}xyz${gap.repeat(n)}`, 'latin1');
        for (const buckets of [8, 16] as const) {
          const mf = planMultiFinder(specs, byteHistogram(text), { mode: 'simd', buckets });
          const out: number[] = [];
          const scanned = collectLines(mf, text, out)!;
          expect(scanned.found, `${n} ${JSON.stringify(gap)} ${buckets}`).toBe(naive(text, specs).length);
          expectNumbered(text, scanned, out);
        }
      }
    }
  });

  it.skipIf(!simdAvailable())('finds the first byte like indexOf, never past the end asked for', () => {
    const rnd = rng(67);
    // Sparse line feeds: a block read past `to` often holds the next one, which must not be reported.
    const text = Buffer.from(Array.from({ length: 40_000 }, () => (rnd() < 0.01 ? '\n' : 'abxyz '[Math.floor(rnd() * 6)])).join(''), 'latin1');
    const mf = planMultiFinder([{ text: 'xyz', insensitive: false }], byteHistogram(text), { mode: 'simd' });
    const scanned = collectLines(mf, text, [])!;
    for (let k = 0; k < 2000; k++) {
      const a = Math.floor(rnd() * text.length);
      const b = a + Math.floor(rnd() * Math.min(300, text.length - a + 1));
      const byte = k % 3 === 0 ? 120 : 10;
      const at = text.indexOf(byte, a);
      expect(scanned.indexOf(a, b, byte)).toBe(at === -1 || at >= b ? b : at);
    }
    expect(scanned.indexOf(0, text.length + 1, 10)).toBe(-1);
    expect(scanned.indexOf(5, 5, 10)).toBe(5);
    collectLines(mf, text.subarray(0, 10), []);
    expect(scanned.indexOf(0, 10, 10)).toBe(-1);
  });

  it.skipIf(!simdAvailable())("is invalidated by another finder's pass through the same kernel (the text scanner's formats share one)", () => {
    const kernel = SearchKernel.create()!;
    const a = Buffer.from('one\nxyz\ntwo\n'.repeat(200), 'latin1');
    const b = Buffer.from('abc\nuvw\n'.repeat(300), 'latin1');
    const first = planMultiFinder([{ text: 'xyz', insensitive: false }], byteHistogram(a), { mode: 'simd', kernel });
    const second = planMultiFinder([{ text: 'uvw', insensitive: true }], byteHistogram(b), { mode: 'simd', kernel });
    const scanned = collectLines(first, a, [])!;
    expect(scanned.count(0, a.length, 10)).toBe(600);
    const other = collectLines(second, b, [])!;
    // The second pass overwrote the copy: the first text's counts must not be read from the second's bytes.
    expect(scanned.count(0, 10, 10)).toBe(-1);
    expect(other.count(0, b.length, 10)).toBe(600);
    // A finder with a kernel of its own leaves the others' copies alone.
    const apart = planMultiFinder([{ text: 'xyz', insensitive: false }], byteHistogram(a), { mode: 'simd' });
    collectLines(apart, a, []);
    expect(other.count(0, b.length, 10)).toBe(600);
  });
});

describe('PairFilter (positions where a byte pair of some classes may start)', () => {
  it.skipIf(!simdAvailable())('returns, in order, every position where a pair of a class starts (0 after the last byte), and few others', () => {
    const rnd = rng(29);
    const pick = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 256));
    let found = 0;
    let extra = 0;
    for (let round = 0; round < 40; round++) {
      const classes: PairClass[] = Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => ({ first: pick(1 + Math.floor(rnd() * 3)), next: pick(1 + Math.floor(rnd() * 4)) }));
      const f = PairFilter.create(classes)!;
      const bytes = [...new Set(classes.flatMap((k) => [...k.first, ...k.next]))];
      for (let k = 0; k < 20; k++) {
        // Mostly the classes' own bytes, around a text cut out of a larger buffer (the bytes around do not count).
        const len = Math.floor(rnd() * 300);
        const buf = Buffer.from(Array.from({ length: len + 8 }, () => (rnd() < 0.7 ? bytes[Math.floor(rnd() * bytes.length)] : Math.floor(rnd() * 256))));
        const n = f.find(buf, 4, 4 + len);
        const got = Array.from({ length: n }, (_, j) => f.position(j));
        expect([...got].sort((a, b) => a - b)).toEqual(got);
        expect(new Set(got).size).toBe(got.length);
        for (let i = 0; i < len; i++) {
          const next = i + 1 < len ? buf[4 + i + 1] : 0;
          const pair = classes.some((c) => c.first.includes(buf[4 + i]) && c.next.includes(next));
          if (pair) {
            found++;
            expect(got, `position ${i}`).toContain(i);
          } else if (got.includes(i)) extra++;
        }
        for (const p of got) expect(p >= 0 && p < len).toBe(true);
      }
    }
    expect(found).toBeGreaterThan(1000);
    // Nibble tables over-approximate, but only so much.
    expect(extra).toBeLessThan(found);
  });

  it.skipIf(!simdAvailable())('leaves a text longer than it takes to the caller', () => {
    const f = PairFilter.create([{ first: [97], next: [98] }])!;
    const long = Buffer.alloc(64 * 1024 + 1, 'ab');
    expect(f.find(long, 0, long.length)).toBe(-1);
    expect(f.find(long, 0, long.length - 1)).toBe(32 * 1024);
  });
});
