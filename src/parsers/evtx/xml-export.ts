// Event logs exported as XML (`wevtutil qe /f:xml`, Event Viewer "Save as XML"): a sequence of <Event> elements,
// optionally inside <Events>, in UTF-8 or UTF-16. Parsed into the same tree and record model as binary EVTX.

import { StringDecoder } from 'node:string_decoder';
import { startsWithChar } from '../text-encoding.js';
import type { EvtxProblem } from './chunk.js';
import { toEvent, type EvtxEvent } from './event.js';
import { XML_ENTITIES, type XmlAttr, type XmlElement, type XmlNode } from './tree.js';

const EVENT_NS = /<Event\s+xmlns\s*=\s*["']http:\/\/schemas\.microsoft\.com\/win\/2004\/08\/events\/event["']/;

/** UTF-16LE when the head has a UTF-16 BOM or NULs in the odd bytes of its start. */
function isUtf16(head: Buffer): boolean {
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return true;
  return head.length >= 4 && head[0] !== 0 && head[1] === 0 && head[3] === 0;
}

/** True when the file starts like an XML event export (judged from its content, not its name). */
export function isXmlEventExport(head: Buffer): boolean {
  const enc = isUtf16(head) ? 'utf16le' : 'utf8';
  if (!startsWithChar(head, '<', enc)) return false;
  const text = head.toString(enc, 0, Math.min(head.length, 8192));
  const start = text.replace(/^\uFEFF/, '').trimStart();
  return start.startsWith('<') && EVENT_NS.test(start);
}

function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (m, e: string) => {
    if (e[0] !== '#') return XML_ENTITIES.get(e) ?? m;
    const code = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : m;
  });
}


/** A small non-validating XML parser for one <Event> element's text. Throws on unbalanced tags. */
export function parseXmlFragment(xml: string): XmlNode[] {
  const root: XmlElement = { name: '', attrs: [], children: [] };
  const stack: XmlElement[] = [root];
  let pos = 0;
  while (pos < xml.length) {
    const lt = xml.indexOf('<', pos);
    const top = stack[stack.length - 1];
    if (lt < 0 || lt > pos) {
      const text = xml.slice(pos, lt < 0 ? xml.length : lt);
      if (top !== root) addText(top, decodeEntities(text));
      if (lt < 0) break;
    }
    if (xml.startsWith('<!--', lt)) pos = skipPast(xml, lt, '-->');
    else if (xml.startsWith('<![CDATA[', lt)) {
      const end = skipPast(xml, lt, ']]>');
      addText(top, xml.slice(lt + 9, end - 3));
      pos = end;
    } else if (xml[lt + 1] === '?' || xml[lt + 1] === '!') pos = skipPast(xml, lt, '>');
    else if (xml[lt + 1] === '/') {
      const end = skipPast(xml, lt, '>');
      const name = xml.slice(lt + 2, end - 1).trim();
      if (stack.length < 2 || top.name !== name) throw new Error(`unbalanced </${name}>`);
      dropIndentation(top);
      stack.pop();
      pos = end;
    } else {
      const end = skipPast(xml, lt, '>');
      const selfClosing = xml[end - 2] === '/';
      const body = xml.slice(lt + 1, selfClosing ? end - 2 : end - 1);
      const nameEnd = body.search(/[\s/]|$/);
      const el: XmlElement = { name: body.slice(0, nameEnd), attrs: parseAttrs(body.slice(nameEnd)), children: [] };
      top.children.push(el);
      if (!selfClosing) stack.push(el);
      pos = end;
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1].name}>`);
  return root.children;
}

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isNameEnd = (c: string): boolean => isSpace(c) || c === '=' || c === '/' || c === '>';

/**
 * `name = "value"` pairs of a start tag, in one left-to-right pass. (The regex it replaces restarted inside every
 * name run and every unclosed quote: a 40 KB tag took 4.4 s.) Text that is not a pair is skipped, as before.
 */
function parseAttrs(s: string): XmlAttr[] {
  const attrs: XmlAttr[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && isNameEnd(s[i])) i++;
    const nameStart = i;
    while (i < s.length && !isNameEnd(s[i])) i++;
    let j = i;
    while (j < s.length && isSpace(s[j])) j++;
    if (i === nameStart || s[j] !== '=') continue;
    j++;
    while (j < s.length && isSpace(s[j])) j++;
    const quote = s[j];
    if (quote !== '"' && quote !== "'") {
      i = j;
      continue;
    }
    const close = s.indexOf(quote, j + 1);
    if (close < 0) break;
    attrs.push({ name: s.slice(nameStart, i), value: decodeEntities(s.slice(j + 1, close)) });
    i = close + 1;
  }
  return attrs;
}

/** Pretty-printing whitespace between child elements is not content. */
function dropIndentation(e: XmlElement): void {
  if (e.children.some((c) => typeof c !== 'string')) e.children = e.children.filter((c) => typeof c !== 'string' || c.trim() !== '');
}

function addText(e: XmlElement, s: string): void {
  const c = e.children;
  if (c.length && typeof c[c.length - 1] === 'string') c[c.length - 1] = (c[c.length - 1] as string) + s;
  else c.push(s);
}

function skipPast(xml: string, from: number, token: string): number {
  const i = xml.indexOf(token, from);
  if (i < 0) throw new Error('truncated markup');
  return i + token.length;
}

/** Longest single event accepted; a larger one is reported and skipped so memory stays bounded. */
const MAX_EVENT_CHARS = 4 * 1024 * 1024;

/** Streams events from an XML export given as byte blocks; yields the events completed by each block. */
export async function* readXmlExportStream(blocks: AsyncIterable<Buffer>, problems: EvtxProblem[]): AsyncGenerator<EvtxEvent[]> {
  let decoder: StringDecoder | null = null;
  let unit = 1;
  let text = '';
  let base = 0; // character offset of text[0] in the file
  for await (const block of blocks) {
    if (!decoder) {
      const utf16 = isUtf16(block);
      decoder = new StringDecoder(utf16 ? 'utf16le' : 'utf8');
      unit = utf16 ? 2 : 1;
    }
    text += decoder.write(block);
    const batch: EvtxEvent[] = [];
    let cut = 0;
    for (;;) {
      const start = nextEventStart(text, cut);
      if (start < 0) break;
      const end = text.indexOf('</Event>', start);
      if (end < 0) {
        cut = start;
        break;
      }
      cut = end + 8;
      const at = (base + start) * unit;
      try {
        batch.push(toEvent(parseXmlFragment(text.slice(start, cut)), at, null, null));
      } catch (err) {
        problems.push({ offset: at, reason: `malformed XML event: ${(err as Error).message}` });
      }
    }
    if (nextEventStart(text, cut) < 0) cut = Math.max(cut, text.length - 16); // keep a possibly split "<Event"
    if (text.length - cut > MAX_EVENT_CHARS) {
      problems.push({ offset: (base + cut) * unit, reason: 'XML event larger than 4 MiB, skipped' });
      cut = text.length;
    }
    base += cut;
    text = text.slice(cut);
    if (batch.length) yield batch;
  }
}

/** Index of the next `<Event` start tag (not `<Events>` or `<EventData>`), or -1. */
function nextEventStart(text: string, from: number): number {
  for (let i = text.indexOf('<Event', from); i >= 0; i = text.indexOf('<Event', i + 6)) {
    const c = text[i + 6];
    if (c === '>' || c === ' ' || c === '\t' || c === '\r' || c === '\n') return i;
  }
  return -1;
}
