// Archives inside the evidence: on a real server, old IIS and Exchange logs are often compressed in place by a
// clean-up script (`u_ex210305.log.gz`, `W3SVC1\2021-03.zip`) because they fill the system drive. Those are the
// logs of the attack window: they are read, not counted as unrelated files.
import type { Skipped } from '../model.js';
import { CONTAINER_HEAD_BYTES, EXTRACT, containerKind, containerReason, maybeContainer, zipEntryContainerReason } from './containers.js';
import { type EvidenceFile, fsPath, withoutGz } from './file.js';
import { openEvidence } from './open.js';
import { listZip } from './zip.js';

/** What a `.gz` is read decompressed for: a log or event log compressed in place (other .gz files are swept as they are). */
const LOG_INSIDE = /\.(log|txt|evtx)$/i;

const ARCHIVE_NAME = /\.(zip|gz|tgz|7z|rar|cab)$/i;

const MAGIC_ZIP = 0x04034b50;

/** Byte ranges `[offset, length]` of a file, read through one handle (short at the end of the file). */
export async function readParts(file: EvidenceFile & { kind: 'fs' }, parts: ReadonlyArray<readonly [number, number]>): Promise<Buffer[]> {
  const fh = await openEvidence(fsPath(file));
  try {
    const out: Buffer[] = [];
    for (const [offset, n] of parts) {
      const b = Buffer.alloc(n);
      const { bytesRead } = await fh.read(b, 0, n, offset);
      out.push(b.subarray(0, bytesRead));
    }
    return out;
  } finally {
    await fh.close();
  }
}

/** Why a disk image or an archive exhunt has no reader for is not read, or null (not one, or unreadable). */
async function fsContainerReason(file: EvidenceFile & { kind: 'fs' }): Promise<string | null> {
  try {
    // A fixed VHD is the raw disk with a 512-byte footer: its signature is at the end only.
    const footer = /\.vhd$/i.test(file.rel) && file.size >= 1024;
    const [head, tail] = await readParts(file, footer ? [[0, CONTAINER_HEAD_BYTES], [file.size - 512, 512]] : [[0, CONTAINER_HEAD_BYTES]]);
    return containerReason(file.rel, head, tail ?? null);
  } catch {
    return null; // the file scan reports why it cannot be read
  }
}

/**
 * Opens the archives found in a folder of evidence. A `.gz` file (gzip magic) is read decompressed in its place.
 * A `.zip` file (zip magic) stays a file (the file rules judge it: staged data) and its entries are added as files
 * named `<zip>/<entry>`, read in place. An archive inside an archive, or an archive of another kind, is not
 * opened and is named in `skipped` so that the report says which logs were not read.
 */
export async function openArchives(files: EvidenceFile[], skipped: Skipped[]): Promise<EvidenceFile[]> {
  const out: EvidenceFile[] = [];
  for (const f of files) {
    // Disk images and 7z/RAR/tar: still swept as files (hash, staging rules), and named as not opened.
    if (f.kind === 'fs' && !f.raw && maybeContainer(f.rel)) {
      const reason = await fsContainerReason(f);
      if (reason !== null) skipped.push({ path: f.rel, reason, unread: containerKind(f.rel) });
      out.push(f);
      continue;
    }
    const inZip = f.kind === 'zip' ? zipEntryContainerReason(f.rel) : null;
    if (inZip !== null) skipped.push({ path: f.rel, reason: inZip, unread: containerKind(f.rel) });
    // A name that is not UTF-8 (f.raw) has no string path for the zip reader: left as a plain file.
    if (!ARCHIVE_NAME.test(f.rel) || (f.kind === 'fs' && f.raw)) {
      out.push(f);
      continue;
    }
    if (f.kind !== 'fs') {
      out.push(f);
      if (!/\.cab$/i.test(f.rel)) skipped.push({ path: f.rel, reason: `archive inside a zip: ${EXTRACT}`, unread: 'archive' });
      continue;
    }
    let head: Buffer;
    try {
      [head] = await readParts(f, [[0, 4]]);
    } catch {
      out.push(f); // the file scan reports why it cannot be read
      continue;
    }
    if (/\.t?gz$/i.test(f.rel) && head[0] === 0x1f && head[1] === 0x8b) {
      if (/\.tgz$|\.tar\.gz$/i.test(f.rel)) {
        out.push(f);
        skipped.push({ path: f.rel, reason: `tar archive: ${EXTRACT}`, unread: 'archive' });
      } else if (LOG_INSIDE.test(withoutGz(f.rel))) out.push({ ...f, kind: 'gz' });
      // Any other .gz stays the file it is: the sweep hashes and judges the bytes on disk.
      else out.push(f);
      continue;
    }
    out.push(f);
    if (!/\.zip$/i.test(f.rel) || head.length < 4 || head.readUInt32LE(0) !== MAGIC_ZIP) continue;
    try {
      const entries = await listZip(f.abs, (name, reason) => skipped.push({ path: `${f.rel}/${name}`, reason, unread: 'file' }));
      for (const e of entries) {
        const rel = `${f.rel}/${e.name}`;
        if (ARCHIVE_NAME.test(e.name)) {
          skipped.push({ path: rel, reason: `archive inside an archive: ${EXTRACT}`, unread: 'archive' });
          continue;
        }
        const container = zipEntryContainerReason(e.name);
        if (container !== null) skipped.push({ path: rel, reason: container, unread: containerKind(e.name) });
        out.push({ kind: 'zip', zip: f.abs, entry: e.name, rel, size: e.size, mtimeMs: e.mtimeMs });
      }
    } catch (err) {
      skipped.push({ path: f.rel, reason: `zip not readable, its entries not scanned: ${err instanceof Error ? err.message : String(err)}`, unread: 'archive' });
    }
  }
  return out;
}
