import { lstat, opendir, } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import type { Skipped } from '../model.js';
import type { EvidenceFile } from './file.js';
import { openEvidence } from './open.js';
import { listZip } from './zip.js';

/** Is this file a zip container (by its magic bytes, not its name)? */
async function isZip(path: string): Promise<boolean> {
  const fh = await openEvidence(path);
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    return bytesRead === 4 && b.readUInt32LE(0) === 0x04034b50;
  } finally {
    await fh.close();
  }
}

function toRel(root: string, abs: string): string {
  return relative(root, abs).split(sep).join('/');
}

/**
 * Lists every file of one host's evidence: a folder (walked recursively, symbolic links not followed), a single
 * file, or a zip container (its entries, read in place). Nothing is opened for writing. `only`: walk just these
 * folders below a folder input (paths stay relative to the input), e.g. for `scan --local`.
 */
export async function listEvidence(input: string, skipped: Skipped[], only?: readonly string[]): Promise<EvidenceFile[]> {
  const st = await lstat(input);
  if (st.isSymbolicLink()) {
    skipped.push({ path: basename(input), reason: 'symbolic link given as input: not followed' });
    return [];
  }
  if (st.isFile()) {
    if (await isZip(input)) {
      const entries = await listZip(input, (name, reason) => skipped.push({ path: name, reason }));
      return entries.map((e) => ({ kind: 'zip', zip: input, entry: e.name, rel: e.name.replace(/\\/g, '/'), size: e.size, mtimeMs: e.mtimeMs }));
    }
    return [{ kind: 'fs', abs: input, rel: basename(input), size: st.size, mtimeMs: st.mtimeMs }];
  }
  const files: EvidenceFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    let handle;
    try {
      handle = await opendir(dir);
    } catch (err) {
      skipped.push({ path: toRel(input, dir) || '.', reason: `folder not readable: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
      return;
    }
    const subdirs: string[] = [];
    for await (const d of handle) {
      const abs = join(dir, d.name);
      if (d.isSymbolicLink()) skipped.push({ path: toRel(input, abs), reason: 'symbolic link: not followed' });
      else if (d.isDirectory()) subdirs.push(abs);
      else if (d.isFile()) {
        try {
          const s = await lstat(abs);
          files.push({ kind: 'fs', abs, rel: toRel(input, abs), size: s.size, mtimeMs: s.mtimeMs });
        } catch (err) {
          skipped.push({ path: toRel(input, abs), reason: `not readable: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
        }
      }
    }
    subdirs.sort();
    for (const s of subdirs) await walk(s);
  };
  if (only) for (const sub of only) await walk(join(input, sub));
  else await walk(input);
  return files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}
