// The parser side of event logs saved as CSV: time stamps as cultures write them, day/month order from the file,
// zones with summer time, the CSV rows whatever the read blocks cut (quotes, line breaks, UTF-16 code units), and
// the event data published message templates give back.
import { describe, expect, it } from 'vitest';
import { DateOrderVotes, inRepeatedHour, parseStamp, stampToUtc, zoneToUtc } from '../src/parsers/evtx/csv-time.js';
import { detectEventCsv, readCsvEvents, type CsvEvent } from '../src/parsers/evtx/csv-export.js';
import { dataFromMessage } from '../src/parsers/evtx/rendered.js';
import type { EvtxProblem } from '../src/parsers/evtx/chunk.js';
import { readSample, renderMessage, SAMPLE_FILES } from './support/event-csv.js';

const utc = (cell: string, order: 'dmy' | 'mdy' | null, zone: string | null) => {
  const s = parseStamp(cell);
  return s && stampToUtc(s, order, zone === null ? null : zoneToUtc(zone));
};

describe('time stamps of CSV event exports', () => {
  it('reads the shapes cultures write, and places them only with a zone and an order', () => {
    expect(utc('3/3/2021 4:12:33 AM', 'mdy', 'UTC')).toBe('2021-03-03T04:12:33.0000000Z');
    expect(utc('8/14/2021 12:05:00 AM', 'mdy', 'UTC')).toBe('2021-08-14T00:05:00.0000000Z');
    expect(utc('8/14/2021 12:05:00 PM', 'mdy', 'UTC')).toBe('2021-08-14T12:05:00.0000000Z');
    expect(utc('10/7/2016 06:38:24 PM', 'mdy', 'UTC')).toBe('2016-10-07T18:38:24.0000000Z');
    expect(utc('03.03.2021 04:12:33', 'dmy', '+01:00')).toBe('2021-03-03T03:12:33.0000000Z');
    expect(utc('14/08/2021 15:20:53', 'dmy', 'Europe/London')).toBe('2021-08-14T14:20:53.0000000Z');
    expect(utc('2021-03-03 04:12:33', null, 'America/New_York')).toBe('2021-03-03T09:12:33.0000000Z');
    // A stamp with its own offset needs no zone.
    expect(utc('2021-03-03T04:12:33.1234567Z', null, null)).toBe('2021-03-03T04:12:33.1234567Z');
    expect(utc('2021-03-03T05:12:33+01:00', null, null)).toBe('2021-03-03T04:12:33.0000000Z');
    // No zone, or an order the date does not fit: not placed.
    expect(utc('3/3/2021 4:12:33 AM', 'mdy', null)).toBeNull();
    expect(utc('14/08/2021 15:20:53', 'mdy', 'UTC')).toBeNull();
    expect(utc('31.02.2021 10:00:00', 'dmy', 'UTC')).toBeNull();
    for (const bad of ['3/3/21 4:12:33 AM', 'yesterday', '13:00 3/3/2021', `3/3/2021 4:12:33${' '.repeat(60)}AM`, '3/3/2021 13:12:33 PM']) expect(parseStamp(bad)).toBeNull();
  });

  it('settles day/month order from a day above 12, the dots, or says it cannot', () => {
    const votes = (...cells: string[]) => {
      const v = new DateOrderVotes();
      for (const c of cells) v.add(parseStamp(c)!);
      return v.decide();
    };
    expect(votes('6/4/2021 10:41:47 AM', '6/13/2021 1:00:00 PM').order).toBe('mdy');
    expect(votes('06/04/2021 10:41:47', '13/06/2021 13:00:00').order).toBe('dmy');
    expect(votes('04.06.2021 10:41:47').order).toBe('dmy');
    expect(votes('6/4/2021 10:41:47 AM', '7/4/2021 10:41:47 AM')).toEqual({ order: null, why: 'day/month order ambiguous: no day above 12 in 2 date(s)' });
    expect(votes('13/06/2021 13:00:00', '6/13/2021 1:00:00 PM').why).toMatch(/contradict/);
    expect(votes('2021-06-04 10:41:47').order).not.toBeNull();
  });

  it('converts with the zone of the day (summer time), and refuses what is no zone', () => {
    const berlin = zoneToUtc('Europe/Berlin')!;
    expect(new Date(berlin(Date.UTC(2021, 7, 14, 15, 20, 53))).toISOString()).toBe('2021-08-14T13:20:53.000Z');
    expect(new Date(berlin(Date.UTC(2021, 2, 3, 4, 12, 33))).toISOString()).toBe('2021-03-03T03:12:33.000Z');
    // 02:30 on the night summer time ends exists twice: read as standard time (documented), east and west of UTC
    // alike (review5: New York read its repeated 01:30 as daylight time, 05:30Z), and flagged as repeated.
    expect(new Date(berlin(Date.UTC(2021, 9, 31, 2, 30))).toISOString()).toBe('2021-10-31T01:30:00.000Z');
    const newYork = zoneToUtc('America/New_York')!;
    expect(new Date(newYork(Date.UTC(2021, 10, 7, 1, 30))).toISOString()).toBe('2021-11-07T06:30:00.000Z');
    expect([berlin.repeated?.(Date.UTC(2021, 9, 31, 2, 30)), newYork.repeated?.(Date.UTC(2021, 10, 7, 1, 30))]).toEqual([true, true]);
    expect([berlin.repeated?.(Date.UTC(2021, 9, 31, 3, 30)), newYork.repeated?.(Date.UTC(2021, 10, 7, 2, 30))]).toEqual([false, false]);
    expect(inRepeatedHour(parseStamp('11/7/2021 1:30:00 AM')!, 'mdy', newYork)).toBe(true);
    expect(inRepeatedHour(parseStamp('2021-11-07T01:30:00-04:00')!, null, newYork)).toBe(false);
    expect(new Date(zoneToUtc('+05:30')!(Date.UTC(2021, 0, 1, 12))).toISOString()).toBe('2021-01-01T06:30:00.000Z');
    expect(new Date(zoneToUtc('UTC-5')!(Date.UTC(2021, 0, 1, 12))).toISOString()).toBe('2021-01-01T17:00:00.000Z');
    for (const bad of ['W. Europe Standard Time', 'Mars/Olympus', '+15:00', '']) expect(zoneToUtc(bad)).toBeNull();
  });
});

describe('CSV rows of event exports', () => {
  const message = 'Creating Scriptblock text (1 of 1):\r\n$a = "x,y"; "q" | Out-Null\r\n# ünïcode ✓\r\n\r\nScriptBlock ID: 6d5b2ebc-1b22-4a9c-b2c6-2c2b7f0f1d11\r\nPath: C:\\t.ps1';
  const text = [
    '#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord',
    '"Message","Id","Level","RecordId","ProviderName","LogName","MachineName","TimeCreated"',
    `"${message.replace(/"/g, '""')}","4104","5","1328","Microsoft-Windows-PowerShell","Microsoft-Windows-PowerShell/Operational","FS03","10/20/2021 4:39:26 PM"`,
    '"Cmdlet suceeded. Cmdlet Get-Mailbox, parameters -Identity ""a b""","1","4","7","MSExchange CmdletLogs","MSExchange Management","EX01","10/20/2021 4:40:00 PM"',
    '',
  ].join('\r\n');

  async function read(buf: Buffer, size: number): Promise<{ events: CsvEvent[]; problems: EvtxProblem[] }> {
    const shape = detectEventCsv(buf)!;
    async function* blocks() {
      for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
    }
    const problems: EvtxProblem[] = [];
    const events: CsvEvent[] = [];
    for await (const b of readCsvEvents(blocks(), shape, { order: 'mdy', toUtc: zoneToUtc('UTC') }, problems)) events.push(...b);
    return { events, problems };
  }

  it('gives the same events whatever the read blocks cut (quotes, doubled quotes, CRLF, UTF-8 and UTF-16LE)', async () => {
    for (const buf of [Buffer.from(text, 'utf8'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), Buffer.from(`\uFEFF${text}`, 'utf8')]) {
      const whole = await read(buf, buf.length);
      expect(whole.problems).toEqual([]);
      expect(whole.events.map((e) => [e.row, e.line, e.eventId, e.record, e.provider, e.time])).toEqual([
        [1, 3, 4104, 1328, 'Microsoft-Windows-PowerShell', '2021-10-20T16:39:26.0000000Z'],
        [2, 9, 1, 7, 'MSExchange CmdletLogs', '2021-10-20T16:40:00.0000000Z'],
      ]);
      expect(whole.events[0].message).toBe(message);
      expect(whole.events[0].data).toMatchObject({ ScriptBlockText: '$a = "x,y"; "q" | Out-Null\r\n# ünïcode ✓', ScriptBlockId: '6d5b2ebc-1b22-4a9c-b2c6-2c2b7f0f1d11', Path: 'C:\\t.ps1' });
      expect(whole.events[1].data).toEqual(['Get-Mailbox', '-Identity "a b"']);
      for (const size of [1, 2, 3, 5, 7, 64]) {
        const cut = await read(buf, size);
        expect(cut.events.map((e) => [e.line, e.message, e.offset])).toEqual(whole.events.map((e) => [e.line, e.message, e.offset]));
      }
    }
  });

  it('skips a blank first line and an Excel sep= line before the header (review5: such files were dropped unread)', async () => {
    const body = text.replace(/^#TYPE [^\r]*\r\n/, '');
    for (const pre of ['\r\n', 'sep=,\r\n', '"sep=,"\r\n', '\r\n#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\r\n', 'sep=,\r\n\r\n']) {
      const buf = Buffer.from(pre + body, 'utf8');
      expect(detectEventCsv(buf)?.what).toBe('Get-WinEvent | Export-Csv');
      const { events, problems } = await read(buf, 5);
      expect(problems).toEqual([]);
      expect(events.map((e) => [e.row, e.eventId, e.time])).toEqual([
        [1, 4104, '2021-10-20T16:39:26.0000000Z'],
        [2, 1, '2021-10-20T16:40:00.0000000Z'],
      ]);
    }
    // `sep=` names the delimiter, also one the header would not be split on first.
    const semi = Buffer.from('sep=;\r\nTimeCreated;Id;ProviderName;Message,with,commas\r\n10/20/2021 4:40:00 PM;1;MSExchange CmdletLogs;x\r\n');
    expect(detectEventCsv(semi)?.delimiter).toBe(';');
  });

  it('drops a row over 8 MiB outside quotes at its line end and reads on (review6 F6: it stopped the file)', async () => {
    const row = (id: number, message: string) => `"10/20/2021 4:4${id}:00 PM","${id}","MSExchange CmdletLogs",${message}`;
    const huge = Buffer.from(['"TimeCreated","Id","ProviderName","Message"', row(1, '"a"'), row(2, `x${'a'.repeat(9 * 1024 * 1024)},"quoted, later"`), row(3, '"b"'), ''].join('\r\n'));
    for (const size of [64 * 1024, 1024 * 1024, 3 * 1024 * 1024 + 7]) {
      const { events, problems } = await read(huge, size);
      expect(events.map((e) => [e.row, e.line, e.eventId, e.message])).toEqual([
        [1, 2, 1, 'a'],
        [3, 4, 3, 'b'],
      ]);
      expect(problems.map((p) => p.reason)).toEqual(['CSV row at line 3 longer than 8 MiB outside quotes: that row not read, the rows after it are']);
    }
    // The last row, without a line end after it: dropped too.
    const { events } = await read(huge.subarray(0, huge.indexOf('\r\n"10/20/2021 4:43')), 1024 * 1024);
    expect(events.map((e) => e.row)).toEqual([1]);
  });

  it('reads on after a dropped row whose bare quote starts a read block (review7: the next row was swallowed)', async () => {
    const row = (id: number, message: string) => `"10/20/2021 4:4${id}:00 PM","${id}","MSExchange CmdletLogs",${message}`;
    const pre = ['"TimeCreated","Id","ProviderName","Message"', row(1, '"a"'), row(2, 'x')].join('\r\n');
    for (const size of [64 * 1024, 1024 * 1024, 3 * 1024 * 1024 + 7]) {
      // The quote is the first byte of a block read while the row is being dropped.
      const q = Math.ceil((pre.length + 8.5 * 1024 * 1024) / size) * size - pre.length;
      const buf = Buffer.from(`${pre}${'a'.repeat(q)}"${'b'.repeat(1000)}\r\n${row(3, '"b"')}\r\n${row(4, '"c"')}\r\n`);
      expect(buf[pre.length + q]).toBe(34);
      expect((pre.length + q) % size).toBe(0);
      const { events, problems } = await read(buf, size);
      expect(events.map((e) => [e.row, e.line, e.eventId, e.message])).toEqual([
        [1, 2, 1, 'a'],
        [3, 4, 3, 'b'],
        [4, 5, 4, 'c'],
      ]);
      expect(problems.map((p) => p.reason)).toEqual(['CSV row at line 3 longer than 8 MiB outside quotes: that row not read, the rows after it are']);
    }
  });

  it('reads an export whose lines end in a lone CR, with the same lines as CRLF (review6 F6: not recognised)', async () => {
    const buf = Buffer.from(text.replace(/\r\n/g, '\r'), 'utf8');
    expect(detectEventCsv(buf)?.what).toBe('Get-WinEvent | Export-Csv');
    for (const size of [1, 2, 5, buf.length]) {
      const { events, problems } = await read(buf, size);
      expect(problems).toEqual([]);
      expect(events.map((e) => [e.row, e.line, e.eventId, e.time])).toEqual([
        [1, 3, 4104, '2021-10-20T16:39:26.0000000Z'],
        [2, 9, 1, '2021-10-20T16:40:00.0000000Z'],
      ]);
      expect(events[0].message).toBe(message.replace(/\r\n/g, '\r'));
    }
  });

  it('stops at a runaway quote instead of holding the rest of the file, and names the line', async () => {
    const big = Buffer.from(`"TimeCreated","Id","ProviderName","Message"\r\n"1/1/2021 1:00:00 AM","1","X","${'a'.repeat(9 * 1024 * 1024)}`);
    const { events, problems } = await read(big, 1024 * 1024);
    expect(events).toEqual([]);
    expect(problems.map((p) => p.reason)).toEqual(['CSV row at line 2 longer than 8 MiB (an unterminated quote?): the rest of the file is not read']);
  });
});

describe('event data from rendered messages (published templates only)', () => {
  it('maps MSExchange CmdletLogs 1/6, Sysmon, 4688 and 4104, and nothing else', () => {
    expect(dataFromMessage('MSExchange CmdletLogs', 6, 'Cmdlet failed. Cmdlet Install-TransportAgent, parameters -Name "Evil" -AssemblyPath ".\\NetshHelperBeacon.dll"')).toEqual(['Install-TransportAgent', '-Name "Evil" -AssemblyPath ".\\NetshHelperBeacon.dll"']);
    expect(dataFromMessage('Microsoft-Windows-Sysmon', 1, 'Process Create:\r\nImage: C:\\Windows\\System32\\cmd.exe\r\nCommandLine: cmd /c "whoami: x"\r\nParentImage: C:\\w3wp.exe')).toEqual({ Image: 'C:\\Windows\\System32\\cmd.exe', CommandLine: 'cmd /c "whoami: x"', ParentImage: 'C:\\w3wp.exe' });
    const m4688 = 'A new process has been created.\r\n\r\nCreator Subject:\r\n\tSecurity ID:\t\tS-1-5-18\r\n\tAccount Name:\t\tEX01$\r\n\r\nTarget Subject:\r\n\tAccount Name:\t\t-\r\n\r\nProcess Information:\r\n\tNew Process ID:\t\t0x1394\r\n\tNew Process Name:\tC:\\Windows\\System32\\cmd.exe\r\n\tCreator Process ID:\t0x1460\r\n\tCreator Process Name:\tC:\\Windows\\System32\\inetsrv\\w3wp.exe\r\n\tProcess Command Line:\tcmd /c whoami';
    expect(dataFromMessage('Microsoft-Windows-Security-Auditing', 4688, m4688)).toEqual({ SubjectUserName: 'EX01$', NewProcessId: '0x1394', NewProcessName: 'C:\\Windows\\System32\\cmd.exe', ProcessId: '0x1460', ParentProcessName: 'C:\\Windows\\System32\\inetsrv\\w3wp.exe', CommandLine: 'cmd /c whoami' });
    expect(dataFromMessage('Microsoft-Windows-Windows Defender', 5007, 'Name: Backdoor:ASP/Chopper')).toBeNull();
    expect(dataFromMessage('MSExchange CmdletLogs', 1, 'The description for Event ID 1 cannot be found.')).toBeNull();
  });
});

describe('Defender detections from their rendered text', () => {
  it('gives back the threat name, path and user of the real sample events', () => {
    const events = readSample(SAMPLE_FILES.defender).filter((e) => e.eventId === 1116);
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) {
      const data = e.data as Record<string, string>;
      const back = dataFromMessage(e.provider, e.eventId, renderMessage(e)!) as Record<string, string>;
      expect([back['Threat Name'], back.Path, back['Detection User'], back['Process Name']]).toEqual([data['Threat Name'], data.Path, data['Detection User'], data['Process Name']]);
    }
  });
});
