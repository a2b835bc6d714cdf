// Hostile EVTX: template expansion. One record whose BinXML value re-instantiates a two-slot template doubles the
// rendered tree per level (40 levels in a 70 KB file would take hours and GBs); it must cost one skipped record.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEvtxBuffer, renderXml, type EvtxProblem } from '../../src/parsers/evtx/index.js';
import { MAX_RECORD_EXPANSION } from '../../src/parsers/evtx/binxml.js';
import { scan } from '../../src/engine/scan.js';
import { arraySlotEvtx, nestedTemplateEvtx, type NestShape } from './gen/evtx.js';

/** No clock: the expansion budget's own message says the work stopped at MAX_RECORD_EXPANSION characters. */
function read(buf: Buffer) {
  const problems: EvtxProblem[] = [];
  const events = [...readEvtxBuffer(buf, problems)];
  return { events, problems };
}

describe('EVTX nested template expansion', () => {
  it('a shallow nesting still renders in full (the budget does not cut real records)', () => {
    const { events, problems } = read(nestedTemplateEvtx(10));
    expect(problems).toEqual([]);
    expect(events.map((e) => e.record)).toEqual([1, 2, 3]);
    expect((events[1].data as Record<string, string>).ScriptBlockText).toHaveLength(8 * 2 ** 10);
  });

  for (const shape of ['element', 'text'] as NestShape[]) {
    it(`${shape} slots nested 40 deep: the record is skipped with its offset, its neighbours are read, the work bounded by the expansion budget`, () => {
      const { events, problems } = read(nestedTemplateEvtx(40, shape));
      expect(events.map((e) => [e.record, (e.data as Record<string, string>).ScriptBlockText])).toEqual([
        [1, 'Get-Date'],
        [3, 'Get-Process'],
      ]);
      expect(problems).toHaveLength(1);
      expect(problems[0].reason).toBe(`record 2: record expands beyond ${MAX_RECORD_EXPANSION} characters (nested templates), skipped`);
      expect(problems[0].offset).toBeGreaterThan(0x1000 + 512);
      expect(problems[0].offset).toBeLessThan(0x1000 + 0x10000);
    });
  }

  it('an array value repeats its element and the attributes per item: charged per item, skipped past the budget', () => {
    // 10,000 items × a 1,000-letter Name each: 10 M characters from a 22 KB record.
    const { events, problems } = read(arraySlotEvtx(10_000, 1000));
    expect(events.map((e) => [e.record, e.data])).toEqual([
      [1, { N: 'b' }],
      [3, { M: 'c' }],
    ]);
    expect(problems).toEqual([{ offset: expect.any(Number), reason: `record 2: record expands beyond ${MAX_RECORD_EXPANSION} characters (nested templates), skipped` }]);
    // Under the budget (300 × 1,000) the same record is read, one Data element per item.
    const small = read(arraySlotEvtx(300, 1000));
    expect(small.problems).toEqual([]);
    expect(small.events[1].data).toEqual({ ['N'.repeat(1000)]: 'x' });
    expect(renderXml(small.events[1].xml).match(/<Data /g)).toHaveLength(300);
  });

  it('recognised by magic under any name: a scan names the file and offset in skipped and goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exhunt-evtx-bomb-'));
    writeFileSync(join(dir, 'readme.txt'), nestedTemplateEvtx(40));
    const report = await scan({ paths: [dir], jobs: 1 });
    const host = report.hosts[0];
    expect(host.skipped).toEqual([expect.objectContaining({ path: 'readme.txt', reason: expect.stringContaining('nested templates') })]);
    expect(host.coverage.find((c) => c.format === 'evtx')?.records).toBe(2);
  });
});
