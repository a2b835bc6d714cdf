// Chain-of-custody records and the CSV view of a manifest.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { CaseManifest } from '../evidence/case.js';

/**
 * The seal digest of a folder case: SHA-256 of manifest.json followed by custody.log, i.e.
 * `cat manifest.json custody.log | sha256sum`. manifest.json pins every file, custody.log's collect record pins
 * manifest.json. A zip case's seal digest is the SHA-256 of the zip file (`sha256sum mail01.zip`).
 */
export function folderSealDigest(manifest: Buffer, custody: Buffer): string {
  return createHash('sha256').update(manifest).update(custody).digest('hex');
}

export interface CustodyEntry {
  /** 1-based line number. */
  line: number;
  action: string;
  sha256: string;
}

/** Reads a custody log strictly: every line one JSON record with an action and a SHA-256; throws naming the line. */
export function parseCustodyLog(text: string, name: string): CustodyEntry[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((raw, i) => {
    const bad = (why: string): never => {
      throw new Error(`${name} line ${i + 1} is broken: ${why}`);
    };
    let rec: unknown;
    try {
      rec = JSON.parse(raw.replace(/\r$/, ''));
    } catch {
      return bad('not a JSON record');
    }
    const { action, sha256 } = (typeof rec === 'object' && rec !== null ? rec : {}) as Record<string, unknown>;
    if (typeof action !== 'string') return bad('no action');
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) return bad('no SHA-256');
    return { line: i + 1, action, sha256 };
  });
}

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Size and SHA-256 of everything a stream yields. */
export async function hashStream(s: AsyncIterable<unknown>): Promise<{ size: number; sha256: string }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of s) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: h.digest('hex') };
}

export async function sha256File(path: string): Promise<string> {
  return (await hashStream(createReadStream(path))).sha256;
}

/**
 * One JSON line of `custody.log`: who did what, when, where, with which tool and command line, and the hash that
 * pins the manifest (and with it every file hash).
 */
export function custodyRecord(
  action: 'collect' | 'seal',
  manifest: CaseManifest,
  sha256: string,
  casePath: string,
  time: string,
  covers?: string,
): string {
  const c = manifest.collector;
  return `${JSON.stringify({
    time,
    action,
    covers,
    user: c.user,
    host: c.host,
    tool: c.tool,
    version: c.version,
    command_line: c.command_line,
    server: manifest.server.host,
    sources: c.sources,
    case: casePath,
    // collect: hash of manifest.json (which pins every file hash); seal: the seal digest (folderSealDigest or zip).
    sha256,
    files: manifest.files.length,
    bytes: manifest.files.reduce((n, f) => n + f.size, 0),
    errors: manifest.errors.length + manifest.files.filter((f) => f.errors.length > 0).length,
  })}\n`;
}

function csvField(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The manifest's file table as RFC 4180 CSV, for spreadsheets; manifest.json stays the reference. */
export function manifestCsv(m: CaseManifest): string {
  const head = ['kind', 'original', 'path', 'size', 'sha256', 'mtime', 'ctime', 'atime', 'btime', 'errors'];
  const rows = m.files.map((f) =>
    [f.kind, f.original, f.path, f.size, f.sha256, f.mtime, f.ctime, f.atime, f.btime, f.errors.join('; ')].map(csvField).join(','),
  );
  const failed = m.errors.map((e) => ['error', e.original, '', '', '', '', '', '', '', e.error].map(csvField).join(','));
  return `${[head.join(','), ...rows, ...failed].join('\r\n')}\r\n`;
}
