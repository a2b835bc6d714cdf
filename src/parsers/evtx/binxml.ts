// BinXML (the binary XML inside EVTX records): tokens -> template trees (cached per chunk) -> rendered XML nodes.
// Offsets are chunk-relative, as BinXML name and template references are. Every read is bounds-checked against
// the chunk so hostile input fails with an EvtxError instead of reading garbage or throwing a RangeError.

import { ParseError } from '../types.js';
import {
  FiletimeText,
  guidString,
  hex64,
  hexString,
  i64String,
  sidString,
  systemtimeIso,
  u64String,
  utf16,
} from './bytes.js';
import { textOfNodes, XML_ENTITIES, type XmlAttr, type XmlElement, type XmlNode, type XmlPI } from './tree.js';

/** Malformed EVTX data; `offset` is relative to the file when known, else to the chunk. */
export class EvtxError extends ParseError {
  override name = 'EvtxError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

// Template-tree nodes: elements and attribute values may hold substitution slots filled per record.
interface TSubst {
  k: 's';
  sub: number;
}
interface TElem {
  k: 'e';
  name: string;
  attrs: TAttr[];
  children: TNode[];
}
interface TAttr {
  name: string;
  parts: Array<string | TSubst>;
}
/** A template instance nested inside a template body: its values are literal, so it is rendered once. */
interface TResolved {
  k: 'r';
  nodes: XmlNode[];
  /** Its expanded size (see Budget), charged again wherever the cached body is instantiated. */
  size: number;
}
type TNode = string | TElem | TSubst | TResolved | XmlPI;

/** A substitution value: absent, rendered text, an array's items, or an embedded BinXML fragment. */
type Value = string | string[] | XmlNode[] | null;

/** Nesting guard: templates may embed BinXML values that embed templates; hostile files could loop. */
const MAX_DEPTH = 48;

/**
 * Most a record may expand to, in characters of text plus nodes. A template body may use one value in several
 * slots, and that value may instantiate the template again: the rendered tree doubles per level while the file
 * grows by a few bytes (40 levels in 1 KB). Real records expand to a few times their size, at most a 64 KiB chunk.
 */
export const MAX_RECORD_EXPANSION = 4 * 1024 * 1024;

/** What one record may still expand to; sizes of shared values are charged each time they are used. */
class Budget {
  left = MAX_RECORD_EXPANSION;
  constructor(private readonly pos: number) {}
  spend(n: number): void {
    this.left -= n;
    if (this.left < 0) throw new EvtxError(`record expands beyond ${MAX_RECORD_EXPANSION} characters (nested templates), skipped`, this.pos);
  }
}

/** The substitution values of one template instance, decoded, and their expanded sizes (two arrays, not an object each). */
interface Values {
  v: Value[];
  size: number[];
}

/** Per-chunk BinXML state: the name (string) cache and the template cache, both keyed by chunk offset. */
export class ChunkBinXml {
  private readonly names = new Map<number, string>();
  private readonly templates = new Map<number, TNode[]>();
  private readonly building = new Set<number>();
  /** > 0 while parsing a template body (element tokens then carry a dependency id). */
  private inTemplate = 0;
  private budget = new Budget(0);
  private readonly out = new Instantiator();
  /** Renders this chunk's FILETIME values (and the record headers' times, chunk.ts). */
  readonly times = new FiletimeText();

  constructor(readonly buf: Buffer) {}

  /** Renders the BinXML fragment at `[pos, end)` (a record body). */
  render(pos: number, end: number): XmlNode[] {
    this.budget = new Budget(pos);
    this.out.reset(this.budget);
    const nodes: TNode[] = [];
    this.content(pos, end, 0, nodes, false);
    return this.fragment(nodes);
  }

  /** Instantiates a parsed fragment; one template instance alone (the usual case) is already rendered. */
  private fragment(nodes: TNode[]): XmlNode[] {
    const only = nodes.length === 1 ? nodes[0] : null;
    if (only !== null && typeof only !== 'string' && only.k === 'r') {
      this.budget.spend(only.size); // as instantiating it would
      return only.nodes;
    }
    return this.out.nodes(nodes, NO_VALUES);
  }

  private fail(msg: string, pos: number): never {
    throw new EvtxError(msg, pos);
  }

  private need(pos: number, n: number, end: number): void {
    if (pos + n > end) this.fail('BinXML runs past the end of its data', pos);
  }

  /** Name structure at `off`: u32 next, u16 hash, u16 length, UTF-16 chars, u16 NUL. */
  private name(off: number): string {
    const cached = this.names.get(off);
    if (cached !== undefined) return cached;
    const buf = this.buf;
    if (off + 8 > buf.length) this.fail('name offset outside the chunk', off);
    const len = buf.readUInt16LE(off + 6);
    if (off + 8 + len * 2 > buf.length) this.fail('name runs past the chunk', off);
    const s = buf.toString('utf16le', off + 8, off + 8 + len * 2);
    this.names.set(off, s);
    return s;
  }

  /** Reads a name reference at `pos` (u32 offset); a name defined inline right here is skipped over. */
  private nameRef(pos: number, end: number): { name: string; pos: number } {
    this.need(pos, 4, end);
    const off = this.buf.readUInt32LE(pos);
    const name = this.name(off);
    pos += 4;
    if (off === pos) pos += 10 + this.buf.readUInt16LE(pos + 6) * 2;
    return { name, pos };
  }

  private plausibleName(field: number, end: number): boolean {
    if (field + 4 > end) return false;
    const off = this.buf.readUInt32LE(field);
    return off >= 0x80 && off <= field + 4;
  }

  /** Parses content tokens into `out` until EOF (fragment) or an end-element token (`inElement`). */
  private content(pos: number, end: number, depth: number, out: TNode[], inElement: boolean): number {
    const buf = this.buf;
    while (pos < end) {
      const tok = buf[pos];
      switch (tok & 0xbf) {
        case 0x00:
          if (inElement) this.fail('fragment ends inside an element', pos);
          return pos + 1;
        case 0x04:
          if (!inElement) this.fail('end-element token outside an element', pos);
          return pos + 1;
        case 0x01:
          pos = this.element(pos, end, depth, out);
          break;
        case 0x0a:
          pos = this.pi(pos, end, out);
          break;
        case 0x0c:
          pos = this.templateInstance(pos, end, depth, out);
          break;
        case 0x0f:
          pos += 4;
          break;
        default:
          pos = this.valueToken(pos, end, out);
      }
    }
    if (inElement) this.fail('element runs past the end of its data', pos);
    return pos;
  }

  /** Value-like tokens allowed both in content and in attribute values. Returns the position after the token. */
  private valueToken(pos: number, end: number, out: TNode[]): number {
    const buf = this.buf;
    const tok = buf[pos];
    switch (tok & 0xbf) {
      case 0x05: {
        this.need(pos, 4, end);
        const type = buf[pos + 1];
        if (type !== 0x01) this.fail(`value token of type 0x${type.toString(16)}`, pos);
        const stop = pos + 4 + buf.readUInt16LE(pos + 2) * 2;
        this.need(stop, 0, end);
        out.push(buf.toString('utf16le', pos + 4, stop));
        return stop;
      }
      case 0x07: {
        this.need(pos, 3, end);
        const stop = pos + 3 + buf.readUInt16LE(pos + 1) * 2;
        this.need(stop, 0, end);
        out.push(buf.toString('utf16le', pos + 3, stop));
        return stop;
      }
      case 0x08:
        this.need(pos, 3, end);
        out.push(String.fromCharCode(buf.readUInt16LE(pos + 1)));
        return pos + 3;
      case 0x09: {
        const r = this.nameRef(pos + 1, end);
        out.push(XML_ENTITIES.get(r.name) ?? `&${r.name};`);
        return r.pos;
      }
      case 0x0d:
      case 0x0e:
        this.need(pos, 4, end);
        out.push({ k: 's', sub: buf.readUInt16LE(pos + 1) });
        return pos + 4;
      default:
        return this.fail(`unexpected BinXML token 0x${tok.toString(16)}`, pos);
    }
  }

  /**
   * Open-start-element: [u16 dependency id], u32 data size, name ref, [u32 attribute list size, attributes].
   * Template bodies carry the dependency id; raw BinXML (e.g. forwarded WEC events) does not. The layout whose
   * name offset is plausible wins: names are defined at first use, so a reference never points forward.
   */
  private element(pos: number, end: number, depth: number, out: TNode[]): number {
    if (depth > MAX_DEPTH) this.fail('BinXML nested too deeply', pos);
    const buf = this.buf;
    const hasAttrs = (buf[pos] & 0x40) !== 0;
    const preferred = this.inTemplate > 0 ? 7 : 5;
    const other = 12 - preferred;
    const r = this.nameRef(pos + (this.plausibleName(pos + preferred, end) || !this.plausibleName(pos + other, end) ? preferred : other), end);
    pos = r.pos;
    const attrs: TAttr[] = [];
    if (hasAttrs) {
      pos += 4;
      while (pos < end && (buf[pos] & 0xbf) === 0x06) pos = this.attribute(pos, end, attrs);
    }
    this.need(pos, 1, end);
    const children: TNode[] = [];
    if (buf[pos] === 0x02) pos = this.content(pos + 1, end, depth + 1, children, true);
    else if (buf[pos] === 0x03) pos += 1;
    else this.fail(`expected close-start-element, found 0x${buf[pos].toString(16)}`, pos);
    out.push({ k: 'e', name: r.name, attrs, children });
    return pos;
  }

  /** Attribute: name ref, then its value tokens (text, substitutions, character and entity references). */
  private attribute(pos: number, end: number, attrs: TAttr[]): number {
    const r = this.nameRef(pos + 1, end);
    pos = r.pos;
    const parts: TNode[] = [];
    while (pos < end && ATTR_VALUE_TOKENS.has(this.buf[pos] & 0xbf)) pos = this.valueToken(pos, end, parts);
    attrs.push({ name: r.name, parts: parts as Array<string | TSubst> });
    return pos;
  }

  /** Processing instruction: target name ref, then a PI-data token (u16 length + UTF-16). */
  private pi(pos: number, end: number, out: TNode[]): number {
    const r = this.nameRef(pos + 1, end);
    pos = r.pos;
    const buf = this.buf;
    this.need(pos, 3, end);
    if (buf[pos] !== 0x0b) this.fail('processing-instruction target without data', pos);
    const stop = pos + 3 + buf.readUInt16LE(pos + 1) * 2;
    this.need(stop, 0, end);
    out.push({ k: 'pi', target: r.name, data: buf.toString('utf16le', pos + 3, stop) });
    return stop;
  }

  /**
   * Template instance: u8, u32 template id, u32 definition offset; the definition (u32 next, GUID, u32 size, BinXML)
   * follows inline the first time a chunk uses it. Then u32 value count, count × (u16 size, u8 type, u8 pad), values.
   */
  private templateInstance(pos: number, end: number, depth: number, out: TNode[]): number {
    const buf = this.buf;
    this.need(pos, 10, end);
    const defOff = buf.readUInt32LE(pos + 6);
    pos += 10;
    if (defOff === pos) {
      this.need(pos, 24, end);
      pos += 24 + buf.readUInt32LE(pos + 20);
    }
    const body = this.template(defOff, depth);
    this.need(pos, 4, end);
    const count = buf.readUInt32LE(pos);
    pos += 4;
    this.need(pos, count * 4, end);
    let vpos = pos + count * 4;
    const values: Values = { v: new Array(count), size: new Array(count) };
    for (let i = 0; i < count; i++) {
      const size = buf.readUInt16LE(pos + i * 4);
      const type = buf[pos + i * 4 + 2];
      this.need(vpos, size, end);
      this.value(type, vpos, size, depth, values, i);
      vpos += size;
    }
    const before = this.budget.left;
    const nodes = this.out.nodes(body, values);
    out.push({ k: 'r', nodes, size: before - this.budget.left });
    return vpos;
  }

  /** The template body at chunk offset `off`, parsed once per chunk. */
  private template(off: number, depth: number): TNode[] {
    const cached = this.templates.get(off);
    if (cached) return cached;
    const buf = this.buf;
    if (off + 24 > buf.length) this.fail('template offset outside the chunk', off);
    if (this.building.has(off)) this.fail('template refers to itself', off);
    const start = off + 24;
    const stop = Math.min(start + buf.readUInt32LE(off + 20), buf.length);
    const body: TNode[] = [];
    this.building.add(off);
    this.inTemplate++;
    try {
      this.content(start, stop, depth + 1, body, false);
    } finally {
      this.building.delete(off);
      this.inTemplate--;
    }
    this.templates.set(off, body);
    return body;
  }

  /** Decodes one substitution value into `values` at `i` (arrays have bit 0x80 set). */
  private value(type: number, off: number, size: number, depth: number, values: Values, i: number): void {
    if (size === 0 || type === 0x00) {
      values.v[i] = null;
      values.size[i] = 0;
      return;
    }
    if (type === 0x21 || type === 0x23) {
      const nodes: TNode[] = [];
      const saved = this.inTemplate;
      this.inTemplate = 0; // an embedded fragment is raw BinXML even inside a template instance
      try {
        this.content(off, off + size, depth + 1, nodes, false);
      } finally {
        this.inTemplate = saved;
      }
      const before = this.budget.left;
      values.v[i] = this.fragment(nodes);
      values.size[i] = before - this.budget.left;
      return;
    }
    values.v[i] = type & 0x80 ? arrayValue(this.buf, type & 0x7f, off, size, this.times) : scalar(this.buf, type, off, size, this.times);
    values.size[i] = 3 * size; // scalars and arrays render to a bounded multiple of their bytes (hex: 3 per byte)
  }
}

const ATTR_VALUE_TOKENS = new Set([0x05, 0x07, 0x08, 0x09, 0x0d, 0x0e]);

/** Fixed element widths of the scalar value types (0 = variable). */
const WIDTH: Record<number, number> = {
  0x03: 1, 0x04: 1, 0x05: 2, 0x06: 2, 0x07: 4, 0x08: 4, 0x09: 8, 0x0a: 8, 0x0b: 4, 0x0c: 8,
  0x0d: 4, 0x0f: 16, 0x11: 8, 0x12: 16, 0x14: 4, 0x15: 8,
};

/** Renders one scalar value; a value too short for its type is rendered as hex rather than misread. */
export function scalar(buf: Buffer, type: number, off: number, size: number, times: FiletimeText): string {
  const w = WIDTH[type];
  if (w !== undefined && size < w) return hexString(buf, off, off + size);
  switch (type) {
    case 0x01: return utf16(buf, off, off + size);
    case 0x02: return ansi(buf, off, off + size);
    case 0x03: return String(buf.readInt8(off));
    case 0x04: return String(buf[off]);
    case 0x05: return String(buf.readInt16LE(off));
    case 0x06: return String(buf.readUInt16LE(off));
    case 0x07: return String(buf.readInt32LE(off));
    case 0x08: return String(buf.readUInt32LE(off));
    case 0x09: return i64String(buf, off);
    case 0x0a: return u64String(buf, off);
    case 0x0b: return String(buf.readFloatLE(off));
    case 0x0c: return String(buf.readDoubleLE(off));
    case 0x0d: return buf.readUInt32LE(off) !== 0 ? 'true' : 'false';
    case 0x0f: return guidString(buf, off);
    case 0x10: return size >= 8 ? hex64(buf, off) : size >= 4 ? '0x' + buf.readUInt32LE(off).toString(16) : hexString(buf, off, off + size);
    case 0x11: return times.render(buf, off) ?? hexString(buf, off, off + 8);
    case 0x12: return systemtimeIso(buf, off);
    case 0x13: return sidString(buf, off, size) ?? hexString(buf, off, off + size);
    case 0x14: return '0x' + buf.readUInt32LE(off).toString(16);
    case 0x15: return hex64(buf, off);
    default: return hexString(buf, off, off + size); // binary (0x0e), EvtHandle and unknown types
  }
}

function ansi(buf: Buffer, start: number, end: number): string {
  while (end > start && buf[end - 1] === 0) end--;
  return buf.toString('latin1', start, end);
}

/** Array values: NUL-separated strings, or consecutive fixed-width items. */
function arrayValue(buf: Buffer, type: number, off: number, size: number, times: FiletimeText): string[] {
  const end = off + size;
  if (type === 0x01) return utf16(buf, off, end).split('\0');
  if (type === 0x02) return ansi(buf, off, end).split('\0');
  const items: string[] = [];
  if (type === 0x13) {
    for (let p = off; p + 8 <= end; p += 8 + buf[p + 1] * 4) items.push(scalar(buf, type, p, Math.min(8 + buf[p + 1] * 4, end - p), times));
    return items;
  }
  const w = WIDTH[type] ?? (type === 0x10 ? (size % 8 === 0 ? 8 : 4) : size);
  for (let p = off; p + w <= end; p += w) items.push(scalar(buf, type, p, w, times));
  return items;
}

const isStringArray = (v: Value): v is string[] => Array.isArray(v) && (v.length === 0 || typeof v[0] === 'string');

/** An element whose whole content is one array substitution; Windows renders it once per item. */
function arraySlot(e: TElem, values: Values): string[] | null {
  if (e.children.length !== 1) return null;
  const c = e.children[0];
  if (typeof c === 'string' || c.k !== 's' || c.sub >= values.v.length) return null;
  const v = values.v[c.sub];
  return isStringArray(v) ? v : null;
}

const NO_VALUES: Values = { v: [], size: [] };
/**
 * One frozen empty list for every element without attributes or content (most System elements have no
 * attributes): an empty array per element was a tenth of what a record allocates. Nothing edits a rendered tree.
 */
const NONE: never[] = [];

/**
 * Instantiates template nodes with substitution values, charging the budget for everything placed: a value used
 * in two slots is charged twice, so the exponential shapes stop at the budget instead of when memory runs out.
 * Nodes are gathered on one stack and copied out in exact-size arrays: an array grown by `push` reserves 17
 * slots, and those reserves were most of the reader's garbage (two per element).
 */
class Instantiator {
  private readonly stack: XmlNode[] = [];
  private top = 0;
  private high = 0;
  private budget = new Budget(0);

  /** Starts a record: forgets what an aborted record left on the stack. */
  reset(budget: Budget): void {
    this.stack.fill('', 0, this.high); // drop references to the last record's nodes
    this.top = this.high = 0;
    this.budget = budget;
  }

  nodes(nodes: readonly TNode[], values: Values): XmlNode[] {
    const start = this.top;
    this.resolve(nodes, values, start);
    const out = this.top === start ? NONE : this.stack.slice(start, this.top);
    if (this.top > this.high) this.high = this.top;
    this.top = start;
    return out;
  }

  private push(x: XmlNode): void {
    this.stack[this.top++] = x;
  }

  /** Text joins the text node before it, as in the rendered XML. */
  private pushText(s: string, start: number): void {
    const last = this.top - 1;
    if (last >= start && typeof this.stack[last] === 'string') this.stack[last] = (this.stack[last] as string) + s;
    else this.push(s);
  }

  private resolve(nodes: readonly TNode[], values: Values, start: number): void {
    const budget = this.budget;
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i];
      if (typeof n === 'string') {
        budget.spend(n.length);
        this.pushText(n, start);
      } else if (n.k === 'e') {
        const items = arraySlot(n, values);
        if (!items) this.push(this.element(n, values, null));
        else for (const item of items) this.push(this.element(n, values, item));
      } else if (n.k === 's') {
        if (n.sub >= values.v.length) continue;
        budget.spend(values.size[n.sub]);
        const v = values.v[n.sub];
        if (typeof v === 'string') this.pushText(v, start);
        else if (v && isStringArray(v)) this.pushText(v.join(', '), start);
        else if (v) for (const x of v) this.push(x);
      } else if (n.k === 'r') {
        budget.spend(n.size);
        for (const x of n.nodes) this.push(x);
      } else this.push(n);
    }
  }

  /** `arrayItem` (one item of an array slot) replaces the element's content when given. */
  private element(e: TElem, values: Values, arrayItem: string | null): XmlElement {
    const budget = this.budget;
    budget.spend(1 + (arrayItem?.length ?? 0));
    const attrs: XmlAttr[] = e.attrs.length === 0 ? NONE : new Array(e.attrs.length);
    let kept = 0;
    for (const a of e.attrs) {
      let value = '';
      let substituted = false;
      for (const p of a.parts) {
        if (typeof p === 'string') value += p;
        else {
          substituted = true;
          if (p.sub >= values.v.length) continue;
          budget.spend(values.size[p.sub]);
          const v = values.v[p.sub];
          if (typeof v === 'string') value += v;
          else if (isStringArray(v)) value += v.join(', ');
          else if (v) value += textOfNodes(v);
        }
      }
      // Windows omits an attribute whose only content is an empty substitution (e.g. Correlation ActivityID).
      if (value !== '' || !substituted) attrs[kept++] = { name: a.name, value };
    }
    if (kept < attrs.length) attrs.length = kept;
    const children = arrayItem === null ? this.nodes(e.children, values) : arrayItem === '' ? NONE : [arrayItem];
    return { name: e.name, attrs, children };
  }
}
