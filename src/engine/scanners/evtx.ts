// Windows event logs (.evtx by the ElfFile magic, or a first chunk at 0x1000 when that header is damaged, whatever the
// name; XML event exports by content): records are streamed chunk by chunk through exhunt's own reader, flattened to
// LogRecords and run through the EVTX rules.
//
// LogRecord for evtx: format 'evtx', record = EventRecordID, time = System/TimeCreated (ISO, 7 fractional digits).
// fields:
//   System values: EventID, Qualifiers, Version, Level, Task, Opcode, Keywords, EventRecordID, TimeCreated,
//     Provider (Name), ProviderGuid, EventSourceName, ActivityID, RelatedActivityID, ProcessID, ThreadID, Channel,
//     Computer, UserID — whichever the event has.
//   EventData: each <Data Name="N"> as N (e.g. Image, CommandLine, TargetFilename, "Threat Name"); a name that
//     collides with a System field is stored as EventData.N; unnamed <Data> values as Data[0], Data[1], …;
//     a non-empty <Binary> as Binary. UserData: leaf elements by name, attributes as Element.Attribute.
//   Message: the rendered message when the export has one (RenderingInfo), then every data value, one per line —
//     the text keyword rules search (the binary log holds no message templates).
import type { Coverage, LogRecord, RawFinding } from '../../model.js';
import { fsPath, type EvidenceFile, type FileHead, type ReadBuffers } from '../../evidence/file.js';
import { openEvidence } from '../../evidence/open.js';
import { detectEventLog, evtxSpan, EVTXECMD_FORMATS, readEventLog, readEvtxStream, type EcmdEvent, type EventLogFormat, type EvtxEvent, type EvtxProblem } from '../../parsers/evtx/index.js';
import type { ByteRange } from '../ranges.js';
import { unreadEventExport } from '../../parsers/evtx/text-exports.js';
import { applyRules } from '../../rules/finding.js';
import type { RuleSet } from '../../rules/ruleset.js';
import { emptyResult, type FileScanResult, type Scanner } from '../types.js';
import { budgetReason, type Budget } from '../budget.js';
import { FindingGrouper } from '../group.js';

export function toLogRecord(e: EvtxEvent, path: string): LogRecord {
  const fields: Record<string, string> = {};
  let values: string[];
  if (Array.isArray(e.data)) {
    values = e.data;
    values.forEach((v, i) => (fields[`Data[${i}]`] = v));
  } else {
    values = Object.values(e.data);
    for (const [k, v] of Object.entries(e.data)) fields[Object.hasOwn(e.system, k) ? `EventData.${k}` : k] = v;
  }
  Object.assign(fields, e.system);
  const joined = values.join('\n');
  fields.Message = e.message === undefined ? joined : values.length ? `${e.message}\n${joined}` : e.message;
  // JSON Lines rows are found again by line; binary and XML logs by EventRecordID.
  return { format: 'evtx', path, ...(e.line !== undefined ? { line: e.line } : { record: e.record }), time: e.time, fields };
}

/** Per-channel record counts and time range. */
class ChannelCoverage {
  private readonly byChannel = new Map<string, Coverage>();

  /** `via`: how the events reached exhunt, when not as the log itself (` (EvtxECmd)`). */
  constructor(private readonly via = '') {}

  add(e: EvtxEvent): void {
    const source = `EVTX ${e.channel || 'unknown channel'}${this.via}`;
    let c = this.byChannel.get(source);
    if (!c) this.byChannel.set(source, (c = { source, format: 'evtx', files: 1, records: 0, first: null, last: null }));
    c.records++;
    if (e.time) {
      if (c.first === null || e.time < c.first) c.first = e.time;
      if (c.last === null || e.time > c.last) c.last = e.time;
    }
  }

  list(): Coverage[] {
    return [...this.byChannel.values()];
  }
}

/** A Windows file name (none of `<>:"/\|?*` or control characters) of an event log, as EvtxECmd's SourceFile ends. */
const LOG_NAME = /^[^\u0000-\u001f"*:<>?|]{1,255}\.evtx$/i;

/**
 * Events EvtxECmd made (parsers/evtx/evtxecmd.ts): the logs they came from, and on each finding the event's record
 * id and source log (the finding's line is the export's; engine/evtx-duplicates.ts matches it to the .evtx's).
 */
class EcmdSources {
  private readonly logs = new Map<string, number>();
  /** Events whose SourceFile names no .evtx file (a hostile or broken row): counted, not listed as logs. */
  private odd = 0;

  add(e: EcmdEvent, hits: RawFinding[]): void {
    const name = e.sourceFile.slice(Math.max(e.sourceFile.lastIndexOf('\\'), e.sourceFile.lastIndexOf('/')) + 1);
    if (name !== '' && !LOG_NAME.test(name)) this.odd++;
    else if (this.logs.size < 1000 || this.logs.has(name)) this.logs.set(name, (this.logs.get(name) ?? 0) + 1);
    for (const f of hits) {
      f.evidence.event_record_id = e.record;
      f.evidence.evtxecmd_source_file = e.sourceFile || null;
    }
  }

  limits(format: EventLogFormat, records: number): string {
    const names = [...this.logs.keys()].filter((n) => n !== '').sort();
    const shown = names.slice(0, 12).join(', ') + (names.length > 12 ? `, and ${names.length - 12} more` : '');
    return [
      `read as EvtxECmd output (${format === 'evtxecmd-csv' ? 'CSV' : 'JSON Lines'}): ${records} event(s)${names.length ? ` of ${names.length} log(s): ${shown}` : ''}${this.odd ? ` (${this.odd} event(s) whose SourceFile is no .evtx file name)` : ''}`,
      'times are UTC as EvtxECmd writes them',
      'event data from its Payload column; not in EvtxECmd output: the rendered message, the rest of the event XML (ProviderGuid, Version, Task, Opcode, ActivityID; --xml shows nothing), and records EvtxECmd could not parse',
    ].join('; ');
  }
}

/** What a PowerShell JSON export holds and lacks (parsers/evtx/pwsh-json.ts), said with its events. */
const PWSH_JSON_LIMITS =
  'times are UTC as PowerShell wrote them; event data: the insertion strings (Properties) unnamed, named from the rendered message where a published template allows it (Sysmon, Security 4688, PowerShell 4104, Defender); not evaluated: named event data of other events, and Sigma rules (--rules) on such fields';

/** Bytes [start, end) of a file on disk in fresh blocks (the EVTX reader keeps a view of a block's tail). */
async function* readSpan(file: EvidenceFile & { kind: 'fs' }, start: number, end: number, blockSize = 1024 * 1024): AsyncGenerator<Buffer> {
  const fh = await openEvidence(fsPath(file));
  try {
    for (let pos = start; pos < end; ) {
      const buf = Buffer.allocUnsafe(Math.min(blockSize, end - pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return;
      pos += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/**
 * The events of the whole file, or of the chunks a byte range owns (binary EVTX on disk: a 4 GB log on every core),
 * and the bytes they span. XML exports and JSON Lines are read whole by the first range; null for the others.
 */
function eventsOf(file: EvidenceFile, format: EventLogFormat, problems: EvtxProblem[], range?: ByteRange, head?: FileHead, buffers?: ReadBuffers): { events: AsyncGenerator<EvtxEvent[]>; bytes: number } | null {
  if (range !== undefined && file.kind === 'fs' && format === 'evtx' && head) {
    const span = evtxSpan(head.bytes, file.size, range.start, range.end);
    return { events: readEvtxStream(readSpan(file, span.start, span.end), problems, span.resume), bytes: span.end - span.start };
  }
  return range === undefined || range.index === 0 ? { events: readEventLog(file, format, problems, head?.bytes, buffers), bytes: file.size } : null;
}

async function scanEventLog(file: EvidenceFile, format: EventLogFormat, rules: RuleSet, budget?: Budget, range?: ByteRange, head?: FileHead, buffers?: ReadBuffers): Promise<FileScanResult> {
  const result = emptyResult();
  const problems: EvtxProblem[] = [];
  const ecmd = EVTXECMD_FORMATS.has(format) ? new EcmdSources() : null;
  const pwsh = format === 'evtx-pwsh-json';
  const coverage = new ChannelCoverage(ecmd ? ' (EvtxECmd)' : pwsh ? ' (saved as JSON)' : '');
  let records = 0;
  let stopped: string | null = null;
  let last: EvtxEvent | undefined;
  // Grouped as they are made: a flood of one event kind is counted, never held (engine/group.ts).
  const found = new FindingGrouper(file);
  const hits: RawFinding[] = [];
  const read = eventsOf(file, format, problems, range, head, buffers);
  if (read === null) return result;
  for await (const batch of read.events) {
    // Between batches (EVTX: 32 events), before the next one: a file read to its end is never partial.
    if (records > 0 && budget?.exceeded()) {
      stopped = budgetReason(budget, `${records} records${last ? ` (to record ${last.record ?? last.line})` : ''}`);
      break;
    }
    for (const e of batch) {
      coverage.add(e);
      applyRules(rules.evtxRules, toLogRecord(e, file.rel), hits, rules.context);
      if (ecmd) ecmd.add(e as EcmdEvent, hits);
      for (const f of hits) found.add(f);
      hits.length = 0;
    }
    records += batch.length;
    last = batch.at(-1) ?? last;
  }
  Object.assign(result, found.parts());
  result.coverage = coverage.list();
  result.skipped = problems.map((p) => ({ path: file.rel, reason: p.reason, offset: p.offset }));
  if (ecmd) result.skipped.unshift({ path: file.rel, reason: ecmd.limits(format, records) });
  if (pwsh) result.skipped.unshift({ path: file.rel, reason: `read as events saved as JSON by PowerShell (ConvertTo-Json): ${records} event(s); ${PWSH_JSON_LIMITS}` });
  if (stopped !== null) {
    for (const c of result.coverage) c.partial = [file.rel];
    result.skipped.push({ path: file.rel, reason: stopped });
  }
  result.bytes = read.bytes;
  return result;
}

export const evtxScanner: Scanner = {
  name: 'evtx',
  classify(_file, head) {
    const format = detectEventLog(head);
    if (format !== null) return format;
    const unread = unreadEventExport(head);
    return unread === null ? null : { skip: unread, unread: true };
  },
  ranges: true,
  async scan(file, format, _options, rules, { budget, range, head, buffers } = {}) {
    if (format !== 'evtx' && format !== 'evtx-xml' && format !== 'evtx-json' && format !== 'evtx-pwsh-json' && !EVTXECMD_FORMATS.has(format)) throw new Error(`unknown event log format ${format}`);
    return scanEventLog(file, format as EventLogFormat, rules, budget, range, head, buffers);
  },
};
