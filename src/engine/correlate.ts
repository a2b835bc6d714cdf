// Joins one host's findings into incidents (attack stories) and a timeline. Pure: same findings in, same answer out.
import { SEVERITY_RANK, STAGES, findingWeight } from '../model.js';
import type { Finding, Incident, Severity, Stage, TimelineEntry } from '../model.js';
import { STAGE_RANK, canChangeVerdict, evidenceStatus, evidenceString, fileKey, isLoopback, isUncPath, normalizeIp, preferLogTimes } from '../semantics.js';
import { serverPath } from '../evidence/server-path.js';

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
 * location answering with 2xx. Keyed by `fileKey`, valued with the path as first written, but a file's own path
 * in the evidence before the UNC path a cmdlet wrote it to (`\\localhost\c$\…`): a responder hunts C:\….
 */
export function confirmedShells(findings: readonly Finding[]): Map<string, string> {
  const onDisk = new Map<string, string>();
  for (const f of findings) {
    const key = f.kind === 'webshell' ? shellFile(f) : null;
    if (key === null) continue;
    const path = evidenceString(f.evidence.file) ?? key;
    const had = onDisk.get(key);
    if (had === undefined || (isUncPath(had) && !isUncPath(path))) onDisk.set(key, path);
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
    // An admin workflow not tied to exploitation (src/rules/chain.ts) is context, not an attack step.
    if (stage === null || f.evidence.admin_workflow === true) continue;
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

/** What the attacker did at each stage, as the verb phrase of a sentence ("the attacker … at 07:02"). */
const STAGE_VERB: Record<Stage, string> = {
  none: 'left known attacker indicators',
  scanned: 'probed the server',
  attempted: 'tried to exploit it',
  exploited: 'exploited it successfully',
  persistence: 'planted a web shell through Exchange',
  'post-exploitation': 'ran commands on the server',
};
const SHELL_ON_DISK = 'placed a web shell on disk';
const INDICATORS_MATCHED = 'matched known attacker indicators';
const SHELL_USED = 'used a web shell';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** `3 March 2021 06:49` in UTC (year left out when `sameYearAs` is in the same year). */
function spokenTime(ms: number, opts: { year: boolean }): string {
  const d = new Date(ms);
  const hm = d.toISOString().slice(11, 16);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}${opts.year ? ` ${d.getUTCFullYear()}` : ''} ${hm}`;
}

function rulesPhrase(list: Keyed[]): string {
  const counts = new Map<string, number>();
  for (const it of list) counts.set(it.f.rule, (counts.get(it.f.rule) ?? 0) + 1);
  return [...counts].map(([rule, n]) => `${rule}${n > 1 ? ` ×${n}` : ''}`).join(', ');
}

interface Step {
  verb: string;
  list: Keyed[];
  /** Log times only: a file's time is when it was last written or copied, not an attack step. */
  times: number[];
}

/** A request to a web shell, seen in the web logs (not the ECP or OAB action that wrote it). */
function requestedShell(f: Finding): boolean {
  return f.kind === 'webshell' && (f.lane === 'IIS' || f.lane === 'HttpProxy');
}

/**
 * The attack steps in kill-chain order, indicator matches last; a web shell on disk, one planted through Exchange
 * (ECP, OAB) and one used (requests to it in the logs) are told apart.
 */
function storySteps(items: Keyed[]): Step[] {
  const steps: Step[] = [];
  for (const stage of [...STAGES.filter((st) => st !== 'none'), 'none' as const]) {
    const here = items.filter((it) => it.stage === stage);
    const groups: Array<[string, Keyed[]]> =
      stage === 'persistence'
        ? [
            [STAGE_VERB.persistence, here.filter((it) => it.f.lane !== 'Files' && !requestedShell(it.f))],
            [SHELL_ON_DISK, here.filter((it) => it.f.lane === 'Files')],
            [SHELL_USED, here.filter((it) => requestedShell(it.f))],
          ]
        : [[STAGE_VERB[stage], here]];
    for (const [verb, list] of groups) {
      if (!list.length) continue;
      const times = list.filter((it) => it.f.lane !== 'Files' && it.ms !== null).map((it) => it.ms as number);
      steps.push({ verb, list, times });
    }
  }
  return steps;
}

/**
 * One paragraph in sentences: "From 130.255.189.21 on 3 March 2021 06:49 UTC the attacker probed the server
 * (PL-03), got through … at 06:50 (PL-02 ×8), placed a web shell on disk (PL-29), and used a web shell 8 times
 * until 9 March 06:44 (WS-40 ×8)." Then the shells proven used, the furthest stage and the CVEs.
 */
function narrative(items: Keyed[], ips: string[], first: string | null, stage: Stage, shells: string[], cves: string[]): string {
  const who =
    ips.length === 0 ? 'With no client address in the logs' : ips.length === 1 ? `From ${ips[0]}` : `From ${ips.length} addresses (${ips.slice(0, 3).join(', ')}${ips.length > 3 ? ', …' : ''})`;
  const firstMs = first === null ? NaN : Date.parse(first);
  const when = Number.isNaN(firstMs) ? ', at a time the evidence does not give,' : ` on ${spokenTime(firstMs, { year: true })} UTC`;
  let prevDay = Number.isNaN(firstMs) ? '' : new Date(firstMs).toISOString().slice(0, 10);
  const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16);
  const phrases = storySteps(items).map(({ verb: stepVerb, ...st }, i) => {
    const verb = stage === 'none' ? INDICATORS_MATCHED : stepVerb;
    const times = verb === SHELL_USED && st.list.length > 1 ? ` ${st.list.length} times` : '';
    if (!st.times.length) return `${verb}${times} (${rulesPhrase(st.list)})`;
    const start = Math.min(...st.times);
    const end = Math.max(...st.times);
    const startDay = new Date(start).toISOString().slice(0, 10);
    const endDay = new Date(end).toISOString().slice(0, 10);
    const at = startDay === prevDay ? clock(start) : spokenTime(start, { year: false });
    const told = i === 0 && start === firstMs;
    let when = '';
    if (end - start < 60_000) when = told ? '' : ` ${startDay === prevDay ? 'at' : 'on'} ${at}`;
    else if (endDay === startDay) when = told ? ` until ${clock(end)}` : ` between ${at} and ${clock(end)}`;
    else when = `${told ? '' : ` from ${at}`} until ${spokenTime(end, { year: false })}`;
    prevDay = endDay;
    return `${verb}${times}${when} (${rulesPhrase(st.list)})`;
  });
  const list = phrases.length > 1 ? `${phrases.slice(0, -1).join(', ')}, and ${phrases.at(-1)}` : (phrases[0] ?? 'left findings');
  // Indicators alone prove no attack step: what matched is said, not what "the attacker" did.
  const parts = [`${who}${when} ${stage === 'none' ? 'the evidence' : 'the attacker'} ${list}.`];
  if (shells.length) parts.push(`Web shell ${shells.map((p) => serverPath(p) ?? p).join(', ')} was on disk and answered a request with HTTP 2xx.`);
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
    narrative: narrative(sorted, ips, first, stage, shells, cves),
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
      cur.entry.last = f.group?.last_time ?? (f.time as string);
      cur.entry.count += findingWeight(f);
      if (cur.entry.findings.length < TIMELINE_IDS) cur.entry.findings.push(f.id);
      if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[cur.entry.severity]) cur.entry.severity = f.severity;
      if (STAGE_RANK[it.stage] > STAGE_RANK[cur.entry.stage]) cur.entry.stage = it.stage;
      cur.lastMs = ms;
      continue;
    }
    const entry: TimelineEntry = {
      time: f.time as string,
      last: f.group?.last_time ?? (f.time as string),
      source,
      rule: f.rule,
      title: f.title,
      stage: it.stage,
      severity: f.severity,
      client_ip: it.ip,
      count: findingWeight(f),
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
  // An incident needs a finding that can change the verdict: a low indicator alone (WS-07 "not compared", on every
  // clean server of a build without a known-good list) is worth a look, not an attack story; joined to one, it is part of it.
  const built = [...groupsOf(items, uf).values()]
    .filter((g) => g.some((i) => canChangeVerdict(items[i].f)))
    .map((g) => buildIncident(g.map((i) => items[i]), confirmed));
  built.sort((a, b) => (a.first === b.first ? 0 : a.first === null ? 1 : b.first === null ? -1 : Date.parse(a.first) - Date.parse(b.first)));
  const incidents: Incident[] = built.map((inc, i) => ({ id: `I${i + 1}`, ...inc }));
  const incidentOf = new Map<string, string>();
  for (const inc of incidents) for (const id of inc.findings) incidentOf.set(id, inc.id);
  return { incidents, timeline: buildTimeline(items, incidentOf), stage: maxStage(incidents.map((i) => i.stage)) };
}
