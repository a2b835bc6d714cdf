// The build table as typed views over data/builds/*.csv (see data.ts and docs/builds.md): CUs per product, update
// rows, CVEs, and the vulnerability families other modules reason about.
import { buildData, type CveRow, type ProductId, type UpdateRow } from './data.js';

export type { CveRow, ProductId, Requirement, UpdateRow } from './data.js';

const DATA = buildData();

/** Source key → citation, from data/builds/sources.csv. */
export const SOURCES: Readonly<Record<string, string>> = DATA.sources;
export type SourceId = string;

export const PRODUCT_NAMES: Record<ProductId, string> = {
  E2010: 'Exchange 2010 SP3',
  E2013: 'Exchange 2013',
  E2016: 'Exchange 2016',
  E2019: 'Exchange 2019',
  ESE: 'Exchange SE',
};

/** End of extended support, from CSS-Exchange (HC); Exchange 2010 ended 2020-10-13. */
export const SUPPORT_END: Record<ProductId, string> = {
  E2010: '2020-10-13',
  E2013: '2023-04-11',
  E2016: '2025-10-14',
  E2019: '2025-10-14',
  ESE: '2035-12-31',
};

/** A cumulative update (for Exchange 2010 SP3: an update rollup, which is cumulative in the same way). */
export interface CuRow {
  product: ProductId;
  cu: string;
  build: string;
  released: string;
  kb: string | null;
  sources: SourceId[];
  note?: string;
}

export type SuName = string;

export interface SuRow {
  product: ProductId;
  cu: string;
  su: SuName;
  build: string;
  released: string;
  kb: string | null;
  kind: 'SU' | 'HU';
  esu: 'P1' | 'P2' | null;
  sources: SourceId[];
  /** `provisional` when the sources disagree; `altBuild` is then the lower value another source gives. */
  confidence: 'confirmed' | 'provisional';
  altBuild?: string;
  note?: string;
}

function cuRow(u: UpdateRow): CuRow {
  return { product: u.product, cu: u.cu, build: u.build, released: u.released, kb: u.kb, sources: u.sources, ...(u.note ? { note: u.note } : {}) };
}

function suRow(u: UpdateRow): SuRow {
  return {
    product: u.product,
    cu: u.cu,
    su: u.update!,
    build: u.build,
    released: u.released,
    kb: u.kb,
    kind: u.kind === 'HU' ? 'HU' : 'SU',
    esu: u.esu,
    sources: u.sources,
    confidence: u.altBuild ? 'provisional' : 'confirmed',
    ...(u.altBuild ? { altBuild: u.altBuild } : {}),
    ...(u.note ? { note: u.note } : {}),
  };
}

const byProduct = (p: ProductId) => DATA.updates.filter((u) => u.product === p && u.update === null).map(cuRow);

/** Every CU per product, oldest first. */
export const CUS: Record<ProductId, CuRow[]> = { E2010: byProduct('E2010'), E2013: byProduct('E2013'), E2016: byProduct('E2016'), E2019: byProduct('E2019'), ESE: byProduct('ESE') };

/** Every SU and HU row, per CU, oldest build first. */
export const SUS: SuRow[] = DATA.updates.filter((u) => u.update !== null).map(suRow);

/** Every CVE the data knows, in file order (by fixing update). */
export const CVES: readonly CveRow[] = DATA.cves;

/**
 * The rows of each product and update key, and each key's release date (its earliest row), built once: every
 * assessment asks them for each of ~120 CVEs (a scan assesses every build its logs name, per host).
 */
const [SUS_BY_UPDATE, RELEASED] = ((): [ReadonlyMap<string, readonly SuRow[]>, ReadonlyMap<string, string>] => {
  const rows = new Map<string, SuRow[]>();
  const released = new Map<string, string>();
  for (const r of SUS) {
    const key = `${r.product}\u0000${r.su}`;
    rows.set(key, [...(rows.get(key) ?? []), r]);
    const d = released.get(r.su);
    if (d === undefined || r.released < d) released.set(r.su, r.released);
  }
  return [rows, released];
})();

/** Release date of an update key (the earliest row carrying it). */
export function updateReleased(key: string): string | null {
  return RELEASED.get(key) ?? null;
}

/** The SU/HU rows of one product that carry an update key, in SUS order. */
export function updateRows(product: ProductId, key: string): readonly SuRow[] {
  return SUS_BY_UPDATE.get(`${product}\u0000${key}`) ?? [];
}

/** The three families the scan's EXP-01 finding and `exhunt check` have always reported (kept for the API). */
export const FAMILY_IDS = ['proxylogon', 'proxyshell', 'proxynotshell'] as const;
export type FamilyId = (typeof FAMILY_IDS)[number];

export interface CveDef {
  cve: string;
  /** The update that fixes it on each CU that received one. */
  su: SuName;
  /** Pre-authentication entry point of the chain: decides the severity of an exposure finding. */
  preAuth: boolean;
  notOn?: ProductId[];
}

/** A family of CVEs exploited together (every family has at least one CVE in CISA's KEV catalog). */
export interface FamilyMeta {
  id: string;
  name: string;
  cves: CveRow[];
  /** Earliest KEV date of its CVEs. */
  kevAdded: string | null;
  /** Update keys that fix its CVEs (`config` when only configuration does). */
  fixedBy: string[];
  sources: SourceId[];
  note: string | null;
}

export interface FamilyDef {
  id: FamilyId;
  name: string;
  cves: CveDef[];
  sources: SourceId[];
}

/** Every family in data/builds/families.csv, with its CVEs. */
export const ALL_FAMILIES: readonly FamilyMeta[] = DATA.families.map((f) => {
  const cves = DATA.cves.filter((c) => c.family === f.id);
  const kev = cves.map((c) => c.kevAdded).filter((d): d is string => d !== null).sort();
  return { id: f.id, name: f.name, cves, kevAdded: kev[0] ?? null, fixedBy: [...new Set(cves.map((c) => c.fixedBy))], sources: f.sources, note: f.note };
});

/** Family metadata by id, or undefined. */
export function familyMeta(id: string): FamilyMeta | undefined {
  return ALL_FAMILIES.find((f) => f.id === id);
}

export const FAMILIES: Record<FamilyId, FamilyDef> = Object.fromEntries(
  FAMILY_IDS.map((id) => {
    const m = familyMeta(id)!;
    return [id, { id, name: m.name, sources: m.sources, cves: m.cves.map((c) => ({ cve: c.cve, su: c.fixedBy, preAuth: c.preAuth, ...(c.notOn.length ? { notOn: c.notOn } : {}) })) }];
  }),
) as Record<FamilyId, FamilyDef>;
