// Host-level bookkeeping of a scan: unique host labels across a fleet, and the --since file skip.
import { basename, dirname, resolve } from 'node:path';
import type { Skipped } from '../model.js';
import type { EvidenceFile } from '../evidence/file.js';

/** Log files the skip may leave out: their last write bounds their newest record. */
const LOG_EXT = /\.(log|evtx)$/i;
/** Zip entry times are local DOS times without a zone: keep a day of slack. */
const SLACK_MS = 24 * 3600 * 1000;

/**
 * Leaves out log files last modified before `since` (less a day of slack) without reading them: a file written
 * for the last time before the window cannot hold a record inside it. The file that spans `since` was written
 * after it, so coverage of the window is unchanged. One line in `skipped` says how many and which folder.
 */
export function skipOldLogs(files: EvidenceFile[], since: string, skipped: Skipped[]): EvidenceFile[] {
  const limit = Date.parse(since) - SLACK_MS;
  if (Number.isNaN(limit)) return files;
  const kept: EvidenceFile[] = [];
  const old: EvidenceFile[] = [];
  for (const f of files) (LOG_EXT.test(f.rel) && Number.isFinite(f.mtimeMs) && f.mtimeMs > 0 && f.mtimeMs < limit ? old : kept).push(f);
  if (old.length) {
    const newest = Math.max(...old.map((f) => f.mtimeMs));
    skipped.push({
      path: old.length === 1 ? old[0].rel : `${old.length} log files (e.g. ${old[0].rel})`,
      reason: `skipped by date: last modified before --since ${since.slice(0, 10)} (newest ${new Date(newest).toISOString().slice(0, 10)}), so no record inside the window; not read`,
    });
  }
  return kept;
}

/**
 * One label per host, unique in the report: the input's own name (folder or zip) plus the server name found in the
 * evidence — `acme-7.zip (MAIL01)` — or the input name alone when the evidence names no server. Ten customers'
 * MAIL01 stay ten rows. Inputs with the same own name take their parent folder too, then a number.
 */
export function hostLabels(hosts: Array<{ input: string; server: string | null }>): string[] {
  const make = (own: string, server: string | null) => (server === null ? own : `${own} (${server})`);
  let labels = hosts.map((h) => make(basename(resolve(h.input)), h.server));
  const dup = (ls: string[]) => ls.map((l) => ls.indexOf(l) !== ls.lastIndexOf(l));
  const first = dup(labels);
  labels = labels.map((l, i) => (first[i] ? make(`${basename(dirname(resolve(hosts[i].input)))}/${basename(resolve(hosts[i].input))}`, hosts[i].server) : l));
  const seen = new Map<string, number>();
  return labels.map((l) => {
    const n = (seen.get(l) ?? 0) + 1;
    seen.set(l, n);
    return n === 1 ? l : `${l} #${n}`;
  });
}
