// Renders mitigations as web.config XML, appcmd/sc.exe command lines or a PowerShell script, each with rollback.
// Every value comes from this package's own data; the quoting helpers still refuse characters that would break
// out of their quoting, so a future data edit cannot silently produce a wrong command.
import { isDeepStrictEqual } from 'node:util';
import { DEFAULT_SITE, SITE_WEB_CONFIG, type UrlRewriteMitigation } from './catalogue.js';
import { HEALTH_NOTE, HEALTH_SERVICES, SERVICE_MITIGATIONS, type ServiceMitigation } from './services.js';
import { compilePattern, rulePatterns, rulesFromXml, type RewriteRule } from './urlrewrite.js';
import { owaCspAppcmd, owaCspComments, owaCspPowerShell, owaCspXml } from './owa-csp.js';
import { parseXml, select, xmlAttr } from '../parsers/xml.js';

export const FORMATS = ['xml', 'appcmd', 'powershell'] as const;
export type Format = (typeof FORMATS)[number];

export interface Plan {
  urlRewrite: UrlRewriteMitigation[];
  services: ServiceMitigation[];
  /** CVE-2026-42897's outbound rule on OWA's Content-Security-Policy (owa-csp.ts). */
  owaCsp?: boolean;
  rollback: boolean;
}

const APPCMD = '%windir%\\system32\\inetsrv\\appcmd.exe';
const RULES_SECTION = 'system.webServer/rewrite/rules';

/** Throws unless every pattern of every rule compiles as a JS (≈ IIS ECMAScript) regex. */
export function assertRulesValid(rules: readonly RewriteRule[]): void {
  for (const r of rules) {
    for (const p of rulePatterns(r)) {
      try {
        compilePattern(p, r.patternSyntax, true);
      } catch (err) {
        throw new Error(`rule "${r.name}": pattern ${p} does not compile: ${(err as Error).message}`);
      }
    }
  }
}

function psQuote(s: string): string {
  if (/[\u2018-\u201b\r\n]/.test(s)) throw new Error(`cannot single-quote for PowerShell: ${s}`);
  return `'${s.replace(/'/g, "''")}'`;
}

const psList = (items: readonly string[]): string => `@(${items.map(psQuote).join(', ')})`;

/** appcmd values sit inside '…' inside "…" on a cmd.exe line: no quotes, no %, no line breaks. */
function appcmdValue(s: string): string {
  if (/['"%\r\n]/.test(s)) throw new Error(`cannot quote for appcmd: ${s}`);
  return s;
}

const capital = (b: boolean): string => (b ? 'True' : 'False');
const allRules = (plan: Plan): RewriteRule[] => plan.urlRewrite.flatMap((m) => m.rules);

function commentLines(prefix: string, plan: Plan): string[] {
  const out: string[] = [];
  for (const m of plan.urlRewrite) {
    out.push(`${m.title} [${m.cves.join(', ')}]`, `  Source: ${m.source}`, ...m.notes.map((n) => `  - ${n}`));
  }
  if (plan.owaCsp) out.push(...owaCspComments());
  if (plan.services.length > 0) out.push(HEALTH_NOTE);
  for (const s of plan.services) out.push(`${s.title} [${s.cves.join(', ')}]`, `  Trade-off: ${s.tradeOff}`);
  out.push(plan.rollback ? 'ROLLBACK: removes the mitigations listed above.' : 'Run elevated on each Exchange server; roll back once patched.');
  return out.map((l) => `${prefix}${l}`);
}

// ---- web.config XML -------------------------------------------------------------------------------------------

function ruleXml(r: RewriteRule): string[] {
  const cond = r.conditions.map((c) => `            <add input="${xmlAttr(c.input)}" pattern="${xmlAttr(c.pattern)}" />`);
  return [
    `        <rule name="${xmlAttr(r.name)}" patternSyntax="${r.patternSyntax}" stopProcessing="${String(r.stopProcessing)}">`,
    `          <match url="${xmlAttr(r.matchUrl)}" />`,
    '          <conditions>',
    ...cond,
    '          </conditions>',
    `          <action type="${xmlAttr(r.action)}" />`,
    '        </rule>',
  ];
}

const xmlComment = (lines: string[]): string => `<!--\n${lines.map((l) => l.replace(/--/g, '- -')).join('\n')}\n-->`;

function renderXml(plan: Plan): string {
  if (plan.services.length > 0) {
    throw new Error('UM and app-pool mitigations are not web.config settings: use --format powershell or appcmd');
  }
  const header = ['<?xml version="1.0" encoding="UTF-8"?>', xmlComment(commentLines('', plan))];
  if (plan.rollback) {
    const deletes = allRules(plan).map(
      (r) => `  <delete xpath="/configuration/${RULES_SECTION}/rule[@name='${xmlAttr(r.name)}']" />`,
    );
    return [
      ...header,
      xmlComment([`Delete these <rule> elements from ${SITE_WEB_CONFIG}; if <rules> is then empty, delete <rewrite>.`]),
      `<rollback file="${xmlAttr(SITE_WEB_CONFIG)}">`,
      ...deletes,
      '</rollback>',
      '',
    ].join('\n');
  }
  return [
    ...header,
    xmlComment([`Merge into ${SITE_WEB_CONFIG} (site "${DEFAULT_SITE}"), under configuration/system.webServer.`]),
    '<configuration>',
    '  <system.webServer>',
    '    <rewrite>',
    '      <rules>',
    ...allRules(plan).flatMap(ruleXml),
    '      </rules>',
    '    </rewrite>',
    '  </system.webServer>',
    '</configuration>',
    '',
  ].join('\n');
}

/** Parses generated XML back and checks it says exactly what the data says. */
function checkXmlRoundTrip(xml: string, plan: Plan): void {
  const root = parseXml(xml);
  if (plan.rollback) return;
  const rulesEl = select(root, ['system.webServer', 'rewrite', 'rules'])[0];
  const parsed = rulesEl ? rulesFromXml(rulesEl) : [];
  if (!isDeepStrictEqual(parsed, allRules(plan))) throw new Error('generated web.config does not round-trip');
}

// ---- appcmd / sc.exe ------------------------------------------------------------------------------------------

function appcmdRule(r: RewriteRule, rollback: boolean): string[] {
  const base = `${APPCMD} set config "${DEFAULT_SITE}" -section:${RULES_SECTION}`;
  const sel = `[name='${appcmdValue(r.name)}']`;
  const remove = `${base} /-"${sel}"`;
  if (rollback) return [`REM Rule: ${r.name}`, remove];
  const conds = r.conditions.map(
    (c) => `${base} /+"${sel}.conditions.[input='${appcmdValue(c.input)}',pattern='${appcmdValue(c.pattern)}']"`,
  );
  return [
    `REM Rule: ${r.name} (if it already exists, the first line removes it; a "not found" error there is harmless)`,
    remove,
    `${base} /+"[name='${appcmdValue(r.name)}',patternSyntax='${r.patternSyntax}',stopProcessing='${capital(r.stopProcessing)}']"`,
    `${base} /${sel}.match.url:"${appcmdValue(r.matchUrl)}"`,
    ...conds,
    `${base} /${sel}.action.type:"${appcmdValue(r.action)}"`,
  ];
}

function appcmdService(s: ServiceMitigation, rollback: boolean): string[] {
  const svc = s.services.flatMap((n) =>
    rollback ? [`sc.exe config ${n} start= auto`, `sc.exe start ${n}`] : [`sc.exe stop ${n}`, `sc.exe config ${n} start= disabled`],
  );
  const pools = s.appPools.map(appcmdValue).flatMap((p) =>
    rollback
      ? [`${APPCMD} set apppool /apppool.name:"${p}" /autoStart:true`, `${APPCMD} start apppool /apppool.name:"${p}"`]
      : [`${APPCMD} set apppool /apppool.name:"${p}" /autoStart:false /startMode:OnDemand`, `${APPCMD} stop apppool /apppool.name:"${p}"`],
  );
  return [`REM ${s.title}`, ...svc, ...pools];
}

function healthAppcmd(rollback: boolean): string[] {
  if (rollback) {
    return [
      'REM Re-enable Managed Availability only if no other UM/ECP/OAB mitigation remains on this server:',
      ...HEALTH_SERVICES.map((n) => `REM   sc.exe config ${n} start= auto  &  sc.exe start ${n}`),
    ];
  }
  return ['REM Prerequisite: stop Managed Availability (MSExchangeHMRecovery exists on 2016/2019 only)', ...HEALTH_SERVICES.flatMap((n) => [`sc.exe stop ${n}`, `sc.exe config ${n} start= disabled`])];
}

function renderAppcmd(plan: Plan): string {
  const lines = ['@echo off', ...commentLines('REM ', plan)];
  for (const r of allRules(plan)) lines.push('', ...appcmdRule(r, plan.rollback));
  if (plan.owaCsp) lines.push('', ...owaCspAppcmd(plan.rollback));
  if (plan.services.length > 0 && !plan.rollback) lines.push('', ...healthAppcmd(false));
  for (const s of plan.services) lines.push('', ...appcmdService(s, plan.rollback));
  if (plan.services.length > 0 && plan.rollback) lines.push('', ...healthAppcmd(true));
  return `${lines.join('\r\n')}\r\n`;
}

// ---- PowerShell -----------------------------------------------------------------------------------------------

function psRule(r: RewriteRule): string[] {
  const conds = r.conditions.map(
    (c) =>
      `Add-WebConfigurationProperty -PSPath $site -Filter "$filter/conditions" -Name '.' -Value @{ input = ${psQuote(c.input)}; ` +
      `matchType = '0'; pattern = ${psQuote(c.pattern)}; ignoreCase = '${capital(c.ignoreCase)}'; negate = '${capital(c.negate)}' }`,
  );
  return [
    `# Rule: ${r.name}`,
    `$name = ${psQuote(r.name)}`,
    `$filter = "{0}/rule[@name='{1}']" -f $root, $name`,
    'if ((Get-WebConfiguration -Filter $filter -PSPath $site).name -eq $name) { Clear-WebConfiguration -Filter $filter -PSPath $site }',
    `Add-WebConfigurationProperty -PSPath $site -Filter $root -Name '.' -Value @{ name = $name; patternSyntax = 'Regular Expressions'; stopProcessing = '${capital(r.stopProcessing)}' }`,
    `Set-WebConfigurationProperty -PSPath $site -Filter "$filter/match" -Name 'url' -Value ${psQuote(r.matchUrl)}`,
    ...conds,
    `Set-WebConfigurationProperty -PSPath $site -Filter "$filter/action" -Name 'type' -Value ${psQuote(r.action)}`,
  ];
}

function psRulesRollback(rules: RewriteRule[]): string[] {
  return [
    `foreach ($name in ${psList(rules.map((r) => r.name))}) {`,
    `    $filter = "{0}/rule[@name='{1}']" -f $root, $name`,
    '    if ((Get-WebConfiguration -Filter $filter -PSPath $site).name -eq $name) { Clear-WebConfiguration -Filter $filter -PSPath $site }',
    '}',
    '# No rules left: remove the empty section too (as EOMT does).',
    "if ($null -eq (Get-WebConfiguration -Filter \"$root/rule\" -PSPath $site -Recurse)) { Clear-WebConfiguration -PSPath $site -Filter $root }",
  ];
}

function psService(s: ServiceMitigation, rollback: boolean): string[] {
  const svc = s.services.map((n) =>
    rollback
      ? `if (Get-Service -Name ${psQuote(n)} -ErrorAction SilentlyContinue) { Set-Service -Name ${psQuote(n)} -StartupType Automatic; Start-Service -Name ${psQuote(n)} }`
      : `if (Get-Service -Name ${psQuote(n)} -ErrorAction SilentlyContinue) { Stop-Service -Name ${psQuote(n)} -Force; Set-Service -Name ${psQuote(n)} -StartupType Disabled }`,
  );
  const pools = s.appPools.flatMap((p) => {
    const path = psQuote(`IIS:\\AppPools\\${p}`);
    return rollback
      ? [`Set-ItemProperty -Path ${path} -Name autoStart -Value $true`, `Start-WebAppPool -Name ${psQuote(p)}`]
      : [
          `Set-ItemProperty -Path ${path} -Name startMode -Value 'OnDemand'`,
          `Set-ItemProperty -Path ${path} -Name autoStart -Value $false`,
          `if ((Get-WebAppPoolState -Name ${psQuote(p)}).Value -ne 'Stopped') { Stop-WebAppPool -Name ${psQuote(p)} }`,
        ];
  });
  return [`# ${s.title}`, ...svc, ...pools];
}

function psHealth(rollback: boolean): string[] {
  const names = psList(HEALTH_SERVICES);
  if (!rollback) {
    return [
      '# Prerequisite: stop Managed Availability so it does not undo the changes below',
      `foreach ($svc in ${names}) { if (Get-Service -Name $svc -ErrorAction SilentlyContinue) { Stop-Service -Name $svc -Force; Set-Service -Name $svc -StartupType Disabled } }`,
    ];
  }
  return [
    '# Re-enable Managed Availability only when no UM/ECP/OAB mitigation remains',
    '$remaining = @()',
    `foreach ($svc in ${psList(SERVICE_MITIGATIONS.flatMap((m) => m.services))}) { $s = Get-Service -Name $svc -ErrorAction SilentlyContinue; if ($s -and $s.StartType -eq 'Disabled') { $remaining += $svc } }`,
    `foreach ($pool in ${psList(SERVICE_MITIGATIONS.flatMap((m) => m.appPools))}) { $p = Get-Item -Path "IIS:\\AppPools\\$pool" -ErrorAction SilentlyContinue; if ($p -and $p.autoStart -eq $false) { $remaining += $pool } }`,
    'if ($remaining.Count -eq 0) {',
    `    foreach ($svc in ${names}) { if (Get-Service -Name $svc -ErrorAction SilentlyContinue) { Set-Service -Name $svc -StartupType Automatic; Start-Service -Name $svc } }`,
    '} else {',
    "    Write-Warning (\"Managed Availability left disabled; still mitigated: \" + ($remaining -join ', '))",
    '}',
  ];
}

/** One preamble for every selection: elevated, stop at the first error (no half-applied state), URL Rewrite present. */
function renderPowerShell(plan: Plan): string {
  const lines = [
    '#Requires -Version 5.1',
    '#Requires -RunAsAdministrator',
    ...commentLines('# ', plan),
    "$ErrorActionPreference = 'Stop'",
    'Import-Module WebAdministration',
  ];
  const rules = allRules(plan);
  if (!plan.rollback && (rules.length > 0 || plan.owaCsp)) {
    lines.push(
      "if (-not (Test-Path -LiteralPath (Join-Path $env:windir 'System32\\inetsrv\\rewrite.dll'))) { throw 'IIS URL Rewrite module is not installed (needed for these rules)' }",
    );
  }
  if (rules.length > 0) {
    lines.push(
      '',
      `$site = ${psQuote(`IIS:\\Sites\\${DEFAULT_SITE}`)}`,
      `$root = ${psQuote(RULES_SECTION)}`,
    );
    if (plan.rollback) lines.push(...psRulesRollback(rules));
    else for (const r of rules) lines.push('', ...psRule(r));
  }
  if (plan.owaCsp) lines.push('', ...owaCspPowerShell(plan.rollback));
  if (plan.services.length > 0 && !plan.rollback) lines.push('', ...psHealth(false));
  for (const s of plan.services) lines.push('', ...psService(s, plan.rollback));
  if (plan.services.length > 0 && plan.rollback) lines.push('', ...psHealth(true));
  return `${lines.join('\r\n')}\r\n`;
}

/** Renders a plan in one format after validating the rules; XML output is parsed back before it is returned. */
export function render(plan: Plan, format: Format): string {
  assertRulesValid(allRules(plan));
  if (format === 'xml') {
    // The OWA rule lives in another file (owa\web.config): its own document after the site's, when there is one.
    const csp = plan.owaCsp ? owaCspXml(plan.rollback) : '';
    if (csp && plan.urlRewrite.length === 0 && plan.services.length === 0) return csp;
    const xml = renderXml({ ...plan, owaCsp: false });
    checkXmlRoundTrip(xml, plan);
    return `${xml}${csp}`;
  }
  return format === 'appcmd' ? renderAppcmd(plan) : renderPowerShell(plan);
}
