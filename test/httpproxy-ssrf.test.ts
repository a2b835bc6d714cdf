// ProxyShell / ProxyNotShell / OWASSRF recorded in HttpProxy logs only (review10 R1): a copy of Exchange's Logging
// folder holds no IIS log, and IIS logs are the ones clean-up scripts delete. Rows in the 74-column layout of
// shared/reference/exchange-evidence.md §3.1, with the UrlStem/UrlQuery shapes it gives per protocol folder (PowerShell:
// `X-Rps-CAT=…&Email=autodiscover/autodiscover.json%3F@…`), the ZDI ProxyNotShell PoC URL and the OWASSRF PoC
// (CrowdStrike 2022-12-20; SigmaHQ 92d78c63 user agent, written as HttpProxy writes commas: two spaces). The same
// requests graded as IIS grades them, under the IIS ids; Exchange's own probes and clients stay clean.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scan } from '../src/engine/scan.js';
import type { HostResult } from '../src/model.js';

const FIELDS =
  'DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingType,RoutingHint,BackEndCookie,ServerLocatorHost,ServerLocatorLatency,RequestBytes,ResponseBytes,TargetOutstandingRequests,AuthModulePerfContext,HttpPipelineLatency,CalculateTargetBackEndLatency,GlsLatencyBreakup,TotalGlsLatency,AccountForestLatencyBreakup,TotalAccountForestLatency,ResourceForestLatencyBreakup,TotalResourceForestLatency,ADLatency,SharedCacheLatencyBreakup,TotalSharedCacheLatency,ActivityContextLifeTime,ModuleToHandlerSwitchingLatency,ClientReqStreamLatency,BackendReqInitLatency,BackendReqStreamLatency,BackendProcessingLatency,BackendRespInitLatency,BackendRespStreamLatency,ClientRespStreamLatency,KerberosAuthHeaderLatency,HandlerCompletionLatency,RequestHandlerLatency,HandlerToModuleSwitchingLatency,ProxyTime,CoreLatency,RoutingLatency,HttpProxyOverhead,TotalRequestTime,RouteRefresherLatency,UrlQuery,BackEndGenericInfo,GenericInfo,GenericErrors,EdgeTraceId,DatabaseGuid,UserADObjectGuid,PartitionEndpointLookupLatency,RoutingStatus'.split(',');

type Row = Record<string, string>;
const POC_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML  like Gecko) Chrome/105.0.5195.54 Safari/537.36';

/** One HttpProxy log: `#` directives of §3.0/§3.1, rows in the 74-column order, CRLF. */
function log(version: string, date: string, rows: Row[]): string {
  const [maj, min, build, rev] = version.split('.').map(Number);
  const base: Row = { MajorVersion: String(maj), MinorVersion: String(min), BuildVersion: String(build), RevisionVersion: String(rev), UrlHost: 'mail.contoso.se', ServerHostName: 'MAIL07', ProxyAction: 'Proxy', TargetServer: 'MAIL07.contoso.se', TargetServerVersion: version, RoutingType: 'IntraForest' };
  const line = (r: Row, i: number) => FIELDS.map((f) => ({ ...base, RequestId: `0b6f0a1e-${String(i).padStart(4, '0')}-4a3e-9b1e-5c7d8e9f0a1b`, ...r })[f] ?? '').join(',');
  return ['#Software: Microsoft Exchange Server', `#Version: ${version}`, '#Log-type: HttpProxy Logs', `#Date: ${date}`, `#Fields: ${FIELDS.join(',')}`, ...rows.map(line)].join('\r\n') + '\r\n';
}

const at = (iso: string, k: number) => new Date(Date.parse(iso) + k * 1000).toISOString();
const times = (iso: string, n: number) => Array.from({ length: n }, (_, k) => at(iso, k));

/** Exchange's own traffic in each folder: ActiveMonitor probes and EMS to /powershell, HealthMailbox and client autodiscover, explicit-logon OWA. */
function benign(t0: string): Record<string, Row[]> {
  return {
    PowerShell: times(t0, 6).flatMap((t, k) => [
      { DateTime: t, Protocol: 'PowerShell', UrlStem: '/powershell', AuthenticationType: 'Kerberos', IsAuthenticated: 'true', AuthenticatedUser: 'CONTOSO\\HealthMailbox8a3b3c1f2d4e4f5a9b7c6d5e4f3a2b1c', UserAgent: 'Microsoft WinRM Client', ClientIpAddress: '127.0.0.1', HttpStatus: '200', BackEndStatus: '200', Method: 'POST', UrlQuery: `?clientApplication=ActiveMonitor;PSVersion=5.1.17763.1852&sessionID=Version_15.2_(Build_857.0)=rJqNiZqNgbqWjZC${k}` },
      { DateTime: t, Protocol: 'PowerShell', UrlStem: '/powershell', AuthenticationType: 'Kerberos', IsAuthenticated: 'true', AuthenticatedUser: 'CONTOSO\\exadmin', UserAgent: 'Microsoft WinRM Client', ClientIpAddress: '10.1.2.7', HttpStatus: '200', BackEndStatus: '200', Method: 'POST', UrlQuery: '?serializationLevel=Full;ExchClientVer=15.2.858.5;clientApplication=ManagementShell;TargetServer=;PSVersion=5.1.17763.1852' },
    ]),
    Autodiscover: times(t0, 4).flatMap((t) => [
      { DateTime: t, Protocol: 'Autodiscover', UrlStem: '/Autodiscover/Autodiscover.json', AuthenticationType: 'Anonymous', IsAuthenticated: 'false', UserAgent: 'AMProbe/Local/ClientAccess', ClientIpAddress: '::1', HttpStatus: '200', BackEndStatus: '200', Method: 'GET', UrlQuery: '?Email=HealthMailbox8a3b3c1f2d4e4f5a9b7c6d5e4f3a2b1c%40contoso.se&Protocol=AutodiscoverV1&RedirectCount=1' },
      { DateTime: t, Protocol: 'Autodiscover', UrlStem: '/autodiscover/autodiscover.json/v1.0/anna.berg@contoso.se', AuthenticationType: 'Anonymous', IsAuthenticated: 'false', UserAgent: 'Outlook-iOS/2.0', ClientIpAddress: '81.230.14.9', HttpStatus: '200', BackEndStatus: '200', Method: 'GET', UrlQuery: '?Protocol=ActiveSync&RedirectCount=1' },
      { DateTime: t, Protocol: 'Autodiscover', UrlStem: '/autodiscover/autodiscover.json', AuthenticationType: 'Anonymous', IsAuthenticated: 'false', UserAgent: 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.14326; Pro)', ClientIpAddress: '10.1.40.23', HttpStatus: '200', BackEndStatus: '200', Method: 'GET', UrlQuery: '?Email=jonas.lind%40contoso.se&Protocol=Rest&RedirectCount=1' },
    ]),
    Owa: times(t0, 3).map((t) => ({ DateTime: t, Protocol: 'Owa', UrlStem: '/owa/shared.mailbox@contoso.se/', AuthenticationType: 'Cafe', IsAuthenticated: 'true', AuthenticatedUser: 'CONTOSO\\anna.berg', UserAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML  like Gecko) Chrome/119.0.0.0 Safari/537.36', ClientIpAddress: '10.1.40.23', HttpStatus: '200', BackEndStatus: '200', Method: 'GET', UrlQuery: '?bO=1' })),
  };
}

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

/** A host holding only Logging/HttpProxy/<folder>/HttpProxy_<yyyymmddhh>-1.LOG files. */
async function scanLogs(version: string, day: string, folders: Record<string, Row[]>): Promise<HostResult> {
  const root = mkdtempSync(join(tmpdir(), 'exhunt-hp-'));
  roots.push(root);
  for (const [folder, rows] of Object.entries(folders)) {
    const dir = join(root, 'Logging', 'HttpProxy', folder);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `HttpProxy_${day.replace(/-/g, '')}02-1.LOG`), log(version, `${day}T02:00:00.000Z`, rows));
  }
  const report = await scan({ paths: [root], jobs: 1, command: [], options: { since: `${day}T00:00:00.000Z`, sinceExplicit: true } });
  return report.hosts[0];
}

const graded = (h: HostResult) => h.findings.filter((f) => /^(PS|PNS|OW)-/.test(f.rule)).map((f) => `${f.rule} ${f.severity} ${f.kind}`);

describe('ProxyShell / ProxyNotShell / OWASSRF in HttpProxy logs', () => {
  it('ProxyShell SSRF rows of HttpProxy\\PowerShell (X-Rps-CAT, Email=autodiscover/autodiscover.json) → PS-02, compromised', async () => {
    const day = '2021-08-21';
    const attack = times(`${day}T02:14:48.000Z`, 3).map((t) => ({
      DateTime: t, Protocol: 'PowerShell', UrlStem: '/powershell', AuthenticationType: 'Kerberos', IsAuthenticated: 'true', AuthenticatedUser: 'CONTOSO\\administrator', UserAgent: 'python-requests/2.26.0', ClientIpAddress: '157.245.58.14', HttpStatus: '200', BackEndStatus: '200', Method: 'POST',
      UrlQuery: '?X-Rps-CAT=VgEAVAdXaW5kb3dzQwBBCEtlcmJlcm9zTBdhZG1pbmlzdHJhdG9yQGNvbnRvc28uc2U%3D&Email=autodiscover/autodiscover.json%3F@evil.corp',
    }));
    const rejected = { ...attack[0], DateTime: at(`${day}T02:10:00.000Z`, 0), HttpStatus: '401', BackEndStatus: '', AuthenticatedUser: '', IsAuthenticated: 'false' };
    const b = benign(`${day}T02:00:00.000Z`);
    const host = await scanLogs('15.02.0858.005', day, { ...b, PowerShell: [...b.PowerShell, rejected, ...attack] });
    expect(graded(host)).toEqual(['PS-01 medium attempt', ...attack.map(() => 'PS-02 critical exploitation')]);
    const hit = host.findings.find((f) => f.rule === 'PS-02')!;
    expect(hit.evidence).toMatchObject({ user: 'CONTOSO\\administrator', request_id: '0b6f0a1e-0013-4a3e-9b1e-5c7d8e9f0a1b', family: 'ProxyShell' });
    expect(hit.client_ip).toBe('157.245.58.14');
    expect(host.verdict).toBe('compromised');
  });

  it('the ZDI ProxyNotShell URL in HttpProxy\\Autodiscover, Basic-authenticated → PNS-01; a zgrab 404 check → PNS-04 scanner', async () => {
    const day = '2022-09-20';
    const pns = (t: string, status: string, ua: string, user: string) => ({
      DateTime: t, Protocol: 'Autodiscover', UrlStem: '/autodiscover/autodiscover.json', AuthenticationType: 'Basic', IsAuthenticated: user ? 'true' : 'false', AuthenticatedUser: user, UserAgent: ua, ClientIpAddress: '45.76.141.84', HttpStatus: status, BackEndStatus: status, Method: 'POST',
      UrlQuery: '?@zdi/Powershell?serializationLevel=Full;ExchClientVer=15.2.1118.7;clientApplication=ManagementShell;TargetServer=;PSVersion=5.1.17763.1852&Email=autodiscover/autodiscover.json%3F@zdi',
    });
    const host = await scanLogs('15.02.1118.007', day, {
      ...benign(`${day}T23:00:00.000Z`),
      Autodiscover: [...benign(`${day}T23:00:00.000Z`).Autodiscover, pns(`${day}T23:04:11.000Z`, '404', 'Mozilla/5.0 zgrab/0.x', ''), pns(`${day}T23:04:12.000Z`, '200', 'Microsoft WinRM Client', 'anna.berg@contoso.se')],
    });
    expect(graded(host)).toEqual(['PNS-04 low scan', 'PNS-01 critical exploitation']);
    expect(host.findings.find((f) => f.rule === 'PNS-01')!.evidence.user).toBe('anna.berg@contoso.se');
    expect(host.verdict).toBe('compromised');
  });

  it('OWASSRF in HttpProxy\\Owa: the public PoC (user agent as HttpProxy writes it) → OW-02, another mailbox → OW-01, a GET → attempt', async () => {
    const day = '2022-12-12';
    const ow = (t: string, stem: string, ua: string, method = 'POST') => ({ DateTime: t, Protocol: 'Owa', UrlStem: stem, AuthenticationType: 'Basic', IsAuthenticated: 'true', AuthenticatedUser: 'CONTOSO\\jonas.lind', UserAgent: ua, ClientIpAddress: '45.76.141.84', HttpStatus: '200', BackEndStatus: '200', Method: method, UrlQuery: '' });
    const host = await scanLogs('15.01.2507.013', day, {
      ...benign(`${day}T10:00:00.000Z`),
      Owa: [...benign(`${day}T10:00:00.000Z`).Owa, ow(`${day}T10:20:00.000Z`, '/owa/mastermailbox%40outlook.com/powershell', POC_UA), ow(`${day}T10:21:00.000Z`, '/owa/it.helpdesk@contoso.se/powershell', 'python-requests/2.28.1'), ow(`${day}T10:22:00.000Z`, '/owa/it.helpdesk@contoso.se/powershell', 'python-requests/2.28.1', 'GET')],
    });
    expect(graded(host)).toEqual(['OW-02 critical exploitation', 'OW-01 critical exploitation', 'OW-01 medium attempt']);
    expect(host.verdict).toBe('compromised');
  });

  it("Exchange's own probes, EMS sessions, client autodiscover and explicit-logon OWA in every folder raise nothing", async () => {
    const host = await scanLogs('15.02.1118.007', '2022-10-03', benign('2022-10-03T02:00:00.000Z'));
    expect(host.findings.filter((f) => f.kind !== 'exposure')).toEqual([]);
  });
});
