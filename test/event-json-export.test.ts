// Event logs saved as JSON by PowerShell (`Get-WinEvent -LogName … | ConvertTo-Json > events.json`), built from the
// vendored real .evtx samples (read with exhunt's own reader, messages from published templates only:
// test/support/event-csv.ts) the way Windows PowerShell 5.1 and PowerShell 7 write them:
// - every EventLogRecord property in its order (Message, Id, Version, … Properties), 5.1's `"Key":  value` layout and
//   4-space indent, times as "\/Date(<ms since 1970 UTC>)\/" (5.1) or ISO 8601 with the local offset (7);
// - Properties as `[{"Value": …}, …]` (the event's insertion strings in order);
// - UTF-16LE with a BOM (5.1's `>` / Out-File), UTF-8 (7); a JSON array, or 5.1's `{"value": […], "Count": n}`
//   (ConvertTo-Json -InputObject $events).
// These were named in skipped as unread ("export the log again"): now read, the same findings as the .evtx at the
// same record and second (the times are UTC, unlike Export-Csv's local text).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Finding, HostResult, ScanReport } from '../src/model.js';
import type { EvtxEvent } from '../src/parsers/evtx/index.js';
import { detectPwshEventJson, pwshJsonToEvent, pwshTime } from '../src/parsers/evtx/pwsh-json.js';
import { exhunt } from './support/cli.js';
import { readSample, renderable, SAMPLE_FILES, type CsvRowOf } from './support/event-csv.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-evjson-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** PowerShell 7's DateTime: the wall clock of a UTC+01:00 machine, 7 fractional digits, with the offset. */
function isoPlusOne(utc: string): string {
  const t = new Date(Date.parse(utc) + 3600_000).toISOString().slice(0, 19);
  return `${t}.${utc.slice(20, 27)}+01:00`;
}

/** One event as Get-WinEvent's EventLogRecord serialises (property order as Export-Csv's columns). */
function record(e: EvtxEvent, message: string, ps7: boolean): Record<string, unknown> {
  const values = Array.isArray(e.data) ? e.data : Object.values(e.data);
  const ms = Date.parse(e.time!);
  return {
    Message: message, Id: e.eventId, Version: 0, Qualifiers: null, Level: e.level, Task: Number(e.system.Task ?? 0), Opcode: 0,
    Keywords: -9214364837600034816, RecordId: e.record, ProviderName: e.provider, ProviderId: null, LogName: e.channel,
    ProcessId: Number(e.system.ProcessID ?? 0), ThreadId: Number(e.system.ThreadID ?? 0), MachineName: e.computer,
    UserId: e.system.UserID ? { BinaryLength: 12, AccountDomainSid: null, Value: e.system.UserID } : null,
    TimeCreated: ps7 ? isoPlusOne(e.time!) : `/Date(${ms})/`, ActivityId: null, RelatedActivityId: null, ContainerLog: e.channel,
    MatchedQueryIds: [], Bookmark: {}, LevelDisplayName: 'Information', OpcodeDisplayName: 'Info', TaskDisplayName: null,
    KeywordsDisplayNames: ['Classic'], Properties: values.map((Value) => ({ Value })),
  };
}

/** Windows PowerShell 5.1's ConvertTo-Json layout: 4-space indent, two spaces after the colon, `\/` in /Date()/. */
function ps51(value: unknown): string {
  return JSON.stringify(value, null, 4).replace(/": /g, '":  ').replace(/"\/Date\((\d+)\)\/"/g, '"\\/Date($1)\\/"');
}

const made = new Map<string, { rows: CsvRowOf[]; evtx: string }>();
const kinds = ['cmdlet', 'powershell', 'sysmon'] as const;

beforeAll(() => {
  mkdirSync(join(dir, 'evtx'));
  mkdirSync(join(dir, 'json'));
  for (const k of kinds) {
    copyFileSync(SAMPLE_FILES[k], join(dir, 'evtx', basename(SAMPLE_FILES[k])));
    const rows = renderable(readSample(SAMPLE_FILES[k]));
    const recs = (ps7: boolean) => rows.map((r) => record(r.event, r.message, ps7));
    const files: Array<[string, Buffer]> = [
      [`${k}-ps51.json`, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(ps51(recs(false)), 'utf16le')])],
      [`${k}-ps51-value.json`, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(ps51({ value: recs(false), Count: rows.length }), 'utf16le')])],
      [`${k}-ps7.json`, Buffer.from(JSON.stringify(recs(true), null, 2))],
    ];
    for (const [name, bytes] of files) {
      writeFileSync(join(dir, 'json', name), bytes);
      made.set(name, { rows, evtx: basename(SAMPLE_FILES[k]) });
    }
  }
});

function scanHost(host: string): HostResult {
  const out = join(dir, `${host}.json`);
  const r = exhunt(['scan', join(dir, host), '--json', out, '--jobs', '1', '-q']);
  expect(r.stderr).toBe('');
  return (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
}

const key = (f: Finding, evtx: string) => `${evtx} #${f.source.record} ${f.rule} ${f.time === null ? 'no time' : f.time.slice(0, 19)}`;

describe('event logs saved as JSON by PowerShell (ConvertTo-Json)', () => {
  it('reads Windows PowerShell 5.1 and PowerShell 7 exports: the .evtx findings at the same record and second', () => {
    const evtx = scanHost('evtx');
    const json = scanHost('json');
    for (const [name, m] of made) {
      const records = new Set(m.rows.map((r) => r.record));
      const expected = evtx.findings.filter((f) => f.source.path === m.evtx && records.has(f.source.record!)).map((f) => key(f, m.evtx)).sort();
      expect(expected.length, name).toBeGreaterThan(0);
      expect(json.findings.filter((f) => f.source.path === name).map((f) => key(f, m.evtx)).sort(), name).toEqual(expected);
      const note = json.skipped.find((s) => s.path === name)?.reason ?? '';
      expect(note, name).toBe(`read as events saved as JSON by PowerShell (ConvertTo-Json): ${m.rows.length} event(s); ${note.split('; ').slice(1).join('; ')}`);
    }
    // Install-TransportAgent (PX-13) from the cmdlet's insertion strings; lsassy's MiniDump (PX-06).
    expect(json.findings.map((f) => f.rule)).toEqual(expect.arrayContaining(['PX-13', 'PX-06']));
    expect(json.coverage.some((c) => c.source === 'EVTX MSExchange Management (saved as JSON)' && c.first !== null)).toBe(true);
    expect(json.verdict).toBe(evtx.verdict);
  });

  it("reads Get-EventLog's records (EventLogEntry): the insertion strings and the id without its qualifiers", () => {
    const entry = {
      EventID: 1, MachineName: 'MAIL01.corp.example.org', Data: [], Index: 77, Category: '(1)', CategoryNumber: 1, EntryType: 4,
      Message: 'Cmdlet suceeded. Cmdlet Set-OabVirtualDirectory, parameters -ExternalUrl "http://f/<script>"', Source: 'MSExchange CmdletLogs',
      ReplacementStrings: ['Set-OabVirtualDirectory', '-ExternalUrl "http://f/<script>"'], InstanceId: 1074003969, TimeGenerated: '/Date(1614754193772)/',
      TimeWritten: '/Date(1614754193772)/', UserName: null, Site: null, Container: null,
    };
    const e = pwshJsonToEvent(entry, 0)!;
    expect([e.eventId, e.record, e.provider, e.time, e.computer]).toEqual([1, 77, 'MSExchange CmdletLogs', '2021-03-03T06:49:53.7720000Z', 'MAIL01.corp.example.org']);
    expect(e.data).toEqual(['Set-OabVirtualDirectory', '-ExternalUrl "http://f/<script>"']);
    // Past ConvertTo-Json's depth the Properties are type names: the cmdlet comes from the message then.
    const shallow = pwshJsonToEvent({ Message: entry.Message, Id: 1, RecordId: 78, ProviderName: 'MSExchange CmdletLogs', LogName: 'MSExchange Management', TimeCreated: '/Date(1614754193772)/', Properties: ['System.Diagnostics.Eventing.Reader.EventProperty', 'System.Diagnostics.Eventing.Reader.EventProperty'] }, 0)!;
    expect(shallow.data).toEqual(['Set-OabVirtualDirectory', '-ExternalUrl "http://f/<script>"']);
    expect(pwshJsonToEvent({ Id: 1, Name: 'not an event' }, 0)).toBeNull();
  });

  it('knows a record whose first message runs past the head (a script block): it was passed over in silence', () => {
    const script = `Creating Scriptblock text (1 of 1):\r\n${'$a = "x";\r\n'.repeat(1200)}`;
    const json = JSON.stringify([{ Message: script, Id: 4104, RecordId: 1, ProviderName: 'Microsoft-Windows-PowerShell', TimeCreated: '/Date(1614754193772)/' }], null, 4);
    const head = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json, 'utf16le')]).subarray(0, 64 * 1024);
    expect(json.indexOf('"ProviderName"')).toBeGreaterThan(8192);
    expect(detectPwshEventJson(head)).toBe('utf16le');
    expect(detectPwshEventJson(Buffer.from('[{"Message": "short", "Name": "not an event"}]'))).toBeNull();
  });

  it('reads both time shapes as the same UTC instant', () => {
    expect(pwshTime('/Date(1614754193772)/')).toBe('2021-03-03T06:49:53.7720000Z');
    expect(pwshTime('2021-03-03T07:49:53.7721234+01:00')).toBe('2021-03-03T06:49:53.7721234Z');
    expect(pwshTime('03/03/2021 06:49:53')).toBeNull();
  });
});
