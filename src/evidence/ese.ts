// Exchange's ESE stores in a whole-drive scan (`scan C:\`, `scan --local`, a KAPE copy of a drive): the mailbox
// databases (V15\Mailbox\<db>\<db>.edb, tens to hundreds of GB) and their transaction logs (E00*.log, E00res*.jrs,
// E00.chk: thousands of 1 MB binary files), and the transport queue (mail.que, trn*.log). They hold mail, not the
// logs or files exhunt reads; streaming them through the file sweep costs the scan hours. They are left out and
// named in `skipped` per folder ("not read: mailbox database (N files, X GB)"), never silently.
//
// A file is left out only when three things agree, never by its name alone (a web shell named x.edb is still read):
//  - its header is an ESE header of the kind its extension says (Microsoft Extensible-Storage-Engine, dev/ese/src/inc:
//    DBFILEHDR has ulMagic 0x89ABCDEF at offset 4; DBFILEHDR, LGFILEHDR_FIXED and CHECKPOINT_FIXED all keep
//    le_filetype at offset 667: JET_filetypeDatabase 1, JET_filetypeLog 3, JET_filetypeCheckpoint 4; a log header's
//    le_cbSec, the sector size, is at offset 8);
//  - it lies in the store's folder layout: logs and checkpoint named with the store's log base name (E00…E99 for a
//    mailbox database, trn for the queue); a database under a `Mailbox` (`Queue`) folder, or in a folder (or beside
//    a folder, the `DB01.db` / `DB01.log` mount-point layout) holding that store's ESE logs;
//  - it is not in a folder IIS serves (`served`: the caller's rule), where Exchange keeps no store.
import { posix } from 'node:path';
import type { Skipped } from '../model.js';
import { byteSize } from '../semantics.js';
import { readParts } from './archives.js';
import type { EvidenceFile } from './file.js';

const MAGIC_DB = 0x89abcdef;
const FILETYPE_AT = 667;
/** Bytes of a head the check needs: le_filetype ends at 671. */
const HEAD = FILETYPE_AT + 4;
/** Head reads in flight at once (thousands of logs: one thread-pool round trip each). */
const PARALLEL = 32;

type EseKind = 'database' | 'log' | 'checkpoint';

/** The ESE file kind its header says, or null. */
export function eseKind(head: Buffer): EseKind | null {
  if (head.length < HEAD) return null;
  const type = head.readUInt32LE(FILETYPE_AT);
  if (head.readUInt32LE(4) === MAGIC_DB) return type === 1 ? 'database' : null;
  if (type === 3) return [512, 1024, 2048, 4096].includes(head.readUInt16LE(8)) ? 'log' : null;
  return type === 4 ? 'checkpoint' : null;
}

interface Store {
  what: string;
  /** A log, reserved log or checkpoint of this store, by name. */
  log: RegExp;
  database: RegExp;
  /** The folder a default install keeps the database under. */
  home: RegExp;
}

const STORES: readonly Store[] = [
  { what: 'mailbox database', log: /^e[0-9a-f]{2}(?:[0-9a-f]{8}|tmp|res\d{5})?\.(?:log|jrs|chk)$/i, database: /\.edb$/i, home: /(?:^|\/)mailbox\//i },
  { what: 'transport queue database', log: /^trn(?:[0-9a-f]{8}|tmp|res\d{5})?\.(?:log|jrs|chk)$/i, database: /^mail\.que$/i, home: /(?:^|\/)queue\//i },
];

/** The kind a file must be, by its extension. */
function expected(name: string): EseKind {
  return /\.chk$/i.test(name) ? 'checkpoint' : /\.(?:log|jrs)$/i.test(name) ? 'log' : 'database';
}

/** Names that may be part of a store (the header then decides): held back from an early start of the scan. */
export function maybeEseStore(rel: string): boolean {
  const name = posix.basename(rel);
  return STORES.some((s) => s.log.test(name) || s.database.test(name));
}

/** The path the layout is judged on: the server's, else the evidence's, with `/`. */
const place = (f: EvidenceFile) => (f.server ?? f.rel).replace(/\\/g, '/');

/** Why a live server's store file cannot be opened: Exchange's store process holds it without sharing it. */
const HELD_OPEN = new Set(['EBUSY', 'EPERM', 'EACCES']);

/** A file's head, for the check (injected for tests). */
export type HeadReader = (f: EvidenceFile & { kind: 'fs' }) => Promise<Buffer>;
const readHeadBytes: HeadReader = async (f) => (await readParts(f, [[0, HEAD]]))[0];

/**
 * The files of `files` that are not ESE stores; the stores are named in `skipped`, one line per folder.
 * `served`: is this evidence path in a folder IIS serves? On a live server (`scan --local`) the mounted database,
 * its current log and its checkpoint are held open by Exchange and cannot be read: such a file counts as the store's
 * only when its own folder's other logs proved the store by their headers, and the line says how many were held
 * open; any other file that cannot be opened stays in the list (the scan names it not readable).
 */
export async function withoutEseStores(files: EvidenceFile[], skipped: Skipped[], served: (path: string) => boolean, read: HeadReader = readHeadBytes): Promise<EvidenceFile[]> {
  const candidates = files.filter((f): f is EvidenceFile & { kind: 'fs' } => f.kind === 'fs' && maybeEseStore(f.rel) && !served(f.server ?? f.rel));
  if (candidates.length === 0) return files;
  const kinds = new Map<EvidenceFile, EseKind | 'held open'>();
  for (let i = 0; i < candidates.length; i += PARALLEL) {
    const batch = candidates.slice(i, i + PARALLEL);
    const heads = await Promise.all(batch.map((f) => read(f).then((h) => h, (err: NodeJS.ErrnoException) => (HELD_OPEN.has(err.code ?? '') ? ('held open' as const) : null))));
    batch.forEach((f, k) => {
      const h = heads[k];
      const kind = h === 'held open' ? h : h ? eseKind(h) : null;
      if (kind === 'held open' || (kind !== null && kind === expected(f.rel))) kinds.set(f, kind);
    });
  }
  // Folders holding each store's ESE logs or checkpoint (proved by their headers): their databases, and those of
  // sibling folders, are the store's.
  const logDirs = STORES.map((s) => new Set([...kinds].filter(([f, k]) => k !== 'database' && k !== 'held open' && s.log.test(posix.basename(f.rel))).map(([f]) => posix.dirname(place(f)).toLowerCase())));
  const parents = logDirs.map((dirs) => new Set([...dirs].map((d) => posix.dirname(d))));
  const storeOf = (f: EvidenceFile, kind: EseKind | 'held open'): Store | null => {
    const name = posix.basename(f.rel);
    const dir = posix.dirname(place(f)).toLowerCase();
    const proved = (i: number) => logDirs[i].has(dir);
    return (
      STORES.find((s, i) =>
        kind === 'held open'
          ? (s.log.test(name) || s.database.test(name)) && proved(i)
          : kind === 'database'
            ? s.database.test(name) && (s.home.test(place(f)) || proved(i) || parents[i].has(posix.dirname(dir)))
            : s.log.test(name),
      ) ?? null
    );
  };
  const left = new Map<string, { what: string; n: number; bytes: number; held: number }>();
  const out = files.filter((f) => {
    const kind = kinds.get(f);
    const store = kind ? storeOf(f, kind) : null;
    if (!store) return true;
    const dir = posix.dirname(f.rel);
    const key = `${dir}\u0000${store.what}`;
    const e = left.get(key) ?? { what: store.what, n: 0, bytes: 0, held: 0 };
    e.n++;
    e.bytes += f.size;
    if (kind === 'held open') e.held++;
    left.set(key, e);
    return false;
  });
  for (const [key, e] of left) {
    const dir = key.slice(0, key.indexOf('\u0000'));
    const held = e.held ? `; ${e.held} of them held open by Exchange, not readable` : '';
    skipped.push({
      path: dir,
      reason: `not read: ${e.what} (${e.n} file${e.n === 1 ? '' : 's'}, ${byteSize(e.bytes)}${held}): Exchange's ESE database and transaction log files, recognised by their ESE headers; they hold mail, not the logs or files exhunt reads`,
    });
  }
  return out;
}
