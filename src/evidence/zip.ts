// Reading evidence zips in place (triage zips, exhunt cases, collector zips). A zip from a compromised host is
// hostile: entry names, declared sizes, attributes and flags are all checked before anything is read.
import { closeSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ByteLimit } from './byte-limit.js';
import type { Entry, ZipFile } from 'yauzl';
import { openEvidenceFd } from './open.js';

export interface ZipEntryInfo {
  /** Safe relative path (`/` separated, no `..`, no leading `/`); the key for `openZipEntryStream`. */
  name: string;
  size: number;
  compressedSize: number;
  mtimeMs: number;
}

/** Hard limits for reading evidence zips: a hostile archive must not exhaust the machine. */
const ZIP_LIMITS = {
  maxEntries: 2_000_000,
  /** Declared uncompressed/compressed ratio above which a large entry is treated as a zip bomb. */
  maxRatio: 1000,
  /**
   * The ratio rule applies above this size only: deflate reaches ~1030:1 on zero-filled data (e.g. an EVTX file
   * with empty chunks), and a small entry is harmless because reading is streamed and capped at its declared size.
   */
  ratioMinBytes: 64 * 1024 * 1024,
  maxEntryBytes: 64 * 1024 ** 3,
  /**
   * All entries together may declare at most maxRatio × the zip's own size, plus ratioMinBytes: entries each under
   * the ratio rule (or sharing compressed data) must not add up to a bomb (a 66 KB zip declared 2.5 GB).
   */
  totalRatio: 1000,
  /** Open zip indexes kept per process. */
  cacheSize: 4,
};

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

/** Is this entry name safe to expose as a relative evidence path (no zip-slip, no absolute paths)? */
export function safeEntryName(name: string): string | null {
  const n = name.replace(/\\/g, '/');
  if (n.startsWith('/') || /^[a-zA-Z]:/.test(n) || n.includes('\0')) return null;
  const parts = n.split('/');
  if (parts.some((p) => p === '..')) return null;
  const safe = parts.filter((p) => p !== '' && p !== '.').join('/');
  return safe === '' ? null : safe;
}

/** Why an entry must not be read, or null when it may be. Pure: decided from the central directory record. */
function entryProblem(e: Entry): string | null {
  if ((e.generalPurposeBitFlag & 0x1) !== 0) return 'encrypted entry: cannot be read';
  const type = (e.externalFileAttributes >>> 16) & S_IFMT;
  const unix = e.versionMadeBy >> 8 === 3;
  if (type === S_IFLNK) return 'symbolic link entry: not followed';
  if (unix && type !== 0 && type !== S_IFREG) return 'not a regular file (device, pipe or socket entry): not read';
  if (e.compressionMethod !== 0 && e.compressionMethod !== 8) return `compression method ${e.compressionMethod} not supported: not read`;
  if (e.compressionMethod === 0 && e.compressedSize !== e.uncompressedSize) return 'stored entry whose sizes disagree: not read';
  if (e.uncompressedSize > ZIP_LIMITS.maxEntryBytes) return 'entry larger than 64 GiB: not read';
  if (e.uncompressedSize > 0 && e.compressedSize === 0) return 'entry declares data but no compressed bytes (zip bomb?): not read';
  if (e.uncompressedSize > ZIP_LIMITS.ratioMinBytes && e.compressedSize > 0 && e.uncompressedSize / e.compressedSize > ZIP_LIMITS.maxRatio)
    return `compression ratio ${Math.round(e.uncompressedSize / e.compressedSize)}:1 looks like a zip bomb: not read`;
  return null;
}

interface ZipIndex {
  zf: ZipFile;
  entries: Map<string, Entry>;
  skipped: Array<{ name: string; reason: string }>;
  streams: number;
}

/** yauzl is loaded by the first zip only: ~10 MB of RSS in every worker and command otherwise. */
const loadYauzl = async () => (await import('yauzl')).default;

async function openZip(path: string): Promise<ZipFile> {
  const yauzl = await loadYauzl();
  const fd = await openEvidenceFd(path); // no atime update on the evidence zip; closed by zf.close()
  return new Promise((resolve, reject) => {
    // decodeStrings=false: yauzl would otherwise abort the whole archive on one hostile name; names are checked here.
    // validateEntrySizes=false: sizes are checked per entry below and enforced while streaming.
    yauzl.fromFd(fd, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: false }, (err, zf) => {
      if (err || !zf) {
        closeSync(fd);
        reject(err ?? new Error('cannot open zip'));
      } else resolve(zf);
    });
  });
}

async function buildIndex(path: string): Promise<ZipIndex> {
  const yauzl = await loadYauzl();
  const zf = await openZip(path);
  const index: ZipIndex = { zf, entries: new Map(), skipped: [], streams: 0 };
  const offsets = new Set<number>();
  const totalBudget = zf.fileSize * ZIP_LIMITS.totalRatio + ZIP_LIMITS.ratioMinBytes;
  let declared = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      zf.on('error', reject);
      zf.on('end', () => resolve());
      zf.on('entry', (e: Entry) => {
        const name = yauzl.getFileNameLowLevel(e.generalPurposeBitFlag, e.fileNameRaw, e.extraFields, false);
        if (name.endsWith('/')) return zf.readEntry(); // a directory carries no data and nothing is ever created
        const safe = safeEntryName(name);
        const problem =
          safe === null
            ? 'unsafe path in zip (absolute, drive letter or ..): not read'
            : index.entries.size >= ZIP_LIMITS.maxEntries
              ? 'too many entries in zip: not read'
              : (entryProblem(e) ??
                (declared + e.uncompressedSize > totalBudget
                  ? `entries declare more than ${ZIP_LIMITS.totalRatio}× the zip's size in total (zip bomb?): not read`
                  : null));
        if (problem !== null) index.skipped.push({ name, reason: problem });
        else if (index.entries.has(safe as string)) index.skipped.push({ name, reason: 'duplicate entry name: only the first is read' });
        else if (offsets.has(e.relativeOffsetOfLocalHeader))
          index.skipped.push({ name, reason: 'entry shares its data with another entry (overlapping zip bomb): not read' });
        else {
          offsets.add(e.relativeOffsetOfLocalHeader);
          declared += e.uncompressedSize;
          index.entries.set(safe as string, e);
        }
        zf.readEntry();
      });
      zf.readEntry();
    });
  } catch (err) {
    zf.close();
    throw err;
  }
  dropOverlapping(index);
  return index;
}

/**
 * Entries whose data ranges overlap (the "better zip bomb": every entry's compressed stream quotes the next entries,
 * so a few KB inflate many times over) are all refused. A range starts at the local header and is at least the
 * 30-byte header, the name and the compressed data long; real archives never share bytes between entries.
 */
function dropOverlapping(index: ZipIndex): void {
  const byOffset = [...index.entries].sort((a, b) => a[1].relativeOffsetOfLocalHeader - b[1].relativeOffsetOfLocalHeader);
  const overlapping = new Set<string>();
  let prev: { name: string; end: number } | null = null;
  for (const [name, e] of byOffset) {
    const start = e.relativeOffsetOfLocalHeader;
    const end = start + 30 + e.fileNameLength + e.compressedSize;
    if (prev && start < prev.end) {
      overlapping.add(prev.name);
      overlapping.add(name);
    }
    if (!prev || end > prev.end) prev = { name, end };
  }
  for (const name of overlapping) {
    index.entries.delete(name);
    index.skipped.push({ name, reason: 'entry data overlaps another entry (overlapping zip bomb): not read' });
  }
}

// One open index per zip (keyed by path, size and mtime), so opening entry N does not rescan the central directory.
const cache = new Map<string, Promise<ZipIndex>>();

async function getIndex(path: string): Promise<ZipIndex> {
  const st = await stat(path);
  const key = `${path}\0${st.size}\0${st.mtimeMs}`;
  let p = cache.get(key);
  if (p) {
    cache.delete(key); // re-insert: Map order is the LRU order
    cache.set(key, p);
    return p;
  }
  p = buildIndex(path);
  cache.set(key, p);
  p.catch(() => cache.delete(key));
  void evict();
  return p;
}

async function evict(): Promise<void> {
  for (const [key, p] of cache) {
    if (cache.size <= ZIP_LIMITS.cacheSize) return;
    const idx = await p.catch(() => null);
    if (idx && idx.streams === 0) {
      cache.delete(key);
      idx.zf.close();
    }
  }
}

/** Closes every cached zip (tests, and the end of a scan). */
export async function closeZips(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  for (const p of all) (await p.catch(() => null))?.zf.close();
}

/** Lists the readable file entries of a zip; directories are dropped, every refused entry is reported via `onSkip`. */
export async function listZip(path: string, onSkip: (name: string, reason: string) => void): Promise<ZipEntryInfo[]> {
  const index = await getIndex(path);
  for (const s of index.skipped) onSkip(s.name, s.reason);
  return [...index.entries].map(([name, e]) => ({
    name,
    size: e.uncompressedSize,
    compressedSize: e.compressedSize,
    mtimeMs: e.getLastModDate().getTime(),
  }));
}

/** Opens one listed entry (by the `name` listZip returned) as a byte-capped stream. */
export async function openZipEntryStream(path: string, entryName: string): Promise<Readable> {
  const index = await getIndex(path);
  const entry = index.entries.get(entryName);
  if (!entry) throw new Error(`entry not found in zip (or refused): ${entryName}`);
  const raw = await new Promise<Readable>((resolve, reject) =>
    index.zf.openReadStream(entry, (err, s) => (err || !s ? reject(err ?? new Error('cannot read zip entry')) : resolve(s))),
  );
  index.streams++;
  const limited = new ByteLimit(
    entry.uncompressedSize,
    () => `zip entry ${entryName} inflates beyond its declared ${entry.uncompressedSize} bytes (zip bomb?)`,
    (seen) => `zip entry ${entryName} is shorter than declared (${seen} < ${entry.uncompressedSize} bytes)`,
  );
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    index.streams--;
    raw.destroy();
  };
  limited.on('close', release);
  limited.on('error', release);
  raw.on('error', (err) => limited.destroy(err));
  return raw.pipe(limited);
}
