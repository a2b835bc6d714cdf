// Many findings of one kind on one host collapse into one counted row, as they arrive from the workers: 200,000
// unknown pages in aspnet_client, or a scanner's 32,000 probes, are one row with the count, the first and last few,
// the folder they share and the client IPs — not 200,000 rows, 200,000 incidents and gigabytes of memory.
// The log scanners group too, as each line's findings are made (a 20,000-line flood in one file never exists as
// 20,000 objects): a file or range hands over its collapsed kinds, and the host merges them exactly — counts and
// time spans add up, samples are the first and last of the union, folders and IP counts merge.
import { SEVERITY_RANK, type FindingGroup, type GroupSample, type RawFinding } from '../model.js';
import { compareText, evidenceString } from '../semantics.js';
import type { EvidenceFile } from '../evidence/file.js';

/** More than this many findings of one kind on one host become one group (a person reads a hundred rows, not more). */
export const GROUP_AT = 100;
/** Samples kept at each end of a group. */
export const GROUP_SAMPLES = 5;
/** Distinct client IPs counted per group (beyond, the count stops: memory stays bounded). */
const IP_CAP = 10_000;
const TOP_IPS = 20;

/** Report order: time, then place, most severe first among equals (finding ids follow it). */
export function findingOrder(a: RawFinding, b: RawFinding): number {
  return (
    compareText(a.time ?? '~', b.time ?? '~') ||
    compareText(a.source.path, b.source.path) ||
    (a.source.line ?? a.source.record ?? 0) - (b.source.line ?? b.source.record ?? 0) ||
    SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
    compareText(a.rule, b.rule)
  );
}

/** "One kind": same rule, same reason (title), severity, kind, stage and lane. The host is the grouper's. */
function kindKey(f: RawFinding): string {
  return [f.rule, f.title, f.severity, f.kind, f.stage ?? '', f.lane].join('\u0000');
}

/** The folder part of a path as written (`/` or `\` separated), or '' when it has none. */
function folderOf(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i < 0 ? '' : path.slice(0, i + 1);
}

/** The longest common folder prefix of two folders (both ending in a separator, or ''). */
function commonFolder(a: string, b: string): string {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === a.length && i === b.length) return a;
  return folderOf(a.slice(0, i));
}

/** The N first (or last) findings in report order, kept sorted while they stream in. */
function keep(list: RawFinding[], f: RawFinding, last: boolean): void {
  const before = (x: RawFinding, y: RawFinding) => (last ? findingOrder(x, y) > 0 : findingOrder(x, y) < 0);
  if (list.length === GROUP_SAMPLES && !before(f, list[list.length - 1])) return;
  let i = list.length;
  while (i > 0 && before(f, list[i - 1])) i--;
  list.splice(i, 0, f);
  if (list.length > GROUP_SAMPLES) list.pop();
}

/**
 * A kind past GROUP_AT findings: what is kept of it. Plain data (it crosses worker-thread boundaries in a file's
 * result); `first[0]` is its row.
 */
export interface CollapsedKind {
  count: number;
  first: RawFinding[];
  last: RawFinding[];
  folder: string | null;
  ips: Map<string, number>;
  firstTime: string | null;
  lastTime: string | null;
}

function where(f: RawFinding): string {
  return evidenceString(f.evidence.file) ?? f.source.server_path ?? f.source.path;
}

function sample(f: RawFinding): GroupSample {
  const file = evidenceString(f.evidence.file);
  return { time: f.time, client_ip: f.client_ip, source: f.source, summary: f.summary, ...(file !== null ? { file } : {}) };
}

/**
 * Collects one host's findings. Up to GROUP_AT of a kind are kept whole; at the next one the kind collapses and from
 * then on only counts, the first and last GROUP_SAMPLES, the shared folder and the client IPs are kept. Memory per
 * host is bounded by the number of kinds, whatever the number of findings.
 */
export class FindingGrouper {
  private readonly kinds = new Map<string, RawFinding[] | CollapsedKind>();
  /** A file's findings without a line or record: kept whole (the host may still give them a file time). */
  private readonly loose: RawFinding[] = [];

  /** `file`: the grouper of one file's scan (or range), whose findings get the file's server path. */
  constructor(private readonly file?: EvidenceFile) {}

  add(finding: RawFinding): void {
    const f = this.file ? onServer(finding, this.file) : finding;
    if (this.file && f.source.line === undefined && f.source.record === undefined) {
      this.loose.push(f);
      return;
    }
    const key = kindKey(f);
    const cur = this.kinds.get(key);
    if (cur === undefined) this.kinds.set(key, [f]);
    else if (Array.isArray(cur)) {
      cur.push(f);
      if (cur.length > GROUP_AT) this.kinds.set(key, collapse(cur));
    } else addTo(cur, f);
  }

  /** A kind collapsed elsewhere (in a file's scan, a byte range, a worker): merged as if its findings came here. */
  addGroup(g: CollapsedKind): void {
    const key = kindKey(g.first[0]);
    const cur = this.kinds.get(key);
    if (cur === undefined) this.kinds.set(key, g);
    else if (Array.isArray(cur)) this.kinds.set(key, merge(collapse(cur), g));
    else merge(cur, g);
  }

  /** For a file's result: the findings kept whole, and the collapsed kinds (merged by the host with `addGroup`). */
  parts(): { findings: RawFinding[]; groups: CollapsedKind[] } {
    const findings: RawFinding[] = [...this.loose];
    const groups: CollapsedKind[] = [];
    for (const v of this.kinds.values()) {
      if (Array.isArray(v)) findings.push(...v);
      else groups.push(v);
    }
    return { findings, groups };
  }

  /** Every finding kept whole, and one row per collapsed kind (the first finding, with `group`). */
  findings(): RawFinding[] {
    const out: RawFinding[] = [];
    for (const v of this.kinds.values()) {
      if (Array.isArray(v)) out.push(...v);
      else out.push(groupRow(v));
    }
    return out;
  }
}

function collapse(list: RawFinding[]): CollapsedKind {
  const c: CollapsedKind = { count: 0, first: [], last: [], folder: null, ips: new Map(), firstTime: null, lastTime: null };
  for (const f of list) addTo(c, f);
  return c;
}

function addTo(c: CollapsedKind, f: RawFinding): void {
  c.count++;
  keep(c.first, f, false);
  keep(c.last, f, true);
  const dir = folderOf(where(f));
  c.folder = c.folder === null ? dir : commonFolder(c.folder, dir);
  if (f.client_ip !== null && f.client_ip !== '') {
    const n = c.ips.get(f.client_ip);
    if (n !== undefined) c.ips.set(f.client_ip, n + 1);
    else if (c.ips.size < IP_CAP) c.ips.set(f.client_ip, 1);
  }
  if (f.time !== null) {
    if (c.firstTime === null || f.time < c.firstTime) c.firstTime = f.time;
    if (c.lastTime === null || f.time > c.lastTime) c.lastTime = f.time;
  }
}

function merge(c: CollapsedKind, g: CollapsedKind): CollapsedKind {
  c.count += g.count;
  for (const f of g.first) keep(c.first, f, false);
  for (const f of g.last) keep(c.last, f, true);
  c.folder = c.folder === null ? g.folder : g.folder === null ? c.folder : commonFolder(c.folder, g.folder);
  for (const [ip, n] of g.ips) {
    const m = c.ips.get(ip);
    if (m !== undefined) c.ips.set(ip, m + n);
    else if (c.ips.size < IP_CAP) c.ips.set(ip, n);
  }
  if (g.firstTime !== null && (c.firstTime === null || g.firstTime < c.firstTime)) c.firstTime = g.firstTime;
  if (g.lastTime !== null && (c.lastTime === null || g.lastTime > c.lastTime)) c.lastTime = g.lastTime;
  return c;
}

/** A finding of `file` with the file's path on the server, when a collection recorded it (grouped by that path). */
export function onServer(f: RawFinding, file: EvidenceFile): RawFinding {
  return file.server !== undefined && f.source.path === file.rel ? { ...f, source: { ...f.source, server_path: file.server } } : f;
}

function groupRow(c: CollapsedKind): RawFinding {
  const head = c.first[0];
  const folder = c.folder === '' ? null : c.folder;
  const group: FindingGroup = {
    count: c.count,
    first_time: c.firstTime,
    last_time: c.lastTime,
    folder,
    distinct_ips: c.ips.size,
    client_ips: [...c.ips].sort((a, b) => b[1] - a[1] || compareText(a[0], b[0])).slice(0, TOP_IPS).map(([ip, count]) => ({ ip, count })),
    first: c.first.map(sample),
    last: c.last.map(sample),
  };
  const span = c.firstTime === null ? '' : ` from ${c.firstTime} to ${c.lastTime}`;
  const ips = group.distinct_ips ? `, ${group.distinct_ips}${group.distinct_ips === IP_CAP ? '+' : ''} client IP${group.distinct_ips === 1 ? '' : 's'}` : '';
  const summary = `${c.count.toLocaleString('en-US')} findings of this kind${span}${folder ? ` under ${folder}` : ''}${ips} (grouped; first: ${head.summary})`;
  return { ...head, summary, group };
}
