// exhunt's own reports (JSON, HTML, NDJSON, CSV) left inside an evidence folder are not evidence: a rescan would
// find its own findings again (a clean host rescanned with its CSV and HTML beside the logs became compromised).
// They are recognised by content, never by name alone, and reported as skipped.
import type { Skipped } from '../model.js';
import { readHead, type EvidenceFile } from './file.js';

/**
 * The header line `exhunt-findings.csv` starts with (src/report/csv.ts ALL_COLUMNS, every cell quoted): with the
 * `host_label` column fleet reports carry since it was added, and without (reports of earlier versions).
 */
const FINDINGS_CSV_HEADER = /^"host",(?:"host_label",)?"id","time","severity","kind","rule","title","cves","client_ip","path","line","record","summary","evidence"/;
/** The Test-ProxyLogon-shaped files exhunt writes beside `exhunt-findings.csv` (src/report/csv.ts hostFiles). */
const CSV_SIBLING = /-(?:Cve-2021-26855\.csv|Cve-2021-27065\.log|Cve-2021-26858\.log|Cve-2021-26857\.csv|other\.csv)$/;
const HEAD_BYTES = 4096;

/** What kind of exhunt report a file head is, or null. */
export function ownReportKind(head: string): string | null {
  const h = head.charCodeAt(0) === 0xfeff ? head.slice(1) : head;
  if (/^\{\s*"schema"\s*:\s*"exhunt\.scan\/\d+"/.test(h)) return 'JSON report';
  if (/^<!DOCTYPE html>/i.test(h) && h.includes('<title>exhunt report')) return 'HTML report';
  if (h.startsWith('{') && h.includes('"dataset":"exhunt.finding"')) return 'NDJSON findings';
  if (FINDINGS_CSV_HEADER.test(h)) return 'CSV findings';
  return null;
}

const dirOf = (rel: string): string => rel.slice(0, rel.lastIndexOf('/') + 1);
const nameOf = (rel: string): string => rel.slice(rel.lastIndexOf('/') + 1);

/** The evidence without exhunt's own reports; each one left out is listed in `skipped`. */
export async function withoutOwnReports(files: EvidenceFile[], skipped: Skipped[]): Promise<EvidenceFile[]> {
  const own = new Map<EvidenceFile, string>();
  for (const f of files) {
    if (f.size === 0 || !/\.(json|html?|ndjson|csv)$/i.test(f.rel)) continue;
    let kind: string | null = null;
    try {
      kind = ownReportKind((await readHead(f, HEAD_BYTES)).toString('utf8'));
    } catch {
      continue; // not readable: the scanners report it
    }
    if (kind) own.set(f, kind);
  }
  // The per-host CSV/log files exhunt writes are only recognisable by the exhunt-findings.csv beside them.
  const csvDirs = new Set([...own].filter(([f, k]) => k === 'CSV findings' && nameOf(f.rel) === 'exhunt-findings.csv').map(([f]) => dirOf(f.rel)));
  for (const f of files) if (!own.has(f) && csvDirs.has(dirOf(f.rel)) && CSV_SIBLING.test(nameOf(f.rel))) own.set(f, 'CSV report beside exhunt-findings.csv');
  for (const [f, kind] of own) skipped.push({ path: f.rel, reason: `exhunt's own ${kind}, not evidence: not scanned` });
  return own.size ? files.filter((f) => !own.has(f)) : files;
}
