// EVTX chunks: 64 KiB "ElfChnk\0" blocks with a 512-byte header (record range, checksums, string and template
// tables) followed by event records ("**\0\0", size, record id, written FILETIME, BinXML, size copy).

import { ChunkBinXml, EvtxError, type TemplateCache } from './binxml.js';
import { crc32, readU64 } from './bytes.js';
import { toEvent, type EvtxEvent } from './event.js';

export const CHUNK_SIZE = 0x10000;
const CHUNK_HEADER_SIZE = 512;
const RECORD_MAGIC = 0x00002a2a;
const RECORD_HEADER = 24;

/** Something the reader could not read, with the file offset where it happened. Never fatal. */
export interface EvtxProblem {
  offset: number;
  reason: string;
}

const CHUNK_MAGIC = Buffer.from('ElfChnk\0', 'latin1');

export function isChunk(buf: Buffer, off = 0): boolean {
  return buf.length >= off + 8 && buf.compare(CHUNK_MAGIC, 0, 8, off, off + 8) === 0;
}

function isZero(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * Reads every record of one chunk (`chunk` is exactly CHUNK_SIZE bytes; `fileOffset` is where it starts).
 * `expected`: the file header counts this chunk, so a missing signature is damage rather than unused space.
 * Checksum mismatches are reported but the records are still read (salvaged): each record is validated on its
 * own, and damaged stretches are skipped by searching for the next intact record header. `available`: how many
 * bytes of a truncated last chunk the file really has (the rest is zero padding), so no offset points past the end.
 * Events come one at a time, so that a reader can hand them on in small batches (see readEvtxStream).
 * `templates`: those of the file's chunks read before (one cache per file and reader).
 */
export function* readChunk(chunk: Buffer, fileOffset: number, problems: EvtxProblem[], expected = true, available = CHUNK_SIZE, templates: TemplateCache | null = null): Generator<EvtxEvent> {
  if (!isChunk(chunk)) {
    // Unused (preallocated, zeroed or stale) blocks past the header's chunk count are not damage.
    if (expected && !isZero(chunk, 0, CHUNK_HEADER_SIZE)) problems.push({ offset: fileOffset, reason: 'bad chunk signature, chunk skipped' });
    return;
  }
  const free = chunk.readUInt32LE(48);
  const end = Math.min(free >= CHUNK_HEADER_SIZE && free <= CHUNK_SIZE ? free : CHUNK_SIZE, available);
  checkCrc(chunk, end, fileOffset, problems);
  const range: IdRange = [readU64(chunk, 24), readU64(chunk, 32)];
  const binxml = new ChunkBinXml(chunk, templates);
  let pos = CHUNK_HEADER_SIZE;
  while (pos + RECORD_HEADER + 4 <= end) {
    const size = recordSize(chunk, pos);
    if (size === 0) {
      if (isZero(chunk, pos, end)) break;
      const next = nextRecord(chunk, pos + 8, end, range);
      problems.push({ offset: fileOffset + pos, reason: `damaged data in chunk, ${(next ?? end) - pos} bytes skipped` });
      if (next === null) break;
      pos = next;
      continue;
    }
    const id = readU64(chunk, pos + 8);
    if (pos + size > available) {
      problems.push({ offset: fileOffset + pos, reason: `record ${id} cut short by the end of the file (${available - pos} of ${size} bytes)` });
      break;
    }
    try {
      const xml = binxml.render(pos + RECORD_HEADER, pos + size - 4);
      const ev = Array.isArray(xml) ? toEvent(xml, fileOffset + pos, id, null) : binxml.event(xml, fileOffset + pos, id);
      ev.time ??= binxml.times.render(chunk, pos + 16); // the record header's written time, when System has none
      yield ev;
    } catch (err) {
      if (!(err instanceof EvtxError) && !(err instanceof RangeError)) throw err;
      const at = err instanceof EvtxError ? err.offset : pos;
      problems.push({ offset: fileOffset + at, reason: `record ${id}: ${err.message}` });
    }
    pos += size;
  }
  if (pos < end && pos + RECORD_HEADER + 4 > end && end === available && !isZero(chunk, pos, end)) {
    problems.push({ offset: fileOffset + pos, reason: `record cut short by the end of the file (${end - pos} bytes of its header)` });
  }
}

/** First and last record numbers the chunk header claims. */
type IdRange = [number, number];

/**
 * Size of the record at `pos`, or 0 when there is no plausible record header there. The trailing size copy is
 * not required: a record cut short when the log was not closed cleanly still renders if its BinXML is intact.
 */
function recordSize(chunk: Buffer, pos: number): number {
  if (chunk.readUInt32LE(pos) !== RECORD_MAGIC) return 0;
  const size = chunk.readUInt32LE(pos + 4);
  return size < RECORD_HEADER + 4 || pos + size > CHUNK_SIZE ? 0 : size;
}

/**
 * Next intact record header at an 8-byte boundary, or null: it needs a matching trailing size copy and a record
 * id inside the range the chunk header claims, so stray bytes that merely look like a signature are not taken.
 */
function nextRecord(chunk: Buffer, from: number, end: number, range: IdRange): number | null {
  for (let p = (from + 7) & ~7; p + RECORD_HEADER + 4 <= end; p += 8) {
    const size = recordSize(chunk, p);
    if (size === 0 || chunk.readUInt32LE(p + size - 4) !== size) continue;
    const id = readU64(chunk, p + 8);
    if (id >= range[0] && id <= range[1]) return p;
  }
  return null;
}

/** Header CRC covers bytes 0-120 and 128-512; data CRC covers the records. Zero means "not computed". */
function checkCrc(chunk: Buffer, end: number, fileOffset: number, problems: EvtxProblem[]): void {
  const headerCrc = chunk.readUInt32LE(124);
  const dataCrc = chunk.readUInt32LE(52);
  if (headerCrc !== 0 && crc32(chunk, 128, CHUNK_HEADER_SIZE, crc32(chunk, 0, 120)) !== headerCrc) {
    problems.push({ offset: fileOffset, reason: 'chunk header checksum mismatch, records salvaged' });
  } else if (dataCrc !== 0 && crc32(chunk, CHUNK_HEADER_SIZE, end) !== dataCrc) {
    problems.push({ offset: fileOffset, reason: 'chunk data checksum mismatch, records salvaged' });
  }
}
