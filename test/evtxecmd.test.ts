// EvtxECmd output read without the .evtx (evtxecmd-e2e.test.ts compares both on real samples). The vendored KAPE
// layout test/fixtures/evtxecmd/mail01 is a self-made EvtxECmd 1.5 CSV (header, quoting, BOM and Level/Keywords
// names as EvtxECmd writes them; the 1102 row has the shape of the quilt project's real sample-min.csv) holding the
// ProxyShell cmdlets of the hamad-she write-up (msexchange_management_lines_as_published.txt) as MSExchange
// CmdletLogs event 1 records. Then the parts one by one, and hostile files: each problem is named with its file and
// line, the scan goes on, and nothing an attacker wrote reaches a terminal or a spreadsheet raw.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostResult, RawFinding, ScanReport } from '../src/model.js';
import { EcmdDuplicates } from '../src/engine/evtx-duplicates.js';
import type { CollapsedKind } from '../src/engine/group.js';
import { jsonRowToEvent } from '../src/parsers/evtx/index.js';
import { dataOfXmlJson, type JsonObject } from '../src/parsers/evtx/xml-json.js';
import { detectEcmdCsv, ecmdTime, isEcmdJson } from '../src/parsers/evtx/evtxecmd.js';
import { exhunt } from './support/cli.js';
import { CSV_HEADER, csvCell } from './support/evtxecmd.js';

const FIXTURE = 'test/fixtures/evtxecmd/mail01';
const FIXTURE_CSV = `${FIXTURE}/EventLogs/20210815093012_EvtxECmd_Output.csv`;
const dir = mkdtempSync(join(tmpdir(), 'exhunt-evtxecmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scanJson(host: string, extra: string[] = []): HostResult {
  const out = join(dir, `${host.replace(/[^\w-]/g, '_')}.json`);
  const r = exhunt(['scan', host, '--json', out, '--jobs', '1', '-q', ...extra]);
  expect(r.stderr).toBe('');
  return (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
}

const reasons = (h: HostResult, path: string) => h.skipped.filter((s) => s.path === path).map((s) => s.reason);

describe('EvtxECmd CSV as KAPE leaves it', () => {
  it('is read: the ProxyShell export and certificate request are found at their rows, in UTC, and the source is said', () => {
    const h = scanJson(FIXTURE);
    expect(h.verdict).toBe('compromised');
    const got = h.findings.map((f) => [f.rule, f.source.line, f.time, f.evidence.event_record_id, f.evidence.evtxecmd_source_file]);
    expect(got).toEqual([
      ['PS-08', 2, '2021-08-14T13:18:02.1144376Z', 48211, 'C:\\Windows\\System32\\winevt\\Logs\\MSExchange Management.evtx'],
      ['PS-08', 3, '2021-08-14T13:20:53.4458912Z', 48213, 'C:\\Windows\\System32\\winevt\\Logs\\MSExchange Management.evtx'],
      ['PS-10', 4, '2021-08-14T13:24:10.0023519Z', 48220, 'C:\\Windows\\System32\\winevt\\Logs\\MSExchange Management.evtx'],
    ]);
    // The caller is in the record's event data (unlike a CSV saved from Event Viewer).
    expect(h.findings[1].evidence.user).toBe('xxxxx.sa/xxxxx-OU/xxxxx IT/HamadA. Admin');
    expect(reasons(h, 'EventLogs/20210815093012_EvtxECmd_Output.csv')).toEqual([
      'read as EvtxECmd output (CSV): 4 event(s) of 2 log(s): MSExchange Management.evtx, Security.evtx; times are UTC as EvtxECmd writes them; event data from its Payload column; not in EvtxECmd output: the rendered message, the rest of the event XML (ProviderGuid, Version, Task, Opcode, ActivityID; --xml shows nothing), and records EvtxECmd could not parse',
    ]);
    expect(h.coverage.map((c) => [c.source, c.records, c.first, c.last])).toEqual([
      ['EVTX MSExchange Management (EvtxECmd)', 3, '2021-08-14T13:18:02.1144376Z', '2021-08-14T13:24:10.0023519Z'],
      ['EVTX Security (EvtxECmd)', 1, '2021-08-14T14:02:31.5095046Z', '2021-08-14T14:02:31.5095046Z'],
    ]);
  });

  it('reads the header by name (older EvtxECmd put Payload before Keywords), and a spreadsheet re-save with ";"', () => {
    const text = readFileSync(FIXTURE_CSV, 'utf8').replace(/^\uFEFF/, '');
    const [header, ...rows] = text.trimEnd().split('\r\n');
    const cells = header.split(',');
    // EvtxECmd before 1.0: ...,HiddenRecord,SourceFile,Payload,Keywords,ExtraDataOffset (Timeline Explorer's old header).
    const order = [...cells.slice(0, 23), 'Payload', 'Keywords', 'ExtraDataOffset'].filter((c) => c !== 'ChunkNumber');
    const parse = (row: string) => {
      const out: string[] = [];
      for (const m of row.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)) out.push(m[1]);
      return new Map(cells.map((c, i) => [c, out[i]]));
    };
    const old = [order.join(','), ...rows.map((r) => order.map((c) => parse(r).get(c)).join(','))].join('\r\n');
    const semi = [cells.join(';'), ...rows.map((r) => cells.map((c) => parse(r).get(c)).join(';'))].join('\r\n');
    const host = join(dir, 'orders');
    mkdirSync(host);
    writeFileSync(join(host, 'old.csv'), old);
    writeFileSync(join(host, 'semicolon.csv'), semi);
    // Re-saved from Timeline Explorer, which puts its own Line and Tag columns first (Yamato-Security/hayabusa
    // doc/TimelineExplorerAnalysis): was swept as a plain file and named nowhere (review6b D5).
    const tle = [`Line,Tag,${cells.join(',')}`, ...rows.map((r, i) => `${i + 1},False,${r}`)].join('\r\n');
    writeFileSync(join(host, 'timeline-explorer.csv'), `\uFEFF${tle}`);
    const h = scanJson(host);
    const rules = (p: string) => h.findings.filter((f) => f.source.path === p).map((f) => `${f.rule}@${f.source.line} ${f.time}`);
    const expected = ['PS-08@2 2021-08-14T13:18:02.1144376Z', 'PS-08@3 2021-08-14T13:20:53.4458912Z', 'PS-10@4 2021-08-14T13:24:10.0023519Z'];
    expect(rules('old.csv')).toEqual(expected);
    expect(rules('semicolon.csv')).toEqual(expected);
    expect(rules('timeline-explorer.csv')).toEqual(expected);
    expect(reasons(h, 'timeline-explorer.csv')[0]).toMatch(/^read as EvtxECmd output \(CSV\): 4 event\(s\) of 2 log\(s\)/);
  });
});

describe('exhunt evtx dump', () => {
  it('prints EvtxECmd rows as the records they were made from', () => {
    const r = exhunt(['evtx', 'dump', FIXTURE_CSV]);
    expect(r.stderr).toBe('');
    const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { record: number; time: string; eventId: number; data: Record<string, string> });
    expect(recs.map((e) => [e.record, e.time, e.eventId])).toEqual([
      [48211, '2021-08-14T13:18:02.1144376Z', 1],
      [48213, '2021-08-14T13:20:53.4458912Z', 1],
      [48220, '2021-08-14T13:24:10.0023519Z', 1],
      [227126, '2021-08-14T14:02:31.5095046Z', 1102],
    ]);
    expect(recs[1].data['Data[0]']).toBe('New-MailboxExportRequest');
    expect(recs[3].data.SubjectUserName).toBe('Administrator');
  });
});

describe('EvtxECmd parts', () => {
  it('Payload: Newtonsoft XML-as-JSON back to the XML model (one Data is no array; empty is null; UserData leaves)', () => {
    const d = (o: unknown) => dataOfXmlJson(o as JsonObject);
    expect(d({ EventData: { Data: [{ '@Name': 'SubjectUserSid', '#text': 'S-1-5-18' }, { '@Name': 'Empty' }, { '@Name': 'CommandLine', '#text': 'cmd /c "x"' }] } })).toEqual({ SubjectUserSid: 'S-1-5-18', Empty: '', CommandLine: 'cmd /c "x"' });
    expect(d({ EventData: { Data: { '@Name': 'param1', '#text': 'only' } } })).toEqual({ param1: 'only' });
    expect(d({ EventData: { Data: 'alone' } })).toEqual(['alone']);
    expect(d({ EventData: { Data: ['a', null, 'c'], Binary: null } })).toEqual(['a', '', 'c']);
    expect(d({ EventData: { Data: ['a', 'b'], Binary: '0A0B' } })).toEqual({ Binary: '0A0B', 'Data[0]': 'a', 'Data[1]': 'b' });
    expect(d({ EventData: null })).toEqual([]);
    expect(d({ EventData: '' })).toEqual([]);
    // Security 1102 as EvtxECmd writes it (xmlns removed), and a UserData element with attributes and repeats.
    expect(d({ UserData: { LogFileCleared: { SubjectUserSid: 'S-1-5-21-1-500', SubjectUserName: 'Administrator' } } })).toEqual({ SubjectUserSid: 'S-1-5-21-1-500', SubjectUserName: 'Administrator' });
    expect(d({ UserData: { EventXML: { '@xmlns': 'Event_NS', Param: ['p1', 'p2'], Op: { '@Kind': 'k', '#text': 'v' } } } })).toEqual({ Param: 'p2', Op: 'v', 'Op.Kind': 'k' });
    // Names come from evidence: `constructor` stays a name, `__proto__` changes nothing (as in the .evtx model).
    const odd = d({ EventData: { Data: [{ '@Name': '__proto__', '#text': 'x' }, { '@Name': 'constructor', '#text': 'y' }] } });
    expect(odd).toEqual({ constructor: 'y' });
    expect(Object.getPrototypeOf(odd)).toBe(Object.prototype);
  });

  it('TimeCreated: the default --dt and ISO forms are UTC; anything else is no time', () => {
    expect(ecmdTime('2016-10-06 01:47:07.5095046')).toBe('2016-10-06T01:47:07.5095046Z');
    expect(ecmdTime('2024-02-14T03:41:26.4441194+00:00')).toBe('2024-02-14T03:41:26.4441194Z');
    expect(ecmdTime('2024-02-14T05:41:26.44+02:00')).toBe('2024-02-14T03:41:26.4400000Z');
    expect(ecmdTime('2024-02-14 03:41:26')).toBe('2024-02-14T03:41:26.0000000Z');
    expect(ecmdTime('2/14/2024 3:41')).toBeNull();
    expect(ecmdTime('2024-02-14 03:41')).toBeNull();
  });

  it('a JSON line as EvtxECmd 1.5 writes it (0xdf, HTB Sherlock Unit42) is the Sysmon event it came from', () => {
    const line = String.raw`{"PayloadData1":"ProcessID: 4292, ProcessGUID: 817bddf3-3514-65cc-0802-000000001900","PayloadData2":"RuleName: -","UserName":"DESKTOP-887GK2L\\CyberJunkie","MapDescription":"DNSEvent (DNS query)","ChunkNumber":0,"Computer":"DESKTOP-887GK2L","Payload":"{\"EventData\":{\"Data\":[{\"@Name\":\"RuleName\",\"#text\":\"-\"},{\"@Name\":\"QueryName\",\"#text\":\"uc2f030016253ec53f4953980a4e.dl.dropboxusercontent.com\"},{\"@Name\":\"Image\",\"#text\":\"C:\\\\Program Files\\\\Mozilla Firefox\\\\firefox.exe\"}]}}","UserId":"S-1-5-18","Channel":"Microsoft-Windows-Sysmon/Operational","Provider":"Microsoft-Windows-Sysmon","EventId":22,"EventRecordId":"118747","ProcessId":3028,"ThreadId":4452,"Level":"Info","Keywords":"Classic","SourceFile":"Z:\\hackthebox-sherlocks\\unit42\\Microsoft-Windows-Sysmon-Operational.evtx","ExtraDataOffset":0,"HiddenRecord":false,"TimeCreated":"2024-02-14T03:41:26.4441194+00:00","RecordNumber":1}`;
    expect(isEcmdJson(Buffer.from(`\uFEFF${line}\r\n`))).toBe(true);
    const e = jsonRowToEvent(JSON.parse(line), 3, 1)!;
    expect([e.record, e.time, e.eventId, e.level, e.provider, e.channel, e.computer]).toEqual([118747, '2024-02-14T03:41:26.4441194Z', 22, 4, 'Microsoft-Windows-Sysmon', 'Microsoft-Windows-Sysmon/Operational', 'DESKTOP-887GK2L']);
    expect(e.data).toEqual({ RuleName: '-', QueryName: 'uc2f030016253ec53f4953980a4e.dl.dropboxusercontent.com', Image: 'C:\\Program Files\\Mozilla Firefox\\firefox.exe' });
    expect(e.system).toMatchObject({ Keywords: '0x8000000000000000', UserID: 'S-1-5-18', ProcessID: '3028', ThreadID: '4452', EventRecordID: '118747' });
  });

  it('EvtxECmd --fj lines (the whole event through Newtonsoft) are read as the event', () => {
    const fj = { Event: { System: { Provider: { '@Name': 'Microsoft-Windows-Security-Auditing', '@Guid': '{54849625-5478-4994-a5ba-3e3b0328c30d}' }, EventID: '4688', Level: '0', TimeCreated: { '@SystemTime': '2021-10-20 14:29:10.2143858' }, EventRecordID: '67747', Correlation: null, Execution: { '@ProcessID': '4', '@ThreadID': '80' }, Channel: 'Security', Computer: 'srv', Security: null }, EventData: { Data: [{ '@Name': 'NewProcessName', '#text': 'C:\\Windows\\System32\\rundll32.exe' }] } } };
    const e = jsonRowToEvent(fj, 0, 1)!;
    expect([e.record, e.time, e.eventId, e.provider]).toEqual([67747, '2021-10-20T14:29:10.2143858Z', 4688, 'Microsoft-Windows-Security-Auditing']);
    expect(e.system).toMatchObject({ ProviderGuid: '{54849625-5478-4994-a5ba-3e3b0328c30d}', ProcessID: '4', ThreadID: '80', Correlation: '', Security: '' });
    expect(e.data).toEqual({ NewProcessName: 'C:\\Windows\\System32\\rundll32.exe' });
  });

  it('recognises EvtxECmd CSV by its header, and nothing else', () => {
    expect(detectEcmdCsv(readFileSync(FIXTURE_CSV))).toEqual({ delimiter: ',' });
    expect(detectEcmdCsv(Buffer.from('RecordNumber,EventRecordId,TimeCreated,EventId,Level,Provider\r\n'))).toBeNull();
    expect(detectEcmdCsv(Buffer.from('"Message","Id","Version","Qualifiers","Level","Task","Opcode","Keywords","RecordId","ProviderName"\r\n'))).toBeNull();
    expect(detectEcmdCsv(Buffer.from('Timestamp,RuleTitle,Level,Computer,Channel,EventID,Details\n'))).toBeNull();
    expect(detectEcmdCsv(Buffer.from(`${CSV_HEADER.join(',')}`))).toBeNull(); // no line end within the head: not judged
    expect(isEcmdJson(Buffer.from('{"Event":{"System":{}}}\n'))).toBe(false);
  });
});

describe('hostile EvtxECmd output', () => {
  const fixtureRows = () => readFileSync(FIXTURE_CSV, 'utf8').replace(/^\uFEFF/, '').trimEnd().split('\r\n');

  it('names each bad file and line, reads what it can, and says what it skipped', () => {
    const host = join(dir, 'hostile');
    mkdirSync(host);
    const [header, r1, r2, r3, r4] = fixtureRows();
    // A Payload cut short: the event is still read (id, time), its data is not; the next rows are read.
    writeFileSync(join(host, 'cut-payload.csv'), [header, r1.replace(/"\{""EventData.*$/, '"{""EventData"":{""Data"":[""New-Mailbox"'), r2, ''].join('\r\n'));
    // An unbalanced quote: the rest of the file is one cell, the row is too short; the rows before it are read.
    writeFileSync(join(host, 'open-quote.csv'), [header, r2, r3.replace(/\}\}"$/, '}}'), r4, ''].join('\r\n'));
    writeFileSync(join(host, 'open-quote-last.csv'), [header, r2, r3.replace(/\}\}"$/, '}}'), ''].join('\r\n'));
    // A runaway cell over the 8 MiB row bound, after one good row.
    writeFileSync(join(host, 'huge.csv'), [header, r2, `${r1.slice(0, r1.lastIndexOf(',"{'))},"${'A'.repeat(9 * 1024 * 1024)}`, ''].join('\r\n'));
    // An unquoted 20 MB cell (a hand-made or hostile row): that row is dropped at its line end, the next is read.
    writeFileSync(join(host, 'huge-unquoted.csv'), [header, r1.replace('C:\\Windows\\System32\\winevt\\Logs\\MSExchange Management.evtx', 'A'.repeat(20 * 1024 * 1024)), r2, ''].join('\r\n'));
    // SourceFile values that name no .evtx file: not listed as logs, counted (review6b D4).
    const odd = (r: string, source: string) => r.replace('C:\\Windows\\System32\\winevt\\Logs\\MSExchange Management.evtx', source);
    writeFileSync(join(host, 'odd-source.csv'), [header, r1, odd(r2, 'C:\\logs\\<img src=x onerror=alert(1)>.evtx'), odd(r3, csvCell('C:\\logs\\MSExchange Management.evtx,0x80000000000000,0,{"EventData"')), ''].join('\r\n'));
    // EvtxECmd's header over another tool's rows.
    writeFileSync(join(host, 'not-evtxecmd.csv'), [header, 'a,b,c', CSV_HEADER.map((c) => (c === 'EventId' ? 'four' : c === 'Payload' ? 'not json' : 'x')).join(','), ''].join('\r\n'));
    // JSON: a good EvtxECmd line, then a broken one.
    const good = JSON.stringify({ ChunkNumber: 0, Computer: 'MAIL01', Payload: '{"EventData":{"Data":["New-MailboxExportRequest","-Mailbox \'a\' -FilePath \'\\\\\\\\localhost\\\\c$\\\\inetpub\\\\wwwroot\\\\aspnet_client\\\\s.aspx\'"]}}', Channel: 'MSExchange Management', Provider: 'MSExchange CmdletLogs', EventId: 1, EventRecordId: '9', Level: 'Info', SourceFile: 'x.evtx', TimeCreated: '2021-08-14T13:20:53.0000000+00:00', RecordNumber: 9 });
    writeFileSync(join(host, 'broken.json'), `${good}\r\n{"ChunkNumber":1,"Computer":"MAIL01","Payload":"{\\"Event\r\n`);
    // The Payload column removed (to make the file smaller?): ids and times are read, and the loss is said.
    writeFileSync(join(host, 'no-payload.csv'), [header.slice(0, header.lastIndexOf(',')), r2.slice(0, r2.lastIndexOf(',"{')), ''].join('\r\n'));
    const h = scanJson(host);
    expect(reasons(h, 'cut-payload.csv')).toContain("1 EvtxECmd row(s) whose Payload is not the JSON EvtxECmd writes: event data not read (id, provider and time are), first at line 2");
    expect(h.findings.filter((f) => f.source.path === 'cut-payload.csv').map((f) => `${f.rule}@${f.source.line}`)).toEqual(['PS-08@3']);
    // The next row's quotes close it again: that row is swallowed into this one, which has too many cells.
    expect(reasons(h, 'open-quote.csv')).toEqual(expect.arrayContaining([
      "1 EvtxECmd CSV row(s) with more cells than the header's 27 (a quote not closed where it should be?), read by the first 27, first at line 3",
      '1 EvtxECmd row(s) whose Payload is not the JSON EvtxECmd writes: event data not read (id, provider and time are), first at line 3',
    ]));
    expect(reasons(h, 'open-quote-last.csv')).toContain('CSV row at line 3: a quote is never closed, the rest of the file (to line 4) was read as one cell');
    expect(h.findings.filter((f) => f.source.path === 'open-quote.csv').map((f) => `${f.rule}@${f.source.line}`)).toEqual(['PS-08@2']);
    expect(reasons(h, 'huge.csv')).toContain('CSV row at line 3 longer than 8 MiB (an unterminated quote?): the rest of the file is not read');
    expect(h.findings.filter((f) => f.source.path === 'huge.csv').map((f) => `${f.rule}@${f.source.line}`)).toEqual(['PS-08@2']);
    expect(reasons(h, 'odd-source.csv')[0]).toMatch(/^read as EvtxECmd output \(CSV\): 3 event\(s\) of 1 log\(s\): MSExchange Management\.evtx \(2 event\(s\) whose SourceFile is no \.evtx file name\); times/);
    expect(h.findings.filter((f) => f.source.path === 'odd-source.csv').map((f) => f.evidence.evtxecmd_source_file)).toContain('C:\\logs\\<img src=x onerror=alert(1)>.evtx');
    expect(reasons(h, 'huge-unquoted.csv')).toContain('CSV row at line 2 longer than 8 MiB outside quotes: that row not read, the rows after it are');
    expect(h.findings.filter((f) => f.source.path === 'huge-unquoted.csv').map((f) => `${f.rule}@${f.source.line}`)).toEqual(['PS-08@3']);
    expect(reasons(h, 'not-evtxecmd.csv')).toEqual(expect.arrayContaining([
      expect.stringMatching(/^read as EvtxECmd output \(CSV\): 1 event\(s\)/),
      "1 EvtxECmd CSV row(s) with fewer cells than the header's 27 not read (a cut or hand-edited row), first at line 2",
      '1 EvtxECmd row(s) whose EventId is not a number (not an EvtxECmd row?): no rule on event ids ran on them, first at line 3',
      '1 EvtxECmd row(s) whose Payload is not the JSON EvtxECmd writes: event data not read (id, provider and time are), first at line 3',
      '1 EvtxECmd row(s) whose TimeCreated is not a date and time (EvtxECmd run with another --dt, or the CSV re-saved by a spreadsheet?): no time, first at line 3',
    ]));
    expect(reasons(h, 'no-payload.csv')).toContain('EvtxECmd CSV without its Payload column (removed before it was sent?): event data not read, only ids, providers and times');
    expect(h.findings.filter((f) => f.source.path === 'no-payload.csv')).toEqual([]);
    expect(reasons(h, 'broken.json')).toContain('1 JSON line not an event (not JSON, or no System/EventID), first at line 2');
    expect(h.findings.filter((f) => f.source.path === 'broken.json').map((f) => `${f.rule}@${f.source.line}`)).toEqual(['PS-08@1']);
  });

  it('a Payload or JSON line nested thousands deep is a bad row, not the end of the file', () => {
    const host = join(dir, 'deep');
    mkdirSync(host);
    const [header, r1, r2] = fixtureRows();
    const deep = (n: number) => `{"UserData":${'{"a":'.repeat(n)}"x"${'}'.repeat(n)}}`;
    const row = (payload: string) => `${r1.slice(0, r1.lastIndexOf(',"{'))},${csvCell(payload)}`;
    writeFileSync(join(host, 'deep.csv'), [header, row(deep(20_000)), r2, ''].join('\r\n'));
    const good = JSON.stringify({ Event: { System: { Provider: { '@Name': 'MSExchange CmdletLogs' }, EventID: 1, EventRecordID: 7, Channel: 'MSExchange Management', Computer: 'MAIL01', TimeCreated: { '@SystemTime': '2021-08-14T13:20:53.0000000Z' } }, EventData: { Data: ['New-MailboxExportRequest', "-Mailbox 'a' -FilePath '\\\\localhost\\c$\\inetpub\\wwwroot\\aspnet_client\\s.aspx'"] } } });
    writeFileSync(join(host, 'deep.json'), `${good}\n${good.replace('"EventData"', `"UserData":${deep(20_000).slice(12, -1)},"EventData"`)}\n${good}\n`);
    // Neither EventData nor UserData: EvtxECmd writes the element after System; an event without data, no problem.
    writeFileSync(join(host, 'other.csv'), [header, row('{"ProcessingErrorData":{"ErrorCode":"15005"}}'), r2, ''].join('\r\n'));
    const h = scanJson(host);
    expect(reasons(h, 'other.csv').filter((r) => r.includes('not the JSON'))).toEqual([]);
    expect(h.findings.filter((f) => f.source.path === 'other.csv').map((f) => `${f.rule}@${f.source.line}`)).toEqual(['PS-08@3']);
    expect(reasons(h, 'deep.csv')).toContain('1 EvtxECmd row(s) whose Payload is not the JSON EvtxECmd writes: event data not read (id, provider and time are), first at line 2');
    expect(h.findings.filter((f) => f.source.path === 'deep.csv').map((f) => `${f.rule}@${f.source.line}`)).toEqual(['PS-08@3']);
    expect(reasons(h, 'deep.json')).toContain('1 JSON line not an event (not JSON, or no System/EventID), first at line 2');
    expect(h.findings.filter((f) => f.source.path === 'deep.json').map((f) => `${f.rule}@${f.source.line}`)).toEqual(['PS-08@1', 'PS-08@3']);
    expect(h.skipped.map((s) => s.reason).join('\n')).not.toMatch(/call stack/);
  });

  it('control characters and formulas in cells stay inert in the terminal and in --csv', () => {
    const host = join(dir, 'evil');
    mkdirSync(host);
    const [header, , r2] = fixtureRows();
    const evil = r2.replace("-Mailbox 'Hamad@xxxxx.darksys.com'", "-Mailbox '=HYPERLINK(\\\"\"http://x\\\"\")' -Name '\\u001b[31mred\\u001b]0;owned\\u0007'").replace('MAIL01.xxxxx.local', csvCell('MAIL01\u001b[2J\u0007'));
    writeFileSync(join(host, 'evil.csv'), [header, evil, ''].join('\r\n'));
    const out = join(dir, 'evil-out');
    const r = exhunt(['scan', host, '--csv', out, '--jobs', '1']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('PS-08');
    expect(r.stdout).not.toMatch(/[\u0007\u001b]\[?(?:31m|2J|\]0)/);
    const csv = readFileSync(join(out, 'exhunt-findings.csv'), 'utf8');
    expect(csv).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(csv).toContain('\\u001b[31mred');
    expect(csv).not.toMatch(/(^|,)"?[=+@-]/m);
  });
});

describe('the same event from an .evtx and its EvtxECmd export', () => {
  /** `ecmdRecord`: the finding came from EvtxECmd output, of this event record. */
  const finding = (rule: string, path: string, at: { record?: number; line?: number }, ecmdRecord?: number): RawFinding => ({
    rule,
    title: rule,
    cves: [],
    severity: 'high',
    kind: 'exploitation',
    time: '2021-08-14T13:20:53.4458912Z',
    client_ip: null,
    source: { path, ...at },
    summary: '',
    evidence: ecmdRecord === undefined ? {} : { event_record_id: ecmdRecord, evtxecmd_source_file: 'C:\\Windows\\System32\\winevt\\Logs\\MSExchange Management.evtx' },
    lane: 'Event logs',
    stage: 'exploited',
  });

  it('is one finding; a kind collapsed in the .evtx cannot be matched, and that is said', () => {
    const d = new EcmdDuplicates();
    const fromCsv = finding('PS-08', 'out.csv', { line: 3 }, 48213);
    const other = finding('PS-10', 'out.csv', { line: 4 }, 48220);
    expect(d.hold(fromCsv)).toBe(true);
    expect(d.hold(other)).toBe(true);
    expect(d.hold(finding('PS-08', 'MSExchange Management.evtx', { record: 48213 }))).toBe(false);
    // PS-10's .evtx findings were too many: collapsed into a group in that file's scan.
    const group: CollapsedKind = { count: 150, first: [finding('PS-10', 'MSExchange Management.evtx', { record: 1 })], last: [], folder: null, ips: new Map(), firstTime: null, lastTime: null };
    expect(d.holdGroup(group)).toBe(false);
    const r = d.release();
    expect(r.findings).toEqual([other]);
    expect(r.notes.map((n) => `${n.path}: ${n.reason}`)).toEqual([
      'out.csv: 1 finding(s) from this EvtxECmd output are the same events as findings from the .evtx scanned (same rule, event record id and time): reported once, from the .evtx',
      'out.csv: findings of PS-10 from this EvtxECmd output were too many to match one by one against the .evtx scanned: some may be the same events counted twice',
    ]);
  });
});
