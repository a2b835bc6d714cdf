// Opens an evidence file as an event log by content: binary EVTX (ElfFile magic), an XML event export, events
// already converted to JSON Lines (evtx_dump, Velociraptor results), PowerShell's ConvertTo-Json of Get-WinEvent or
// Get-EventLog, or EvtxECmd's CSV and JSON output (KAPE).
import { readChunks, ReadBuffers, type EvidenceFile } from '../../evidence/file.js';
import type { EvtxProblem } from './chunk.js';
import type { EvtxEvent } from './event.js';
import { isEvtx, readEvtxStream } from './file.js';
import { isXmlEventExport, readXmlExportStream } from './xml-export.js';
import { isJsonEventRows, readJsonRowsStream } from './json-rows.js';
import { detectEcmdCsv, isEcmdJson, readEcmdCsv } from './evtxecmd.js';
import { detectPwshEventJson, readPwshEventJson } from './pwsh-json.js';

export type EventLogFormat = 'evtx' | 'evtx-xml' | 'evtx-json' | 'evtx-pwsh-json' | 'evtxecmd-csv' | 'evtxecmd-json';

/** Formats whose events EvtxECmd made (evtxecmd.ts): their limits are said in the report. */
export const EVTXECMD_FORMATS: ReadonlySet<string> = new Set(['evtxecmd-csv', 'evtxecmd-json']);

/** Read size: 16 chunks per read keeps syscalls few and memory small. */
const READ_BLOCK = 1024 * 1024;

export function detectEventLog(head: Buffer): EventLogFormat | null {
  if (isEvtx(head)) return 'evtx';
  if (isXmlEventExport(head)) return 'evtx-xml';
  if (isEcmdJson(head)) return 'evtxecmd-json';
  if (isJsonEventRows(head)) return 'evtx-json';
  if (detectPwshEventJson(head) !== null) return 'evtx-pwsh-json';
  return detectEcmdCsv(head) ? 'evtxecmd-csv' : null;
}

/**
 * Streams the file's events in batches (EVTX: up to 32 events; the others: per read block). Problems are appended.
 * `head`: the file's first bytes (an EvtxECmd CSV's delimiter is read from them). `buffers`: the thread's lender.
 */
export function readEventLog(file: EvidenceFile, format: EventLogFormat, problems: EvtxProblem[], head?: Buffer, buffers?: ReadBuffers): AsyncGenerator<EvtxEvent[]> {
  // Binary EVTX is read into lent buffers, the next block read ahead while this one is parsed (readEvtxStream keeps
  // no view of a block once it asks for the next): a file stream's machinery per block was ~4% of reading time.
  if (format === 'evtx') return readEvtxStream(readChunks(file, READ_BLOCK, { reuse: buffers ?? new ReadBuffers(0) }), problems);
  const blocks = readChunks(file, READ_BLOCK);
  if (format === 'evtxecmd-csv') return readEcmdCsv(blocks, (head && detectEcmdCsv(head)?.delimiter) ?? ',', problems);
  if (format === 'evtx-pwsh-json') return readPwshEventJson(blocks, (head && detectPwshEventJson(head)) ?? 'utf8', problems);
  return format === 'evtx-xml' ? readXmlExportStream(blocks, problems) : readJsonRowsStream(blocks, problems);
}
