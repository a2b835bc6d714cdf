// EVTX files: a 4 KiB "ElfFile\0" header, then 64 KiB chunks. The header's chunk count is not trusted: files
// that were not closed cleanly (or copied from a live system / VSS) hold valid chunks past it, so the reader
// walks every 64 KiB block up to the end of the file.

import { TemplateCache } from './binxml.js';
import { crc32, readU64 } from './bytes.js';
import { CHUNK_SIZE, isChunk, MAX_RECORDS, readChunk, type ChunkOutcome, type EvtxProblem } from './chunk.js';
import type { EvtxEvent } from './event.js';

export const FILE_HEADER_SIZE = 0x1000;
export const FILE_MAGIC = Buffer.from('ElfFile\0', 'latin1');

export interface EvtxFileHeader {
  firstChunk: number;
  lastChunk: number;
  nextRecordId: number;
  majorVersion: number;
  minorVersion: number;
  chunkCount: number;
  /** Flag 0x1: the file was not closed cleanly. */
  dirty: boolean;
  /** Flag 0x2: the log was full. */
  full: boolean;
  checksumOk: boolean;
}

/** An EVTX file by its header's magic, or by its first chunk's when the file header is damaged (read as EVTX, said). */
export function isEvtx(head: Buffer): boolean {
  return (head.length >= 8 && head.compare(FILE_MAGIC, 0, 8, 0, 8) === 0) || isChunk(head, FILE_HEADER_SIZE);
}

/** Parses the file header, or null when the magic is missing. */
export function readFileHeader(buf: Buffer): EvtxFileHeader | null {
  if (buf.length < 128 || buf.compare(FILE_MAGIC, 0, 8, 0, 8) !== 0) return null;
  const flags = buf.readUInt32LE(120);
  return {
    firstChunk: readU64(buf, 8),
    lastChunk: readU64(buf, 16),
    nextRecordId: readU64(buf, 24),
    minorVersion: buf.readUInt16LE(36),
    majorVersion: buf.readUInt16LE(38),
    chunkCount: buf.readUInt16LE(42),
    dirty: (flags & 1) !== 0,
    full: (flags & 2) !== 0,
    checksumOk: crc32(buf, 0, 120) === buf.readUInt32LE(124),
  };
}

/** Number of chunks the header accounts for (blocks past it may be unused space); reports a missing header. */
function headerChunks(head: Buffer, problems: EvtxProblem[]): number {
  const h = readFileHeader(head);
  if (!h) problems.push({ offset: 0, reason: 'missing ElfFile header; reading chunks anyway' });
  return h ? Math.max(h.chunkCount, h.lastChunk + 1) : Infinity;
}

/** Reads a whole in-memory EVTX file (tests, fuzzing); see `readEvtxStream` for files of any size. */
export function* readEvtxBuffer(buf: Buffer, problems: EvtxProblem[]): Generator<EvtxEvent> {
  const counted = headerChunks(buf.subarray(0, FILE_HEADER_SIZE), problems);
  const templates = new TemplateCache();
  const walk = new ChunkWalk(problems, counted);
  for (let off = FILE_HEADER_SIZE, n = 0; off < buf.length; off += CHUNK_SIZE, n++) {
    walk.add(off, n, yield* readChunk(chunkAt(buf, off, off, problems), off, problems, Math.min(CHUNK_SIZE, buf.length - off), templates));
  }
  walk.end();
}

/** A run of 64 KiB blocks that hold no chunk, reported as one problem once the next chunk read bounds it. */
interface LostRun {
  offset: number;
  blocks: number;
  /** How many of them the file header counts. */
  counted: number;
  zero: boolean;
  /** The record number (and its EventRecordID delta) that the chunk read just before the run ended with. */
  before: { last: number; delta: number } | null;
}

/**
 * Follows the chunks of one reading in file order and reports the blocks that hold no chunk where one belongs:
 * counted by the file header, or (past a stale count, or with no header) where the record numbers of the chunks
 * read on either side leave a gap the blocks could have held. One problem per run, naming those records. Record
 * numbers of chunks next to each other are not compared otherwise: copies from shadow copies hold chunks of many
 * generations side by side.
 */
class ChunkWalk {
  private run: LostRun | null = null;
  private prev: { n: number; last: number; delta: number } | null = null;

  constructor(
    private readonly problems: EvtxProblem[],
    private readonly counted: number,
  ) {}

  add(offset: number, n: number, outcome: ChunkOutcome): void {
    if (outcome.kind === 'read') {
      this.flush(outcome);
      this.prev = { n, last: outcome.last, delta: outcome.delta };
      return;
    }
    const zero = outcome.zero;
    const counted = n < this.counted ? 1 : 0;
    if (this.run && this.run.offset + this.run.blocks * CHUNK_SIZE === offset) {
      this.run.blocks++;
      this.run.counted += counted;
      this.run.zero &&= zero;
    } else {
      this.flush(null);
      this.run = { offset, blocks: 1, counted, zero, before: this.prev && this.prev.n === n - 1 ? this.prev : null };
    }
  }

  end(): void {
    this.flush(null);
  }

  private flush(next: { first: number; delta: number } | null): void {
    const run = this.run;
    if (run === null) return;
    this.run = null;
    const headerless = this.counted === Infinity;
    // The chunks around bound the records only when the run could have held them all (not chunks of other generations).
    const held = run.before && next ? next.first - run.before.last - 1 : 0;
    const gap = run.before && next && held > 0 && held <= run.blocks * MAX_RECORDS ? records(run.before, next) : null;
    // Blocks the header does not count are damage only where the records around them say some are missing.
    if (gap === null && (headerless || run.counted === 0)) return;
    const one = run.blocks === 1;
    const where = headerless ? 'after the damaged file header' : run.counted > 0 ? 'counted by the file header' : 'between chunks that hold records';
    const what = `${one ? 'a chunk' : `${run.blocks} chunks`} ${where} ${run.zero ? `${one ? 'is' : 'are'} all zero bytes` : `${one ? 'has' : 'have'} no chunk signature`}`;
    this.problems.push({ offset: run.offset, reason: `${what}: ${gap ?? `the records ${one ? 'it' : 'they'} held`} not readable (damaged or wiped)` });
  }
}

/** The records between two chunks, by EventRecordID when both chunks agree how ids follow numbers. */
function records(before: { last: number; delta: number }, next: { first: number; delta: number }): string {
  const [a, b] = [before.last + 1, next.first - 1];
  const span = (d: number) => (a === b ? `${a + d}` : `${a + d}..${b + d}`);
  const many = a === b ? 'record' : `${b - a + 1} records`;
  return before.delta === next.delta ? `${many} ${span(before.delta)}` : `${many} (numbers ${span(0)} in this file)`;
}

/** A full chunk view, or a zero-padded copy of a truncated last chunk (its complete records are still read). */
function chunkAt(buf: Buffer, off: number, fileOff: number, problems: EvtxProblem[]): Buffer {
  if (off + CHUNK_SIZE <= buf.length) return buf.subarray(off, off + CHUNK_SIZE);
  problems.push({ offset: fileOff, reason: `truncated chunk (${buf.length - off} of ${CHUNK_SIZE} bytes)` });
  const padded = Buffer.alloc(CHUNK_SIZE);
  buf.copy(padded, 0, off);
  return padded;
}

/** Where a stream of chunks starts inside its file when it is not the file's start (see evtxSpan). */
export interface EvtxResume {
  /** File offset of the first chunk given. */
  offset: number;
  /** Its index among the file's chunks. */
  chunk: number;
  /** The chunks the file header accounts for (headerChunks of the file's first 4 KiB). */
  counted: number;
}

/**
 * The part of an EVTX file that the byte range [start, end) owns: the 64 KiB chunks that start inside it (the
 * first range also owns the file header). Chunks hold their own strings and templates, so the parts of one file
 * are read apart, on several cores, and together give exactly the records of one reading.
 */
export function evtxSpan(head: Buffer, size: number, start: number, end: number): { start: number; end: number; resume: EvtxResume | null } {
  const at = (p: number) => (p <= 0 ? 0 : Math.min(size, FILE_HEADER_SIZE + Math.ceil(Math.max(0, p - FILE_HEADER_SIZE) / CHUNK_SIZE) * CHUNK_SIZE));
  const from = at(start);
  const to = Math.max(from, at(end));
  if (from === 0) return { start: 0, end: to, resume: null };
  return { start: from, end: to, resume: { offset: from, chunk: (from - FILE_HEADER_SIZE) / CHUNK_SIZE, counted: headerChunks(head.subarray(0, FILE_HEADER_SIZE), []) } };
}

/**
 * Events per batch. Batches keep the async overhead per record low; small ones keep the events waiting for the
 * consumer few: a whole chunk's (up to some hundreds) survived the young generation's collections and were
 * copied, which doubled the CPU time of a worker thread (whose young generation is small, engine/pool.ts).
 */
const BATCH = 32;

/**
 * Streams an EVTX file given as byte blocks of any size; yields its events in batches of up to BATCH. Memory stays
 * at one chunk plus one input block. `resume`: the blocks start at a chunk inside the file, not at its header
 * (evtxSpan). A block may be a reused buffer (readChunks `reuse`): nothing keeps a view of it once the next one is
 * asked for (events hold decoded strings; the part of a chunk left at a block's end is copied).
 */
export async function* readEvtxStream(blocks: AsyncIterable<Buffer>, problems: EvtxProblem[], resume?: EvtxResume | null): AsyncGenerator<EvtxEvent[]> {
  let fileOff = resume?.offset ?? 0; // file offset of the next unit (the file header, then each chunk)
  let counted = resume?.counted ?? Infinity;
  let n = resume?.chunk ?? 0;
  let batch: EvtxEvent[] = [];
  // A unit that straddles blocks is gathered here: only its own bytes are copied (the header's 4 KiB leaves each
  // 1 MiB block's last chunk straddling), and no view of a block outlives it.
  let carry: Buffer | null = null;
  let carried = 0;
  const units: Buffer[] = [];
  const templates = new TemplateCache();
  let walk = new ChunkWalk(problems, counted);
  for await (const block of blocks) {
    let pos = 0;
    let at = fileOff; // file offset of the next unit to cut from this block
    const want = () => (at === 0 ? FILE_HEADER_SIZE : CHUNK_SIZE);
    if (carry !== null) {
      pos = Math.min(carry.length - carried, block.length);
      block.copy(carry, carried, 0, pos);
      carried += pos;
      if (carried < carry.length) continue;
      units.push(carry);
      at += carry.length;
      carry = null;
    }
    for (let w = want(); block.length - pos >= w; w = want()) {
      units.push(block.subarray(pos, pos + w));
      pos += w;
      at += w;
    }
    if (pos < block.length) {
      carry = Buffer.allocUnsafe(want());
      carried = block.copy(carry, 0, pos);
    }
    for (const unit of units) {
      if (fileOff === 0) walk = new ChunkWalk(problems, (counted = headerChunks(unit, problems)));
      else {
        const chunk = readChunk(unit, fileOff, problems, CHUNK_SIZE, templates);
        for (let r = chunk.next(); ; r = chunk.next()) {
          if (r.done) {
            walk.add(fileOff, n++, r.value);
            break;
          }
          batch.push(r.value);
          if (batch.length === BATCH) {
            yield batch;
            batch = [];
          }
        }
      }
      fileOff += unit.length;
    }
    units.length = 0;
  }
  if (carry !== null) {
    const tail = carry.subarray(0, carried);
    if (fileOff === 0) headerChunks(tail, problems);
    else {
      const chunk = readChunk(chunkAt(tail, 0, fileOff, problems), fileOff, problems, Math.min(CHUNK_SIZE, tail.length), templates);
      let r = chunk.next();
      for (; !r.done; r = chunk.next()) batch.push(r.value);
      walk.add(fileOff, n, r.value);
    }
  }
  walk.end();
  if (batch.length) yield batch;
}
