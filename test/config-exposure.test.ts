// EXP-* configuration controls, each on / off / unknown, from realistic configuration files (fixtures written from
// Microsoft's documented formats: test/fixtures/exchange-config/README.md), through the real scanners and host rule.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scan } from '../src/engine/scan.js';
import type { Finding, HostResult } from '../src/model.js';
import { hostDigest } from '../src/report/summary.js';
import { fakeDll, fakePe } from './support/pe.js';

const FIX = join(import.meta.dirname, 'fixtures', 'exchange-config');
const read = (f: string) => readFileSync(join(FIX, f));
const APPHOST = 'Windows/System32/inetsrv/config/applicationHost.config';

/** The collector's layout: applicationHost.config at its Windows path, cmdlet JSON and .reg under exchange/. */
function baseFiles(): Record<string, Buffer | string> {
  const files: Record<string, Buffer | string> = { [APPHOST]: read('applicationHost.config'), 'exchange/lsa.reg': read('lsa.reg') };
  for (const c of ['Get-SettingOverride', 'Get-OrganizationConfig', 'Get-ExchangeServer', 'Get-AuthServer', 'Get-OwaVirtualDirectory', 'Get-HybridConfiguration']) files[`exchange/${c}.json`] = read(`${c}.json`);
  return files;
}

async function scanHost(files: Record<string, Buffer | string>): Promise<HostResult> {
  const root = mkdtempSync(join(tmpdir(), 'exhunt-cfg-'));
  try {
    for (const [rel, body] of Object.entries(files)) {
      mkdirSync(dirname(join(root, rel)), { recursive: true });
      writeFileSync(join(root, rel), body);
    }
    const report = await scan({ paths: [root], jobs: 1, command: [] });
    const host = report.hosts[0];
    expect(host.verdict, 'configuration never changes the compromise verdict').not.toBe('compromised');
    return host;
  } finally {
    rmSync(root, { recursive: true });
  }
}

async function controls(files: Record<string, Buffer | string>): Promise<Map<string, Finding[]>> {
  const host = await scanHost(files);
  const by = new Map<string, Finding[]>();
  for (const f of host.findings.filter((x) => x.rule.startsWith('EXP-') && x.rule !== 'EXP-01')) by.set(f.rule, [...(by.get(f.rule) ?? []), f]);
  return by;
}
const state = (m: Map<string, Finding[]>, id: string) => m.get(id)?.map((f) => f.evidence.state);
const json = (o: unknown) => JSON.stringify(o, null, 4);
const overrides = (...items: { Component: string; Section: string; Parameters: string[]; Name: string }[]) =>
  json([{ Name: 'Hybrid Application Override', Component: 'Global', Section: 'ExchangeOnpremAsThirdPartyAppId', Parameters: ['Enabled=true'], Server: null }, ...items.map((i) => ({ ...i, Server: ['EX01'], Reason: 'troubleshooting' }))]);

describe('configuration controls from a well-configured Exchange SE server', () => {
  it('every control is on, none carries CVEs, all kind exposure', async () => {
    const m = await controls(baseFiles());
    for (const id of ['EXP-EP', 'EXP-AMSI', 'EXP-SDS', 'EXP-EEMS', 'EXP-HYBRID', 'EXP-DLDOM', 'EXP-IISMOD']) {
      expect(state(m, id), id).toEqual(['on']);
      expect(m.get(id)![0]).toMatchObject({ kind: 'exposure', severity: 'info', cves: [], lane: 'Host', stage: null });
    }
    expect(m.has('EXP-OVR')).toBe(false);
    // Each finding cites the file its control was read from (not whichever configuration file sorts first).
    const cited = (id: string) => m.get(id)![0].source.path.split('/').pop();
    for (const id of ['EXP-EP', 'EXP-IISMOD', 'EXP-TOKEN']) expect(cited(id), id).toBe('applicationHost.config');
    expect([cited('EXP-EEMS'), cited('EXP-DLDOM'), cited('EXP-AMSI'), cited('EXP-HYBRID')]).toEqual(['Get-OrganizationConfig.json', 'Get-OrganizationConfig.json', 'Get-SettingOverride.json', 'Get-AuthServer.json']);
    expect(m.get('EXP-EP')![0].summary).toContain('SSL offloading');
    expect(m.get('EXP-EEMS')![0].summary).toContain('M2.1.0');
  });
});

describe('each control off', () => {
  it('Extended Protection: a front-end vdir below its expected value, or SuppressExtendedProtection=1', async () => {
    const weak = baseFiles();
    weak[APPHOST] = read('applicationHost.config').toString().replace('<location path="Default Web Site/owa"><system.webServer><security><authentication><windowsAuthentication enabled="false"><extendedProtection tokenChecking="Require" />', '<location path="Default Web Site/owa"><system.webServer><security><authentication><windowsAuthentication enabled="false"><extendedProtection tokenChecking="None" />');
    const m = await controls(weak);
    const [ep] = m.get('EXP-EP')!;
    expect(ep).toMatchObject({ severity: 'high', evidence: { state: 'off' } });
    expect(ep.cves).toContain('CVE-2024-21410');
    expect(ep.summary).toContain('default web site/owa: None, expected Require');
    expect(ep.summary).toContain('ExchangeExtendedProtectionManagement.ps1');
    const suppressed = baseFiles();
    suppressed['exchange/lsa.reg'] = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(read('lsa.reg').subarray(2).toString('utf16le').replace('"SuppressExtendedProtection"=dword:00000000', '"SuppressExtendedProtection"=dword:00000001'), 'utf16le')]);
    expect((await controls(suppressed)).get('EXP-EP')![0].summary).toContain('SuppressExtendedProtection=1');
  });

  it('the back-end EWS exception: Allow is accepted only with IP filtering (allowUnlisted=false)', async () => {
    const allow = (ip: string) => read('applicationHost.config').toString().replace('<location path="Exchange Back End/EWS"><system.webServer><security><authentication><windowsAuthentication enabled="true"><extendedProtection tokenChecking="Require" />', `<location path="Exchange Back End/EWS"><system.webServer><security>${ip}<authentication><windowsAuthentication enabled="true"><extendedProtection tokenChecking="Allow" />`);
    expect(state(await controls({ ...baseFiles(), [APPHOST]: allow('') }), 'EXP-EP')).toEqual(['off']);
    expect(state(await controls({ ...baseFiles(), [APPHOST]: allow('<ipSecurity allowUnlisted="false"><add ipAddress="10.0.0.5" allowed="true" /></ipSecurity>') }), 'EXP-EP')).toEqual(['on']);
  });

  it('AMSI, serialization signing and fix-disabling overrides (override-disables-fix re-opens the CVE)', async () => {
    const files = baseFiles();
    files['exchange/Get-SettingOverride.json'] = overrides(
      { Name: 'DisableAMSI', Component: 'Cafe', Section: 'HttpRequestFiltering', Parameters: ['Enabled=False'] },
      { Name: 'DisableSigning', Component: 'Data', Section: 'EnableSerializationDataSigning', Parameters: ['Enabled=False'] },
      { Name: 'P2FromFix', Component: 'Transport', Section: 'NonCompliantSenderSettings', Parameters: ['AddP2FromRegexMatchHeader=false', 'BlockEmailWithMultipleP2FromHeaders=false'] },
      { Name: 'CatToken', Component: 'Global', Section: 'CatTokenAuthorizationCheck', Parameters: ['Enabled=true'] },
    );
    const m = await controls(files);
    expect(state(m, 'EXP-AMSI')).toEqual(['off']);
    expect(m.get('EXP-AMSI')![0].summary).toContain('Remove-SettingOverride -Identity "DisableAMSI"');
    expect(state(m, 'EXP-SDS')).toEqual(['off']);
    expect(m.get('EXP-SDS')![0].cves).toEqual(['CVE-2023-36050', 'CVE-2023-36039', 'CVE-2023-36035', 'CVE-2023-36439']);
    const reopened = m.get('EXP-OVR')!.flatMap((f) => f.cves).sort();
    // AddP2FromRegexMatchHeader=false re-opens CVE-2024-49040, BlockEmailWithMultipleP2FromHeaders=false CVE-2025-59248;
    // CatTokenAuthorizationCheck=true leaves CVE-2025-53782 fixed.
    expect(reopened).toEqual(['CVE-2024-49040', 'CVE-2025-59248']);
  });

  it('Exchange 2013: serialization signing read from the registry export; off is a medium finding (review11 R15: it aborted the whole scan)', async () => {
    const files = baseFiles();
    files['exchange/Get-ExchangeServer.json'] = read('Get-ExchangeServer.json').toString('utf8').replace('Version 15.2 (Build 2562.17)', 'Version 15.0 (Build 1497.48)');
    const off = await controls(files);
    expect(state(off, 'EXP-SDS')).toEqual(['off']);
    expect(off.get('EXP-SDS')![0].severity).toBe('medium');
    expect(off.get('EXP-SDS')![0].summary).toContain('Exchange 2013, registry');
    // reg.exe exports UTF-16LE (with its BOM): the key added the way an admin sets it after Jan23SU.
    const key = '\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Diagnostics]\r\n"EnableSerializationDataSigning"=dword:00000001\r\n';
    files['exchange/lsa.reg'] = Buffer.from(`${read('lsa.reg').toString('utf16le')}${key}`, 'utf16le');
    const on = await controls(files);
    expect(state(on, 'EXP-SDS')).toEqual(['on']);
  });

  it('EEMS: disabled at the organisation, and enabled but below Jun26SU after the June 2026 cut-off', async () => {
    const off = baseFiles();
    off['exchange/Get-OrganizationConfig.json'] = json({ Name: 'Contoso', MitigationsEnabled: false, EnableDownloadDomains: true });
    expect((await controls(off)).get('EXP-EEMS')![0]).toMatchObject({ evidence: { state: 'off' }, cves: ['CVE-2026-42897'] });
    const old = baseFiles();
    old['exchange/Get-ExchangeServer.json'] = json({ Name: 'EX01', AdminDisplayVersion: 'Version 15.2 (Build 2562.17)', MitigationsEnabled: true });
    old['Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Owa/HttpProxy_2026112000-1.LOG'] =
      '#Software: Microsoft Exchange Server\r\n#Version: 15.02.2562.037\r\n#Log-type: HttpProxy Logs\r\n#Date: 2026-11-20T00:00:00.000Z\r\n#Fields: DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus\r\n';
    const [eems] = (await controls(old)).get('EXP-EEMS')!;
    expect(eems.evidence.state).toBe('off');
    expect(eems.summary).toContain('below Jun26SU');
  });

  it('hybrid without the dedicated app; Download Domains off or on the OWA host; a module outside Microsoft folders', async () => {
    const files = baseFiles();
    files['exchange/Get-SettingOverride.json'] = '[]';
    files['exchange/Get-OrganizationConfig.json'] = json({ Name: 'Contoso', MitigationsEnabled: true, EnableDownloadDomains: false });
    files[APPHOST] = read('applicationHost.config').toString().replace('</globalModules>', '    <add name="IsapiFilterModule2" image="C:\\ProgramData\\Microsoft\\Crypto\\RSA\\hmod.dll" />\n        </globalModules>');
    const m = await controls(files);
    expect(m.get('EXP-HYBRID')![0]).toMatchObject({ evidence: { state: 'off' }, cves: ['CVE-2025-53786'] });
    expect(m.get('EXP-DLDOM')![0]).toMatchObject({ evidence: { state: 'off' }, cves: ['CVE-2021-1730'] });
    expect(m.get('EXP-IISMOD')![0].summary).toContain('hmod.dll');
    const sameHost = baseFiles();
    sameHost['exchange/Get-OwaVirtualDirectory.json'] = json({ Name: 'owa (Default Web Site)', InternalUrl: 'https://mail.contoso.com/owa', ExternalUrl: 'https://mail.contoso.com/owa', InternalDownloadHostName: 'mail.contoso.com', ExternalDownloadHostName: '' });
    expect(state(await controls(sameHost), 'EXP-DLDOM')).toEqual(['off']);
  });
});

describe('Extended Protection where the configuration never set it (review11 R8)', () => {
  const config = () => read('applicationHost.config').toString();
  const noEp = () => config().replace(/<extendedProtection tokenChecking="\w+" \/>/g, '');
  const dropLocation = (text: string, path: string) => text.replace(new RegExp(`\\s*<location path="${path}">.*</location>`), '');
  /** Exchange 2016 CU23 Oct22SU in an HttpProxy log header: a build that runs Extended Protection. */
  const LOG = ['Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Owa/HttpProxy_2026112010-1.LOG', '#Software: Microsoft Exchange Server\r\n#Version: 15.01.2507.016\r\n#Log-type: HttpProxy Logs\r\n#Date: 2026-11-20T10:00:00.000Z\r\n#Fields: DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus\r\n'] as const;

  it('every Exchange location without an extendedProtection element (the script never run): off on all, high, CVE-2024-21410, exposed', async () => {
    const host = await scanHost({ [APPHOST]: noEp(), [LOG[0]]: LOG[1] });
    const [ep] = host.findings.filter((f) => f.rule === 'EXP-EP');
    expect(ep).toMatchObject({ severity: 'high', kind: 'exposure', evidence: { state: 'off' } });
    expect(ep.cves).toContain('CVE-2024-21410');
    expect(ep.summary).toContain('OFF on all 21 Exchange virtual directories that need it (none sets tokenChecking');
    expect(ep.evidence.below_expected).toHaveLength(21);
    expect(ep.evidence.below_expected).toContain('exchange back end/mapi/nspi: None (not set: IIS default), expected Require');
    // Expected None (autodiscover, the front end's PowerShell) is never below its value.
    expect(ep.evidence.checked).toContain('default web site/autodiscover=None (not set)');
    expect(hostDigest(host).exposed, 'scan exits 3').toBe(true);
  });

  it('back-end vdirs with no <location> (or one without the element) are judged at the IIS default, not skipped', async () => {
    const missing = dropLocation(dropLocation(config(), 'Exchange Back End/EWS'), 'Exchange Back End/mapi/nspi');
    const [ep] = (await controls({ [APPHOST]: missing, [LOG[0]]: LOG[1] })).get('EXP-EP')!;
    expect(ep).toMatchObject({ severity: 'high', evidence: { state: 'off' } });
    expect(ep.evidence.below_expected).toEqual(['exchange back end/ews: None (not set: IIS default), expected Require', 'exchange back end/mapi/nspi: None (not set: IIS default), expected Require']);
    expect(ep.summary).toContain('on 2 of 21 Exchange virtual directories');
    // The parent's setting is inherited: a back-end mapi location with None reaches nspi when nspi sets nothing.
    const inherited = dropLocation(config(), 'Exchange Back End/mapi/nspi').replace('</configuration>', '<location path="Exchange Back End/mapi"><system.webServer><security><authentication><windowsAuthentication><extendedProtection tokenChecking="None" /></windowsAuthentication></authentication></security></system.webServer></location></configuration>');
    const [inh] = (await controls({ [APPHOST]: inherited, [LOG[0]]: LOG[1] })).get('EXP-EP')!;
    expect(inh.evidence.below_expected).toEqual(['exchange back end/mapi/nspi: None (inherited from exchange back end/mapi), expected Require']);
  });

  it('a path written in two <location> elements (security apart from handlers) is merged; a site without Exchange holds nothing to judge', async () => {
    const split = config().replace('</configuration>', '<location path="Exchange Back End/EWS" overrideMode="Allow"><system.webServer><handlers accessPolicy="Read, Script" /><security><ipSecurity allowUnlisted="true" /></security></system.webServer></location></configuration>');
    expect(state(await controls({ [APPHOST]: split, [LOG[0]]: LOG[1] }), 'EXP-EP')).toEqual(['on']);
    const plainIis = '<?xml version="1.0"?><configuration><system.applicationHost><sites><site name="Default Web Site" id="1"><application path="/" /><application path="/intranet" /></site></sites></system.applicationHost><location path="Default Web Site/intranet"><system.webServer><security><authentication><windowsAuthentication enabled="true" /></authentication></security></system.webServer></location></configuration>';
    expect((await controls({ [APPHOST]: plainIis })).has('EXP-EP')).toBe(false);
  });
});

describe('unknown, or not reported, when the evidence does not hold it', () => {
  it('only applicationHost.config: EP and modules judged, cmdlet-based controls absent', async () => {
    const m = await controls({ [APPHOST]: read('applicationHost.config') });
    expect(state(m, 'EXP-EP')).toEqual(['unknown']); // configured as expected, but no build: EP-capability unknown
    expect(state(m, 'EXP-IISMOD')).toEqual(['on']);
    for (const id of ['EXP-AMSI', 'EXP-SDS', 'EXP-HYBRID', 'EXP-DLDOM', 'EXP-EEMS']) expect(m.has(id), id).toBe(false);
  });

  it('hybrid organisation without the overrides collected: unknown; enabled download domains without the OWA vdir: unknown', async () => {
    const files = baseFiles();
    delete files['exchange/Get-SettingOverride.json'];
    delete files['exchange/Get-OwaVirtualDirectory.json'];
    const m = await controls(files);
    expect(state(m, 'EXP-HYBRID')).toEqual(['unknown']);
    expect(state(m, 'EXP-DLDOM')).toEqual(['unknown']);
  });

  it('no configuration evidence: no EXP-* control findings at all', async () => {
    const m = await controls({ 'notes.txt': 'nothing here' });
    expect(m.size).toBe(0);
  });
});

describe('IIS module signatures and TokenCacheModule (DLLs in the evidence)', () => {
  const p7 = (f: string) => read(`authenticode/${f}.p7`);
  const INETSRV = 'Windows/System32/inetsrv';
  const BACKDOOR = '<add name="OwaAuthFilter" image="C:\\Program Files\\Microsoft\\Exchange Server\\V15\\ClientAccess\\Owa\\bin\\owaauth.dll" />';
  const withModule = () => read('applicationHost.config').toString().replace('</globalModules>', `    ${BACKDOOR}\n        </globalModules>`);

  it('a module in an Exchange folder signed by another publisher is off; signed by Microsoft (issuer in the signature) is on', async () => {
    const other = { ...baseFiles(), [APPHOST]: withModule(), 'Program Files/Microsoft/Exchange Server/V15/ClientAccess/Owa/bin/owaauth.dll': fakeDll([1, 0, 0, 3], p7('other-vendor')) };
    const [mod] = (await controls(other)).get('EXP-IISMOD')!;
    expect(mod.evidence.state).toBe('off');
    expect(mod.summary).toContain('OwaAuthFilter');
    expect(mod.summary).toContain('signed by another publisher');
    expect(mod.summary).toContain('O=Contoso Web Filters LLC');
    expect(mod.summary).toContain('not verified offline');
    const ms = { ...other, 'Program Files/Microsoft/Exchange Server/V15/ClientAccess/Owa/bin/owaauth.dll': fakeDll([15, 2, 2562, 17], p7('microsoft-chain')) };
    const [ok] = (await controls(ms)).get('EXP-IISMOD')!;
    expect(ok.evidence.state).toBe('on');
    expect(ok.evidence.signatures).toEqual([expect.stringContaining('OwaAuthFilter: signed by Microsoft')]);
  });

  it("a self-signed certificate with Microsoft's name is not taken for Microsoft's; an unsigned DLL outside Microsoft folders is high", async () => {
    const forged = { ...baseFiles(), [APPHOST]: withModule(), 'Program Files/Microsoft/Exchange Server/V15/ClientAccess/Owa/bin/owaauth.dll': fakeDll([15, 2, 2562, 17], p7('microsoft-selfsigned')) };
    const [mod] = (await controls(forged)).get('EXP-IISMOD')!;
    expect(mod).toMatchObject({ severity: 'high', evidence: { state: 'off' } });
    expect(mod.summary).toContain('self-signed');
    const odd = { ...baseFiles(), [APPHOST]: read('applicationHost.config').toString().replace('</globalModules>', '    <add name="IsapiFilterModule2" image="C:\\ProgramData\\Microsoft\\Crypto\\RSA\\hmod.dll" />\n        </globalModules>'), 'ProgramData/Microsoft/Crypto/RSA/hmod.dll': fakeDll([1, 0, 0, 0]) };
    const [unsigned] = (await controls(odd)).get('EXP-IISMOD')!;
    expect(unsigned).toMatchObject({ severity: 'high', evidence: { state: 'off' } });
    expect(unsigned.summary).toContain('no embedded signature');
  });

  it('a Windows inetsrv DLL without an embedded signature (catalog-signed) stays on', async () => {
    const m = await controls({ ...baseFiles(), [`${INETSRV}/cachuri.dll`]: fakeDll([10, 0, 17763, 1]) });
    expect(state(m, 'EXP-IISMOD')).toEqual(['on']);
    expect(m.get('EXP-IISMOD')![0].evidence.signatures).toEqual(['UriCacheModule: no embedded signature']);
  });

  it('TokenCacheModule: unknown without cachtokn.dll, off below the October 2023 floor, on when fixed or removed', async () => {
    expect(state(await controls(baseFiles()), 'EXP-TOKEN')).toEqual(['unknown']);
    const old = await controls({ ...baseFiles(), [`${INETSRV}/cachtokn.dll`]: fakeDll([10, 0, 17763, 4737]) });
    expect(old.get('EXP-TOKEN')![0]).toMatchObject({ severity: 'medium', cves: ['CVE-2023-36434', 'CVE-2023-21709'], evidence: { state: 'off', fixed_from: '10.0.17763.4968' } });
    expect(old.get('EXP-TOKEN')![0].summary).toContain('appcmd.exe uninstall module TokenCacheModule');
    expect(state(await controls({ ...baseFiles(), [`${INETSRV}/cachtokn.dll`]: fakeDll([10, 0, 17763, 4968]) }), 'EXP-TOKEN')).toEqual(['on']);
    expect(state(await controls({ ...baseFiles(), [`${INETSRV}/cachtokn.dll`]: fakeDll([10, 0, 26100, 1]) }), 'EXP-TOKEN')).toEqual(['on']);
    const removed = { ...baseFiles(), [APPHOST]: read('applicationHost.config').toString().replace(/\s*<add name="TokenCacheModule"[^>]*\/>/, '') };
    const [gone] = (await controls(removed)).get('EXP-TOKEN')!;
    expect(gone).toMatchObject({ cves: [], evidence: { state: 'on' } });
  });
});

describe('setting overrides as they apply to this server', () => {
  const amsiOff = (extra: Record<string, unknown>) => overrides({ Name: 'DisableAMSI', Component: 'Cafe', Section: 'HttpRequestFiltering', Parameters: ['Enabled=False'], ...extra } as never);

  it("Get-SettingOverride: an override scoped to another server does not apply to this one (Get-ExchangeServer names it)", async () => {
    const files = baseFiles();
    files['exchange/Get-SettingOverride.json'] = amsiOff({ Server: ['EX02'] }).replace('"EX01"', '"EX02"');
    const m = await controls(files);
    expect(state(m, 'EXP-AMSI')).toEqual(['on']);
    files['exchange/Get-SettingOverride.json'] = amsiOff({});
    expect(state(await controls(files), 'EXP-AMSI')).toEqual(['off']);
  });

  it('Get-SettingOverride: MaxVersion below the running build (ExSetup.exe) leaves the fix on', async () => {
    const files = baseFiles();
    files['Program Files/Microsoft/Exchange Server/V15/Bin/ExSetup.exe'] = fakePe(15, 2, 2562, 37);
    files['exchange/Get-SettingOverride.json'] = overrides({ Name: 'P2From', Component: 'Transport', Section: 'NonCompliantSenderSettings', Parameters: ['AddP2FromRegexMatchHeader=false'] }).replace('"Reason": "troubleshooting"', '"Reason": "troubleshooting", "MaxVersion": "15.2.2562.17"');
    const m = await controls(files);
    expect(m.has('EXP-OVR')).toBe(false);
    files['exchange/Get-SettingOverride.json'] = overrides({ Name: 'P2From', Component: 'Transport', Section: 'NonCompliantSenderSettings', Parameters: ['AddP2FromRegexMatchHeader=false'] });
    const [ovr] = (await controls(files)).get('EXP-OVR')!;
    expect(ovr.cves).toEqual(['CVE-2024-49040']);
    expect(ovr.summary).toContain('Get-SettingOverride; whether this server loaded them is not known');
  });

  it("Get-ExchangeDiagnosticInfo (the server's loaded overrides) decides over Active Directory's list; only Accepted counts", async () => {
    const files = baseFiles();
    files['exchange/Get-ExchangeDiagnosticInfo-Overrides.xml'] = read('Get-ExchangeDiagnosticInfo-Overrides.xml');
    const m = await controls(files);
    expect(state(m, 'EXP-AMSI')).toEqual(['off']); // AD (Get-SettingOverride) has no AMSI override; the server loaded one
    expect(m.get('EXP-AMSI')![0].summary).toContain('Remove-SettingOverride -Identity "DisableAMSI"');
    expect(state(m, 'EXP-HYBRID')).toEqual(['on']);
    files['exchange/Get-ExchangeDiagnosticInfo-Overrides.xml'] = read('Get-ExchangeDiagnosticInfo-Overrides.xml').toString().replace('<Status>Accepted</Status>\n          <Message>This override synced to the server but whether it applies to the services running on this server depends on the override parameters, current configuration and the context.</Message>\n          <Parameters>\n            <Parameter>Enabled=False', '<Status>Rejected</Status>\n          <Message>Rejected</Message>\n          <Parameters>\n            <Parameter>Enabled=False');
    expect(state(await controls(files), 'EXP-AMSI')).toEqual(['on']);
    files['exchange/Get-ExchangeDiagnosticInfo-Overrides.xml'] = '<Diagnostics><Components><VariantConfiguration><Overrides';
    const report = await controls(files);
    expect(state(report, 'EXP-AMSI')).toEqual(['on']); // unreadable diagnostic output: skipped (named), AD list used
  });
});
