// Replays every input `npm run fuzz` once crashed on (test/fixtures/fuzz-regressions/<target>/*.bin, each with a
// .txt note saying where it was placed and what went wrong) through the same entry points as the fuzzer, from
// the build: each must now run to its end without an exception or an internal error turned into a skip.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildEvidence } from '../../src/rules/exposure.js';
import type { Fact } from '../../src/model.js';

const DIR = resolve('test/fixtures/fuzz-regressions');
const work = mkdtempSync(join(tmpdir(), 'exhunt-fuzz-replay-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type RunInput = (dist: string, target: string, bytes: Buffer, rel: string, work: string) => Promise<string[]>;

const cases = readdirSync(DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(join(DIR, d.name)).filter((f) => f.endsWith('.bin')).map((f) => ({ target: d.name, file: join(DIR, d.name, f) })));

describe('fuzz regressions', () => {
  it('the folder holds at least one kept input', () => expect(cases.length).toBeGreaterThan(0));
  for (const c of cases) {
    it(`${c.target}: ${c.file.slice(DIR.length + 1)}`, async () => {
      if (!existsSync(resolve('dist/engine/scan.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
      const note = readFileSync(c.file.replace(/\.bin$/, '.txt'), 'utf8');
      const rel = /^placed as: (.*)$/m.exec(note)?.[1] ?? 'input';
      const { runInput } = (await import(resolve('scripts/fuzz.mjs') as string)) as { runInput: RunInput };
      expect(await runInput(resolve('dist'), c.target, readFileSync(c.file), rel, work)).toEqual([]);
    }, 120_000);
  }

  it('one assessment per distinct build, however many facts repeat it (the repeated-#Version hang)', () => {
    const facts: Fact[] = Array.from({ length: 500 }, (_, i) => ({ kind: 'build', value: '15.01.2176.009', origin: '#Version', source: { path: `HttpProxy_${i}.LOG`, line: 2 }, time: null }));
    const got = buildEvidence(facts);
    expect(got).toHaveLength(500);
    expect(new Set(got.map((e) => e.assessment)).size).toBe(1);
  });
});
