// The text scanner hands a fact line (a format's factNeedles, no rule wants it) to the parser: for IIS, only the
// cs-uri-stem cut out of the line's bytes (LineParser.observeField), not the decoded line. The facts must be the
// ones `observe` notes from the whole line, on well-formed, malformed and non-ASCII lines.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ReadBuffers } from '../src/evidence/file.js';
import { textLogScanner } from '../src/engine/scanners/textlog.js';
import { IisLineParser, iisFormat } from '../src/parsers/iis.js';
import { defaultRuleSet } from '../src/rules/ruleset.js';

const root = mkdtempSync(join(tmpdir(), 'exhunt-observe-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FIELDS = '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken';
const line = (stem: string, ua = 'Mozilla/5.0') => `2021-03-04 00:00:01 10.1.1.5 GET ${stem} - 443 - 198.51.100.7 ${ua} - 200 0 0 5`;

describe('fact lines observed by one field', () => {
  it('note the builds that observe notes from the whole line', async () => {
    const lines = [
      '#Software: Microsoft Internet Information Services 10.0',
      FIELDS,
      // The first 50 lines are parsed whatever they hold (header, first time): the fact lines come after them.
      ...Array.from({ length: 60 }, () => line('/EWS/Exchange.asmx')),
      line('/owa/auth/15.1.2176/scripts/boot.worker.js'),
      line('/owa/auth/15.1.2176/themes/x.png'),
      // Malformed (a field too many): the field cannot be placed, the whole line goes to observe.
      line('/owa/auth/15.2.986/x.js', 'Mozilla/5.0 extra'),
      // Non-ASCII around the stem: the stem decoded alone is the stem of the decoded line.
      `2021-03-04 00:00:01 10.1.1.5 GET /owa/auth/15.2.1118/ünï.js - 443 - 198.51.100.7 Ünïcode\u00e9 - 200 0 0 5`,
      line('/OWA/AUTH/15.0.1497/x.css'),
      line('/owa/auth/1x/not-a-build.js'),
    ];
    const text = `${lines.join('\r\n')}\r\n`;
    const abs = join(root, 'u_ex210304.log');
    writeFileSync(abs, text);
    // The shipped rules: they place needles in fields, so the scanner knows each line's field count.
    const rules = defaultRuleSet();
    const scanner = textLogScanner([iisFormat], rules.recordRules.filter((r) => r.formats.includes('iis')), rules.context);
    const file = { kind: 'fs' as const, abs, rel: 'W3SVC1/u_ex210304.log', size: Buffer.byteLength(text), mtimeMs: 0 };
    const parse = vi.spyOn(IisLineParser.prototype, 'parse');
    const res = await scanner.scan(file, 'iis', { since: '2000-01-01', iocFiles: [], yaraRules: null }, undefined as never, { buffers: new ReadBuffers() });
    // Parsed: the lines at the start (header, first time) and the last one (read back for the last time); not the
    // six fact lines (a fact stand-in taken for a rule would be parsed).
    expect(parse).toHaveBeenCalledTimes(3);
    parse.mockRestore();
    expect(res.findings).toEqual([]);
    const got = res.facts.map((f) => [f.value, f.source.line]);
    // What observe notes from each whole line, in the same order.
    const p = new IisLineParser('W3SVC1/u_ex210304.log');
    p.directive(FIELDS);
    lines.forEach((l, i) => {
      if (i >= 62) p.observe(l, i + 1);
    });
    const want = p.facts().map((f) => [f.value, f.line]);
    expect(want).toEqual([
      ['15.1.2176', 63],
      ['15.2.986', 65],
      ['15.2.1118', 66],
      ['15.0.1497', 67],
    ]);
    expect(got).toEqual(want);
  });
});
