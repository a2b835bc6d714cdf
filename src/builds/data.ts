// Loads the build and CVE data files (data/builds/*.csv) once and checks them; every row names its sources.
import { readFileSync } from 'node:fs';
import { packageText } from '../packaged.js';
import { splitCsvLine } from '../parsers/csv.js';

export type ProductId = 'E2010' | 'E2013' | 'E2016' | 'E2019' | 'ESE';

/** One CU (or Exchange 2010 rollup), SU or HU row of data/builds/updates.csv. */
export interface UpdateRow {
  product: ProductId;
  /** The CU the row belongs to (`CU23`, `RTM`, `SP1`, `SP3 RU32`). */
  cu: string;
  /** HealthChecker-style update key (`Mar21SU`, `Apr25HU`, `Sep26SUv2`); null for the CU row itself. */
  update: string | null;
  kind: 'CU' | 'RU' | 'SU' | 'HU';
  build: string;
  released: string;
  kb: string | null;
  /** Exchange 2016/2019 builds shipped only to Extended Security Update customers (period 1 or 2). */
  esu: 'P1' | 'P2' | null;
  sources: string[];
  /** The lower fixed build another source gives, when sources disagree (builds in between are unknown). */
  altBuild: string | null;
  note: string | null;
}

/** Configuration without which a fixed build still leaves the CVE open. */
export type Requirement =
  | { kind: 'extended-protection' | 'serialization-signing' | 'hybrid-app' | 'download-domains' | 'ad-schema' | 'ad-domain' }
  | { kind: 'override'; component: string; section: string; parameter: string };

export interface CveRow {
  cve: string;
  /** MSRC impact class (`RCE`, `EoP`, `Spoofing`, …); `n/s` when no source gave it. */
  impact: string;
  /** Update key that fixes it, or `config` when no build does (the fix is configuration only). */
  fixedBy: string;
  products: ProductId[];
  notOn: ProductId[];
  /** First CU per product that ships the fix when the product has no update row for it (Exchange 2010 RU32). */
  fixedInCu: Partial<Record<ProductId, string>>;
  needs: Requirement[];
  /** Date CISA added it to the Known Exploited Vulnerabilities catalog, or null. */
  kevAdded: string | null;
  family: string | null;
  preAuth: boolean;
  cvss: number | null;
  sources: string[];
  note: string | null;
}

export interface FamilyRow {
  id: string;
  name: string;
  sources: string[];
  note: string | null;
}

export interface BuildData {
  sources: Record<string, string>;
  updates: UpdateRow[];
  cves: CveRow[];
  families: FamilyRow[];
}

const PRODUCT_CODES: Record<string, ProductId> = { E10: 'E2010', E13: 'E2013', E16: 'E2016', E19: 'E2019', SE: 'ESE' };
const PRODUCTS = new Set<string>(Object.values(PRODUCT_CODES));
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const BUILD = /^\d{1,2}\.\d{1,2}\.\d{1,5}\.\d{1,5}$/;
const UPDATE_KEY = /^[A-Z][a-z]{2}\d{2}(?:SU|HU)(?:v\d)?$/;

let cached: BuildData | null = null;

/** The data files, parsed and checked on first use (they ship with the package; a bad row is a build error). */
export function buildData(): BuildData {
  return (cached ??= loadBuildData((file) => packageText(`data/builds/${file}`)));
}

/** Reads a data directory (or a reader of its files); throws naming the file and line of the first bad row. */
export function loadBuildData(dir: string | ((file: string) => string)): BuildData {
  const read = typeof dir === 'string' ? (file: string) => readFileSync(dir + file, 'utf8') : dir;
  const sources = Object.fromEntries(rows(read, 'sources.csv').map(({ r }) => [r.key, r.source]));
  const checkSources = (file: string, line: number, list: string[]) => {
    if (list.length === 0) fail(file, line, 'no source');
    for (const s of list) if (!(s in sources)) fail(file, line, `unknown source ${s}`);
  };
  const updates = rows(read, 'updates.csv').map(({ r, line }): UpdateRow => {
    const f = 'updates.csv';
    if (!PRODUCTS.has(r.product)) fail(f, line, `unknown product ${r.product}`);
    if (!BUILD.test(r.build)) fail(f, line, `bad build ${r.build}`);
    if (!DATE.test(r.released)) fail(f, line, `bad date ${r.released}`);
    if (r.update && !UPDATE_KEY.test(r.update)) fail(f, line, `bad update key ${r.update}`);
    if (!['CU', 'RU', 'SU', 'HU'].includes(r.kind)) fail(f, line, `bad kind ${r.kind}`);
    if (r.esu && r.esu !== 'P1' && r.esu !== 'P2') fail(f, line, `bad esu ${r.esu}`);
    const sourcesOf = words(r.sources);
    checkSources(f, line, sourcesOf);
    return {
      product: r.product as ProductId,
      cu: r.cu,
      update: r.update || null,
      kind: r.kind as UpdateRow['kind'],
      build: r.build,
      released: r.released,
      kb: r.kb || null,
      esu: (r.esu || null) as UpdateRow['esu'],
      sources: sourcesOf,
      altBuild: r.alt_build || null,
      note: r.note || null,
    };
  });
  const keys = new Set(updates.map((u) => u.update));
  const cves = rows(read, 'cves.csv').map(({ r, line }): CveRow => {
    const f = 'cves.csv';
    if (!/^CVE-\d{4}-\d{4,}$/.test(r.cve)) fail(f, line, `bad CVE id ${r.cve}`);
    if (r.fixed_by !== 'config' && !keys.has(r.fixed_by)) fail(f, line, `unknown update ${r.fixed_by}`);
    if (r.kev_added && !DATE.test(r.kev_added)) fail(f, line, `bad KEV date ${r.kev_added}`);
    const sourcesOf = words(r.sources);
    checkSources(f, line, sourcesOf);
    return {
      cve: r.cve,
      impact: r.impact,
      fixedBy: r.fixed_by,
      products: products(f, line, r.products),
      notOn: products(f, line, r.not_on),
      fixedInCu: Object.fromEntries(
        (r.fixed_in_cu ? [r.fixed_in_cu] : []).map((s) => {
          const [code, cu] = s.split('=');
          return [products(f, line, code)[0], cu];
        }),
      ),
      needs: words(r.needs).map((n) => requirement(f, line, n)),
      kevAdded: r.kev_added || null,
      family: r.family || null,
      preAuth: r.pre_auth === 'yes',
      cvss: r.cvss ? Number(r.cvss) : null,
      sources: sourcesOf,
      note: r.note || null,
    };
  });
  const families = rows(read, 'families.csv').map(({ r, line }): FamilyRow => {
    const sourcesOf = words(r.sources);
    checkSources('families.csv', line, sourcesOf);
    if (!cves.some((c) => c.family === r.id)) fail('families.csv', line, `family ${r.id} has no CVE`);
    return { id: r.id, name: r.name, sources: sourcesOf, note: r.note || null };
  });
  for (const c of cves) if (c.family && !families.some((f) => f.id === c.family)) throw new Error(`data/builds/cves.csv: ${c.cve}: unknown family ${c.family}`);
  return { sources, updates, cves, families };
}

function rows(read: (file: string) => string, file: string): { r: Record<string, string>; line: number }[] {
  const lines = read(file).split(/\r?\n/);
  const header = splitCsvLine(lines[0]);
  const out: { r: Record<string, string>; line: number }[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === '') continue;
    const values = splitCsvLine(lines[i]);
    if (values.length !== header.length) fail(file, i + 1, `${values.length} fields, header has ${header.length}`);
    out.push({ r: Object.fromEntries(header.map((h, j) => [h, values[j]])), line: i + 1 });
  }
  return out;
}

function words(s: string): string[] {
  return s.split(' ').filter((w) => w !== '');
}

function products(file: string, line: number, s: string): ProductId[] {
  return words(s).map((code) => PRODUCT_CODES[code] ?? fail(file, line, `unknown product code ${code}`));
}

const SIMPLE_NEEDS = new Set(['extended-protection', 'serialization-signing', 'hybrid-app', 'download-domains', 'ad-schema', 'ad-domain']);

function requirement(file: string, line: number, s: string): Requirement {
  if (SIMPLE_NEEDS.has(s)) return { kind: s as 'extended-protection' };
  const m = /^override:([A-Za-z]+)\\([A-Za-z0-9]+)\\([A-Za-z0-9]+)$/.exec(s);
  if (!m) return fail(file, line, `unknown requirement ${s}`);
  return { kind: 'override', component: m[1], section: m[2], parameter: m[3] };
}

function fail(file: string, line: number, msg: string): never {
  throw new Error(`data/builds/${file} line ${line}: ${msg}`);
}
