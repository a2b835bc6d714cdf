// Events saved as JSON by PowerShell: `Get-WinEvent … | ConvertTo-Json > events.json` (or `| Out-File`), what a
// client's admin sends when asked for "the event logs" and a responder's quick triage script writes. Shapes:
//   Get-WinEvent (EventLogRecord)  {"Message": "…", "Id": 1, "Version": 0, "Qualifiers": …, "Level": 4, …,
//                                  "RecordId": 7, "ProviderName": "MSExchange CmdletLogs", …, "LogName": "MSExchange
//                                  Management", …, "MachineName": "…", "UserId": …, "TimeCreated": …, …,
//                                  "Properties": [{"Value": "New-MailboxExportRequest"}, …]}
//   Get-EventLog (EventLogEntry)   {"EventID": 1, "MachineName": "…", …, "Index": 7, …, "EntryType": 4, "Message": …,
//                                  "Source": "MSExchange CmdletLogs", "ReplacementStrings": ["…", …], "InstanceId": …,
//                                  "TimeGenerated": …, …}
// in a JSON array, one object (a single event), or Windows PowerShell 5.1's `{"value": [ … ], "Count": n}` (an
// array given with -InputObject). Times: Windows PowerShell 5.1 writes a DateTime as "\/Date(<ms since 1970 UTC>)\/",
// PowerShell 7 as ISO 8601 with the writer's offset: both are exact UTC (unlike Export-Csv's local text). Encoding:
// UTF-16LE with a BOM from Windows PowerShell 5.1's `>` / Out-File, UTF-8 otherwise. Event data: the Properties
// values (ReplacementStrings) are the event's insertion strings in order, unnamed (Data[0], Data[1] … as an .evtx
// without names gives them): the MSExchange CmdletLogs rules read the cmdlet and its parameters there. Events whose
// .evtx data has names (Sysmon, Security) get them from the rendered message where a published template allows it
// (rendered.ts), as for CSV exports.
import { StringDecoder } from 'node:string_decoder';
import type { EvtxProblem } from './chunk.js';
import { normalizeTime, systemFields, type EvtxEvent } from './event.js';
import { dataFromMessage } from './rendered.js';
import { isJsonObject as isObj, parseJson, withinStack, type Json, type JsonObject as Obj } from './xml-json.js';

/** Where the events start: the first object of the document, of its top array, or of 5.1's `"value"` array. */
const START = /^\uFEFF?\s*(?:\[\s*|\{\s*"value"\s*:\s*\[\s*)?\{\s*"(Message|Id|TimeCreated|ProviderName|LogName|RecordId|EventID|MachineName|Source|TimeGenerated)"\s*:/;
const HEAD_CHARS = 8192;
/** A first message longer than the head (a script block): the rest of the event is past it. */
const LONG_MESSAGE = /"Message"\s*:\s*"(?:[^"\\]|\\.){2048}/;

/** The encoding of a PowerShell event JSON file from its head, or null when it is none. */
export function detectPwshEventJson(head: Buffer): 'utf8' | 'utf16le' | null {
  const first = head[0] === 0xff ? head[2] : head[0] === 0xef ? head[3] : head[0];
  // Cheap gate for every file of a sweep: JSON starts with `[` or `{` (or white space, decoded to be sure).
  if (first !== 0x5b && first !== 0x7b && first !== 0x20 && first !== 0x0d && first !== 0x0a && first !== 0x09) return null;
  const enc = (head[0] === 0xff && head[1] === 0xfe) || (head.length > 3 && head[1] === 0 && head[3] === 0) ? 'utf16le' : 'utf8';
  const text = head.toString(enc, 0, Math.min(head.length, HEAD_CHARS * (enc === 'utf8' ? 1 : 2)));
  const m = START.exec(text);
  if (!m) return null;
  if (/"(?:Id|EventID)"\s*:/.test(text) && /"(?:ProviderName|Source)"\s*:/.test(text) && /"Time(?:Created|Generated)"\s*:/.test(text)) return enc;
  return m[1] === 'Message' && LONG_MESSAGE.test(text) ? enc : null;
}

/** An object larger than this is not read (a hostile file): reading stops there, said. */
const MAX_OBJECT_CHARS = 16 * 1024 * 1024;

/**
 * The event objects of the document, as text, in order: each `{…}` whose parent is the top array (or the `"value"`
 * array), or the document itself when it is one object. One pass over the characters, strings and escapes skipped.
 */
export async function* pwshEventObjects(blocks: AsyncIterable<Buffer>, enc: 'utf8' | 'utf16le', problems: EvtxProblem[]): AsyncGenerator<string[]> {
  const decoder = new StringDecoder(enc);
  const width = enc === 'utf8' ? 1 : 2;
  /** Depth at which event objects open; -1 until the document's start decides it. */
  let target = -1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  /** Text not yet handed out: from the open event object's `{` on (or empty). */
  let text = '';
  /** Characters of `text` already scanned; characters before `text`. */
  let scanned = 0;
  let before = 0;
  let start = -1;
  for await (const block of blocks) {
    text += decoder.write(block);
    if (target < 0) {
      const m = START.exec(text);
      if (!m) {
        if (text.length < 256) continue;
        problems.push({ offset: 0, reason: 'not a PowerShell event JSON document after all: not read' });
        return;
      }
      target = !m[0].includes('[') ? 0 : m[0].includes('"value"') ? 2 : 1;
    }
    const out: string[] = [];
    for (let i = scanned; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 0x5c) escaped = true;
        else if (c === 0x22) inString = false;
      } else if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) {
        if (c === 0x7b && depth === target) start = i;
        depth++;
      } else if (c === 0x7d || c === 0x5d) {
        depth--;
        if (c === 0x7d && depth === target && start >= 0) {
          out.push(text.slice(start, i + 1));
          start = -1;
        }
      }
    }
    const keep = start >= 0 ? start : text.length;
    before += keep;
    text = text.slice(keep);
    scanned = text.length;
    if (start >= 0) start = 0;
    if (out.length) yield out;
    if (text.length > MAX_OBJECT_CHARS) {
      problems.push({ offset: before * width, reason: `an event object longer than ${MAX_OBJECT_CHARS / 1024 / 1024} M characters (at about byte ${before * width}): reading stopped there` });
      return;
    }
  }
  if (start >= 0) problems.push({ offset: before * width, reason: `the file ends inside an event object (at about byte ${before * width}, cut short?): that event not read` });
}

/** A DateTime as PowerShell wrote it: 5.1's `/Date(ms)/` (UTC) or 7's ISO 8601 with an offset; null otherwise. */
export function pwshTime(v: Json | undefined): string | null {
  if (typeof v !== 'string') return null;
  const ms = /^\/Date\((-?\d{1,15})(?:[+-]\d{4})?\)\/$/.exec(v);
  if (ms) return normalizeTime(new Date(Number(ms[1])).toISOString());
  const iso = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,7})?(Z|[+-]\d\d:\d\d)$/.exec(v);
  if (!iso) return null;
  const t = Date.parse(`${iso[1]}${iso[3]}`);
  if (Number.isNaN(t)) return null;
  // Whole seconds through Date (the offset applied), the fraction kept to 7 digits as written.
  return `${new Date(t).toISOString().slice(0, 19)}.${(iso[2] ?? '.').slice(1).padEnd(7, '0')}Z`;
}

const text = (v: Json | undefined): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');
const int = (v: Json | undefined): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : null);

const TRUNCATED = 'System.Diagnostics.Eventing.Reader.EventProperty';

/** Properties (EventLogRecord) or ReplacementStrings (EventLogEntry) as strings: `{"Value": x}` items or plain values. */
function insertionStrings(v: Json | undefined): string[] {
  if (!Array.isArray(v)) return [];
  return v.map((p) => (isObj(p) ? text(p.Value) : text(p)));
}

/** One object of the document as an event, or null when it is not one. */
export function pwshJsonToEvent(o: Json, offset: number): EvtxEvent | null {
  if (!isObj(o)) return null;
  const record: Obj = o;
  const winEvent = record.Id !== undefined && record.ProviderName !== undefined;
  const eventLog = record.EventID !== undefined && record.Source !== undefined;
  if (!winEvent && !eventLog) return null;
  const eventId = winEvent ? int(record.Id) : (int(record.InstanceId) ?? int(record.EventID)) ?? null;
  const id = eventId === null ? null : winEvent ? eventId : eventId % 65536;
  const provider = text(winEvent ? record.ProviderName : record.Source);
  const channel = winEvent ? text(record.LogName ?? record.ContainerLog) : '';
  const computer = text(record.MachineName);
  const level = winEvent ? int(record.Level) : null;
  const recordId = int(winEvent ? record.RecordId : record.Index) ?? 0;
  const time = pwshTime(winEvent ? record.TimeCreated : record.TimeGenerated);
  const message = text(record.Message);
  const user = isObj(record.UserId) ? text(record.UserId.Value) : text(record.UserId ?? record.UserName);
  const system = systemFields({ EventID: id, Provider: provider, Channel: channel, Computer: computer, Level: level, EventRecordID: recordId || null, UserID: user, ProcessID: int(record.ProcessId), TimeCreated: time });
  // ConvertTo-Json past its -Depth writes each property as its type name: no values then.
  const strings = insertionStrings(winEvent ? record.Properties : record.ReplacementStrings);
  const values = strings.includes(TRUNCATED) ? [] : strings;
  const fromMessage = message ? dataFromMessage(provider, id, message) : null;
  const data = fromMessage !== null && (!Array.isArray(fromMessage) || values.length === 0) ? fromMessage : values;
  return { record: recordId, time, eventId: id, level, provider, channel, computer, data, system, ...(message ? { message } : {}), xml: [], offset };
}

/** The file's events in batches (one per read block). Objects that are no event are counted, the first named. */
export async function* readPwshEventJson(blocks: AsyncIterable<Buffer>, enc: 'utf8' | 'utf16le', problems: EvtxProblem[]): AsyncGenerator<EvtxEvent[]> {
  let n = 0;
  let bad = 0;
  let firstBad = 0;
  for await (const objects of pwshEventObjects(blocks, enc, problems)) {
    const batch: EvtxEvent[] = [];
    for (const t of objects) {
      n++;
      const parsed = parseJson(t);
      const e = parsed === undefined ? null : withinStack(() => pwshJsonToEvent(parsed, 0));
      if (e) batch.push(e);
      else {
        bad++;
        firstBad ||= n;
      }
    }
    if (batch.length) yield batch;
  }
  if (bad) problems.push({ offset: 0, reason: `${bad} object(s) that are no event (or no valid JSON) not read, the first is object ${firstBad}` });
}
