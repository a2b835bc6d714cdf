// The server is rebuilt; what the client sends is its event logs saved as CSV. The same real events (the vendored
// EVTX-to-MITRE-Attack samples: a failed Install-TransportAgent in MSExchange Management, lsassy's comsvcs.dll
// MiniDump seen by PowerShell 4104, Sysmon and Security 4688) are scanned as .evtx and as the CSV files four export
// paths make of them (test/support/event-csv.ts), on a server in Europe/Berlin: the CSV scan must find the same
// things at the same rows, place them in time only when told the zone, and say what it could not do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Finding, HostResult, ScanReport } from '../src/model.js';
import { exhunt } from './support/cli.js';
import { eventViewerCsv, getEventLogCsv, getWinEventCsv, readSample, renderable, SAMPLE_FILES, selectedCsv, utf16, utf8Bom, type CsvRowOf } from './support/event-csv.js';

const ZONE = 'Europe/Berlin';
const dir = mkdtempSync(join(tmpdir(), 'exhunt-evcsv-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** CSV file name -> its rows (row i+1 is rows[i]), and the .evtx it was made from. */
const made = new Map<string, { rows: CsvRowOf[]; evtx: string }>();

beforeAll(() => {
  const evtxHost = join(dir, 'evtx');
  const csvHost = join(dir, 'csv');
  mkdirSync(evtxHost);
  mkdirSync(csvHost);
  for (const f of Object.values(SAMPLE_FILES)) copyFileSync(f, join(evtxHost, basename(f)));
  const rows = (k: keyof typeof SAMPLE_FILES) => renderable(readSample(SAMPLE_FILES[k]));
  const files: Array<[string, keyof typeof SAMPLE_FILES, (r: CsvRowOf[]) => Buffer]> = [
    // Windows PowerShell 5.1 defaults: #TYPE line, ASCII, en-US culture.
    ['MSExchange Management.csv', 'cmdlet', (r) => Buffer.from(getWinEventCsv(r, ZONE, 'en-US'), 'ascii')],
    // -NoTypeInformation -UseCulture -Encoding UTF8 on a German system: ';', dotted dates, a BOM.
    ['PowerShell-Operational.csv', 'powershell', (r) => utf8Bom(selectedCsv(r, ZONE, 'de-DE', ';'))],
    ['Sysmon.csv', 'sysmon', (r) => Buffer.from(eventViewerCsv(r, ZONE), 'utf8')],
    // Get-EventLog Security | Export-Csv -Encoding Unicode, en-GB.
    ['Security.csv', 'security', (r) => utf16(getEventLogCsv(r, 'Security', ZONE, 'en-GB'))],
    ['Defender.csv', 'defender', (r) => Buffer.from(getWinEventCsv(r, ZONE, 'en-US', false), 'utf8')],
  ];
  for (const [name, kind, write] of files) {
    const r = rows(kind);
    made.set(name, { rows: r, evtx: basename(SAMPLE_FILES[kind]) });
    writeFileSync(join(csvHost, name), write(r));
  }
});

function scanHost(host: string, extra: string[] = []): HostResult {
  const out = join(dir, `${host}-${extra.join('_').replace(/[^\w-]/g, '')}.json`);
  const r = exhunt(['scan', join(dir, host), '--json', out, '--jobs', '2', '-q', ...extra]);
  expect(r.stderr).toBe('');
  return (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
}

/** Every finding as "evtx file #record rule time-to-the-second", CSV findings mapped back through their row. */
function keyed(findings: Finding[], fromCsv: boolean): string[] {
  return findings
    .map((f) => {
      const second = f.time === null ? 'no time' : `${f.time.slice(0, 19)}Z`;
      if (!fromCsv) return `${f.source.path} #${f.source.record} ${f.rule} ${second}`;
      const m = made.get(f.source.path)!;
      const row = m.rows[(f.evidence.csv_row as number) - 1];
      return `${m.evtx} #${row.record} ${f.rule} ${second}`;
    })
    .sort();
}

describe('event logs saved as CSV', () => {
  it('finds what the .evtx gives, for every event CSV can carry, with the same times once the zone is given', () => {
    const evtx = scanHost('evtx');
    const rendered = new Set([...made.values()].flatMap((m) => m.rows.map((r) => `${m.evtx} #${r.record}`)));
    const expected = keyed(evtx.findings, false).filter((k) => rendered.has(k.split(' ').slice(0, -2).join(' ')));
    // Install-TransportAgent (PX-13) twice, and lsassy's MiniDump in 4104, Sysmon 1/10 and 4688 (PX-06).
    expect(expected.map((k) => k.split(' ').at(-2))).toEqual(expect.arrayContaining(['PX-13', 'PX-06']));
    expect(expected.length).toBeGreaterThanOrEqual(7);

    // Zone and day/month order known: the same findings at the same second.
    const placed = scanHost('csv', ['--event-csv-tz', ZONE, '--event-csv-dates', 'mdy']);
    expect(keyed(placed.findings, true)).toEqual(expected);
    expect(placed.verdict).toBe(evtx.verdict);

    // No zone: the same findings, none placed in time, each with its time as written and the zone unknown.
    const unzoned = scanHost('csv');
    expect(keyed(unzoned.findings, true)).toEqual(expected.map((k) => k.replace(/ \S+$/, ' no time')));
    for (const f of unzoned.findings) {
      expect(f.evidence.event_time_zone).toBe('unknown (local time of the exporting machine)');
      expect(String(f.evidence.event_time_as_written)).toMatch(/\d/);
      expect(f.source.line).toBeGreaterThan(1);
    }
    const note = (h: HostResult, p: string) => h.skipped.find((s) => s.path === p && s.reason.startsWith('read as an event log saved as CSV'))?.reason ?? '';
    expect(note(unzoned, 'MSExchange Management.csv')).toMatch(/\(Get-WinEvent \| Export-Csv\): 4 event\(s\).*day\/month order ambiguous: no day above 12 in 4 date\(s\).*give --event-csv-dates/);
    expect(note(unzoned, 'Sysmon.csv')).toMatch(/\(Event Viewer "Save as CSV"\).*month first.*zone unknown.*give --event-csv-tz/);
    expect(note(unzoned, 'Security.csv')).toMatch(/\(Get-EventLog \| Export-Csv\).*day first/);
    expect(note(unzoned, 'PowerShell-Operational.csv')).toMatch(/columns timecreated, id, leveldisplayname, providername, message\).*first number above 12 \(day first\)/);
    expect(note(unzoned, 'Sysmon.csv')).toMatch(/not evaluated on CSV: the caller of MSExchange Management cmdlets/);
    expect(unzoned.coverage.filter((c) => c.source.endsWith('(saved as CSV)')).every((c) => c.first === null)).toBe(true);

    // The zone alone: the ambiguous file stays unplaced (said), the others are placed.
    const zoned = scanHost('csv', ['--event-csv-tz', ZONE]);
    const times = new Map(zoned.findings.map((f) => [f.source.path, f.time]));
    expect(times.get('MSExchange Management.csv')).toBeNull();
    expect(times.get('Sysmon.csv')).toMatch(/^2021-10-20T14:18:5\dZ?/);
    expect(note(zoned, 'MSExchange Management.csv')).toMatch(/day\/month order ambiguous.*times not placed on the timeline \(first row 6\/4\/2021 10:41:47 AM, last row 6\/4\/2021 10:43:08 AM, as written\)/);
    expect(note(zoned, 'Sysmon.csv')).toMatch(/times read as Europe\/Berlin \(--event-csv-tz\)/);
  });

  it('reads Event Viewer exports of the Security log (Keywords first) and in German, as the .evtx', () => {
    const host = join(dir, 'viewer');
    mkdirSync(host);
    const security = renderable(readSample(SAMPLE_FILES.security));
    const sysmon = renderable(readSample(SAMPLE_FILES.sysmon));
    const files: Array<[string, keyof typeof SAMPLE_FILES, CsvRowOf[], string]> = [
      // Was read as a Select-Object export without its message column (the sixth, unnamed): no 4688 finding.
      ['Security-EventViewer.csv', 'security', security, eventViewerCsv(security, ZONE, 'en', true)],
      // German Event Viewer: was not recognised at all (swept as a plain file). Sysmon's messages are English on
      // every Windows (its manifest has no other language), so the same findings are expected.
      ['Sysmon-Ereignisanzeige.csv', 'sysmon', sysmon, eventViewerCsv(sysmon, ZONE, 'de')],
      // Event Viewer in a language exhunt has no header words for (French): was swept as a plain file in silence;
      // now known by its shape (five header names, a sixth cell, a date second, an id fourth).
      ['Sysmon-Observateur.csv', 'sysmon', sysmon, eventViewerCsv(sysmon, ZONE, 'fr')],
    ];
    // A German Security log's messages are German, which the English templates do not read: only recognition, ids
    // and times are asserted for it (the messages here stay the sample's).
    writeFileSync(join(host, 'Security-Ereignisanzeige.csv'), eventViewerCsv(security, ZONE, 'de', true));
    for (const [name, kind, rows, text] of files) {
      made.set(name, { rows, evtx: basename(SAMPLE_FILES[kind]) });
      writeFileSync(join(host, name), text);
    }
    const evtx = scanHost('evtx');
    const h = scanHost('viewer', ['--event-csv-tz', ZONE]);
    const note = (p: string) => h.skipped.find((s) => s.path === p && s.reason.startsWith('read as an event log saved as CSV'))?.reason ?? '';
    expect(note('Security-EventViewer.csv')).toMatch(/^read as an event log saved as CSV \(Event Viewer "Save as CSV", Security log\)/);
    expect(note('Security-Ereignisanzeige.csv')).toMatch(new RegExp(`^read as an event log saved as CSV \\(Event Viewer "Save as CSV", German, Security log\\): ${security.length} event\\(s\\).*day first`));
    expect(h.coverage.find((c) => c.source === 'EVTX source Microsoft-Windows-Security-Auditing (saved as CSV)')?.first).toMatch(/^20\d\d-/);
    expect(note('Sysmon-Ereignisanzeige.csv')).toMatch(/^read as an event log saved as CSV \(Event Viewer "Save as CSV", German\)/);
    expect(note('Sysmon-Observateur.csv')).toMatch(/^read as an event log saved as CSV \(Event Viewer "Save as CSV", header in another display language\): \d+ event\(s\).*day first/);
    for (const [name, kind, rows] of files) {
      const records = new Set(rows.map((r) => `${basename(SAMPLE_FILES[kind])} #${r.record}`));
      const expected = keyed(evtx.findings, false).filter((k) => records.has(k.split(' ').slice(0, -2).join(' ')));
      expect(expected.length, name).toBeGreaterThan(0);
      expect(keyed(h.findings.filter((f) => f.source.path === name), true), name).toEqual(expected);
    }
  });

  it('refuses a zone it does not know, before reading anything', () => {
    const r = exhunt(['scan', join(dir, 'csv'), '--event-csv-tz', 'W. Europe Standard Time', '-q']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--event-csv-tz: not a time zone: "W\. Europe Standard Time" \(use an IANA name such as Europe\/Berlin/);
  });
});
