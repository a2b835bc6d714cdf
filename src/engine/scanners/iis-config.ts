// IIS configuration (web.config, applicationHost.config): were Microsoft's interim mitigations in place?
// URL Rewrite rules are evaluated (src/mitigations/state.ts); app-pool autoStart is read for the
// ECP/OAB mitigations. Emits `mitigation` facts and one info/exposure finding per mitigation, stated plainly.
import { decodeByBom } from '../../parsers/text-encoding.js';
import { APP_POOL_STATES, MITIGATION_RULES, OWA_CSP_STATES, URL_REWRITE_STATES } from '../../rules/mitigation-state.js';
import { gradedFinding, stateGrade } from '../../rules/finding.js';
import type { RuleMeta } from '../../rules/types.js';
import type { Fact, SourceRef } from '../../model.js';
import { readAll, type EvidenceFile } from '../../evidence/file.js';
import { familyState, stateFact, stateSentence, type Family, type FamilyState } from '../../mitigations/state.js';
import { rulesFromXml, type RewriteRule } from '../../mitigations/urlrewrite.js';
import { outboundFromXml, owaCspSentence, owaCspState, type OutboundConfig } from '../../mitigations/owa-csp.js';
import { parseXml, select, XML_LIMITS, XmlError, type XmlElement } from '../../parsers/xml.js';
import { emptyResult, type FileScanResult, type Scanner } from '../types.js';

const WEB_CONFIG = 'iis-web-config';
const APPHOST = 'iis-applicationhost';
const FRONT_END_SITE = 'default web site';

/** One set of inbound rules and the URL path it applies to. */
interface RuleScope {
  scope: string;
  rules: RewriteRule[];
  lines: Map<string, number>;
  /** The front-end site root: report "not applied" here even when there are no rules. */
  siteRoot: boolean;
}

function scopeOf(rulesEl: XmlElement, scope: string, siteRoot: boolean): RuleScope {
  const lines = new Map(rulesEl.children.filter((c) => c.name === 'rule').map((c) => [c.attrs.name ?? '', c.line]));
  return { scope, rules: rulesFromXml(rulesEl), lines, siteRoot };
}

const WWWROOT = 'inetpub/wwwroot/';

/** `inetpub/wwwroot/web.config` is the Default Web Site root; `…/wwwroot/x/web.config` or `HttpProxy/<vdir>/…` a vdir. */
function webConfigScope(rel: string): { scope: string; siteRoot: boolean } {
  const lower = rel.toLowerCase();
  // indexOf, not /(?:^|\/)inetpub\/wwwroot\/(.*)web\.config$/: that retried `.*` from every repetition (quadratic).
  const root = lower.startsWith(WWWROOT) ? 0 : lower.indexOf(`/${WWWROOT}`) + 1;
  if (root >= 0 && (root > 0 || lower.startsWith(WWWROOT)) && lower.endsWith('web.config') && lower.length - 10 >= root + WWWROOT.length) {
    const inner = lower.slice(root + WWWROOT.length, lower.length - 10);
    return { scope: `/${inner}`, siteRoot: inner === '' };
  }
  const vdir = /\/frontend\/httpproxy\/([^/]+)\/web\.config$/.exec(lower);
  return { scope: vdir ? `/${vdir[1]}/` : '/', siteRoot: false };
}

function webConfigScopes(root: XmlElement, rel: string): RuleScope[] {
  const { scope, siteRoot } = webConfigScope(rel);
  const direct = select(root, ['system.webServer', 'rewrite', 'rules']);
  const out = direct.map((el) => scopeOf(el, scope, siteRoot));
  if (siteRoot && out.length === 0) out.push({ scope, rules: [], lines: new Map(), siteRoot });
  for (const loc of select(root, ['location'])) {
    const sub = (loc.attrs.path ?? '').replace(/^\/+|\/+$/g, '');
    for (const el of select(loc, ['system.webServer', 'rewrite', 'rules'])) out.push(scopeOf(el, sub ? `${scope}${sub}/` : scope, false));
  }
  return out;
}

/** applicationHost.config: server-wide global rules, and rules set for the front-end site (Default Web Site). */
function appHostScopes(root: XmlElement): RuleScope[] {
  const out = select(root, ['system.webServer', 'rewrite', 'globalRules']).map((el) => scopeOf(el, '/', false));
  for (const loc of select(root, ['location'])) {
    const path = (loc.attrs.path ?? '').replace(/\\/g, '/');
    const [site, ...rest] = path.split('/');
    if (site.toLowerCase() !== FRONT_END_SITE) continue;
    const scope = rest.length > 0 ? `/${rest.join('/')}/` : '/';
    for (const el of select(loc, ['system.webServer', 'rewrite', 'rules'])) out.push(scopeOf(el, scope, false));
  }
  return out;
}

const FAMILY_RULE = { proxylogon: MITIGATION_RULES['MIT-PL-URLREWRITE'], proxynotshell: MITIGATION_RULES['MIT-PNS-URLREWRITE'] } satisfies Record<Family, RuleMeta>;

function familyOutputs(s: FamilyState, rs: RuleScope, file: EvidenceFile, out: FileScanResult): void {
  const firstLine = s.rules.map((r) => rs.lines.get(r.name)).find((l) => l !== undefined);
  const source: SourceRef = firstLine !== undefined ? { path: file.rel, line: firstLine } : { path: file.rel };
  const where = rs.scope === '/' ? file.rel : `${file.rel} (scope ${rs.scope})`;
  out.facts.push({ kind: 'mitigation', value: stateFact(s), source, time: null, origin: 'URL Rewrite rules' });
  const rule = FAMILY_RULE[s.family];
  out.findings.push(gradedFinding(rule, stateGrade(rule.id, s.status, URL_REWRITE_STATES[s.status].severity), 'Files', {
    time: null,
    client_ip: null,
    source,
    summary: stateSentence(s, where),
    evidence: {
      file: file.rel,
      scope: rs.scope,
      state: s.status,
      version: s.label,
      rules: s.rules.map((r) => r.name),
      blocked: s.blocked,
      passed: s.passed,
      collateral: s.collateral,
    },
  }));
}

const POOLS = [
  { pool: 'MSExchangeECPAppPool', id: 'ecp-apppool', rule: MITIGATION_RULES['MIT-ECP-APPPOOL'], what: 'ECP' },
  { pool: 'MSExchangeOABAppPool', id: 'oab-apppool', rule: MITIGATION_RULES['MIT-OAB-APPPOOL'], what: 'OAB' },
];

/** The ECP/OAB app-pool mitigations: autoStart=false keeps the pool from starting (the March 2021 stop-gap). */
function appPoolOutputs(root: XmlElement, file: EvidenceFile, out: FileScanResult): void {
  const pools = select(root, ['system.applicationHost', 'applicationPools']);
  const dflt = pools.flatMap((p) => select(p, ['applicationPoolDefaults']))[0]?.attrs.autoStart ?? 'true';
  const added = pools.flatMap((x) => select(x, ['add']));
  for (const p of POOLS) {
    const el = added.find((a) => (a.attrs.name ?? '').toLowerCase() === p.pool.toLowerCase());
    if (!el) continue;
    const autoStart = (el.attrs.autoStart ?? dflt).toLowerCase() !== 'false';
    const startMode = el.attrs.startMode ?? 'OnDemand';
    const state = autoStart ? 'not applied' : 'applied';
    const source = { path: file.rel, line: el.line };
    const fact: Fact = { kind: 'mitigation', value: `${p.id}: autoStart=${autoStart}, startMode=${startMode} (${state})`, source, time: null, origin: 'applicationHost.config' };
    out.facts.push(fact);
    out.findings.push(gradedFinding(p.rule, stateGrade(p.rule.id, state, APP_POOL_STATES[state].severity), 'Files', {
      time: null,
      client_ip: null,
      source,
      summary: autoStart
        ? `${p.what} app-pool mitigation: NOT APPLIED in ${file.rel} (${p.pool} autoStart=true). This matters only while the server lacks the March 2021 Security Update.`
        : `${p.what} app-pool mitigation: APPLIED in ${file.rel} (${p.pool} autoStart=false, startMode=${startMode}): the pool does not start, so ${p.what} is unavailable by design. Whether it was also stopped at runtime is not visible offline.`,
      evidence: { file: file.rel, pool: p.pool, autoStart, startMode, state },
    }));
  }
}

const EXCHANGE_SITES = new Set([FRONT_END_SITE, 'exchange back end']);
const EP_PATH = ['system.webServer', 'security', 'authentication', 'windowsAuthentication', 'extendedProtection'];

/**
 * applicationHost.config settings the configuration controls judge (src/rules/config-exposure.ts): the Exchange
 * sites and their applications (`iissite`, `iisapp`), Extended Protection for every `<location>` of those sites and
 * the server-wide default (`ep <path>|<tokenChecking, '' when not set>|<ipSecurity allowUnlisted>`: a vdir without
 * a setting inherits, IIS's default is None), and every `globalModules` entry.
 */
function appHostConfigFacts(root: XmlElement, file: EvidenceFile): Fact[] {
  const fact = (value: string, line?: number): Fact => ({ kind: 'config', value, source: line === undefined ? { path: file.rel } : { path: file.rel, line }, time: null, origin: 'applicationHost.config' });
  const out: Fact[] = [fact('source applicationhost')];
  for (const site of select(root, ['system.applicationHost', 'sites', 'site'])) {
    const name = site.attrs.name ?? '';
    if (!EXCHANGE_SITES.has(name.toLowerCase())) continue;
    out.push(fact(`iissite ${name}`, site.line));
    for (const app of select(site, ['application'])) {
      const path = (app.attrs.path ?? '').replace(/\\/g, '/');
      if (path !== '/') out.push(fact(`iisapp ${name}${path.startsWith('/') ? '' : '/'}${path}`, app.line));
    }
  }
  const serverWide = select(root, EP_PATH)[0];
  if (serverWide) out.push(fact(`ep |${serverWide.attrs.tokenChecking ?? ''}|`, serverWide.line));
  for (const loc of select(root, ['location'])) {
    const path = (loc.attrs.path ?? '').replace(/\\/g, '/');
    const ep = select(loc, EP_PATH)[0];
    const ip = select(loc, ['system.webServer', 'security', 'ipSecurity'])[0];
    if (!EXCHANGE_SITES.has(path.split('/')[0].toLowerCase()) && !ep && !ip) continue;
    const token = ep?.attrs.tokenChecking ?? '';
    out.push(fact(`ep ${path}|${token}|${ip?.attrs.allowUnlisted ?? ''}`, (ep ?? ip ?? loc).line));
  }
  for (const m of select(root, ['system.webServer', 'globalModules']).flatMap((g) => select(g, ['add']))) {
    out.push(fact(`iismodule ${m.attrs.name ?? ''}|${m.attrs.image ?? ''}`, m.line));
  }
  return out;
}

/** Outbound rules that reach OWA: the OWA vdir web.config, or Default Web Site/owa in applicationHost.config. */
function owaScopes(root: XmlElement, format: string, rel: string): { cfg: OutboundConfig; scope: string }[] {
  if (format === WEB_CONFIG) {
    const { scope } = webConfigScope(rel);
    const cfg = outboundFromXml(root);
    return scope === '/owa/' || cfg.rules.length > 0 ? [{ cfg, scope }] : [];
  }
  return select(root, ['location'])
    .filter((loc) => /^default web site\/owa\/?$/i.test((loc.attrs.path ?? '').replace(/\\/g, '/')))
    .map((loc) => ({ cfg: outboundFromXml(loc), scope: '/owa/' }));
}

function owaCspOutputs(cfg: OutboundConfig, scope: string, file: EvidenceFile, out: FileScanResult): void {
  const s = owaCspState(cfg);
  const meta = MITIGATION_RULES['MIT-OWA-CSP'];
  const source: SourceRef = { path: file.rel };
  const where = scope === '/' ? file.rel : `${file.rel} (scope ${scope})`;
  out.facts.push({ kind: 'mitigation', value: `owa-csp-cve-2026-42897: ${s.status}`, source, time: null, origin: 'URL Rewrite outbound rules' });
  out.findings.push(gradedFinding(meta, stateGrade(meta.id, s.status, OWA_CSP_STATES[s.status].severity), 'Files', {
    time: null,
    client_ip: null,
    source,
    summary: owaCspSentence(s, where),
    evidence: { file: file.rel, scope, state: s.status, rules: s.rules, covered: s.covered.length, missed: s.missed, collateral: s.collateral },
  }));
}

/** IIS's own backups of applicationHost.config (inetpub\history\CFGHISTORY_*), kept in every copy of inetpub. */
const CONFIG_HISTORY = /(?:^|\/)history\/cfghistory_[^/]*\/applicationhost\.config$/i;

function looksXml(head: Buffer): boolean {
  return /^\s*</.test(decodeByBom(head.subarray(0, 512)));
}

export const iisConfigScanner: Scanner = {
  name: 'iis-config',
  classify(file, head) {
    const base = (file.rel.split('/').pop() ?? '').toLowerCase();
    const format = base === 'web.config' ? WEB_CONFIG : base === 'applicationhost.config' ? APPHOST : null;
    if (format === null) return null;
    if (file.size > XML_LIMITS.maxBytes) return { skip: 'IIS configuration file larger than 32 MiB: not parsed' };
    if (!looksXml(head)) return { skip: 'named like an IIS configuration file but not XML: not parsed' };
    return format;
  },
  async scan(file, format) {
    const out = emptyResult();
    const buf = await readAll(file);
    out.bytes = buf.length;
    let root: XmlElement;
    try {
      root = parseXml(decodeByBom(buf));
    } catch (err) {
      if (!(err instanceof XmlError)) throw err;
      out.skipped.push({ path: file.rel, reason: `IIS configuration is not well-formed XML (IIS would reject it too): ${err.message}`, line: err.line });
      return out;
    }
    if (format === APPHOST && CONFIG_HISTORY.test(file.rel)) {
      // An earlier state of the file: its rules and pools are not the server's now. Its Extended Protection settings
      // stay facts, where the live file decides when the evidence holds it (rules/config-exposure.ts epSettings).
      out.facts.push(...appHostConfigFacts(root, file));
      out.skipped.push({ path: file.rel, reason: "IIS's configuration history (an earlier copy of applicationHost.config): its mitigations are not judged as the server's current ones" });
      return out;
    }
    const scopes = format === APPHOST ? appHostScopes(root) : webConfigScopes(root, file.rel);
    for (const rs of scopes) {
      for (const family of ['proxylogon', 'proxynotshell'] as const) {
        const s = familyState(family, rs.rules, rs.scope);
        if (s.rules.length > 0 || rs.siteRoot) familyOutputs(s, rs, file, out);
      }
    }
    if (format === APPHOST) {
      appPoolOutputs(root, file, out);
      out.facts.push(...appHostConfigFacts(root, file));
    }
    for (const o of owaScopes(root, format, file.rel)) owaCspOutputs(o.cfg, o.scope, file, out);
    return out;
  },
};
