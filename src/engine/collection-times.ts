// File times a collection tool recorded on the server, before copying: the only file times a finding may carry
// (a copied tree's own times are the copy date). Read from the tool's manifest, matched by the server path:
// - KAPE `<ts>_CopyLog.csv` (KAPE docs "Log files"; header `CopiedTimestamp,SourceFile,DestinationFile,FileSize,
//   SourceFileSha1,DeferredCopy,CreatedOnUtc,ModifiedOnUtc,LastAccessedOnUtc,CopyDuration`, UTF-8 with BOM, CRLF,
//   times `yyyy-MM-dd HH:mm:ss.fffffff` in UTC): `ModifiedOnUtc` of the `SourceFile` row.
// - Velociraptor: the rows of the triage artifacts' file-metadata sources (`Windows.KapeFiles.Targets/All File
//   Metadata`, `…/Uploads`, `Windows.Triage.Targets/…`, `Generic.Collectors.File/All Matches Metadata`) in
//   `results/*.json` (JSON Lines; columns `Created, Changed, LastAccessed, Modified, Size, SourceFile` from
//   Generic.Collectors.File's glob(), times RFC 3339). uploads.json itself carries no file times
//   (reporting/container.go writes only the upload time, path and sizes), so a container without such rows gives none.
import type { RawFinding, Skipped } from '../model.js';
import { decodeComponent, type Collection } from '../evidence/layout.js';
import { readAll, type EvidenceFile } from '../evidence/file.js';
import { parseCsv } from '../parsers/csv.js';
import type { CaseManifest } from '../evidence/case.js';

export interface RecordedTime {
  mtime: string;
  origin: string;
}

const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;
const KAPE_COPYLOG = /_CopyLog\.csv$/i;
/** Artifacts whose result sets list the collected files with their times. */
const VELO_FILE_ARTIFACTS = ['kapefiles.targets', 'triage.targets', 'collectors.file'];

/**
 * The artifact name of a triage result set (`…/results/<artifact>.json`) that lists collected files with their
 * times, else null. Plain string tests: a `[^/]*(?:a|b)[^/]*` regex is quadratic on a hostile entry name.
 */
function veloFileRowsArtifact(rel: string): string | null {
  const parts = rel.split('/');
  const name = parts.at(-1) ?? '';
  if (parts.length < 2 || parts.at(-2)!.toLowerCase() !== 'results' || !name.toLowerCase().endsWith('.json')) return null;
  const artifact = name.slice(0, -'.json'.length);
  const lower = artifact.toLowerCase();
  return VELO_FILE_ARTIFACTS.some((a) => lower.includes(a)) ? artifact : null;
}

/** `C:\a`, `\\.\C:\a`, `\\?\C:\a` -> `c:\a` (the key both sides are compared by). */
export function serverKey(path: string): string {
  return path.replace(/^\\\\[.?]\\/, '').replace(/\//g, '\\').toLowerCase();
}

/** KAPE's `2021-03-03 06:49:46.1234567` (UTC) as ISO; null when not that shape or not a real time. */
function kapeTime(s: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?Z?$/.exec(s.trim());
  if (!m) return null;
  const t = Date.parse(`${m[1]}T${m[2]}.${(m[3] ?? '0').padEnd(3, '0').slice(0, 3)}Z`);
  return Number.isNaN(t) || t <= 0 ? null : new Date(t).toISOString();
}

/** An RFC 3339 time from Velociraptor (any fraction length) as ISO; zero and pre-1980 times are "not recorded". */
function veloTime(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(v.trim());
  if (!m) return null;
  const t = Date.parse(`${m[1]}.${(m[2] ?? '0').padEnd(3, '0').slice(0, 3)}${m[3]}`);
  return Number.isNaN(t) || t < Date.UTC(1980, 0, 1) ? null : new Date(t).toISOString();
}

function kapeTimes(text: string, file: EvidenceFile, out: Map<string, RecordedTime>): void {
  const [header, ...rows] = parseCsv(text);
  const src = header?.indexOf('SourceFile') ?? -1;
  const mod = header?.indexOf('ModifiedOnUtc') ?? -1;
  if (src < 0 || mod < 0) return;
  const origin = `KAPE ${file.rel.split('/').pop()} ModifiedOnUtc (modification time on the server, recorded when copying)`;
  for (const r of rows) {
    const mtime = kapeTime(r[mod] ?? '');
    if (r[src] && mtime) out.set(serverKey(r[src]), { mtime, origin });
  }
}

function veloTimes(text: string, file: EvidenceFile, out: Map<string, RecordedTime>): void {
  const artifact = decodeComponent(veloFileRowsArtifact(file.rel) ?? '');
  const origin = `Velociraptor ${artifact} row, Modified (modification time on the server, recorded when collecting)`;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      continue;
    }
    if (row === null || typeof row !== 'object') continue;
    const r = row as Record<string, unknown>;
    const path = typeof r.SourceFile === 'string' ? r.SourceFile : typeof r.OSPath === 'string' ? r.OSPath : null;
    const mtime = veloTime(r.Modified ?? r.Mtime);
    if (path && mtime && !out.has(serverKey(path))) out.set(serverKey(path), { mtime, origin });
  }
}

/** Server path (serverKey) -> recorded modification time, from the collection's manifest; empty when none. */
export async function collectionFileTimes(c: Collection, skipped: Skipped[]): Promise<Map<string, RecordedTime>> {
  const out = new Map<string, RecordedTime>();
  const test = c.kind === 'kape' ? (rel: string) => KAPE_COPYLOG.test(rel) : c.kind === 'velociraptor' ? (rel: string) => veloFileRowsArtifact(rel) !== null : null;
  if (!test) return out;
  for (const f of c.files.filter((x) => x.role === 'collection-metadata' && test(x.rel))) {
    if (f.size > MAX_MANIFEST_BYTES) {
      skipped.push({ path: f.rel, reason: `collection manifest larger than ${MAX_MANIFEST_BYTES} bytes: its file times are not used` });
      continue;
    }
    try {
      const text = (await readAll(f)).toString('utf8');
      if (c.kind === 'kape') kapeTimes(text, f, out);
      else veloTimes(text, f, out);
    } catch (err) {
      skipped.push({ path: f.rel, reason: `collection manifest not readable, its file times are not used: ${(err as Error).message}` });
    }
  }
  return out;
}

/** The collector's case manifest recorded each file's modification time on the server before copying, by path. */
export function caseFileTimes(manifest: CaseManifest): Map<string, RecordedTime> {
  const origin = 'case manifest (modification time on the server, recorded before copying)';
  return new Map(manifest.files.filter((f) => f.kind === 'file' && f.mtime).map((f) => [f.path, { mtime: f.mtime!, origin }]));
}

/** A file finding (no line or record) gets the time recorded for its file, labelled; a log record keeps its own. */
export function applyRecordedTime(f: RawFinding, lookup: (f: RawFinding) => RecordedTime | undefined): void {
  if (f.source.line !== undefined || f.source.record !== undefined) return;
  const t = lookup(f);
  if (!t) return;
  f.time = t.mtime;
  f.evidence.mtime = t.mtime;
  f.evidence.mtime_origin = t.origin;
}
