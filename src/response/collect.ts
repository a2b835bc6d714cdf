// `exhunt collect`: copy the evidence set of exchange-evidence.md §4 from a server's drives (live on Windows, or
// mounted images) into a case folder or zip, hashing as it copies. The source is only ever opened read-only:
// no writes, no utimes, symbolic links and junctions are never followed, and a file that is locked or vanishes
// is recorded in the manifest instead of stopping the collection.
import { createHash } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, realpath, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { VERSION } from '../version.js';
import { openEvidence } from '../evidence/open.js';
import {
  CASE_SCHEMA,
  CUSTODY_LOG,
  FILES_DIR,
  incompletePath,
  MANIFEST_CSV,
  MANIFEST_JSON,
  sealPath,
  type CaseManifest,
  type ManifestError,
  type ManifestFile,
} from '../evidence/case.js';
import { custodyRecord, folderSealDigest, manifestCsv, sha256File, sha256Hex } from './custody.js';
import { peFileVersion } from '../parsers/pe.js';
import { COMMANDS_DIR, execRun, gatherCommands, type Run } from './collect-commands.js';
import { walkFiles, type WalkOptions } from '../evidence/walk.js';

export interface Volume {
  /** Drive letter on the server, upper case. */
  drive: string;
  /** Where that drive's root is readable here (`C:\`, or a mount point). */
  root: string;
}

export interface CollectOptions {
  volumes: Volume[];
  /** Case folder (created, must not exist or be empty) or a path ending in `.zip`. */
  out: string;
  /** Exchange install folder as a Windows path (`E:\Exchange\`) or a path readable here. */
  exchangePath?: string;
  /** The server's name, when it cannot be known (images). */
  host?: string | null;
  live: boolean;
  maxBytes: number | null;
  commandLine: string;
  onProgress?: (p: Progress) => void;
  /** Start again over a case an interrupted or failed collect left incomplete (only that case is removed). */
  replace?: boolean;
  /** Stops the collection (Ctrl-C): the case is left marked incomplete. */
  signal?: AbortSignal;
  /** How configuration commands run (tests replace the runner and the platform); execFile on this platform else. */
  commands?: { platform: NodeJS.Platform; run: Run };
}

export interface Progress {
  files: number;
  bytes: number;
  current: string;
}

export interface CollectResult {
  manifest: CaseManifest;
  out: string;
  bytes: number;
  /** The seal digest (folderSealDigest, or the zip's SHA-256): to be kept outside the case for `verify --expect`. */
  seal: string;
}

/** The collection stopped (a write to the case failed, or it was interrupted); the case is marked incomplete. */
export class CollectIncompleteError extends Error {
  override name = 'CollectIncompleteError';
  constructor(
    message: string,
    readonly interrupted: boolean,
  ) {
    super(message);
  }
}

/** A write to the case failed (disk full, I/O error): unlike a source that cannot be read, it ends the collection. */
class CaseWriteError extends Error {
  override name = 'CaseWriteError';
}

/** What to collect: a file or folder below the system drive root or the Exchange install folder. */
interface Target {
  base: 'system' | 'exchange';
  path: string[];
  kind: 'file' | 'tree';
  /** File-name filter (tree only); all files when absent. */
  filter?: RegExp;
  /** Only descend into these first-level folders (tree only). */
  top?: RegExp;
}

const WEB_CODE = /\.(aspx|ashx|asmx|asax|ascx|asp|axd|cshtml|vbhtml|master|svc|config|cs|vb|php|jsp)$/i;
const SETUP_LOGS = /\.(log|txt)$/i;
const EX_LOGS = [['HttpProxy'], ['ECP', 'Server'], ['ECP', 'Activity'], ['OABGeneratorLog'], ['Ews'], ['CmdletInfra'], ['MitigationService']];
export const EVTX_CHANNELS = [
  'Application.evtx',
  'MSExchange Management.evtx',
  'Security.evtx',
  'System.evtx',
  'Microsoft-Windows-Sysmon%4Operational.evtx',
  'Microsoft-Windows-PowerShell%4Operational.evtx',
  'Windows PowerShell.evtx',
  'Microsoft-Windows-Windows Defender%4Operational.evtx',
];
const tmpAspNet = (fw: string): Target => ({
  base: 'system',
  path: ['Windows', 'Microsoft.NET', fw, 'v4.0.30319', 'Temporary ASP.NET Files'],
  kind: 'tree',
  filter: /^App_Web_.*\.dll$/i,
});

/** exchange-evidence.md §4, small and decisive artefacts first so a size cap cuts the bulk logs, not the config. */
export const TARGETS: readonly Target[] = [
  { base: 'system', path: ['Windows', 'System32', 'inetsrv', 'config', 'applicationHost.config'], kind: 'file' },
  // Setup runs date the install and every CU upgrade (exposure windows); `.msilog` files are large and add nothing.
  { base: 'system', path: ['ExchangeSetupLogs'], kind: 'tree', filter: SETUP_LOGS },
  { base: 'system', path: ['inetpub', 'wwwroot'], kind: 'tree' },
  // The sign-in folders whole: a stealer hides in their scripts (flogon.js) and drops what it captured there as
  // .txt/.log/.dat (Positive Technologies 2024; MSTIC's owa\auth\Current\google.log). Files the broader targets
  // below also select are collected once.
  ...[['FrontEnd', 'HttpProxy', 'owa', 'auth'], ['FrontEnd', 'HttpProxy', 'ecp', 'auth'], ['ClientAccess', 'Owa', 'auth']].map(
    (path): Target => ({ base: 'exchange', path, kind: 'tree' }),
  ),
  { base: 'exchange', path: ['FrontEnd', 'HttpProxy'], kind: 'tree', filter: WEB_CODE },
  { base: 'exchange', path: ['ClientAccess'], kind: 'tree', filter: WEB_CODE },
  tmpAspNet('Framework64'),
  tmpAspNet('Framework'),
  { base: 'system', path: ['root'], kind: 'tree', filter: /\.dmp$/i },
  { base: 'system', path: ['Windows', 'Temp'], kind: 'tree', filter: /\.(dmp|bat|cmd|ps1|exe|dll|zip|7z|rar|cab)$/i },
  { base: 'system', path: ['ProgramData'], kind: 'tree', filter: /\.(7z|zip|rar|cab|dmp|wer)$/i },
  { base: 'system', path: ['Users', 'Public'], kind: 'tree', filter: /\.(exe|dll|bat|ps1|zip|7z|rar|dmp)$/i },
  ...EVTX_CHANNELS.map((f): Target => ({ base: 'system', path: ['Windows', 'System32', 'winevt', 'Logs', f], kind: 'file' })),
  // Defender's support log keeps its detections (a Chopper shell it quarantined) long after its event log rolled over.
  { base: 'system', path: ['ProgramData', 'Microsoft', 'Windows Defender', 'Support'], kind: 'tree', filter: /^MP(?:Log|Detection)-.*\.log$/i },
  { base: 'system', path: ['inetpub', 'logs', 'LogFiles'], kind: 'tree', top: /^W3SVC\d*$/i },
  ...EX_LOGS.map((p): Target => ({ base: 'exchange', path: ['Logging', ...p], kind: 'tree' })),
];

export const EXCHANGE_DEFAULT = ['Program Files', 'Microsoft', 'Exchange Server', 'V15'];

interface Located {
  vol: Volume;
  /** Names as they are on disk, from the volume root. */
  parts: string[];
}

/** Looks a path up one component at a time, case-insensitively (NTFS images mounted on Linux are case-sensitive). */
export async function resolveCi(root: string, parts: string[], want: 'file' | 'dir'): Promise<string[] | null> {
  const found: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const dir = join(root, ...found);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => null);
    const last = i === parts.length - 1;
    const hit = entries?.find(
      (d) => d.name.toLowerCase() === parts[i].toLowerCase() && (last && want === 'file' ? d.isFile() : d.isDirectory()),
    );
    if (!hit) return null;
    found.push(hit.name);
  }
  return found;
}

/** Maps `X:\a\b` onto the volume for drive X; other paths must lie inside one of the volumes. */
async function locateGiven(volumes: Volume[], given: string): Promise<Located | null> {
  const win = /^([A-Za-z]):[\\/]*(.*)$/.exec(given);
  if (win) {
    const vol = volumes.find((v) => v.drive === win[1].toUpperCase());
    const rel = win[2].split(/[\\/]+/).filter(Boolean);
    const parts = vol ? await resolveCi(vol.root, rel, 'dir') : null;
    return vol && parts ? { vol, parts } : null;
  }
  const abs = await realpath(given).catch(() => null);
  for (const vol of volumes) {
    const root = await realpath(vol.root);
    if (abs && (abs === root || abs.startsWith(root.endsWith(sep) ? root : root + sep))) {
      const rel = abs.slice(root.length).split(sep).filter(Boolean);
      return { vol, parts: rel };
    }
  }
  return null;
}

async function locateExchange(volumes: Volume[], given?: string): Promise<Located | null> {
  if (given) return locateGiven(volumes, given);
  for (const vol of volumes) {
    const parts = await resolveCi(vol.root, EXCHANGE_DEFAULT, 'dir');
    if (parts) return { vol, parts };
  }
  return null;
}

async function locateSystem(volumes: Volume[]): Promise<Volume> {
  for (const vol of volumes) if (await resolveCi(vol.root, ['Windows'], 'dir')) return vol;
  return volumes[0];
}

/** A path component as stored in the case: `\` and control characters would change meaning in zips/Windows. */
export function caseComponent(name: string): string {
  return name.replace(/[\\\x00-\x1f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

export function casePathFor(drive: string, parts: string[]): string {
  return [FILES_DIR, drive, ...parts.map(caseComponent)].join('/');
}

export function windowsPath(drive: string, parts: string[]): string {
  return `${drive}:\\${parts.join('\\')}`;
}

interface Found extends Located {
  abs: string;
  /** What to open: `abs`, or the path's bytes when a name in it is not UTF-8 (evidence/walk.ts). */
  path: string | Buffer;
}

/** Walks a folder without following links; unreadable folders and links are reported, not fatal. */
async function walkTree(base: Located, target: Target, out: Found[], errors: ManifestError[], signal?: AbortSignal): Promise<void> {
  const root = join(base.vol.root, ...base.parts);
  const original = (parts: readonly string[]) => windowsPath(base.vol.drive, [...base.parts, ...parts]);
  const problem: WalkOptions['problem'] = (parts, kind, err) =>
    errors.push({ original: original(parts), error: kind === 'link' ? 'symbolic link or junction: not followed' : `folder not readable: ${err?.code ?? err?.message}` });
  const special: WalkOptions['special'] = (parts, kind) => errors.push({ original: original(parts), error: `${kind}: not a regular file, not collected` });
  const enter = (name: string, depth: number) => depth > 0 || !target.top || target.top.test(name);
  for await (const f of walkFiles(root, { enter, problem, special })) {
    signal?.throwIfAborted();
    if ((f.depth > 0 || !target.top) && (!target.filter || target.filter.test(f.name))) out.push({ vol: base.vol, parts: [...base.parts, ...f.parts], abs: f.abs, path: f.path });
  }
}

async function findFiles(volumes: Volume[], exchange: Located | null, errors: ManifestError[], signal?: AbortSignal): Promise<Found[]> {
  const system = await locateSystem(volumes);
  const found: Found[] = [];
  for (const t of TARGETS) {
    const base: Located | null = t.base === 'system' ? { vol: system, parts: [] } : exchange;
    if (!base) continue;
    const parts = await resolveCi(join(base.vol.root, ...base.parts), t.path, t.kind === 'file' ? 'file' : 'dir');
    if (!parts) continue;
    const at: Located = { vol: base.vol, parts: [...base.parts, ...parts] };
    if (t.kind === 'file') {
      const abs = join(at.vol.root, ...at.parts);
      found.push({ ...at, abs, path: abs });
    } else await walkTree(at, t, found, errors, signal);
  }
  const seen = new Set<string>();
  const key = (f: Found) => (typeof f.path === 'string' ? f.path : `bytes:${f.path.toString('hex')}`);
  return found.filter((f) => !seen.has(key(f)) && Boolean(seen.add(key(f))));
}

// O_NOATIME keeps Linux from touching atime on mounted images; O_NOFOLLOW closes the lstat→open race. Both are
// undefined (0) on Windows, where libuv opens with FILE_SHARE_READ|WRITE|DELETE, i.e. shared with the writer.
const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);
const openSource = (path: string | Buffer) => openEvidence(path, READ_FLAGS);

export const isZipPath = (p: string): boolean => p.toLowerCase().endsWith('.zip');
const iso = (ms: number): string | null => (ms > 0 ? new Date(ms).toISOString() : null);

/** Where copies go: a folder or a zip. `add` resolves once the whole stream has been consumed. */
interface Sink {
  add(casePath: string, data: Readable, mtime: Date, atime: Date): Promise<void>;
  addBuffer(casePath: string, data: Buffer): Promise<void>;
  finish(): Promise<void>;
  /** Stops writing after a failure (the case stays incomplete). */
  abort(): void;
}

async function dirSink(out: string): Promise<Sink> {
  await mkdir(out, { recursive: true });
  const dest = (casePath: string): string => join(out, ...casePath.split('/'));
  return {
    async add(casePath, data, mtime, atime) {
      const d = dest(casePath);
      await mkdir(dirname(d), { recursive: true });
      await pipeline(data, createWriteStream(d, { flags: 'wx' }));
      await utimes(d, atime, mtime); // on the copy only, so the case shows the original times
    },
    async addBuffer(casePath, data) {
      await mkdir(dirname(dest(casePath)), { recursive: true });
      await writeFile(dest(casePath), data, { flag: 'wx' });
    },
    finish: async () => undefined,
    abort: () => undefined, // a failed pipeline has already closed its file
  };
}

async function zipSink(out: string): Promise<Sink> {
  await mkdir(dirname(out), { recursive: true });
  // Loaded here, not at start: ~10 MB of RSS in every command (scan included) for `collect --zip` only.
  const { default: yazl } = await import('yazl');
  const zip = new yazl.ZipFile();
  const file = createWriteStream(out, { flags: 'wx' });
  const written = pipeline(zip.outputStream, file);
  // A write error (disk full) must end the entry being added, not surface later as an unhandled rejection.
  const failed = new Promise<never>((_, reject) => {
    zip.on('error', reject);
    written.catch(reject);
  });
  failed.catch(() => undefined);
  return {
    async add(casePath, data, mtime) {
      const done = new Promise<void>((res, rej) => {
        data.on('end', res);
        data.on('error', rej);
      });
      zip.addReadStream(data, casePath, { mtime, compress: !/\.(zip|7z|rar|cab|gz)$/i.test(casePath) });
      await Promise.race([done, failed]);
    },
    async addBuffer(casePath, data) {
      zip.addBuffer(data, casePath, { mtime: new Date() });
    },
    async finish() {
      zip.end();
      await Promise.race([written, failed]);
    },
    abort: () => file.destroy(), // the pipeline then closes the zip stream; no central directory is written
  };
}

/** Copies one file into the sink while hashing it; a read error mid-way keeps what was read and says so. */
async function copyOne(f: Found, sink: Sink, signal?: AbortSignal): Promise<ManifestFile> {
  const original = windowsPath(f.vol.drive, f.parts);
  const fh = await openSource(f.path);
  const st = await fh.stat(); // fstat: does not touch atime
  const hash = createHash('sha256');
  const errors: string[] = [];
  let size = 0;
  async function* read(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of fh.createReadStream({ highWaterMark: 1024 * 1024, autoClose: true })) {
        signal?.throwIfAborted();
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      errors.push(`read failed after ${size} bytes: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; copy is partial`);
    }
  }
  try {
    await sink.add(casePathFor(f.vol.drive, f.parts), Readable.from(read()), st.mtime, st.atime).catch((err: Error) => {
      throw signal?.aborted ? err : new CaseWriteError(err.message);
    });
  } finally {
    await fh.close().catch(() => undefined);
  }
  if (errors.length === 0 && size !== st.size) errors.push(`size changed while copying: ${st.size} bytes before, ${size} read`);
  return {
    kind: 'file',
    original,
    path: casePathFor(f.vol.drive, f.parts),
    size,
    sha256: hash.digest('hex'),
    mtime: iso(st.mtimeMs),
    ctime: iso(st.ctimeMs),
    atime: iso(st.atimeMs),
    btime: iso(st.birthtimeMs),
    errors,
  };
}

async function exsetupVersion(exchange: Located | null): Promise<string | null> {
  if (!exchange) return null;
  const parts = await resolveCi(join(exchange.vol.root, ...exchange.parts), ['Bin', 'ExSetup.exe'], 'file');
  if (!parts) return null;
  const fh = await openSource(join(exchange.vol.root, ...exchange.parts, ...parts)).catch(() => null);
  if (!fh) return null;
  try {
    const st = await fh.stat();
    if (st.size > 64 * 1024 * 1024) return null;
    const buf = Buffer.alloc(st.size);
    await fh.read(buf, 0, st.size, 0);
    return peFileVersion(buf);
  } finally {
    await fh.close();
  }
}

async function isInside(child: string, parent: string): Promise<boolean> {
  const p = await realpath(parent);
  let c = resolve(child);
  // The output does not exist yet: compare its nearest existing ancestor.
  while (!(await stat(c).catch(() => null))) c = dirname(c);
  c = await realpath(c);
  return c === p || c.startsWith(p.endsWith(sep) ? p : p + sep);
}

/** Case files `collect` writes inside a case folder: all that `--replace` may remove there. */
const CASE_ENTRIES = new Set([FILES_DIR, COMMANDS_DIR, MANIFEST_JSON, MANIFEST_CSV, CUSTODY_LOG]);

/**
 * The case must be new (a missing or empty folder, a zip that does not exist). With `replace`, a case left
 * incomplete (its marker beside it) is removed first; a finished case is never replaced.
 */
async function prepareOutput(out: string, replace: boolean): Promise<void> {
  if (dirname(out) === out) throw new Error(`the case cannot be a file-system root (${out}): give a new folder or .zip name`);
  const st = await lstat(out).catch(() => null);
  const occupied = isZipPath(out) ? st !== null : st !== null && (!st.isDirectory() || (await readdir(out)).length > 0);
  const sealed = (await lstat(sealPath(out)).catch(() => null)) !== null;
  if (!occupied && !sealed) return;
  const incomplete = (await lstat(incompletePath(out)).catch(() => null)) !== null;
  if (!incomplete) throw new Error(isZipPath(out) || !occupied ? `${occupied ? out : sealPath(out)} exists: choose a new case name` : `case folder ${out} is not empty`);
  if (!replace) throw new Error(`${out} is an incomplete case (${incompletePath(out)}): collect again with --replace`);
  if (isZipPath(out)) await rm(out, { force: true });
  else if (st?.isDirectory()) {
    const names = await readdir(out);
    const foreign = names.find((n) => !CASE_ENTRIES.has(n));
    if (foreign !== undefined) throw new Error(`${out} holds ${foreign}, which collect does not write: not replaced`);
    for (const n of names) await rm(join(out, n), { recursive: true, force: true });
  }
  await rm(sealPath(out), { force: true });
}

const markerText = (o: CollectOptions, started: string, state: string): string =>
  `${JSON.stringify({ state, started, updated: new Date().toISOString(), command_line: o.commandLine, pid: process.pid })}\n`;

/** Exchange cmdlet output and registry values (live on Windows), as `commands/<name>` entries of kind `command`. */
async function addCommands(o: CollectOptions, sink: Sink, files: ManifestFile[], errors: ManifestError[]): Promise<void> {
  const platform = o.commands?.platform ?? process.platform;
  const got = await gatherCommands({ live: o.live, platform, run: o.commands?.run ?? execRun });
  errors.push(...got.errors);
  for (const c of got.outputs) {
    const path = `${COMMANDS_DIR}/${c.name}`;
    await sink.addBuffer(path, c.data);
    const now = new Date().toISOString();
    files.push({ kind: 'command', original: c.original, path, size: c.data.length, sha256: sha256Hex(c.data), mtime: now, ctime: null, atime: null, btime: null, errors: [] });
  }
}

export async function collect(o: CollectOptions): Promise<CollectResult> {
  if (o.volumes.length === 0) throw new Error('no source given');
  for (const v of o.volumes) {
    const st = await lstat(v.root).catch(() => null);
    if (!st?.isDirectory() && !/^[A-Za-z]:[\\/]?$/.test(v.root)) throw new Error(`source ${v.root} is not a folder`);
    if (await isInside(o.out, v.root)) throw new Error(`the case must not be written inside the source (${v.root})`);
  }
  const out = resolve(o.out);
  await prepareOutput(out, o.replace === true);
  const started = new Date().toISOString();
  const marker = incompletePath(out);
  // Written before anything else and removed only once the case is sealed: whatever stops the collection, the
  // case stays marked incomplete (verify refuses it, a re-run needs --replace).
  await mkdir(dirname(out), { recursive: true });
  await writeFile(marker, markerText(o, started, 'collecting')).catch((err: Error) => {
    throw new CollectIncompleteError(`cannot write the case: ${err.message}; nothing was collected`, false);
  });
  const files: ManifestFile[] = [];
  let sink: Sink | null = null;
  try {
    const result = await collectInto(o, out, started, files, (s) => {
      sink = s;
    });
    await unlink(marker);
    return result;
  } catch (err) {
    (sink as Sink | null)?.abort();
    const interrupted = o.signal?.aborted === true;
    const why = interrupted ? `interrupted by ${String(o.signal?.reason)}` : `failed: ${(err as Error).message}`;
    await writeFile(marker, markerText(o, started, `${why} after ${files.length} files`)).catch(() => undefined);
    throw new CollectIncompleteError(
      `${interrupted ? why : `cannot write the case: ${(err as Error).message}`}; ${out} is incomplete (marked by ${marker}): collect again with --replace`,
      interrupted,
    );
  }
}

async function collectInto(o: CollectOptions, out: string, started: string, files: ManifestFile[], opened: (s: Sink) => void): Promise<CollectResult> {
  const errors: ManifestError[] = [];
  const exchange = await locateExchange(o.volumes, o.exchangePath);
  if (!exchange) errors.push({ original: o.exchangePath ?? 'Program Files\\Microsoft\\Exchange Server\\V15', error: 'Exchange install folder not found: Exchange logs and web folders not collected' });
  const found = await findFiles(o.volumes, exchange, errors, o.signal);
  const sink = isZipPath(out) ? await zipSink(out) : await dirSink(out);
  opened(sink);
  let bytes = 0;
  for (const f of found) {
    o.signal?.throwIfAborted();
    const original = windowsPath(f.vol.drive, f.parts);
    o.onProgress?.({ files: files.length, bytes, current: original });
    try {
      const st = await lstat(f.path);
      if (!st.isFile()) {
        errors.push({ original, error: 'no longer a regular file (replaced while collecting): not collected' });
        continue;
      }
      if (o.maxBytes !== null && bytes + st.size > o.maxBytes) {
        errors.push({ original, error: `size cap of ${o.maxBytes} bytes reached: not collected` });
        continue;
      }
      const m = await copyOne(f, sink, o.signal);
      files.push(m);
      bytes += m.size;
    } catch (err) {
      if (err instanceof CaseWriteError || o.signal?.aborted) throw err;
      errors.push({ original, error: `not collected: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    }
  }
  await addCommands(o, sink, files, errors);
  const manifest: CaseManifest = {
    schema: CASE_SCHEMA,
    server: {
      host: o.host ?? (o.live ? hostname() : null),
      exchange_path: exchange ? `${windowsPath(exchange.vol.drive, exchange.parts)}\\` : null,
      exsetup_version: await exsetupVersion(exchange),
    },
    collector: {
      tool: 'exhunt',
      version: VERSION,
      command_line: o.commandLine,
      user: userInfo().username,
      host: hostname(),
      platform: process.platform,
      live: o.live,
      started,
      finished: new Date().toISOString(),
      sources: o.volumes.map((v) => ({ drive: v.drive, path: v.root })),
      size_cap_bytes: o.maxBytes,
    },
    files,
    errors,
  };
  const json = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  const custody = Buffer.from(custodyRecord('collect', manifest, sha256Hex(json), out, manifest.collector.finished));
  await sink.addBuffer(MANIFEST_JSON, json);
  await sink.addBuffer(MANIFEST_CSV, Buffer.from(manifestCsv(manifest)));
  await sink.addBuffer(CUSTODY_LOG, custody);
  await sink.finish();
  // The seal sits beside the case (a zip cannot hold its own hash): one record of the seal digest.
  const zip = isZipPath(out);
  const seal = zip ? await sha256File(out) : folderSealDigest(json, custody);
  const covers = zip ? 'SHA-256 of the case zip' : 'SHA-256 of manifest.json followed by custody.log';
  await writeFile(sealPath(out), custodyRecord('seal', manifest, seal, out, new Date().toISOString(), covers), { flag: 'wx' });
  return { manifest, out, bytes, seal };
}
