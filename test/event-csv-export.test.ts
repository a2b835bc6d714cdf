// An event log a client's admin sent as CSV instead of .evtx ("send me the MSExchange Management log"): PowerShell's
// Get-WinEvent | Export-Csv (Windows PowerShell 5.1: `#TYPE` line, every value quoted, times in the exporting
// machine's culture and local time) and Event Viewer's "Save All Events As… CSV". The event text is the ProxyShell
// New-MailboxExportRequest of the hamad-she write-up (msexchange_management_lines_as_published.txt), rendered as the
// MSExchange CmdletLogs event 1 message ("Cmdlet suceeded. Cmdlet <CMDLET>, parameters <PARAMETERS>",
// Qazeer/artefacts.help). exhunt reads such files (the server may be gone) and says what it could not do: place the
// events in time without the exporting machine's zone. (event-csv-e2e.test.ts compares CSV and .evtx scans.)
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScanReport } from '../src/model.js';
import { exhunt } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-evcsv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MESSAGE =
  "Cmdlet suceeded. Cmdlet New-MailboxExportRequest, parameters -Mailbox 'Hamad@xxxxx.darksys.com' -FilePath '\\\\localhost\\c$\\inetpub\\wwwroot\\aspnet\\p433zrwewrvmcv.aspx' -IncludeFolders ('#Drafts#') -ContentFilter 'Subject -eq ''p433zrwewrvmcv'''.";
const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
const GET_WINEVENT = [
  '#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord',
  '"Message","Id","Version","Qualifiers","Level","Task","Opcode","Keywords","RecordId","ProviderName","ProviderId","LogName","ProcessId","ThreadId","MachineName","UserId","TimeCreated","ActivityId","RelatedActivityId","ContainerLog","MatchedQueryIds","Bookmark","LevelDisplayName","OpcodeDisplayName","TaskDisplayName","KeywordsDisplayNames","Properties"',
  [q(MESSAGE), '"1"', '', '"16384"', '"4"', '"1"', '', '"36028797018963968"', '"48213"', '"MSExchange CmdletLogs"', '', '"MSExchange Management"', '"10544"', '', '"MAIL01.xxxxx.local"', '', '"8/14/2021 3:20:53 PM"', '', '', '"MSExchange Management"', '"System.UInt32[]"', '"System.Diagnostics.Eventing.Reader.EventBookmark"', '"Information"', '', '"Cmdlet"', '"System.Collections.ObjectModel.ReadOnlyCollection`1[System.String]"', '"System.Collections.Generic.List`1[System.Diagnostics.Eventing.Reader.EventProperty]"'].join(','),
  '',
].join('\r\n');
const EVENT_VIEWER = ['Level,Date and Time,Source,Event ID,Task Category', `Information,8/14/2021 3:20:53 PM,MSExchange CmdletLogs,1,(1),${q(MESSAGE)}`, ''].join('\r\n');

describe('an event log saved as CSV', () => {
  const reason = (h: ScanReport['hosts'][0], p: string) => h.skipped.find((s) => s.path === p)?.reason ?? '';
  const scanJson = (host: string, name: string, extra: string[] = []) => {
    const out = join(dir, name);
    const r = exhunt(['scan', host, '--json', out, '--jobs', '1', ...extra]);
    expect(r.stderr).toBe('');
    return (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
  };

  it('is read: the ProxyShell export to a web folder is found, at its row, with its time as written and no zone', () => {
    const host = join(dir, 'mail01');
    mkdirSync(host);
    writeFileSync(join(host, 'MSExchange Management.csv'), GET_WINEVENT);
    writeFileSync(join(host, 'mgmt-eventviewer.csv'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(EVENT_VIEWER, 'utf16le')]));
    const h = scanJson(host, 'r.json');
    expect(reason(h, 'MSExchange Management.csv')).toMatch(/^read as an event log saved as CSV \(Get-WinEvent \| Export-Csv\): 1 event\(s\) from their rendered messages; .*zone unknown/);
    expect(reason(h, 'mgmt-eventviewer.csv')).toMatch(/^read as an event log saved as CSV \(Event Viewer "Save as CSV"\): 1 event/);
    const ps08 = h.findings.filter((f) => f.rule === 'PS-08');
    expect(ps08.map((f) => [f.source.path, f.source.line, f.time, f.severity]).sort()).toEqual([
      ['MSExchange Management.csv', 3, null, 'critical'],
      ['mgmt-eventviewer.csv', 2, null, 'critical'],
    ]);
    expect(ps08[0].evidence).toMatchObject({ cmdlet: 'New-MailboxExportRequest', event_time_as_written: '8/14/2021 3:20:53 PM', csv_row: 1 });
    expect(h.verdict).toBe('compromised');
  });

  it('selected columns, any delimiter (Select-Object … | Export-Csv -NoTypeInformation / -UseCulture / -Delimiter): read too', () => {
    // The shapes responders ask for ("only time, id, source and message"): PowerShell 7 writes no #TYPE line,
    // -UseCulture on a German or French system writes ';', and a tab-separated Get-EventLog export.
    const host = join(dir, 'mail02');
    mkdirSync(host);
    writeFileSync(join(host, 'mgmt-selected.csv'), ['"TimeCreated","Id","LevelDisplayName","ProviderName","Message"', `"8/14/2021 3:20:53 PM","1","Information","MSExchange CmdletLogs",${q(MESSAGE)}`, ''].join('\r\n'));
    writeFileSync(join(host, 'mgmt-culture.csv'), `\uFEFF${['"TimeCreated";"Id";"ProviderName";"Message"', `"14.08.2021 15:20:53";"1";"MSExchange CmdletLogs";${q(MESSAGE)}`, ''].join('\r\n')}`);
    writeFileSync(join(host, 'app-eventlog.tsv'), ['TimeGenerated\tEntryType\tSource\tInstanceId\tMessage', `2021-08-14 15:20:53\tInformation\tMSExchange CmdletLogs\t1\t${MESSAGE}`, ''].join('\r\n'));
    const h = scanJson(host, 's.json', ['--event-csv-tz', '+02:00']);
    expect(reason(h, 'mgmt-selected.csv')).toMatch(/^read as an event log saved as CSV \(Select-Object … \| Export-Csv, columns timecreated, id, leveldisplayname, providername, message\): 1 event.*month first.*times read as \+02:00/);
    expect(reason(h, 'mgmt-culture.csv')).toMatch(/^read as an event log saved as CSV \(Select-Object … \| Export-Csv, columns timecreated, id, providername, message\): 1 event.*day first/);
    expect(reason(h, 'app-eventlog.tsv')).toMatch(/^read as an event log saved as CSV \(Select-Object … \| Export-Csv, columns timegenerated, entrytype, source, instanceid, message\): 1 event/);
    // 15:20:53 at +02:00, whichever way each culture wrote it.
    expect(h.findings.filter((f) => f.rule === 'PS-08').map((f) => f.time)).toEqual(['2021-08-14T13:20:53.0000000Z', '2021-08-14T13:20:53.0000000Z', '2021-08-14T13:20:53.0000000Z']);
  });

  it('hostile cells stay inert: a formula and terminal escapes from a message reach no output raw', () => {
    const host = join(dir, 'hostile');
    mkdirSync(host);
    const evil = "Cmdlet suceeded. Cmdlet New-MailboxExportRequest, parameters -Mailbox '=HYPERLINK(\"http://x\")' -FilePath '\\\\localhost\\c$\\inetpub\\wwwroot\\aspnet\\x.aspx' -Name '\u001b[31mred\u001b]0;owned\u0007'";
    writeFileSync(join(host, 'mgmt.csv'), ['Level,Date and Time,Source,Event ID,Task Category', `Information,8/14/2021 3:20:53 PM,MSExchange CmdletLogs,1,(1),${q(evil)}`, ''].join('\r\n'));
    const out = join(dir, 'hostile-out');
    const r = exhunt(['scan', host, '--csv', out, '--jobs', '1']);
    expect(r.stdout).toContain('PS-08');
    expect(r.stdout).not.toContain('\u001b[31m');
    expect(r.stdout).not.toContain('\u0007');
    const csv = readFileSync(join(out, 'exhunt-findings.csv'), 'utf8');
    expect(csv).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    // Evidence is written as JSON inside its cell: the escape is the six characters \u001b.
    expect(csv).toContain('\\u001b[31mred');
    expect(csv).not.toMatch(/(^|,)"[=+@-]/m);
  });

  it('Get-EventLog Application: EntryType names are levels (PL-40 needs Error); a row without its message is counted', () => {
    // No public UM event text exists (as in evtx-scan.test.ts): the message is the synthetic one used there.
    const host = join(dir, 'app');
    mkdirSync(host);
    const cols = ['EventID', 'MachineName', 'Data', 'Index', 'Category', 'CategoryNumber', 'EntryType', 'Message', 'Source', 'ReplacementStrings', 'InstanceId', 'TimeGenerated', 'TimeWritten', 'UserName', 'Site', 'Container'];
    const um = "System.InvalidCastException: Unable to cast object of type 'System.Windows.Data.ObjectDataProvider'";
    const row = (index: number, type: string, message: string, time: string) => [q('1040'), q('EX01'), q('System.Byte[]'), q(String(index)), q('(0)'), q('0'), q(type), message === '' ? '' : q(message), q('MSExchange Unified Messaging'), q('System.String[]'), q('3221226512'), q(time), q(time), '', '', ''].join(',');
    writeFileSync(
      join(host, 'Application.csv'),
      ['#TYPE System.Diagnostics.EventLogEntry#Application/MSExchange Unified Messaging/3221226512', cols.map(q).join(','), row(76, 'Information', um, '3/2/2021 3:59:00 AM'), row(77, 'Error', um, '3/2/2021 4:00:00 AM'), row(78, 'Error', '', '3/2/2021 4:00:01 AM'), ''].join('\r\n'),
    );
    const h = scanJson(host, 'app.json', ['--event-csv-tz', 'Europe/Berlin', '--event-csv-dates', 'mdy']);
    expect(h.findings.filter((f) => f.rule === 'PL-40').map((f) => [f.source.line, f.time, f.evidence.csv_row])).toEqual([[4, '2021-03-02T03:00:00.0000000Z', 2]]);
    expect(reason(h, 'Application.csv')).toMatch(/^read as an event log saved as CSV \(Get-EventLog \| Export-Csv\): 3 event\(s\).*day\/month order ambiguous: no day above 12 in 3 date\(s\); read as mdy \(--event-csv-dates\).*1 event\(s\) with no rendered message/);
    expect(h.coverage.find((c) => c.source === 'EVTX Application (saved as CSV)')).toMatchObject({ records: 3, first: '2021-03-02T02:59:00.0000000Z', last: '2021-03-02T03:00:01.0000000Z' });
  });

  it('Defender 1116 from its rendered text: an Exchange exploit name gives PX-16, another threat does not', () => {
    // The message as Defender renders 1116 (wazuh's published event); the threat name is one artefacts.help lists
    // as seen on Exchange servers, the path a ProxyShell drop.
    const host = join(dir, 'defender');
    mkdirSync(host);
    const detected = (name: string, path: string) =>
      ['Microsoft Defender Antivirus has detected malware or other potentially unwanted software.', ' For more information please see the following:', `https://go.microsoft.com/fwlink/?linkid=37020&name=${name}&threatid=2147780877&enterprise=0`, ` \tName: ${name}`, ' \tID: 2147780877', ' \tSeverity: Severe', ' \tCategory: Exploit', ` \tPath: ${path}`, ' \tDetection Origin: Local machine', ' \tDetection Type: Concrete', ' \tDetection Source: Real-Time Protection', ' \tUser: NT AUTHORITY\\SYSTEM', ' \tProcess Name: C:\\Windows\\System32\\inetsrv\\w3wp.exe'].join('\r\n');
    writeFileSync(
      join(host, 'Defender.csv'),
      [
        '"TimeCreated","Id","LevelDisplayName","ProviderName","Message"',
        `"8/14/2021 3:20:53 PM","1116","Warning","Microsoft-Windows-Windows Defender",${q(detected('Exploit:Win32/CVE-2021-31207.B', 'file:_C:\\inetpub\\wwwroot\\aspnet_client\\p433zrwewrvmcv.aspx'))}`,
        `"8/14/2021 3:25:00 PM","1116","Warning","Microsoft-Windows-Windows Defender",${q(detected('HackTool:Win64/Mikatz!dha', 'file:_C:\\Users\\admmig\\Documents\\mimidrv.sys'))}`,
        '',
      ].join('\r\n'),
    );
    const h = scanJson(host, 'def.json');
    expect(h.findings.filter((f) => f.rule === 'PX-16').map((f) => [f.source.line, f.evidence.threat, f.evidence.file])).toEqual([[2, 'Exploit:Win32/CVE-2021-31207.B', 'C:\\inetpub\\wwwroot\\aspnet_client\\p433zrwewrvmcv.aspx']]);
  });

  // review5's counter-examples, scanned once with the zone of New York, checked one fix each.
  let r5: ScanReport['hosts'][0] | undefined;
  const review5 = () => (r5 ??= scanReview5());
  const scanReview5 = () => {
    const host = join(dir, 'review5');
    mkdirSync(host);
    const header = '"Message","Id","ProviderName","LogName","MachineName","TimeCreated"';
    const row = (message: string, machine: string, time: string) => [message, '1', 'MSExchange CmdletLogs', 'MSExchange Management', machine, time].map(q).join(',');
    // Excel's sep= line and a blank first line: read (they were neither read nor listed).
    writeFileSync(join(host, 'sep.csv'), ['sep=,', header, row(MESSAGE, 'MAIL01', '8/14/2021 3:20:53 PM'), ''].join('\r\n'));
    writeFileSync(join(host, 'blank.csv'), ['', '#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord', header, row(MESSAGE, 'MAIL01', '8/14/2021 3:20:53 PM'), ''].join('\r\n'));
    // Exports of two servers pasted together: 1.2 MB of en-GB rows, then en-US rows (3/14 contradicts day first; 3/4
    // would be read as 3 April). The order is unknown, said, and no time is placed.
    const gb = Array.from({ length: 4500 }, (_, i) => row(`Cmdlet suceeded. Cmdlet Get-Mailbox, parameters -Identity "u${'x'.repeat(200)}"`, 'MAIL01', `${13 + (i % 16)}/${String(1 + (i % 12)).padStart(2, '0')}/2021 ${String(i % 24).padStart(2, '0')}:00:00`));
    writeFileSync(join(host, 'merged.csv'), [header, ...gb, row(MESSAGE, 'MAIL02', '3/4/2021 1:15:00 PM'), row('Cmdlet suceeded. Cmdlet Get-Mailbox, parameters -Identity "b"', 'MAIL02', '3/14/2021 1:15:00 PM'), ''].join('\r\n'));
    // Times written with their own offset (-Format o): placed by it, and labelled so, not as the zone given.
    writeFileSync(join(host, 'iso.csv'), [header, row(MESSAGE, 'MAIL03', '2021-08-14T13:20:53Z'), ''].join('\r\n'));
    // 1:30 AM on 7 November 2021 happened twice in New York: read as standard time (06:30Z), flagged.
    writeFileSync(join(host, 'dst.csv'), [header, row(MESSAGE, 'MAIL04', '11/7/2021 1:30:00 AM'), row('Cmdlet suceeded. Cmdlet Get-Mailbox, parameters -Identity "b"', 'MAIL04', '11/13/2021 1:30:00 AM'), ''].join('\r\n'));
    return scanJson(host, 'r5.json', ['--event-csv-tz', 'America/New_York']);
  };
  const ps08 = (path: string) => review5().findings.find((f) => f.rule === 'PS-08' && f.source.path === path);

  it('a blank first line or an Excel sep= line before the header: read (was neither read nor listed)', () => {
    const h = review5();
    expect(h.findings.filter((f) => f.rule === 'PS-08').map((f) => f.source.path).sort()).toEqual(['blank.csv', 'dst.csv', 'iso.csv', 'merged.csv', 'sep.csv']);
    expect(ps08('sep.csv')!.time).toBe('2021-08-14T19:20:53.0000000Z');
    expect(reason(h, 'blank.csv')).toMatch(/^read as an event log saved as CSV \(Get-WinEvent \| Export-Csv\): 1 event/);
  });

  it('a row contradicting the day/month order after the first MiB: order unknown, times not placed, said', () => {
    const h = review5();
    expect(ps08('merged.csv')!.time).toBeNull();
    expect(ps08('merged.csv')!.evidence.event_time_as_written).toBe('3/4/2021 1:15:00 PM');
    expect(reason(h, 'merged.csv')).toMatch(/dates contradict each other \(4500 with the day first, 1 with the month first\): day\/month order unknown: times not placed.*split the file by machine/);
    expect(reason(h, 'merged.csv')).not.toMatch(/from the file/);
  });

  it('a cell with its own offset: placed by it and labelled with it, not with --event-csv-tz', () => {
    const h = review5();
    expect(ps08('iso.csv')!.time).toBe('2021-08-14T13:20:53.0000000Z');
    expect(ps08('iso.csv')!.evidence.event_time_zone).toBe('given in the file (UTC)');
    expect(reason(h, 'iso.csv')).not.toMatch(/times read as America\/New_York/);
    expect(reason(h, 'iso.csv')).toMatch(/1 time\(s\) placed by the offset written in their own cell/);
  });

  it('a time in the hour repeated when summer time ends: standard time west of UTC too, and flagged', () => {
    const h = review5();
    expect(ps08('dst.csv')!.time).toBe('2021-11-07T06:30:00.0000000Z');
    expect(ps08('dst.csv')!.evidence.event_time_zone).toBe('America/New_York (in the hour repeated when summer time ends: read as standard time, may be an hour late)');
    expect(reason(h, 'dst.csv')).toMatch(/1 time\(s\) in the hour repeated when summer time ends: read as standard time, may be an hour late/);
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
