// Coverage rows are merged in one place (engine/coverage.ts) for a host's files and for a split file's ranges.
// Before, the two merges disagreed: the host's named a file stopped early once per row that named it.
import { describe, expect, it } from 'vitest';
import { mergeCoverage } from '../src/engine/coverage.js';
import { mergeRanges } from '../src/engine/ranges.js';
import type { Coverage } from '../src/model.js';

const SRC = 'HttpProxy/Ecp';
const row = (c: Partial<Coverage>): Coverage => ({ source: SRC, format: 'httpproxy', files: 1, records: 10, first: null, last: null, ...c });

describe('mergeCoverage', () => {
  it('sums files and records, keeps the widest span, names each file stopped early once', () => {
    const merged = mergeCoverage([
      row({ first: '2021-03-02T00:00:00.000Z', last: '2021-03-03T00:00:00.000Z', partial: ['a.log'] }),
      row({ source: 'IIS/W3SVC1', format: 'iis', records: 4 }),
      row({ first: '2021-03-01T00:00:00.000Z', last: '2021-03-02T00:00:00.000Z', partial: ['a.log', 'b.log'] }),
      row({ first: null, last: '2021-03-04T00:00:00.000Z' }),
    ]);
    expect(merged).toEqual([
      { source: SRC, format: 'httpproxy', files: 3, records: 30, first: '2021-03-01T00:00:00.000Z', last: '2021-03-04T00:00:00.000Z', partial: ['a.log', 'b.log'] },
      { source: 'IIS/W3SVC1', format: 'iis', files: 1, records: 4, first: null, last: null },
    ]);
  });

  it('does not change the rows it is given', () => {
    const a = row({ partial: ['a.log'] });
    mergeCoverage([a, row({ partial: ['b.log'] })]);
    expect(a).toEqual(row({ partial: ['a.log'] }));
  });
});

describe('mergeRanges coverage', () => {
  it('counts a split file once and names it once when several ranges stopped early', () => {
    const part = (first: string, partial?: string[]) => ({
      findings: [],
      skipped: [],
      facts: [],
      bytes: 100,
      formats: ['httpproxy'],
      coverage: [row({ first, last: first, ...(partial ? { partial } : {}) })],
      range: { lines: 10, fieldsIn: null, lastFields: null },
    });
    const merged = mergeRanges([part('2021-03-01T00:00:00.000Z', ['a.log']), part('2021-03-02T00:00:00.000Z'), part('2021-03-03T00:00:00.000Z', ['a.log'])]);
    expect(merged.coverage).toEqual([{ source: SRC, format: 'httpproxy', files: 1, records: 30, first: '2021-03-01T00:00:00.000Z', last: '2021-03-03T00:00:00.000Z', partial: ['a.log'] }]);
    expect(merged.bytes).toBe(300);
  });
});
