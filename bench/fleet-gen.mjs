// Generator of a fleet that floods the reports (issue 17, streaming results): HOSTS host folders, each with one
// HttpProxy log of FINDINGS ProxyLogon scanner probes (rule PL-04, one finding a line) from a pool of scanner IPs,
// and optionally FILES unknown pages in aspnet_client (one "not shipped" finding each). Shared by
// bench/fleet-memory.mjs (50 hosts × 32k findings, 200k files) and test/fleet-memory.test.ts (a smaller run).
//
// The probe line is the Nmap http-vuln-cve2021-26855 request of examples/evidence/mail03-scanned (HttpProxy
// layout: ../shared/reference/exchange-evidence.md §3.1): /owa/auth/x.js with X-AnonResource-Backend-Cookie
// `localhost/ecp/default.flt?`, answered 500 by the patched back end. Times, RequestIds and client IPs vary per line.
import { mkdirSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';

const HEADER = `#Software: Microsoft Exchange Server
#Version: 15.01.2176.009
#Log-type: HttpProxy Logs
#Date: 2021-03-07T15:04:04.533Z
#Fields: DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingType,RoutingHint,BackEndCookie,ServerLocatorHost,ServerLocatorLatency,RequestBytes,ResponseBytes,TargetOutstandingRequests,AuthModulePerfContext,HttpPipelineLatency,CalculateTargetBackEndLatency,GlsLatencyBreakup,TotalGlsLatency,AccountForestLatencyBreakup,TotalAccountForestLatency,ResourceForestLatencyBreakup,TotalResourceForestLatency,ADLatency,SharedCacheLatencyBreakup,TotalSharedCacheLatency,ActivityContextLifeTime,ModuleToHandlerSwitchingLatency,ClientReqStreamLatency,BackendReqInitLatency,BackendReqStreamLatency,BackendProcessingLatency,BackendRespInitLatency,BackendRespStreamLatency,ClientRespStreamLatency,KerberosAuthHeaderLatency,HandlerCompletionLatency,RequestHandlerLatency,HandlerToModuleSwitchingLatency,ProxyTime,CoreLatency,RoutingLatency,HttpProxyOverhead,TotalRequestTime,RouteRefresherLatency,UrlQuery,BackEndGenericInfo,GenericInfo,GenericErrors,EdgeTraceId,DatabaseGuid,UserADObjectGuid,PartitionEndpointLookupLatency,RoutingStatus
`;

const hex = (n, w) => n.toString(16).padStart(w, '0').slice(-w);
const uuid = (host, i) => `${hex(host * 2654435761, 8)}-${hex(i >>> 16, 4)}-4${hex(i, 3)}-8${hex(host, 3)}-${hex(i * 40503, 12)}`;

function probe(host, i, server, base) {
  const t = new Date(base + i * 1000).toISOString();
  const ip = `203.0.${113 + (i % 2)}.${(i % 250) + 2}`;
  return `${t},${uuid(host, i)},15,1,2176,9,,Owa,192.0.2.13,/owa/auth/x.js,,FBA,false,,,ServerInfo~localhost/ecp/default.flt?,Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html),${ip},${server},500,500,,GET,Proxy,localhost,0.00.0003.000,CrossRegion,X-AnonResource-Backend-Cookie,,,,0,85,1,,1,7,,,,,,,,,,86,,,,,77,,,,,,,,,,,,86,,,,BeginRequest=${t};CorrelationID=<empty>;ProxyState-Run=None;ProxyToDownLevel=True;ProxyState-Complete=ProxyResponseData;SharedCacheGuard=0;EndRequest=${t};,WebExceptionStatus=ProtocolError;ResponseStatusCode=500;WebException=System.Net.WebException: The remote server returned an error: (500) Internal Server Error.,,,,,\n`;
}

/**
 * Writes `hosts` host folders under `dir` (host01 …); returns their paths. `findings`: probe lines per host (in
 * hourly files of at most 20,000 lines); `files`: unknown .aspx pages in aspnet_client of the first host.
 */
export function makeFleet(dir, { hosts, findings, files = 0 }) {
  const out = [];
  for (let h = 1; h <= hosts; h++) {
    const server = `MAIL${String(h).padStart(2, '0')}`;
    const root = join(dir, `host${String(h).padStart(2, '0')}`);
    const logs = join(root, 'C/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Owa');
    mkdirSync(logs, { recursive: true });
    const base = Date.parse('2021-03-07T00:00:00.000Z');
    for (let start = 0, n = 0; start < findings; start += 20_000, n++) {
      const hour = new Date(base + start * 1000).toISOString();
      const fd = openSync(join(logs, `HttpProxy_${hour.slice(0, 10).replace(/-/g, '')}${hour.slice(11, 13)}-${n + 1}.LOG`), 'w');
      writeSync(fd, HEADER);
      let chunk = '';
      for (let i = start; i < Math.min(findings, start + 20_000); i++) {
        chunk += probe(h, i, server, base);
        if (chunk.length > 1 << 20) {
          writeSync(fd, chunk);
          chunk = '';
        }
      }
      writeSync(fd, chunk);
      closeSync(fd);
    }
    if (h === 1 && files > 0) {
      const web = join(root, 'C/inetpub/wwwroot/aspnet_client/system_web');
      mkdirSync(web, { recursive: true });
      for (let i = 0; i < files; i++) writeFileSync(join(web, `${hex(i * 2654435761, 8)}.aspx`), `<%@ Page Language="C#" %>\n<!-- ${i} -->\n`);
    }
    out.push(root);
  }
  return out;
}
