// The exhunt case format (docs/case-format.md): a folder or zip holding `manifest.json`, `manifest.csv`,
// `custody.log` and the copied evidence under `files/<drive letter>/<original path>`. Written by `exhunt collect`
// and by collector/Collect-ExchangeEvidence.ps1; read by `exhunt scan` and `exhunt verify`.
import { lstat, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Fact, Skipped } from '../model.js';
import { isZip } from './discover.js';
import { readAll } from './file.js';
import { listZip, safeEntryName } from './zip.js';

export const CASE_SCHEMA = 'exhunt.case/1';
export const MANIFEST_JSON = 'manifest.json';
export const MANIFEST_CSV = 'manifest.csv';
export const CUSTODY_LOG = 'custody.log';
export const FILES_DIR = 'files';
const MAX_MANIFEST_BYTES = 512 * 1024 * 1024;

/** Beside every case (folder or zip): its seal, one `seal` record (`mail01.custody.log`, `mail01.zip.custody.log`). */
export const sealPath = (casePath: string): string => `${resolve(casePath)}.custody.log`;

/** Beside a case while `collect` writes it; removed only once the case is complete and sealed. */
export const incompletePath = (casePath: string): string => `${resolve(casePath)}.incomplete`;

/** A case `collect` left incomplete (interrupted, disk full) is scanned for what it holds, and says so. */
export async function incompleteCase(input: string): Promise<Skipped | null> {
  const marker = incompletePath(input);
  if (!(await lstat(marker).catch(() => null))) return null;
  return { path: basename(marker), reason: 'case incomplete: the collect that wrote it did not finish (interrupted or failed); only what it copied is scanned' };
}

export interface ManifestFile {
  /** `file`: a copy of `original`; `command`: the output of the command in `original`. */
  kind: 'file' | 'command';
  /** Windows path on the server (`C:\inetpub\...`), or the command line for `command` entries. */
  original: string;
  /** Path inside the case, `/` separated, e.g. `files/C/inetpub/wwwroot/web.config`. */
  path: string;
  size: number;
  sha256: string;
  /** UTC ISO 8601 timestamps of the source before it was read; null when unknown. */
  mtime: string | null;
  ctime: string | null;
  atime: string | null;
  btime: string | null;
  /** Problems while copying this file (e.g. it changed or shrank while being read). */
  errors: string[];
  /** How the bytes were obtained when not a plain copy, e.g. a live event log exported with `wevtutil epl`. */
  note?: string;
}

export interface ManifestError {
  original: string;
  error: string;
}

export interface CaseManifest {
  schema: typeof CASE_SCHEMA;
  server: {
    /** The Exchange server's name (null when collected from an image without --host). */
    host: string | null;
    exchange_path: string | null;
    exsetup_version: string | null;
  };
  collector: {
    tool: string;
    version: string;
    command_line: string;
    /** Who ran it, on which machine. */
    user: string;
    host: string;
    platform: string;
    live: boolean;
    started: string;
    finished: string;
    sources: Array<{ drive: string; path: string }>;
    size_cap_bytes: number | null;
  };
  files: ManifestFile[];
  /** Files that could not be collected at all (locked, vanished, over the size cap, unreadable folders). */
  errors: ManifestError[];
}

export class CaseFormatError extends Error {
  override name = 'CaseFormatError';
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isStrOrNull = (v: unknown): boolean => v === null || isStr(v);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkFile(f: unknown, i: number): ManifestFile {
  const bad = (what: string): never => {
    throw new CaseFormatError(`manifest files[${i}]: ${what}`);
  };
  if (!isObj(f)) return bad('not an object');
  if (f.kind !== 'file' && f.kind !== 'command') bad('kind must be file or command');
  if (!isStr(f.original)) bad('original missing');
  if (!isStr(f.path) || safeEntryName(f.path) !== f.path) bad('path is not a safe relative path');
  if (typeof f.size !== 'number' || !Number.isSafeInteger(f.size) || f.size < 0) bad('size invalid');
  if (!isStr(f.sha256) || !/^[0-9a-f]{64}$/.test(f.sha256)) bad('sha256 invalid');
  if (![f.mtime, f.ctime, f.atime, f.btime].every(isStrOrNull)) bad('timestamps must be strings or null');
  if (!Array.isArray(f.errors) || !f.errors.every(isStr)) bad('errors must be a list of strings');
  if (f.note !== undefined && !isStr(f.note)) bad('note must be a string');
  return f as unknown as ManifestFile;
}

/** Validates parsed JSON as a case manifest; throws CaseFormatError naming the first problem. */
export function checkManifest(data: unknown): CaseManifest {
  if (!isObj(data) || data.schema !== CASE_SCHEMA) throw new CaseFormatError(`not an ${CASE_SCHEMA} manifest`);
  const { server, collector, files, errors } = data;
  if (!isObj(server) || !isStrOrNull(server.host) || !isStrOrNull(server.exchange_path) || !isStrOrNull(server.exsetup_version))
    throw new CaseFormatError('manifest server block invalid');
  if (!isObj(collector) || !['tool', 'version', 'command_line', 'user', 'host', 'started', 'finished'].every((k) => isStr(collector[k])))
    throw new CaseFormatError('manifest collector block invalid');
  if (!Array.isArray(files) || !Array.isArray(errors)) throw new CaseFormatError('manifest files/errors must be lists');
  files.forEach(checkFile);
  const seen = new Set<string>();
  for (const f of files as ManifestFile[]) {
    const key = f.path.toLowerCase();
    if (seen.has(key)) throw new CaseFormatError(`manifest lists ${f.path} twice`);
    seen.add(key);
  }
  return data as unknown as CaseManifest;
}

async function readZipManifest(zip: string): Promise<Buffer | null> {
  const entries = await listZip(zip, () => undefined);
  const entry = entries.find((e) => e.name === MANIFEST_JSON);
  if (!entry) return null;
  if (entry.size > MAX_MANIFEST_BYTES) throw new CaseFormatError('manifest.json too large');
  return readAll({ kind: 'zip', zip, entry: entry.name, rel: entry.name, size: entry.size, mtimeMs: entry.mtimeMs });
}

/** The raw manifest bytes of a case folder or case zip, or null when it has no manifest. */
export async function readManifestBytes(root: string): Promise<Buffer | null> {
  const st = await stat(root);
  if (st.isFile()) return readZipManifest(root);
  const path = join(root, MANIFEST_JSON);
  const ms = await stat(path).catch(() => null);
  if (!ms?.isFile()) return null;
  if (ms.size > MAX_MANIFEST_BYTES) throw new CaseFormatError('manifest.json too large');
  return readFile(path);
}

export function parseManifest(bytes: Buffer): CaseManifest {
  const text = bytes.toString('utf8').replace(/^\uFEFF/, ''); // Windows PowerShell 5.1 writes a BOM
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CaseFormatError(`manifest.json is not JSON: ${(err as Error).message}`);
  }
  return checkManifest(data);
}

/**
 * Reads the manifest of a case given as a folder or a zip file path. Returns null when the input is not a case
 * (no manifest.json at its root); throws CaseFormatError when a manifest is there but invalid.
 */
export async function readCaseManifest(root: string): Promise<CaseManifest | null> {
  // A single log or event log given as the input is no case: only a folder or a zip can be one.
  if ((await stat(root)).isFile() && !(await isZip(root))) return null;
  const bytes = await readManifestBytes(root);
  return bytes === null ? null : parseManifest(bytes);
}

/** Host name and ExSetup.exe build recorded by the collector, as facts for the scan report. */
export function caseFacts(manifest: CaseManifest): Fact[] {
  const source = { path: MANIFEST_JSON };
  const time = manifest.collector.started;
  const facts: Fact[] = [];
  if (manifest.server.host) facts.push({ kind: 'hostname', value: manifest.server.host, source, time, origin: `${manifest.collector.tool} (collector)` });
  if (manifest.server.exsetup_version)
    facts.push({ kind: 'build', value: manifest.server.exsetup_version, source, time, origin: 'ExSetup.exe (collector)' });
  return facts;
}
