// Opens an evidence file as an event log by content: binary EVTX (ElfFile magic) or an XML event export.
import { readChunks, type EvidenceFile } from '../../evidence/file.js';
import type { EvtxProblem } from './chunk.js';
import type { EvtxEvent } from './event.js';
import { isEvtx, readEvtxStream } from './file.js';
import { isXmlEventExport, readXmlExportStream } from './xml-export.js';

export type EventLogFormat = 'evtx' | 'evtx-xml';

/** Read size: 16 chunks per read keeps syscalls few and memory small. */
const READ_BLOCK = 1024 * 1024;

export function detectEventLog(head: Buffer): EventLogFormat | null {
  if (isEvtx(head)) return 'evtx';
  return isXmlEventExport(head) ? 'evtx-xml' : null;
}

/** Streams the file's events, one batch per chunk (EVTX) or per read block (XML). Problems are appended. */
export function readEventLog(file: EvidenceFile, format: EventLogFormat, problems: EvtxProblem[]): AsyncGenerator<EvtxEvent[]> {
  const blocks = readChunks(file, READ_BLOCK);
  return format === 'evtx' ? readEvtxStream(blocks, problems) : readXmlExportStream(blocks, problems);
}
