// CVE-2026-42897: the EOMT outbound CSP rule, rendered, read back from web.config and judged by replaying OWA
// responses (SPA shell pages must get script-src-attr 'none'; logon, service calls and scripts must not change).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scan } from '../src/engine/scan.js';
import { parseXml } from '../src/parsers/xml.js';
import { render, type Format } from '../src/mitigations/generate.js';
import { OWA_OTHER_RESPONSES, OWA_SPA_RESPONSES, outboundFromXml, owaCspState, replay } from '../src/mitigations/owa-csp.js';
import { planFromOptions } from '../src/cli/commands/mitigate.js';

/** `exhunt mitigate --owa-csp [--rollback] --format F`. */
const renderOwaCsp = (format: Format, rollback: boolean) => render(planFromOptions({ owaCsp: true, rollback, format }), format);
const EOMT_XML = renderOwaCsp('xml', false);
const cfgOf = (xml: string) => outboundFromXml(parseXml(xml));

// An OWA vdir web.config as Exchange ships it (abridged) with outbound rules in Microsoft's documented schema.
function owaWebConfig(outbound: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <system.webServer>
    <httpProtocol><customHeaders><add name="X-Content-Type-Options" value="nosniff" /></customHeaders></httpProtocol>
    <rewrite>
      <outboundRules>
${outbound}
      </outboundRules>
    </rewrite>
  </system.webServer>
</configuration>`;
}
const PRE = `<preConditions>
  <preCondition name="EOMT OWA SPA HTML shell - precondition" logicalGrouping="MatchAll">
    <add input="{RESPONSE_CONTENT_TYPE}" pattern="^text/html" />
    <add input="{REQUEST_URI}" pattern="^/owa/?($|\\?|default\\.aspx|projection\\.aspx|readingPane\\.aspx|popout\\.aspx)" />
  </preCondition>
</preConditions>`;

describe('CVE-2026-42897 OWA CSP rule replayed against OWA responses', () => {
  it('the rendered EOMT rule adds the directive to every SPA page and to nothing else', () => {
    const cfg = cfgOf(EOMT_XML);
    for (const r of OWA_SPA_RESPONSES) expect(replay(cfg, r), r.label).toMatch(/script-src-attr 'none'$/);
    expect(replay(cfg, OWA_SPA_RESPONSES[1])).toBe("frame-ancestors 'self'; script-src-attr 'none'");
    for (const r of OWA_OTHER_RESPONSES) expect(replay(cfg, r), r.label).toBe(r.csp);
    expect(owaCspState(cfg)).toMatchObject({ status: 'applied', collateral: [], rules: ['EOMT OWA CSP - outbound'] });
  });

  it('an EEMS-style name without spaces is judged by behaviour: applied', () => {
    const xml = EOMT_XML.replaceAll('EOMT OWA CSP - outbound', 'EOMTOWACSP-outbound').replaceAll('EOMT OWA SPA HTML shell - precondition', 'EOMTOWASPAHTMLshell-precondition');
    expect(owaCspState(cfgOf(xml)).status).toBe('applied');
  });

  it('present but disabled', () => {
    const xml = EOMT_XML.replace('<rule name="EOMT OWA CSP - outbound"', '<rule name="EOMT OWA CSP - outbound" enabled="false"');
    expect(owaCspState(cfgOf(xml)).status).toBe('disabled');
  });

  it('a rule of the same name that does something else', () => {
    const xml = owaWebConfig(`${PRE}
<rule name="EOMT OWA CSP - outbound" preCondition="EOMT OWA SPA HTML shell - precondition">
  <match serverVariable="RESPONSE_X_Frame_Options" pattern=".*" />
  <action type="Rewrite" value="SAMEORIGIN" />
</rule>`);
    const s = owaCspState(cfgOf(xml));
    expect(s.status).toBe('same name, different behaviour');
  });

  it('a precondition that never matches (wrong path) leaves every page uncovered', () => {
    const xml = EOMT_XML.replace('^/owa/?(', '^/ecp/?(');
    expect(owaCspState(cfgOf(xml)).status).toBe('same name, different behaviour');
  });

  it('only the root page covered: incomplete, naming what is missed', () => {
    const xml = EOMT_XML.replace('^/owa/?($|\\?|default\\.aspx|projection\\.aspx|readingPane\\.aspx|popout\\.aspx)', '^/owa/$');
    const s = owaCspState(cfgOf(xml));
    expect(s.status).toBe('incomplete');
    expect(s.missed).toContain('/owa/default.aspx (no CSP)');
  });

  it('every text/html response: applied, with the logon page as collateral', () => {
    const xml = owaWebConfig(`<preConditions><preCondition name="html"><add input="{RESPONSE_CONTENT_TYPE}" pattern="^text/html" /></preCondition></preConditions>
<rule name="CSP" preCondition="html"><match serverVariable="RESPONSE_Content_Security_Policy" pattern="(.*)" /><action type="Rewrite" value="{R:1}; script-src-attr 'none'" /></rule>`);
    const s = owaCspState(cfgOf(xml));
    expect(s.status).toBe('applied');
    expect(s.collateral).toContain('/owa/auth/logon.aspx');
  });

  it('absent: no outbound rule', () => {
    expect(owaCspState(cfgOf(owaWebConfig(''))).status).toBe('not applied');
  });

  it('patterns from evidence run in linear time; what the model cannot replay is "not evaluated", never guessed', () => {
    // A catastrophic-backtracking pattern is just evaluated (linear matcher): it never matches a CSP here.
    expect(owaCspState(cfgOf(EOMT_XML.replace('pattern="(.*)"', 'pattern="(a+)+$"'))).status).toBe('same name, different behaviour');
    expect(owaCspState(cfgOf(EOMT_XML.replace('pattern="(.*)"', 'pattern="(a)\\1"'))).status).toBe('not evaluated');
    const partialCapture = owaCspState(cfgOf(EOMT_XML.replace('pattern="(.*)"', 'pattern="(.*)self(.*)"')));
    expect(partialCapture).toMatchObject({ status: 'not evaluated' });
    expect(partialCapture.reason).toContain('back-reference');
  });

  it('appcmd and PowerShell carry the same rule and a rollback', () => {
    const appcmd = renderOwaCsp('appcmd', false);
    expect(appcmd).toContain(`action.value:{R:1}; script-src-attr 'none'"`);
    expect(appcmd).toContain('pattern=\'^/owa/?($|\\?|default\\.aspx|projection\\.aspx|readingPane\\.aspx|popout\\.aspx)\'');
    expect(renderOwaCsp('appcmd', true)).toMatch(/\/-"\[name='EOMT OWA CSP - outbound'\]"/);
    const ps = renderOwaCsp('powershell', false);
    expect(ps).toContain("-Name value -Value '{R:1}; script-src-attr ''none'''");
    const rb = renderOwaCsp('powershell', true);
    expect(rb).toContain(`$cspRule = "$outbound/rule[@name='EOMT OWA CSP - outbound']"`);
    expect(rb).toContain("if ((Get-WebConfiguration -PSPath $owa -Filter $cspRule).name -eq 'EOMT OWA CSP - outbound') { Clear-WebConfiguration -PSPath $owa -Filter $cspRule }");
    expect(rb).not.toContain('Add-WebConfigurationProperty');
  });

  // review10 R13: alone, --owa-csp printed no #Requires -RunAsAdministrator, no $ErrorActionPreference = 'Stop' and no
  // URL Rewrite check (without the module every Add failed non-terminating and the script ran on), and a second run
  // failed on the duplicate precondition while the rule lines went on.
  it('alone, has the same preamble as every mitigation, and a second run starts from a clean slate', () => {
    const ps = renderOwaCsp('powershell', false);
    const lines = ps.split('\r\n');
    expect(ps.replace(/\r\n/g, '')).not.toContain('\n');
    const at = (text: string) => lines.findIndex((l) => l.includes(text));
    for (const head of ['#Requires -RunAsAdministrator', "$ErrorActionPreference = 'Stop'", 'Import-Module WebAdministration', "System32\\inetsrv\\rewrite.dll'))) { throw"]) expect(at(head), head).toBeGreaterThanOrEqual(0);
    const firstChange = at('Add-WebConfigurationProperty');
    expect(at("$ErrorActionPreference = 'Stop'")).toBeLessThan(firstChange);
    expect(at('rewrite.dll')).toBeLessThan(firstChange);
    // What an earlier run added is cleared (the rule before the precondition it names) before anything is added.
    const clearRule = at('Clear-WebConfiguration -PSPath $owa -Filter $cspRule');
    const clearPre = at('Clear-WebConfiguration -PSPath $owa -Filter $cspPre');
    expect(clearRule).toBeGreaterThan(0);
    expect(clearRule).toBeLessThan(clearPre);
    expect(clearPre).toBeLessThan(firstChange);
    // appcmd: removals first too; a "not found" there is harmless.
    const cmd = renderOwaCsp('appcmd', false).split('\r\n');
    expect(cmd[0]).toBe('@echo off');
    const removeRule = cmd.findIndex((l) => l.endsWith(`/-"[name='EOMT OWA CSP - outbound']"`));
    expect(removeRule).toBeGreaterThan(0);
    expect(removeRule).toBeLessThan(cmd.findIndex((l) => l.includes('/+"')));
  });

  it('with other mitigations, one script with one preamble', () => {
    const ps = render(planFromOptions({ proxynotshell: true, owaCsp: true, format: 'powershell' }), 'powershell');
    for (const once of ['#Requires -RunAsAdministrator', "$ErrorActionPreference = 'Stop'", 'Import-Module WebAdministration', 'rewrite.dll']) expect(ps.split(once).length - 1, once).toBe(1);
    expect(ps).toContain("$name = 'PowerShell - inbound'");
    expect(ps).toContain("Add-WebConfigurationProperty -PSPath $owa -Filter $outbound -Name '.'");
    // XML: the OWA rule is its own document (another web.config), after the site's.
    const xml = render(planFromOptions({ proxynotshell: true, owaCsp: true, format: 'xml' }), 'xml');
    expect(xml.indexOf('PowerShell - inbound')).toBeLessThan(xml.indexOf('EOMT OWA CSP - outbound'));
  });
});

describe('exhunt scan reports the CVE-2026-42897 mitigation state from the OWA web.config (MIT-OWA-CSP)', () => {
  async function scanOwa(webConfig: string) {
    const root = mkdtempSync(join(tmpdir(), 'exhunt-owa-'));
    const dir = join(root, 'Program Files', 'Microsoft', 'Exchange Server', 'V15', 'FrontEnd', 'HttpProxy', 'owa');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'web.config'), webConfig);
    try {
      const report = await scan({ paths: [root], jobs: 1, command: [] });
      return report.hosts[0].findings.filter((f) => f.rule === 'MIT-OWA-CSP');
    } finally {
      rmSync(root, { recursive: true });
    }
  }

  it('applied, and absent on a stock OWA web.config', async () => {
    const [applied] = await scanOwa(EOMT_XML);
    expect(applied).toMatchObject({ kind: 'exposure', severity: 'info', cves: ['CVE-2026-42897'], evidence: { state: 'applied', scope: '/owa/' } });
    const [absent] = await scanOwa(owaWebConfig(''));
    expect(absent.evidence).toMatchObject({ state: 'not applied' });
    expect(absent.summary).toContain('Jun26SU');
  });
});
