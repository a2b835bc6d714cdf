// Joins one host's findings into incidents (attack stories) and a timeline. Pure: same findings in, same answer out.
import { SEVERITY_RANK, STAGES } from '../model.js';
import type { Finding, Incident, Lane, Severity, Stage, TimelineEntry } from '../model.js';
import { STAGE_RANK, evidenceStatus, evidenceString, fileKey, isLoopback, normalizeIp, preferLogTimes, shortTime } from '../semantics.js';

/** Findings from activity this far apart (or closer) that share no key are still joined when one lacks a client IP. */
const ATTACH_WINDOW_MS = 15 * 60_000;
/** Two findings of the same rule, client and lane this close together form one timeline row. */
const BURST_GAP_MS = 60 * 60_000;
const TIMELINE_IDS = 20;
const KEY_LIST_MAX = 20;

/** Shell locations a finding names directly (a file on disk, a file written by a cmdlet or the OAB generator). */
function shellFile(f: Finding): string | null {
  const file = evidenceString(f.evidence.file);
  return file === null ? null : fileKey(file);
}

function urlKey(f: Finding): string | null {
  const url = evidenceString(f.evidence.url);
  return url === null ? null : fileKey(url);
}

/**
 * Web shells proven both present and used: a web-shell finding names the file and some log shows the same
 * location answering with 2xx. Keyed by `fileKey`, valued with the path as first written.
 */
export function confirmedShells(findings: readonly Finding[]): Map<string, string> {
  const onDisk = new Map<string, string>();
  for (const f of findings) {
    const key = f.kind === 'webshell' ? shellFile(f) : null;
    if (key !== null && !onDisk.has(key)) onDisk.set(key, evidenceString(f.evidence.file) ?? key);
  }
  const out = new Map<string, string>();
  for (const f of findings) {
    const key = urlKey(f);
    const status = evidenceStatus(f);
    if (key !== null && onDisk.has(key) && status !== null && status >= 200 && status < 300) out.set(key, onDisk.get(key) ?? key);
  }
  return out;
}

/** Disjoint sets over finding indexes. */
class UnionFind {
  private readonly parent: number[];
  constructor(n: number) {
    this.parent = Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    while (this.parent[i] !== i) {
      this.parent[i] = this.parent[this.parent[i]];
      i = this.parent[i];
    }
    return i;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

interface Keyed {
  f: Finding;
  stage: Stage;
  ms: number | null;
  ip: string | null;
  requestId: string | null;
  canary: string | null;
  files: string[];
}

function toKeyed(findings: Finding[]): Keyed[] {
  // Exposure findings name the log their build came from, not a written file.
  const written = new Set(findings.filter((f) => f.stage !== null).map(shellFile).filter((k): k is string => k !== null));
  const out: Keyed[] = [];
  for (const f of findings) {
    const stage = f.stage;
    if (stage === null) continue;
    const ip = normalizeIp(f.client_ip);
    const rid = evidenceString(f.evidence.request_id)?.toLowerCase() ?? null;
    const files = [shellFile(f), urlKey(f)].filter((k): k is string => k !== null && written.has(k));
    const ms = f.time === null ? NaN : Date.parse(f.time);
    out.push({
      f,
      stage,
      ms: Number.isNaN(ms) ? null : ms,
      ip,
      requestId: rid !== null && !/^[0-]+$/.test(rid) && rid !== '-' ? rid : null,
      canary: evidenceString(f.evidence.ecp_canary),
      files: [...new Set(files)],
    });
  }
  return out;
}

function joinByKeys(items: Keyed[], uf: UnionFind): void {
  const seen = new Map<string, number>();
  const link = (key: string, i: number) => {
    const j = seen.get(key);
    if (j === undefined) seen.set(key, i);
    else uf.union(i, j);
  };
  items.forEach((it, i) => {
    if (hasClient(it)) link(`ip:${it.ip}`, i);
    if (it.requestId !== null) link(`rid:${it.requestId}`, i);
    if (it.canary !== null) link(`canary:${it.canary}`, i);
    for (const k of it.files) link(`file:${k}`, i);
  });
}

/** Earliest and latest of some epoch times (a loop: spreading 100k values into Math.min overflows the stack). */
function span(times: number[]): { lo: number; hi: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of times) {
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  return { lo, hi };
}

function groupsOf(items: Keyed[], uf: UnionFind): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  items.forEach((_, i) => {
    const r = uf.find(i);
    const g = groups.get(r);
    if (g) g.push(i);
    else groups.set(r, [i]);
  });
  return groups;
}

function maxStage(stages: Iterable<Stage>): Stage {
  let best: Stage = 'none';
  for (const s of stages) if (STAGE_RANK[s] > STAGE_RANK[best]) best = s;
  return best;
}

function hasClient(it: Keyed): boolean {
  return it.ip !== null && !isLoopback(it.ip);
}

/**
 * A finding without a client address (ECP cmdlet, OAB generator line, file on disk, process event) joins the attack
 * group whose own requests came within ATTACH_WINDOW_MS of it: the furthest-reaching group first, then the
 * nearest. Scan-only groups are never a target: a scanner passing by does not own a web shell.
 */
function attachByTime(items: Keyed[], uf: UnionFind): void {
  const anchors = [...groupsOf(items, uf)]
    .map(([root, g]) => {
      const { lo, hi } = span(g.filter((i) => hasClient(items[i])).map((i) => items[i].ms).filter((t): t is number => t !== null));
      return { root, stage: maxStage(g.map((i) => items[i].stage)), lo, hi };
    })
    .filter((a) => STAGE_RANK[a.stage] >= STAGE_RANK.attempted && Number.isFinite(a.lo));
  items.forEach((it, i) => {
    if (hasClient(it) || it.ms === null) return;
    const t = it.ms;
    const own = uf.find(i);
    let best: { root: number; stage: Stage; dist: number } | null = null;
    for (const a of anchors) {
      const dist = t < a.lo ? a.lo - t : t > a.hi ? t - a.hi : 0;
      if (uf.find(a.root) === own || dist > ATTACH_WINDOW_MS) continue;
      if (!best || STAGE_RANK[a.stage] > STAGE_RANK[best.stage] || (a.stage === best.stage && dist < best.dist)) best = { root: a.root, stage: a.stage, dist };
    }
    if (best) uf.union(i, best.root);
  });
}

/** Every scan-only group becomes one "background scanning" incident: a hundred scanners are one line, not a hundred. */
function mergeScanning(items: Keyed[], uf: UnionFind): void {
  const scanOnly = [...groupsOf(items, uf).values()].filter((g) => maxStage(g.map((i) => items[i].stage)) === 'scanned');
  for (const g of scanOnly.slice(1)) uf.union(g[0], scanOnly[0][0]);
}

function byTime(a: Keyed, b: Keyed): number {
  if (a.ms === b.ms) return 0;
  if (a.ms === null) return 1;
  if (b.ms === null) return -1;
  return a.ms - b.ms;
}

function uniqSorted<T extends string>(values: Iterable<T>): T[] {
  return [...new Set(values)].sort();
}

function maxSeverity(list: Finding[]): Severity {
  return list.reduce<Severity>((best, f) => (SEVERITY_RANK[f.severity] > SEVERITY_RANK[best] ? f.severity : best), 'info');
}

const STAGE_PHRASE: Record<Stage, string> = {
  none: 'indicator matches',
  scanned: 'scanner probes',
  attempted: 'exploitation attempted',
  exploited: 'exploitation succeeded (requests reached the back end or a post-auth action ran)',
  persistence: 'web shell written or present',
  'post-exploitation': 'post-exploitation activity',
};

function rulesPhrase(list: Keyed[]): string {
  const counts = new Map<string, { n: number; lanes: Set<Lane> }>();
  for (const it of list) {
    const c = counts.get(it.f.rule) ?? { n: 0, lanes: new Set<Lane>() };
    c.n += 1;
    c.lanes.add(it.f.lane);
    counts.set(it.f.rule, c);
  }
  return [...counts].map(([rule, c]) => `${rule}${c.n > 1 ? ` ×${c.n}` : ''} in ${[...c.lanes].join('/')}`).join(', ');
}

function narrative(items: Keyed[], ips: string[], first: string | null, last: string | null, stage: Stage, shells: string[], cves: string[]): string {
  const who =
    ips.length === 0 ? 'Without a client address (joined by time or file)' : ips.length === 1 ? `From ${ips[0]}` : `From ${ips.length} addresses (${ips.slice(0, 3).join(', ')}${ips.length > 3 ? ', …' : ''})`;
  const when = first === null ? 'time unknown' : first === last ? `at ${shortTime(first)}` : `between ${shortTime(first)} and ${shortTime(last ?? first)}`;
  const steps = STAGES.filter((s) => items.some((it) => it.stage === s)).map((s) => `${STAGE_PHRASE[s]}: ${rulesPhrase(items.filter((it) => it.stage === s))}`);
  const parts = [`${who}, ${when}: ${steps.join('; ')}.`];
  if (shells.length) parts.push(`Web shell ${shells.join(', ')} was on disk and answered a request with HTTP 2xx.`);
  if (stage === 'scanned') parts.push('No sign that these probes got in.');
  else parts.push(`Furthest stage: ${stage}.`);
  if (cves.length) parts.push(`CVEs: ${cves.join(', ')}.`);
  return parts.join(' ');
}

function buildIncident(items: Keyed[], confirmed: Map<string, string>): Omit<Incident, 'id'> {
  const sorted = [...items].sort(byTime);
  const findings = sorted.map((it) => it.f);
  const times = preferLogTimes(findings);
  const first = times.length ? times.reduce((a, b) => (Date.parse(a) <= Date.parse(b) ? a : b)) : null;
  const last = times.length ? times.reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b)) : null;
  const ips = uniqSorted(sorted.map((it) => it.ip).filter((ip): ip is string => ip !== null));
  const files = uniqSorted(sorted.flatMap((it) => it.files));
  const shells = files.filter((k) => confirmed.has(k)).map((k) => confirmed.get(k) ?? k);
  const found = maxStage(sorted.map((it) => it.stage));
  const stage = shells.length && STAGE_RANK[found] < STAGE_RANK.persistence ? 'persistence' : found;
  const cves = uniqSorted(findings.flatMap((f) => f.cves));
  return {
    stage,
    first,
    last,
    client_ips: ips,
    findings: findings.map((f) => f.id),
    cves,
    severity: maxSeverity(findings),
    keys: {
      request_ids: uniqSorted(sorted.map((it) => it.requestId).filter((k): k is string => k !== null)).slice(0, KEY_LIST_MAX),
      ecp_canaries: uniqSorted(sorted.map((it) => it.canary).filter((k): k is string => k !== null)).slice(0, KEY_LIST_MAX),
      files: files.slice(0, KEY_LIST_MAX),
    },
    sources: uniqSorted(findings.map((f) => f.lane)),
    narrative: narrative(sorted, ips, first, last, stage, shells, cves),
  };
}

function buildTimeline(items: Keyed[], incidentOf: Map<string, string>): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  const open = new Map<string, { entry: TimelineEntry; lastMs: number }>();
  for (const it of items.filter((x) => x.ms !== null).sort(byTime)) {
    const f = it.f;
    const ms = it.ms as number;
    const source = f.lane;
    const incident = incidentOf.get(f.id) ?? null;
    const key = `${f.rule}\u0000${it.ip ?? ''}\u0000${source}\u0000${incident ?? ''}`;
    const cur = open.get(key);
    if (cur && ms - cur.lastMs <= BURST_GAP_MS) {
      cur.entry.last = f.time as string;
      cur.entry.count += 1;
      if (cur.entry.findings.length < TIMELINE_IDS) cur.entry.findings.push(f.id);
      if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[cur.entry.severity]) cur.entry.severity = f.severity;
      if (STAGE_RANK[it.stage] > STAGE_RANK[cur.entry.stage]) cur.entry.stage = it.stage;
      cur.lastMs = ms;
      continue;
    }
    const entry: TimelineEntry = {
      time: f.time as string,
      last: f.time as string,
      source,
      rule: f.rule,
      title: f.title,
      stage: it.stage,
      severity: f.severity,
      client_ip: it.ip,
      count: 1,
      findings: [f.id],
      incident,
    };
    out.push(entry);
    open.set(key, { entry, lastMs: ms });
  }
  return out;
}

/** Incidents, timeline and furthest stage for one host, from its findings alone. */
export function correlate(findings: Finding[], confirmed = confirmedShells(findings)): { incidents: Incident[]; timeline: TimelineEntry[]; stage: Stage } {
  const items = toKeyed(findings);
  const uf = new UnionFind(items.length);
  joinByKeys(items, uf);
  attachByTime(items, uf);
  mergeScanning(items, uf);
  const built = [...groupsOf(items, uf).values()].map((g) => buildIncident(g.map((i) => items[i]), confirmed));
  built.sort((a, b) => (a.first === b.first ? 0 : a.first === null ? 1 : b.first === null ? -1 : Date.parse(a.first) - Date.parse(b.first)));
  const incidents: Incident[] = built.map((inc, i) => ({ id: `I${i + 1}`, ...inc }));
  const incidentOf = new Map<string, string>();
  for (const inc of incidents) for (const id of inc.findings) incidentOf.set(id, inc.id);
  return { incidents, timeline: buildTimeline(items, incidentOf), stage: maxStage(incidents.map((i) => i.stage)) };
}
