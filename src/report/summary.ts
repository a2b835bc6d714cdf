// Per-host figures shared by the fleet table, the HTML report and next steps.
import { SEVERITIES, VERDICTS, findingWeight } from '../model.js';
import type { Coverage, Finding, HostResult, Severity, Verdict } from '../model.js';
import { isWebSource } from '../semantics.js';
export { shortTime } from '../semantics.js';
import { EXPLOITED_FAMILIES } from '../rules/exploitation-windows.js';

export function severityCounts(host: HostResult): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of host.findings) counts[f.severity] += findingWeight(f);
  return counts;
}

/**
 * Earliest and latest log time of the findings in the host's incidents (engine/correlate.ts: each holds a finding
 * that can change the verdict; exposure findings and lone low indicators are in none). Log times only: a file's time
 * is when it was last written or copied (a copy without preserved times turns it into the day of collection), so it
 * never dates attack activity.
 */
export function attackSpan(host: Pick<HostResult, 'findings' | 'incidents'>): { first: string | null; last: string | null } {
  const inIncident = new Set(host.incidents.flatMap((i) => i.findings));
  const times = host.findings
    .filter((f) => inIncident.has(f.id) && f.lane !== 'Files' && f.time !== null && !Number.isNaN(Date.parse(f.time)))
    .map((f) => f.time as string)
    .sort((a, b) => Date.parse(a) - Date.parse(b));
  return { first: times[0] ?? null, last: times.at(-1) ?? null };
}

/** Formats the exposure windows take besides the web logs (Rps_Http for OWASSRF / ProxyNotShell). */
const WINDOW_FORMATS = new Set(EXPLOITED_FAMILIES.flatMap((f) => f.alsoIn));

/**
 * Earliest first and latest last record of the sources that decide coverage: the web logs and the others the exposure
 * windows take (a setup log of a CU install months before the first web log is not "logs cover"). A host with none
 * of them: its other logs, setup logs still left out.
 */
export function coverageSpan(all: Coverage[]): { first: string | null; last: string | null } {
  const deciding = all.filter((c) => isWebSource(c) || WINDOW_FORMATS.has(c.format));
  const coverage = deciding.length ? deciding : all.filter((c) => c.format !== 'exchange-setup');
  const firsts = coverage.map((c) => c.first).filter((t): t is string => t !== null && !Number.isNaN(Date.parse(t)));
  const lasts = coverage.map((c) => c.last).filter((t): t is string => t !== null && !Number.isNaN(Date.parse(t)));
  const pick = (list: string[], sign: number) => list.reduce<string | null>((best, t) => (best === null || sign * (Date.parse(t) - Date.parse(best)) > 0 ? t : best), null);
  return { first: pick(firsts, -1), last: pick(lasts, 1) };
}

export function shortDay(t: string | null): string {
  return t === null ? '—' : t.slice(0, 10);
}


/**
 * How reports name a host: its label (`acme-7.zip (MAIL01)`, engine/hosts.ts) when the evidence folder's name says
 * more than the server name — ten customers' MAIL01 must stay apart — else the server name alone (`mail01 (MAIL01)`
 * is `MAIL01`).
 */
export function hostTitle(h: { name: string; label?: string }): string {
  const label = h.label;
  if (label === undefined) return h.name;
  const suffix = ` (${h.name})`;
  const input = label.endsWith(suffix) ? label.slice(0, -suffix.length) : label;
  return input.replace(/\.zip$/i, '').toLowerCase() === h.name.toLowerCase() ? h.name : label;
}

/** What each verdict means, in words for the person reading the report (terminal and HTML). */
export const VERDICT_TEXT: Record<Verdict, { label: string; meaning: string }> = {
  compromised: { label: 'Compromised', meaning: 'The evidence shows an attacker got in.' },
  attempted: { label: 'Attacked, no sign of success', meaning: 'Attacks reached the server; nothing in the evidence shows they got in.' },
  suspicious: { label: 'Suspicious', meaning: 'Indicators without proof of an attack: a person needs to review them.' },
  clean: { label: 'Clean', meaning: 'Nothing found, and the logs cover the window.' },
  'insufficient-evidence': { label: 'Insufficient evidence — not clean', meaning: 'Nothing found, but the logs could not have shown it.' },
};

/** Worst verdict first: compromised, attempted, suspicious, insufficient-evidence, clean. */
export const VERDICT_ORDER: Record<Verdict, number> = { compromised: 0, attempted: 1, suspicious: 2, 'insufficient-evidence': 3, clean: 4 };

export function verdictCounts(hosts: ReadonlyArray<{ verdict: Verdict }>): string {
  return VERDICTS.map((v) => [v, hosts.filter((h) => h.verdict === v).length] as const)
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${n} ${v}`)
    .join(', ');
}

/**
 * What the fleet table, the HTML header, the host verdict lines and the exit code need of a host once its full
 * result has been written out and dropped (reports are streamed host by host).
 */
export interface HostDigest {
  name: string;
  label?: string;
  verdict: Verdict;
  stage: HostResult['stage'];
  reasons: string[];
  coverage: Coverage[];
  counts: Record<Severity, number>;
  attack: { first: string | null; last: string | null };
  /** Findings (a group counts for its members). */
  findings: number;
  skipped: number;
  /** A vulnerable build or configuration (an exposure finding above info, but EXP-01 low: see `undecided`). */
  exposed: boolean;
  /** The build's security update level could not be told (EXP-01 low): it may lack fixes, or not. */
  undecided: boolean;
}

export function hostDigest(h: HostResult): HostDigest {
  const counts = severityCounts(h);
  return {
    name: h.name,
    ...(h.label !== undefined ? { label: h.label } : {}),
    verdict: h.verdict,
    stage: h.stage,
    reasons: h.reasons,
    coverage: h.coverage,
    counts,
    attack: attackSpan(h),
    findings: Object.values(counts).reduce((a, b) => a + b, 0),
    skipped: h.skipped.length,
    exposed: h.findings.some((f) => f.kind === 'exposure' && f.severity !== 'info' && !undecidedBuild(f)),
    undecided: h.findings.some(undecidedBuild),
  };
}

/** EXP-01 graded low: the security update level of the build could not be told (rules/exposure.ts). */
function undecidedBuild(f: Finding): boolean {
  return f.rule === 'EXP-01' && f.severity === 'low';
}

/**
 * The build assessment (EXP-01), found by its rule id: configuration controls (EXP-EP, …) and mitigation states are
 * exposure findings too, and may sort before it.
 */
export function buildAssessment(h: HostResult): Finding | undefined {
  return h.findings.find((f) => f.rule === 'EXP-01');
}
