// One fleet view over many scan results (runs, machines, days): a summary per host, the same host scanned twice
// kept once (the newest), and cross-host pivots — the same attacker IP, web-shell hash or name, user agent, shell
// password or ECP canary on several hosts is a "campaign". Results are read one file at a time and only the
// per-host summary and its indicators are kept, so memory grows with the number of hosts, not of findings. A result
// file is read host by host (result-reader.ts): neither it nor its parsed tree is ever whole in memory.
import { basename } from 'node:path';
import { VERDICTS, type Finding, type HostResult, type ScanReport, type Severity, type Stage, type Verdict } from '../model.js';
import { evidenceString, findingStage, isLoopback, isPrivateIp, normalizeIp, preferLogTimes, STAGE_RANK } from '../semantics.js';
import { VERSION } from '../version.js';
import { readResultFile, ResultFileError } from './result-reader.js';
import { coverageSpan, severityCounts } from './summary.js';
import { bestBuild } from '../rules/exposure.js';
import { formatBuild } from '../builds/parse.js';

export { ResultFileError };

export const FLEET_SCHEMA = 'exhunt.fleet/1';

export const PIVOTS = ['ip', 'shell-hash', 'shell-name', 'shell-name-pattern', 'user-agent', 'shell-password', 'canary'] as const;
export type Pivot = (typeof PIVOTS)[number];

export const PIVOT_TEXT: Record<Pivot, string> = {
  ip: 'attacker IP',
  'shell-hash': 'web-shell SHA-256',
  'shell-name': 'web-shell file name',
  'shell-name-pattern': 'web-shell name pattern',
  'user-agent': 'attack user agent',
  'shell-password': 'web-shell password',
  canary: 'ECP canary (msExchEcpCanary)',
};

/** One indicator on one host, with the first and last time it was seen there. */
export interface Sighting {
  pivot: Pivot;
  value: string;
  first: string | null;
  last: string | null;
  findings: number;
}

export interface FleetHost {
  /** Unique label (input name + server name); the merge key across runs. */
  label: string;
  server: string;
  verdict: Verdict;
  stage: Stage;
  first_attack: string | null;
  last_attack: string | null;
  build: string | null;
  /** The worst exposure finding ("vulnerable to ...") or null. */
  exposure: { severity: Severity; summary: string } | null;
  coverage: { first: string | null; last: string | null; sources: number };
  counts: Record<Severity, number>;
  reasons: string[];
  skipped: number;
  scanned_at: string;
  result_file: string;
  sightings: Sighting[];
}

export interface Campaign {
  pivot: Pivot;
  value: string;
  hosts: string[];
  first: string | null;
  last: string | null;
}

export interface FleetReport {
  schema: typeof FLEET_SCHEMA;
  tool: { name: 'exhunt'; version: string; generated: string };
  results: Array<{ file: string; scanned_at: string; hosts: number }>;
  notes: string[];
  totals: Record<Verdict, number>;
  hosts: FleetHost[];
  campaigns: Campaign[];
}

const minT = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a < b ? a : b);
const maxT = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a > b ? a : b);

/** Random-looking script names (HAFNIUM-style `xHA6boc8.aspx`): digits and letters mixed, 6-16 characters. */
function namePattern(name: string): string | null {
  const m = /^([a-z0-9]{6,16})\.(as[hmp]x|aspx)$/i.exec(name);
  if (!m || !/\d/.test(m[1]) || !/[a-z]/i.test(m[1])) return null;
  return `${m[1].length} random letters and digits .${m[2].toLowerCase()}`;
}

/** The indicators of one finding worth linking hosts by. Scanner traffic (stage scanned) links nothing. */
function indicators(f: Finding): Array<[Pivot, string]> {
  const stage = f.stage === undefined ? findingStage(f) : f.stage;
  const attack = stage !== null && STAGE_RANK[stage] >= STAGE_RANK.attempted;
  const out: Array<[Pivot, string]> = [];
  if (attack) {
    const ip = normalizeIp(f.client_ip);
    // A private address names a different machine at each customer, and is most often Exchange's own (a back end's
    // c-ip is the front end): never a cross-host attacker indicator.
    if (ip && !isLoopback(ip) && !isPrivateIp(ip)) out.push(['ip', ip]);
    const ua = evidenceString(f.evidence.user_agent);
    if (ua && ua !== '-') out.push(['user-agent', ua]);
  }
  const canary = evidenceString(f.evidence.ecp_canary);
  if (canary && attack) out.push(['canary', canary]);
  const password = evidenceString(f.evidence.shell_password);
  if (password) out.push(['shell-password', password]);
  if (f.kind === 'webshell' && stage === 'persistence') {
    const sha = evidenceString(f.evidence.sha256);
    if (sha && /^[0-9a-f]{64}$/i.test(sha)) out.push(['shell-hash', sha.toLowerCase()]);
    const file = evidenceString(f.evidence.file);
    if (file) {
      const name = file.replace(/\\/g, '/').split('/').pop()!.toLowerCase();
      if (/\.as[hmp]x$/.test(name)) {
        out.push(['shell-name', name]);
        const pattern = namePattern(name);
        if (pattern) out.push(['shell-name-pattern', pattern]);
      }
    }
  }
  return out;
}

/**
 * A grouped row (engine/group.ts) stands for many findings: its samples and its most frequent client IPs are
 * pivots too, so a flood of exploitation from 300 addresses still links the hosts it reached.
 */
function members(f: Finding): Finding[] {
  const g = f.group;
  if (!g) return [f];
  const samples = [...g.first, ...g.last].map((s) => ({ ...f, time: s.time, client_ip: s.client_ip, evidence: s.file === undefined ? f.evidence : { ...f.evidence, file: s.file } }));
  return [f, ...samples, ...g.client_ips.map((c) => ({ ...f, client_ip: c.ip }))];
}

function sightings(h: HostResult): Sighting[] {
  const by = new Map<string, Sighting>();
  for (const f of h.findings) {
    // One count per finding row and indicator, however many of its members show the indicator.
    const counted = new Set<string>();
    for (const m of members(f)) {
      for (const [pivot, value] of indicators(m)) {
        const key = `${pivot}\u0000${value}`;
        const s = by.get(key);
        if (!s) by.set(key, { pivot, value, first: m.time, last: m.time, findings: 1 });
        else {
          s.first = minT(s.first, m.time);
          s.last = maxT(s.last, m.time);
          if (!counted.has(key)) s.findings++;
        }
        counted.add(key);
      }
    }
  }
  return [...by.values()];
}

function buildShown(h: HostResult): string | null {
  const best = bestBuild(h.facts);
  return best ? formatBuild(best.build) : (h.facts.find((f) => f.kind === 'build')?.value ?? null);
}

const SEV_ORDER: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/** The per-host summary kept for the fleet view (the findings themselves are dropped). */
export function summariseHost(h: HostResult, scannedAt: string, resultFile: string): FleetHost {
  const attack = preferLogTimes(h.findings.filter((f) => (f.stage === undefined ? findingStage(f) : f.stage) !== null)).sort();
  const exposures = h.findings.filter((f) => f.kind === 'exposure').sort((a, b) => SEV_ORDER.indexOf(a.severity) - SEV_ORDER.indexOf(b.severity));
  const span = coverageSpan(h.coverage);
  return {
    label: h.label ?? h.name,
    server: h.name,
    verdict: h.verdict,
    stage: h.stage ?? 'none',
    first_attack: attack[0] ?? null,
    last_attack: attack.at(-1) ?? null,
    // The build the verdict judged (a full build over a CU-only one, then the newest), written one way (15.01.2176.009
    // and 15.1.2176.9 are one build): a string sort showed 15.2.986.5 for a host upgraded to 15.2.1118.7. One exhunt
    // does not know: the first seen.
    build: buildShown(h),
    exposure: exposures[0] ? { severity: exposures[0].severity, summary: exposures[0].summary } : null,
    coverage: { first: span.first, last: span.last, sources: h.coverage.length },
    counts: severityCounts(h),
    reasons: h.reasons.slice(0, 3),
    skipped: h.skipped.length,
    scanned_at: scannedAt,
    result_file: resultFile,
    sightings: sightings(h),
  };
}


/** Accumulates hosts result file by result file; the same label seen again keeps the newest scan. */
export class FleetBuilder {
  private readonly hosts = new Map<string, FleetHost>();
  private readonly results: FleetReport['results'] = [];
  private readonly notes: string[] = [];

  add(report: ScanReport, file: string): void {
    const scannedAt = report.tool.finished || report.tool.started;
    this.merge(report.hosts.map((h) => summariseHost(h, scannedAt, file)), file, scannedAt);
  }

  /** Reads a result file host by host, keeping only each host's summary. */
  async addFile(file: string): Promise<void> {
    const summaries: FleetHost[] = [];
    // The scan time is in `tool`, which a writer may put after the hosts: filled in once the file is read.
    const head = await readResultFile(file, (h) => summaries.push(summariseHost(h, '', file)));
    const tool = head.tool as ScanReport['tool'];
    const scannedAt = tool.finished || tool.started;
    for (const s of summaries) s.scanned_at = scannedAt;
    this.merge(summaries, file, scannedAt);
  }

  private merge(summaries: FleetHost[], file: string, scannedAt: string): void {
    this.results.push({ file, scanned_at: scannedAt, hosts: summaries.length });
    for (const s of summaries) {
      const prev = this.hosts.get(s.label);
      if (!prev) {
        this.hosts.set(s.label, s);
        continue;
      }
      const [keep, drop] = s.scanned_at > prev.scanned_at ? [s, prev] : [prev, s];
      this.hosts.set(s.label, keep);
      this.notes.push(`${s.label} was scanned more than once: kept the scan of ${keep.scanned_at} (${basename(keep.result_file)}), not ${drop.scanned_at} (${basename(drop.result_file)})`);
    }
  }

  build(): FleetReport {
    const hosts = [...this.hosts.values()].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
    const totals = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
    for (const h of hosts) totals[h.verdict]++;
    return {
      schema: FLEET_SCHEMA,
      tool: { name: 'exhunt', version: VERSION, generated: new Date().toISOString() },
      results: this.results,
      notes: this.notes,
      totals,
      hosts,
      campaigns: campaigns(hosts),
    };
  }
}

/** Indicators seen on two or more hosts, most widespread first. */
export function campaigns(hosts: FleetHost[]): Campaign[] {
  const by = new Map<string, Campaign>();
  for (const h of hosts) {
    for (const s of h.sightings) {
      const key = `${s.pivot}\u0000${s.value}`;
      const c = by.get(key);
      if (!c) by.set(key, { pivot: s.pivot, value: s.value, hosts: [h.label], first: s.first, last: s.last });
      else {
        c.hosts.push(h.label);
        c.first = minT(c.first, s.first);
        c.last = maxT(c.last, s.last);
      }
    }
  }
  return [...by.values()]
    .filter((c) => c.hosts.length > 1)
    .sort((a, b) => b.hosts.length - a.hosts.length || PIVOTS.indexOf(a.pivot) - PIVOTS.indexOf(b.pivot) || (a.first ?? '~').localeCompare(b.first ?? '~') || a.value.localeCompare(b.value));
}

/** Exit 1 when any host is not clean or short of evidence, as `exhunt scan` would. */
export function fleetExitCode(r: FleetReport): number {
  return r.totals.compromised + r.totals.attempted + r.totals.suspicious > 0 ? 1 : 0;
}
