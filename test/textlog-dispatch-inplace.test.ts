// In the text scanner the dispatcher reads each candidate line where the finder's SIMD pass copied it (its address in
// the kernel's memory, ScannedText.address), not a copy of its own. On realistic busy IIS traffic (bench/traffic.mjs)
// with the shipped rules, every line must reach the same rules as the dispatcher's plain JS pass gives on the line's
// bytes, and every region after the first must take the in-place way.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ReadBuffers } from '../src/evidence/file.js';
import { textLogScanner } from '../src/engine/scanners/textlog.js';
import { iisFormat } from '../src/parsers/iis.js';
import { defaultRuleSet } from '../src/rules/ruleset.js';
import type { RecordRule } from '../src/rules/types.js';
import { LineDispatcher, type FieldMasks } from '../src/search/dispatch.js';
import { simdAvailable } from '../src/search/multifind.js';
import { IIS_FIELDS, iisAttacks, iisPools } from '../bench/traffic.mjs';
import { rng } from '../bench/lib.mjs';

const root = mkdtempSync(join(tmpdir(), 'exhunt-inplace-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('dispatch in the finder copy', () => {
  it.skipIf(!simdAvailable())('sends each line of busy IIS traffic to the rules the JS pass finds, reading most lines in place', async () => {
    const r = rng(5);
    const pool = iisPools(r, 4000).front;
    const attacks = iisAttacks(r);
    const lines = Array.from({ length: 30_000 }, (_, i) => (i % 997 === 0 ? attacks[i % attacks.length] : r.pick(pool)));
    const text = `#Software: Microsoft Internet Information Services 10.0\r\n#Fields: ${IIS_FIELDS}\r\n${lines.join('\r\n')}\r\n`;
    const abs = join(root, 'u_ex210303.log');
    writeFileSync(abs, text);

    const rules = defaultRuleSet();
    const iisRules = rules.recordRules.filter((x) => x.formats.includes('iis'));
    const references = new Map<LineDispatcher, LineDispatcher>();
    let inPlace = 0;
    let differs = 0;
    let dispatched = 0;
    const real = LineDispatcher.prototype.dispatch;
    const spy = vi.spyOn(LineDispatcher.prototype, 'dispatch').mockImplementation(function (this: LineDispatcher, buf: Buffer, start: number, end: number, fields: FieldMasks | null = null, at = -1) {
      const n = real.call(this, buf, start, end, fields, at);
      const got = Array.from(this.ruleIds.subarray(0, n)).join();
      // The plain JS pass of a dispatcher of the same rules (the scanner's own `rules`, by index).
      let js = references.get(this);
      if (js === undefined) {
        references.set(this, (js = new LineDispatcher((this as unknown as { rules: RecordRule[] }).rules, { simd: false })));
        // Its needles learn the layout's separator (the file has one layout).
        js.fieldMasks(IIS_FIELDS.split(' '), 32);
      }
      const m = real.call(js, buf, start, end, fields);
      if (Array.from(js.ruleIds.subarray(0, m)).join() !== got) differs++;
      if (at >= 0) inPlace++;
      dispatched++;
      return n;
    });
    const scanner = textLogScanner([iisFormat], iisRules, rules.context);
    const file = { kind: 'fs' as const, abs, rel: 'W3SVC1/u_ex210303.log', size: Buffer.byteLength(text), mtimeMs: 0 };
    const res = await scanner.scan(file, 'iis', { since: '2000-01-01', iocFiles: [], yaraRules: null }, undefined as never, { buffers: new ReadBuffers() });
    spy.mockRestore();
    expect(differs).toBe(0);
    expect(dispatched).toBeGreaterThan(3000);
    // The first region was copied before the dispatcher's tables were the finder's (its lines are copied again).
    expect(inPlace).toBeGreaterThan(dispatched * 0.5);
    expect(res.findings.length).toBeGreaterThan(0);
  });
});
