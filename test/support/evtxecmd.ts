// What Eric Zimmerman's EvtxECmd writes for an .evtx, made here from the records exhunt's own EVTX reader gives, by
// following EvtxECmd's source (EricZimmerman/evtx: EvtxECmd/Program.cs, evtx/EventRecord.cs), so that the same
// events can be scanned both ways:
// - Payload: the <EventData> or <UserData> element, namespace declarations removed (ConvertPayloadToXml's
//   ` xmlns.+">` replace), through XmlDocument.LoadXml (whitespace-only text dropped) and Newtonsoft's
//   SerializeXmlNode: attributes "@Name", text "#text" beside attributes, a text-only element as its string, an
//   empty one as null, siblings of one name as an array (one alone: no array). A record with neither element is not
//   written (LoadXml("") throws and the record is counted as an error).
// - TimeCreated: SystemTime in UTC, "yyyy-MM-dd HH:mm:ss.fffffff" (--dt default) in CSV; ServiceStack's ISO 8601
//   with "+00:00" in JSON ("2024-02-14T03:41:26.4441194+00:00", 0xdf's HTB Sherlock Unit42 write-up).
// - Level and Keywords: EventRecord.cs's names (LogAlways, Info, …; "Audit success", "Classic", …).
// - CSV: CsvHelper, InvariantCulture: header then rows, CRLF, a cell quoted when it holds `"`, `,`, CR or LF, or
//   starts or ends with a space; UTF-8 with a BOM (StreamWriter(…, Encoding.UTF8)). Column order of EvtxECmd 1.5
//   (the quilt project's sample-min.csv header; Timeline Explorer's EvtxECmd header lists it too).
// - JSON: ServiceStack ToJson() of EventRecord, properties in declaration order, null ones left out, one per line.
// - Values of GUID type: EvtxECmd writes .NET's Guid.ToString() ("817bddf3-3514-65cc-0802-000000001900" for Sysmon's
//   ProcessGuid in the Unit42 lines), where Windows and exhunt's reader write "{817BDDF3-…}": a braced GUID value
//   is written that way here (a string value that looks like one would keep its braces in EvtxECmd: none of the
//   samples has one).
// Map columns (MapDescription, PayloadData1…6, …) stay empty: no maps are applied (as when --maps names no folder).
import { isElement, type XmlElement, type XmlNode } from '../../src/parsers/evtx/tree.js';
import type { EvtxEvent } from '../../src/parsers/evtx/index.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export const CSV_HEADER = [
  'RecordNumber', 'EventRecordId', 'TimeCreated', 'EventId', 'Level', 'Provider', 'Channel', 'ProcessId', 'ThreadId', 'Computer', 'ChunkNumber', 'UserId', 'MapDescription', 'UserName', 'RemoteHost',
  'PayloadData1', 'PayloadData2', 'PayloadData3', 'PayloadData4', 'PayloadData5', 'PayloadData6', 'ExecutableInfo', 'HiddenRecord', 'SourceFile', 'Keywords', 'ExtraDataOffset', 'Payload',
];

const LEVELS = new Map([[0, 'LogAlways'], [1, 'Critical'], [2, 'Error'], [3, 'Warning'], [4, 'Info'], [5, 'Verbose'], [8, 'Success'], [16, 'Failure']]);
const KEYWORDS = new Map([
  ['0x8010000000000000', 'Audit failure'], ['0x8020000000000000', 'Audit success'], ['0x8000000000000010', 'Time'], ['0x8000000000000080', 'State'], ['0x8000000000000040', 'Reboot'],
  ['0x8000000000000018', 'Installation'], ['0x8000000000000014', 'Download'], ['0x8080000000000000', 'Audit success, classic'], ['0x8000000000000000', 'Classic'],
]);

const elements = (nodes: readonly XmlNode[]): XmlElement[] => nodes.filter((n): n is XmlElement => typeof n !== 'string' && isElement(n));

const BRACED_GUID = /^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$/i;

/** Newtonsoft's SerializeXmlNode value of an element (xmlns attributes already gone, as EvtxECmd strips them). */
function newtonsoft(e: XmlElement): Json {
  const attrs = e.attrs.filter((a) => a.name !== 'xmlns' && !a.name.startsWith('xmlns:'));
  const kids = elements(e.children);
  // XmlDocument.LoadXml without PreserveWhitespace: whitespace-only text is not kept.
  const text = e.children.filter((c): c is string => typeof c === 'string').join('');
  const keptText = text.trim() === '' ? '' : BRACED_GUID.test(text) ? text.slice(1, -1).toLowerCase() : text;
  if (!attrs.length && !kids.length) return keptText === '' ? null : keptText;
  const o: { [k: string]: Json } = {};
  for (const a of attrs) o[`@${a.name}`] = a.value;
  const groups = new Map<string, XmlElement[]>();
  for (const k of kids) groups.set(k.name, [...(groups.get(k.name) ?? []), k]);
  for (const [name, list] of groups) o[name] = list.length === 1 ? newtonsoft(list[0]) : list.map(newtonsoft);
  if (keptText !== '') o['#text'] = keptText;
  return o;
}

/** EvtxECmd's Payload for the event, or null when it has neither EventData nor UserData (EvtxECmd drops it). */
export function payloadOf(e: EvtxEvent): string | null {
  const root = elements(e.xml).find((x) => x.name === 'Event');
  const body = root && elements(root.children).find((x) => x.name === 'EventData' || x.name === 'UserData');
  return body ? JSON.stringify({ [body.name]: newtonsoft(body) }) : null;
}

/** One EvtxECmd row of an event read from `sourceFile` (the path EvtxECmd was given), or null when EvtxECmd drops it. */
export function ecmdRow(e: EvtxEvent, sourceFile: string): Record<string, string | number | boolean | null> | null {
  const payload = payloadOf(e);
  if (payload === null) return null;
  const s = e.system;
  const level = s.Level !== undefined ? Number(s.Level) : 0;
  return {
    RecordNumber: e.record,
    EventRecordId: s.EventRecordID ?? String(e.record),
    TimeCreated: s.TimeCreated ?? '',
    EventId: e.eventId ?? 0,
    Level: LEVELS.get(level) ?? String(level),
    Provider: s.Provider ?? null,
    Channel: s.Channel ?? null,
    ProcessId: Number(s.ProcessID ?? 0),
    ThreadId: Number(s.ThreadID ?? 0),
    Computer: s.Computer ?? null,
    ChunkNumber: Math.max(0, Math.floor((e.offset - 4096) / 65536)),
    UserId: s.UserID ?? null,
    MapDescription: null,
    UserName: null,
    RemoteHost: null,
    PayloadData1: null,
    PayloadData2: null,
    PayloadData3: null,
    PayloadData4: null,
    PayloadData5: null,
    PayloadData6: null,
    ExecutableInfo: null,
    HiddenRecord: false,
    SourceFile: sourceFile,
    Keywords: s.Keywords === undefined ? null : (KEYWORDS.get(s.Keywords) ?? s.Keywords),
    ExtraDataOffset: 0,
    Payload: payload,
  };
}

type Row = NonNullable<ReturnType<typeof ecmdRow>>;

/** CsvHelper's quoting (InvariantCulture). */
export function csvCell(v: string): string {
  return v !== '' && (/[",\r\n]/.test(v) || v.startsWith(' ') || v.endsWith(' ')) ? `"${v.replaceAll('"', '""')}"` : v;
}

const csvValue = (k: string, v: Row[string]): string => {
  if (v === null) return '';
  if (k === 'TimeCreated') return String(v).replace('T', ' ').replace(/Z$/, '');
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
};

/** The CSV EvtxECmd writes for these rows, with its BOM; `rowLines[i]` is row i's first physical line. */
export function ecmdCsv(rows: Row[]): { bytes: Buffer; rowLines: number[] } {
  const lines = [CSV_HEADER.join(',')];
  const rowLines: number[] = [];
  let line = 2;
  for (const r of rows) {
    rowLines.push(line);
    const text = CSV_HEADER.map((k) => csvCell(csvValue(k, r[k]))).join(',');
    lines.push(text);
    line += text.split('\n').length;
  }
  return { bytes: Buffer.from(`\uFEFF${lines.join('\r\n')}\r\n`, 'utf8'), rowLines };
}

/** ServiceStack's property order of EventRecord (EventRecord.cs declaration order). */
const JSON_ORDER = [
  'PayloadData1', 'PayloadData2', 'PayloadData3', 'PayloadData4', 'PayloadData5', 'PayloadData6', 'UserName', 'RemoteHost', 'ExecutableInfo', 'MapDescription', 'ChunkNumber', 'Computer', 'Payload', 'UserId',
  'Channel', 'Provider', 'EventId', 'EventRecordId', 'ProcessId', 'ThreadId', 'Level', 'Keywords', 'SourceFile', 'ExtraDataOffset', 'HiddenRecord', 'TimeCreated', 'RecordNumber',
];

/** The JSON Lines EvtxECmd --json writes for these rows, with its BOM. */
export function ecmdJson(rows: Row[]): Buffer {
  const lines = rows.map((r) => {
    const o: { [k: string]: Json } = {};
    for (const k of JSON_ORDER) {
      const v = r[k];
      if (v === null) continue;
      o[k] = k === 'TimeCreated' ? String(v).replace(/Z$/, '+00:00') : v;
    }
    return JSON.stringify(o);
  });
  return Buffer.from(`\uFEFF${lines.join('\r\n')}\r\n`, 'utf8');
}
