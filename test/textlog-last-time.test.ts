// A log's coverage ends at its last record's time, also when the file ends in a few bytes of a line (copied while
// IIS was writing it) or in a lone CR: review7 found `last` fell back to the FIRST record's time there, because the
// only lines read back were the cut-off tail's (the lines between the first 50 and the end are not parsed).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHUNK_SIZE, ReadBuffers } from '../src/evidence/file.js';
import { textLogScanner } from '../src/engine/scanners/textlog.js';
import { iisFormat } from '../src/parsers/iis.js';
import { defaultRuleSet } from '../src/rules/ruleset.js';

const root = mkdtempSync(join(tmpdir(), 'exhunt-lasttime-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FIELDS = '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken';
const time = (i: number) => `0${Math.floor(i / 60)}:${String(i % 60).padStart(2, '0')}:00`.slice(-8);
// Benign MAPI requests (no rule needle): only the first 50 lines and the end are parsed.
const line = (i: number) => `2021-03-04 ${time(i)} 10.1.1.5 POST /mapi/emsmdb/ - 443 user 198.51.100.7 Microsoft+Office/16.0 - 200 0 0 5`;

async function coverage(name: string, text: string) {
  const abs = join(root, name);
  writeFileSync(abs, text);
  const rules = defaultRuleSet();
  const scanner = textLogScanner([iisFormat], rules.recordRules.filter((r) => r.formats.includes('iis')), rules.context);
  const file = { kind: 'fs' as const, abs, rel: `W3SVC1/${name}`, size: Buffer.byteLength(text), mtimeMs: 0 };
  const res = await scanner.scan(file, 'iis', { since: '2000-01-01', iocFiles: [], yaraRules: null }, undefined as never, { buffers: new ReadBuffers() });
  return res.coverage[0];
}

describe('the last record time of a text log', () => {
  const body = ['#Software: Microsoft Internet Information Services 10.0', FIELDS, ...Array.from({ length: 300 }, (_, i) => line(i))].join('\r\n');
  const lastTime = '2021-03-04T04:59:00Z';

  it('is the last complete line when the file ends in a cut-off line or a lone CR', async () => {
    expect((await coverage('u_ex210304.log', `${body}\r\n`)).last).toBe(lastTime);
    for (const [name, end] of [['cut.log', '\r\n2021-03'], ['cr.log', '\r\n\r'], ['cr-only.log', '\r']] as const) {
      const c = await coverage(name, body + end);
      expect(c.first, name).toBe('2021-03-04T00:00:00Z');
      expect(c.last, name).toBe(lastTime);
    }
  });

  it('is the end of the file, not the newest line at a read-chunk edge, when the clock went back', async () => {
    // A 23:59:59 line whose line feed is the last byte of the first 4 MiB read, then times back at 00:xx to the end.
    const head = `${body}\r\n`;
    const lines: string[] = [];
    let size = Buffer.byteLength(head);
    for (let i = 0; size + 2 * 200 < CHUNK_SIZE; i++) {
      lines.push(line(i % 40));
      size += Buffer.byteLength(lines.at(-1)!) + 2;
    }
    const late = `2021-03-04 23:59:59 10.1.1.5 POST /mapi/emsmdb/ - 443 user 198.51.100.7 Microsoft+Office/16.0 - 200 0 0 5`;
    lines.push(late.replace('Office/16.0', `Office/16.0${'x'.repeat(CHUNK_SIZE - size - Buffer.byteLength(late) - 2)}`));
    const text = `${head}${lines.join('\r\n')}\r\n${Array.from({ length: 300 }, (_, i) => line(i % 40)).join('\r\n')}\r\n`;
    expect(Buffer.from(text)[CHUNK_SIZE - 1]).toBe(10);
    expect(Buffer.from(text).subarray(0, CHUNK_SIZE).lastIndexOf('23:59:59')).toBeGreaterThan(CHUNK_SIZE - 400);
    expect((await coverage('clock.log', text)).last).toBe('2021-03-04T00:19:00Z'); // the file's last line
  });
});
