// The record model: what a rendered event means (System fields, EventData/UserData values), independent of
// whether it came from a binary .evtx or an XML export.

import { BuiltElement, isElement, type ElementView, type XmlAttr, type XmlElement, type XmlNode } from './tree.js';

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

/** The rendered XML of an event that is built only when asked for (binary records, binxml.ts). */
export interface XmlSource {
  nodes(): XmlNode[];
}

/** An event read from its elements; `xml` is the tree given, or built from its source when first asked for. */
class ReadEvent implements EvtxEvent {
  declare message?: string;
  declare line?: number;
  constructor(
    public record: number,
    public time: string | null,
    public eventId: number | null,
    public level: number | null,
    public provider: string,
    public channel: string,
    public computer: string,
    public data: Record<string, string> | string[],
    public system: Record<string, string>,
    private readonly source: XmlNode[] | XmlSource,
    public offset: number,
  ) {}

  get xml(): XmlNode[] {
    return Array.isArray(this.source) ? this.source : this.source.nodes();
  }
}

/** Builds the event model from a rendered record; `record`/`time` come from the record header when absent. */
export function toEvent(xml: XmlNode[], offset: number, headerRecord: number | null, headerTime: string | null): EvtxEvent {
  const root = xml.find((n): n is XmlElement => typeof n !== 'string' && isElement(n));
  return readEvent(root && new BuiltElement(root), xml, offset, headerRecord, headerTime);
}

/** The same from the record's top element read in place (`root`), its tree built from `xml` only when asked for. */
export function readEvent(root: ElementView | undefined, xml: XmlNode[] | XmlSource, offset: number, headerRecord: number | null, headerTime: string | null): EvtxEvent {
  const top = root?.elements();
  const systemEl = top && childOf(top, 'System');
  const ev = eventOf(systemEl ? systemValues(systemEl) : {}, top ? eventData(top) : {}, xml, offset, headerRecord, headerTime);
  const message = top && childOf(top, 'RenderingInfo');
  const msg = message && childOf(message.elements(), 'Message');
  if (msg) ev.message = msg.text();
  return ev;
}

/** The event of a record whose System and EventData/UserData values are read (see readEvent, binxml.ts EventPlan). */
export function eventOf(system: Record<string, string>, data: Record<string, string> | string[], xml: XmlNode[] | XmlSource, offset: number, headerRecord: number | null, headerTime: string | null): EvtxEvent {
  // The System value is the EventRecordID proper: forwarded (WEC) and exported logs renumber record headers.
  const recordText = system.EventRecordID;
  const record = recordText !== undefined && digitsOnly(recordText, 15) ? Number(recordText) : (headerRecord ?? 0);
  return new ReadEvent(
    record,
    normalizeTime(system.TimeCreated) ?? headerTime,
    intOrNull(system.EventID),
    intOrNull(system.Level),
    system.Provider ?? system.EventSourceName ?? '',
    system.Channel ?? '',
    system.Computer ?? '',
    data,
    system,
    xml,
    offset,
  );
}

/**
 * An empty object to hold about `keys` properties added by computed name. V8 gives `{}` room for 4 and turns an
 * object into a hash table once 12 more have been added by computed name ("dictionary mode"): adding each property
 * of a Security logon event's data (20-odd) then cost 2-3x as much, and reading it too. Objects made by `Wide` start
 * with room for the 24 properties its body would assign (V8 sizes them by that count; the body never runs), trimmed
 * to what the first few objects use, and they stay fast to twice that. Only for big records: room costs memory.
 */
export function recordFor(keys: number): Record<string, string> {
  return keys > 16 ? new (Wide as unknown as new () => Record<string, string>)() : {};
}

function Wide(this: Record<string, string>, sized?: boolean): void {
  if (sized) {
    this.a = this.b = this.c = this.d = this.e = this.f = this.g = this.h = this.i = this.j = this.k = this.l = '';
    this.m = this.n = this.o = this.p = this.q = this.r = this.s = this.t = this.u = this.v = this.w = this.x = '';
  }
}
// Plain records, like `{}`: Object.prototype's members and constructor, and nothing else.
Wide.prototype = Object.prototype;

/** The first element named `name` among `elements` (an element's children). */
function childOf(elements: readonly ElementView[], name: string): ElementView | undefined {
  for (const c of elements) if (c.name === name) return c;
  return undefined;
}

/** The value of the first attribute named `name`. */
export function attrValue(attrs: readonly XmlAttr[], name: string): string | undefined {
  for (const a of attrs) if (a.name === name) return a.value;
  return undefined;
}

/** An exported event's System fields as text, in the order given; the ones an export left empty or out are dropped. */
export function systemFields(fields: Record<string, string | number | null>): Record<string, string> {
  const system: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== null && v !== '') system[k] = String(v);
  return system;
}

/** ISO 8601 with exactly 7 fractional digits (Windows' precision), whatever the source wrote; null if not ISO. */
export function normalizeTime(s: string | undefined): string | null {
  if (s !== undefined && isWindowsTime(s)) return s; // what binary EVTX holds: already in this form
  const m = s && /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(s.trim());
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(7, '0').slice(0, 7)}Z` : null;
}

/** `YYYY-MM-DDTHH:MM:SS.fffffffZ` exactly (the regex path would return it unchanged). */
function isWindowsTime(s: string): boolean {
  if (s.length !== 28 || s.charCodeAt(27) !== 0x5a || s.charCodeAt(19) !== 0x2e || s.charCodeAt(10) !== 0x54) return false;
  if (s.charCodeAt(4) !== 0x2d || s.charCodeAt(7) !== 0x2d || s.charCodeAt(13) !== 0x3a || s.charCodeAt(16) !== 0x3a) return false;
  for (let i = 0; i < TIME_DIGITS.length; i++) if ((s.charCodeAt(TIME_DIGITS[i]) - 0x30) >>> 0 > 9) return false; // not 0-9
  return true;
}
const TIME_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22, 23, 24, 25, 26];

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

function systemValues(system: ElementView): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of system.elements()) systemEntry(out, c.name, c.text(), c.attributes());
  return out;
}

/**
 * One System child: its text by its name (unless empty with attributes), its attributes by their System names.
 * `n`: the attributes are the first n of `attrs` (a reused list, binxml.ts readAttrs).
 */
export function systemEntry(out: Record<string, string>, name: string, text: string, attrs: readonly XmlAttr[], n = attrs.length): void {
  if (text !== '' || n === 0) out[name] = text;
  if (n === 0) return; // most System elements
  const rename = SYSTEM_ATTR_NAMES.get(name);
  for (let i = 0; i < n; i++) out[rename?.get(attrs[i].name) ?? attrs[i].name] = attrs[i].value;
}

/** One EventData child: by its name (a `Data` element: its Name attribute), in order when unnamed. */
export function dataEntry(named: Record<string, string>, unnamed: string[], name: string | undefined, text: string): void {
  if (name === undefined) unnamed.push(text);
  else if (text !== '' || name !== 'Binary') named[name] = text; // classic events carry an empty <Binary/>
}

/** The event's data: the named values (unnamed ones added as Data[i]), or the unnamed list when none is named. */
export function dataOf(named: Record<string, string>, unnamed: string[]): Record<string, string> | string[] {
  let hasNamed = false;
  for (const _ in named) {
    hasNamed = true;
    break;
  }
  if (!hasNamed) return unnamed;
  unnamed.forEach((v, i) => (named[`Data[${i}]`] = v));
  return named;
}

/**
 * EventData `<Data Name="N">` values by name (unnamed ones in order), other EventData children (a non-empty
 * `Binary`) by element name; UserData: the leaf elements of its single child, by element name, and
 * attributes as `Element.Attribute`.
 */
function eventData(top: readonly ElementView[]): Record<string, string> | string[] {
  const named: Record<string, string> = {};
  const unnamed: string[] = [];
  const ed = childOf(top, 'EventData');
  if (ed) {
    for (const c of ed.elements()) dataEntry(named, unnamed, c.name === 'Data' ? attrValue(c.attributes(), 'Name') : c.name, c.text());
  }
  const ud = childOf(top, 'UserData');
  if (ud) for (const c of ud.elements()) leaves(c, named);
  return dataOf(named, unnamed);
}

function leaves(e: ElementView, out: Record<string, string>): void {
  const children = e.elements();
  for (const c of children) leaves(c, out);
  leafEntry(out, e.name, children.length === 0 ? e.text() : null, e.attributes());
}

/**
 * One UserData element, after its children: its text when it has none (`text` not null), its first `n` attributes.
 * `keys`: where a reader keeps the attributes' keys from record to record.
 */
export function leafEntry(out: Record<string, string>, name: string, text: string | null, attrs: readonly XmlAttr[], n = attrs.length, keys?: LeafKeys): void {
  if (text !== null) out[name] = text;
  for (let i = 0; i < n; i++) {
    const a = attrs[i].name;
    if (!a.startsWith('xmlns')) out[keys ? keys.key(name, a) : `${name}.${a}`] = attrs[i].value;
  }
}

/**
 * The `Element.Attribute` keys of UserData attributes, each made once (binxml.ts keeps one per chunk, so they are
 * bounded by its names): a key built per record was a new string to hash and look up for every value (CAPI2
 * records have a dozen), a tenth of reading them.
 */
export class LeafKeys {
  private readonly byElement = new Map<string, Map<string, string>>();

  key(element: string, attr: string): string {
    let byAttr = this.byElement.get(element);
    if (byAttr === undefined) this.byElement.set(element, (byAttr = new Map()));
    let k = byAttr.get(attr);
    if (k === undefined) byAttr.set(attr, (k = `${element}.${attr}`));
    return k;
  }
}
