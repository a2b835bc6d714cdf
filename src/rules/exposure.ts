// Turns the build facts collected for one host into one `exposure` finding for `exhunt scan`.
import type { EvidenceValue, Fact, RawFinding, Severity } from '../model.js';
import type { Grade, RuleMeta } from './types.js';
import { gradedFinding } from './finding.js';
import { assessBuild, type Assessment } from '../builds/assess.js';
import { parseBuild, type Build } from '../builds/parse.js';
import { CVES, FAMILIES, FAMILY_IDS, SOURCES, type FamilyId } from '../builds/table.js';
import type { CveStatus } from '../builds/assess.js';

export interface BuildEvidence {
  fact: Fact;
  build: Build;
  assessment: Assessment;
}

const EXPOSURE_RULE = 'EXP-01';

/** Every non-empty set of families, in FAMILY_IDS order: the family lists an EXP-01 title can name. */
const FAMILY_SETS: FamilyId[][] = FAMILY_IDS.reduce<FamilyId[][]>((sets, id) => [...sets, ...sets.map((s) => [...s, id]), [id]], []).sort(
  (a, b) => a.length - b.length || FAMILY_IDS.indexOf(a[0]) - FAMILY_IDS.indexOf(b[0]),
);
const hasPreAuth = (id: FamilyId) => FAMILIES[id].cves.some((c) => c.preAuth);
const names = (ids: readonly FamilyId[]) => ids.map((id) => FAMILIES[id].name).join(', ');

/**
 * CVEs in CISA's KEV catalog outside the three families (CVE-2026-42897, CVE-2024-21410, …): the same build table
 * `exhunt build` and `exhunt check` read decides whether the current build is open to them.
 */
const isFamilyCve = (c: { family: string | null }) => (FAMILY_IDS as readonly string[]).includes(c.family ?? '');
const OTHER_KEV = CVES.filter((c) => c.kevAdded !== null && !isFamilyCve(c));
const KEV_TOKEN = 'kev';

/** The grade an EXP-01 finding takes: its severity and, when vulnerable, the families it names. */
const exposureGrade = (severity: Severity, ids: readonly FamilyId[]): string => `${EXPOSURE_RULE} ${severity}${ids.length ? ` ${ids.join('+')}` : ''}`;

/**
 * EXP-01's grades, generated from the family table: fixed (info), update level unknown (low), and for each set of
 * families the builds were vulnerable to, medium, or high when one of them has a pre-auth entry point.
 */
function exposureGrades(): Grade[] {
  const preAuth = FAMILY_IDS.flatMap((id) => FAMILIES[id].cves.filter((c) => c.preAuth).map((c) => c.cve)).join(', ');
  const vulnerable = (severity: Severity, ids: FamilyId[]): Grade => ({
    as: exposureGrade(severity, ids),
    title: `Exchange build vulnerable to ${names(ids)} during the window`,
    severity,
    kind: 'exposure',
    cves: ids.flatMap((id) => FAMILIES[id].cves.map((c) => c.cve)),
    when:
      severity === 'high'
        ? `a build in the window lacked the fix for a pre-auth entry point (${preAuth}); the builds were vulnerable to ${names(ids)}`
        : `the builds in the window were vulnerable to ${names(ids)}, with no pre-auth entry point open`,
  });
  return [
    { as: exposureGrade('info', []), title: 'Exchange build fixed for ProxyLogon, ProxyShell and ProxyNotShell', severity: 'info', kind: 'exposure', cves: [], when: 'every build in the window had the fixes' },
    { as: exposureGrade('low', []), title: 'Exchange build: security update level unknown', severity: 'low', kind: 'exposure', cves: [], when: 'the security update level of the build could not be told' },
    ...FAMILY_SETS.flatMap((ids) => [...(ids.some(hasPreAuth) ? [vulnerable('high', ids)] : []), vulnerable('medium', ids)]),
    ...(['high', 'medium'] as const).map((severity): Grade => ({
      as: `${EXPOSURE_RULE} ${severity} ${KEV_TOKEN}`,
      title: 'Exchange build open to a CVE exploited in the wild (CISA KEV)',
      severity,
      kind: 'exposure',
      cves: OTHER_KEV.map((c) => c.cve),
      when:
        severity === 'high'
          ? 'the current build is fixed for the three families but open to a pre-auth CVE in CISA\'s KEV catalog (CVE-2024-21410 on a build that cannot run Extended Protection)'
          : 'the current build is fixed for the three families but open to a CVE in CISA\'s KEV catalog (CVE-2026-42897 before Jun26SU, CVE-2021-42321, …)',
    })),
  ];
}

/** EXP-01 as a rule: `exposureFindings` picks one of its grades for each host. */
export const EXPOSURE_RULE_META: RuleMeta = {
  id: EXPOSURE_RULE,
  title: 'Exchange build vulnerable during the window',
  cves: FAMILY_IDS.flatMap((id) => FAMILIES[id].cves.map((c) => c.cve)),
  severity: 'high',
  kind: 'exposure',
  references: [SOURCES.MS, SOURCES.HC, SOURCES.HCCVE, SOURCES.CVE_PS, SOURCES.CVE_PNS],
  description:
    'The Exchange builds seen in the evidence lacked the ProxyLogon, ProxyShell or ProxyNotShell / OWASSRF fixes during the scan window: high when a pre-auth entry point (CVE-2021-26855, CVE-2021-34473) was open, medium for the other CVEs, low when the security update level is unknown, info when fixed. Every other CVE in CISA\'s KEV catalog the current build is open to (per the build table, as `exhunt build` and `exhunt check` say) is named too, and makes a fixed build medium (high when pre-auth). It describes the host, not an attack.',
  grades: exposureGrades(),
};

// Origins that only ever carry the CU (revision zeroed or the CU's own revision), whatever the spelling.
const CU_ONLY_ORIGIN = /AdminDisplayVersion|TargetServerVersion|owa[-_ /\\]?auth|Msi|registry|web ?root|folder/i;
const MAX_WINDOW_BUILDS = 20;

/** Parses every build fact; facts that are not Exchange builds are dropped. */
export function buildEvidence(facts: readonly Fact[]): BuildEvidence[] {
  const out: BuildEvidence[] = [];
  // One assessment per distinct build: every log file's #Version is a fact (10,000 HttpProxy logs, or one log
  // with thousands of repeated headers, gave 10,000 identical assessments of ~2 ms each).
  const seen = new Map<string, { build: Build; assessment: Assessment } | null>();
  for (const fact of facts) {
    if (fact.kind !== 'build') continue;
    const cuOnly = CU_ONLY_ORIGIN.test(fact.origin);
    const key = `${cuOnly}\u0000${fact.value}`;
    let known = seen.get(key);
    if (known === undefined) {
      const build = parseBuild(fact.value, { cuOnly });
      seen.set(key, (known = build ? { build, assessment: assessBuild(build) } : null));
    }
    if (known) out.push({ fact, ...known });
  }
  return out;
}

/** The most telling build: full builds (with the SU level) beat CU-only ones, then the newest observation. */
export function bestBuild(facts: readonly Fact[]): BuildEvidence | null {
  return pickBest(buildEvidence(facts));
}

function pickBest(all: readonly BuildEvidence[]): BuildEvidence | null {
  return all.reduce<BuildEvidence | null>((best, e) => (best === null || better(e, best) ? e : best), null);
}

function better(a: BuildEvidence, b: BuildEvidence): boolean {
  if (a.build.precision !== b.build.precision) return a.build.precision === 'full';
  const ta = timeOf(a.fact);
  const tb = timeOf(b.fact);
  return ta !== tb ? ta > tb : false;
}

/** Undated facts sort before every dated one. */
function timeOf(f: Fact): number {
  const t = f.time === null ? NaN : Date.parse(f.time);
  return Number.isNaN(t) ? -Infinity : t;
}

/**
 * The builds that were running at some point in the window: the last dated observation at or before `since`
 * (the build in force when the window opened), every later one, and undated ones (their time is unknown).
 */
function inWindow(evidence: BuildEvidence[], since: string): BuildEvidence[] {
  const start = Date.parse(since);
  if (Number.isNaN(start)) return evidence;
  const before = evidence.filter((e) => timeOf(e.fact) !== -Infinity && timeOf(e.fact) <= start);
  const opening = before.reduce<BuildEvidence | null>((a, e) => (a === null || timeOf(e.fact) > timeOf(a.fact) ? e : a), null);
  return evidence.filter((e) => e === opening || timeOf(e.fact) > start || timeOf(e.fact) === -Infinity);
}

/** The KEV CVEs outside the three families that the build is open to (configuration-only ones stay with EXP-EP & co). */
function openKev(e: BuildEvidence): CveStatus[] {
  // From a CU-only build, only what the build decides (no update exists for that CU): Extended Protection
  // capability, for one, depends on the SU level it cannot show.
  return e.assessment.cves.filter((c) => c.kev !== null && c.state === 'vulnerable' && (e.build.precision === 'full' || c.buildState === 'vulnerable') && !isFamilyCve(c));
}

function openCves(e: BuildEvidence): { cve: string; preAuth: boolean }[] {
  return FAMILY_IDS.flatMap((id) =>
    e.assessment.families[id].cves
      .filter((c) => c.state === 'vulnerable')
      .map((c) => ({ cve: c.cve, preAuth: FAMILIES[id].cves.find((d) => d.cve === c.cve)?.preAuth ?? false })),
  );
}

/**
 * One `exposure` finding per host, or none without build facts. Severity: high when a pre-auth entry point
 * (ProxyLogon CVE-2021-26855, ProxyShell CVE-2021-34473) was open during the window, medium when only other
 * CVEs of the families were, low when the SU level could not be told, info when the build was fixed.
 */
export function exposureFindings(facts: readonly Fact[], since: string): RawFinding[] {
  const all = buildEvidence(facts);
  const best = pickBest(all);
  if (best === null) return [];
  // CU-only facts decide only when no full build was seen (a definite "no SU exists for this CU" still counts).
  const full = all.filter((e) => e.build.precision === 'full');
  const window = inWindow(full.length > 0 ? full : [best], since);
  const vulnerable = window.filter((e) => openCves(e).length > 0).sort((a, b) => timeOf(b.fact) - timeOf(a.fact));
  const preAuth = vulnerable.filter((e) => openCves(e).some((c) => c.preAuth));
  const driver = preAuth[0] ?? vulnerable[0] ?? best;
  const cves = [...new Set(vulnerable.flatMap((e) => openCves(e).map((c) => c.cve)))].sort();
  // A CU-only build whose CU received the fix for a KEV CVE: whether the SU is in place is as unknown as for the families.
  const kevUnknown = best.build.precision === 'cu' ? best.assessment.cves.filter((c) => c.kev !== null && c.buildState === 'unknown' && !isFamilyCve(c)) : [];
  const unknown = FAMILY_IDS.some((id) => best.assessment.families[id].state === 'unknown') || kevUnknown.length > 0;
  // KEV CVEs are judged on the current build: the question is whether the server is open to them now.
  const kev = openKev(best);
  const families = vulnerable.length > 0 ? FAMILY_IDS.filter((id) => vulnerable.some((e) => e.assessment.families[id].state === 'vulnerable')) : [];
  const kevOnly = families.length === 0 && kev.length > 0;
  const severity: Severity = preAuth.length > 0 ? 'high' : vulnerable.length > 0 ? 'medium' : kevOnly ? (kev.some((c) => c.preAuth) ? 'high' : 'medium') : unknown ? 'low' : 'info';
  const a = driver.assessment;
  return [
    // The CVEs are those the window's builds left open and the KEV CVEs the current build is open to.
    gradedFinding(EXPOSURE_RULE_META, kevOnly ? `${EXPOSURE_RULE} ${severity} ${KEV_TOKEN}` : exposureGrade(severity, families), 'Host', {
      cves: [...new Set([...cves, ...kev.map((c) => c.cve)])].sort(),
      time: driver.fact.time,
      client_ip: null,
      source: driver.fact.source,
      summary: summaryFor(driver, best, vulnerable.length > 0) + kevSentence(best, kev, kevUnknown),
      evidence: {
        build: a.build,
        product: a.product,
        cu: a.cu,
        su: a.su,
        precision: a.precision,
        families: familyStates(a),
        vulnerable_in_window: Object.fromEntries(FAMILY_IDS.map((id) => [id, vulnerable.some((e) => e.assessment.families[id].state === 'vulnerable')])),
        install: best.assessment.install,
        origin: driver.fact.origin,
        file: driver.fact.source.path,
        current_build: best.assessment.build,
        current_families: familyStates(best.assessment),
        kev_open: kev.map((c) => c.cve),
        kev_unknown: kevUnknown.map((c) => c.cve),
        since,
        window_builds: windowBuilds(window),
        notes: a.notes,
      },
    }),
  ];
}

function familyStates(a: Assessment): Record<string, EvidenceValue> {
  return Object.fromEntries(FAMILY_IDS.map((id) => [id, a.families[id].state]));
}

function summaryFor(driver: BuildEvidence, best: BuildEvidence, wasVulnerable: boolean): string {
  const a = driver.assessment;
  const where = `${a.build} (${a.product ?? 'unknown product'} ${a.cu ?? 'unknown CU'}${a.su ? ` ${a.su}` : ''}) from ${driver.fact.origin}`;
  const states = FAMILY_IDS.map((id) => `${FAMILIES[id].name} ${a.families[id].state}`).join('; ');
  const now = best !== driver ? ` Latest build seen: ${best.assessment.build} (${best.fact.origin}).` : '';
  const advice = best.assessment.install ? ` ${best.assessment.install}.` : '';
  return `${wasVulnerable ? 'Vulnerable build during the window' : 'Build'} ${where}: ${states}.${now}${advice}`;
}

function kevSentence(best: BuildEvidence, kev: readonly CveStatus[], unknown: readonly CveStatus[]): string {
  const each = (cves: readonly CveStatus[]) => cves.map((c) => `${c.cve} (KEV ${c.kev}; ${c.fix ? `fixed by ${c.fix.update} ${c.fix.build}` : c.why})`).join(', ');
  const open = kev.length ? ` Build ${best.assessment.build} is open now to ${kev.length === 1 ? 'a CVE' : 'CVEs'} exploited in the wild (CISA KEV): ${each(kev)}.` : '';
  const undecided = unknown.length ? ` The evidence shows the CU only, so it cannot tell whether the update for ${unknown.length === 1 ? 'this CVE' : 'these CVEs'} exploited in the wild (CISA KEV) is installed: ${each(unknown)}.` : '';
  return open + undecided;
}

function windowBuilds(window: BuildEvidence[]): string[] {
  const seen = new Map<string, { first: string | null; origin: string }>();
  for (const e of [...window].sort((x, y) => timeOf(x.fact) - timeOf(y.fact))) {
    if (!seen.has(e.assessment.build)) seen.set(e.assessment.build, { first: e.fact.time, origin: e.fact.origin });
  }
  return [...seen].slice(0, MAX_WINDOW_BUILDS).map(([b, v]) => `${v.first ?? 'undated'} ${b} (${v.origin})`);
}
