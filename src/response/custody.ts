// Chain-of-custody records and the CSV view of a manifest.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { CaseManifest } from '../evidence/case.js';

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
): string {
  const c = manifest.collector;
  return `${JSON.stringify({
    time,
    action,
    user: c.user,
    host: c.host,
    tool: c.tool,
    version: c.version,
    command_line: c.command_line,
    server: manifest.server.host,
    sources: c.sources,
    case: casePath,
    // collect: hash of manifest.json (which pins every file hash); seal: hash of the finished case zip.
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
