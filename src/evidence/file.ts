import { closeSync, readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createGunzip } from 'node:zlib';
import { openEvidence, openEvidenceSync } from './open.js';
import { ByteLimit } from './byte-limit.js';
import { openZipEntryStream } from './zip.js';

/** Where a file sits in a known collection (evidence/layout.ts): its path on the server, or collection metadata. */
export interface CollectedAs {
  /** Windows path on the server (`C:\Program Files\...`) when the collection records it; `rel` stays the provenance. */
  server?: string;
  /** The collecting tool's own file (Velociraptor client_info.json, KAPE CopyLog ...), not a file of the server. */
  role?: 'collection-metadata';
}

/** One file of evidence: on disk, or an entry inside a zip container. Never written to. */
export type EvidenceFile =
  // `raw`: the path's bytes when a name in it is not valid UTF-8 (`abs` and `rel` are then display forms,
  // evidence/walk.ts displayName); fs calls go through fsPath. A Uint8Array: it crosses to worker threads.
  | ({ kind: 'fs'; abs: string; raw?: Uint8Array; rel: string; size: number; mtimeMs: number } & CollectedAs)
  | ({ kind: 'zip'; zip: string; entry: string; rel: string; size: number; mtimeMs: number } & CollectedAs)
  // A gzip file on disk (evidence/archives.ts), read decompressed; `size` is its compressed size.
  | ({ kind: 'gz'; abs: string; raw?: Uint8Array; rel: string; size: number; mtimeMs: number } & CollectedAs);

/** The path to open a file on disk by: its bytes when its name is not UTF-8. */
export function fsPath(file: EvidenceFile & { kind: 'fs' | 'gz' }): string | Uint8Array {
  return file.raw ?? file.abs;
}

export const CHUNK_SIZE = 4 * 1024 * 1024;

/**
 * Lends read buffers to one thread's readers (the scan context carries one per thread: engine/registry.ts). A
 * thread reads one file at a time, so the buffers of the last reader that finished are kept for the next one: a new
 * 4 MiB buffer per file outlived its file until a full garbage collection, and V8 lets some 64 MiB of such dead
 * buffers pile up per thread before it runs one (30-40 MB of peak RSS per worker). Two are kept: a reader of a file
 * longer than one chunk reads the next chunk ahead into a second buffer (readChunks, readRange). Readers running at
 * the same time get buffers of their own. Given back on the next turn of the event loop, so a caller that still
 * reads the last chunk synchronously after its loop (the `reuse` contract allows it) is done with it.
 */
export class ReadBuffers {
  private readonly spare: Buffer[] = [];

  /** `least`: the smallest buffer made (a thread's lender makes CHUNK_SIZE ones, kept from file to file). */
  constructor(private readonly least = CHUNK_SIZE) {}

  /**
   * `upTo`: the most this kind of read ever asks (a file's head: HEAD_BYTES), so a new buffer for it is made no
   * larger. The smallest spare that fits is lent: a head takes the small one, and the 4 MiB ones stay for chunks.
   */
  borrow(size: number, upTo = this.least): Buffer {
    let k = -1;
    for (let i = 0; i < this.spare.length; i++) if (this.spare[i].length >= size && (k < 0 || this.spare[i].length < this.spare[k].length)) k = i;
    const buf = k >= 0 ? this.spare.splice(k, 1)[0] : Buffer.allocUnsafeSlow(Math.max(size, Math.min(upTo, this.least)));
    return buf.subarray(0, size);
  }

  /** `now`: the caller kept no view of it (else it is given back on the next turn of the event loop). */
  giveBack(buf: Buffer, now = false): void {
    const whole = Buffer.from(buf.buffer);
    const keep = () => {
      if (this.spare.length < SPARE_BUFFERS) this.spare.push(whole);
      else {
        const k = this.spare.findIndex((b) => b.length < whole.length);
        if (k >= 0) this.spare[k] = whole;
      }
    };
    if (now) keep();
    else setImmediate(keep);
  }
}

/** Read buffers a lender keeps: one a chunk, one for the chunk read ahead, and the file's head (lendStart). */
const SPARE_BUFFERS = 3;

/** Starts a read of `n` bytes at `pos` (null: the file position) into `buf`; an error waits for the caller's await. */
function readInto(fh: FileHandle, buf: Buffer, n: number, pos: number | null): Promise<number> {
  const p = fh.read(buf, 0, n, pos).then((r) => r.bytesRead);
  // Handled here too: a read ahead that fails while its caller works on the chunk before must not end the process.
  p.catch(() => {});
  return p;
}

/**
 * Chunks of an open file from `pos` to its end, in buffers lent by `lender`: while the caller works on a full chunk,
 * the next one is read ahead into a second buffer (the caller was done with that one's chunk when it asked for this
 * one), as long as the read starts before `aheadUntil`. A short chunk is the end: no second buffer, no read ahead.
 */
async function* chunksAhead(fh: FileHandle, lender: ReadBuffers, chunkSize: number, pos: number, aheadUntil: number): AsyncGenerator<Buffer> {
  const bufs = [lender.borrow(chunkSize)];
  let k = 0;
  let next: Promise<number> | null = readInto(fh, bufs[0], chunkSize, pos);
  try {
    for (;;) {
      const bytesRead = await next!;
      next = null;
      if (bytesRead === 0) return;
      const chunk = bufs[k].subarray(0, bytesRead);
      pos += bytesRead;
      if (bytesRead === chunkSize && pos < aheadUntil) {
        k ^= 1;
        next = readInto(fh, (bufs[k] ??= lender.borrow(chunkSize)), chunkSize, pos);
      }
      // A turn of the event loop per chunk: a read ahead is done by the time its chunk is asked for, so without it
      // a scan in the main thread held it for a whole 64 MiB range (~0.2 s) while the workers' results waited.
      await nextTurn();
      yield chunk;
      next ??= readInto(fh, bufs[k], chunkSize, pos);
    }
  } finally {
    // A read still running writes into a buffer: wait for it before the buffer is lent again.
    if (next !== null) await next.catch(() => 0);
    for (const b of bufs) lender.giveBack(b);
  }
}

/** A lender for a one-off read (no thread context): a buffer of the size asked, gone with its reader. */
const oneOff = (): ReadBuffers => new ReadBuffers(0);

/**
 * Streams a file's bytes in large chunks, read-only. With `reuse` (the thread's lender), files on disk are read into
 * one buffer that is overwritten by the next chunk: the caller must be done with a chunk before asking for the next
 * (saves an allocation and a garbage collection per chunk on the hot path). `start`: the file's start as already
 * read (lendStart); when it was the whole file, its bytes are the one chunk and the file is not opened again.
 */
export async function* readChunks(file: EvidenceFile, chunkSize = CHUNK_SIZE, opts: { reuse?: ReadBuffers; start?: FileHead } = {}): AsyncGenerator<Buffer> {
  if (file.kind === 'fs' && opts.start?.whole) {
    // A copy: readers edit chunks in place (a lone CR becomes a LF) and the start is shared with the other scanners.
    // Most log files of a small host fit in it, and a second open, read and close through libuv's pool cost more
    // than the scan (a host of 170 small logs waited on them for half its time).
    if (opts.start.bytes.length === 0) return;
    const lender = opts.reuse ?? oneOff();
    const buf = lender.borrow(opts.start.bytes.length, HEAD_BYTES);
    try {
      opts.start.bytes.copy(buf);
      yield buf;
    } finally {
      lender.giveBack(buf);
    }
    return;
  }
  if (file.kind === 'fs' && opts.reuse) {
    const fh = await openEvidence(fsPath(file));
    try {
      yield* chunksAhead(fh, opts.reuse, chunkSize, 0, Number.POSITIVE_INFINITY);
    } finally {
      await fh.close();
    }
    return;
  }
  const stream =
    file.kind === 'fs'
      ? (await openEvidence(fsPath(file))).createReadStream({ highWaterMark: chunkSize })
      : file.kind === 'gz'
        ? await gunzipped(file, chunkSize)
        : await openZipEntryStream(file.zip, file.entry);
  for await (const chunk of stream) yield chunk as Buffer;
}

/** A log compressed in place (`u_ex210305.log.gz`) is named by its log name for date and format checks. */
export function withoutGz(rel: string): string {
  return rel.length > 3 && rel.slice(-3).toLowerCase() === '.gz' ? rel.slice(0, -3) : rel;
}

/**
 * Decompressed bytes a `.gz` may yield per byte of its own size: logs compress ~10-50:1, deflate's ceiling is ~1032:1,
 * so 200 stops a bomb early and no real log.
 */
const GZIP_MAX_RATIO = 200;
/** Small files may exceed the ratio (a few KB of zeros) harmlessly: the limit starts above this size. */
const GZIP_RATIO_MIN_BYTES = 64 * 1024 * 1024;

/** A `.gz` file's decompressed bytes, capped against gzip bombs. */
async function gunzipped(file: EvidenceFile & { kind: 'gz' }, chunkSize: number): Promise<Readable> {
  const src = (await openEvidence(fsPath(file))).createReadStream({ highWaterMark: chunkSize });
  // pipeline: a consumer that stops early (readHead) or an error destroys every stage, closing the file.
  return pipeline(src, createGunzip({ chunkSize: 64 * 1024 }), new ByteLimit(Math.max(file.size * GZIP_MAX_RATIO, GZIP_RATIO_MIN_BYTES), () => `${file.rel} inflates to more than ${GZIP_MAX_RATIO}× its size (gzip bomb?): read stopped`), () => {});
}

/**
 * Streams the lines of a file on disk that start in [start, end): the partial line at `start` is skipped (its
 * owner is the range before) and the line that holds byte `end - 1` is read to its line feed. One reused buffer,
 * as readChunks with `reuse`, from `buffers` (the thread's lender).
 */
export async function* readRange(file: EvidenceFile & { kind: 'fs' }, start: number, end: number, buffers = oneOff(), chunkSize = CHUNK_SIZE): AsyncGenerator<Buffer> {
  const fh = await openEvidence(fsPath(file));
  try {
    // From the byte before `start`: when it is a line feed, `start` itself begins a line.
    let pos = start === 0 ? 0 : start - 1;
    let skipping = start > 0;
    // Read ahead only inside the range: past `end`, only the rest of its last line is wanted.
    for await (let chunk of chunksAhead(fh, buffers, chunkSize, pos, end)) {
      const bytesRead = chunk.length;
      pos += bytesRead;
      if (skipping) {
        const nl = chunk.indexOf(10);
        if (nl === -1) {
          if (pos >= end) return; // one line runs through the whole range: it belongs to an earlier one
          continue;
        }
        skipping = false;
        if (pos - bytesRead + nl + 1 >= end) return;
        chunk = chunk.subarray(nl + 1);
      }
      if (pos >= end) {
        const nl = chunk.indexOf(10, Math.max(0, end - 1 - (pos - chunk.length)));
        if (nl !== -1) {
          yield chunk.subarray(0, nl + 1);
          return;
        }
      }
      yield chunk;
    }
  } finally {
    await fh.close();
  }
}

/** How much of a file's start is read to classify it (and handed to its scanners). */
export const HEAD_BYTES = 64 * 1024;

/** The first bytes of a file; `whole` when they are all of it (its end was reached within them). */
export interface FileHead {
  bytes: Buffer;
  whole: boolean;
}

/** A file's start in a buffer lent by the thread's lender: valid until `release`, which gives the buffer back. */
export interface LentStart {
  head: FileHead;
  release(): void;
}

/**
 * Reads at most `n` bytes from the start of a file, and whether that is the whole file, into a buffer of `buffers`
 * (the thread's lender: a scan reads every head through it) instead of a copy per file: 16,000 web files read
 * whole made as many short-lived buffers of up to 4 MiB, the file sweep's peak RSS. On disk with blocking calls: a
 * thread reads one file at a time, and 50,000 small files spent a third of a sweep waiting on libuv's thread pool
 * for the promise-based open, read and close. The caller must `release` once no view of `head.bytes` is left.
 */
export async function lendStart(file: EvidenceFile, n: number, buffers = oneOff()): Promise<LentStart> {
  if (file.kind !== 'fs') return { head: await streamedStart(file, n), release: () => {} };
  const fd = openEvidenceSync(fsPath(file));
  // One byte more than the listed size: reaching the end before it proves the whole file (it may have grown).
  const buf = buffers.borrow(Math.min(n, Math.max(file.size, 0) + 1), n + 1);
  let got = 0;
  try {
    for (let r = -1; got < buf.length && r !== 0; got += r) r = readSync(fd, buf, got, buf.length - got, got);
  } catch (err) {
    buffers.giveBack(buf, true);
    throw err;
  } finally {
    closeSync(fd);
  }
  let lent = true;
  const release = () => {
    if (lent) buffers.giveBack(buf, true);
    lent = false;
  };
  return { head: { bytes: buf.subarray(0, got), whole: got < buf.length }, release };
}

/** lendStart's head, copied out of the lender's buffer: for a caller that keeps it. */
export async function readStart(file: EvidenceFile, n = HEAD_BYTES, buffers = oneOff()): Promise<FileHead> {
  if (file.kind !== 'fs') return streamedStart(file, n);
  const { head, release } = await lendStart(file, n, buffers);
  try {
    return { bytes: Buffer.from(head.bytes), whole: head.whole };
  } finally {
    release();
  }
}

/** A file's start read through readChunks (a zip entry, a gzip file). */
async function streamedStart(file: EvidenceFile, n: number): Promise<FileHead> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of readChunks(file, Math.min(n + 1, CHUNK_SIZE))) {
    parts.push(chunk);
    total += chunk.length;
    if (total > n) break;
  }
  return { bytes: Buffer.concat(parts).subarray(0, n), whole: total <= n };
}

/** Reads at most `n` bytes from the start of a file. */
export async function readHead(file: EvidenceFile, n = HEAD_BYTES): Promise<Buffer> {
  return (await readStart(file, n)).bytes;
}

/** Reads the whole file (only for files known to be small). */
export async function readAll(file: EvidenceFile): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of readChunks(file)) parts.push(chunk);
  return Buffer.concat(parts);
}
