import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRuleSet } from '../src/rules/ruleset.js';
import yazl from 'yazl';
import type { EvidenceFile } from '../src/evidence/file.js';
import { readHead } from '../src/evidence/file.js';
import { closeZips, listZip } from '../src/evidence/zip.js';
import { iisConfigScanner } from '../src/engine/scanners/iis-config.js';
import { render } from '../src/mitigations/generate.js';
import { PROXYLOGON_EOMT, PROXYNOTSHELL_URLREWRITE } from '../src/mitigations/catalogue.js';
import { external } from './support/external.js';

const HC = external('CSS-Exchange-HealthChecker-testdata/E19'); // vendored (MIT)
let dir: string;

async function fileAt(rel: string, body: string | Buffer): Promise<EvidenceFile> {
  const abs = join(dir, rel.replace(/\//g, '_'));
  await writeFile(abs, body);
  return { kind: 'fs', abs, rel, size: Buffer.byteLength(body), mtimeMs: 0 };
}

async function scan(file: EvidenceFile) {
  const format = iisConfigScanner.classify(file, await readHead(file));
  if (typeof format !== 'string') throw new Error(`not claimed: ${JSON.stringify(format)}`);
  return iisConfigScanner.scan(file, format, { since: '2020-12-01', iocFiles: [], yaraRules: null }, defaultRuleSet());
}

const ROOT = 'files/C/inetpub/wwwroot/web.config';
const pnsRule = (input: string, pattern: string, extra = '') =>
  `<rule name="PowerShell - inbound" stopProcessing="true"${extra}><match url=".*" /><conditions><add input="${input}" pattern="${pattern}" /></conditions><action type="AbortRequest" /></rule>`;
const webConfig = (rules: string) =>
  `\ufeff<?xml version="1.0" encoding="UTF-8"?>\r\n<configuration>\r\n<system.webServer>\r\n<rewrite><rules>${rules}</rules></rewrite>\r\n</system.webServer>\r\n</configuration>\r\n`;
// Mitigation facts only: applicationHost.config also yields `config` facts for the EXP-* controls.
const facts = (r: { facts: Array<{ kind: string; value: string }> }) => r.facts.filter((f) => f.kind === 'mitigation').map((f) => f.value);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exhunt-iiscfg-'));
});
afterAll(async () => {
  await closeZips();
  await rm(dir, { recursive: true, force: true });
});

describe('iis-config scanner: URL Rewrite mitigations in inetpub/wwwroot/web.config', () => {
  it('exhunt mitigate output → both applied, as info findings', async () => {
    const xml = render({ urlRewrite: [PROXYLOGON_EOMT, PROXYNOTSHELL_URLREWRITE], services: [], rollback: false }, 'xml');
    const r = await scan(await fileAt(ROOT, xml));
    expect(facts(r)).toEqual(['proxylogon-eomt: applied', 'proxynotshell-urlrewrite: final (applied)']);
    expect(r.findings.map((f) => [f.rule, f.severity, f.kind])).toEqual([
      ['MIT-PL-URLREWRITE', 'info', 'exposure'],
      ['MIT-PNS-URLREWRITE', 'info', 'exposure'],
    ]);
    expect(r.findings[0].summary).toMatch(/^ProxyLogon URL Rewrite mitigation \(EOMT\): APPLIED \(EOMT rules\) in files\/C\/inetpub\/wwwroot\/web.config\. /);
    expect(r.findings[0].source.line).toBeGreaterThan(1);
  });

  it('ProxyNotShell v1 and v2 are reported bypassable, v3 applied', async () => {
    const v1 = await scan(await fileAt(ROOT, webConfig(pnsRule('{REQUEST_URI}', '.*autodiscover\\.json.*\\@.*Powershell.*'))));
    expect(facts(v1)).toEqual(['proxylogon-eomt: not applied', 'proxynotshell-urlrewrite: v1 (bypassable)']);
    const f = v1.findings[1];
    expect(f.severity).toBe('low');
    expect(f.summary).toContain('BYPASSABLE (rule v1)');
    expect(f.evidence.passed).toContain('URL-encoded "P" (bypasses v1 and v2)');
    const v2 = await scan(await fileAt(ROOT, webConfig(pnsRule('{REQUEST_URI}', '.*autodiscover\\.json.*Powershell.*'))));
    expect(facts(v2)[1]).toBe('proxynotshell-urlrewrite: v2 (bypassable)');
    const v3 = await scan(await fileAt(ROOT, webConfig(pnsRule('{UrlDecode:{REQUEST_URI}}', '.*autodiscover\\.json.*Powershell.*'))));
    expect(facts(v3)[1]).toBe('proxynotshell-urlrewrite: v3 (applied)');
  });

  it('no rewrite section at the site root → both "not applied", said plainly', async () => {
    const r = await scan(await fileAt(ROOT, '<configuration><system.webServer><httpRedirect enabled="false" /></system.webServer></configuration>'));
    expect(facts(r)).toEqual(['proxylogon-eomt: not applied', 'proxynotshell-urlrewrite: not applied']);
    expect(r.findings.every((x) => x.severity === 'info' && /NOT APPLIED/.test(x.summary))).toBe(true);
  });

  it('judges hand-made rules by behaviour: one EOMT rule only is bypassable, a disabled rule is disabled', async () => {
    const [anon] = PROXYLOGON_EOMT.rules;
    const only = `<rule name="${anon.name}"><match url=".*" /><conditions><add input="{HTTP_COOKIE}" pattern="${anon.conditions[0].pattern}" /></conditions><action type="AbortRequest" /></rule>`;
    const r = await scan(await fileAt(ROOT, webConfig(only)));
    expect(facts(r)[0]).toBe('proxylogon-eomt: bypassable (custom rules)');
    expect(r.findings[0].evidence.blocked).toEqual(['CVE-2021-26855 probe (Microsoft NSE, x.js)']);
    const off = await scan(await fileAt(ROOT, webConfig(pnsRule('{UrlDecode:{REQUEST_URI}}', '(?=.*autodiscover)(?=.*powershell)', ' enabled="false"'))));
    expect(facts(off)[1]).toBe('proxynotshell-urlrewrite: final (disabled)');
  });

  it('does not evaluate evidence patterns the linear-time matcher refuses (back-references), and says why', async () => {
    const r = await scan(await fileAt(ROOT, webConfig(pnsRule('{REQUEST_URI}', '(autodiscover).*powershell\\1'))));
    expect(facts(r)[1]).toBe('proxynotshell-urlrewrite: custom (not evaluated)');
    expect(r.findings[1].summary).toMatch(/back-references are not supported/);
  });

  it('a catastrophic-backtracking condition from a 500-byte web.config is evaluated by the linear-time matcher (V8 hung the scan)', async () => {
    // No clock: V8's backtracking engine must never see these patterns (the matcher's own work is bounded in
    // test/adversarial/linear-regex.test.ts). One that reaches it fails here at once instead of hanging the suite.
    const hostile = ['(?:X-BEResource|.|.)*!', '(autodiscover.*)+powershell'];
    const reachedV8: string[] = [];
    const Original = RegExp;
    globalThis.RegExp = new Proxy(Original, {
      construct(target, args: [string | RegExp, string?]) {
        const source = typeof args[0] === 'string' ? args[0] : args[0].source;
        if (hostile.some((h) => source.includes(h))) {
          reachedV8.push(source);
          throw new Error('evidence pattern compiled by V8');
        }
        return Reflect.construct(target, args) as RegExp;
      },
    });
    let r: Awaited<ReturnType<typeof scan>>;
    try {
      r = await scan(await fileAt(ROOT, webConfig(pnsRule('{HTTP_COOKIE}', hostile[0]) + pnsRule('{UrlDecode:{REQUEST_URI}}', hostile[1]))));
    } finally {
      globalThis.RegExp = Original;
    }
    expect(reachedV8).toEqual([]);
    expect(facts(r)).toEqual(['proxylogon-eomt: ineffective (custom rules)', 'proxynotshell-urlrewrite: custom (applied)']);
  });

  it('a rule scoped to the Autodiscover virtual directory covers ProxyNotShell only', async () => {
    const r = await scan(
      await fileAt('files/C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/autodiscover/web.config', webConfig(pnsRule('{UrlDecode:{REQUEST_URI}}', '(?=.*autodiscover)(?=.*powershell)'))),
    );
    expect(facts(r)).toEqual(['proxynotshell-urlrewrite: final (applied)']);
    expect(r.findings[0].evidence.scope).toBe('/autodiscover/');
  });
});

describe('iis-config scanner: applicationHost.config', () => {
  const appHost = `<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <system.applicationHost>
    <applicationPools>
      <add name="DefaultAppPool" />
      <add name="MSExchangeECPAppPool" managedRuntimeVersion="v4.0" autoStart="false" startMode="OnDemand" />
      <add name="MSExchangeOABAppPool" managedRuntimeVersion="v4.0" />
      <applicationPoolDefaults managedRuntimeVersion="v4.0" />
    </applicationPools>
  </system.applicationHost>
  <location path="Default Web Site">
    <system.webServer><rewrite><rules>${pnsRule('{REQUEST_URI}', '.*autodiscover\\.json.*Powershell.*')}</rules></rewrite></system.webServer>
  </location>
  <location path="Exchange Back End/ecp"><system.webServer><rewrite><rules /></rewrite></system.webServer></location>
</configuration>`;

  it('reports the ECP/OAB app-pool state and rules set for the front-end site', async () => {
    const r = await scan(await fileAt('files/C/Windows/System32/inetsrv/config/applicationHost.config', appHost));
    expect(facts(r)).toEqual([
      'proxynotshell-urlrewrite: v2 (bypassable)',
      'ecp-apppool: autoStart=false, startMode=OnDemand (applied)',
      'oab-apppool: autoStart=true, startMode=OnDemand (not applied)',
    ]);
    expect(r.findings.map((f) => f.rule)).toEqual(['MIT-PNS-URLREWRITE', 'MIT-ECP-APPPOOL', 'MIT-OAB-APPPOOL']);
    expect(r.findings[1].summary).toMatch(/^ECP app-pool mitigation: APPLIED/);
    expect(r.findings[1].source.line).toBe(6);
  });

  it("IIS's configuration history (inetpub\\history\\CFGHISTORY_*) is an earlier state: no mitigation judged from it, and said (review11 R17)", async () => {
    const r = await scan(await fileAt('files/C/inetpub/history/CFGHISTORY_0000000007/applicationHost.config', appHost));
    expect(facts(r)).toEqual([]);
    expect(r.findings).toEqual([]);
    expect(r.skipped.map((x) => x.reason)).toEqual([expect.stringContaining('not judged as the server')]);
    expect(r.skipped[0].unread).toBeUndefined();
  });
});

describe('iis-config scanner: benign and broken input', () => {
  it('the genuine Exchange 2019 OAB web.config files (UTF-8 BOM) produce nothing', async () => {
    for (const [name, rel] of [
      ['DefaultWebSite-OAB_web.config', 'files/C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/OAB/web.config'],
      ['ExchangeBackEnd-OAB_web.config', 'files/C/Program Files/Microsoft/Exchange Server/V15/ClientAccess/OAB/web.config'],
    ]) {
      const r = await scan(await fileAt(rel, await readFile(join(HC, name))));
      expect(r, name).toMatchObject({ findings: [], facts: [], skipped: [] });
    }
  });
  it('a malformed web.config is reported as skipped with its line', async () => {
    const r = await scan(await fileAt(ROOT, '<configuration>\n<system.webServer>\n</configuration>'));
    expect(r.findings).toEqual([]);
    expect(r.skipped[0]).toMatchObject({ path: ROOT, line: 3 });
    expect(r.skipped[0].reason).toMatch(/not well-formed XML/);
  });
  it('claims only web.config and applicationHost.config, and refuses a non-XML web.config', async () => {
    const other = await fileAt('files/C/inetpub/wwwroot/web.config.bak', '<configuration/>');
    expect(iisConfigScanner.classify(other, await readHead(other))).toBeNull();
    const shell = await fileAt('files/C/inetpub/wwwroot/aspnet_client/Web.Config', 'eval(Request.Item["x"])');
    expect(iisConfigScanner.classify(shell, await readHead(shell))).toEqual({ skip: 'named like an IIS configuration file but not XML: not parsed' });
    const utf16 = await fileAt(ROOT, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<configuration/>', 'utf16le')]));
    expect(facts(await scan(utf16))).toEqual(['proxylogon-eomt: not applied', 'proxynotshell-urlrewrite: not applied']);
  });
});

describe('iis-config scanner on a collector zip', () => {
  it('reads web.config straight from the case zip', async () => {
    const zip = new yazl.ZipFile();
    zip.addBuffer(Buffer.from(render({ urlRewrite: [PROXYLOGON_EOMT], services: [], rollback: false }, 'xml')), ROOT);
    zip.end();
    const parts: Buffer[] = [];
    for await (const c of zip.outputStream) parts.push(c as Buffer);
    const z = join(dir, 'case.zip');
    await writeFile(z, Buffer.concat(parts));
    const [e] = await listZip(z, () => undefined);
    const r = await scan({ kind: 'zip', zip: z, entry: e.name, rel: e.name, size: e.size, mtimeMs: e.mtimeMs });
    expect(facts(r)).toEqual(['proxylogon-eomt: applied', 'proxynotshell-urlrewrite: not applied']);
  });
});
