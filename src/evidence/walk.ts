// The one folder walker: scan (evidence discovery), collect (copying from a live or mounted system), verify (a case
// folder) and --rules loading all list files through it, so they agree on links, special files, unreadable
// folders, names that are not UTF-8, and order.
//
// Names are read as bytes (`encoding: 'buffer'`): a file whose name is not valid UTF-8 (an attacker's web shell, a
// Latin-1 name from an old tool) would otherwise be decoded with U+FFFD and then not found again ("ENOENT"). Such
// a file is opened by its bytes (`path`) and shown with the bad bytes escaped (`displayName`).
import { isUtf8 } from 'node:buffer';
import type { Dirent, Stats } from 'node:fs';
import { lstat, opendir } from 'node:fs/promises';
import { join } from 'node:path';

export interface WalkedFile {
  /** Path components below the root, for display (see displayName). */
  parts: string[];
  /** Display form of the whole path (root joined with `parts`). */
  abs: string;
  /** What to hand to fs calls: `abs` when every name is UTF-8, else the path's bytes. */
  path: string | Buffer;
  name: string;
  /** Depth of the folder holding the file (0 = the root itself). */
  depth: number;
}

/** Entries that are neither files, folders nor links. Never opened: opening a FIFO blocks until a writer comes. */
export type SpecialKind = 'FIFO' | 'socket' | 'character device' | 'block device' | 'unknown type';

export interface WalkOptions {
  /** Enter this sub-folder (`parts`: its path below the root) of a folder at `depth`? Default: every one. */
  enter?: (name: string, depth: number, parts: readonly string[]) => boolean;
  /**
   * A symbolic link or junction (never followed) or a folder that cannot be read (never fatal). `parts` is empty for
   * the root; `error` is the read error.
   */
  problem: (parts: readonly string[], kind: 'link' | 'unreadable', error?: NodeJS.ErrnoException) => void;
  /** A FIFO, socket or device (never opened). Not reported when absent. */
  special?: (parts: readonly string[], kind: SpecialKind) => void;
}

/**
 * A file name for display: unchanged when it is valid UTF-8; otherwise every byte that is not part of a valid
 * UTF-8 sequence is written `%XX` (and `%` itself `%25`, so the escaped form cannot be mistaken for a real name).
 * Paths in collected cases use the same form (response/collect.ts), so scan output matches before and after.
 */
export function displayName(raw: Buffer): string {
  if (isUtf8(raw)) return raw.toString('utf8');
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const n = utf8SequenceLength(raw, i);
    if (n === 0) {
      out += `%${raw[i].toString(16).toUpperCase().padStart(2, '0')}`;
      i++;
    } else {
      const s = raw.toString('utf8', i, i + n);
      out += s === '%' ? '%25' : s;
      i += n;
    }
  }
  return out;
}

/** Length of the valid UTF-8 sequence starting at `i` (RFC 3629: no overlongs, surrogates or > U+10FFFF), or 0. */
function utf8SequenceLength(b: Buffer, i: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k] >= lo && b[i + k] <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

export function specialKind(d: EntryType): SpecialKind {
  if (d.isFIFO()) return 'FIFO';
  if (d.isSocket()) return 'socket';
  if (d.isCharacterDevice()) return 'character device';
  if (d.isBlockDevice()) return 'block device';
  return 'unknown type';
}

export type EntryType = Pick<Stats, 'isFile' | 'isDirectory' | 'isSymbolicLink' | 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice'>;

interface Folder {
  parts: string[];
  raw: Buffer[];
  depth: number;
}

const SEP = Buffer.from('/');

/** The bytes of root + raw names, for fs calls. */
function rawPath(root: Buffer, raw: readonly Buffer[]): Buffer {
  return Buffer.concat([root, ...raw.flatMap((r) => [SEP, r])]);
}

/**
 * Files below `root`, depth first, sub-folders in sorted (byte) order; links are reported, not followed; special
 * files are reported to `special`, never opened. Iterative (an explicit stack): a 2,000-deep tree costs no
 * recursion, and a path too long to open is an unreadable folder like any other.
 */
export async function* walkFiles(root: string, opts: WalkOptions): AsyncGenerator<WalkedFile> {
  const rootBytes = Buffer.from(root);
  const stack: Folder[] = [{ parts: [], raw: [], depth: 0 }];
  while (stack.length > 0) {
    const { parts, raw, depth } = stack.pop()!;
    const bytesOnly = raw.some((r) => !isUtf8(r));
    const fsDir = bytesOnly ? rawPath(rootBytes, raw) : join(root, ...parts);
    let dir;
    try {
      // Node gives Buffer names with 'buffer'; @types/node 20 only types BufferEncoding here. 1024 entries per read,
      // not 32: an install tree's folders hold thousands of files, each batch a thread-pool round trip.
      dir = await opendir(fsDir, { encoding: 'buffer' as BufferEncoding, bufferSize: 1024 });
    } catch (err) {
      opts.problem(parts, 'unreadable', err as NodeJS.ErrnoException);
      continue;
    }
    const subdirs: Folder[] = [];
    try {
      for await (const d of dir as unknown as AsyncIterable<Dirent<Buffer>>) {
        const name = displayName(d.name);
        const here = [...parts, name];
        let kind: EntryType = d;
        // Some file systems do not give the type in the listing (DT_UNKNOWN): ask.
        if (!d.isFile() && !d.isDirectory() && !d.isSymbolicLink() && specialKind(d) === 'unknown type') {
          kind = (await lstat(rawPath(rootBytes, [...raw, d.name]), {}).catch(() => null)) ?? d;
        }
        if (kind.isSymbolicLink()) opts.problem(here, 'link');
        else if (kind.isDirectory()) {
          if (!opts.enter || opts.enter(name, depth, here)) subdirs.push({ parts: here, raw: [...raw, d.name], depth: depth + 1 });
        } else if (kind.isFile()) {
          const utf8 = !bytesOnly && isUtf8(d.name);
          const abs = join(root, ...here);
          yield { parts: here, abs, path: utf8 ? abs : rawPath(rootBytes, [...raw, d.name]), name, depth };
        } else opts.special?.(here, specialKind(kind));
      }
    } catch (err) {
      // A folder that fails mid-listing (I/O error on a damaged image): what was listed stands, the rest is named.
      opts.problem(parts, 'unreadable', err as NodeJS.ErrnoException);
    }
    subdirs.sort((a, b) => Buffer.compare(b.raw[b.raw.length - 1], a.raw[a.raw.length - 1]));
    stack.push(...subdirs);
  }
}
