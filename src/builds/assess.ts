// Maps one parsed build to product, CU, the state of every CVE in data/builds/cves.csv and the one update to install.
import { compareBuild, formatBuild, mustParse, parseBuild, type Build, type Precision } from './parse.js';
import { compareNumeric, compareText } from '../semantics.js';
import {
  CUS, CVES, FAMILIES, FAMILY_IDS, PRODUCT_NAMES, SUPPORT_END, SUS, updateReleased, updateRows,
  type CuRow, type CveRow, type FamilyId, type ProductId, type Requirement, type SuRow,
} from './table.js';

export type FamilyState = 'vulnerable' | 'fixed' | 'not-affected' | 'unknown';

export interface CveAssessment {
  cve: string;
  state: FamilyState;
  why: string;
}

/** One CVE's state for the assessed build, with what decides it. */
export interface CveStatus extends CveAssessment {
  impact: string;
  /** Date added to CISA's KEV catalog, or null. */
  kev: string | null;
  family: string | null;
  preAuth: boolean;
  cvss: number | null;
  /** The update that fixes it on the server's CU (or the newest CU carrying it), when one exists. */
  fix: { update: string; cu: string; build: string; kb: string | null; released: string } | null;
  /** Configuration the fix also depends on, in words (empty when the build alone decides). */
  requires: string[];
  /** The state from the build alone, before configuration requirements (what an update can change). */
  buildState: FamilyState;
  sources: string[];
}

export interface FamilyAssessment {
  state: FamilyState;
  cves: CveAssessment[];
  /** What closes this family from the assessed build, or null when nothing is needed. */
  remedy: string | null;
}

export interface SupportState {
  state: 'supported' | 'esu-only' | 'out-of-support';
  text: string;
}

export interface Assessment {
  build: string;
  precision: Precision;
  product: string | null;
  productId: ProductId | null;
  cu: string | null;
  cuRow: CuRow | null;
  /** Update name when the build is exactly one of the table's SU/HU builds. */
  su: string | null;
  families: Record<FamilyId, FamilyAssessment>;
  /** Every CVE of the data files that was public on the assessment date (KEV first, then by impact). */
  cves: CveStatus[];
  install: string | null;
  /** The update `install` names, when it names one. */
  installUpdate: SuRow | null;
  support: SupportState | null;
  /** Day the assessment speaks for (YYYY-MM-DD): updates released later are ignored. */
  asOf: string;
  notes: string[];
}

export interface AssessOptions {
  cuOnly?: boolean;
  /** Date of the assessment (default: today). */
  asOf?: string;
}

/** Parses and assesses; null when the text is not an Exchange build. */
export function assessBuildString(text: string, opts: AssessOptions = {}): Assessment | null {
  const b = parseBuild(text, opts);
  return b ? assessBuild(b, opts.asOf) : null;
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

export function assessBuild(b: Build, asOf: string = today()): Assessment {
  const productId = productOf(b);
  if (!productId) {
    return unassessable(b, 'Exchange 2010 before SP3', asOf, ['Exchange 2010 before SP3 is not in the table; only SP3 RU32 (14.3.513.0, KB5000978) received the March 2021 fix.'], 'Upgrade to Exchange 2010 SP3 and install Update Rollup 32 (KB5000978, 14.3.513.0); migrate off Exchange 2010 (out of support since 2020-10-13).');
  }
  const loc = locateCu(productId, b);
  if (loc.kind === 'between') {
    return unassessable(b, PRODUCT_NAMES[productId], asOf, [`Build ${formatBuild(b)} matches no known CU of ${PRODUCT_NAMES[productId]} (between ${loc.after} and ${loc.before}); interim or private build.`], null, productId);
  }
  const notes: string[] = [];
  const cuRow = loc.kind === 'cu' ? loc.row : null;
  const cuName = cuRow ? cuRow.cu : `newer than ${CUS[productId].at(-1)!.cu}`;
  if (loc.kind === 'newer') notes.push(`Build is newer than the last ${PRODUCT_NAMES[productId]} CU in the table; CUs are cumulative, so it is assumed to include every earlier fix.`);
  if (b.precision === 'cu') notes.push(`Build source shows the CU only: ${cuName}; SU level unknown.`);
  const suRow = cuRow ? SUS.find((r) => r.product === productId && r.cu === cuRow.cu && compareBuild(mustParse(r.build), b) === 0) : undefined;
  const cves = publicCves(asOf).map((c) => cveStatus(c, productId, cuRow, b));
  const byId = new Map(cves.map((c) => [c.cve, c]));
  const families = {} as Record<FamilyId, FamilyAssessment>;
  for (const id of FAMILY_IDS) families[id] = familyOf(id, byId, productId, cuRow, b);
  if (cuRow) {
    for (const row of SUS) {
      if (row.product === productId && row.cu === cuRow.cu && row.confidence === 'provisional' && row.note) notes.push(`${row.su} for ${cuRow.cu}: ${row.note} (${row.altBuild} vs ${row.build}).`);
    }
  }
  const pick = installPick(productId, cuRow, b, cves, asOf);
  const support = supportState(productId, cuRow, asOf);
  notes.push(`${support.text}.`);
  return {
    build: formatBuild(b),
    precision: b.precision,
    product: PRODUCT_NAMES[productId],
    productId,
    cu: cuRow ? cuRow.cu : null,
    cuRow,
    su: suRow && b.precision === 'full' ? suRow.su : null,
    families,
    cves: sortCves(cves),
    install: pick.text,
    installUpdate: pick.update,
    support,
    asOf,
    notes,
  };
}

/** CVEs whose fixing update was out on `asOf` (configuration-only ones from their KEV date, else always). */
function publicCves(asOf: string): readonly CveRow[] {
  return CVES.filter((c) => {
    const d = c.fixedBy === 'config' ? c.kevAdded : updateReleased(c.fixedBy);
    return d === null || d <= asOf;
  });
}

/** Exchange SE continues the 15.2 line from build 2562 (CSS-Exchange); below that, 15.2 is Exchange 2019. */
export function productOf(b: Pick<Build, 'major' | 'minor' | 'build'>): ProductId | null {
  if (b.major === 14) return b.minor === 3 ? 'E2010' : null;
  if (b.minor === 0) return 'E2013';
  if (b.minor === 1) return 'E2016';
  return b.build >= 2562 ? 'ESE' : 'E2019';
}

type CuLocation = { kind: 'cu'; row: CuRow } | { kind: 'newer' } | { kind: 'between'; after: string; before: string };

// The build part alone identifies the CU: every SU of a CU keeps the CU's build part.
function locateCu(product: ProductId, b: Build): CuLocation {
  const rows = CUS[product];
  const exact = rows.find((r) => mustParse(r.build).build === b.build);
  if (exact) return { kind: 'cu', row: exact };
  const last = rows.at(-1)!;
  if (b.build > mustParse(last.build).build) return { kind: 'newer' };
  const before = rows.find((r) => mustParse(r.build).build > b.build);
  const after = [...rows].reverse().find((r) => mustParse(r.build).build < b.build);
  return { kind: 'between', after: after ? after.cu : 'the first release', before: before ? before.cu : last.cu };
}

function cuIndex(product: ProductId, cu: string): number {
  return CUS[product].findIndex((r) => r.cu === cu);
}

/** Newest release date of any update row of the product (the product's last serviced day). */
function lastServiced(product: ProductId): string {
  return SUS.filter((r) => r.product === product).reduce((a, r) => (r.released > a ? r.released : a), CUS[product].at(-1)!.released);
}

// Extended Protection needs the Aug22SU code (HC-EP thresholds).
function epCapable(b: Build): boolean {
  if (b.major !== 15) return false;
  if (b.minor === 2) return b.build > 1118 || (b.build === 1118 && b.revision >= 11) || (b.build === 986 && b.revision >= 28);
  if (b.minor === 1) return b.build > 2507 || (b.build === 2507 && b.revision >= 11) || (b.build === 2375 && b.revision >= 30);
  return b.build > 1497 || (b.build === 1497 && b.revision >= 38);
}

/** The requirement in words, as the fix to apply. */
export function requirementText(r: Requirement): string {
  switch (r.kind) {
    case 'extended-protection': return 'Extended Protection on every Exchange virtual directory';
    case 'serialization-signing': return 'PowerShell serialization payload signing on (default from Nov23SU)';
    case 'hybrid-app': return 'the dedicated Exchange hybrid application (hybrid organisations)';
    case 'download-domains': return 'Download Domains configured';
    case 'ad-schema': return 'Active Directory schema prepared by the update (/PrepareSchema)';
    case 'ad-domain': return 'every domain prepared by the update (/PrepareDomain or /PrepareAllDomains)';
    case 'override': return `no setting override ${r.component}\\${r.section}\\${r.parameter} = false`;
  }
}

type Verdict = { state: FamilyState; why: string; fix: CveStatus['fix'] };

function cveStatus(c: CveRow, product: ProductId, cuRow: CuRow | null, b: Build): CveStatus {
  const v = buildVerdict(c, product, cuRow, b);
  const requires = v.state === 'not-affected' ? [] : c.needs.map(requirementText);
  const withConfig = v.state === 'fixed' ? configVerdict(c, product, b, v) : v;
  return {
    cve: c.cve, state: withConfig.state, why: withConfig.why, impact: c.impact, kev: c.kevAdded, family: c.family,
    preAuth: c.preAuth, cvss: c.cvss, fix: v.fix, requires, buildState: v.state, sources: c.sources,
  };
}

// A build at or above the fix still depends on configuration for some CVEs; say which way it leans.
function configVerdict(c: CveRow, product: ProductId, b: Build, v: Verdict): Verdict {
  const optIn = c.needs.filter((r) => r.kind === 'extended-protection' || r.kind === 'hybrid-app' || r.kind === 'download-domains');
  if (optIn.length === 0) return c.needs.length ? { ...v, why: `${v.why}; also needs ${c.needs.map(requirementText).join(', ')} (not visible from a build)` } : v;
  if (optIn.some((r) => r.kind === 'extended-protection') && !epCapable(b)) {
    return { ...v, state: 'vulnerable', why: `build cannot run Extended Protection (needs Aug22SU or later for ${PRODUCT_NAMES[product]})` };
  }
  return { ...v, state: 'unknown', why: `${v.why === 'no build fixes it' ? 'no build fixes it' : v.why}; closed only by ${optIn.map(requirementText).join(' and ')}: not visible from a build (exhunt scan reads it from the server's configuration)` };
}

function buildVerdict(c: CveRow, product: ProductId, cuRow: CuRow | null, b: Build): Verdict {
  const none = { fix: null };
  if (c.notOn.includes(product)) return { state: 'not-affected', why: `does not apply to ${PRODUCT_NAMES[product]}`, ...none };
  const released = c.fixedBy === 'config' ? null : updateReleased(c.fixedBy);
  if (!c.products.includes(product)) {
    if (product === 'ESE' && c.products.includes('E2019') && released !== null && released < CUS.ESE[0].released) {
      return { state: 'fixed', why: `Exchange SE RTM (${CUS.ESE[0].released}) includes every Exchange 2019 fix released before it`, ...none };
    }
    if (released !== null && released > lastServiced(product)) {
      return { state: 'unknown', why: `no source assesses ${PRODUCT_NAMES[product]} (no longer serviced when it was fixed)`, ...none };
    }
    return { state: 'not-affected', why: `${PRODUCT_NAMES[product]} is not listed as affected`, ...none };
  }
  if (c.fixedBy === 'config') return { state: 'fixed', why: 'no build fixes it', ...none };
  const firstFixed = c.fixedInCu[product];
  if (firstFixed !== undefined) {
    if (!cuRow || cuIndex(product, cuRow.cu) >= cuIndex(product, firstFixed)) return { state: 'fixed', why: `${cuRow?.cu ?? 'CU'} includes the fix (fixed from ${firstFixed})`, ...none };
    return { state: 'vulnerable', why: `fixed from ${firstFixed}`, ...none };
  }
  const rows = updateRows(product, c.fixedBy);
  if (rows.length === 0) {
    if (released !== null && CUS[product][0].released > released) return { state: 'fixed', why: `${PRODUCT_NAMES[product]} was released after ${c.fixedBy}`, ...none };
    return { state: 'vulnerable', why: `no ${c.fixedBy} was released for ${PRODUCT_NAMES[product]}`, ...none };
  }
  const newest = rows.reduce((a, r) => (compareBuild(mustParse(r.build), mustParse(a.build)) > 0 ? r : a));
  const own = cuRow ? rows.find((r) => r.cu === cuRow.cu) : undefined;
  const fixOf = (r: SuRow) => ({ update: r.su, cu: r.cu, build: r.build, kb: r.kb, released: r.released });
  if (!cuRow || b.build > mustParse(newest.build).build) {
    return { state: 'fixed', why: `${cuRow?.cu ?? 'CU newer than the table'} is later than ${newest.cu}, the last CU that needed ${c.fixedBy}`, fix: fixOf(own ?? newest) };
  }
  if (!own) return { state: 'vulnerable', why: `no ${c.fixedBy} was released for ${cuRow.cu}`, fix: fixOf(newest) };
  return { ...compareToSu(own, b), fix: fixOf(own) };
}

function compareToSu(su: SuRow, b: Build): { state: FamilyState; why: string } {
  const label = `${su.su} ${su.build}${su.kb ? ` (${su.kb})` : ''}`;
  if (b.precision === 'cu') return { state: 'unknown', why: `SU level unknown; fixed by ${label}` };
  if (compareBuild(b, mustParse(su.build)) >= 0) return { state: 'fixed', why: `at or above ${label}` };
  if (su.altBuild && compareBuild(b, mustParse(su.altBuild)) >= 0) {
    return { state: 'unknown', why: `fixed per CSS-Exchange (${su.altBuild}) but Microsoft's build list names ${su.build}` };
  }
  return { state: 'vulnerable', why: `below ${label}` };
}

const STATE_RANK: Record<FamilyState, number> = { vulnerable: 3, unknown: 2, fixed: 1, 'not-affected': 0 };

function worst(states: FamilyState[]): FamilyState {
  return states.reduce<FamilyState>((a, s) => (STATE_RANK[s] > STATE_RANK[a] ? s : a), 'not-affected');
}

const IMPACT_RANK: Record<string, number> = { RCE: 6, EoP: 5, 'Security feature bypass': 4, Spoofing: 3, 'Info disclosure': 3, Tampering: 2, DoS: 1 };

/** KEV first (newest addition first: the dates are ISO, so code-unit order), then by impact class, then newest CVE first. */
export function sortCves<T extends Pick<CveStatus, 'cve' | 'kev' | 'impact'>>(cves: T[]): T[] {
  return [...cves].sort((a, b) =>
    Number(b.kev !== null) - Number(a.kev !== null) || compareText(b.kev ?? '', a.kev ?? '') ||
    (IMPACT_RANK[b.impact] ?? 0) - (IMPACT_RANK[a.impact] ?? 0) || compareNumeric(b.cve, a.cve));
}

// The legacy family view: the family's CVEs from the full assessment (a family CVE published after `asOf` is
// still assessed, as before, so the three families always carry every CVE).
function familyOf(id: FamilyId, byId: Map<string, CveStatus>, product: ProductId, cuRow: CuRow | null, b: Build): FamilyAssessment {
  const cves = FAMILIES[id].cves.map((d) => {
    const s = byId.get(d.cve) ?? cveStatus(CVES.find((c) => c.cve === d.cve)!, product, cuRow, b);
    return { cve: s.cve, state: s.state, why: s.why };
  });
  const state = worst(cves.map((c) => c.state));
  return { state, cves, remedy: state === 'vulnerable' || state === 'unknown' ? familyRemedy(id, product, cuRow, state) : null };
}

function suText(r: SuRow): string {
  return `${r.su} for ${PRODUCT_NAMES[r.product]} ${r.cu} (${r.kb ? `${r.kb}, ` : ''}${r.build}, released ${r.released})`;
}

/** The family's completing update on the CU: the newest of its CVEs' fixing rows there. */
function completingSu(id: FamilyId, product: ProductId, cu: string): SuRow | undefined {
  const rows = FAMILIES[id].cves.map((c) => SUS.find((r) => r.product === product && r.cu === cu && r.su === c.su));
  if (rows.some((r) => r === undefined)) return undefined;
  return (rows as SuRow[]).reduce((a, r) => (compareBuild(mustParse(r.build), mustParse(a.build)) > 0 ? r : a));
}

function familyRemedy(id: FamilyId, product: ProductId, cuRow: CuRow | null, state: FamilyState): string {
  const su = cuRow ? completingSu(id, product, cuRow.cu) : undefined;
  if (su) return state === 'unknown' ? `confirm that ${suText(su)} or a later update is installed (read ExSetup.exe's file version)` : `install ${suText(su)} or a later update for ${su.cu}`;
  return upgradeText(product);
}

function upgradeText(product: ProductId): string {
  if (product === 'E2010') return 'install Exchange 2010 SP3 Update Rollup 32 (KB5000978, 14.3.513.0) if it is missing, and migrate off Exchange 2010 (out of support since 2020-10-13)';
  const target = upgradeTarget(product);
  const latest = latestUpdate(product, target.cu, '9999-12-31');
  return `upgrade to ${PRODUCT_NAMES[product]} ${target.cu} (${target.kb ? `${target.kb}, ` : ''}${target.build}, released ${target.released})${latest ? ` and install ${suText(latest)}` : ''}`;
}

/** The CU to upgrade to: the product's CU that received the newest update (E2019: CU15, E2016: CU23). */
function upgradeTarget(product: ProductId): CuRow {
  const rows = SUS.filter((r) => r.product === product);
  const newest = rows.reduce<SuRow | null>((a, r) => (a === null || r.released > a.released || (r.released === a.released && cuIndex(product, r.cu) > cuIndex(product, a.cu)) ? r : a), null);
  return newest ? CUS[product].find((c) => c.cu === newest.cu)! : CUS[product].at(-1)!;
}

function latestUpdate(product: ProductId, cu: string, asOf: string): SuRow | null {
  const rows = SUS.filter((r) => r.product === product && r.cu === cu && r.released <= asOf);
  return rows.reduce<SuRow | null>((a, r) => (a === null || compareBuild(mustParse(r.build), mustParse(a.build)) > 0 ? r : a), null);
}

function esuText(r: SuRow): string {
  return ` — distributed only to Extended Security Update customers (period ${r.esu!.slice(1)}): enrol in the ESU, or move to Exchange SE`;
}

/** One update that closes every build-fixable open CVE: the newest update for the CU, else a CU upgrade. */
function installPick(product: ProductId, cuRow: CuRow | null, b: Build, cves: CveStatus[], asOf: string): { text: string | null; update: SuRow | null } {
  const open = cves.filter((c) => c.buildState === 'vulnerable' || c.buildState === 'unknown');
  if (open.length === 0) return { text: null, update: null };
  if (product === 'E2010') return { text: upgradeText(product).replace(/^./, (s) => s.toUpperCase()), update: null };
  const eol = SUPPORT_END[product] < asOf ? `; ${PRODUCT_NAMES[product]} is out of support: plan the move to Exchange SE` : '';
  const tail = (r: SuRow | null) => (r?.esu ? esuText(r) : eol);
  const onCu = cuRow ? latestUpdate(product, cuRow.cu, asOf) : null;
  const closes = (r: SuRow) => open.every((c) => c.fix !== null && c.fix.cu === r.cu && compareBuild(mustParse(r.build), mustParse(c.fix.build)) >= 0);
  if (onCu && closes(onCu)) {
    const verb = open.every((c) => c.buildState === 'unknown') ? 'Confirm (read ExSetup.exe\'s file version) or install' : 'Install';
    return { text: `${verb} ${suText(onCu)}${tail(onCu)}`, update: onCu };
  }
  const target = upgradeTarget(product);
  const latest = latestUpdate(product, target.cu, asOf);
  if (cuRow && target.cu === cuRow.cu) return { text: `No ${PRODUCT_NAMES[product]} update closes every open CVE: move to Exchange SE`, update: null };
  const cuPart = `Upgrade to ${PRODUCT_NAMES[product]} ${target.cu} (${target.kb ? `${target.kb}, ` : ''}${target.build}, released ${target.released})`;
  return { text: `${cuPart}${latest ? ` and install ${suText(latest)}` : ''}${tail(latest)}`, update: latest };
}

/** Support state worded for `asOf`: "ends" before the date, "ended" after it. */
export function supportState(product: ProductId, cuRow: CuRow | null, asOf: string): SupportState {
  const name = PRODUCT_NAMES[product];
  const end = SUPPORT_END[product];
  if (end > asOf) {
    const cuNote = product === 'E2019' && cuRow && cuIndex(product, cuRow.cu) < cuIndex(product, 'CU14') ? ` (${cuRow.cu} itself no longer receives updates: upgrade to CU14 or CU15)` : '';
    return { state: 'supported', text: `${name} is supported; extended support ends ${end}${cuNote}` };
  }
  const last = SUS.filter((r) => r.product === product && r.released <= asOf).reduce<SuRow | null>((a, r) => (a === null || r.released > a.released ? r : a), null);
  const lastText = last ? `; last update ${last.su} (${last.released})` : '';
  if (last?.esu && (product === 'E2016' || product === 'E2019')) {
    const more = SUS.some((r) => r.product === product && r.released > asOf);
    return {
      state: 'esu-only',
      text: `${name} extended support ended ${end}; security updates since then ship only to Extended Security Update customers (Exchange 2016 CU23, Exchange 2019 CU14/CU15)${lastText}${more ? '' : '; no later update is known: move to Exchange SE'}`,
    };
  }
  return { state: 'out-of-support', text: `${name} extended support ended ${end}${lastText}: move to Exchange SE` };
}

function unassessable(b: Build, product: string, asOf: string, notes: string[], install: string | null, productId: ProductId | null = null): Assessment {
  const families = {} as Record<FamilyId, FamilyAssessment>;
  for (const id of FAMILY_IDS) {
    families[id] = { state: 'unknown', cves: FAMILIES[id].cves.map((c) => ({ cve: c.cve, state: 'unknown' as const, why: 'CU not identified' })), remedy: install };
  }
  const cves = publicCves(asOf).map((c): CveStatus => ({
    cve: c.cve, state: 'unknown', why: 'CU not identified', impact: c.impact, kev: c.kevAdded, family: c.family, preAuth: c.preAuth, cvss: c.cvss, fix: null, requires: [], buildState: 'unknown', sources: c.sources,
  }));
  return { build: formatBuild(b), precision: b.precision, product, productId, cu: null, cuRow: null, su: null, families, cves: sortCves(cves), install, installUpdate: null, support: productId ? supportState(productId, null, asOf) : null, asOf, notes };
}
