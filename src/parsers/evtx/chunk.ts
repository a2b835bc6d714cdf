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
 * What one chunk gave. `read`: its header's record numbers (first, last) and `delta`, EventRecordID minus record
 * number (0 in a live log; filtered exports number their records afresh but keep the ids). `none`: the block holds
 * no chunk (`zero`: all zero bytes); whether that is damage depends on where it is (see file.ts ChunkWalk).
 */
export type ChunkOutcome = { kind: 'read'; first: number; last: number; delta: number } | { kind: 'none'; zero: boolean };

/**
 * Reads every record of one chunk (`chunk` is exactly CHUNK_SIZE bytes; `fileOffset` is where it starts).
 * Checksum mismatches are reported but the records are still read (salvaged): each record is validated on its
 * own, and damaged stretches are skipped by searching for the next intact record header. Records the chunk header
 * counts but that could not be read are reported together (damage, or records hidden by tampering). `available`:
 * how many bytes of a truncated last chunk the file really has (the rest is zero padding), so no offset points past
 * the end. Events come one at a time, so that a reader can hand them on in small batches (see readEvtxStream).
 * `templates`: those of the file's chunks read before (one cache per file and reader).
 */
export function* readChunk(chunk: Buffer, fileOffset: number, problems: EvtxProblem[], available = CHUNK_SIZE, templates: TemplateCache | null = null): Generator<EvtxEvent, ChunkOutcome> {
  if (!isChunk(chunk)) {
    // A damaged signature on an otherwise intact chunk (its header checksum, or an intact first record) is read.
    if (!signatureOnlyDamaged(chunk)) return { kind: 'none', zero: isZero(chunk, 0, CHUNK_SIZE) };
    problems.push({ offset: fileOffset, reason: 'bad chunk signature, records salvaged' });
  }
  const free = chunk.readUInt32LE(48);
  const end = Math.min(free >= CHUNK_HEADER_SIZE && free <= CHUNK_SIZE ? free : CHUNK_SIZE, available);
  checkCrc(chunk, end, fileOffset, problems);
  const range: IdRange = [readU64(chunk, 24), readU64(chunk, 32)];
  const binxml = new ChunkBinXml(chunk, templates);
  const read: number[] = []; // header record ids of the records yielded
  const at: number[] = []; // and where they are
  const named: number[] = []; // ids of records not read, each reported on its own
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
      named.push(id);
      break;
    }
    const ev = readRecord(binxml, pos, size, id, fileOffset, problems);
    if (ev === null) named.push(id);
    else {
      read.push(id);
      at.push(pos);
      yield ev;
    }
    pos += size;
  }
  if (pos < end && pos + RECORD_HEADER + 4 > end && end === available && !isZero(chunk, pos, end)) {
    problems.push({ offset: fileOffset + pos, reason: `record cut short by the end of the file (${end - pos} bytes of its header)` });
  }
  const first = readU64(chunk, 8);
  const last = readU64(chunk, 16);
  if (read.length < last - first + 1) yield* hiddenRecords(binxml, range, read, at, fileOffset, problems);
  const shortfall = unreadRecords(first, last, range, read, named);
  if (shortfall !== null) problems.push({ offset: fileOffset, reason: `${shortfall} counted by the chunk header but not readable (damaged, unwritten or removed)` });
  return { kind: 'read', first, last, delta: range[0] - first };
}

/**
 * The event of the record at `pos` (its header's `id`, `size`), or null when it cannot be read (said in `problems`).
 * `hidden`: found inside another record, whose size copy (at the end of both) is not its own.
 */
function readRecord(binxml: ChunkBinXml, pos: number, size: number, id: number, fileOffset: number, problems: EvtxProblem[], hidden = false): EvtxEvent | null {
  const chunk = binxml.buf;
  try {
    const xml = binxml.render(pos + RECORD_HEADER, pos + size - 4);
    const ev = Array.isArray(xml) ? toEvent(xml, fileOffset + pos, id, null) : binxml.event(xml, fileOffset + pos, id);
    // Every event has System values; a record with none (its bytes overwritten, e.g. zeroed) is no event: its
    // header's id and time, alone, would make a record 0 of 1601 that no rule can read.
    if (ev.eventId === null && ev.provider === '' && ev.channel === '') {
      problems.push({ offset: fileOffset + pos, reason: `record ${id}: no System values (EventID, Provider, Channel): damaged record skipped` });
      return null;
    }
    ev.time ??= binxml.times.render(chunk, pos + 16); // the record header's written time, when System has none
    // Rendered, but its end is not as written: values may be lost (zeroed values read as empty), so it is said.
    const copy = chunk.readUInt32LE(pos + size - 4);
    if (copy !== size && !hidden) problems.push({ offset: fileOffset + pos, reason: `record ${id}: its size copy at the end reads ${copy}, not ${size} (its end damaged or unwritten): read as far as it renders, values may be missing` });
    return ev;
  } catch (err) {
    if (!(err instanceof EvtxError) && !(err instanceof RangeError)) throw err;
    const at = err instanceof EvtxError ? err.offset : pos;
    problems.push({ offset: fileOffset + at, reason: `record ${id}: ${err.message}` });
    return null;
  }
}

/**
 * Records whole inside another record: eventlogedit (DanderSpritz; Fox-IT, 2017) hides a record by growing the size
 * of the record before it over it (checksums redone), its bytes left in place. Looked for only in a chunk whose header
 * counts records not read: an id inside the header's range not read yet, at an 8-byte boundary inside a record read.
 * They are read, and said. `read`, `at`: the ids and offsets of the records read (the ones found are added).
 */
function* hiddenRecords(binxml: ChunkBinXml, range: IdRange, read: number[], at: number[], fileOffset: number, problems: EvtxProblem[]): Generator<EvtxEvent> {
  const chunk = binxml.buf;
  const seen = new Set(read);
  for (let k = 0, n = at.length; k < n; k++) {
    const end = at[k] + chunk.readUInt32LE(at[k] + 4);
    for (let p = at[k] + RECORD_HEADER + 8; p + RECORD_HEADER + 4 <= end; p += 8) {
      const size = recordSize(chunk, p);
      if (size === 0 || p + size > end) continue;
      const id = readU64(chunk, p + 8);
      if (id < range[0] || id > range[1] || seen.has(id)) continue;
      const ev = readRecord(binxml, p, size, id, fileOffset, problems, true);
      if (ev === null) continue;
      problems.push({ offset: fileOffset + p, reason: `record ${id} lies inside record ${read[k]}, whose size was grown over it (eventlogedit-style hiding, or damage): read` });
      seen.add(id);
      read.push(id);
      at.push(p);
      yield ev;
      p += size - 8;
    }
  }
}

/** Most records a chunk can hold (the smallest record is 28 bytes): a header claiming more is itself damaged. */
export const MAX_RECORDS = (CHUNK_SIZE - CHUNK_HEADER_SIZE) / (RECORD_HEADER + 4);

/**
 * The records the chunk header counts (record numbers `first`..`last`) that were neither read nor reported on their
 * own, said by EventRecordID when the header's ids run alongside its numbers, else as a count; null when none are
 * missing or the header's numbers are implausible. `read`, `named`: the record-header ids read, and reported.
 */
function unreadRecords(first: number, last: number, ids: IdRange, read: number[], named: number[]): string | null {
  const counted = last - first + 1;
  const known = read.length + named.length;
  if (last < first || counted > MAX_RECORDS || known >= counted) return null;
  if (ids[1] - ids[0] !== last - first) return `${counted - known} of the ${counted} records (numbers ${first}..${last} in this file)`;
  const seen = new Set([...read, ...named]);
  const runs: string[] = [];
  let missing = 0;
  for (let id = ids[0]; id <= ids[1]; id++) {
    if (seen.has(id)) continue;
    let to = id;
    while (to < ids[1] && !seen.has(to + 1)) to++;
    missing += to - id + 1;
    runs.push(to === id ? `${id}` : `${id}..${to}`);
    id = to;
  }
  if (missing === 0) return null; // ids read outside the range made up the count: nothing of the range is missing
  const shown = runs.length > 8 ? `${runs.slice(0, 8).join(', ')} and ${runs.length - 8} more runs` : runs.join(', ');
  return `${missing === 1 ? 'record' : `${missing} records`} ${shown}`;
}

/**
 * Whether a chunk without its signature is otherwise intact: its header checksum matches with the signature put
 * back, or its first record is whole (size copy at its end) with an id inside the header's range.
 */
function signatureOnlyDamaged(chunk: Buffer): boolean {
  const headerCrc = chunk.readUInt32LE(124);
  if (headerCrc !== 0 && headerChecksum(chunk) === headerCrc) return true;
  const size = recordSize(chunk, CHUNK_HEADER_SIZE);
  if (size === 0 || chunk.readUInt32LE(CHUNK_HEADER_SIZE + size - 4) !== size) return false;
  const id = readU64(chunk, CHUNK_HEADER_SIZE + 8);
  return id === readU64(chunk, 24) && id <= readU64(chunk, 32);
}

/** The chunk header's checksum as it should be: bytes 0-120 (the signature as written by Windows) and 128-512. */
function headerChecksum(chunk: Buffer): number {
  return crc32(chunk, 128, CHUNK_HEADER_SIZE, crc32(chunk, 8, 120, crc32(CHUNK_MAGIC, 0, 8)));
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
  if (headerCrc !== 0 && headerChecksum(chunk) !== headerCrc) {
    problems.push({ offset: fileOffset, reason: 'chunk header checksum mismatch, records salvaged' });
  } else if (dataCrc !== 0 && crc32(chunk, CHUNK_HEADER_SIZE, end) !== dataCrc) {
    problems.push({ offset: fileOffset, reason: 'chunk data checksum mismatch, records salvaged' });
  }
}
