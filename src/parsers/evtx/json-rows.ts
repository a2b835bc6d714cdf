// Event logs already converted to JSON Lines by other tools, read into the same event model as binary EVTX.
// Three shapes, recognised per line (docs/reports.md "Event logs as JSON Lines" has the field mapping):
//   evtx_dump -o jsonl (omerbenamram/evtx):  {"Event":{"System":{"EventID":4625,"Provider":{"#attributes":{"Name":..}},
//                                             "TimeCreated":{"#attributes":{"SystemTime":"…Z"}},…},"EventData":{…}}}
//   Velociraptor parse_evtx() rows:          {"System":{"EventID":{"Value":1},"Provider":{"Name":..},
//                                             "TimeCreated":{"SystemTime":1614765600.5},…},"EventData":{…},"Message":…}
//   Velociraptor flattened artifact rows     {"EventTime":"…","Computer":..,"Channel":..,"Provider":..,"EventID":1,
//   (Windows.EventLogs.EvtxHunter style):     "EventRecordID":..,"EventData":{…},"UserData":{…},"Message":…}
// plus the event XML as Newtonsoft/xmltodict write it ({"Event":{"System":{"Provider":{"@Name":..},…}}}: EvtxECmd
// --fj, python-evtx + xmltodict; xml-json.ts) and EvtxECmd's own --json rows (evtxecmd.ts).
import { StringDecoder } from 'node:string_decoder';
import { startsWithChar } from '../text-encoding.js';
import type { EvtxProblem } from './chunk.js';
import { normalizeTime, type EvtxEvent } from './event.js';
import { dataOfXmlJson, isJsonObject as isObj, parseJson, systemOfXmlJson, withinStack, type Json, type JsonObject as Obj } from './xml-json.js';
import { ecmdJsonToEvent, ecmdTime, isEcmdRow, PayloadNotes } from './evtxecmd.js';

/** Attribute renames as in the XML model (Maps: names come from evidence). */
const RENAMES = new Map([
  ['Provider', new Map([['Name', 'Provider'], ['Guid', 'ProviderGuid']])],
  ['TimeCreated', new Map([['SystemTime', 'TimeCreated']])],
  ['EventID', new Map([['Value', 'EventID']])],
]);

/** Is this parsed line an event in one of the three shapes? */
function eventParts(row: Json): { system: Obj | null; flat: Obj | null; body: Obj } | null {
  if (!isObj(row)) return null;
  if (isObj(row.Event) && isObj(row.Event.System)) return { system: row.Event.System, flat: null, body: row.Event };
  if (isObj(row.System) && (row.System.EventID !== undefined || row.System.EventRecordID !== undefined)) return { system: row.System, flat: null, body: row };
  if (row.EventID !== undefined && (typeof row.Channel === 'string' || typeof row.Provider === 'string')) return { system: null, flat: row, body: row };
  return null;
}

function scalar(v: Json | undefined): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

/** ISO time from an ISO string (any offset) or epoch seconds (Velociraptor); null otherwise. */
function toIso(v: Json | undefined): string | null {
  if (typeof v === 'number' && Number.isFinite(v)) return normalizeTime(new Date(Math.round(v * 1000)).toISOString());
  if (typeof v !== 'string') return null;
  // SystemTime is UTC: a time written without an offset (python-evtx, EvtxECmd) is not the reader's local time.
  const direct = normalizeTime(v) ?? ecmdTime(v);
  if (direct) return direct;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : normalizeTime(new Date(t).toISOString());
}

/** System values flattened like the XML model: element text by name, attributes by (renamed) attribute name. */
function systemValues(system: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(system)) {
    const s = scalar(v);
    if (s !== null) {
      out[k] = s;
      continue;
    }
    if (!isObj(v)) continue;
    const rename = RENAMES.get(k);
    const text = scalar(v['#text']);
    if (text !== null) out[k] = text;
    const attrs: Obj = { ...(isObj(v['#attributes']) ? v['#attributes'] : {}), ...v };
    for (const [a, av] of Object.entries(attrs)) {
      if (a === '#attributes' || a === '#text') continue;
      const value = k === 'TimeCreated' && a === 'SystemTime' ? toIso(av) : scalar(av);
      if (value !== null) out[rename?.get(a) ?? a] = value;
    }
  }
  return out;
}

/** Leaf values of EventData / UserData by name; attributes as `Element.Attribute`; arrays of unnamed Data in order. */
function dataValues(body: Obj): Record<string, string> | string[] {
  const named: Record<string, string> = {};
  const unnamed: string[] = [];
  const ed = body.EventData;
  if (isObj(ed)) {
    for (const [k, v] of Object.entries(ed)) {
      if (k === '#attributes') continue;
      const list = k === 'Data' ? (Array.isArray(v) ? v : isObj(v) && Array.isArray(v['#text']) ? v['#text'] : null) : null;
      if (list) for (const item of list) unnamed.push(scalar(item) ?? JSON.stringify(item));
      else if (k === 'Data' && isObj(v) && scalar(v['#text']) !== null) unnamed.push(scalar(v['#text'])!);
      else if (k === 'Binary' && (v === '' || v === null)) continue;
      else named[k] = scalar(v) ?? JSON.stringify(v);
    }
  }
  if (isObj(body.UserData)) leaves(body.UserData, '', named);
  if (!Object.keys(named).length) return unnamed;
  unnamed.forEach((v, i) => (named[`Data[${i}]`] = v));
  return named;
}

function leaves(o: Obj, name: string, out: Record<string, string>): void {
  for (const [k, v] of Object.entries(o)) {
    if (k === '#attributes' && isObj(v)) {
      for (const [a, av] of Object.entries(v)) if (!a.startsWith('xmlns') && scalar(av) !== null) out[`${name}.${a}`] = scalar(av)!;
    } else if (isObj(v)) leaves(v, k, out);
    else if (k === '#text') out[name] = scalar(v) ?? '';
    else out[k] = scalar(v) ?? JSON.stringify(v);
  }
}

/** Newtonsoft/xmltodict convention: attributes as "@Name" (the Provider element always has one). */
const atAttributes = (system: Obj): boolean => isObj(system.Provider) && system.Provider['@Name'] !== undefined;

/** One JSON line as an event, or null when it is not one. `notes` counts EvtxECmd rows with a bad Payload. */
export function jsonRowToEvent(row: Json, offset: number, line: number, notes = new PayloadNotes()): EvtxEvent | null {
  if (isEcmdRow(row)) return ecmdJsonToEvent(row, offset, line, notes);
  const parts = eventParts(row);
  if (!parts) return null;
  const xmlJson = parts.system !== null && atAttributes(parts.system);
  let system: Record<string, string>;
  if (parts.system && xmlJson) {
    system = systemOfXmlJson(parts.system, RENAMES);
    const t = toIso(system.TimeCreated);
    if (t) system.TimeCreated = t;
  } else if (parts.system) system = systemValues(parts.system);
  else {
    const f = parts.flat!;
    system = {};
    for (const k of ['EventID', 'EventRecordID', 'Channel', 'Computer', 'Provider', 'Level']) {
      const s = scalar(f[k]);
      if (s !== null) system[k] = s;
    }
    const t = toIso(f.EventTime ?? f.TimeCreated ?? null);
    if (t) system.TimeCreated = t;
    const sid = scalar(f.UserSID);
    if (sid !== null) system.UserID = sid;
  }
  const recordText = system.EventRecordID;
  const ev: EvtxEvent = {
    record: recordText !== undefined && /^\d{1,15}$/.test(recordText) ? Number(recordText) : 0,
    time: toIso(system.TimeCreated ?? null),
    eventId: system.EventID !== undefined && /^\d+$/.test(system.EventID) ? Number(system.EventID) : null,
    level: system.Level !== undefined && /^\d+$/.test(system.Level) ? Number(system.Level) : null,
    provider: system.Provider ?? '',
    channel: system.Channel ?? '',
    computer: system.Computer ?? '',
    data: xmlJson ? dataOfXmlJson(parts.body) : dataValues(parts.body),
    system,
    xml: [],
    offset,
    line,
  };
  const msg = scalar(parts.body.Message);
  if (msg !== null && msg !== '') ev.message = msg;
  return ev;
}

/**
 * How an event line starts when it is longer than the head (a PowerShell 4104 script block, a big UserData): the
 * System element comes before the event data in all three shapes, so the start says what the line is. Nested shapes:
 * `{"Event":{` with at most a few attributes (`#attributes` of evtx_dump, `@xmlns` of Newtonsoft/xmltodict) before
 * `"System":{`, or `{"System":{` (Velociraptor parse_evtx).
 */
const LONG_NESTED = /^\{"Event":\{(?:"[#@][^"]{1,40}":(?:"[^"]{0,300}"|\{[^{}]{0,500}\}),){0,4}"System":\{|^\{"System":\{/;
/** Flat rows (Velociraptor EvtxHunter: EventTime, Computer, Channel, Provider, EventID, … EventData) name these early. */
const FLAT_START = 4096;

/** True when the file's first line is a JSON event in one of the known shapes (judged from content, not name). */
export function isJsonEventRows(head: Buffer): boolean {
  if (!startsWithChar(head, '{')) return false;
  const text = head.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (!text.startsWith('{')) return false;
  const nl = text.indexOf('\n');
  if (nl < 0 && head.length >= 64 * 1024) {
    // The first line is longer than the head: judged from its start (the reader then reads it whole, or lists it).
    if (LONG_NESTED.test(text)) return true;
    const start = text.slice(0, FLAT_START);
    return start.includes('"EventID":') && (start.includes('"Channel":"') || start.includes('"Provider":"'));
  }
  const row = parseJson(nl < 0 ? text : text.slice(0, nl));
  return row !== undefined && eventParts(row) !== null;
}

/** Longest line accepted; a longer one is reported and skipped so memory stays bounded. */
const MAX_LINE_CHARS = 4 * 1024 * 1024;

/** Streams events from JSON Lines blocks; lines that are not events are counted and reported once. */
export async function* readJsonRowsStream(blocks: AsyncIterable<Buffer>, problems: EvtxProblem[]): AsyncGenerator<EvtxEvent[]> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let lineNo = 0;
  let offset = 0;
  let notEvents = 0;
  let firstBad: { line: number; offset: number } | null = null;
  const notes = new PayloadNotes();
  const take = (line: string, batch: EvtxEvent[]) => {
    lineNo++;
    const at = offset;
    offset += Buffer.byteLength(line) + 1;
    const t = line.trim();
    if (t === '') return;
    const row = parseJson(t.replace(/^\uFEFF/, ''));
    const ev = row === undefined ? null : withinStack(() => jsonRowToEvent(row, at, lineNo, notes));
    if (ev) batch.push(ev);
    else {
      notEvents++;
      firstBad ??= { line: lineNo, offset: at };
    }
  };
  // Inside a line already reported as too long: the rest of it, up to its line feed, is passed over.
  let skipping = false;
  for await (const block of blocks) {
    let text = rest + decoder.write(block);
    if (skipping) {
      const nl = text.indexOf('\n');
      offset += Buffer.byteLength(nl < 0 ? text : text.slice(0, nl + 1));
      if (nl < 0) continue;
      skipping = false;
      text = text.slice(nl + 1);
    }
    const batch: EvtxEvent[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      take(text.slice(start, nl), batch);
      start = nl + 1;
    }
    rest = text.slice(start);
    if (rest.length > MAX_LINE_CHARS) {
      problems.push({ offset, reason: `JSON line ${lineNo + 1} longer than 4 MiB, skipped` });
      offset += Buffer.byteLength(rest);
      lineNo++;
      rest = '';
      skipping = true;
    }
    if (batch.length) yield batch;
  }
  const batch: EvtxEvent[] = [];
  if (rest !== '') take(rest + decoder.end(), batch);
  if (batch.length) yield batch;
  if (firstBad) {
    const { line, offset: at } = firstBad;
    problems.push({ offset: at, reason: `${notEvents} JSON line${notEvents === 1 ? '' : 's'} not an event (not JSON, or no System/EventID), first at line ${line}` });
  }
  problems.push(...notes.problems());
}
