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

/** Streams the file's events in batches (EVTX: up to 32 events; XML and JSON: per read block). Problems are appended. */
export function readEventLog(file: EvidenceFile, format: EventLogFormat, problems: EvtxProblem[]): AsyncGenerator<EvtxEvent[]> {
  const blocks = readChunks(file, READ_BLOCK);
  if (format === 'evtx') return readEvtxStream(blocks, problems);
  return format === 'evtx-xml' ? readXmlExportStream(blocks, problems) : readJsonRowsStream(blocks, problems);
}
