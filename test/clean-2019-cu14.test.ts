// A patched, clean Exchange 2019 CU14 server (build 15.2.1544, data/builds) as a responder copies it: the owa\auth and
// ecp\auth pages of its install tree and two days of front-end (W3SVC1) and back-end (W3SVC2) IIS logs of ordinary
// traffic. It must come out clean (or insufficient-evidence without --since), never suspicious or attempted.
// Sources of the shapes:
// - page names: CSS-Exchange Security/Baselines baseline_15.2.792.10.csv (owa\auth and ecp\auth of 2019), MIT. The
//   page bytes are ours: CU14's own hashes are in no list exhunt ships, which is the point of the test.
// - benign back-end clients: CrowdStrike Rps_Http-IOC.ps1 via signature-base (`Microsoft WinRM Client`,
//   `Exchange BackEnd Probes`), Kevin Beaumont's Exchange-CVE-2021-34473-SSRF query exclusions (EwsStoreDataProvider,
//   the eDiscovery export tool, `ExchangeInternalEwsClient-AuditLog-ComplianceAuditService-AdminAuditWriter`).
// - health probes: artefacts.help samples (`AMProbe/Local/ClientAccess`, HealthMailbox users); load-balancer checks
//   of `/<vdir>/healthcheck.htm` (Microsoft, "Managed Availability and Server Health", Exchange 2013+).
// - client traffic: Outlook, Outlook for iOS autodiscover.json v1.0, ActiveSync, OWA static files under
//   /owa/auth/15.2.1544/ (the folder named for the CU, which gives the build fact).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { HostResult, ScanReport } from '../src/model.js';
import { SEVERITY_RANK } from '../src/model.js';
import { exhunt } from './support/cli.js';
import { baseline } from '../src/rules/files/baselines.js';

const EX = 'C/Program Files/Microsoft/Exchange Server/V15';
const dir = mkdtempSync(join(tmpdir(), 'exhunt-cu14-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEAD = [
  '#Software: Microsoft Internet Information Services 10.0',
  '#Version: 1.0',
  '#Date: DAY 00:00:00',
  '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken',
];
const CHROME = 'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/131.0.0.0+Safari/537.36';
const OUTLOOK = 'Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.18129;+Pro)';
// method, stem, query ('' = none), user, client, user agent, status
type Row = [string, string, string, string, string, string, number];
const FRONT: Row[] = [
  ['GET', '/owa/healthcheck.htm', '', '-', '10.20.0.2', '-', 200],
  ['GET', '/ecp/healthcheck.htm', '', '-', '10.20.0.2', '-', 200],
  ['GET', '/Microsoft-Server-ActiveSync/healthcheck.htm', '', '-', '10.20.0.2', '-', 200],
  ['GET', '/owa/auth/logon.aspx', 'url=https%3a%2f%2fmail.contoso.com%2fowa%2f&reason=0', '-', '198.51.100.20', CHROME, 200],
  ['GET', '/owa/auth/15.2.1544/scripts/premium/flogon.js', '', '-', '198.51.100.20', CHROME, 200],
  ['GET', '/owa/auth/15.2.1544/themes/resources/favicon.ico', '', '-', '198.51.100.20', CHROME, 200],
  ['POST', '/owa/auth.owa', '', 'CONTOSO\\alice', '198.51.100.20', CHROME, 302],
  ['GET', '/owa/auth/frowny.aspx', 'app=Mail&et=ServerError&esrc=MasterPage', '-', '198.51.100.20', CHROME, 200],
  ['GET', '/owa/auth/RedirSuiteServiceProxy.aspx', '', 'CONTOSO\\alice', '198.51.100.20', CHROME, 200],
  ['GET', '/owa/auth/logoff.aspx', 'Cmd=logoff&src=exch', 'CONTOSO\\alice', '198.51.100.20', CHROME, 302],
  ['GET', '/ecp/auth/TimeoutLogout.aspx', '', '-', '198.51.100.20', CHROME, 200],
  ['POST', '/EWS/Exchange.asmx', '', 'CONTOSO\\bob', '198.51.100.7', OUTLOOK, 200],
  ['POST', '/mapi/emsmdb/', 'MailboxId=5b2a@contoso.com', 'CONTOSO\\bob', '198.51.100.7', OUTLOOK, 200],
  ['GET', '/autodiscover/autodiscover.json/v1.0/bob@contoso.com', 'Protocol=ActiveSync&RedirectCount=1', '-', '198.51.100.8', 'Outlook-iOS/723.4027091.prod.iphone+(4.2446.0)', 200],
  ['POST', '/Microsoft-Server-ActiveSync/default.eas', 'Cmd=Ping&User=bob&DeviceId=ApplF17X2ABCDEF&DeviceType=iPhone', 'CONTOSO\\bob', '198.51.100.8', 'Apple-iPhone15C2/2201.81', 200],
  ['GET', '/ecp/15.2.1544/exporttool/microsoft.exchange.ediscovery.exporttool.application', '', 'CONTOSO\\admin', '10.20.5.10', CHROME, 200],
  ['POST', '/powershell', 'serializationLevel=Full;ExchClientVer=15.2.1544.36;clientApplication=ManagementShell;TargetServer=;PSVersion=5.1.17763.6414', 'CONTOSO\\admin', '10.20.5.10', 'Microsoft+WinRM+Client', 200],
];
const BACK: Row[] = [
  ['GET', '/owa/exhealth.check', '', '-', '127.0.0.1', 'AMProbe/Local/ClientAccess', 200],
  ['GET', '/ecp/ReportingWebService/', '', 'CONTOSO\\HealthMailbox0c5b1a', '127.0.0.1', 'Exchange+BackEnd+Probes', 200],
  ['POST', '/mapi/emsmdb/', 'mailboxId=5b2a@contoso.com', 'CONTOSO\\bob', '10.20.0.11', OUTLOOK, 200],
  ['POST', '/EWS/Exchange.asmx', '', 'CONTOSO\\MAIL01$', '10.20.0.11', 'ExchangeInternalEwsClient-AuditLog-ComplianceAuditService-AdminAuditWriter', 200],
  ['POST', '/ews/exchange.asmx', '', 'CONTOSO\\MAIL01$', '10.20.0.11', 'EwsStoreDataProvider/15.02.1544.036', 200],
  // The server's own local-system work through remote PowerShell: the machine account with WinRM's user agent.
  ['POST', '/Powershell', '', 'CONTOSO\\MAIL01$', '10.20.0.11', 'Microsoft+WinRM+Client', 200],
];

function iisLog(rows: Row[], port: number, day: string, build: string): string {
  const lines = rows.map(([m, stem, q, user, ip, ua, st], i) => {
    const query = `${q ? `${q}&` : '&'}CorrelationID=<empty>;&cafeReqId=${(i + 1).toString(16).padStart(8, '0')}-5f1c-4e0b-9a1e-2b7c3d4e5f60;&encoding=;`;
    return `${day} 08:${String(i).padStart(2, '0')}:07 10.20.0.11 ${m} ${stem.replace('15.2.1544', build)} ${query} ${port} ${user} ${ip} ${ua} - ${st} 0 0 ${20 + i}`;
  });
  return [...HEAD.map((h) => h.replace('DAY', day)), ...lines, ''].join('\r\n');
}

function put(root: string, rel: string, text: string): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
}

/** The server at `build` (its CU folder under /owa/auth/ is the build fact); pages are the same bytes either way. */
function server(name: string, build: string): string {
  const root = join(dir, name);
  for (const page of ['errorFE.aspx', 'expiredpassword.aspx', 'frowny.aspx', 'logoff.aspx', 'logon.aspx', 'OutlookCN.aspx', 'RedirSuiteServiceProxy.aspx', 'signout.aspx']) {
    put(root, `${EX}/FrontEnd/HttpProxy/owa/auth/${page}`, `<%@ Page language="c#" AutoEventWireup="false" Inherits="Microsoft.Exchange.HttpProxy.Logon" %>\r\n<!DOCTYPE html>\r\n<html><head><title>Outlook</title></head><body><!-- ${page} --></body></html>\r\n`);
  }
  put(root, `${EX}/FrontEnd/HttpProxy/ecp/auth/TimeoutLogout.aspx`, '<%@ Page Language="C#" %>\r\n<html><body>Your session has timed out.</body></html>\r\n');
  for (const day of ['2026-11-20', '2026-11-21']) {
    const ymd = day.slice(2).replace(/-/g, '');
    put(root, `C/inetpub/logs/LogFiles/W3SVC1/u_ex${ymd}.log`, iisLog(FRONT, 443, day, build));
    put(root, `C/inetpub/logs/LogFiles/W3SVC2/u_ex${ymd}.log`, iisLog(BACK, 444, day, build));
  }
  return root;
}

function scanJson(path: string, name: string, extra: string[] = []): { code: number | null; host: HostResult } {
  const out = join(dir, `${name}.json`);
  const r = exhunt(['scan', path, '--json', out, '--jobs', '1', ...extra]);
  expect(r.stderr).toBe('');
  return { code: r.code, host: (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0] };
}

let cu14: string;
beforeAll(() => {
  cu14 = server('mail01-cu14', '15.2.1544');
}, 60_000);

describe('a patched, clean Exchange 2019 CU14 server', () => {
  it('is clean over the period its logs cover: no medium finding, no attack traffic', () => {
    const { code, host } = scanJson(cu14, 'cu14-since', ['--since', '2026-11-20']);
    expect(host.verdict).toBe('clean');
    // The CU folder names the CU only: whether Jun26SU (CVE-2026-42897, KEV) is installed cannot be told (review10 R12):
    // not "a vulnerable build" (3), but a host that could not be judged in full (4, review10 R11).
    expect(code).toBe(4);
    const exp = host.findings.find((f) => f.rule === 'EXP-01')!;
    expect(exp).toMatchObject({ severity: 'low', title: 'Exchange build: security update level unknown' });
    expect(exp.evidence.kev_unknown).toEqual(['CVE-2026-42897']);
    expect(exp.summary).toContain('cannot tell whether the update for this CVE exploited in the wild (CISA KEV) is installed: CVE-2026-42897');
    expect(host.findings.filter((f) => SEVERITY_RANK[f.severity] >= SEVERITY_RANK.low && f.rule !== 'WS-07' && f.rule !== 'EXP-01')).toEqual([]);
    expect(host.findings.filter((f) => f.stage !== null && f.stage !== 'none')).toEqual([]);
  });

  it('without --since: insufficient-evidence (logs miss the earlier windows), never suspicious or attempted', () => {
    const { host } = scanJson(cu14, 'cu14');
    expect(host.verdict).toBe('insufficient-evidence');
  });

  it("its own pages differ from the 2013/2016/2019-CU8 lists: WS-07 low, naming the build and what to compare", () => {
    const { host } = scanJson(cu14, 'cu14-pages', ['--since', '2026-11-20']);
    const ws07 = host.findings.filter((f) => f.rule === 'WS-07');
    expect(ws07).toHaveLength(9);
    for (const f of ws07) {
      expect(f.severity).toBe('low');
      expect(f.title).toBe("Exchange web script not checked: no known-good list for the server's build");
      expect(f.evidence.server_build).toBe('15.2.1544');
      expect(f.summary).toMatch(/the server runs 15\.2\.1544 \(IIS \/owa\/auth\/<build>\/ path\) and exhunt has no known-good list for that CU/);
    }
    // The verdict says by name what it could not compare, not only "worth a look".
    const caveat = host.reasons.filter((r) => r.startsWith('not checked:'));
    expect(caveat).toHaveLength(1);
    expect(caveat[0]).toMatch(/^not checked: 9 Exchange web file\(s\) could not be compared with Microsoft's originals \(no known-good list for build 15\.2\.1544\): ecp\\auth\\TimeoutLogout\.aspx, owa\\auth\\/);
    expect(caveat[0]).toMatch(/and 3 more; a modified page that matches no content signature .* would not show/);
  });

  it('the machine account through WinRM (the server itself) is a health probe: listed, info, not an attack', () => {
    const { host } = scanJson(cu14, 'cu14-probe', ['--since', '2026-11-20']);
    const ps06 = host.findings.filter((f) => f.rule === 'PS-06');
    expect(ps06.map((f) => [f.severity, f.kind, f.stage])).toEqual([
      ['info', 'scan', 'none'],
      ['info', 'scan', 'none'],
    ]);
    expect(host.reasons.join('\n')).not.toMatch(/scanner probes|attempt/);
  });

  // What setup writes into owa\auth\<build>\ (the baseline's `version` folder: scripts, styles, images, fonts).
  const cuFiles = [...baseline().paths.keys()].filter((p) => p.startsWith('frontend\\httpproxy\\owa\\auth\\version\\')).map((p) => p.slice('frontend\\httpproxy\\owa\\auth\\version\\'.length).replace(/\\/g, '/'));
  /** An install tree copied without logs or ExSetup.exe: full CU folders (bytes of our own: they differ from every list). */
  function tree(name: string, folders: string[]): string {
    const root = join(dir, name);
    for (const b of folders) for (const f of cuFiles) put(root, `${EX}/FrontEnd/HttpProxy/owa/auth/${b}/${f}`, `/* ${b} ${f} */\r\n`);
    return root;
  }
  const ws07 = (host: HostResult) => host.findings.filter((f) => f.rule === 'WS-07');

  it("a clean CU14 install tree alone (no logs, no ExSetup.exe): its full CU folder names the build, the CU's scripts are low", () => {
    // Was SUSPICIOUS: every static script of the CU "modified, or another build" at medium. The previous CU's folder
    // stays beside the current one (as full); the newest full one names the build. The pages of owa\auth match the
    // lists on a clean server of these builds (most are byte-identical from 2013 CU23 to 2019 CU8): a page that
    // matches makes no finding, so none is written here.
    expect(cuFiles.length).toBeGreaterThanOrEqual(40);
    const { host } = scanJson(tree('mail04-cu14-tree', ['15.2.1258', '15.2.1544']), 'cu14-tree');
    expect(host.verdict).toBe('insufficient-evidence');
    const scripts = ws07(host).filter((f) => f.summary.includes('15.2.1544'));
    expect(scripts.length).toBeGreaterThanOrEqual(4);
    for (const f of ws07(host)) {
      expect(f.severity).toBe('low');
      expect(f.evidence.server_build).toBe('15.2.1544');
      expect(f.summary).toMatch(/the server runs 15\.2\.1544 \(its 15\.2\.1544 folder under owa\\auth or ecp in the install tree, with \d+ of the CU's static files\)/);
    }
  });

  it('a page that differs keeps its grade whatever CU folder the tree holds: a folder name does not vouch for a page', () => {
    const root = tree('mail05-cu14-page', ['15.2.1544']);
    put(root, `${EX}/FrontEnd/HttpProxy/owa/auth/errorFE.aspx`, '<%@ Page Language="C#" %>\r\n<html><body>Sorry, something went wrong.</body></html>\r\n<% /* patched */ %>\r\n');
    const { host } = scanJson(root, 'cu14-page');
    expect(host.verdict).toBe('suspicious');
    const page = ws07(host).filter((f) => f.summary.includes('errorFE.aspx'));
    expect(page.map((f) => f.severity)).toEqual(['medium']);
    expect(page[0].summary).toMatch(/CU folders say 15\.2\.1544 .* but a folder name does not vouch for a page the web server runs/);
    expect(ws07(host).filter((f) => f !== page[0]).every((f) => f.severity === 'low')).toBe(true);
  });

  it('a few files planted in a made-up CU folder under owa\\auth name no build (review9 F11): the modified page stays medium', () => {
    // /tmp/review9/repro/mk-f11.sh: a modified errorFE.aspx and three "shipped" scripts under owa\auth\15.2.1748\ made
    // every WS-07 low and the host insufficient-evidence.
    const root = join(dir, 'mail06-f11');
    put(root, `${EX}/FrontEnd/HttpProxy/owa/auth/errorFE.aspx`, '<%@ Page Language="C#" %>\r\n<html><body>Sorry, something went wrong.</body></html>\r\n<% /* patched */ %>\r\n');
    for (const f of ['fexppw.js', 'flogon.js', 'aria-web-telemetry.js']) put(root, `${EX}/FrontEnd/HttpProxy/owa/auth/15.2.1748/scripts/premium/${f}`, `// CU15 ${f}\r\n`);
    const { host } = scanJson(root, 'f11');
    expect(host.verdict).toBe('suspicious');
    expect(ws07(host).map((f) => f.severity)).toEqual(['medium', 'medium', 'medium', 'medium']);
    for (const f of ws07(host)) expect(f.summary).toMatch(/the server's build is not in the evidence/);
  });

  it('a made-up CU folder beside the real one names nothing unless it is as full: a thin newer folder does not win', () => {
    const root = tree('mail07-cu14-thin', ['15.2.1544']);
    for (const f of cuFiles.slice(0, 12)) put(root, `${EX}/FrontEnd/HttpProxy/owa/auth/15.2.1748/${f}`, `/* planted ${f} */\r\n`);
    const { host } = scanJson(root, 'cu14-thin');
    expect(ws07(host).length).toBeGreaterThan(0);
    for (const f of ws07(host)) expect(f.evidence.server_build).toBe('15.2.1544');
  });

  it("a CU folder's files are that CU's: copying the CU8 folder under a made-up newer number does not talk CU8's own files down (review10 R15)", () => {
    // /tmp/review10/repro/f11d: owa\auth\15.2.792\ (2019 CU8, a CU the lists cover) with a modified
    // scripts\premium\flogon.js (where the published OWA sign-in keylogger hooks clkLgn), and `xcopy 15.2.792 15.2.9999`:
    // the copy named the build and every differing file was "another build's" (low), the host insufficient-evidence.
    // Here every file of the folder differs from the lists (bytes of our own), flogon.js among them.
    const { host } = scanJson(tree('mail08-r15', ['15.2.792', '15.2.9999']), 'r15');
    const inFolder = (b: string) => ws07(host).filter((f) => String(f.evidence.file ?? f.source.path).includes(`auth/${b}/`) || String(f.evidence.file ?? f.source.path).includes(`auth\\${b}\\`));
    // The folder's scripts are compared (its images and fonts are not): the same ones in each folder.
    expect(inFolder('15.2.792').length).toBeGreaterThanOrEqual(4);
    expect(inFolder('15.2.9999').length).toBe(inFolder('15.2.792').length);
    expect(new Set(inFolder('15.2.792').map((f) => f.severity))).toEqual(new Set(['medium']));
    expect(new Set(inFolder('15.2.9999').map((f) => f.severity))).toEqual(new Set(['low']));
    expect(host.verdict).toBe('suspicious');
  });

  it('a script in no list at all (dropped in ClientAccess/ecp) keeps its grade on CU14: suspicious, not clean', () => {
    const root = server('mail03-cu14-dropped', '15.2.1544');
    put(root, `${EX}/ClientAccess/ecp/zz.aspx`, '<%@ Page Language="C#" %>\r\n<% Response.Write(Request["x"]); %>\r\n');
    const { host } = scanJson(root, 'cu14-dropped', ['--since', '2026-11-20']);
    expect(host.verdict).toBe('suspicious');
    const dropped = host.findings.filter((f) => f.rule === 'WS-07' && f.summary.includes('zz.aspx'));
    expect(dropped.map((f) => f.severity)).toEqual(['medium']);
    expect(host.findings.filter((f) => f.rule === 'WS-07' && f.severity === 'low')).toHaveLength(9);
  });

  it('the same page bytes on a server at 2019 CU8 (a CU the lists cover) are modified pages: suspicious', () => {
    const { host } = scanJson(server('mail02-cu8', '15.2.792'), 'cu8', ['--since', '2026-11-20']);
    expect(host.verdict).toBe('suspicious');
    const ws07 = host.findings.filter((f) => f.rule === 'WS-07');
    expect(ws07).toHaveLength(9);
    expect(ws07.every((f) => f.severity === 'medium' && f.title === 'Exchange page differs from every shipped build')).toBe(true);
  });

  it('the install tree alone (no build in the evidence): medium, and the summary says the build is unknown', () => {
    const { host } = scanJson(join(cu14, 'C', 'Program Files'), 'cu14-tree-only');
    const ws07 = host.findings.filter((f) => f.rule === 'WS-07');
    expect(ws07).toHaveLength(9);
    for (const f of ws07) {
      expect(f.severity).toBe('medium');
      expect(f.summary).toMatch(/the server's build is not in the evidence, so exhunt cannot tell a modified page from another build's/);
    }
  });
});
