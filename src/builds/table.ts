// Exchange CU / SU builds relevant to ProxyLogon, ProxyShell and ProxyNotShell/OWASSRF, with their sources.
// Every row names where it was transcribed from (see SOURCES and docs/builds.md). Dates are release dates (UTC day).

export const SOURCES = {
  /** Microsoft's machine-readable copy of learn.microsoft.com "Exchange Server build numbers and release dates". */
  MS: 'microsoft/Get-ExchangeBuildNumber ExchangeBuildNumbers.csv (commit 110255280e9134c517a56bda6ad9570f883cab11)',
  /** CSS-Exchange build dictionary used by HealthChecker. */
  HC: 'microsoft/CSS-Exchange Shared/Get-ExchangeBuildVersionInformation.ps1 (commit 01bad118924cbe49c50f6a5233bb04fc6010ddd2)',
  /** HealthChecker SU-name to CVE map. */
  HCCVE: 'microsoft/CSS-Exchange Diagnostics/HealthChecker/Analyzer/Security/Invoke-AnalyzerSecurityCveCheck.ps1',
  /** Microsoft CNA "affected ... lessThan" ranges in the CVE records (CVEProject/cvelistV5). */
  CVE_PS: 'CVEProject/cvelistV5 CVE-2021-34473, CVE-2021-34523, CVE-2021-31207 (Microsoft CNA affected ranges)',
  CVE_PNS: 'CVEProject/cvelistV5 CVE-2022-41040, CVE-2022-41082, CVE-2022-41080 (Microsoft CNA affected ranges)',
  /** Team reference: ../shared/reference/builds.md §2 (HC April-2021 lists, NSE/MSF thresholds). */
  REF: 'exhunt shared reference builds.md §2-§4',
} as const;
export type SourceId = keyof typeof SOURCES;

export type ProductId = 'E2010' | 'E2013' | 'E2016' | 'E2019' | 'ESE';

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

export type SuName = 'Mar21SU' | 'Apr21SU' | 'May21SU' | 'Jul21SU' | 'Nov22SU';

export interface SuRow {
  product: ProductId;
  cu: string;
  su: SuName;
  build: string;
  released: string;
  kb: string;
  sources: SourceId[];
  /** `provisional` when the sources disagree; `altBuild` is then the lower value another source gives. */
  confidence: 'confirmed' | 'provisional';
  altBuild?: string;
  note?: string;
}

function cus(product: ProductId, released: string[], rows: Array<[string, string, string | null]>): CuRow[] {
  return rows.map(([cu, build, kb], i) => ({ product, cu, build, released: released[i], kb, sources: ['MS', 'HC'] }));
}

// [CU, build, KB] and the matching release dates, both transcribed from MS; builds cross-checked against HC.
const E2013_CU = cus(
  'E2013',
  ['2012-12-03', '2013-04-02', '2013-07-09', '2013-11-25', '2014-02-25', '2014-05-27', '2014-08-26', '2014-12-09',
    '2015-03-17', '2015-06-17', '2015-09-15', '2015-12-15', '2016-03-15', '2016-06-21', '2016-09-20', '2016-12-13',
    '2017-03-21', '2017-06-27', '2017-09-19', '2017-12-19', '2018-03-20', '2018-06-19', '2019-02-12', '2019-06-18'],
  [['RTM', '15.0.516.32', null], ['CU1', '15.0.620.29', 'KB2816900'], ['CU2', '15.0.712.24', 'KB2859928'],
    ['CU3', '15.0.775.38', 'KB2892464'], ['SP1', '15.0.847.32', 'KB2926248'], ['CU5', '15.0.913.22', 'KB2936880'],
    ['CU6', '15.0.995.29', 'KB2961810'], ['CU7', '15.0.1044.25', 'KB2986485'], ['CU8', '15.0.1076.9', 'KB3030080'],
    ['CU9', '15.0.1104.5', 'KB3049849'], ['CU10', '15.0.1130.7', 'KB3078678'], ['CU11', '15.0.1156.6', 'KB3099522'],
    ['CU12', '15.0.1178.4', 'KB3108023'], ['CU13', '15.0.1210.3', 'KB3135743'], ['CU14', '15.0.1236.3', 'KB3152589'],
    ['CU15', '15.0.1263.5', 'KB3197044'], ['CU16', '15.0.1293.2', 'KB4012112'], ['CU17', '15.0.1320.4', 'KB4012114'],
    ['CU18', '15.0.1347.2', 'KB4022631'], ['CU19', '15.0.1365.1', 'KB4037224'], ['CU20', '15.0.1367.3', 'KB4055221'],
    ['CU21', '15.0.1395.4', 'KB4099855'], ['CU22', '15.0.1473.3', 'KB4345836'], ['CU23', '15.0.1497.2', 'KB4489622']],
);

const E2016_CU = cus(
  'E2016',
  ['2015-10-01', '2016-03-15', '2016-06-21', '2016-09-20', '2016-12-13', '2017-03-21', '2017-06-27', '2017-09-19',
    '2017-12-19', '2018-03-20', '2018-06-19', '2018-10-16', '2019-02-12', '2019-06-18', '2019-09-17', '2019-12-17',
    '2020-03-17', '2020-06-16', '2020-09-15', '2020-12-15', '2021-03-16', '2021-06-29', '2021-09-28', '2022-04-20'],
  [['RTM', '15.1.225.42', null], ['CU1', '15.1.396.30', 'KB3134844'], ['CU2', '15.1.466.34', 'KB3135742'],
    ['CU3', '15.1.544.27', 'KB3152589'], ['CU4', '15.1.669.32', 'KB3177106'], ['CU5', '15.1.845.34', 'KB4012106'],
    ['CU6', '15.1.1034.26', 'KB4012108'], ['CU7', '15.1.1261.35', 'KB4018115'], ['CU8', '15.1.1415.2', 'KB4035145'],
    ['CU9', '15.1.1466.3', 'KB4055222'], ['CU10', '15.1.1531.3', 'KB4099852'], ['CU11', '15.1.1591.10', 'KB4134118'],
    ['CU12', '15.1.1713.5', 'KB4471392'], ['CU13', '15.1.1779.2', 'KB4488406'], ['CU14', '15.1.1847.3', 'KB4514140'],
    ['CU15', '15.1.1913.5', 'KB4522150'], ['CU16', '15.1.1979.3', 'KB4537678'], ['CU17', '15.1.2044.4', 'KB4556414'],
    ['CU18', '15.1.2106.2', 'KB4571788'], ['CU19', '15.1.2176.2', 'KB4588884'], ['CU20', '15.1.2242.4', 'KB4602569'],
    ['CU21', '15.1.2308.8', 'KB5003611'], ['CU22', '15.1.2375.7', 'KB5005333'], ['CU23', '15.1.2507.6', 'KB5011155']],
);

const E2019_CU = cus(
  'E2019',
  ['2018-10-22', '2019-02-12', '2019-06-18', '2019-09-17', '2019-12-17', '2020-03-17', '2020-06-16', '2020-09-15',
    '2020-12-15', '2021-03-16', '2021-06-29', '2021-09-28', '2022-04-20', '2023-05-03', '2024-02-13', '2025-02-10'],
  [['RTM', '15.2.221.12', null], ['CU1', '15.2.330.5', 'KB4471391'], ['CU2', '15.2.397.3', 'KB4488401'],
    ['CU3', '15.2.464.5', 'KB4514141'], ['CU4', '15.2.529.5', 'KB4522149'], ['CU5', '15.2.595.3', 'KB4537677'],
    ['CU6', '15.2.659.4', 'KB4556415'], ['CU7', '15.2.721.2', 'KB4571787'], ['CU8', '15.2.792.3', 'KB4588885'],
    ['CU9', '15.2.858.5', 'KB4602570'], ['CU10', '15.2.922.7', 'KB5003612'], ['CU11', '15.2.986.5', 'KB5005334'],
    ['CU12', '15.2.1118.7', 'KB5011156'], ['CU13', '15.2.1258.12', 'KB5020999'], ['CU14', '15.2.1544.4', 'KB5035606'],
    ['CU15', '15.2.1748.10', 'KB5042461']],
);

const ESE_CU = cus('ESE', ['2025-07-01'], [['RTM', '15.2.2562.17', 'KB5047155']]);

// Exchange 2010 SP3 update rollups (MS only; CSS-Exchange does not cover 2010).
const E2010_RU: CuRow[] = cus(
  'E2010',
  ['2013-02-12', '2013-05-29', '2013-08-08', '2013-11-25', '2013-12-09', '2014-02-24', '2014-05-27', '2014-08-26',
    '2014-12-12', '2015-03-17', '2015-06-17', '2015-09-15', '2015-12-15', '2016-03-15', '2016-06-21', '2016-09-20',
    '2016-12-13', '2017-03-21', '2017-07-11', '2017-12-19', '2018-03-05', '2018-05-07', '2018-06-19', '2018-08-13',
    '2018-09-05', '2019-01-08', '2019-02-12', '2019-04-09', '2019-06-07', '2019-07-09', '2020-02-11', '2020-12-01',
    '2021-03-02'],
  [['SP3', '14.3.123.4', 'KB2808208'], ['SP3 RU1', '14.3.146.0', 'KB2803727'], ['SP3 RU2', '14.3.158.1', 'KB2866475'],
    ['SP3 RU3', '14.3.169.1', 'KB2891587'], ['SP3 RU4', '14.3.174.1', 'KB2905616'], ['SP3 RU5', '14.3.181.6', 'KB2917508'],
    ['SP3 RU6', '14.3.195.1', 'KB2936871'], ['SP3 RU7', '14.3.210.2', 'KB2961522'], ['SP3 RU8v2', '14.3.224.2', 'KB2986475'],
    ['SP3 RU9', '14.3.235.1', 'KB3030085'], ['SP3 RU10', '14.3.248.2', 'KB3049853'], ['SP3 RU11', '14.3.266.1', 'KB3078674'],
    ['SP3 RU12', '14.3.279.2', 'KB3096066'], ['SP3 RU13', '14.3.294.0', 'KB3141339'], ['SP3 RU14', '14.3.301.0', 'KB3151097'],
    ['SP3 RU15', '14.3.319.2', 'KB3184728'], ['SP3 RU16', '14.3.339.0', 'KB3184730'], ['SP3 RU17', '14.3.352.0', 'KB4011326'],
    ['SP3 RU18', '14.3.361.1', 'KB4018588'], ['SP3 RU19', '14.3.382.0', 'KB4035162'], ['SP3 RU20', '14.3.389.1', 'KB4073537'],
    ['SP3 RU21', '14.3.399.2', 'KB4091243'], ['SP3 RU22', '14.3.411.0', 'KB4295699'], ['SP3 RU23', '14.3.417.1', 'KB4340733'],
    ['SP3 RU24', '14.3.419.0', 'KB4458321'], ['SP3 RU25', '14.3.435.0', 'KB4468742'], ['SP3 RU26', '14.3.442.0', 'KB4487052'],
    ['SP3 RU27', '14.3.452.0', 'KB4491413'], ['SP3 RU28', '14.3.461.1', 'KB4503028'], ['SP3 RU29', '14.3.468.0', 'KB4509410'],
    ['SP3 RU30', '14.3.496.0', 'KB4536989'], ['SP3 RU31', '14.3.509.0', 'KB4593467'], ['SP3 RU32', '14.3.513.0', 'KB5000978']],
).map((r) => ({ ...r, sources: ['MS'] as SourceId[] }));

/** Every CU per product, oldest first. */
export const CUS: Record<ProductId, CuRow[]> = { E2010: E2010_RU, E2013: E2013_CU, E2016: E2016_CU, E2019: E2019_CU, ESE: ESE_CU };

const SU_META: Record<SuName, { released: string; kb: string; sources: SourceId[] }> = {
  Mar21SU: { released: '2021-03-02', kb: 'KB5000871', sources: ['MS', 'HC', 'REF'] },
  Apr21SU: { released: '2021-04-13', kb: 'KB5001779', sources: ['MS', 'HC', 'CVE_PS'] },
  May21SU: { released: '2021-05-11', kb: 'KB5003435', sources: ['MS', 'HC', 'CVE_PS'] },
  Jul21SU: { released: '2021-07-13', kb: 'KB5004778', sources: ['MS', 'HC'] },
  Nov22SU: { released: '2022-11-08', kb: 'KB5019758', sources: ['MS', 'HC', 'CVE_PNS'] },
};

function sus(su: SuName, rows: Array<[ProductId, string, string]>): SuRow[] {
  const m = SU_META[su];
  return rows.map(([product, cu, build]) => ({ product, cu, su, build, ...m, confidence: 'confirmed' as const }));
}

export const SUS: SuRow[] = [
  ...sus('Mar21SU', [
    ['E2013', 'CU21', '15.0.1395.12'], ['E2013', 'CU22', '15.0.1473.6'], ['E2013', 'CU23', '15.0.1497.12'],
    ['E2016', 'CU10', '15.1.1531.12'], ['E2016', 'CU11', '15.1.1591.18'], ['E2016', 'CU12', '15.1.1713.10'],
    ['E2016', 'CU13', '15.1.1779.8'], ['E2016', 'CU14', '15.1.1847.12'], ['E2016', 'CU15', '15.1.1913.12'],
    ['E2016', 'CU16', '15.1.1979.8'], ['E2016', 'CU17', '15.1.2044.13'], ['E2016', 'CU18', '15.1.2106.13'],
    ['E2016', 'CU19', '15.1.2176.9'],
    ['E2019', 'CU1', '15.2.330.11'], ['E2019', 'CU2', '15.2.397.11'], ['E2019', 'CU3', '15.2.464.15'],
    ['E2019', 'CU4', '15.2.529.13'], ['E2019', 'CU5', '15.2.595.8'], ['E2019', 'CU6', '15.2.659.12'],
    ['E2019', 'CU7', '15.2.721.13'], ['E2019', 'CU8', '15.2.792.10'],
  ]),
  // In MS (and HC's April-2021 analyzer lists, per REF) but missing from HC's current dictionary.
  ...sus('Mar21SU', [['E2013', 'SP1', '15.0.847.64'], ['E2019', 'RTM', '15.2.221.18']]).map((r) => ({
    ...r,
    sources: ['MS', 'REF'] as SourceId[],
  })),
  // MS and HC disagree: MS lists 1415.10 / 1466.16, HC lists 1415.8 / 1466.13 (likely a re-release; unproven).
  ...sus('Mar21SU', [['E2016', 'CU8', '15.1.1415.10'], ['E2016', 'CU9', '15.1.1466.16']]).map((r) => ({
    ...r,
    confidence: 'provisional' as const,
    altBuild: r.cu === 'CU8' ? '15.1.1415.8' : '15.1.1466.13',
    note: 'Microsoft build list and CSS-Exchange disagree on the fixed revision; builds between the two are reported unknown',
  })),
  ...sus('Apr21SU', [
    ['E2013', 'CU23', '15.0.1497.15'], ['E2016', 'CU19', '15.1.2176.12'], ['E2016', 'CU20', '15.1.2242.8'],
    ['E2019', 'CU8', '15.2.792.13'], ['E2019', 'CU9', '15.2.858.10'],
  ]),
  ...sus('May21SU', [
    ['E2013', 'CU23', '15.0.1497.18'], ['E2016', 'CU19', '15.1.2176.14'], ['E2016', 'CU20', '15.1.2242.10'],
    ['E2019', 'CU8', '15.2.792.15'], ['E2019', 'CU9', '15.2.858.12'],
  ]),
  ...sus('Jul21SU', [
    ['E2013', 'CU23', '15.0.1497.23'], ['E2016', 'CU20', '15.1.2242.12'], ['E2016', 'CU21', '15.1.2308.14'],
    ['E2019', 'CU9', '15.2.858.15'], ['E2019', 'CU10', '15.2.922.13'],
  ]),
  ...sus('Nov22SU', [
    ['E2013', 'CU23', '15.0.1497.44'], ['E2016', 'CU22', '15.1.2375.37'], ['E2016', 'CU23', '15.1.2507.16'],
    ['E2019', 'CU11', '15.2.986.36'], ['E2019', 'CU12', '15.2.1118.20'],
  ]),
];

export const FAMILY_IDS = ['proxylogon', 'proxyshell', 'proxynotshell'] as const;
export type FamilyId = (typeof FAMILY_IDS)[number];

export interface CveDef {
  cve: string;
  /** The SU that fixes it on each CU that received one. */
  su: SuName;
  /** Pre-authentication entry point of the chain: decides the severity of an exposure finding. */
  preAuth: boolean;
  notOn?: ProductId[];
}

export interface FamilyDef {
  id: FamilyId;
  name: string;
  cves: CveDef[];
  /** First CU (or E2010 rollup) per product that ships with every fix; later CUs are cumulative. */
  fixedInCu: Partial<Record<ProductId, string>>;
  /** Products for which no source assesses the family: always `unknown`. */
  unassessed: ProductId[];
  sources: SourceId[];
}

export const FAMILIES: Record<FamilyId, FamilyDef> = {
  proxylogon: {
    id: 'proxylogon',
    name: 'ProxyLogon',
    cves: [
      { cve: 'CVE-2021-26855', su: 'Mar21SU', preAuth: true, notOn: ['E2010'] },
      // Unified Messaging deserialization; Exchange 2019 has no UM role.
      { cve: 'CVE-2021-26857', su: 'Mar21SU', preAuth: false, notOn: ['E2019'] },
      { cve: 'CVE-2021-26858', su: 'Mar21SU', preAuth: false, notOn: ['E2010'] },
      { cve: 'CVE-2021-27065', su: 'Mar21SU', preAuth: false, notOn: ['E2010'] },
    ],
    // CU20 / CU9 released 2021-03-16 with the fix (EOMT thresholds, REF); E2010 RU32 is KB5000978.
    fixedInCu: { E2010: 'SP3 RU32', E2016: 'CU20', E2019: 'CU9', ESE: 'RTM' },
    unassessed: [],
    sources: ['MS', 'HC', 'HCCVE', 'REF'],
  },
  proxyshell: {
    id: 'proxyshell',
    name: 'ProxyShell',
    cves: [
      // Fixed by the April 2021 SU, although the CVEs were published in July 2021 (CVE record ranges).
      { cve: 'CVE-2021-34473', su: 'Apr21SU', preAuth: true },
      { cve: 'CVE-2021-34523', su: 'Apr21SU', preAuth: false },
      { cve: 'CVE-2021-31207', su: 'May21SU', preAuth: false },
    ],
    // The CVE records list no CU after E2016 CU20 / E2019 CU9; CU21 / CU10 shipped 2021-06-29, after May21SU.
    fixedInCu: { E2016: 'CU21', E2019: 'CU10', ESE: 'RTM' },
    unassessed: ['E2010'],
    sources: ['MS', 'HC', 'CVE_PS'],
  },
  proxynotshell: {
    id: 'proxynotshell',
    name: 'ProxyNotShell / OWASSRF',
    cves: [
      { cve: 'CVE-2022-41040', su: 'Nov22SU', preAuth: false },
      { cve: 'CVE-2022-41082', su: 'Nov22SU', preAuth: false },
      { cve: 'CVE-2022-41080', su: 'Nov22SU', preAuth: false },
    ],
    // E2019 CU13 (2023-05-03) is the first CU released after Nov22SU; E2013 and E2016 had no later CU.
    fixedInCu: { E2019: 'CU13', ESE: 'RTM' },
    unassessed: ['E2010'],
    sources: ['MS', 'HC', 'CVE_PNS'],
  },
};

/** SU order within a CU, oldest first (SUs are cumulative for their CU). */
export const SU_ORDER: SuName[] = ['Mar21SU', 'Apr21SU', 'May21SU', 'Jul21SU', 'Nov22SU'];
