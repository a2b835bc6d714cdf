// EXP-* configuration controls: a patched server can still be exposed by its configuration. From the `config`
// facts (applicationHost.config, the collector's cmdlet JSON and registry exports) and the host's best build,
// each control is on / off / unknown with the CVEs it leaves open and the exact fix (HealthChecker's checks,
// reference security-updates.md §4). Exposure only: these findings never change the compromise verdict.
import type { Fact, RawFinding, Severity } from '../model.js';
import type { RuleMeta } from './types.js';
import { gradedFinding, stateGrade, stateGrades, type StateSpec } from './finding.js';
import { cveState } from '../builds/fixes.js';
import { CVES } from '../builds/table.js';
import type { Build } from '../builds/parse.js';
import { bestBuild } from './exposure.js';

export type ControlState = 'on' | 'off' | 'unknown';

interface Control {
  id: string;
  title: string;
  cves: string[];
  description: string;
  references: string[];
  /** The severities its judge gives when the control is off (default low): each is a declared grade. */
  off?: readonly Severity[];
  /** The states its judge can report, when not all three. */
  states?: readonly ControlState[];
  /** The evidence it reads (`source <name>` facts), first first: a finding cites the first one present. */
  reads: readonly string[];
}

const HC = 'microsoft/CSS-Exchange Diagnostics/HealthChecker (commit f88378b1e): ';
const CONTROLS = {
  'EXP-EP': { reads: ['applicationhost', 'registry'],  off: ['high'], title: 'Extended Protection', cves: ['CVE-2024-21410', 'CVE-2022-24516', 'CVE-2022-21979', 'CVE-2022-21980', 'CVE-2022-24477', 'CVE-2022-30134'], references: [`${HC}Invoke-AnalyzerSecurityExtendedProtectionConfigState.ps1`], description: 'Extended Protection (windowsAuthentication tokenChecking) on every expected virtual directory of the Exchange sites applicationHost.config declares (a vdir without a setting inherits its parent\'s, IIS default None: a server where EP was never enabled is off everywhere), against the expected value; registry SuppressExtendedProtection; a build that cannot run EP. Off on any vdir = CVE-2024-21410 (KEV) open.' },
  'EXP-AMSI': { reads: ['diag-overrides', 'get-settingoverride'],  off: ['medium'], states: ['on', 'off'], title: 'AMSI integration and request-body scanning', cves: [], references: [`${HC}Invoke-AnalyzerSecurityAMSIConfigState.ps1`], description: 'Setting override Cafe\\HttpRequestFiltering\\Enabled=False turns AMSI request scanning off; AmsiRequestBodyScanning overrides turn body scanning on or off (Nov24SU+).' },
  'EXP-SDS': { reads: ['diag-overrides', 'get-settingoverride', 'registry'],  off: ['medium'], title: 'PowerShell serialization payload signing', cves: ['CVE-2023-36050', 'CVE-2023-36039', 'CVE-2023-36035', 'CVE-2023-36439'], references: [`${HC}Invoke-AnalyzerSecurityCveAddressedBySerializedDataSigning.ps1`], description: 'On from Nov23SU unless the override Data\\EnableSerializationDataSigning\\Enabled=False (2013: registry EnableSerializationDataSigning=1).' },
  'EXP-EEMS': { reads: ['get-organizationconfig', 'get-exchangeserver'],  off: ['low'], title: 'Emergency Mitigation Service', cves: ['CVE-2026-42897'], references: [`${HC}Invoke-AnalyzerSecurityMitigationService.ps1`, 'Microsoft June 2026 SU announcement: EEMS cannot use configuration released July 2026 or later below Jun26SU'], description: 'Get-OrganizationConfig / Get-ExchangeServer MitigationsEnabled; a build below Jun26SU cannot receive mitigations released from July 2026 (interim mitigations such as M2.1.x for CVE-2026-42897 came this way).' },
  'EXP-OVR': { reads: ['diag-overrides', 'get-settingoverride'],  off: ['medium'], states: ['off'], title: 'Setting override that switches a fix off', cves: CVES.filter((c) => c.needs.some((n) => n.kind === 'override')).map((c) => c.cve), references: [`${HC}Analyzer/Security/Invoke-AnalyzerSecurityCveCheck.ps1 (override checks)`], description: 'An accepted setting override with the value that disables a security fix re-opens its CVE although the update is installed.' },
  'EXP-HYBRID': { reads: ['get-authserver', 'get-hybridconfiguration', 'diag-overrides', 'get-settingoverride'],  off: ['medium'], title: 'Dedicated Exchange hybrid application', cves: ['CVE-2025-53786'], references: [`${HC}Analyzer/Invoke-AnalyzerHybridInformation.ps1`, 'microsoft/CSS-Exchange Hybrid/ConfigureExchangeHybridApplication'], description: 'Hybrid organisations need the override Global\\ExchangeOnpremAsThirdPartyAppId and an enabled AzureAD AuthServer whose ApplicationIdentifier is the dedicated app (a GUID).' },
  'EXP-DLDOM': { reads: ['get-organizationconfig'],  off: ['low'], title: 'Download Domains', cves: ['CVE-2021-1730'], references: [`${HC}Analyzer/Security/Invoke-AnalyzerSecurityCve-2021-1730.ps1`], description: 'EnableDownloadDomains on, both OWA download host names set and different from the OWA URL hosts.' },
  'EXP-IISMOD': { reads: ['applicationhost'],  off: ['high', 'medium'], states: ['on', 'off'], title: 'IIS modules not signed by Microsoft', cves: [], references: [`${HC}Invoke-AnalyzerIISModules.ps1`], description: 'globalModules whose image is not under %windir%\\System32\\inetsrv, the .NET Framework or the Exchange install folder, and, when the DLL is in the evidence, its Authenticode signer: signed by Microsoft (subject O=Microsoft Corporation, L=Redmond, S=Washington and its issuer certificate in the signature verifies it), signed by another publisher, unsigned. Neither the signature over the image hash nor the chain to a trusted root is verified offline. A native-module backdoor sits here.' },
  'EXP-TOKEN': { reads: ['applicationhost'],  off: ['medium'], title: 'IIS TokenCacheModule (CVE-2023-36434)', cves: ['CVE-2023-36434', 'CVE-2023-21709'], references: [`${HC}Analyzer/Security/Invoke-AnalyzerSecurityCve-2023-36434.ps1`, 'https://msrc.microsoft.com/update-guide/vulnerability/CVE-2023-36434'], description: 'TokenCacheModule in applicationHost.config globalModules with %windir%\\System32\\inetsrv\\cachtokn.dll below the October 2023 Windows update for its OS build (HealthChecker floors: 8.0.9200.24514, 8.5.9600.21613, 10.0.14393.6343, 10.0.17763.4968, 10.0.20348.2029; Windows Server 2025 not affected). Microsoft\'s mitigation: remove the module.' },
} satisfies Record<string, Omit<Control, 'id'>>;
export type ControlId = keyof typeof CONTROLS;

/** A control's findings are titled `<control>: <state>`: one declared grade per state (and per severity when off). */
export const CONFIG_RULES: RuleMeta[] = Object.entries(CONTROLS).map(([id, c]: [string, Omit<Control, 'id'>]) => ({
  id, title: c.title, cves: c.cves, severity: 'info', kind: 'exposure', references: c.references, description: c.description,
  grades: stateGrades({ id, title: c.title }, ([
    { state: 'on', severities: ['info'], cves: [], when: 'the control is in place' },
    { state: 'off', severities: c.off ?? ['low'], when: 'the control is off: the CVEs it guards are open (those the evidence shows)' },
    { state: 'unknown', severities: ['info'], when: 'the evidence does not tell' },
  ] satisfies StateSpec[]).filter((g) => (c.states ?? ['on', 'off', 'unknown']).includes(g.state as ControlState))),
}));
const CONFIG_RULE = Object.fromEntries(CONFIG_RULES.map((r) => [r.id, r])) as Record<ControlId, RuleMeta>;

interface Judged {
  state: ControlState;
  summary: string;
  fix: string | null;
  cves: string[];
  evidence: Record<string, string | string[] | null>;
  severity?: Severity;
  source?: Fact;
}

const val = (facts: readonly Fact[], prefix: string) => facts.filter((f) => f.value.startsWith(prefix));
const has = (facts: readonly Fact[], source: string) => facts.some((f) => f.value === `source ${source}`);
const isFalse = (v: string) => v.trim().toLowerCase() === 'false';

interface Override { path: string; value: string; fact: Fact; name: string; note: string }

/** Where this host's overrides were read from, and which of the org's overrides do not apply to it. */
interface Overrides {
  /** The server's own view (Get-ExchangeDiagnosticInfo), else Active Directory's (Get-SettingOverride). */
  known: boolean;
  applied: Override[];
  notApplied: string[];
  basis: string;
}

const buildText = (b: Build) => `${b.major}.${b.minor}.${b.build}.${b.revision}`;
const shortName = (n: string) => n.trim().toLowerCase().split('.')[0];
/** Dotted four-part versions compared part by part (Exchange builds, Windows file versions). */
const versionCmp = (a: string, b: string) => {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
};

/**
 * The setting overrides in effect on this host, as HealthChecker decides them (security-updates.md §4, HC-SO): the
 * server's loaded overrides from Get-ExchangeDiagnosticInfo when collected (only status Accepted counts), else the
 * AD list from Get-SettingOverride with its Server scoping and MinVersion/MaxVersion applied. The first value per
 * parameter wins.
 */
function effectiveOverrides(facts: readonly Fact[], hosts: readonly string[], build: Build | null): Overrides {
  const parse = (f: Fact, prefix: string): Override & { tokens: Record<string, string> } => {
    const m = new RegExp(`^${prefix} (\\S+?)=(\\S*)(.*)$`).exec(f.value);
    const rest = m?.[3] ?? '';
    const nameAt = rest.indexOf(' name=');
    const tokens = Object.fromEntries((nameAt >= 0 ? rest.slice(0, nameAt) : rest).trim().split(' ').filter((t) => t.includes('=')).map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]));
    return { path: m?.[1].toLowerCase() ?? '', value: m?.[2] ?? '', fact: f, name: nameAt >= 0 ? rest.slice(nameAt + 6) : '', note: '', tokens };
  };
  const firstPerPath = (list: Override[]) => list.filter((o, i) => list.findIndex((x) => x.path === o.path) === i);
  if (has(facts, 'diag-overrides')) {
    const all = val(facts, 'applied ').map((f) => parse(f, 'applied'));
    const accepted = all.filter((o) => /^accepted$/i.test(o.tokens.status ?? ''));
    return { known: true, applied: firstPerPath(accepted), notApplied: all.filter((o) => !accepted.includes(o)).map((o) => `${o.name || o.path} (status ${o.tokens.status || 'none'})`), basis: "the server's loaded overrides (Get-ExchangeDiagnosticInfo, status Accepted)" };
  }
  if (!has(facts, 'get-settingoverride')) return { known: false, applied: [], notApplied: [], basis: '' };
  const names = hosts.map(shortName);
  const applied: Override[] = [];
  const notApplied: string[] = [];
  for (const o of val(facts, 'override ').map((f) => parse(f, 'override'))) {
    const servers = (o.tokens.server ?? '').split(',').filter((x) => x !== '');
    const { min, max } = o.tokens;
    if (servers.length && names.length && !servers.some((sv) => names.includes(shortName(sv)))) notApplied.push(`${o.name || o.path} (scoped to ${servers.join(', ')})`);
    else if (build && build.precision !== 'cu' && ((min && versionCmp(buildText(build), min) < 0) || (max && versionCmp(buildText(build), max) > 0))) notApplied.push(`${o.name || o.path} (for builds ${min || '…'}–${max || '…'})`);
    else applied.push({ ...o, note: servers.length && !names.length ? ` (scoped to ${servers.join(', ')}; this host's name is not in the evidence, so it is counted)` : '' });
  }
  return { known: true, applied: firstPerPath(applied), notApplied, basis: "Active Directory's overrides (Get-SettingOverride; whether this server loaded them is not known without Get-ExchangeDiagnosticInfo)" };
}

// ---- Extended Protection (HC-EP expected values: front end / back end) ----
type Level = 'None' | 'Allow' | 'Require';
const RANK: Record<Level, number> = { None: 0, Allow: 1, Require: 2 };
const EXPECTED: Record<string, [Level | null, Level | null]> = {
  api: ['Require', 'Require'], autodiscover: ['None', 'None'], ecp: ['Require', 'Require'], ews: ['Allow', 'Require'],
  'microsoft-server-activesync': ['Allow', 'Require'], 'microsoft-server-activesync/proxy': [null, 'Require'], oab: ['Allow', 'Require'],
  powershell: ['None', 'Require'], owa: ['Require', 'Require'], rpc: ['Require', 'Require'], mapi: ['Require', null],
  pushnotifications: [null, 'Require'], rpcwithcert: [null, 'Require'], 'mapi/emsmdb': [null, 'Require'], 'mapi/nspi': [null, 'Require'],
};
const EP_SITES = ['default web site', 'exchange back end'] as const;
const level = (s: string): Level => (/^require$/i.test(s) ? 'Require' : /^allow$/i.test(s) ? 'Allow' : 'None');
const SSL_CAVEAT = 'Extended Protection does not work behind SSL offloading: keep TLS terminating on Exchange (SSL bridging) and Outlook Anywhere SSLOffloading off.';

// HC-EP thresholds: [build part above which every build can, build part, minimum revision] per minor version.
const EP_FLOOR: Record<number, [number, [number, number][]]> = { 2: [1118, [[1118, 11], [986, 28]]], 1: [2507, [[2507, 11], [2375, 30]]], 0: [1497, [[1497, 38]]] };

/** Can the build run Extended Protection (Aug22SU code)? null when a CU-only build leaves it open. */
function epCapable(b: Build | null): boolean | null {
  if (!b || b.major !== 15) return null;
  const [above, exact] = EP_FLOOR[b.minor];
  if (b.build > above) return true;
  const row = exact.find(([build]) => build === b.build);
  if (b.precision === 'cu') return row ? null : false;
  return row !== undefined && b.revision >= row[1];
}

interface EpLocation { token: string; allowUnlisted: string; fact: Fact }

/**
 * applicationHost.config's Extended Protection settings by lower-case location path ('' = server-wide), and the
 * Exchange sites it declares with their vdirs. IIS merges `<location>` elements of one path (Exchange writes handlers
 * and security apart): per path, the setting written last in the file. An image also holds IIS's configuration
 * history (inetpub\history\CFGHISTORY_*): the live file decides when it is there.
 */
function epSettings(facts: readonly Fact[]): { locs: Map<string, EpLocation>; sites: { side: 0 | 1; site: string; present: Set<string> }[] } {
  const iis = facts.filter((f) => /^(?:ep|iissite|iisapp) /.test(f.value));
  const live = iis.filter((f) => /(?:^|\/)inetsrv\/config\/applicationhost\.config$/i.test(f.source.path));
  const appHost = live.length > 0 ? live : iis;
  const locs = new Map<string, EpLocation>();
  const lineOf = (f: Fact) => f.source.line ?? 0;
  for (const f of val(appHost, 'ep ').sort((a, b) => lineOf(a) - lineOf(b))) {
    const [path, token, allowUnlisted = ''] = f.value.slice(3).split('|');
    const had = locs.get(path.toLowerCase());
    locs.set(path.toLowerCase(), { token: token || (had?.token ?? ''), allowUnlisted: allowUnlisted || (had?.allowUnlisted ?? ''), fact: token || !had ? f : had.fact });
  }
  // A site is judged when the configuration declares it as Exchange's (HealthChecker judges every expected vdir of
  // it, present or not): the back end by its site, the front end by an Exchange vdir under Default Web Site.
  const declared = [...locs.keys(), ...val(appHost, 'iisapp ').map((f) => f.value.slice(7).toLowerCase())];
  const vdirsOf = (site: string) => new Set(declared.filter((p) => p.startsWith(`${site}/`)).map((p) => p.slice(site.length + 1)));
  const [fe, be] = [vdirsOf(EP_SITES[0]), vdirsOf(EP_SITES[1])];
  const sites: { side: 0 | 1; site: string; present: Set<string> }[] = [];
  if ([...fe].some((v) => EXPECTED[v.split('/')[0]] !== undefined)) sites.push({ side: 0, site: EP_SITES[0], present: fe });
  if (be.size > 0 || val(appHost, 'iissite ').some((f) => f.value.slice(8).toLowerCase() === EP_SITES[1])) sites.push({ side: 1, site: EP_SITES[1], present: be });
  return { locs, sites };
}

function judgeEp(facts: readonly Fact[], build: Build | null): Judged | null {
  const suppress = val(facts, 'reg SuppressExtendedProtection=').map((f) => f.value.split('=')[1])[0];
  if (!has(facts, 'applicationhost')) {
    if (suppress === undefined) return null;
  }
  const { locs, sites } = epSettings(facts);
  // IIS inheritance: the nearest location up the path that sets tokenChecking, then the server-wide default, else None.
  const setting = (path: string): { token: string; at: string | null } => {
    for (let p = path; p !== ''; p = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '') {
      const hit = locs.get(p);
      if (hit?.token) return { token: hit.token, at: p };
    }
    const server = locs.get('')?.token;
    return server ? { token: server, at: 'server-wide' } : { token: 'None', at: null };
  };
  const low: string[] = [];
  const checked: string[] = [];
  let firstLow: Fact | undefined;
  let needed = 0;
  let unset = 0;
  for (const { side, site, present } of sites) {
    for (const [vdir, want] of Object.entries(EXPECTED)) {
      const expected = want[side];
      // Exchange 2013 has no API vdir; with the build unknown, judged only where the configuration has it.
      if (!expected || (vdir === 'api' && (build === null ? !present.has(vdir) : build.minor === 0))) continue;
      const path = `${site}/${vdir}`;
      const { token, at } = setting(path);
      const actual = level(token);
      checked.push(`${path}=${actual}${at === null ? ' (not set)' : ''}`);
      if (expected !== 'None') needed++;
      const ipFiltered = side === 1 && vdir === 'ews' && locs.get(path)?.allowUnlisted.toLowerCase() === 'false';
      if (RANK[actual] < RANK[expected] && !ipFiltered) {
        if (at === null) unset++;
        low.push(`${path}: ${actual}${at === null ? ' (not set: IIS default)' : at !== path ? ` (inherited from ${at})` : ''}, expected ${expected}`);
        firstLow ??= (at !== null && at !== 'server-wide' ? locs.get(at)?.fact : undefined) ?? locs.get(path)?.fact;
      }
    }
  }
  const capable = epCapable(build);
  const cves = CONTROLS['EXP-EP'].cves;
  const fix = `Enable Extended Protection with CSS-Exchange ExchangeExtendedProtectionManagement.ps1 (it sets the expected tokenChecking on every virtual directory) ${SSL_CAVEAT}`;
  if (suppress !== undefined && suppress !== '0') {
    return { state: 'off', cves, severity: 'high', summary: `Extended Protection is OFF: registry SuppressExtendedProtection=${suppress} disables it for every virtual directory.`, fix: 'Set HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\SuppressExtendedProtection to 0 (or delete it), then restart IIS.', evidence: { suppress_extended_protection: suppress, checked } };
  }
  if (capable === false) return { state: 'off', cves, severity: 'high', summary: 'Extended Protection is OFF: the build cannot run it (below Aug22SU).', fix: `Install the latest update, then ${fix.charAt(0).toLowerCase()}${fix.slice(1)}`, evidence: { checked } };
  if (low.length > 0) {
    // Every vdir that needs it below its expected value: the state of a server where EP was never enabled.
    const what = low.length === needed
      ? `OFF on all ${needed} Exchange virtual directories that need it (${unset === needed ? 'none sets tokenChecking: IIS default None' : 'tokenChecking None or not set'}; ExchangeExtendedProtectionManagement.ps1 was never run, or was rolled back)`
      : `OFF or too weak on ${low.length} of ${needed} Exchange virtual directories that need it: ${low.join('; ')}`;
    return { state: 'off', cves, severity: 'high', source: firstLow, summary: `Extended Protection is ${what}. CVE-2024-21410 (NTLM relay, exploited in the wild) stays open.`, fix, evidence: { below_expected: low, checked } };
  }
  // A configuration without an Exchange site (a partial copy, another IIS server) holds nothing to judge.
  if (checked.length === 0) return null;
  return { state: capable === null ? 'unknown' : 'on', cves, summary: `Extended Protection is ${capable === null ? 'configured as expected on every virtual directory, but the build is not known to run it' : 'ON as expected on every Exchange virtual directory'}. ${SSL_CAVEAT}`, fix: null, evidence: { checked } };
}

// ---- setting overrides ----
function judgeAmsi(ovs: Overrides): Judged | null {
  if (!ovs.known) return null;
  const ov = ovs.applied;
  const off = ov.find((o) => o.path === 'cafe\\httprequestfiltering\\enabled' && isFalse(o.value));
  const body = ov.filter((o) => o.path.startsWith('cafe\\amsirequestbodyscanning\\') || o.path.startsWith('amsirequestbodyscanning\\') || o.path.includes('\\amsirequestbodyscanning\\'));
  const bodyText = body.length ? body.map((o) => `${o.path}=${o.value}`) : ['no AmsiRequestBodyScanning override (default)'];
  if (off) return { state: 'off', cves: [], severity: 'medium', source: off.fact, summary: 'AMSI integration is OFF: setting override Cafe\\HttpRequestFiltering\\Enabled=False (requests are not scanned by the antivirus).', fix: `Remove-SettingOverride -Identity "${off.name || '<name>'}"; then Get-ExchangeDiagnosticInfo -Process Microsoft.Exchange.Directory.TopologyService -Component VariantConfiguration -Argument Refresh; restart IIS.`, evidence: { body_scanning: bodyText } };
  return { state: 'on', cves: [], summary: `AMSI integration is ON (no override disables it). Request-body scanning: ${bodyText.join('; ')}. Whether the installed antivirus implements AMSI is not visible here.`, fix: null, evidence: { body_scanning: bodyText } };
}

function judgeSds(facts: readonly Fact[], ovs: Overrides, build: Build | null): Judged | null {
  const cves = CONTROLS['EXP-SDS'].cves;
  if (build && build.minor === 0) {
    const reg = val(facts, 'reg EnableSerializationDataSigning=')[0];
    if (!reg && !has(facts, 'registry')) return null;
    const on = reg?.value.endsWith('=1') ?? false;
    return { state: on ? 'on' : 'off', cves, ...(on ? {} : { severity: 'medium' as const }), summary: `Serialization payload signing (Exchange 2013, registry) is ${on ? 'ON' : 'OFF'}.`, fix: on ? null : 'Set HKLM\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Diagnostics\\EnableSerializationDataSigning=1 (DWORD) after Jan23SU, then restart IIS and the Exchange services.', evidence: {} };
  }
  if (!ovs.known) return null;
  const off = ovs.applied.find((o) => o.path === 'data\\enableserializationdatasigning\\enabled' && isFalse(o.value));
  if (off) return { state: 'off', cves, severity: 'medium', source: off.fact, summary: 'Serialization payload signing is OFF: override Data\\EnableSerializationDataSigning\\Enabled=False re-opens CVE-2023-36050, -36039, -36035, -36439.', fix: 'Remove the setting override (Remove-SettingOverride) and refresh VariantConfiguration; restart IIS.', evidence: {} };
  const state = build ? cveState('CVE-2023-36439', build) : null;
  if (state === 'fixed' || state === 'not-affected') return { state: 'on', cves, summary: 'Serialization payload signing is ON (default from Nov23SU; no override disables it).', fix: null, evidence: {} };
  if (state === 'vulnerable') return { state: 'off', cves, severity: 'medium', summary: 'Serialization payload signing is OFF: the build is below Nov23SU, where it becomes the default.', fix: 'Install the latest update (signing is on by default from Nov23SU).', evidence: {} };
  return { state: 'unknown', cves, summary: 'Serialization payload signing: no override disables it, but the build (Nov23SU or later turns it on) is not known.', fix: null, evidence: {} };
}

function judgeOverrides(ovs: Overrides): Judged[] {
  const ov = ovs.applied;
  const out: Judged[] = [];
  for (const c of CVES) {
    for (const n of c.needs) {
      if (n.kind !== 'override') continue;
      const path = `${n.component}\\${n.section}\\${n.parameter}`.toLowerCase();
      const hit = ov.find((o) => o.path === path && isFalse(o.value));
      if (!hit) continue;
      out.push({ state: 'off', cves: [c.cve], severity: 'medium', source: hit.fact, summary: `Setting override ${n.component}\\${n.section}\\${n.parameter}=False${hit.note} switches off the fix for ${c.cve} (fixed by ${c.fixedBy}): the CVE is open although the update is installed. Read from ${ovs.basis}.`, fix: `Remove-SettingOverride -Identity "${hit.name || '<name>'}", then refresh VariantConfiguration (Get-ExchangeDiagnosticInfo -Process Microsoft.Exchange.Directory.TopologyService -Component VariantConfiguration -Argument Refresh) and restart IIS / the Transport service.`, evidence: { override: `${n.component}\\${n.section}\\${n.parameter}=${hit.value}`, overrides_read_from: ovs.basis, not_applied: ovs.notApplied } });
    }
  }
  return out;
}

function judgeEems(facts: readonly Fact[], build: Build | null): Judged | null {
  if (!has(facts, 'get-organizationconfig') && !has(facts, 'get-exchangeserver')) return null;
  const org = val(facts, 'org MitigationsEnabled=')[0]?.value.split('=')[1] ?? '';
  const servers = val(facts, 'server ').filter((f) => / MitigationsEnabled=/.test(f.value));
  const serverOff = servers.filter((f) => isFalse(f.value.split('=').pop() ?? ''));
  const applied = val(facts, 'server ').filter((f) => / MitigationsApplied=/.test(f.value)).map((f) => f.value.split('=').slice(1).join('=')).filter((v) => v !== '');
  const cutOff = build && build.minor !== 0 ? cveState('CVE-2026-42897', build) : null;
  const late = cutOff === 'vulnerable' ? ' The build is below Jun26SU: since July 2026 it cannot receive new mitigations (event 1008, "leaf certificate … unknown issuer") even with EEMS enabled.' : '';
  const cves = CONTROLS['EXP-EEMS'].cves;
  if (isFalse(org) || serverOff.length > 0) {
    return { state: 'off', cves, severity: 'low', summary: `Emergency Mitigation Service is OFF (${isFalse(org) ? 'organisation MitigationsEnabled=False' : `server ${serverOff.map((f) => f.value.split(' ')[1]).join(', ')} MitigationsEnabled=False`}).${late}`, fix: 'Set-OrganizationConfig -MitigationsEnabled $true; Set-ExchangeServer <name> -MitigationsEnabled $true; keep the MSExchangeMitigation service running and https://officeclient.microsoft.com reachable.', evidence: { applied } };
  }
  if (org === '' && servers.length === 0) return { state: 'unknown', cves, summary: 'Emergency Mitigation Service: state not in the saved cmdlet output.', fix: null, evidence: {} };
  if (late) return { state: 'off', cves, severity: 'low', summary: `Emergency Mitigation Service is enabled but cannot receive new mitigations.${late}`, fix: 'Install Jun26SU or later (Exchange 2016/2019: ESU only; or move to Exchange SE).', evidence: { applied } };
  return { state: 'on', cves, summary: `Emergency Mitigation Service is ON${applied.length ? ` (applied: ${applied.join('; ')})` : ''}. Whether the service runs and reaches Microsoft is not visible here.${cutOff === null ? ' Build unknown: the June 2026 cut-off could not be checked.' : ''}`, fix: null, evidence: { applied } };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function judgeHybrid(facts: readonly Fact[], ovs: Overrides): Judged | null {
  if (!has(facts, 'get-authserver') && !has(facts, 'get-hybridconfiguration')) return null;
  const auth = val(facts, 'authserver ').map((f) => Object.fromEntries(f.value.slice(11).split(' ').map((kv) => kv.split('='))) as Record<string, string>);
  const azure = auth.filter((a) => /^(azuread|microsoftacs)$/i.test(a.type ?? '') && /^true$/i.test(a.enabled ?? ''));
  const hybrid = facts.some((f) => f.value === 'hybrid configured') || azure.length > 0;
  const cves = ['CVE-2025-53786'];
  if (!hybrid) return { state: 'on', cves, summary: 'Dedicated hybrid application: not a hybrid organisation (no hybrid configuration, no enabled AzureAD auth server): CVE-2025-53786 does not apply.', fix: null, evidence: {} };
  const ov = ovs.applied.filter((o) => o.path.startsWith('global\\exchangeonpremasthirdpartyappid\\'));
  const dedicated = azure.some((a) => /^azuread$/i.test(a.type ?? '') && GUID.test(a.appid ?? ''));
  const fix = 'Run CSS-Exchange ConfigureExchangeHybridApplication.ps1 (creates the dedicated app, the ExchangeOnpremAsThirdPartyAppId override and the AzureAD auth server), then reset the first-party service principal keyCredentials.';
  if (!ovs.known) return { state: 'unknown', cves, summary: 'Dedicated hybrid application: hybrid organisation, but the setting overrides were not collected.', fix, evidence: {} };
  if (ov.length === 1 && dedicated) return { state: 'on', cves, summary: 'Dedicated hybrid application is ON (ExchangeOnpremAsThirdPartyAppId override and an AzureAD auth server with the dedicated application id).', fix: null, evidence: {} };
  const why = ov.length === 0 ? 'no ExchangeOnpremAsThirdPartyAppId setting override' : ov.length > 1 ? 'more than one ExchangeOnpremAsThirdPartyAppId override' : 'no enabled AzureAD auth server whose ApplicationIdentifier is a GUID';
  return { state: 'off', cves, severity: 'medium', summary: `Dedicated hybrid application is OFF in a hybrid organisation: ${why}. CVE-2025-53786 (on-premises admin to cloud) stays open.`, fix, evidence: {} };
}

function judgeDownloadDomains(facts: readonly Fact[]): Judged | null {
  if (!has(facts, 'get-organizationconfig')) return null;
  const on = val(facts, 'org EnableDownloadDomains=')[0]?.value.split('=')[1] ?? '';
  const owa = val(facts, 'owa ')[0];
  const fields = owa ? Object.fromEntries(owa.value.slice(4).split(' ').map((kv) => kv.split('='))) as Record<string, string> : null;
  const cves = ['CVE-2021-1730'];
  const fix = 'Set-OwaVirtualDirectory "owa (Default Web Site)" -ExternalDownloadHostName <download host> -InternalDownloadHostName <download host> (a name different from the OWA host, with its own certificate), then Set-OrganizationConfig -EnableDownloadDomains $true.';
  if (on === '') return { state: 'unknown', cves, summary: 'Download Domains: EnableDownloadDomains not in the saved Get-OrganizationConfig output.', fix: null, evidence: {} };
  if (isFalse(on)) return { state: 'off', cves, severity: 'low', summary: 'Download Domains are OFF (EnableDownloadDomains=False): CVE-2021-1730 stays open.', fix, evidence: {} };
  if (!fields) return { state: 'unknown', cves, summary: 'Download Domains are enabled, but Get-OwaVirtualDirectory was not collected to check the host names.', fix: null, evidence: {} };
  const bad = ['external-download', 'internal-download'].filter((k) => !fields[k] || fields[k] === fields.external || fields[k] === fields.internal);
  if (bad.length) return { state: 'off', cves, severity: 'low', summary: `Download Domains are enabled but ${bad.join(' and ')} host name is empty or equal to the OWA host: CVE-2021-1730 stays open.`, fix, evidence: fields };
  return { state: 'on', cves, summary: 'Download Domains are ON with their own host names.', fix: null, evidence: fields };
}

// Microsoft's native modules live in inetsrv, the .NET Framework folders, or Exchange's own folders.
const MS_IMAGE = /^(?:%windir%|%systemroot%|[a-z]:\\windows)\\(?:system32|syswow64)\\inetsrv\\|^(?:%windir%|%systemroot%|[a-z]:\\windows)\\microsoft\.net\\|\\microsoft\\exchange server\\v15\\|^%exchangeinstallpath%/i;

interface ModuleImage { rel: string; version: string; signature: string; signer: string }
function moduleImages(facts: readonly Fact[]): Map<string, ModuleImage> {
  return new Map(val(facts, 'iismodule-image ').map((f) => {
    const [name, rel, ...rest] = f.value.slice(16).split('|');
    const kv = Object.fromEntries(rest.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
    return [name.toLowerCase(), { rel, version: kv.version ?? '', signature: kv.signature ?? '', signer: kv.signer ?? '' }];
  }));
}

const SIGNATURE_TEXT: Record<string, string> = {
  microsoft: 'signed by Microsoft',
  'microsoft-subject-only': "Microsoft's name on a certificate no issuer in the signature vouches for (self-signed: a forgery looks like this)",
  other: 'signed by another publisher',
  unsigned: 'no embedded signature',
  'not-pe': 'not a PE image',
  unreadable: 'signature unreadable',
};

function judgeModules(facts: readonly Fact[]): Judged | null {
  if (!has(facts, 'applicationhost')) return null;
  const mods = val(facts, 'iismodule ').map((f) => {
    const [name, image] = f.value.slice(10).split('|');
    return { name, image, fact: f };
  });
  if (mods.length === 0) return null; // a partial copy without globalModules: nothing to judge
  const images = moduleImages(facts);
  const sig = (name: string) => images.get(name.toLowerCase());
  const msPlace = (m: (typeof mods)[number]) => MS_IMAGE.test(m.image.replace(/\//g, '\\'));
  const odd = mods.filter((m) => {
    const s = sig(m.name);
    // A DLL in the evidence is judged by its signer. Windows' own inetsrv DLLs are usually catalog-signed (no
    // signature in the file; catalogs are not read here), so a file without one in a Microsoft folder is judged
    // by location, as a DLL not in the evidence is.
    if (s && (s.signature === 'other' || s.signature === 'microsoft-subject-only')) return true;
    if (s?.signature === 'microsoft') return false;
    return !msPlace(m);
  });
  const checked = mods.filter((m) => sig(m.name)).length;
  const signatures = mods.filter((m) => sig(m.name)).map((m) => `${m.name}: ${SIGNATURE_TEXT[sig(m.name)!.signature] ?? sig(m.name)!.signature}${sig(m.name)!.signer ? ` (${sig(m.name)!.signer})` : ''}`);
  const caveat = checked ? ` Authenticode signer read for ${checked} of ${mods.length} module DLLs in the evidence (signer certificate and its issuer in the signature; the image hash and the chain to a trusted root are not verified offline).` : ' No module DLL is in the evidence: judged by location only (signatures not read).';
  if (odd.length === 0) return { state: 'on', cves: [], summary: `All ${mods.length} IIS global modules load from Microsoft locations${checked ? ' and every module DLL in the evidence is signed by Microsoft' : ''}.${caveat}`, fix: null, evidence: { modules: mods.map((m) => m.name), signatures } };
  const why = (m: (typeof mods)[number]) => {
    const s = sig(m.name);
    return s ? `${m.name} (${m.image}): ${SIGNATURE_TEXT[s.signature] ?? s.signature}${s.signer ? `, ${s.signer}` : ''}` : `${m.name} (${m.image}): outside Microsoft locations`;
  };
  const worst = odd.some((m) => ['unsigned', 'microsoft-subject-only', 'not-pe'].includes(sig(m.name)?.signature ?? '')) ? 'high' : 'medium';
  return { state: 'off', cves: [], severity: worst, source: odd[0].fact, summary: `IIS global module${odd.length > 1 ? 's' : ''} not signed by Microsoft: ${odd.map(why).join('; ')}. Native IIS modules are a known Exchange backdoor technique: check each DLL's origin.${caveat}`, fix: 'Check each DLL (Get-AuthenticodeSignature on the server); remove an unknown module with appcmd uninstall module <name> after preserving the DLL as evidence.', evidence: { modules: odd.map((m) => `${m.name}|${m.image}`), signatures } };
}

// cachtokn.dll file version floors per OS build (October 2023 Windows update; HealthChecker HC-36434).
const TOKEN_FLOOR: Record<string, string> = { '9200': '8.0.9200.24514', '9600': '8.5.9600.21613', '14393': '10.0.14393.6343', '17763': '10.0.17763.4968', '20348': '10.0.20348.2029' };

function judgeTokenCache(facts: readonly Fact[]): Judged | null {
  if (!has(facts, 'applicationhost')) return null;
  const mods = val(facts, 'iismodule ');
  if (mods.length === 0) return null;
  const cves = CONTROLS['EXP-TOKEN'].cves;
  const mod = mods.find((f) => /^iismodule tokencachemodule\|/i.test(f.value));
  const fix = 'Remove the module (Microsoft\'s CVE-2023-36434 mitigation): %windir%\\System32\\inetsrv\\appcmd.exe uninstall module TokenCacheModule (or remove it in IIS Manager > Modules), or install the October 2023 (or later) Windows update.';
  if (!mod) return { state: 'on', cves, summary: 'IIS TokenCacheModule is not loaded (removed from globalModules): CVE-2023-36434 does not apply.', fix: null, evidence: {} };
  const image = moduleImages(facts).get('tokencachemodule');
  if (!image || !image.version) return { state: 'unknown', cves, summary: 'IIS TokenCacheModule is loaded; cachtokn.dll is not in the evidence, so whether the October 2023 Windows fix is installed is unknown (HealthChecker counts this as exposed).', fix, evidence: {} };
  const osBuild = image.version.split('.')[2] ?? '';
  if (Number(osBuild) >= 26100) return { state: 'on', cves, summary: `IIS TokenCacheModule is loaded; cachtokn.dll ${image.version} is Windows Server 2025 or later (not affected).`, fix: null, evidence: { cachtokn_version: image.version } };
  const floor = TOKEN_FLOOR[osBuild];
  if (!floor) return { state: 'unknown', cves, summary: `IIS TokenCacheModule is loaded; cachtokn.dll ${image.version} is from an OS build with no known fixed version.`, fix, evidence: { cachtokn_version: image.version } };
  if (versionCmp(image.version, floor) >= 0) return { state: 'on', cves, summary: `IIS TokenCacheModule is loaded but cachtokn.dll ${image.version} has the October 2023 fix (≥ ${floor}).`, fix: null, evidence: { cachtokn_version: image.version, fixed_from: floor } };
  return { state: 'off', cves, severity: 'medium', source: mod, summary: `IIS TokenCacheModule is loaded and cachtokn.dll ${image.version} is below ${floor} (October 2023 Windows update): CVE-2023-36434 is open.`, fix, evidence: { cachtokn_version: image.version, fixed_from: floor } };
}

/** EXP-* findings for one host; none when the evidence holds no configuration. */
export function configExposureFindings(facts: readonly Fact[]): RawFinding[] {
  const config = facts.filter((f) => f.kind === 'config');
  if (config.length === 0) return [];
  const build = bestBuild(facts)?.build ?? null;
  const hosts = [...new Set([...facts.filter((f) => f.kind === 'hostname').map((f) => f.value), ...val(config, 'server ').map((f) => f.value.split(' ')[1] ?? '')].filter((n) => n !== ''))];
  const ovs = effectiveOverrides(config, hosts, build);
  const judged: [ControlId, Judged | null][] = [
    ['EXP-EP', judgeEp(config, build)],
    ['EXP-AMSI', judgeAmsi(ovs)],
    ['EXP-SDS', judgeSds(config, ovs, build)],
    ['EXP-EEMS', judgeEems(config, build)],
    ...judgeOverrides(ovs).map((j): [ControlId, Judged] => ['EXP-OVR', j]),
    ['EXP-HYBRID', judgeHybrid(config, ovs)],
    ['EXP-DLDOM', judgeDownloadDomains(config)],
    ['EXP-IISMOD', judgeModules(config)],
    ['EXP-TOKEN', judgeTokenCache(config)],
  ];
  return judged.flatMap(([id, j]) => {
    if (j === null) return [];
    const reads = CONTROLS[id].reads;
    const src = j.source ?? reads.map((r) => config.find((f) => f.value === `source ${r}`)).find((f) => f !== undefined) ?? config[0];
    const rule = CONFIG_RULE[id];
    const grade = stateGrade(id, j.state, j.state === 'off' ? (j.severity ?? 'low') : 'info');
    // Off or unknown: the CVEs this judgement leaves open (one override names one CVE); on: none (declared).
    return [gradedFinding(rule, grade, 'Host', {
      ...(j.state === 'on' ? {} : { cves: j.cves }),
      time: null,
      client_ip: null,
      source: src.source,
      summary: j.fix ? `${j.summary} Fix: ${j.fix}` : j.summary,
      evidence: { control: CONTROLS[id].title, state: j.state, fix: j.fix, cves_if_off: j.cves, origin: src.origin, ...j.evidence },
    })];
  });
}
