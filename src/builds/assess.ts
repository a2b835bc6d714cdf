// Maps one parsed build to product, CU, per-family exposure and the update to install.
import { compareBuild, formatBuild, mustParse, parseBuild, type Build, type Precision } from './parse.js';
import {
  CUS, FAMILIES, FAMILY_IDS, PRODUCT_NAMES, SUPPORT_END, SUS, SU_ORDER,
  type CuRow, type FamilyDef, type FamilyId, type ProductId, type SuRow,
} from './table.js';

export type FamilyState = 'vulnerable' | 'fixed' | 'not-affected' | 'unknown';

export interface CveAssessment {
  cve: string;
  state: FamilyState;
  why: string;
}

export interface FamilyAssessment {
  state: FamilyState;
  cves: CveAssessment[];
  /** What closes this family from the assessed build, or null when nothing is needed. */
  remedy: string | null;
}

export interface Assessment {
  build: string;
  precision: Precision;
  product: string | null;
  productId: ProductId | null;
  cu: string | null;
  cuRow: CuRow | null;
  /** SU name when the build is exactly one of the table's SU builds. */
  su: string | null;
  families: Record<FamilyId, FamilyAssessment>;
  install: string | null;
  notes: string[];
}

/** Parses and assesses; null when the text is not an Exchange build. */
export function assessBuildString(text: string, opts: { cuOnly?: boolean } = {}): Assessment | null {
  const b = parseBuild(text, opts);
  return b ? assessBuild(b) : null;
}

export function assessBuild(b: Build): Assessment {
  const productId = productOf(b);
  const notes: string[] = [];
  if (!productId) return unassessable(b, 'Exchange 2010 before SP3', ['Exchange 2010 before SP3 is not in the table; only SP3 RU32 (14.3.513.0, KB5000978) received the March 2021 fix.'], 'Upgrade to Exchange 2010 SP3 and install Update Rollup 32 (KB5000978, 14.3.513.0); migrate off Exchange 2010 (out of support since 2020-10-13).');
  const loc = locateCu(productId, b);
  if (loc.kind === 'between') {
    return unassessable(b, PRODUCT_NAMES[productId], [`Build ${formatBuild(b)} matches no known CU of ${PRODUCT_NAMES[productId]} (between ${loc.after} and ${loc.before}); interim or private build.`], null, productId);
  }
  const cuRow = loc.kind === 'cu' ? loc.row : null;
  const cuName = cuRow ? cuRow.cu : `newer than ${CUS[productId].at(-1)!.cu}`;
  if (loc.kind === 'newer') notes.push(`Build is newer than the last ${PRODUCT_NAMES[productId]} CU in the table; CUs are cumulative, so it is assumed to include every earlier fix.`);
  if (b.precision === 'cu') notes.push(`Build source shows the CU only: ${cuName}; SU level unknown.`);
  const suRow = cuRow ? SUS.find((r) => r.product === productId && r.cu === cuRow.cu && compareBuild(mustParse(r.build), b) === 0) : undefined;
  const families = {} as Record<FamilyId, FamilyAssessment>;
  for (const id of FAMILY_IDS) families[id] = assessFamily(FAMILIES[id], productId, loc.kind === 'newer' ? null : cuRow, b);
  for (const row of SUS) {
    if (row.product === productId && cuRow && row.cu === cuRow.cu && row.confidence === 'provisional' && row.note) notes.push(`${row.su} for ${cuRow.cu}: ${row.note} (${row.altBuild} vs ${row.build}).`);
  }
  notes.push(`${PRODUCT_NAMES[productId]} extended support ends ${SUPPORT_END[productId]}.`);
  return {
    build: formatBuild(b),
    precision: b.precision,
    product: PRODUCT_NAMES[productId],
    productId,
    cu: cuRow ? cuRow.cu : null,
    cuRow,
    su: suRow && b.precision === 'full' ? suRow.su : null,
    families,
    install: installAdvice(productId, cuRow, families),
    notes,
  };
}

function productOf(b: Build): ProductId | null {
  if (b.major === 14) return b.minor === 3 ? 'E2010' : null;
  if (b.minor === 0) return 'E2013';
  if (b.minor === 1) return 'E2016';
  // Exchange SE continues the 15.2 line from build 2562 (CSS-Exchange).
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

/** A null cuRow means "newer than every CU in the table". */
function assessFamily(f: FamilyDef, product: ProductId, cuRow: CuRow | null, b: Build): FamilyAssessment {
  const cves = f.cves.map((c): CveAssessment => {
    if (c.notOn?.includes(product)) return { cve: c.cve, state: 'not-affected', why: `does not apply to ${PRODUCT_NAMES[product]}` };
    if (f.unassessed.includes(product)) return { cve: c.cve, state: 'unknown', why: `no source assesses ${PRODUCT_NAMES[product]} (out of support when it was published)` };
    const firstFixed = f.fixedInCu[product];
    if (!cuRow) return firstFixed ? { cve: c.cve, state: 'fixed', why: 'CU newer than the table includes the fix' } : { cve: c.cve, state: 'unknown', why: 'build newer than the table' };
    if (firstFixed !== undefined && cuIndex(product, cuRow.cu) >= cuIndex(product, firstFixed)) {
      return { cve: c.cve, state: 'fixed', why: `${cuRow.cu} includes the fix (fixed from ${firstFixed})` };
    }
    const su = suFor(product, cuRow.cu, c.su);
    if (!su) return { cve: c.cve, state: 'vulnerable', why: `no ${c.su} was released for ${cuRow.cu}` };
    return compareToSu(c.cve, su, b);
  });
  const state = worst(cves.map((c) => c.state));
  return { state, cves, remedy: state === 'vulnerable' || state === 'unknown' ? familyRemedy(f, product, cuRow, state) : null };
}

function compareToSu(cve: string, su: SuRow, b: Build): CveAssessment {
  const label = `${su.su} ${su.build} (${su.kb})`;
  if (b.precision === 'cu') return { cve, state: 'unknown', why: `SU level unknown; fixed by ${label}` };
  if (compareBuild(b, mustParse(su.build)) >= 0) return { cve, state: 'fixed', why: `at or above ${label}` };
  if (su.altBuild && compareBuild(b, mustParse(su.altBuild)) >= 0) {
    return { cve, state: 'unknown', why: `fixed per CSS-Exchange (${su.altBuild}) but Microsoft's build list names ${su.build}` };
  }
  return { cve, state: 'vulnerable', why: `below ${label}` };
}

function suFor(product: ProductId, cu: string, su: string): SuRow | undefined {
  return SUS.find((r) => r.product === product && r.cu === cu && r.su === su);
}

const STATE_RANK: Record<FamilyState, number> = { vulnerable: 3, unknown: 2, fixed: 1, 'not-affected': 0 };

function worst(states: FamilyState[]): FamilyState {
  return states.reduce<FamilyState>((a, s) => (STATE_RANK[s] > STATE_RANK[a] ? s : a), 'not-affected');
}

/** The SU that completes the family's fix (the latest of its CVEs' SUs). */
function completingSu(f: FamilyDef): string {
  return f.cves.map((c) => c.su).sort((a, b) => SU_ORDER.indexOf(a) - SU_ORDER.indexOf(b)).at(-1)!;
}

function suText(r: SuRow, product: ProductId): string {
  return `${r.su} for ${PRODUCT_NAMES[product]} ${r.cu} (${r.kb}, ${r.build}, released ${r.released})`;
}

function familyRemedy(f: FamilyDef, product: ProductId, cuRow: CuRow | null, state: FamilyState): string {
  if (f.unassessed.includes(product)) return upgradeText(product);
  const su = cuRow ? suFor(product, cuRow.cu, completingSu(f)) : undefined;
  if (su) return state === 'unknown' ? `confirm that ${suText(su, product)} or a later SU is installed (read ExSetup.exe's file version)` : `install ${suText(su, product)} or a later SU for ${su.cu}`;
  return upgradeText(product);
}

/** Upgrade path: the product's last CU plus whatever SU that CU still needs for all three families. */
function upgradeText(product: ProductId): string {
  if (product === 'E2010') return 'install Exchange 2010 SP3 Update Rollup 32 (KB5000978, 14.3.513.0) if it is missing, and migrate off Exchange 2010 (out of support since 2020-10-13)';
  const last = CUS[product].at(-1)!;
  const needed = FAMILY_IDS.map((id) => FAMILIES[id])
    .filter((f) => f.fixedInCu[product] === undefined)
    .map((f) => suFor(product, last.cu, completingSu(f)))
    .filter((r): r is SuRow => r !== undefined)
    .sort((a, b) => compareBuild(mustParse(a.build), mustParse(b.build)));
  const cuPart = `upgrade to ${PRODUCT_NAMES[product]} ${last.cu} (${last.kb}, ${last.build}, released ${last.released})`;
  const top = needed.at(-1);
  return top ? `${cuPart} and install at least ${top.su} (${top.kb}, ${top.build}) — preferably the latest SU` : `${cuPart} and its latest SU`;
}

function installAdvice(product: ProductId, cuRow: CuRow | null, families: Record<FamilyId, FamilyAssessment>): string | null {
  const open = FAMILY_IDS.filter((id) => families[id].state === 'vulnerable' || families[id].state === 'unknown');
  if (open.length === 0) return null;
  const onCu = open.map((id) => (cuRow && !FAMILIES[id].unassessed.includes(product) ? suFor(product, cuRow.cu, completingSu(FAMILIES[id])) : undefined));
  const rows = onCu.filter((r): r is SuRow => r !== undefined).sort((a, b) => compareBuild(mustParse(a.build), mustParse(b.build)));
  const verifyOnly = open.every((id) => families[id].state === 'unknown');
  if (rows.length === open.length) {
    const top = rows.at(-1)!;
    return verifyOnly ? `Confirm the SU level: ${suText(top, product)} or later is needed` : `Install ${suText(top, product)} or a later SU for ${top.cu}`;
  }
  const upgrade = upgradeText(product);
  const first = upgrade.charAt(0).toUpperCase() + upgrade.slice(1);
  const stopGap = rows.at(-1);
  if (!stopGap) return first;
  const closes = open.filter((_, i) => onCu[i] !== undefined).map((id) => FAMILIES[id].name).join(', ');
  return `${first}. Stop-gap on ${stopGap.cu}: ${suText(stopGap, product)} closes ${closes}`;
}

function unassessable(b: Build, product: string, notes: string[], install: string | null, productId: ProductId | null = null): Assessment {
  const families = {} as Record<FamilyId, FamilyAssessment>;
  for (const id of FAMILY_IDS) {
    families[id] = { state: 'unknown', cves: FAMILIES[id].cves.map((c) => ({ cve: c.cve, state: 'unknown' as const, why: 'CU not identified' })), remedy: install };
  }
  return { build: formatBuild(b), precision: b.precision, product, productId, cu: null, cuRow: null, su: null, families, install, notes };
}
