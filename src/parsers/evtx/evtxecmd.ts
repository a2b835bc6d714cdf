// Event logs already processed by Eric Zimmerman's EvtxECmd (KAPE's standard EVTX module): the CSV (--csv, the
// default) and the JSON Lines (--json) it writes, read into the same event model as the .evtx it was made from.
// What EvtxECmd writes (EricZimmerman/evtx: EvtxECmd/Program.cs, evtx/EventRecord.cs):
// - CSV: CsvHelper with InvariantCulture (`,`, RFC 4180 quoting, also of cells with leading or trailing spaces) into
//   a UTF-8 StreamWriter (a BOM). Columns by name: RecordNumber, EventRecordId, TimeCreated, EventId, Level, Provider,
//   Channel, ProcessId, ThreadId, Computer, ChunkNumber, UserId, MapDescription, UserName, RemoteHost,
//   PayloadData1…6, ExecutableInfo, HiddenRecord, SourceFile, Keywords, ExtraDataOffset, Payload — the order has
//   changed between versions (Timeline Explorer knows both), so columns are found by name.
// - JSON: one ServiceStack ToJson() object per line, the same properties (null ones left out), EventId, ProcessId
//   and RecordNumber as numbers, TimeCreated ISO 8601 with its offset ("2024-02-14T03:41:26.4441194+00:00"),
//   Payload as a JSON string (0xdf's "HTB Sherlock: Unit42" shows EvtxECmd 1.5.0.0 lines).
// - TimeCreated: System/TimeCreated/@SystemTime, parsed and made UTC (`ToUniversalTime()`), written with --dt
//   (default "yyyy-MM-dd HH:mm:ss.fffffff"): UTC, whatever the machine's zone.
// - Level: a name for 0–5, 8, 16 (LogAlways, Critical, Error, Warning, Info, Verbose, Success, Failure), else the
//   number; Keywords: a name for nine well-known masks ("Audit success" …), else the hex. Both are read back.
// - Payload: the record's <EventData> or <UserData> element (namespace declarations removed) through Newtonsoft's
//   SerializeXmlNode: `{"EventData":{"Data":[{"@Name":"SubjectUserSid","#text":"S-1-5-18"},…]}}` (xml-json.ts).
//   A record EvtxECmd could not turn into XML is not in the output. Without EventData and UserData, EvtxECmd's
//   EventRecord.cs takes the element after System: JSON without either is an event without data here, no problem.
// - Newer versions add RenderingInfo (a JSON object whose Message is the rendered message, when the record has one).
// Not in the output: the rest of the XML (ProviderGuid, Version, Task, Opcode, Qualifiers, ActivityID) and the
// rendered message; PayloadData1…6, UserName, RemoteHost, ExecutableInfo and MapDescription are EvtxECmd's map
// summaries of Payload and are not read (the values come from Payload itself).
import { utf8BomLength } from '../text-encoding.js';
import type { EvtxProblem } from './chunk.js';
import type { EvtxEvent } from './event.js';
import { csvRows } from './csv-export.js';
import { dataOfXmlJson, isJsonObject, parseJson, withinStack, type Json, type JsonObject } from './xml-json.js';

/** An event read from EvtxECmd output, with the log it was made from. */
export interface EcmdEvent extends EvtxEvent {
  /** EvtxECmd's SourceFile: the .evtx path on the machine that ran it ('' when absent). */
  sourceFile: string;
}

/** Rows whose Payload, TimeCreated or EventId is not what EvtxECmd writes: counted, the first line named. */
export class PayloadNotes {
  bad = 0;
  firstBad = 0;
  badTimes = 0;
  firstBadTime = 0;
  badIds = 0;
  firstBadId = 0;

  problems(): EvtxProblem[] {
    const out: EvtxProblem[] = [];
    if (this.bad) out.push({ offset: 0, reason: `${this.bad} EvtxECmd row(s) whose Payload is not the JSON EvtxECmd writes: event data not read (id, provider and time are), first at line ${this.firstBad}` });
    if (this.badTimes) out.push({ offset: 0, reason: `${this.badTimes} EvtxECmd row(s) whose TimeCreated is not a date and time (EvtxECmd run with another --dt, or the CSV re-saved by a spreadsheet?): no time, first at line ${this.firstBadTime}` });
    if (this.badIds) out.push({ offset: 0, reason: `${this.badIds} EvtxECmd row(s) whose EventId is not a number (not an EvtxECmd row?): no rule on event ids ran on them, first at line ${this.firstBadId}` });
    return out;
  }
}

const LEVELS = new Map([['logalways', 0], ['critical', 1], ['error', 2], ['warning', 3], ['info', 4], ['information', 4], ['verbose', 5], ['success', 8], ['failure', 16]]);
const KEYWORDS = new Map([
  ['Audit failure', '0x8010000000000000'],
  ['Audit success', '0x8020000000000000'],
  ['Time', '0x8000000000000010'],
  ['State', '0x8000000000000080'],
  ['Reboot', '0x8000000000000040'],
  ['Installation', '0x8000000000000018'],
  ['Download', '0x8000000000000014'],
  ['Audit success, classic', '0x8080000000000000'],
  ['Classic', '0x8000000000000000'],
]);

/** `yyyy-MM-dd HH:mm:ss[.f…]` (the default --dt) or ISO 8601, with or without an offset; no offset is UTC. */
const TIME = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?\s?(Z|[+-]\d\d:?\d\d)?$/;

/** TimeCreated as ISO 8601 UTC with 7 fractional digits (as the .evtx reader gives it), or null. */
export function ecmdTime(s: string): string | null {
  const m = TIME.exec(s.trim());
  if (!m) return null;
  const frac = (m[3] ?? '').padEnd(7, '0').slice(0, 7);
  const zone = m[4];
  if (zone === undefined || zone === 'Z' || /^[+-]00:?00$/.test(zone)) return `${m[1]}T${m[2]}.${frac}Z`;
  const t = Date.parse(`${m[1]}T${m[2]}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`);
  if (Number.isNaN(t)) return null;
  return `${new Date(t).toISOString().slice(0, 19)}.${frac}Z`;
}

const digits = (s: string, max: number) => s.length > 0 && s.length <= max && /^\d+$/.test(s);

/** One EvtxECmd row (a CSV row by column name, or a JSON line's properties as text) as an event. */
export function ecmdRowToEvent(get: (name: string) => string, offset: number, line: number, notes: PayloadNotes): EcmdEvent {
  const system: Record<string, string> = {};
  const put = (k: string, v: string) => {
    if (v !== '') system[k] = v;
  };
  const eventIdText = get('EventId').trim();
  const eventId = digits(eventIdText, 5) ? Number(eventIdText) : null;
  if (eventId === null) {
    notes.badIds++;
    notes.firstBadId ||= line;
  }
  // The System value, as event.ts prefers it; RecordNumber (the record header's) only when it is missing.
  const recordText = get('EventRecordId').trim() || get('RecordNumber').trim();
  const record = digits(recordText, 15) ? Number(recordText) : 0;
  const levelText = get('Level').trim();
  const level = digits(levelText, 3) ? Number(levelText) : (LEVELS.get(levelText.toLowerCase()) ?? null);
  const timeText = get('TimeCreated');
  const time = ecmdTime(timeText);
  if (time === null && timeText.trim() !== '') {
    notes.badTimes++;
    notes.firstBadTime ||= line;
  }
  put('EventID', eventId === null ? eventIdText : String(eventId));
  if (level !== null) put('Level', String(level));
  const keywords = get('Keywords').trim();
  put('Keywords', KEYWORDS.get(keywords) ?? keywords);
  if (time) put('TimeCreated', time);
  put('EventRecordID', recordText);
  put('Provider', get('Provider'));
  put('Channel', get('Channel'));
  put('Computer', get('Computer'));
  put('UserID', get('UserId'));
  // EvtxECmd writes 0 when the record has no Execution element.
  for (const [k, col] of [['ProcessID', 'ProcessId'], ['ThreadID', 'ThreadId']]) {
    const v = get(col).trim();
    if (v !== '' && v !== '0') put(k, v);
  }
  const ev: EcmdEvent = {
    record,
    time,
    eventId,
    level,
    provider: system.Provider ?? '',
    channel: system.Channel ?? '',
    computer: system.Computer ?? '',
    data: payloadData(get('Payload'), line, notes),
    system,
    xml: [],
    offset,
    line,
    sourceFile: get('SourceFile'),
  };
  const message = renderedMessage(get('RenderingInfo'));
  if (message !== null) ev.message = message;
  return ev;
}

function payloadData(text: string, line: number, notes: PayloadNotes): Record<string, string> | string[] {
  if (text.trim() === '') return [];
  const payload = parseJson(text);
  if (isJsonObject(payload)) {
    // An object without EventData or UserData is an event without data; one nested too deep to read (hostile) is a
    // bad Payload, not the end of the file.
    const data = withinStack(() => dataOfXmlJson(payload));
    if (data !== null) return data;
  }
  notes.bad++;
  notes.firstBad ||= line;
  return [];
}

function renderedMessage(text: string): string | null {
  if (text.trim() === '') return null;
  const info = parseJson(text);
  return isJsonObject(info) && typeof info.Message === 'string' && info.Message !== '' ? info.Message : null;
}

// --- CSV ---------------------------------------------------------------------------------------------------------

/** Columns that make a CSV EvtxECmd's (any version), lower case. */
const NEEDED = ['eventid', 'timecreated', 'provider', 'channel'];
const ONE_OF_RECORD = ['eventrecordid', 'recordnumber'];
const ONE_OF_OWN = ['payload', 'mapdescription', 'payloaddata1', 'chunknumber'];

/** The header's cells when they are EvtxECmd's; the delimiter is `,` (a spreadsheet may have re-saved it with `;`). */
function ecmdHeader(line: string): { cells: string[]; delimiter: string } | null {
  for (const delimiter of [',', ';', '\t']) {
    const cells = line.split(delimiter).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
    if (cells.length < 6) continue;
    const lower = new Set(cells.map((c) => c.toLowerCase()));
    if (NEEDED.every((c) => lower.has(c)) && ONE_OF_RECORD.some((c) => lower.has(c)) && ONE_OF_OWN.some((c) => lower.has(c))) return { cells, delimiter };
  }
  return null;
}

/** The delimiter when the file starts with an EvtxECmd CSV header (judged from content, not name); else null. */
export function detectEcmdCsv(head: Buffer): { delimiter: string } | null {
  // Cheap refusals first: a sweep asks this of every file.
  const i = utf8BomLength(head);
  // R, E, T or a quote; L: Timeline Explorer's export puts its own Line and Tag columns first.
  const c = head[i] | 0x20;
  if (i >= head.length || (c !== 0x72 && c !== 0x65 && c !== 0x74 && c !== 0x6c && head[i] !== 0x22)) return null;
  const nl = head.subarray(0, i + 4097).indexOf(0x0a, i);
  if (nl < 0) return null;
  const h = ecmdHeader(head.toString('utf8', i, nl).replace(/\r$/, ''));
  return h ? { delimiter: h.delimiter } : null;
}

/** Streams the events of an EvtxECmd CSV; rows with too few cells are counted, bad Payloads too. */
export async function* readEcmdCsv(blocks: AsyncIterable<Buffer>, delimiter: string, problems: EvtxProblem[]): AsyncGenerator<EcmdEvent[]> {
  const notes = new PayloadNotes();
  let index: Map<string, number> | null = null;
  let width = 0;
  let short = 0;
  let firstShort = 0;
  let long = 0;
  let firstLong = 0;
  for await (const rows of csvRows(blocks, { encoding: 'utf8', delimiter }, problems)) {
    const batch: EcmdEvent[] = [];
    for (const r of rows) {
      if (r.dropped) continue;
      if (index === null) {
        index = new Map();
        for (const [i, c] of r.cells.entries()) if (!index.has(c.trim().toLowerCase())) index.set(c.trim().toLowerCase(), i);
        width = r.cells.length;
        if (!index.has('payload')) problems.push({ offset: r.offset, reason: 'EvtxECmd CSV without its Payload column (removed before it was sent?): event data not read, only ids, providers and times' });
        continue;
      }
      // A cut row (an unterminated quote swallowed the rest) or a line that is not a row.
      if (r.cells.length < width) {
        short++;
        firstShort ||= r.line;
        continue;
      }
      // CsvHelper quotes every cell with a delimiter: more cells means a quote that did not close where it should.
      if (r.cells.length > width) {
        long++;
        firstLong ||= r.line;
      }
      const cols = index;
      const cells = r.cells;
      batch.push(ecmdRowToEvent((name) => cells[cols.get(name.toLowerCase()) ?? -1] ?? '', r.offset, r.line, notes));
    }
    if (batch.length) yield batch;
  }
  if (short) problems.push({ offset: 0, reason: `${short} EvtxECmd CSV row(s) with fewer cells than the header's ${width} not read (a cut or hand-edited row), first at line ${firstShort}` });
  if (long) problems.push({ offset: 0, reason: `${long} EvtxECmd CSV row(s) with more cells than the header's ${width} (a quote not closed where it should be?), read by the first ${width}, first at line ${firstLong}` });
  problems.push(...notes.problems());
}

// --- JSON Lines --------------------------------------------------------------------------------------------------

/** Is this JSON line an EvtxECmd row (its own property names, EventId spelt so)? */
export function isEcmdRow(row: Json): row is JsonObject {
  return isJsonObject(row) && row.EventId !== undefined && 'ChunkNumber' in row && (typeof row.Channel === 'string' || typeof row.Provider === 'string');
}

/**
 * EvtxECmd --json starts each line with the map columns, then `"ChunkNumber":<n>,"Computer":` — before the Payload,
 * which can be longer than the head: judged from that prefix, not by parsing the whole first line.
 */
const JSON_PREFIX = /^\{(?:"(?:PayloadData[1-6]|UserName|RemoteHost|ExecutableInfo|MapDescription)":"(?:[^"\\]|\\.)*",)*"ChunkNumber":\d{1,10},"Computer":"/;

/** The first property of an EvtxECmd --json line (the ones before ChunkNumber are left out when null). */
const FIRST_KEY = /^\{"(?:PayloadData[1-6]|UserName|RemoteHost|ExecutableInfo|MapDescription|ChunkNumber)"/;

export function isEcmdJson(head: Buffer): boolean {
  const i = utf8BomLength(head);
  if (head[i] !== 0x7b || head[i + 1] !== 0x22) return false; // {"
  // Any other JSON object is refused on its first key, before 64 KiB are decoded.
  if (!FIRST_KEY.test(head.toString('latin1', i, i + 20))) return false;
  return JSON_PREFIX.test(head.toString('utf8', i, Math.min(head.length, i + 64 * 1024)));
}

/** A JSON line of EvtxECmd as an event: its properties read as the CSV's cells. */
export function ecmdJsonToEvent(row: JsonObject, offset: number, line: number, notes: PayloadNotes): EcmdEvent {
  return ecmdRowToEvent(
    (name) => {
      const v = row[name];
      if (v === undefined || v === null) return '';
      return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
    },
    offset,
    line,
    notes,
  );
}
