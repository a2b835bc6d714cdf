// "Which build fixes family or CVE X for product P?" — answered by assessing each CU's own builds in order, so
// the answer always agrees with assessBuild (exposure windows in the verdict use it).
import { assessBuild, type FamilyState } from './assess.js';
import { mustParse, type Build } from './parse.js';
import { CUS, CVES, SUS, familyMeta, type ProductId } from './table.js';

export interface FixAnswer {
  /** The family id or CVE asked about, and the CVEs it covers. */
  key: string;
  cves: string[];
  product: ProductId;
  /** Per CU of the product, oldest first: the first build of that CU whose build alone closes every CVE of the key. */
  perCu: { cu: string; build: string | null; update: string | null; kb: string | null; released: string | null }[];
  /** No build closes it: configuration does (e.g. CVE-2024-21410 and Extended Protection). */
  configOnly: boolean;
}

function cvesOf(key: string): string[] {
  const fam = familyMeta(key);
  if (fam) return fam.cves.map((c) => c.cve);
  return CVES.some((c) => c.cve === key.toUpperCase()) ? [key.toUpperCase()] : [];
}

const RANK: Record<FamilyState, number> = { vulnerable: 3, unknown: 2, fixed: 1, 'not-affected': 0 };

/**
 * The build-level state of a family or CVE on a build (configuration not considered; `not-affected` when the
 * key does not apply to the product), or null for an unknown key.
 */
export function cveState(key: string, b: Build, asOf = '9999-12-31'): FamilyState | null {
  const ids = cvesOf(key);
  if (ids.length === 0) return null;
  const a = assessBuild(b, asOf);
  const states = a.cves.filter((c) => ids.includes(c.cve)).map((c) => c.buildState);
  return states.reduce<FamilyState>((w, s) => (RANK[s] > RANK[w] ? s : w), 'not-affected');
}

/** The fixing build per CU of `product` for a family id (`proxylogon`, `owa-xss-2026`, …) or a CVE id; null for an unknown key. */
export function fixFor(key: string, product: ProductId): FixAnswer | null {
  const ids = cvesOf(key);
  if (ids.length === 0) return null;
  const rows = CVES.filter((c) => ids.includes(c.cve));
  const configOnly = rows.every((c) => c.fixedBy === 'config');
  const perCu = CUS[product].map((cu) => {
    const builds = [{ build: cu.build, update: null as string | null, kb: cu.kb, released: cu.released }, ...SUS.filter((s) => s.product === product && s.cu === cu.cu).map((s) => ({ build: s.build, update: s.su, kb: s.kb, released: s.released }))];
    const hit = configOnly ? undefined : builds.find((x) => cveState(key, mustParse(x.build)) !== 'vulnerable' && cveState(key, mustParse(x.build)) !== 'unknown');
    return hit ? { cu: cu.cu, ...hit } : { cu: cu.cu, build: null, update: null, kb: null, released: null };
  });
  return { key, cves: ids, product, perCu, configOnly };
}
