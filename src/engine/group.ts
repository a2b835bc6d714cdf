// Many findings of one kind on one host collapse into one counted row, as they arrive from the workers: 200,000
// unknown pages in aspnet_client, or a scanner's 32,000 probes, are one row with the count, the first and last few,
// the folder they share and the client IPs — not 200,000 rows, 200,000 incidents and gigabytes of memory.
import { SEVERITY_RANK, type FindingGroup, type GroupSample, type RawFinding } from '../model.js';
import { evidenceString } from '../semantics.js';

/** More than this many findings of one kind on one host become one group (a person reads a hundred rows, not more). */
export const GROUP_AT = 100;
/** Samples kept at each end of a group. */
export const GROUP_SAMPLES = 5;
/** Distinct client IPs counted per group (beyond, the count stops: memory stays bounded). */
const IP_CAP = 10_000;
const TOP_IPS = 20;

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Report order: time, then place, most severe first among equals (finding ids follow it). */
export function findingOrder(a: RawFinding, b: RawFinding): number {
  return (
    cmp(a.time ?? '~', b.time ?? '~') ||
    cmp(a.source.path, b.source.path) ||
    (a.source.line ?? a.source.record ?? 0) - (b.source.line ?? b.source.record ?? 0) ||
    SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
    cmp(a.rule, b.rule)
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

interface Collapsed {
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
  private readonly kinds = new Map<string, RawFinding[] | Collapsed>();

  add(f: RawFinding): void {
    const key = kindKey(f);
    const cur = this.kinds.get(key);
    if (cur === undefined) this.kinds.set(key, [f]);
    else if (Array.isArray(cur)) {
      cur.push(f);
      if (cur.length > GROUP_AT) this.kinds.set(key, collapse(cur));
    } else addTo(cur, f);
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

function collapse(list: RawFinding[]): Collapsed {
  const c: Collapsed = { count: 0, first: [], last: [], folder: null, ips: new Map(), firstTime: null, lastTime: null };
  for (const f of list) addTo(c, f);
  return c;
}

function addTo(c: Collapsed, f: RawFinding): void {
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

function groupRow(c: Collapsed): RawFinding {
  const head = c.first[0];
  const folder = c.folder === '' ? null : c.folder;
  const group: FindingGroup = {
    count: c.count,
    first_time: c.firstTime,
    last_time: c.lastTime,
    folder,
    distinct_ips: c.ips.size,
    client_ips: [...c.ips].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0])).slice(0, TOP_IPS).map(([ip, count]) => ({ ip, count })),
    first: c.first.map(sample),
    last: c.last.map(sample),
  };
  const span = c.firstTime === null ? '' : ` from ${c.firstTime} to ${c.lastTime}`;
  const ips = group.distinct_ips ? `, ${group.distinct_ips}${group.distinct_ips === IP_CAP ? '+' : ''} client IP${group.distinct_ips === 1 ? '' : 's'}` : '';
  const summary = `${c.count.toLocaleString('en-US')} findings of this kind${span}${folder ? ` under ${folder}` : ''}${ips} (grouped; first: ${head.summary})`;
  return { ...head, summary, group };
}
