// The record model: what a rendered event means (System fields, EventData/UserData values), independent of
// whether it came from a binary .evtx or an XML export.

import { attrOf, childOf, isElement, textOf, type XmlElement, type XmlNode } from './tree.js';

export interface EvtxEvent {
  /** EventRecordID. */
  record: number;
  /** System/TimeCreated/@SystemTime, ISO 8601 with Z (falls back to the record's written time). */
  time: string | null;
  eventId: number | null;
  level: number | null;
  provider: string;
  channel: string;
  computer: string;
  /** EventData / UserData values: by name, or an array when every value is unnamed. */
  data: Record<string, string> | string[];
  /**
   * Every System value flattened: element text by element name (`EventID`, `Level`, `Task`, `Keywords`,
   * `EventRecordID`, `Channel`, `Computer` ...), attributes by attribute name (`ProcessID`, `ThreadID`, `UserID`,
   * `ActivityID`, `Qualifiers`), with `Provider` (Name), `ProviderGuid` and `TimeCreated` (SystemTime).
   */
  system: Record<string, string>;
  /** RenderingInfo/Message, present only in XML exports made with rendering. */
  message?: string;
  /** The rendered event, for `--xml`. */
  xml: XmlNode[];
  /** Byte offset of the record in its file. */
  offset: number;
  /** 1-based line, for events read from JSON Lines (json-rows.ts). */
  line?: number;
}

/** Builds the event model from a rendered record; `record`/`time` come from the record header when absent. */
export function toEvent(xml: XmlNode[], offset: number, headerRecord: number | null, headerTime: string | null): EvtxEvent {
  const root = xml.find((n): n is XmlElement => typeof n !== 'string' && isElement(n));
  const systemEl = root && childOf(root, 'System');
  const system = systemEl ? systemValues(systemEl) : {};
  // The System value is the EventRecordID proper: forwarded (WEC) and exported logs renumber record headers.
  const recordText = system.EventRecordID;
  const record = recordText !== undefined && digitsOnly(recordText, 15) ? Number(recordText) : (headerRecord ?? 0);
  const ev: EvtxEvent = {
    record,
    time: normalizeTime(system.TimeCreated) ?? headerTime,
    eventId: intOrNull(system.EventID),
    level: intOrNull(system.Level),
    provider: system.Provider ?? system.EventSourceName ?? '',
    channel: system.Channel ?? '',
    computer: system.Computer ?? '',
    data: root ? eventData(root) : {},
    system,
    xml,
    offset,
  };
  const message = root && childOf(root, 'RenderingInfo');
  const msg = message && childOf(message, 'Message');
  if (msg) ev.message = textOf(msg);
  return ev;
}

/** ISO 8601 with exactly 7 fractional digits (Windows' precision), whatever the source wrote; null if not ISO. */
export function normalizeTime(s: string | undefined): string | null {
  if (s !== undefined && isWindowsTime(s)) return s; // what binary EVTX holds: already in this form
  const m = s && /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(s.trim());
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(7, '0').slice(0, 7)}Z` : null;
}

/** `YYYY-MM-DDTHH:MM:SS.fffffffZ` exactly (the regex path would return it unchanged). */
function isWindowsTime(s: string): boolean {
  if (s.length !== 28 || s.charCodeAt(27) !== 0x5a) return false;
  for (let i = 0; i < 27; i++) {
    const c = s.charCodeAt(i);
    const want = i === 4 || i === 7 ? 0x2d : i === 10 ? 0x54 : i === 13 || i === 16 ? 0x3a : i === 19 ? 0x2e : 0;
    if (want ? c !== want : c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** 1 to `max` ASCII digits and nothing else. */
function digitsOnly(s: string, max: number): boolean {
  if (s.length === 0 || s.length > max) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function intOrNull(s: string | undefined): number | null {
  if (s === undefined) return null;
  if (digitsOnly(s, 15)) return Number(s);
  return /^\s*\d+\s*$/.test(s) ? Number(s) : null;
}

// Maps, not object literals: element and attribute names come from evidence (`constructor` must stay a name).
const SYSTEM_ATTR_NAMES = new Map([
  ['Provider', new Map([['Name', 'Provider'], ['Guid', 'ProviderGuid']])],
  ['TimeCreated', new Map([['SystemTime', 'TimeCreated']])],
]);

function systemValues(system: XmlElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of system.children) {
    if (typeof c === 'string' || !isElement(c)) continue;
    const text = textOf(c);
    if (text !== '' || c.attrs.length === 0) out[c.name] = text;
    const rename = SYSTEM_ATTR_NAMES.get(c.name);
    for (const a of c.attrs) out[rename?.get(a.name) ?? a.name] = a.value;
  }
  return out;
}

/**
 * EventData `<Data Name="N">` values by name (unnamed ones in order), other EventData children (a non-empty
 * `Binary`) by element name; UserData: the leaf elements of its single child, by element name, and
 * attributes as `Element.Attribute`.
 */
function eventData(root: XmlElement): Record<string, string> | string[] {
  const named: Record<string, string> = {};
  const unnamed: string[] = [];
  const ed = childOf(root, 'EventData');
  if (ed) {
    for (const c of ed.children) {
      if (typeof c === 'string' || !isElement(c)) continue;
      const name = c.name === 'Data' ? attrOf(c, 'Name') : c.name;
      const text = textOf(c);
      if (name === undefined) unnamed.push(text);
      else if (text !== '' || name !== 'Binary') named[name] = text; // classic events carry an empty <Binary/>
    }
  }
  const ud = childOf(root, 'UserData');
  if (ud) for (const c of ud.children) if (typeof c !== 'string' && isElement(c)) leaves(c, named);
  let hasNamed = false;
  for (const _ in named) {
    hasNamed = true;
    break;
  }
  if (!hasNamed) return unnamed;
  unnamed.forEach((v, i) => (named[`Data[${i}]`] = v));
  return named;
}

function leaves(e: XmlElement, out: Record<string, string>): void {
  let hasChild = false;
  for (const c of e.children) {
    if (typeof c === 'string' || !isElement(c)) continue;
    hasChild = true;
    leaves(c, out);
  }
  if (!hasChild) out[e.name] = textOf(e);
  for (const a of e.attrs) if (!a.name.startsWith('xmlns')) out[`${e.name}.${a.name}`] = a.value;
}
