// EVTX reader: file header -> chunks -> records -> BinXML, plus event logs exported as XML.
export { EvtxError } from './binxml.js';
export { CHUNK_SIZE, readChunk, type EvtxProblem } from './chunk.js';
export { toEvent, type EvtxEvent } from './event.js';
export { evtxSpan, FILE_HEADER_SIZE, isEvtx, readEvtxBuffer, readEvtxStream, readFileHeader, type EvtxFileHeader, type EvtxResume } from './file.js';
export { renderXml, type XmlElement, type XmlNode } from './tree.js';
export { isXmlEventExport, parseXmlFragment, readXmlExportStream } from './xml-export.js';
export { detectEventLog, EVTXECMD_FORMATS, readEventLog, type EventLogFormat } from './source.js';
export { type EcmdEvent } from './evtxecmd.js';
export { detectEventCsv, readCsvEvents, voteDateOrder, type CsvEvent, type CsvTimes, type EventCsvShape } from './csv-export.js';
export { DateOrderVotes, zoneToUtc, type DateOrder } from './csv-time.js';
export { isJsonEventRows, jsonRowToEvent, readJsonRowsStream } from './json-rows.js';
