// JSON Lines that Timesketch imports as is: its three mandatory fields (message, ISO 8601 datetime, timestamp_desc)
// plus flat fields (no nested objects), one line per dated finding and one per timeline event (burst).
// Format: Timesketch docs, "Import from JSON or CSV" (docs/guides/user/import-from-json-csv.md).
import type { EvidenceValue, Finding, HostResult, ScanReport, TimelineEntry } from '../model.js';
import { hostTitle } from './summary.js';

type Flat = Record<string, string | number | boolean>;

/** Evidence keys become field names: lower case letters, digits and `_` only (evidence names are attacker text). */
function fieldName(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+/, '').slice(0, 64) || 'value';
}

function flatValue(v: EvidenceValue): string | number | boolean | null {
  if (v === null) return null;
  if (Array.isArray(v)) return v.map((x) => String(x)).join(', ');
  return typeof v === 'object' ? JSON.stringify(v) : v;
}

/** Both mandatory time fields: `datetime` as ISO 8601 UTC and `timestamp` in microseconds (Timesketch's own unit). */
function times(iso: string): { datetime: string; timestamp: number } | null {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : { datetime: new Date(ms).toISOString(), timestamp: ms * 1000 };
}

function findingLine(f: Finding, host: HostResult, incident: string | null): Flat | null {
  const t = f.time === null ? null : times(f.time);
  if (t === null) return null;
  const line: Flat = {
    message: `[${hostTitle(host)}] ${f.title}: ${f.summary}`,
    ...t,
    timestamp_desc: f.lane === 'Files' ? 'File Modified' : 'Event Recorded',
    data_type: 'exhunt:finding',
    hostname: host.name,
    host_label: host.label ?? host.name,
    host_verdict: host.verdict,
    finding_id: f.id,
    rule: f.rule,
    title: f.title,
    severity: f.severity,
    kind: f.kind,
    stage: f.stage ?? 'none',
    lane: f.lane,
    source_path: f.source.path,
  };
  if (f.cves.length) line.cves = f.cves.join(', ');
  if (f.client_ip !== null) line.client_ip = f.client_ip;
  if (f.source.line !== undefined) line.source_line = f.source.line;
  if (f.source.record !== undefined) line.source_record = f.source.record;
  if (incident !== null) line.incident = incident;
  for (const [k, v] of Object.entries(f.evidence)) {
    const value = flatValue(v);
    if (value !== null) line[`evidence_${fieldName(k)}`] = value;
  }
  return line;
}

function timelineLine(e: TimelineEntry, host: HostResult): Flat | null {
  const t = times(e.time);
  if (t === null) return null;
  const span = e.last !== e.time ? ` until ${e.last}` : '';
  const line: Flat = {
    message: `[${host.name}] ${e.title} (${e.rule}${e.count > 1 ? ` ×${e.count}` : ''}) in ${e.source}${e.client_ip ? ` from ${e.client_ip}` : ''}${span}`,
    ...t,
    timestamp_desc: 'First Seen',
    data_type: 'exhunt:timeline',
    hostname: host.name,
    host_label: host.label ?? host.name,
    host_verdict: host.verdict,
    rule: e.rule,
    title: e.title,
    severity: e.severity,
    stage: e.stage,
    lane: e.source,
    count: e.count,
    last_seen: e.last,
    finding_ids: e.findings.join(', '),
  };
  if (e.client_ip !== null) line.client_ip = e.client_ip;
  if (e.incident !== null) line.incident = e.incident;
  return line;
}

/** One host's lines (pure, so reports can be streamed host by host). Undated findings have no place on a timeline. */
export function timesketchLines(host: HostResult): string[] {
  const { incidents, timeline } = host;
  const incidentOf = new Map<string, string>();
  for (const inc of incidents) for (const id of inc.findings) incidentOf.set(id, inc.id);
  const lines = [...host.findings.map((f) => findingLine(f, host, incidentOf.get(f.id) ?? null)), ...timeline.map((e) => timelineLine(e, host))];
  return lines.filter((l): l is Flat => l !== null).map((l) => JSON.stringify(l));
}

/** Every host's lines, newline-terminated (empty string when nothing is dated). */
export function renderTimesketch(report: ScanReport): string {
  return report.hosts.flatMap(timesketchLines).map((l) => `${l}\n`).join('');
}
