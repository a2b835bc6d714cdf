// Deterministic hostile EVTX files. The layout follows the EVTX/BinXML format as documented by libyal
// (https://github.com/libyal/libevtx/blob/main/documentation/Windows%20XML%20Event%20Log%20(EVTX).asciidoc):
// a 4 KiB file header, 64 KiB chunks, records holding BinXML whose template instances carry typed values; a value
// of type 0x21 is itself BinXML and may instantiate a template again.
import { crc32 } from '../../../src/parsers/evtx/bytes.js';

const CHUNK = 0x10000;

/** Writes BinXML at chunk-relative positions (name and template references are chunk offsets). */
class Writer {
  readonly buf = Buffer.alloc(CHUNK);
  constructor(public pos: number) {}
  u8(v: number): this { this.buf[this.pos++] = v; return this; }
  u16(v: number): this { this.buf.writeUInt16LE(v, this.pos); this.pos += 2; return this; }
  u32(v: number): this { this.buf.writeUInt32LE(v >>> 0, this.pos); this.pos += 4; return this; }
  utf16(s: string): this { this.pos += this.buf.write(s, this.pos, 'utf16le'); return this; }
  fragmentHeader(): this { return this.u8(0x0f).u8(1).u8(1).u8(0); }
  /** A name defined inline right after its reference. */
  name(s: string): this {
    return this.u32(this.pos + 4).u32(0).u16(0).u16(s.length).utf16(s).u16(0);
  }
  /** Open-start-element; inside a template body the token carries a dependency id. */
  open(name: string, inTemplate: boolean, attrs: Array<[string, (w: Writer) => void]> = []): this {
    this.u8(attrs.length ? 0x41 : 0x01);
    if (inTemplate) this.u16(0xffff);
    this.u32(0).name(name);
    if (attrs.length) {
      this.u32(0);
      attrs.forEach(([n, value], i) => {
        this.u8(i === attrs.length - 1 ? 0x06 : 0x46).name(n);
        value(this);
      });
    }
    return this.u8(0x02);
  }
  end(): this { return this.u8(0x04); }
  text(s: string): this { return this.u8(0x05).u8(0x01).u16(s.length).utf16(s); }
  subst(id: number, type: number): this { return this.u8(0x0d).u16(id).u8(type); }
  /**
   * Template instance; `body` writes the definition inline when `defOff` is undefined (first use in the chunk).
   * Returns the definition offset.
   */
  instance(defOff: number | undefined, body: ((w: Writer) => void) | null, values: Array<[number, (w: Writer) => void]>): number {
    this.u8(0x0c).u8(0x01).u32(0x1234);
    const off = defOff ?? this.pos + 4;
    this.u32(off);
    if (defOff === undefined && body) {
      this.u32(0).u32(0x11111111).u32(0x2222).u32(0x3333).u32(0x44444444);
      const sizeAt = this.pos;
      this.u32(0);
      const start = this.pos;
      body(this);
      this.buf.writeUInt32LE(this.pos - start, sizeAt);
    }
    this.u32(values.length);
    const table = this.pos;
    this.pos += values.length * 4;
    values.forEach(([type, write], i) => {
      const start = this.pos;
      write(this);
      this.buf.writeUInt16LE(this.pos - start, table + i * 4);
      this.buf[table + i * 4 + 2] = type;
    });
    return off;
  }
}

/** The outer event template: a PowerShell 4104 whose ScriptBlockText is substitution 0. */
function eventBody(w: Writer): void {
  w.fragmentHeader()
    .open('Event', true)
    .open('System', true)
    .open('Provider', true, [['Name', (x) => x.text('Microsoft-Windows-PowerShell')]]).end()
    .open('EventID', true).text('4104').end()
    .open('Channel', true).text('Microsoft-Windows-PowerShell/Operational').end()
    .end()
    .open('EventData', true)
    .open('Data', true, [['Name', (x) => x.text('ScriptBlockText')]]).subst(0, 0x01).end()
    .end()
    .end()
    .u8(0x00);
}

export type NestShape = 'element' | 'text';

/**
 * One chunk with three 4104 records: record 1 and 3 ordinary, record 2's script text a BinXML value that nests
 * a two-slot template `depth` times (each level uses the level below twice: 2^depth expanded nodes).
 * 'element': <N>{0}{0}</N>; 'text': {0}{0} with no element (the text leaves double at every level).
 */
export function nestedTemplateEvtx(depth: number, shape: NestShape = 'element'): Buffer {
  const w = new Writer(512);
  const record = (id: number, content: (w: Writer) => void): void => writeRecord(w, id, content);
  let eventDef: number | undefined;
  record(1, (x) => (eventDef = x.instance(undefined, eventBody, [[0x01, (v) => v.utf16('Get-Date')]])));
  let nestDef: number | undefined;
  const nestBody = (x: Writer): void => {
    x.fragmentHeader();
    if (shape === 'element') x.open('N', true).subst(0, 0x21).subst(0, 0x21).end();
    else x.subst(0, 0x21).subst(0, 0x21);
    x.u8(0x00);
  };
  const level = (x: Writer, n: number): void => {
    x.fragmentHeader();
    if (n === 0) x.text('AAAAAAAA');
    else nestDef = x.instance(nestDef, nestBody, [[0x21, (v) => level(v, n - 1)]]);
    x.u8(0x00);
  };
  record(2, (x) => x.instance(eventDef, null, [[0x21, (v) => level(v, depth)]]));
  record(3, (x) => x.instance(eventDef, null, [[0x01, (v) => v.utf16('Get-Process')]]));
  return evtxFile(w.buf, w.pos, 3);
}

/** One record (header, BinXML fragment written by `content`, trailing size copy) at the writer's position. */
function writeRecord(w: Writer, id: number, content: (w: Writer) => void): void {
  const start = w.pos;
  w.u32(0x2a2a).u32(0).u32(id).u32(0).u32(0x5e1c2d00).u32(0x01d7).fragmentHeader();
  content(w);
  w.u8(0x00);
  const size = w.pos + 4 - start;
  w.u32(size);
  w.buf.writeUInt32LE(size, start + 4);
}

/**
 * One chunk with three records of a template `<Data Name="{1}">{0}</Data>` in EventData: record 2's value 0 is a
 * string array of `items` one-letter items (Windows renders the element once per item) and its value 1 a name of
 * `nameLength` letters, repeated in every item's element: items × nameLength characters from a few KB of record.
 */
export function arraySlotEvtx(items: number, nameLength: number): Buffer {
  const w = new Writer(512);
  const body = (x: Writer): void => {
    x.fragmentHeader()
      .open('Event', true)
      .open('System', true).open('EventID', true).text('4104').end().end()
      .open('EventData', true)
      .open('Data', true, [['Name', (a) => a.subst(1, 0x01)]]).subst(0, 0x81).end()
      .end()
      .end()
      .u8(0x00);
  };
  const values = (list: string, name: string): Array<[number, (v: Writer) => void]> => [
    [0x81, (v) => v.utf16(list)],
    [0x01, (v) => v.utf16(name)],
  ];
  let def: number | undefined;
  writeRecord(w, 1, (x) => (def = x.instance(undefined, body, values('a\0b', 'N'))));
  writeRecord(w, 2, (x) => x.instance(def, null, values(Array.from({ length: items }, () => 'x').join('\0'), 'N'.repeat(nameLength))));
  writeRecord(w, 3, (x) => x.instance(def, null, values('c', 'M')));
  return evtxFile(w.buf, w.pos, 3);
}

/** One chunk of 4104 script-block records, one per text (as many as fit in 64 KiB). */
export function scriptBlocksEvtx(texts: readonly string[]): Buffer {
  const w = new Writer(512);
  let eventDef: number | undefined;
  let n = 0;
  for (const text of texts) {
    if (w.pos + 200 + text.length * 2 > CHUNK) break;
    const start = w.pos;
    w.u32(0x2a2a).u32(0).u32(++n).u32(0).u32(0x5e1c2d00).u32(0x01d7).fragmentHeader();
    const def = w.instance(eventDef, eventDef === undefined ? eventBody : null, [[0x01, (v) => v.utf16(text)]]);
    eventDef ??= def;
    w.u8(0x00);
    const size = w.pos + 4 - start;
    w.u32(size);
    w.buf.writeUInt32LE(size, start + 4);
  }
  return evtxFile(w.buf, w.pos, n);
}

/** Wraps one chunk's bytes (records from offset 512 to `free`) in a file with valid headers. */
function evtxFile(chunk: Buffer, free: number, records: number): Buffer {
  chunk.write('ElfChnk\0', 0, 'latin1');
  chunk.writeUInt32LE(1, 8);
  chunk.writeUInt32LE(records, 16);
  chunk.writeUInt32LE(1, 24);
  chunk.writeUInt32LE(records, 32);
  chunk.writeUInt32LE(128, 40);
  chunk.writeUInt32LE(free, 48);
  chunk.writeUInt32LE(crc32(chunk, 512, free), 52);
  chunk.writeUInt32LE(crc32(chunk, 128, 512, crc32(chunk, 0, 120)), 124);
  const head = Buffer.alloc(0x1000);
  head.write('ElfFile\0', 0, 'latin1');
  head.writeUInt32LE(records + 1, 24);
  head.writeUInt32LE(128, 32);
  head.writeUInt16LE(1, 36);
  head.writeUInt16LE(3, 38);
  head.writeUInt16LE(0x1000, 40);
  head.writeUInt16LE(1, 42);
  head.writeUInt32LE(crc32(head, 0, 120), 124);
  return Buffer.concat([head, chunk]);
}
