// The one folder walker: scan (evidence discovery), collect (copying from a live or mounted system) and verify (a
// case folder) all list files through it, so they agree on links, unreadable folders and order.
import { opendir } from 'node:fs/promises';
import { join } from 'node:path';

export interface WalkedFile {
  /** Path components below the root. */
  parts: string[];
  abs: string;
  name: string;
  /** Depth of the folder holding the file (0 = the root itself). */
  depth: number;
}

export interface WalkOptions {
  /** Enter this sub-folder of a folder at `depth`? Default: every one. */
  enter?: (name: string, depth: number) => boolean;
  /**
   * A symbolic link or junction (never followed) or a folder that cannot be read (never fatal). `parts` is empty for
   * the root; `error` is the read error.
   */
  problem: (parts: readonly string[], kind: 'link' | 'unreadable', error?: NodeJS.ErrnoException) => void;
}

/** Files below `root`, depth first, sub-folders in sorted order; links are reported, not followed. */
export async function* walkFiles(root: string, opts: WalkOptions, parts: string[] = [], depth = 0): AsyncGenerator<WalkedFile> {
  const abs = join(root, ...parts);
  let dir;
  try {
    dir = await opendir(abs);
  } catch (err) {
    opts.problem(parts, 'unreadable', err as NodeJS.ErrnoException);
    return;
  }
  const subdirs: string[] = [];
  for await (const d of dir) {
    if (d.isSymbolicLink()) opts.problem([...parts, d.name], 'link');
    else if (d.isDirectory()) {
      if (!opts.enter || opts.enter(d.name, depth)) subdirs.push(d.name);
    } else if (d.isFile()) yield { parts: [...parts, d.name], abs: join(abs, d.name), name: d.name, depth };
  }
  for (const s of subdirs.sort()) yield* walkFiles(root, opts, [...parts, s], depth + 1);
}
