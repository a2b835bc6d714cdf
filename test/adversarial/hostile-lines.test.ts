// The specific inputs of the audit (issue #17), through the real rules and parsers: each took seconds to hours
// before the rewrite to linear shapes. Each must now grow linearly up to 1 MB (the regex budget's harness, no fixed
// time limit) and still detect the real thing.
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../src/model.js';
import { OABGEN_RULES } from '../../src/rules/ecp.js';
import { EVTX_RULES } from '../../src/rules/evtx.js';
import { parseXmlFragment } from '../../src/parsers/evtx/index.js';
import type { RecordRule } from '../../src/rules/types.js';
import { builtinIocs } from '../../src/rules/iocs.js';
import { superLinearWork } from './regex-budget.js';

const CTX = { iocs: builtinIocs() };

const rule = (rules: RecordRule[], id: string): RecordRule => rules.find((r) => r.id === id) as RecordRule;
const MB = 1 << 20;
/** `unit` repeated to `size` characters. */
const fill = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
const oab = (message: string): LogRecord => ({ format: 'oabgen', path: 'OABGeneratorLog/x.log', record: 1, time: null, fields: { Message: message } });
const script = (text: string): LogRecord => ({
  format: 'evtx',
  path: 'PowerShell.evtx',
  record: 1,
  time: null,
  fields: { EventID: '4104', Provider: 'Microsoft-Windows-PowerShell', Message: text },
});

describe('hostile lines through the real rules', () => {
  const pl30 = rule(OABGEN_RULES, 'PL-30');
  const px06 = rule(EVTX_RULES, 'PX-06');

  it('PL-30: "Download failed and temporary file" + 1 MB of spaces (before: 10 KB took ~9 minutes)', () => {
    const line = (n: number) => oab(`Download failed and temporary file${' '.repeat(n)}`);
    expect(superLinearWork(line, (r) => pl30.match(r, CTX), MB)).toBeNull();
    expect(pl30.match(line(MB), CTX)).toBeNull();
    const hit = pl30.match(oab("Download failed and temporary file 'C:\\inetpub\\wwwroot\\aspnet_client\\shell.aspx' needs to be removed"), CTX);
    expect(hit && !Array.isArray(hit) ? hit.evidence.file : null).toBe('C:\\inetpub\\wwwroot\\aspnet_client\\shell.aspx');
  });

  it('PX-06: 1 MB scripts of repeated tool names (before: 900 KB took 180 s) and the real dumps still found', () => {
    const shapes = [(n: number) => fill('procdump ', n), (n: number) => 'comsvcs'.padEnd(n, ' '), (n: number) => fill('minidumpwritedump ', n), (n: number) => `rdrleakdiag ${'x'.repeat(n)}`];
    for (const text of shapes) {
      expect(superLinearWork((n) => script(text(n)), (r) => px06.match(r, CTX), MB)).toBeNull();
      expect(px06.match(script(text(MB)), CTX)).toBeNull();
    }
    for (const text of [
      'rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 624 C:\\temp\\l.dmp full',
      'rundll32 comsvcs.dll #24 624 l.dmp full',
      'procdump64.exe -accepteula -ma lsass.exe l.dmp',
      'rdrleakdiag.exe /p 624 /o C:\\t /fullmemdmp /wait 1',
      '[DllImport("dbghelp.dll")] static extern bool MiniDumpWriteDump(...); $p = Get-Process lsass',
    ]) expect([text, px06.match(script(text), CTX) !== null]).toEqual([text, true]);
    expect(px06.match(script('procdump64.exe -ma w3wp.exe\nGet-Process lsass'), CTX)).toBeNull();
  });

  it('XML event export: a 1 MB start tag of attribute-like text (before: 40 KB took 4.4 s)', () => {
    for (const unit of ['a', 'a="', ' x']) expect([unit, superLinearWork((n) => `<Event ${fill(unit, n)}/>`, parseXmlFragment, MB)]).toEqual([unit, null]);
    expect(parseXmlFragment(`<Data Name = 'a&amp;b' x="1" y=z w="2"/>`)).toEqual([
      { name: 'Data', attrs: [{ name: 'Name', value: 'a&b' }, { name: 'x', value: '1' }, { name: 'w', value: '2' }], children: [] },
    ]);
  });
});
