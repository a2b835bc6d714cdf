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
  latin1,
  sidString,
  systemtimeIso,
  u64String,
  utf16,
  utf16le,
} from './bytes.js';
import { attrValue, dataEntry, dataOf, eventOf, leafEntry, LeafKeys, readEvent, recordFor, systemEntry, type EvtxEvent } from './event.js';
import { BuiltElement, isElement, textOfNodes, XML_ENTITIES, type ElementView, type XmlAttr, type XmlElement, type XmlNode, type XmlPI } from './tree.js';

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
  /** No value is substituted into its attributes: they render the same in every instance. */
  literal: boolean;
  /** Those rendered attributes, once built (shared by every instance). */
  fixed: XmlAttr[] | null;
  children: TNode[];
  /** The substitution that is its whole content (it may repeat per array item, see arraySlot), else -1. */
  slot: number;
  /** Its children are all elements (System's and EventData's usual shape): nothing in a value places them. */
  onlyElements: boolean;
  /** Its name as an EventData child (a `Data` element: its Name attribute), once worked out when literal; null: not yet. */
  dataKey: string | undefined | null;
}
interface TAttr {
  name: string;
  parts: Array<string | TSubst>;
  /** The substitution that is its whole value (SystemTime, ProcessID ...), else -1. */
  sub: number;
}
type TNode = string | TElem | TSubst | Instance | XmlPI;

/** A substitution value: absent, rendered text, an array's items, or an embedded BinXML fragment (rendered, or one template instance). */
type Value = string | string[] | XmlNode[] | Instance | null;

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

/**
 * The substitution values of one template instance, decoded. Their expanded sizes (see Budget) are needed only while
 * the instance is charged, so they live on a stack per chunk (ChunkBinXml.sizes), not beside the values.
 */
type Values = Value[];

/**
 * A template instance: the cached template body and this instance's values (or an embedded fragment's nodes, with
 * none: see ChunkBinXml.value). Its tree is built only when asked for
 * (`exhunt evtx dump --xml`, or an instance inside an embedded value): reading an event takes its System and
 * EventData values from the template in place (TemplateElement), and building a tree per record was a fifth of
 * the reader's time and most of its garbage.
 */
class Instance {
  readonly k = 'i';
  private built: XmlNode[] | null = null;
  constructor(
    readonly body: readonly TNode[],
    readonly values: Values,
    /** Its expanded size (see Budget), charged when it is read and again wherever it is placed. */
    readonly size: number,
  ) {}

  /** Its rendered nodes, built once (an instance inside a cached template body is placed in many records). */
  nodes(out: Instantiator = new Instantiator()): XmlNode[] {
    if (this.built === null) this.built = out.nodes(this.body, this.values);
    return this.built;
  }

  /** Its top-level element (the record's Event element), read in place. */
  root(): ElementView | undefined {
    return elementsIn(this.body, this.values, [])[0];
  }
}

/** Per-chunk BinXML state: the name (string) cache and the template cache, both keyed by chunk offset. */
export class ChunkBinXml {
  private readonly names = new Map<number, string>();
  private readonly templates = new Map<number, Template>();
  private readonly building = new Set<number>();
  /** > 0 while parsing a template body (element tokens then carry a dependency id). */
  private inTemplate = 0;
  private budget = new Budget(0);
  private readonly out = new Instantiator();
  /** Expanded sizes of the values being decoded, per instance from `sizeTop` on (nested instances above). */
  private sizes = new Float64Array(256);
  private sizeTop = 0;
  private readonly placed = new Placed();
  private readonly lists: TNode[][] = [];
  private listTop = 0;
  /** Renders this chunk's FILETIME values (and the record headers' times, chunk.ts). */
  readonly times = new FiletimeText();

  /** The chunk, for comparing values four bytes at a time (LastValues). */
  private readonly view: DataView;

  /** The name references of the template body being parsed, for the file's template cache; null: none kept. */
  private refs: TemplateRefs | null = null;

  constructor(
    readonly buf: Buffer,
    /** Templates of the file's earlier chunks (see TemplateCache); none: each chunk parses its own. */
    private readonly cache: TemplateCache | null = null,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /**
   * Reads the BinXML fragment at `[pos, end)` (a record body): one template instance alone (the usual record), not
   * yet rendered, or the rendered nodes of anything else.
   */
  render(pos: number, end: number): XmlNode[] | Instance {
    this.budget = new Budget(pos);
    this.out.reset();
    this.sizeTop = 0;
    this.listTop = 0;
    const nodes = this.list();
    this.content(pos, end, 0, nodes, false);
    const only = loneInstance(nodes);
    if (only === null) {
      const xml = this.fragment(nodes);
      this.release(nodes);
      return xml;
    }
    this.release(nodes);
    this.budget.spend(only.size); // as placing it would
    return only;
  }

  /**
   * An empty list for the nodes of a fragment being parsed, one of a stack reused record after record (a record's
   * and its embedded values'): a new array grown by push reserves 17 slots, two per record.
   */
  private list(): TNode[] {
    const a = (this.lists[this.listTop++] ??= []);
    if (a.length !== 0) a.length = 0; // left by a record that failed
    return a;
  }

  /** Gives the last list taken back, emptied (by pop: setting its length is a call into the runtime). */
  private release(a: TNode[]): void {
    while (a.length !== 0) a.pop();
    this.listTop--;
  }

  /** The event of a record that `render` gave as an instance: read in place (eventInPlace), else through views. */
  event(inst: Instance, offset: number, headerRecord: number): EvtxEvent {
    return eventInPlace(inst, offset, headerRecord, this.placed) ?? readEvent(inst.root(), inst, offset, headerRecord, null);
  }

  /** Instantiates a parsed fragment, charging the budget for everything it places. */
  private fragment(nodes: TNode[]): XmlNode[] {
    this.budget.spend(cost(nodes));
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
    const s = utf16le(buf, off + 8, off + 8 + len * 2);
    this.names.set(off, s);
    return s;
  }

  /** Reads a name reference at `pos` (u32 offset); a name defined inline right here is skipped over. */
  private nameRef(pos: number, end: number): { name: string; pos: number } {
    this.need(pos, 4, end);
    const off = this.buf.readUInt32LE(pos);
    const name = this.name(off);
    if (this.refs !== null) this.refs.add(pos, name, off === pos + 4);
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
        out.push(utf16le(buf, pos + 4, stop));
        return stop;
      }
      case 0x07: {
        this.need(pos, 3, end);
        const stop = pos + 3 + buf.readUInt16LE(pos + 1) * 2;
        this.need(stop, 0, end);
        out.push(utf16le(buf, pos + 3, stop));
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
    const usual = this.plausibleName(pos + preferred, end);
    // A template is kept for later chunks only when each name is where its layout puts it (see sameTemplate).
    if (!usual && this.refs !== null) this.refs.ok = false;
    const r = this.nameRef(pos + (usual || !this.plausibleName(pos + other, end) ? preferred : other), end);
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
    const only = children.length === 1 ? children[0] : null;
    const slot = only !== null && typeof only !== 'string' && only.k === 's' ? only.sub : -1;
    out.push({ k: 'e', name: r.name, attrs, literal: isLiteral(attrs), fixed: null, children, slot, onlyElements: onlyElements(children), dataKey: null });
    return pos;
  }

  /** Attribute: name ref, then its value tokens (text, substitutions, character and entity references). */
  private attribute(pos: number, end: number, attrs: TAttr[]): number {
    const r = this.nameRef(pos + 1, end);
    pos = r.pos;
    const parts: TNode[] = [];
    while (pos < end && isAttrValueToken(this.buf[pos])) pos = this.valueToken(pos, end, parts);
    const only = parts.length === 1 ? parts[0] : null;
    const sub = only !== null && typeof only !== 'string' && only.k === 's' ? only.sub : -1;
    attrs.push({ name: r.name, parts: parts as Array<string | TSubst>, sub });
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
    out.push({ k: 'pi', target: r.name, data: utf16le(buf, pos + 3, stop) });
    return stop;
  }

  /**
   * Template instance: u8, u32 template id, u32 definition offset; the definition (u32 next, GUID, u32 size, BinXML)
   * follows inline the first time a chunk uses it. Then u32 value count, count × (u16 size, u8 type, u8 pad), values.
   */
  private templateInstance(pos: number, end: number, depth: number, out: TNode[]): number {
    const buf = this.buf;
    if (this.refs !== null) this.refs.ok = false; // a template inside a template body: it refers to other definitions
    this.need(pos, 10, end);
    const defOff = buf.readUInt32LE(pos + 6);
    pos += 10;
    if (defOff === pos) {
      this.need(pos, 24, end);
      pos += 24 + buf.readUInt32LE(pos + 20);
    }
    const template = this.template(defOff, depth);
    this.need(pos, 4, end);
    const count = buf.readUInt32LE(pos);
    pos += 4;
    this.need(pos, count * 4, end);
    let vpos = pos + count * 4;
    const values: Values = new Array(count);
    const base = this.sizeTop;
    if (base + count > this.sizes.length) {
      const more = new Float64Array(2 * (base + count));
      more.set(this.sizes);
      this.sizes = more;
    }
    this.sizeTop += count;
    // The usual values (text first) are decoded here, the rest by `embedded`: one call per value less, a tenth of
    // decoding them.
    for (let i = 0, d = pos; i < count; i++, d += 4) {
      const size = buf[d] | (buf[d + 1] << 8);
      const type = buf[d + 2];
      this.need(vpos, size, end);
      if (size === 0 || type === 0x00) {
        values[i] = null;
        this.sizes[base + i] = 0;
      } else if (type === 0x21 || type === 0x23) this.embedded(vpos, size, depth, values, i, base);
      else {
        values[i] = type & 0x80 ? arrayValue(buf, type & 0x7f, vpos, size, this.times) : (template.last.text(this.view, i, vpos, size, type) ?? template.last.keep(i, vpos, size, type, type === 0x01 ? utf16(buf, vpos, vpos + size) : scalar(buf, type, vpos, size, this.times)));
        this.sizes[base + i] = 3 * size; // scalars and arrays render to a bounded multiple of their bytes (hex: 3 per byte)
      }
      vpos += size;
    }
    const size = template.cost(values, this.sizes, base);
    this.sizeTop = base;
    this.budget.spend(size);
    out.push(new Instance(template.body, values, size));
    return vpos;
  }

  /** The template body at chunk offset `off`, parsed once per chunk. */
  private template(off: number, depth: number): Template {
    const cached = this.templates.get(off);
    if (cached) return cached;
    const buf = this.buf;
    if (off + 24 > buf.length) this.fail('template offset outside the chunk', off);
    if (this.building.has(off)) this.fail('template refers to itself', off);
    const start = off + 24;
    const stop = Math.min(start + buf.readUInt32LE(off + 20), buf.length);
    // A definition wiped (zeroed) where it was written would otherwise instantiate as an empty template: the
    // record would read with no EventData at all (a command line, a cmdlet gone without a word).
    if (isZeroed(buf, off + 4, stop)) this.fail('its template definition is zeroed (damaged): record not read', off);
    const known = this.cache?.candidates(buf, off);
    if (known) {
      for (const k of known) {
        if (depth <= k.depth && this.sameTemplate(k, off)) {
          const template = k.template.again();
          this.templates.set(off, template);
          return template;
        }
      }
    }
    const body: TNode[] = [];
    const saved = this.refs;
    const refs = this.cache !== null && this.cache.room() ? new TemplateRefs() : null;
    this.refs = refs;
    this.building.add(off);
    this.inTemplate++;
    try {
      this.content(start, stop, depth + 1, body, false);
    } finally {
      this.building.delete(off);
      this.inTemplate--;
      this.refs = saved;
    }
    const template = new Template(body);
    this.templates.set(off, template);
    if (refs !== null && refs.ok && stop === start + buf.readUInt32LE(off + 20)) this.cache?.keep(buf, off, stop, depth, refs, template);
    return template;
  }

  /**
   * Whether the template definition at `off` parses exactly as the kept one `k`: the same bytes (GUID, size, body),
   * except the name references' offsets, where the same names are defined inline at the same places or referred
   * to in this chunk (and the unused "next name" link of an inline name). Parsing depends on nothing else.
   */
  private sameTemplate(k: KeptTemplate, off: number): boolean {
    const v = this.view;
    const b = k.bytes;
    const base = off + 4; // k.bytes starts at the GUID
    if (base + b.byteLength > this.buf.length) return false;
    let at = 0;
    for (let j = 0; j <= k.fields.length; j++) {
      const to = j < k.fields.length ? k.fields[j] : b.byteLength;
      let i = at;
      for (; i + 4 <= to; i += 4) if (v.getInt32(base + i, true) !== b.getInt32(i, true)) return false;
      for (; i < to; i++) if (v.getUint8(base + i) !== b.getUint8(i)) return false;
      if (j === k.fields.length) break;
      const field = base + to;
      const ref = v.getUint32(field, true);
      if (k.inline[j]) {
        if (ref !== field + 4) return false;
        at = to + 8; // past the name's "next" link
      } else {
        if (ref === field + 4 || ref < 0x80 || ref > field + 4) return false;
        try {
          if (this.name(ref) !== k.names[j]) return false;
        } catch {
          return false; // parsing reports it
        }
        at = to + 4;
      }
    }
    return true;
  }

  /** Decodes an embedded BinXML value (type 0x21 or 0x23) into `values` at `i`, its size into `sizes[base + i]`. */
  private embedded(off: number, size: number, depth: number, values: Values, i: number, base: number): void {
    const nodes = this.list();
    const saved = this.inTemplate;
    this.inTemplate = 0; // an embedded fragment is raw BinXML even inside a template instance
    try {
      this.content(off, off + size, depth + 1, nodes, false);
    } finally {
      this.inTemplate = saved;
    }
    // One template instance alone (the usual embedded value) stays unbuilt, like a record's (see Instance), and so
    // does any other fragment, as an instance without values (CAPI2's UserData, forwarded events): the event is
    // then read in place, and building and viewing the tree were two thirds of reading such records. Unless it
    // would place text first: a rendered value starting with text is taken for an array (isStringArray).
    const inst = loneInstance(nodes) ?? new Instance(nodes.slice(), NO_VALUES, cost(nodes));
    this.release(nodes);
    const before = this.budget.left;
    this.budget.spend(inst.size); // as placing it would
    values[i] = placesTextFirst(inst.body, inst.values) === false ? inst : inst.nodes(this.out);
    this.sizes[base + i] = before - this.budget.left;
  }
}

/**
 * The tokens an attribute value is made of (0x05, 0x07-0x09, 0x0d, 0x0e, as `tok & 0xbf`), one bit each: a Set
 * lookup per attribute token was 7% of reading CAPI2's records (attributes parsed per record).
 */
const ATTR_VALUE_TOKENS = (1 << 0x05) | (1 << 0x07) | (1 << 0x08) | (1 << 0x09) | (1 << 0x0d) | (1 << 0x0e);
const isAttrValueToken = (tok: number): boolean => (tok & 0xb0) === 0 && ((ATTR_VALUE_TOKENS >> (tok & 0x0f)) & 1) !== 0;

function loneInstance(nodes: readonly TNode[]): Instance | null {
  const only = nodes.length === 1 ? nodes[0] : null;
  return only !== null && typeof only !== 'string' && only.k === 'i' ? only : null;
}

function onlyElements(nodes: readonly TNode[]): boolean {
  for (const t of nodes) if (typeof t === 'string' || t.k !== 'e') return false;
  return true;
}

function isLiteral(attrs: readonly TAttr[]): boolean {
  for (const a of attrs) for (const p of a.parts) if (typeof p !== 'string') return false;
  return true;
}

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
  return latin1(buf, start, end);
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
  if (e.slot < 0 || e.slot >= values.length) return null;
  const v = values[e.slot];
  return isStringArray(v) ? v : null;
}

const NO_VALUES: Values = [];
/**
 * One frozen empty list for every element without attributes or content (most System elements have no
 * attributes): an empty array per element was a tenth of what a record allocates. Nothing edits a rendered tree.
 */
const NONE: never[] = [];

/**
 * What instantiating a fragment's `nodes` (no values: substitutions place nothing) places, in Budget units: an
 * instance is charged its size wherever it is placed, so the exponential shapes stop at the budget instead of when
 * memory runs out. Charged before anything is built (the Instantiator below places exactly this).
 */
function cost(nodes: readonly TNode[]): number {
  let n = 0;
  for (let i = 0; i < nodes.length; i++) {
    const t = nodes[i];
    if (typeof t === 'string') n += t.length;
    else if (t.k === 'e') n += 1 + cost(t.children);
    else if (t.k === 'i') n += t.size;
  }
  return n;
}

/**
 * The scalar values of a template's last instances, by value index, with where their bytes are in the chunk: a
 * record mostly repeats its predecessor's Channel, Computer, Keywords, user and domain names, SIDs and GUIDs, and
 * comparing their bytes is cheaper than rendering them again (a scalar's text depends on its type and bytes only).
 */
class LastValues {
  private at = new Int32Array(8);
  /** size << 8 | type; 0: none. */
  private kind = new Int32Array(8);
  private readonly texts: string[] = [];

  /** The text kept for value `i` when its bytes are those at `[off, off + size)`, of `type`. */
  text(chunk: DataView, i: number, off: number, size: number, type: number): string | undefined {
    if (i >= this.kind.length || this.kind[i] !== ((size << 8) | type)) return undefined;
    let a = this.at[i];
    let n = size;
    for (; n >= 4; n -= 4, a += 4, off += 4) if (chunk.getInt32(a, true) !== chunk.getInt32(off, true)) return undefined;
    for (; n > 0; n--, a++, off++) if (chunk.getUint8(a) !== chunk.getUint8(off)) return undefined;
    return this.texts[i];
  }

  keep(i: number, off: number, size: number, type: number, text: string): string {
    if (i >= this.kind.length) {
      const n = Math.max(2 * this.kind.length, i + 1);
      const at = new Int32Array(n);
      const kind = new Int32Array(n);
      at.set(this.at);
      kind.set(this.kind);
      this.at = at;
      this.kind = kind;
    }
    this.at[i] = off;
    this.kind[i] = (size << 8) | type;
    this.texts[i] = text;
    return text;
  }
}

/** Name references met while parsing a template body: each one's position, name, and whether defined right there. */
class TemplateRefs {
  readonly fields: number[] = [];
  readonly names: string[] = [];
  readonly inline: boolean[] = [];
  /** False when the body cannot be kept (see sameTemplate, ChunkBinXml.element, templateInstance). */
  ok = true;

  add(field: number, name: string, inline: boolean): void {
    this.fields.push(field);
    this.names.push(name);
    this.inline.push(inline);
  }
}

/** A template kept by TemplateCache: its definition's bytes from the GUID on, and its name references in them. */
interface KeptTemplate {
  bytes: DataView;
  /** Offsets in `bytes` of the name references, ascending; their names and whether each was defined inline. */
  fields: number[];
  names: string[];
  inline: boolean[];
  /** The nesting depth it was parsed at: deeper, the parse could fail (MAX_DEPTH) where this one did not. */
  depth: number;
  template: Template;
}

/**
 * Templates parsed in a file's earlier chunks, for its later ones. Each chunk defines the templates it uses again
 * (mostly the same few), and parsing them was a tenth of reading: a definition found again byte for byte, name
 * references aside (ChunkBinXml.sameTemplate), is taken from here. Bounded: the first MAX_KEPT_BYTES of definitions.
 */
export class TemplateCache {
  private readonly byKey = new Map<number, KeptTemplate[]>();
  private bytes = 0;

  /** Kept definitions that may be the one at `off` (same GUID start and size). */
  candidates(buf: Buffer, off: number): readonly KeptTemplate[] | undefined {
    return this.byKey.get(key(buf, off));
  }

  room(): boolean {
    return this.bytes < MAX_KEPT_BYTES;
  }

  keep(buf: Buffer, off: number, stop: number, depth: number, refs: TemplateRefs, template: Template): void {
    const k = key(buf, off);
    let list = this.byKey.get(k);
    if (list === undefined) this.byKey.set(k, (list = []));
    if (list.length >= 4) return; // one GUID's variants (names defined inline or not): a few
    const base = off + 4;
    const fields = refs.fields.map((f) => f - base);
    for (let i = 1; i < fields.length; i++) if (fields[i] <= fields[i - 1]) return; // not in order: not kept
    const copy = new Uint8Array(buf.subarray(base, stop)); // a copy: blocks may be reused buffers
    list.push({ bytes: new DataView(copy.buffer, copy.byteOffset, copy.byteLength), fields, names: refs.names, inline: refs.inline, depth, template });
    this.bytes += stop - base;
  }
}

/** Definitions kept, in bytes (each also kept parsed, a few times that): real logs' templates take a few hundred KiB. */
const MAX_KEPT_BYTES = 2 * 1024 * 1024;

/** A template definition's cache key: the first 4 bytes of its GUID and its size. */
function key(buf: Buffer, off: number): number {
  return (buf.readUInt32LE(off + 4) ^ Math.imul(buf.readUInt32LE(off + 20), 0x9e3779b1)) >>> 0;
}

/**
 * A parsed template body and what instantiating it costs (see cost), worked out once: a constant, the slots whose
 * value sizes are charged (once per use), and the elements that may repeat per item of an array value. Walking the
 * whole body per record for this was a tenth of the reader's time.
 */
class Template {
  private fixed = 0;
  private readonly subs: number[] = [];
  /** Elements that may repeat per array item (TElem.slot), charged above as placed once, and their slots. */
  private readonly slots: TElem[] = [];
  private readonly slotSubs: number[] = [];
  readonly last = new LastValues();

  constructor(
    readonly body: readonly TNode[],
    from?: Template,
  ) {
    if (from === undefined) this.costs(body);
    else {
      this.fixed = from.fixed;
      this.subs = from.subs;
      this.slots = from.slots;
      this.slotSubs = from.slotSubs;
    }
  }

  /** The same template for another chunk: its values' bytes (LastValues) are that chunk's. */
  again(): Template {
    return new Template(this.body, this);
  }

  /** `sizes[base + i]`: the expanded size of value `i`. */
  cost(values: Values, sizes: Float64Array, base: number): number {
    let n = this.fixed;
    const count = values.length;
    for (let i = 0; i < this.subs.length; i++) if (this.subs[i] < count) n += sizes[base + this.subs[i]];
    for (let i = 0; i < this.slots.length; i++) {
      const sub = this.slotSubs[i];
      if (sub >= count) continue;
      const v = values[sub];
      if (!isStringArray(v)) n += sizes[base + sub];
      else {
        // One element per item instead of one holding the value: each item's element and its attributes again.
        const e = this.slots[i];
        const each = 1 + attrCost(e, count, sizes, base);
        n += v.length * each - each;
        for (const item of v) n += item.length;
      }
    }
    return n;
  }

  private costs(nodes: readonly TNode[]): void {
    for (const t of nodes) {
      if (typeof t === 'string') this.fixed += t.length;
      else if (t.k === 'e') {
        this.fixed += 1;
        if (!t.literal) for (const a of t.attrs) for (const p of a.parts) if (typeof p !== 'string') this.subs.push(p.sub);
        if (t.slot >= 0) {
          this.slots.push(t);
          this.slotSubs.push(t.slot);
        } else this.costs(t.children);
      } else if (t.k === 's') this.subs.push(t.sub);
      else if (t.k === 'i') this.fixed += t.size;
    }
  }
}

/**
 * The event of a record read straight from its template and values, without views or a tree, for the usual shape:
 * an Event element whose children (placed by the template, or by an embedded instance such as the usual EventData
 * value) include System, EventData or UserData holding elements. Null for anything else (elements placed by a
 * rendered value, an array value expanding an element, RenderingInfo), which is then read through TemplateElement
 * views (event.ts readEvent); both must agree exactly (test/evtx-reader.test.ts, "read in place").
 */
function eventInPlace(inst: Instance, offset: number, headerRecord: number, p: Placed): EvtxEvent | null {
  const root = rootElement(inst.body, inst.values);
  const top: TopElements = { system: null, systemValues: NO_VALUES, data: null, dataValues: NO_VALUES, user: null, userValues: NO_VALUES };
  if (root === null || !findTop(root.children, inst.values, top)) return null;
  let system: Record<string, string> = {};
  const { els, vals } = p;
  if (top.system) {
    p.n = 0;
    if (!placedChildren(top.system, top.systemValues, p)) return null;
    let keys = p.n; // at most: each element's text and attributes
    for (let i = 0; i < p.n; i++) keys += els[i].attrs.length;
    system = recordFor(keys);
    for (let i = 0; i < p.n; i++) systemEntry(system, els[i].name, elementText(els[i], vals[i]), readAttrs(els[i], vals[i], p), p.nAttrs);
  }
  let named: Record<string, string> = {};
  const unnamed: string[] = [];
  if (top.data) {
    p.n = 0;
    if (!placedChildren(top.data, top.dataValues, p)) return null;
    named = recordFor(p.n);
    for (let i = 0; i < p.n; i++) {
      const e = els[i];
      dataEntry(named, unnamed, e.dataKey ?? dataKey(e, vals[i]), elementText(e, vals[i]));
    }
  }
  p.n = 0;
  if (top.user) {
    if (!top.data) named = recordFor(leafBound(top.user.children, top.userValues));
    if (!leaves(top.user, top.userValues, named, p, true)) return null;
  }
  return eventOf(system, dataOf(named, unnamed), inst, offset, headerRecord, null);
}

/** An EventData child's name (see TElem.dataKey). */
function dataKey(e: TElem, values: Values): string | undefined {
  const key = e.name === 'Data' ? attrValue(renderAttrs(e, values), 'Name') : e.name;
  if (e.literal) e.dataKey = key;
  return key;
}

/** The first System, EventData and UserData among the Event element's children, each with its instance's values. */
interface TopElements {
  system: TElem | null;
  systemValues: Values;
  data: TElem | null;
  dataValues: Values;
  user: TElem | null;
  userValues: Values;
}

/** The first element `nodes` place, when the template itself places it; else null. */
function rootElement(nodes: readonly TNode[], values: Values): TElem | null {
  for (const t of nodes) {
    if (typeof t === 'string' || t.k === 'pi') continue;
    return t.k === 'e' && !arraySlot(t, values) ? t : null;
  }
  return null;
}

/** Finds the top elements among what `nodes` place (instances included); false when something else places elements. */
function findTop(nodes: readonly TNode[], values: Values, top: TopElements): boolean {
  for (const c of nodes) {
    if (typeof c === 'string' || c.k === 'pi') continue;
    if (c.k === 'e') {
      if (arraySlot(c, values)) return false;
      if (c.name === 'System') {
        if (top.system === null) {
          top.system = c;
          top.systemValues = values;
        }
      } else if (c.name === 'EventData') {
        if (top.data === null) {
          top.data = c;
          top.dataValues = values;
        }
      } else if (c.name === 'UserData') {
        if (top.user === null) {
          top.user = c;
          top.userValues = values;
        }
      } else if (c.name === 'RenderingInfo') return false;
    } else if (c.k === 'i') {
      if (!findTop(c.body, c.values, top)) return false;
    } else {
      const v = c.sub < values.length ? values[c.sub] : null;
      if (v instanceof Instance) {
        if (!findTop(v.body, v.values, top)) return false;
      } else if (placesNodes(v)) return false;
    }
  }
  return true;
}

/** A value rendered into nodes (other than text taken for an array, see isStringArray), or an instance. */
function placesNodes(v: Value): boolean {
  return v !== null && typeof v !== 'string' && (v instanceof Instance || !isStringArray(v));
}

/** Elements gathered by `placed`, each with its instance's values, from `n` on; one per chunk, reused per record. */
class Placed {
  readonly els: TElem[] = [];
  readonly vals: Values[] = [];
  n = 0;
  /** The attributes of one element being read (readAttrs): the first `nAttrs`. */
  readonly attrs: XmlAttr[] = [];
  nAttrs = 0;
  readonly keys = new LeafKeys();
}

/** `placed` for an element's children, without a look at each when they are all elements. */
function placedChildren(e: TElem, values: Values, p: Placed): boolean {
  if (!e.onlyElements) return placed(e.children, values, p);
  const kids = e.children as TElem[];
  for (let i = 0; i < kids.length; i++) {
    const c = kids[i];
    if (arraySlot(c, values)) return false;
    p.els[p.n] = c;
    p.vals[p.n++] = values;
  }
  return true;
}

/**
 * Appends the elements `nodes` place (instances' included) to `p`, each with its instance's values (see
 * elementsIn); false when a rendered value places nodes or an array value expands an element.
 */
function placed(nodes: readonly TNode[], values: Values, p: Placed): boolean {
  for (const c of nodes) {
    if (typeof c === 'string' || c.k === 'pi') continue;
    if (c.k === 'e') {
      if (arraySlot(c, values)) return false;
      p.els[p.n] = c;
      p.vals[p.n++] = values;
    } else if (c.k === 'i') {
      if (!placed(c.body, c.values, p)) return false;
    } else {
      const v = c.sub < values.length ? values[c.sub] : null;
      if (v instanceof Instance) {
        if (!placed(v.body, v.values, p)) return false;
      } else if (placesNodes(v)) return false;
    }
  }
  return true;
}

/** Text (and values rendered as text) only: the usual leaf, decided without collecting anything. */
function placesNoElement(nodes: readonly TNode[], values: Values): boolean {
  for (const c of nodes) {
    if (typeof c === 'string' || c.k === 'pi') continue;
    if (c.k !== 's' || placesNodes(c.sub < values.length ? values[c.sub] : null)) return false;
  }
  return true;
}

/** UserData leaves (event.ts leaves) below a template element (`top`: the UserData element itself, not a leaf). */
function leaves(e: TElem, values: Values, out: Record<string, string>, p: Placed, top = false): boolean {
  if (!top && placesNoElement(e.children, values)) {
    leafEntry(out, e.name, elementText(e, values), readAttrs(e, values, p), p.nAttrs, p.keys);
    return true;
  }
  // This element's children go at [start, end); each child puts its own after them and drops them again.
  const start = p.n;
  if (!placedChildren(e, values, p)) return false;
  const end = p.n;
  for (let i = start; i < end; i++) if (!leaves(p.els[i], p.vals[i], out, p)) return false;
  p.n = start;
  if (!top) leafEntry(out, e.name, end === start ? elementText(e, values) : null, readAttrs(e, values, p), p.nAttrs, p.keys);
  return true;
}

/** At most how many entries `leaves` makes of what `nodes` place (an element's text and attributes, each): a size hint. */
function leafBound(nodes: readonly TNode[], values: Values): number {
  let n = 0;
  for (const c of nodes) {
    if (typeof c === 'string' || c.k === 'pi') continue;
    if (c.k === 'e') n += 1 + c.attrs.length + leafBound(c.children, values);
    else if (c.k === 'i') n += leafBound(c.body, c.values);
    else {
      const v = c.sub < values.length ? values[c.sub] : null;
      if (v instanceof Instance) n += leafBound(v.body, v.values);
    }
  }
  return n;
}

/** The sizes of the values substituted into an element's attributes (`count` values, sizes as in Template.cost). */
function attrCost(e: TElem, count: number, sizes: Float64Array, base: number): number {
  let n = 0;
  if (!e.literal) for (const a of e.attrs) for (const p of a.parts) if (typeof p !== 'string' && p.sub < count) n += sizes[base + p.sub];
  return n;
}

/** An element's attributes with this instance's values (see attrText). */
function renderAttrs(e: TElem, values: Values): XmlAttr[] {
  // Attributes without substitutions render the same in every instance: built once per template element.
  if (e.literal) return (e.fixed ??= e.attrs.length === 0 ? NONE : e.attrs.map((a) => ({ name: a.name, value: a.parts.join('') })));
  const attrs: XmlAttr[] = new Array(e.attrs.length);
  let kept = 0;
  for (const a of e.attrs) {
    const value = attrText(a, values);
    if (value !== null) attrs[kept++] = { name: a.name, value };
  }
  if (kept < attrs.length) attrs.length = kept;
  return attrs;
}

/**
 * The same for reading them at once (eventInPlace): into `p.attrs`, whose objects are reused record after record
 * (the reader copies the values out), their number in `p.nAttrs`. Half the System elements of a record substitute
 * attributes (TimeCreated, Execution, Security, Correlation), and an array and objects per element were garbage.
 */
function readAttrs(e: TElem, values: Values, p: Placed): readonly XmlAttr[] {
  // Literal ones too: the elements of an embedded fragment are parsed per record, and building their shared
  // attributes (renderAttrs) for one use was a twentieth of reading CAPI2's records.
  let kept = 0;
  for (const a of e.attrs) {
    const value = attrText(a, values);
    if (value === null) continue;
    const x = (p.attrs[kept++] ??= { name: '', value: '' });
    x.name = a.name;
    x.value = value;
  }
  p.nAttrs = kept;
  return p.attrs;
}

/** An attribute's value with this instance's values; null when Windows omits it: its only content is an empty substitution. */
function attrText(a: TAttr, values: Values): string | null {
  if (a.sub >= 0) {
    const v = a.sub < values.length ? values[a.sub] : null;
    if (v === null) return null;
    if (typeof v === 'string') return v !== '' ? v : null;
  }
  let value = '';
  let substituted = false;
  for (const p of a.parts) {
    if (typeof p === 'string') value += p;
    else {
      substituted = true;
      if (p.sub >= values.length) continue;
      const v = values[p.sub];
      if (typeof v === 'string') value += v;
      else if (isStringArray(v)) value += v.join(', ');
      else if (v instanceof Instance) value += textIn(v.body, v.values);
      else if (v) value += textOfNodes(v);
    }
  }
  // e.g. Correlation ActivityID
  return value !== '' || !substituted ? value : null;
}

/** The views of the elements that instantiating `nodes` would place, appended to `out` (see TemplateElement). */
function elementsIn(nodes: readonly TNode[], values: Values, out: ElementView[]): ElementView[] {
  for (let i = 0; i < nodes.length; i++) {
    const t = nodes[i];
    if (typeof t === 'string') continue;
    if (t.k === 'e') {
      const items = arraySlot(t, values);
      if (!items) out.push(new TemplateElement(t, values, null));
      else for (const item of items) out.push(new TemplateElement(t, values, item));
    } else if (t.k === 's') {
      const v = t.sub < values.length ? values[t.sub] : null;
      if (v instanceof Instance) elementsIn(v.body, v.values, out);
      else if (v && typeof v !== 'string' && !isStringArray(v)) for (const x of v) if (typeof x !== 'string' && isElement(x)) out.push(new BuiltElement(x));
    } else if (t.k === 'i') elementsIn(t.body, t.values, out);
  }
  return out;
}

/** Whether the first node that instantiating `nodes` would place is text (null: it places nothing). */
function placesTextFirst(nodes: readonly TNode[], values: Values): boolean | null {
  for (let i = 0; i < nodes.length; i++) {
    const t = nodes[i];
    if (typeof t === 'string') return true;
    if (t.k === 'e') {
      const items = arraySlot(t, values);
      if (!items || items.length > 0) return false;
    } else if (t.k === 's') {
      const v = t.sub < values.length ? values[t.sub] : null;
      if (typeof v === 'string' || (v && isStringArray(v))) return true;
      if (v instanceof Instance) {
        const first = placesTextFirst(v.body, v.values);
        if (first !== null) return first;
      } else if (v) return false; // rendered nodes starting with an element or PI (isStringArray)
    } else if (t.k === 'i') {
      const first = placesTextFirst(t.body, t.values);
      if (first !== null) return first;
    } else return false;
  }
  return null;
}

/** The text that instantiating `nodes` would place, in document order (processing instructions excluded). */
function textIn(nodes: readonly TNode[], values: Values): string {
  let s = '';
  for (let i = 0; i < nodes.length; i++) {
    const t = nodes[i];
    if (typeof t === 'string') s += t;
    else if (t.k === 'e') {
      const items = arraySlot(t, values);
      s += items ? items.join('') : elementText(t, values);
    } else if (t.k === 's') s += valueText(t.sub, values);
    else if (t.k === 'i') s += textIn(t.body, t.values);
  }
  return s;
}

/** An element's text (textIn of its children): the usual element holds one value. */
function elementText(e: TElem, values: Values): string {
  return e.slot >= 0 ? valueText(e.slot, values) : textIn(e.children, values);
}

function valueText(sub: number, values: Values): string {
  if (sub >= values.length) return '';
  const v = values[sub];
  if (typeof v === 'string') return v;
  if (isStringArray(v)) return v.join(', ');
  if (v instanceof Instance) return textIn(v.body, v.values);
  return v ? textOfNodes(v) : '';
}

/**
 * An element of a template instance, read in place: its name, attributes, text and child elements as the
 * rendered tree would have them, without building it. `arrayItem`: one item of an array slot (see arraySlot).
 */
class TemplateElement implements ElementView {
  constructor(
    private readonly t: TElem,
    private readonly values: Values,
    private readonly arrayItem: string | null,
  ) {}

  get name(): string {
    return this.t.name;
  }

  attributes(): readonly XmlAttr[] {
    return renderAttrs(this.t, this.values);
  }

  text(): string {
    return this.arrayItem ?? elementText(this.t, this.values);
  }

  elements(): readonly ElementView[] {
    return this.arrayItem === null ? elementsIn(this.t.children, this.values, []) : NONE;
  }
}

/**
 * Instantiates template nodes with substitution values (the budget was charged by `cost` beforehand).
 * Nodes are gathered on one stack and copied out in exact-size arrays: an array grown by `push` reserves 17
 * slots, and those reserves were most of the reader's garbage (two per element).
 */
class Instantiator {
  private readonly stack: XmlNode[] = [];
  private top = 0;
  private high = 0;

  /** Starts a record: forgets what an aborted record left on the stack. */
  reset(): void {
    this.stack.fill('', 0, this.high); // drop references to the last record's nodes
    this.top = this.high = 0;
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
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i];
      if (typeof n === 'string') this.pushText(n, start);
      else if (n.k === 'e') {
        const items = arraySlot(n, values);
        if (!items) this.push(this.element(n, values, null));
        else for (const item of items) this.push(this.element(n, values, item));
      } else if (n.k === 's') {
        if (n.sub >= values.length) continue;
        const v = values[n.sub];
        if (typeof v === 'string') this.pushText(v, start);
        else if (v && isStringArray(v)) this.pushText(v.join(', '), start);
        else if (v) for (const x of v instanceof Instance ? v.nodes(this) : v) this.push(x);
      } else if (n.k === 'i') {
        for (const x of n.nodes(this)) this.push(x);
      } else this.push(n);
    }
  }

  /** `arrayItem` (one item of an array slot) replaces the element's content when given. */
  private element(e: TElem, values: Values, arrayItem: string | null): XmlElement {
    const attrs = renderAttrs(e, values);
    const children = arrayItem === null ? this.nodes(e.children, values) : arrayItem === '' ? NONE : [arrayItem];
    return { name: e.name, attrs, children };
  }
}

/** Whether `buf[start, end)` is empty or all zero bytes (a template definition's GUID, size and body wiped). */
function isZeroed(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}
