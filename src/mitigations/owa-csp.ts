// CVE-2026-42897 (OWA stored XSS, KEV 2026-05-15) interim mitigation: the IIS URL Rewrite *outbound* rule that
// Microsoft's EOMT applies to Default Web Site/owa, adding `script-src-attr 'none'` to the Content-Security-Policy
// of the OWA single-page HTML shell. Rendered as web.config / appcmd / PowerShell with rollback; a configuration is
// judged by replaying OWA responses through its outbound rules (behaviour, not rule names: EEMS writes names
// without spaces). Facts: current-landscape.md §1.2 (EOMT Security/src/EOMT/Mitigations/CVE-2026-42897.ps1).
import { childrenNamed, select, xmlAttr, type XmlElement } from '../parsers/xml.js';
import { linearRegex, LinearRegexError, type LinearRegex } from './linear-regex.js';

export const OWA_CSP = {
  cve: 'CVE-2026-42897',
  site: 'Default Web Site/owa',
  rule: 'EOMT OWA CSP - outbound',
  preCondition: 'EOMT OWA SPA HTML shell - precondition',
  serverVariable: 'RESPONSE_Content_Security_Policy',
  pattern: '(.*)',
  value: "{R:1}; script-src-attr 'none'",
  conditions: [
    { input: '{RESPONSE_CONTENT_TYPE}', pattern: '^text/html' },
    { input: '{REQUEST_URI}', pattern: '^/owa/?($|\\?|default\\.aspx|projection\\.aspx|readingPane\\.aspx|popout\\.aspx)' },
  ],
  source: 'microsoft/CSS-Exchange EOMT Security/src/EOMT/Mitigations/CVE-2026-42897.ps1 (commit aef34c06); EEMS mitigation M2.1.x',
  notes: [
    'Stop-gap only: install Jun26SU or later (Exchange SE, 2019 CU14/CU15 and 2016 CU23 with ESU), then roll back.',
    'Adds script-src-attr \'none\' to the Content-Security-Policy of the OWA single-page HTML shell: inline event-handler attributes in a crafted message no longer run.',
    'Requires the IIS URL Rewrite module; a Cumulative Update can rewrite the OWA web.config: re-check after a CU.',
  ],
} as const;

export const OWA_CSP_DIRECTIVE = "script-src-attr 'none'";

/** An outbound rule as IIS stores it (system.webServer/rewrite/outboundRules). */
export interface OutboundRule {
  name: string;
  enabled: boolean;
  preCondition: string | null;
  serverVariable: string | null;
  pattern: string;
  negate: boolean;
  ignoreCase: boolean;
  action: string;
  value: string;
}

export interface PreCondition {
  name: string;
  logicalGrouping: 'MatchAll' | 'MatchAny';
  conditions: { input: string; pattern: string; negate: boolean; ignoreCase: boolean }[];
}

export interface OutboundConfig {
  rules: OutboundRule[];
  preConditions: PreCondition[];
}

const bool = (v: string | undefined, dflt: boolean) => (v === undefined ? dflt : v.trim().toLowerCase() === 'true');

/** Every outboundRules section under `el` (a web.config root or a <location>), merged in document order. */
export function outboundFromXml(el: XmlElement): OutboundConfig {
  const out: OutboundConfig = { rules: [], preConditions: [] };
  for (const sec of select(el, ['system.webServer', 'rewrite', 'outboundRules'])) {
    for (const pcs of childrenNamed(sec, 'preConditions')) {
      for (const pc of childrenNamed(pcs, 'preCondition')) {
        out.preConditions.push({
          name: pc.attrs.name ?? '',
          logicalGrouping: (pc.attrs.logicalGrouping ?? '').toLowerCase() === 'matchany' ? 'MatchAny' : 'MatchAll',
          conditions: childrenNamed(pc, 'add').map((a) => ({ input: a.attrs.input ?? '', pattern: a.attrs.pattern ?? '', negate: bool(a.attrs.negate, false), ignoreCase: bool(a.attrs.ignoreCase, true) })),
        });
      }
    }
    for (const r of childrenNamed(sec, 'rule')) {
      const match = childrenNamed(r, 'match')[0];
      const action = childrenNamed(r, 'action')[0];
      out.rules.push({
        name: r.attrs.name ?? '',
        enabled: bool(r.attrs.enabled, true),
        preCondition: r.attrs.preCondition ?? null,
        serverVariable: match?.attrs.serverVariable ?? null,
        pattern: match?.attrs.pattern ?? '',
        negate: bool(match?.attrs.negate, false),
        ignoreCase: bool(match?.attrs.ignoreCase, true),
        action: action?.attrs.type ?? 'None',
        value: action?.attrs.value ?? '',
      });
    }
  }
  return out;
}

/** A response as the outbound rules see it. */
export interface OwaResponse {
  label: string;
  uri: string;
  contentType: string;
  csp: string | null;
}

const SPA = ['/owa/', '/owa', '/owa/?ae=Item&t=IPM.Note&id=RgAAAAD', '/owa/default.aspx', '/owa/projection.aspx', '/owa/readingPane.aspx', '/owa/popout.aspx'];
/** OWA responses the rule must change: the SPA shell, with and without a policy already set. */
export const OWA_SPA_RESPONSES: readonly OwaResponse[] = SPA.flatMap((uri) => [
  { label: `${uri} (no CSP)`, uri, contentType: 'text/html; charset=utf-8', csp: null },
  { label: `${uri} (CSP set)`, uri, contentType: 'text/html; charset=utf-8', csp: "frame-ancestors 'self'" },
]);
/** OWA responses it must leave alone: logon page, service calls, scripts, attachments. */
export const OWA_OTHER_RESPONSES: readonly OwaResponse[] = [
  { label: '/owa/auth/logon.aspx', uri: '/owa/auth/logon.aspx?url=https%3a%2f%2fmail.contoso.com%2fowa%2f&reason=0', contentType: 'text/html; charset=utf-8', csp: null },
  { label: '/owa/service.svc (JSON)', uri: '/owa/service.svc?action=GetItem&app=Mail', contentType: 'application/json; charset=utf-8', csp: null },
  { label: '/owa/prem/<build>/scripts (script)', uri: '/owa/prem/15.2.2562.57/scripts/boot.worker.common.js', contentType: 'application/javascript', csp: null },
  { label: '/owa/service.svc/s/GetFileAttachment', uri: '/owa/service.svc/s/GetFileAttachment?id=AAMk&X-OWA-CANARY=x', contentType: 'text/html', csp: null },
];

/** A rule this model cannot replay exactly (a back-reference other than the whole value). */
export class UnmodelledRule extends Error {}

// Patterns come from evidence: the linear-time matcher runs them (it refuses back-references and lookbehinds).
function regex(pattern: string, ignoreCase: boolean): LinearRegex {
  return linearRegex(pattern, ignoreCase);
}

// {R:1} needs capture groups, which the linear matcher does not give: only the whole-value captures EOMT and
// hand-written variants use are modelled; anything else is reported "not evaluated", never guessed.
const WHOLE_VALUE = /^\^?\(\.[*+]\)\$?$/;

function inputValue(input: string, res: OwaResponse): string | null {
  const m = /^\{([A-Za-z_:]+)\}$/.exec(input.trim());
  if (!m) return null;
  const v = m[1].toUpperCase();
  if (v === 'RESPONSE_CONTENT_TYPE') return res.contentType;
  if (v === 'REQUEST_URI') return res.uri;
  if (v === 'RESPONSE_CONTENT_SECURITY_POLICY') return res.csp ?? '';
  return null;
}

function preConditionHolds(pc: PreCondition | undefined, res: OwaResponse): boolean {
  if (!pc) return false; // IIS refuses a rule whose preCondition is not defined: the rule does nothing
  const results = pc.conditions.map((c) => {
    const v = inputValue(c.input, res);
    const hit = v !== null && regex(c.pattern, c.ignoreCase).test(v);
    return c.negate ? !hit : hit;
  });
  return pc.logicalGrouping === 'MatchAny' ? results.some(Boolean) : results.every(Boolean);
}

/** The Content-Security-Policy after every outbound rule that applies; `includeDisabled` evaluates disabled rules too. */
export function replay(cfg: OutboundConfig, res: OwaResponse, includeDisabled = false): string | null {
  let csp = res.csp;
  for (const r of cfg.rules) {
    if (!r.enabled && !includeDisabled) continue;
    if (r.preCondition !== null && r.preCondition !== '' && !preConditionHolds(cfg.preConditions.find((p) => p.name.toLowerCase() === r.preCondition!.toLowerCase()), { ...res, csp })) continue;
    if ((r.serverVariable ?? '').toUpperCase() !== OWA_CSP.serverVariable.toUpperCase() || r.action.toLowerCase() !== 'rewrite') continue;
    const value = csp ?? '';
    const hit = regex(r.pattern, r.ignoreCase).test(value);
    if (r.negate ? hit : !hit) continue;
    if (/\{R:\d\}/i.test(r.value) && (r.negate || !WHOLE_VALUE.test(r.pattern))) throw new UnmodelledRule(`back-reference in "${r.value.slice(0, 80)}" with pattern ${r.pattern.slice(0, 80)}`);
    csp = r.value.replace(/\{R:([01])\}/gi, () => value);
  }
  return csp;
}

export type OwaCspStatus = 'applied' | 'incomplete' | 'disabled' | 'same name, different behaviour' | 'not applied' | 'not evaluated';

export interface OwaCspState {
  status: OwaCspStatus;
  /** Names of the rules that rewrite the CSP header, or carry the EOMT/EEMS name. */
  rules: string[];
  covered: string[];
  missed: string[];
  /** Non-SPA responses whose policy the rules change too. */
  collateral: string[];
  reason?: string;
}

const hasDirective = (csp: string | null) => csp !== null && /script-src-attr\s+'none'/i.test(csp);
// EOMT names the rule "EOMT OWA CSP - outbound"; EEMS writes rule names without spaces.
const nameLike = (n: string) => /^(?:eomt)?owacsp-?outbound$/i.test(n.replace(/\s+/g, ''));

/** The mitigation's state in one scope's outbound rules, by replaying OWA responses. */
export function owaCspState(cfg: OutboundConfig): OwaCspState {
  const relevant = cfg.rules.filter((r) => nameLike(r.name) || (r.serverVariable ?? '').toUpperCase() === OWA_CSP.serverVariable.toUpperCase());
  const rules = relevant.map((r) => r.name);
  const base = { rules, covered: [], missed: [], collateral: [] };
  if (relevant.length === 0) return { ...base, status: 'not applied' };
  try {
    const run = (includeDisabled: boolean) => {
      const covered = OWA_SPA_RESPONSES.filter((r) => hasDirective(replay(cfg, r, includeDisabled))).map((r) => r.label);
      const missed = OWA_SPA_RESPONSES.filter((r) => !covered.includes(r.label)).map((r) => r.label);
      const collateral = OWA_OTHER_RESPONSES.filter((r) => replay(cfg, r, includeDisabled) !== r.csp).map((r) => r.label);
      return { covered, missed, collateral };
    };
    const live = run(false);
    if (live.missed.length === 0) return { ...base, ...live, status: 'applied' };
    if (live.covered.length > 0) return { ...base, ...live, status: 'incomplete' };
    const withDisabled = run(true);
    if (withDisabled.covered.length > 0) return { ...base, ...withDisabled, status: 'disabled' };
    if (relevant.some((r) => nameLike(r.name))) return { ...base, ...live, status: 'same name, different behaviour' };
    return { ...base, ...live, status: 'not applied' };
  } catch (err) {
    if (!(err instanceof LinearRegexError) && !(err instanceof UnmodelledRule)) throw err;
    return { ...base, status: 'not evaluated', reason: err instanceof UnmodelledRule ? `rule not modelled: ${err.message}` : `pattern not evaluated: ${err.message}` };
  }
}

/** One sentence for the report. */
export function owaCspSentence(s: OwaCspState, where: string): string {
  const head = `CVE-2026-42897 OWA CSP mitigation: ${s.status.toUpperCase()} in ${where}.`;
  const tail: Record<OwaCspStatus, string> = {
    applied: `Every OWA single-page response gets ${OWA_CSP_DIRECTIVE}. It is a stop-gap: Jun26SU or later fixes the vulnerability.`,
    incomplete: `Only some OWA pages get ${OWA_CSP_DIRECTIVE}; missed: ${s.missed.join('; ')}.`,
    disabled: `The rule would add ${OWA_CSP_DIRECTIVE} but is disabled (enabled="false").`,
    'same name, different behaviour': `A rule named like the EOMT/EEMS rule (${s.rules.join(', ')}) does not add ${OWA_CSP_DIRECTIVE} to OWA pages.`,
    'not applied': `No outbound rule adds ${OWA_CSP_DIRECTIVE}. This matters while the server lacks Jun26SU.`,
    'not evaluated': s.reason ?? 'The rules could not be evaluated.',
  };
  const extra = s.collateral.length ? ` Also changes the policy of: ${s.collateral.join('; ')}.` : '';
  return `${head} ${tail[s.status]}${extra}`;
}

// ---- rendering: the rule's own lines, placed by mitigations/generate.ts after the one shared preamble ----

const APPCMD = '%windir%\\system32\\inetsrv\\appcmd.exe';
const SECTION = 'system.webServer/rewrite/outboundRules';

/** What the rule is, where it comes from, its caveats: in the comment head of every format. */
export function owaCspComments(): string[] {
  return [`${OWA_CSP.cve} OWA Content-Security-Policy mitigation (${OWA_CSP.site})`, `  Source: ${OWA_CSP.source}`, ...OWA_CSP.notes.map((n) => `  - ${n}`)];
}

/** The OWA web.config fragment (a separate file from the site's: FrontEnd\HttpProxy\owa\web.config). */
export function owaCspXml(rollback: boolean): string {
  const c = OWA_CSP;
  const head = ['<!--', ...owaCspComments().map((l) => `  ${l}`)];
  if (rollback) return `${[...head, `  ROLLBACK: delete <rule name="${c.rule}"> and <preCondition name="${c.preCondition}"> from the outboundRules section`, '  of the OWA web.config (<ExchangeInstallPath>FrontEnd\\HttpProxy\\owa\\web.config).', '-->'].join('\n')}\n`;
  return `${[
    ...head, '  Merge into <ExchangeInstallPath>FrontEnd\\HttpProxy\\owa\\web.config (the Default Web Site/owa application).', '-->',
    '<configuration>', '  <system.webServer>', '    <rewrite>', '      <outboundRules>', '        <preConditions>',
    `          <preCondition name="${xmlAttr(c.preCondition)}" logicalGrouping="MatchAll">`,
    ...c.conditions.map((x) => `            <add input="${xmlAttr(x.input)}" pattern="${xmlAttr(x.pattern)}" />`),
    '          </preCondition>', '        </preConditions>',
    `        <rule name="${xmlAttr(c.rule)}" preCondition="${xmlAttr(c.preCondition)}">`,
    `          <match serverVariable="${c.serverVariable}" pattern="${xmlAttr(c.pattern)}" />`,
    `          <action type="Rewrite" value="${xmlAttr(c.value)}" />`,
    '        </rule>', '      </outboundRules>', '    </rewrite>', '  </system.webServer>', '</configuration>',
  ].join('\n')}\n`;
}

/** appcmd lines; re-runnable: the rule and its precondition are removed first (the rule before the precondition it names). */
export function owaCspAppcmd(rollback: boolean): string[] {
  const c = OWA_CSP;
  const at = `${APPCMD} set config "${c.site}" -section:${SECTION}`;
  const remove = [`${at} /-"[name='${c.rule}']"`, `${at} /-"preConditions.[name='${c.preCondition}']"`];
  if (rollback) return [`REM ${c.cve}: ${c.rule}`, ...remove];
  return [
    `REM ${c.cve}: ${c.rule} (if it already exists, the first two lines remove it; a "not found" error there is harmless)`,
    ...remove,
    `${at} /+"preConditions.[name='${c.preCondition}',logicalGrouping='MatchAll']"`,
    ...c.conditions.map((x) => `${at} /+"preConditions.[name='${c.preCondition}'].[input='${x.input}',pattern='${x.pattern}']"`),
    `${at} /+"[name='${c.rule}',preCondition='${c.preCondition}']"`,
    `${at} /"[name='${c.rule}'].match.serverVariable:${c.serverVariable}" /"[name='${c.rule}'].match.pattern:${c.pattern}"`,
    `${at} /"[name='${c.rule}'].action.type:Rewrite" /"[name='${c.rule}'].action.value:${c.value}"`,
  ];
}

/**
 * PowerShell lines, after the shared preamble (elevation, $ErrorActionPreference = 'Stop', WebAdministration, URL
 * Rewrite present). Re-runnable: what an earlier run (or EOMT) added is cleared first, so a second run does not stop
 * on a duplicate precondition with the rule half-written.
 */
export function owaCspPowerShell(rollback: boolean): string[] {
  const c = OWA_CSP;
  const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
  // As the inbound rules do (generate.ts psRule): cleared only when there, by name.
  const clear = (v: string, name: string) => `if ((Get-WebConfiguration -PSPath $owa -Filter ${v}).name -eq ${q(name)}) { Clear-WebConfiguration -PSPath $owa -Filter ${v} }`;
  const lines = [
    `# ${c.cve}: ${c.rule}`,
    `$owa = ${q(`IIS:\\Sites\\${c.site.replace('/', '\\')}`)}`,
    `$outbound = ${q(SECTION)}`,
    `$cspRule = "$outbound/rule[@name='${c.rule}']"`,
    `$cspPre = "$outbound/preConditions/preCondition[@name='${c.preCondition}']"`,
    clear('$cspRule', c.rule),
    clear('$cspPre', c.preCondition),
  ];
  if (rollback) return lines;
  return [
    ...lines,
    `Add-WebConfigurationProperty -PSPath $owa -Filter "$outbound/preConditions" -Name '.' -Value @{ name = ${q(c.preCondition)}; logicalGrouping = 'MatchAll' }`,
    ...c.conditions.map((x) => `Add-WebConfigurationProperty -PSPath $owa -Filter $cspPre -Name '.' -Value @{ input = ${q(x.input)}; pattern = ${q(x.pattern)} }`),
    `Add-WebConfigurationProperty -PSPath $owa -Filter $outbound -Name '.' -Value @{ name = ${q(c.rule)}; preCondition = ${q(c.preCondition)} }`,
    `Set-WebConfigurationProperty -PSPath $owa -Filter "$cspRule/match" -Name serverVariable -Value ${q(c.serverVariable)}`,
    `Set-WebConfigurationProperty -PSPath $owa -Filter "$cspRule/match" -Name pattern -Value ${q(c.pattern)}`,
    `Set-WebConfigurationProperty -PSPath $owa -Filter "$cspRule/action" -Name type -Value 'Rewrite'`,
    `Set-WebConfigurationProperty -PSPath $owa -Filter "$cspRule/action" -Name value -Value ${q(c.value)}`,
  ];
}
