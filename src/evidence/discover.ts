import { lstatSync, type Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import type { Skipped } from '../model.js';
import type { EvidenceFile } from './file.js';
import { openEvidence } from './open.js';
import { specialKind, walkFiles } from './walk.js';
import { listZip } from './zip.js';

/** Is this file a zip container (by its magic bytes, not its name)? */
export async function isZip(path: string): Promise<boolean> {
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

/** Why a special file was not read, by kind (said in the host's skipped list, never silently left out). */
function specialReason(kind: string): string {
  return `${kind}: not a regular file, not opened${kind === 'FIFO' ? ' (reading a FIFO blocks until something writes to it)' : ''}`;
}

/**
 * A folder outside the input read as part of the same host: Exchange installed on D:\ while C:\ is scanned. Its
 * files are named `rel/…` (`D/Program Files/…`: a drive as its letter, as a case folder keeps it).
 */
export interface ElsewhereFolder {
  path: string;
  rel: string;
  /** A folder below `path` (its parts joined with `/`) left out of the walk: the input itself, read once as such. */
  skip?: string;
}
/** A folder below the input (relative to it), or one elsewhere. */
export type HostFolder = string | ElsewhereFolder;

/** The evidence name of a Windows folder given by its own path: `D:\Exchange` → `D/Exchange`. */
export function elsewhere(path: string): ElsewhereFolder {
  const rel = path.replace(/^([A-Za-z]):(?=[\\/]|$)/, '$1').split(/[\\/]+/).filter(Boolean).join('/');
  return { path, rel };
}

/**
 * The evidence name of a folder read as part of a host (`scan PATH --also SPEC`), so that its files read as server
 * paths: `D=DIR` (DIR is the root of drive D:, as `collect D=…` takes it) → `D/…`; a Windows path → its drive and
 * path (`D:\Exchange` → `D/Exchange/…`); a folder named as a drive (`/mnt/d`, a case folder's `D`) → `D/…`. Any
 * other folder is named by its own name (`/mnt/mail01-d` → `mail01-d/…`), with `note` saying how to name its drive.
 * `resolve`: the platform's path resolution.
 */
export function alsoFolder(spec: string, resolve: (p: string) => string): ElsewhereFolder & { note?: string } {
  const drive = /^([A-Za-z])=(.+)$/.exec(spec);
  if (drive) return { path: resolve(drive[2]), rel: drive[1].toUpperCase() };
  const path = resolve(spec);
  if (/^[A-Za-z]:(?:[\\/]|$)/.test(path)) return elsewhere(path);
  const name = basename(path);
  if (/^[A-Za-z]$/.test(name)) return { path, rel: name.toUpperCase() };
  return { path, rel: name, note: `--also ${spec}: its files are named ${name}/…, not as on a drive of the server; give --also D=${spec} when it is the root of drive D:` };
}

/** Names of the junctions Windows keeps for old programs (Documents and Settings, a profile's Application Data …). */
const WINDOWS_JUNCTIONS: ReadonlySet<string> = new Set(
  ['documents and settings', 'all users', 'default user', 'application data', 'local settings', 'my documents', 'my music', 'my pictures', 'my videos', 'nethood', 'printhood', 'recent', 'sendto', 'start menu', 'templates', 'cookies', 'history', 'temporary internet files'],
);

/**
 * Lists every file of one host's evidence, as they are found (a scan starts on them before the listing ends): a
 * folder (walked with the one folder walker, evidence/walk.ts: symbolic links not followed, FIFOs/sockets/devices
 * listed as skipped, names that are not UTF-8 kept as bytes), a single file, or a zip container (its entries, read in
 * place). Nothing is opened for writing. `only`: walk just these folders below a folder input (paths stay relative
 * to the input), e.g. for `scan --local`, and any `ElsewhereFolder` as part of the same host. The order is the
 * walk's: sort with `byRel`.
 */
export async function* evidenceFiles(input: string, skipped: Skipped[], only?: readonly HostFolder[]): AsyncGenerator<EvidenceFile> {
  const st = await lstat(input);
  if (st.isSymbolicLink()) {
    skipped.push({ path: basename(input), reason: 'symbolic link given as input: not followed', unread: 'folder' });
    return;
  }
  if (st.isFile()) {
    if (await isZip(input)) {
      const entries = await listZip(input, (name, reason) => skipped.push({ path: name, reason, unread: 'file' }));
      for (const e of entries) yield { kind: 'zip', zip: input, entry: e.name, rel: e.name.replace(/\\/g, '/'), size: e.size, mtimeMs: e.mtimeMs };
      return;
    }
    yield { kind: 'fs', abs: input, rel: basename(input), size: st.size, mtimeMs: st.mtimeMs };
    return;
  }
  if (!st.isDirectory()) {
    skipped.push({ path: basename(input), reason: specialReason(specialKind(st)) });
    return;
  }
  for (const sub of only ?? ['']) {
    const root = typeof sub === 'string' ? join(input, sub) : sub.path;
    const prefix = typeof sub === 'string' ? toRel(input, root) : sub.rel;
    const rel = (parts: readonly string[]) => [prefix, ...parts].filter(Boolean).join('/');
    // A folder named to be read with the input that is not there (a stale %ExchangeInstallPath%, a drive not
    // mounted): said, and the rest is scanned. Not `unread`: nothing exists to read (coverage says what is missing).
    if (typeof sub !== 'string' && !(await lstat(sub.path).catch(() => null))) {
      skipped.push({ path: sub.rel, reason: `folder ${sub.path} does not exist: not read (named to be read as part of this host)` });
      continue;
    }
    const skip = typeof sub === 'string' ? undefined : sub.skip;
    const key = (p: string) => (process.platform === 'win32' ? p.toLowerCase() : p);
    const walk = walkFiles(root, {
      ...(skip !== undefined ? { enter: (_name: string, _depth: number, parts: readonly string[]) => key(parts.join('/')) !== key(skip) } : {}),
      problem: (parts, kind, err) =>
        // A link is not followed (no loops, nothing outside the evidence), but what it points to was not read: judged
        // by its path like a folder (engine/verdict.ts), whether it points to a folder or a file. Windows' own
        // compatibility junctions point at folders of the same drive, read under their real names.
        skipped.push({
          path: rel(parts) || '.',
          reason: kind === 'link' ? 'symbolic link: not followed' : `folder not readable: ${err?.code ?? String(err)}`,
          ...(kind === 'link' && WINDOWS_JUNCTIONS.has((parts.at(-1) ?? '').toLowerCase()) ? {} : { unread: 'folder' as const }),
        }),
      special: (parts, kind) => skipped.push({ path: rel(parts), reason: specialReason(kind) }),
    });
    for await (const f of walk) {
      let s: Stats;
      try {
        // Synchronous: one awaited lstat per file costs a thread-pool round trip (50k files of an install tree:
        // 1.7 s against 0.2 s).
        s = lstatSync(f.path);
      } catch (err) {
        skipped.push({ path: rel(f.parts), reason: `not readable: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, unread: 'file' });
        continue;
      }
      // Replaced by something else between the listing and now: not read (a FIFO would block).
      if (!s.isFile()) {
        skipped.push({ path: rel(f.parts), reason: s.isSymbolicLink() || s.isDirectory() ? 'replaced while listing: not read' : specialReason(specialKind(s)) });
        continue;
      }
      const file: EvidenceFile = { kind: 'fs', abs: f.abs, rel: tailOf(f.abs, rel(f.parts)), size: s.size, mtimeMs: s.mtimeMs };
      if (typeof f.path !== 'string') file.raw = f.path;
      yield file;
    }
  }
}

/** The order of a host's file list: by `rel`. */
export function byRel(a: EvidenceFile, b: EvidenceFile): number {
  return a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0;
}

/**
 * `rel` as the end of `abs` when it is one (POSIX paths): V8 then keeps a slice of `abs`, not a second copy of the
 * path — a host with 200,000 files keeps every file's entry until its end.
 */
function tailOf(abs: string, rel: string): string {
  return abs.length > rel.length && abs.endsWith(rel) && abs[abs.length - rel.length - 1] === '/' ? abs.slice(abs.length - rel.length) : rel;
}
