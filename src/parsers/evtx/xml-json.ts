// Event XML that another tool turned into JSON with Newtonsoft.Json's JsonConvert.SerializeXmlNode (EvtxECmd's
// Payload column and --fj lines, EricZimmerman/evtx EvtxECmd/Program.cs) or Python's xmltodict (the same
// convention): attributes as "@Name", an element's text as "#text" when it also has attributes, a text-only element
// as its string, an empty element as null (or "" for <x></x>), and siblings of one name grouped into an array —
// a single <Data> is an object or a string, never an array of one. Read back into the values the XML model gives
// (event.ts): EventData <Data Name="N"> by name, unnamed <Data> in order, a non-empty <Binary>, UserData leaves by
// element name and attributes as `Element.Attribute` (namespace declarations dropped).

import { dataEntry, dataOf } from './event.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

/** `text` parsed, or undefined when it is not JSON. */
export function parseJson(text: string): Json | undefined {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

export const isJsonObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A leaf's text: a string or number as is, null (empty element) as ''; an object's "#text" (or CDATA). */
export function xmlText(v: Json | undefined): string | null {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (isJsonObject(v)) {
    const t = v['#text'] ?? v['#cdata-section'];
    return t === undefined ? '' : typeof t === 'string' ? t : Array.isArray(t) ? t.map((x) => xmlText(x) ?? '').join('') : xmlText(t);
  }
  return null;
}

/**
 * `read()`, or null when the JSON is nested so deep that reading it overflows the stack (hostile: event XML is a few
 * levels deep, but JSON.parse accepts any depth and the readers here recurse).
 */
export function withinStack<T>(read: () => T): T | null {
  try {
    return read();
  } catch (err) {
    if (err instanceof RangeError) return null;
    throw err;
  }
}

/** Every entry of one element name: the array's items, or the single value. */
const each = (v: Json): Json[] => (Array.isArray(v) ? v : [v]);

const isAttr = (k: string) => k.charCodeAt(0) === 0x40; // '@'
const isXmlns = (k: string) => k === '@xmlns' || k.startsWith('@xmlns:');

/**
 * The data of `{"EventData": …}` and/or `{"UserData": …}` (an event object or EvtxECmd's Payload), in the XML
 * model's shape and key order.
 */
export function dataOfXmlJson(body: JsonObject): Record<string, string> | string[] {
  const named: Record<string, string> = {};
  const unnamed: string[] = [];
  const ed = body.EventData;
  if (isJsonObject(ed)) {
    for (const [k, v] of Object.entries(ed)) {
      if (isAttr(k) || k.charCodeAt(0) === 0x23) continue; // EventData's own attributes, stray text
      for (const item of each(v)) {
        const name = k !== 'Data' ? k : isJsonObject(item) && typeof item['@Name'] === 'string' ? item['@Name'] : undefined;
        dataEntry(named, unnamed, name, xmlText(item) ?? JSON.stringify(item));
      }
    }
  }
  const ud = body.UserData;
  if (isJsonObject(ud)) {
    for (const [k, v] of Object.entries(ud)) if (!isAttr(k) && k.charCodeAt(0) !== 0x23) for (const item of each(v)) leaves(k, item, named);
  }
  return dataOf(named, unnamed);
}

/** As event.ts `leaves`: children first (depth first), a childless element's text, then its attributes. */
function leaves(name: string, v: Json, out: Record<string, string>): void {
  if (!isJsonObject(v)) {
    out[name] = xmlText(v) ?? JSON.stringify(v);
    return;
  }
  let hasChild = false;
  for (const [k, c] of Object.entries(v)) {
    if (isAttr(k) || k.charCodeAt(0) === 0x23) continue;
    hasChild = true;
    for (const item of each(c)) leaves(k, item, out);
  }
  if (!hasChild) out[name] = xmlText(v) ?? '';
  for (const [k, a] of Object.entries(v)) if (isAttr(k) && !isXmlns(k)) out[`${name}.${k.slice(1)}`] = xmlText(a) ?? JSON.stringify(a);
}

/** System values as event.ts flattens them, from the same convention (EvtxECmd --fj, xmltodict). */
export function systemOfXmlJson(system: JsonObject, renames: ReadonlyMap<string, ReadonlyMap<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(system)) {
    if (isAttr(k) || k.charCodeAt(0) === 0x23) continue;
    const attrs = isJsonObject(v) ? Object.entries(v).filter(([a]) => isAttr(a) && !isXmlns(a)) : [];
    const text = xmlText(v);
    if (text !== null && (text !== '' || attrs.length === 0)) out[k] = text;
    const rename = renames.get(k);
    for (const [a, av] of attrs) out[rename?.get(a.slice(1)) ?? a.slice(1)] = xmlText(av) ?? '';
  }
  return out;
}
