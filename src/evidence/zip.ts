import yauzl from 'yauzl';
import type { Readable } from 'node:stream';

export interface ZipEntryInfo {
  name: string;
  size: number;
  compressedSize: number;
  mtimeMs: number;
}

/** Hard limits for reading evidence zips: a hostile archive must not exhaust the machine. */
export const ZIP_LIMITS = {
  maxEntries: 2_000_000,
  /** Declared uncompressed/compressed ratio above which an entry is treated as a zip bomb. */
  maxRatio: 1000,
  /** Entries above this size with a ratio over 100 are refused too. */
  maxEntryBytes: 64 * 1024 ** 3,
};

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (err, zf) =>
      err || !zf ? reject(err ?? new Error('cannot open zip')) : resolve(zf),
    );
  });
}

/** Is this entry name safe to expose as a relative evidence path (no zip-slip, no absolute paths)? */
export function safeEntryName(name: string): string | null {
  const n = name.replace(/\\/g, '/');
  if (n.startsWith('/') || /^[a-zA-Z]:/.test(n)) return null;
  const parts = n.split('/');
  if (parts.some((p) => p === '..')) return null;
  return parts.filter((p) => p !== '' && p !== '.').join('/');
}

/** Lists the file entries of a zip, skipping directories and unsafe names (reported through `onSkip`). */
export async function listZip(path: string, onSkip: (name: string, reason: string) => void): Promise<ZipEntryInfo[]> {
  const zf = await openZip(path);
  const out: ZipEntryInfo[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      zf.on('error', reject);
      zf.on('end', () => resolve());
      zf.on('entry', (e: yauzl.Entry) => {
        const name = e.fileName;
        if (name.endsWith('/')) return zf.readEntry();
        const safe = safeEntryName(name);
        if (safe === null) onSkip(name, 'unsafe path in zip (absolute or contains ..): not read');
        else if (e.compressedSize > 0 && e.uncompressedSize / e.compressedSize > ZIP_LIMITS.maxRatio)
          onSkip(name, `compression ratio ${Math.round(e.uncompressedSize / e.compressedSize)}:1 looks like a zip bomb: not read`);
        else if (e.uncompressedSize > ZIP_LIMITS.maxEntryBytes) onSkip(name, 'entry larger than 64 GiB: not read');
        else if (out.length >= ZIP_LIMITS.maxEntries) onSkip(name, 'too many entries in zip: not read');
        else out.push({ name, size: e.uncompressedSize, compressedSize: e.compressedSize, mtimeMs: e.getLastModDate().getTime() });
        zf.readEntry();
      });
      zf.readEntry();
    });
  } finally {
    zf.close();
  }
  return out;
}

/** Opens one entry of a zip as a stream; the zip is closed when the stream ends. */
export async function openZipEntryStream(path: string, entryName: string): Promise<Readable> {
  const zf = await openZip(path);
  return new Promise((resolve, reject) => {
    let found = false;
    zf.on('error', reject);
    zf.on('end', () => {
      if (!found) {
        zf.close();
        reject(new Error(`entry not found in zip: ${entryName}`));
      }
    });
    zf.on('entry', (e: yauzl.Entry) => {
      if (e.fileName !== entryName) return zf.readEntry();
      found = true;
      zf.openReadStream(e, (err, stream) => {
        if (err || !stream) {
          zf.close();
          return reject(err ?? new Error('cannot read zip entry'));
        }
        stream.on('close', () => zf.close());
        stream.on('end', () => zf.close());
        resolve(stream);
      });
    });
    zf.readEntry();
  });
}
