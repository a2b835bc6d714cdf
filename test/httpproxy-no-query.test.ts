// HttpProxy logs without the UrlQuery column (an older build's shorter layout, or a copy that kept some columns: the
// HelseCERT incident's Test-ProxyLogon export of HttpProxy\Ecp has 9, exchange-evidence.md §3.1) cannot show
// ProxyShell or ProxyNotShell, whose requests are told by the query (`?@…/powershell`, `X-Rps-CAT=`,
// `Email=autodiscover/autodiscover.json%3F@…`). Like IIS logs without cs-uri-query (review10 R17), they must not make
// a host clean for those families: their coverage row, the reasons and the windows say why.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scan } from '../src/engine/scan.js';
import type { HostResult } from '../src/model.js';

const FULL =
  'DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingType,RoutingHint,BackEndCookie,ServerLocatorHost,ServerLocatorLatency,RequestBytes,ResponseBytes,TargetOutstandingRequests,AuthModulePerfContext,HttpPipelineLatency,CalculateTargetBackEndLatency,GlsLatencyBreakup,TotalGlsLatency,AccountForestLatencyBreakup,TotalAccountForestLatency,ResourceForestLatencyBreakup,TotalResourceForestLatency,ADLatency,SharedCacheLatencyBreakup,TotalSharedCacheLatency,ActivityContextLifeTime,ModuleToHandlerSwitchingLatency,ClientReqStreamLatency,BackendReqInitLatency,BackendReqStreamLatency,BackendProcessingLatency,BackendRespInitLatency,BackendRespStreamLatency,ClientRespStreamLatency,KerberosAuthHeaderLatency,HandlerCompletionLatency,RequestHandlerLatency,HandlerToModuleSwitchingLatency,ProxyTime,CoreLatency,RoutingLatency,HttpProxyOverhead,TotalRequestTime,RouteRefresherLatency,UrlQuery,BackEndGenericInfo,GenericInfo,GenericErrors,EdgeTraceId,DatabaseGuid,UserADObjectGuid,PartitionEndpointLookupLatency,RoutingStatus'.split(',');
/** The layout up to the column before UrlQuery: what a build that logs fewer trailing columns writes. */
const OLDER = FULL.slice(0, FULL.indexOf('UrlQuery'));
/** Test-ProxyLogon's Export-Csv of HttpProxy (HelseCERT): 9 columns, a #TYPE line, a quoted header. */
const EXPORT = ['DateTime', 'RequestId', 'ClientIpAddress', 'UrlHost', 'UrlStem', 'RoutingHint', 'UserAgent', 'AnchorMailbox', 'HttpStatus'];
const DAYS = ['2021-08-20', '2021-08-21', '2021-08-22'];

type Row = Record<string, string>;

/** A day of HttpProxy\Autodiscover: Outlook's autodiscover at the day's edges and, on 08-21, the ProxyShell SSRF answered 200. */
function rows(day: string): Row[] {
  const client = (t: string): Row => ({ DateTime: `${day}T${t}.000Z`, Protocol: 'Autodiscover', UrlStem: '/autodiscover/autodiscover.json', UserAgent: 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.14326; Pro)', ClientIpAddress: '10.1.40.23', HttpStatus: '200', BackEndStatus: '200', Method: 'GET', UrlQuery: '?Email=jonas.lind%40contoso.se&Protocol=Rest&RedirectCount=1' });
  const out = [client('00:00:07'), client('23:59:41')];
  if (day === '2021-08-21')
    out.splice(1, 0, ...[0, 1, 2].map((k) => ({ DateTime: `${day}T02:14:4${k}.000Z`, Protocol: 'Autodiscover', UrlStem: '/autodiscover/autodiscover.json', UserAgent: 'python-requests/2.26.0', ClientIpAddress: '157.245.58.14', HttpStatus: '200', BackEndStatus: '200', Method: 'POST', UrlQuery: '?@evil.corp/autodiscover/autodiscover.json%3F@evil.corp/powershell/?X-Rps-CAT=VgEAVAdXaW5k&Email=autodiscover/autodiscover.json%3F@evil.corp' })));
  return out.map((r, i) => ({ RequestId: `9a7e51c2-${day.slice(8)}${i}0-4b1d-8c3e-2f6a7b8c9d0e`, MajorVersion: '15', MinorVersion: '2', BuildVersion: '858', RevisionVersion: '5', UrlHost: 'mail.contoso.se', ServerHostName: 'MAIL07', ...r }));
}

function file(day: string, fields: string[]): string {
  const line = (r: Row) => fields.map((f) => r[f] ?? '').join(',');
  if (fields === EXPORT) return ['#TYPE Selected.System.Management.Automation.PSCustomObject', fields.map((f) => `"${f}"`).join(','), ...rows(day).map((r) => fields.map((f) => `"${r[f] ?? ''}"`).join(','))].join('\r\n') + '\r\n';
  return ['#Software: Microsoft Exchange Server', '#Version: 15.02.0858.005', '#Log-type: HttpProxy Logs', `#Date: ${day}T00:00:00.000Z`, `#Fields: ${fields.join(',')}`, ...rows(day).map(line)].join('\r\n') + '\r\n';
}

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

async function host(fields: string[], since?: string): Promise<HostResult> {
  const root = mkdtempSync(join(tmpdir(), 'exhunt-hpnoq-'));
  roots.push(root);
  const dir = join(root, 'Logging', 'HttpProxy', 'Autodiscover');
  mkdirSync(dir, { recursive: true });
  for (const d of DAYS) writeFileSync(join(dir, `HttpProxy_${d.replace(/-/g, '')}00-1.LOG`), file(d, fields));
  const report = await scan({ paths: [root], jobs: 1, command: [], options: since ? { since: `${since}T00:00:00.000Z`, sinceExplicit: true } : {} });
  return report.hosts[0];
}

describe('HttpProxy logs without UrlQuery', () => {
  it('with UrlQuery, the same SSRF is PS-02 (the control)', async () => {
    const h = await host(FULL, '2021-08-20');
    expect(h.findings.filter((f) => f.rule === 'PS-02').length).toBe(3);
    expect(h.verdict).toBe('compromised');
  });

  for (const [name, fields] of [['an older layout without the trailing columns', OLDER], ["Test-ProxyLogon's 9-column export", EXPORT]] as const) {
    it(`${name}: --since is not clean; the coverage row and the reasons say UrlQuery is missing`, async () => {
      const h = await host(fields, '2021-08-20');
      expect(h.findings.filter((f) => f.kind !== 'exposure')).toEqual([]);
      expect(h.coverage.map((c) => [c.source, c.records, c.query_unlogged])).toEqual([['HttpProxy/Autodiscover (no query string logged)', 9, true]]);
      expect(h.verdict).toBe('insufficient-evidence');
      const reasons = h.reasons.join('\n');
      expect(reasons).toMatch(/HttpProxy\/Autodiscover \(no query string logged\) has no UrlQuery column, so ProxyShell \/ ProxyNotShell requests/);
      expect(reasons).toMatch(/the whole HttpProxy files .* or IIS logs with cs-uri-query record the query string/);
    });
  }

  it('exposure windows: the ProxyShell window is not covered by them, and says why; ProxyLogon\'s is', async () => {
    const h = await host(OLDER);
    const w = (fam: string) => h.exposure_windows!.find((x) => x.family === fam)!;
    expect(w('proxyshell').covered).toBe(false);
    expect(w('proxyshell').text).toMatch(/no HttpProxy or IIS logs that record query strings; HttpProxy\/Autodiscover \(no query string logged\) cannot show ProxyShell/);
    expect(w('proxylogon').logs?.source).toBe('HttpProxy/Autodiscover (no query string logged)');
    expect(h.verdict).toBe('insufficient-evidence');
  });
});
