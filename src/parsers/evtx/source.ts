// Opens an evidence file as an event log by content: binary EVTX (ElfFile magic), an XML event export, or events
// already converted to JSON Lines (evtx_dump, Velociraptor results).
import { readChunks, type EvidenceFile } from '../../evidence/file.js';
import type { EvtxProblem } from './chunk.js';
import type { EvtxEvent } from './event.js';
import { isEvtx, readEvtxStream } from './file.js';
import { isXmlEventExport, readXmlExportStream } from './xml-export.js';
import { isJsonEventRows, readJsonRowsStream } from './json-rows.js';

export type EventLogFormat = 'evtx' | 'evtx-xml' | 'evtx-json';

/** Read size: 16 chunks per read keeps syscalls few and memory small. */
const READ_BLOCK = 1024 * 1024;

export function detectEventLog(head: Buffer): EventLogFormat | null {
  if (isEvtx(head)) return 'evtx';
  if (isXmlEventExport(head)) return 'evtx-xml';
  return isJsonEventRows(head) ? 'evtx-json' : null;
}

// Event logs saved as CSV: Get-WinEvent | Export-Csv, Get-EventLog | Export-Csv, Event Viewer "Save as CSV".
const CSV_EXPORTS: Array<{ what: string; test: RegExp }> = [
  { what: 'Get-WinEvent | Export-Csv', test: /^(#TYPE System\.Diagnostics\.Eventing\.Reader\.EventLogRecord|"?Message"?,"?Id"?,.*"?ProviderName"?,)/m },
  { what: 'Get-EventLog | Export-Csv', test: /^(#TYPE System\.Diagnostics\.EventLogEntry|"?EventID"?,"?MachineName"?,.*"?TimeGenerated"?)/m },
  { what: 'Event Viewer "Save as CSV"', test: /^Level,Date and Time,Source,Event ID,Task Category/m },
];

// Columns of event rows as PowerShell names them (Get-WinEvent, Get-EventLog, Get-CimInstance Win32_NTLogEvent),
// for exports of selected columns (Select-Object … | Export-Csv, any delimiter, -UseCulture): an event id, a time
// and the event's text or source together.
const ID_COLUMNS = new Set(['id', 'eventid', 'event id', 'instanceid', 'eventcode', 'eventidentifier']);
const TIME_COLUMNS = new Set(['timecreated', 'timegenerated', 'timewritten', 'date and time']);
const TEXT_COLUMNS = new Set(['message', 'providername', 'source', 'sourcename', 'logname', 'logfile', 'leveldisplayname', 'entrytype']);

/** The header cells of a delimited text (after PowerShell's `#TYPE` line), lower case and unquoted. */
function headerCells(text: string): string[] {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '' && !l.startsWith('#')) ?? '';
  const delimiter = [',', ';', '\t', '|'].map((d) => ({ d, n: line.split(d).length })).sort((a, b) => b.n - a.n)[0];
  return delimiter.n < 3 ? [] : line.split(delimiter.d).map((c) => c.trim().replace(/^"|"$/g, '').toLowerCase());
}

/**
 * Why a file that is an event log saved as CSV is not read, or null. CSV keeps the rendered message only, and its
 * times are the exporting machine's local time without a zone, so its events cannot be placed on the timeline.
 */
export function eventCsvExport(head: Buffer): string | null {
  const utf16 = (head[0] === 0xff && head[1] === 0xfe) || (head.length > 3 && head[1] === 0 && head[3] === 0);
  const text = head.toString(utf16 ? 'utf16le' : 'utf8', 0, Math.min(head.length, 4096)).replace(/^\uFEFF/, '');
  let what = CSV_EXPORTS.find((c) => c.test.test(text))?.what ?? null;
  if (what === null) {
    const cells = headerCells(text);
    const has = (set: Set<string>) => cells.some((c) => set.has(c));
    // Only the column names it knows are named: the others are evidence text.
    const known = cells.filter((c) => ID_COLUMNS.has(c) || TIME_COLUMNS.has(c) || TEXT_COLUMNS.has(c));
    if (has(ID_COLUMNS) && has(TIME_COLUMNS) && has(TEXT_COLUMNS)) what = `Select-Object … | Export-Csv, columns ${known.join(', ')}`;
  }
  return what === null
    ? null
    : `event log saved as CSV (${what}): not read (CSV keeps no event data and writes local times without a zone); ` +
        'export the channel as .evtx, e.g. wevtutil epl "MSExchange Management" C:\\exhunt\\MSExchange-Management.evtx, and scan that';
}

/** Streams the file's events in batches (EVTX: up to 32 events; XML and JSON: per read block). Problems are appended. */
export function readEventLog(file: EvidenceFile, format: EventLogFormat, problems: EvtxProblem[]): AsyncGenerator<EvtxEvent[]> {
  const blocks = readChunks(file, READ_BLOCK);
  if (format === 'evtx') return readEvtxStream(blocks, problems);
  return format === 'evtx-xml' ? readXmlExportStream(blocks, problems) : readJsonRowsStream(blocks, problems);
}
