import { describe, expect, it } from 'vitest';
import { render, type Plan } from '../src/mitigations/generate.js';
import {
  PROXYLOGON_ATTACKS,
  PROXYLOGON_BENIGN,
  PROXYLOGON_EOMT,
  PROXYLOGON_KNOWN_GAPS,
  PROXYNOTSHELL_ATTACKS,
  PROXYNOTSHELL_BENIGN,
  PROXYNOTSHELL_COLLATERAL,
  PROXYNOTSHELL_URLREWRITE,
  PROXYNOTSHELL_VERSIONS,
  type LabelledRequest,
} from '../src/mitigations/catalogue.js';
import { SERVICE_MITIGATIONS } from '../src/mitigations/services.js';
import { evaluate, isSafePattern, rulesFromXml, urlDecode, type RewriteRule } from '../src/mitigations/urlrewrite.js';
import { parseXml, select, XmlError } from '../src/parsers/xml.js';
import { planFromOptions } from '../src/cli/commands/mitigate.js';

const outcomes = (rules: RewriteRule[], reqs: readonly LabelledRequest[]) =>
  Object.fromEntries(reqs.map((r) => [r.label, evaluate(rules, r).outcome]));
const allBlocked = (reqs: readonly LabelledRequest[]) => Object.fromEntries(reqs.map((r) => [r.label, 'blocked']));
const allPassed = (reqs: readonly LabelledRequest[]) => Object.fromEntries(reqs.map((r) => [r.label, 'passed']));
const version = (v: string) => PROXYNOTSHELL_VERSIONS.find((x) => x.version === v)!.rule;

const rulesOfXml = (xml: string) => rulesFromXml(select(parseXml(xml), ['system.webServer', 'rewrite', 'rules'])[0]);
const fullPlan: Plan = { urlRewrite: [PROXYLOGON_EOMT, PROXYNOTSHELL_URLREWRITE], services: [], rollback: false };

describe('ProxyLogon EOMT rules, evaluated', () => {
  it('abort every known attack cookie, including the Microsoft NSE probe', () => {
    expect(outcomes(PROXYLOGON_EOMT.rules, PROXYLOGON_ATTACKS)).toEqual(allBlocked(PROXYLOGON_ATTACKS));
    expect(evaluate(PROXYLOGON_EOMT.rules, PROXYLOGON_ATTACKS[0]).rule).toBe('X-AnonResource-Backend Abort - inbound');
    expect(evaluate(PROXYLOGON_EOMT.rules, PROXYLOGON_ATTACKS[2]).rule).toBe('X-BEResource Abort - inbound');
  });
  it('let normal OWA/ECP cookies through (X-BackEndCookie is not X-BEResource)', () => {
    expect(outcomes(PROXYLOGON_EOMT.rules, PROXYLOGON_BENIGN)).toEqual(allPassed(PROXYLOGON_BENIGN));
  });
  it('do not cover an X-BEResource value without "/" (documented caveat)', () => {
    expect(outcomes(PROXYLOGON_EOMT.rules, PROXYLOGON_KNOWN_GAPS)).toEqual(allPassed(PROXYLOGON_KNOWN_GAPS));
  });
  it('match the cookie case-insensitively, as IIS does by default', () => {
    expect(evaluate(PROXYLOGON_EOMT.rules, { uri: '/owa/', cookie: 'x-anonresource-backend=a' }).outcome).toBe('blocked');
  });
});

describe('ProxyNotShell rule versions, evaluated', () => {
  it('v1 is bypassed without a literal "@" and by URL encoding', () => {
    const got = outcomes([version('v1')], PROXYNOTSHELL_ATTACKS);
    expect(got['ProxyNotShell (GTSC shape)']).toBe('blocked');
    expect(got['no literal "@" (bypasses v1)']).toBe('passed');
    expect(got['URL-encoded "@" (bypasses v1)']).toBe('passed');
    expect(got['URL-encoded "P" (bypasses v1 and v2)']).toBe('passed');
  });
  it('v2 is bypassed by URL encoding', () => {
    const got = outcomes([version('v2')], PROXYNOTSHELL_ATTACKS);
    expect(got['no literal "@" (bypasses v1)']).toBe('blocked');
    expect(got['URL-encoded "P" (bypasses v1 and v2)']).toBe('passed');
    expect(got['URL-encoded ".json" and "P"']).toBe('passed');
  });
  it('v3 and the final rule block every attack variant', () => {
    expect(outcomes([version('v3')], PROXYNOTSHELL_ATTACKS)).toEqual(allBlocked(PROXYNOTSHELL_ATTACKS));
    expect(outcomes([version('final')], PROXYNOTSHELL_ATTACKS)).toEqual(allBlocked(PROXYNOTSHELL_ATTACKS));
  });
  it('no version blocks normal Autodiscover, OWA or Exchange Management Shell requests', () => {
    for (const v of PROXYNOTSHELL_VERSIONS) {
      expect(outcomes([v.rule], PROXYNOTSHELL_BENIGN), v.version).toEqual(allPassed(PROXYNOTSHELL_BENIGN));
    }
  });
  it('the final rule also blocks Autodiscover for a mailbox named "powershell" (documented trade-off)', () => {
    expect(outcomes([version('final')], PROXYNOTSHELL_COLLATERAL)).toEqual(allBlocked(PROXYNOTSHELL_COLLATERAL));
  });
  it('the bypassable flag in the data agrees with the evaluation', () => {
    for (const v of PROXYNOTSHELL_VERSIONS) {
      const blocked = PROXYNOTSHELL_ATTACKS.every((a) => evaluate([v.rule], a).outcome === 'blocked');
      expect(blocked, v.version).toBe(!v.bypassable);
    }
  });
  it('the two mitigations together do not disturb each other', () => {
    const rules = [...PROXYLOGON_EOMT.rules, ...PROXYNOTSHELL_URLREWRITE.rules];
    expect(outcomes(rules, [...PROXYLOGON_ATTACKS, ...PROXYNOTSHELL_ATTACKS])).toEqual(allBlocked([...PROXYLOGON_ATTACKS, ...PROXYNOTSHELL_ATTACKS]));
    expect(outcomes(rules, [...PROXYLOGON_BENIGN, ...PROXYNOTSHELL_BENIGN])).toEqual(allPassed([...PROXYLOGON_BENIGN, ...PROXYNOTSHELL_BENIGN]));
  });
});

describe('web.config output', () => {
  const xml = render(fullPlan, 'xml');
  it('is well-formed and parses back to exactly the rule data', () => {
    expect(rulesOfXml(xml)).toEqual([...PROXYLOGON_EOMT.rules, ...PROXYNOTSHELL_URLREWRITE.rules]);
  });
  it('carries the exact EOMT attribute values', () => {
    expect(xml).toContain('<rule name="X-AnonResource-Backend Abort - inbound" patternSyntax="ECMAScript" stopProcessing="false">');
    expect(xml).toContain('<add input="{HTTP_COOKIE}" pattern="(.*)X-BEResource=(.+)/(.+)~(.+)" />');
    expect(xml).toContain('<add input="{UrlDecode:{REQUEST_URI}}" pattern="(?=.*autodiscover)(?=.*powershell)" />');
    expect(xml.match(/<action type="AbortRequest" \/>/g)).toHaveLength(3);
  });
  it('the parsed rules still block the attacks', () => {
    const rules = rulesOfXml(xml);
    expect(outcomes(rules, PROXYNOTSHELL_ATTACKS)).toEqual(allBlocked(PROXYNOTSHELL_ATTACKS));
    expect(outcomes(rules, PROXYLOGON_ATTACKS)).toEqual(allBlocked(PROXYLOGON_ATTACKS));
  });
  it('rollback is a well-formed list of the rules to delete', () => {
    const rb = parseXml(render({ ...fullPlan, rollback: true }, 'xml'));
    expect(rb.children.map((d) => d.attrs.xpath)).toEqual([
      "/configuration/system.webServer/rewrite/rules/rule[@name='X-AnonResource-Backend Abort - inbound']",
      "/configuration/system.webServer/rewrite/rules/rule[@name='X-BEResource Abort - inbound']",
      "/configuration/system.webServer/rewrite/rules/rule[@name='PowerShell - inbound']",
    ]);
  });
  it('refuses service mitigations, which have no web.config form', () => {
    expect(() => render({ ...fullPlan, services: [SERVICE_MITIGATIONS[0]] }, 'xml')).toThrow(/not web.config settings/);
  });
});

describe('appcmd and PowerShell output', () => {
  it('appcmd adds each rule, its condition and action, and removes it on rollback', () => {
    const cmd = render(fullPlan, 'appcmd');
    expect(cmd).toContain(
      `%windir%\\system32\\inetsrv\\appcmd.exe set config "Default Web Site" -section:system.webServer/rewrite/rules /+"[name='X-BEResource Abort - inbound',patternSyntax='ECMAScript',stopProcessing='True']"`,
    );
    expect(cmd).toContain(`/+"[name='PowerShell - inbound'].conditions.[input='{UrlDecode:{REQUEST_URI}}',pattern='(?=.*autodiscover)(?=.*powershell)']"`);
    expect(cmd).toContain(`/[name='PowerShell - inbound'].action.type:"AbortRequest"`);
    const rb = render({ ...fullPlan, rollback: true }, 'appcmd');
    expect(rb.match(/ \/-"\[name='[^']+'\]"/g)).toHaveLength(3);
    expect(rb).not.toContain('/+"');
  });
  it('PowerShell mirrors EOMT (clear existing, add rule, condition, action) and rolls back', () => {
    const ps = render(fullPlan, 'powershell');
    expect(ps).toContain("#Requires -RunAsAdministrator");
    expect(ps).toContain("$name = 'X-AnonResource-Backend Abort - inbound'");
    expect(ps).toContain("pattern = '(.*)X-AnonResource-Backend(.*)'; ignoreCase = 'True'; negate = 'False' }");
    expect(ps).toContain("input = '{UrlDecode:{REQUEST_URI}}'");
    expect(ps.match(/Set-WebConfigurationProperty -PSPath \$site -Filter "\$filter\/action" -Name 'type' -Value 'AbortRequest'/g)).toHaveLength(3);
    const rb = render({ ...fullPlan, rollback: true }, 'powershell');
    expect(rb).toContain("foreach ($name in @('X-AnonResource-Backend Abort - inbound', 'X-BEResource Abort - inbound', 'PowerShell - inbound'))");
    expect(rb).not.toContain('Add-WebConfigurationProperty');
  });
  it('service mitigations stop Managed Availability first and explain their cost', () => {
    const plan = planFromOptions({ um: true, ecpApppool: true, oabApppool: true, format: 'powershell' });
    expect(plan.urlRewrite).toEqual([]);
    const ps = render(plan, 'powershell');
    expect(ps.indexOf("foreach ($svc in @('MSExchangeHM', 'MSExchangeHMRecovery'))")).toBeLessThan(ps.indexOf("'MSExchangeUM'"));
    expect(ps).toContain("Set-ItemProperty -Path 'IIS:\\AppPools\\MSExchangeECPAppPool' -Name autoStart -Value $false");
    expect(ps).toContain('HTTP 503 by design');
    expect(ps).toContain('Voicemail and other UM features stop working');
    const cmd = render(plan, 'appcmd');
    expect(cmd).toContain('sc.exe config MSExchangeUMCR start= disabled');
    expect(cmd).toContain('appcmd.exe set apppool /apppool.name:"MSExchangeOABAppPool" /autoStart:false /startMode:OnDemand');
    const rb = render({ ...plan, rollback: true }, 'powershell');
    expect(rb).toContain('Start-WebAppPool');
    expect(rb).toContain('if ($remaining.Count -eq 0)');
  });
  it('defaults to both URL Rewrite mitigations and nothing else', () => {
    const plan = planFromOptions({ format: 'xml' });
    expect(plan.urlRewrite.map((m) => m.id)).toEqual(['proxylogon', 'proxynotshell']);
    expect(plan.services).toEqual([]);
  });
});

describe('URL Rewrite helpers and XML reader', () => {
  it('UrlDecode decodes UTF-8 runs and leaves malformed escapes', () => {
    expect(urlDecode('/a%2Ejson?%40x/%50owershell')).toBe('/a.json?@x/Powershell');
    expect(urlDecode('%zz%4')).toBe('%zz%4');
  });
  it('evaluates evidence patterns in linear time; only what the linear matcher cannot do is unsafe', () => {
    expect(isSafePattern('(?=.*autodiscover)(?=.*powershell)')).toBe(true);
    expect(isSafePattern('(.*)X-BEResource=(.+)/(.+)~(.+)')).toBe(true);
    expect(isSafePattern('(a+)+$')).toBe(true);
    expect(isSafePattern('((ab)*c)*')).toBe(true);
    expect(isSafePattern('(?:X-BEResource|.|.)*!')).toBe(true);
    expect(isSafePattern('(a)\\1')).toBe(false);
    expect(isSafePattern('(?<=a)b')).toBe(false);
  });
  it('rejects malformed or hostile XML', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(XmlError);
    expect(() => parseXml('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')).toThrow(/DOCTYPE/);
    expect(() => parseXml('<a x="1" x="2"/>')).toThrow(/duplicate/);
    expect(() => parseXml('<a>&</a>')).toThrow(/bare/);
    expect(() => parseXml('<a/><b/>')).toThrow(/more than one root/);
    expect(() => parseXml('<a x="&toString;"/>')).toThrow(/unknown entity/);
    expect(parseXml('\ufeff<?xml version="1.0"?><a q="&lt;&#x41;"><!-- c --><b/></a>').attrs.q).toBe('<A');
  });
});
