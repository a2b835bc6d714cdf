// The specific inputs of the audit (issue #17), through the real rules and parsers: each took seconds to hours
// before the rewrite to linear shapes; each must now take milliseconds and still detect the real thing.
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../src/model.js';
import { OABGEN_RULES } from '../../src/rules/ecp.js';
import { EVTX_RULES } from '../../src/rules/evtx.js';
import { parseXmlFragment } from '../../src/parsers/evtx/index.js';
import type { RecordRule } from '../../src/rules/types.js';
import { builtinIocs } from '../../src/rules/iocs.js';

const CTX = { iocs: builtinIocs() };

const rule = (rules: RecordRule[], id: string): RecordRule => rules.find((r) => r.id === id) as RecordRule;
const timed = <T,>(f: () => T): { value: T; ms: number } => {
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0 };
};
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
    const { value, ms } = timed(() => pl30.match(oab(`Download failed and temporary file${' '.repeat(1 << 20)}`), CTX));
    expect(value).toBeNull();
    expect(ms).toBeLessThan(1_000);
    const hit = pl30.match(oab("Download failed and temporary file 'C:\\inetpub\\wwwroot\\aspnet_client\\shell.aspx' needs to be removed"), CTX);
    expect(hit && !Array.isArray(hit) ? hit.evidence.file : null).toBe('C:\\inetpub\\wwwroot\\aspnet_client\\shell.aspx');
  });

  it('PX-06: 1 MB scripts of repeated tool names (before: 900 KB took 180 s) and the real dumps still found', () => {
    for (const text of ['procdump '.repeat(120_000), 'comsvcs'.padEnd(1 << 20, ' '), 'minidumpwritedump '.repeat(60_000), `rdrleakdiag ${'x'.repeat(1 << 20)}`]) {
      const { value, ms } = timed(() => px06.match(script(text), CTX));
      expect(value).toBeNull();
      expect(ms).toBeLessThan(1_000);
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
    for (const body of ['a'.repeat(1 << 20), 'a="'.repeat(350_000), ' x'.repeat(500_000)]) {
      const { ms } = timed(() => parseXmlFragment(`<Event ${body}/>`));
      expect(ms).toBeLessThan(1_000);
    }
    expect(parseXmlFragment(`<Data Name = 'a&amp;b' x="1" y=z w="2"/>`)).toEqual([
      { name: 'Data', attrs: [{ name: 'Name', value: 'a&b' }, { name: 'x', value: '1' }, { name: 'w', value: '2' }], children: [] },
    ]);
  });
});
