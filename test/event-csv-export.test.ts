// An event log a client's admin sent as CSV instead of .evtx ("send me the MSExchange Management log"): PowerShell's
// Get-WinEvent | Export-Csv (Windows PowerShell 5.1: `#TYPE` line, every value quoted, times in the exporting
// machine's culture and local time) and Event Viewer's "Save All Events As… CSV". The event text is the ProxyShell
// New-MailboxExportRequest of the hamad-she write-up (msexchange_management_lines_as_published.txt), rendered as the
// MSExchange CmdletLogs event 1 message. exhunt cannot place such events in time: it must say so and say what to
// export, never count the file as unrelated in silence.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScanReport } from '../src/model.js';
import { exhunt } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-evcsv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MESSAGE =
  "Cmdlet succeeded. Cmdlet New-MailboxExportRequest, parameters -Mailbox 'Hamad@xxxxx.darksys.com' -FilePath '\\\\localhost\\c$\\inetpub\\wwwroot\\aspnet\\p433zrwewrvmcv.aspx' -IncludeFolders ('#Drafts#') -ContentFilter 'Subject -eq ''p433zrwewrvmcv'''.";
const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
const GET_WINEVENT = [
  '#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord',
  '"Message","Id","Version","Qualifiers","Level","Task","Opcode","Keywords","RecordId","ProviderName","ProviderId","LogName","ProcessId","ThreadId","MachineName","UserId","TimeCreated","ActivityId","RelatedActivityId","ContainerLog","MatchedQueryIds","Bookmark","LevelDisplayName","OpcodeDisplayName","TaskDisplayName","KeywordsDisplayNames","Properties"',
  [q(MESSAGE), '"1"', '', '"16384"', '"4"', '"1"', '', '"36028797018963968"', '"48213"', '"MSExchange CmdletLogs"', '', '"MSExchange Management"', '"10544"', '', '"MAIL01.xxxxx.local"', '', '"8/14/2021 3:20:53 PM"', '', '', '"MSExchange Management"', '"System.UInt32[]"', '"System.Diagnostics.Eventing.Reader.EventBookmark"', '"Information"', '', '"Cmdlet"', '"System.Collections.ObjectModel.ReadOnlyCollection`1[System.String]"', '"System.Collections.Generic.List`1[System.Diagnostics.Eventing.Reader.EventProperty]"'].join(','),
  '',
].join('\r\n');
const EVENT_VIEWER = ['Level,Date and Time,Source,Event ID,Task Category', `Information,8/14/2021 3:20:53 PM,MSExchange CmdletLogs,1,(1),${q(MESSAGE)}`, ''].join('\r\n');

describe('an event log saved as CSV', () => {
  it('is named in skipped with the reason and the export command, not ignored in silence', () => {
    const host = join(dir, 'mail01');
    mkdirSync(host);
    writeFileSync(join(host, 'MSExchange Management.csv'), GET_WINEVENT);
    // Event Viewer writes its CSV as UTF-16LE with a BOM.
    writeFileSync(join(host, 'mgmt-eventviewer.csv'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(EVENT_VIEWER, 'utf16le')]));
    const out = join(dir, 'r.json');
    const r = exhunt(['scan', host, '--json', out, '--jobs', '1']);
    expect(r.stderr).toBe('');
    const h = (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
    const why = (p: string) => h.skipped.find((s) => s.path === p)?.reason ?? '';
    expect(why('MSExchange Management.csv')).toMatch(/^event log saved as CSV \(Get-WinEvent \| Export-Csv\): not read .*wevtutil epl "MSExchange Management"/);
    expect(why('mgmt-eventviewer.csv')).toMatch(/^event log saved as CSV \(Event Viewer "Save as CSV"\): not read/);
    expect(h.verdict).toBe('insufficient-evidence');
  });

  it('selected columns, any delimiter (Select-Object … | Export-Csv -NoTypeInformation / -UseCulture / -Delimiter): named too', () => {
    // The shapes responders ask for ("only time, id, source and message"): PowerShell 7 writes no #TYPE line,
    // -UseCulture on a German or French system writes ';', and a tab-separated Get-EventLog export.
    const host = join(dir, 'mail02');
    mkdirSync(host);
    writeFileSync(join(host, 'mgmt-selected.csv'), ['"TimeCreated","Id","LevelDisplayName","ProviderName","Message"', `"8/14/2021 3:20:53 PM","1","Information","MSExchange CmdletLogs",${q(MESSAGE)}`, ''].join('\r\n'));
    writeFileSync(join(host, 'mgmt-culture.csv'), `\uFEFF${['"TimeCreated";"Id";"ProviderName";"Message"', `"14.08.2021 15:20:53";"1";"MSExchange CmdletLogs";${q(MESSAGE)}`, ''].join('\r\n')}`);
    writeFileSync(join(host, 'app-eventlog.tsv'), ['TimeGenerated\tEntryType\tSource\tInstanceId\tMessage', `2021-08-14 15:20:53\tInformation\tMSExchange CmdletLogs\t1\t${MESSAGE}`, ''].join('\r\n'));
    const out = join(dir, 's.json');
    exhunt(['scan', host, '--json', out, '--jobs', '1']);
    const h = (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
    const why = (p: string) => h.skipped.find((s) => s.path === p)?.reason ?? '';
    expect(why('mgmt-selected.csv')).toMatch(/^event log saved as CSV \(Select-Object … \| Export-Csv, columns timecreated, id, leveldisplayname, providername, message\): not read/);
    expect(why('mgmt-culture.csv')).toMatch(/^event log saved as CSV \(Select-Object … \| Export-Csv, columns timecreated, id, providername, message\): not read/);
    expect(why('app-eventlog.tsv')).toMatch(/^event log saved as CSV \(Select-Object … \| Export-Csv, columns timegenerated, entrytype, source, instanceid, message\): not read/);
  });

  it('an ordinary CSV (an IOC list, a spreadsheet) is not taken for one', () => {
    const host = join(dir, 'other');
    mkdirSync(host);
    writeFileSync(join(host, 'iocs.csv'), 'indicator,type,note\r\n139.162.202.236,ip,HelseCERT\r\n');
    writeFileSync(join(host, 'users.csv'), '"Name","Id","Message"\r\n"a","1","hello"\r\n');
    // An id, a date and a title are not an event's columns: an event export has an id, a time and its text.
    writeFileSync(join(host, 'tickets.csv'), 'Id,Created,Title\r\n1,2021-08-14,hello\r\n');
    const out = join(dir, 'o.json');
    exhunt(['scan', host, '--json', out, '--jobs', '1']);
    const h = (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
    expect(h.skipped.filter((s) => /saved as CSV/.test(s.reason))).toEqual([]);
  });
});
