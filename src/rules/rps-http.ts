// Remote PowerShell reached through the front end's SSRF (OWASSRF, ProxyNotShell) in the Rps_Http logs
// (`<EX>Logging\CmdletInfra\Powershell-Proxy\Http\Rps_Http_<yyyymmddhh>-N.LOG`). detections.md OW-04.
// The back end logs each PowerShell request with `ClientInfo`, the client's own name for itself: Exchange's
// Management Shell and remoting write `Microsoft WinRM Client`, its health probes `Exchange BackEnd Probes`, and a
// request proxied from OWA or autodiscover carries the attacker's user agent there (CrowdStrike, OWASSRF analysis,
// 2022-12-20, and its Rps_Http-IOC.ps1: any other non-empty value; 200 = possible successful RCE).
import type { LogRecord } from '../model.js';
import { orNull } from './matchers.js';
import type { RecordRule, RuleHit } from './types.js';

/** The ClientInfo values of Exchange's own PowerShell traffic (CrowdStrike Rps_Http-IOC.ps1; `ClientInfo` = a header row). */
const OWN_CLIENTS = new Set(['microsoft winrm client', 'exchange backend probes', 'clientinfo']);

const CROWDSTRIKE = 'https://www.crowdstrike.com/blog/owassrf-exploit-analysis-and-recommendations/';
const CROWDSTRIKE_SCRIPT = 'CrowdStrike/OWASSRF Rps_Http-IOC.ps1 (Rps_Http columns; ClientInfo other than empty, Microsoft WinRM Client, Exchange BackEnd Probes = proxied exploitation; 200 = possible success)';
const SIGBASE = 'Neo23x0/signature-base yara/expl_proxynotshell_owassrf_dec22.yar EXPL_LOG_ProxyNotShell_PowerShell_Proxy_Log_Dec22_1 (,/Powershell ,Kerberos,true, ,200,0,,,, in the PowerShell proxy log)';

/** The request's path from the client through the front end (ClientIpAddress may hold a chain: `203.0.113.7 10.1.2.3`). */
function route(f: Record<string, string>): string {
  const ips = (f.ClientIpAddress ?? '').trim().split(/\s+/).filter(Boolean);
  return [...ips, f.FrontEndServer, f.ServerHostName].filter((x) => x).join(' -> ');
}

function rpsHttpHit(rec: LogRecord): RuleHit | null {
  const f = rec.fields;
  if (!/^\/powershell(?:[/?]|$)/i.test(f.UrlStem ?? '')) return null;
  // The autodiscover.json SSRF's own traces in the query (`X-Rps-CAT=`, `Email=autodiscover/autodiscover.json…`): PS-15
  // grades those rows as the IIS rules do (ProxyShell / ProxyNotShell), more exactly than the client name can.
  if (/x-rps-cat|autodiscover\.json|autodiscover%2ejson/i.test(f.UrlQuery ?? '')) return null;
  const client = (f.ClientInfo ?? '').trim();
  if (!/\w/.test(client) || OWN_CLIENTS.has(client.toLowerCase())) return null;
  const status = f.HttpStatus ?? '';
  const ok = status === '200';
  const user = f.AuthenticatedUser || 'no user';
  return {
    grade: ok ? undefined : 'OW-04 attempt',
    summary: `PowerShell request from the client "${client}" (not Exchange's Management Shell or probes) as ${user}, ${route(f) || 'route not logged'}: HTTP ${status || '?'}${ok ? ', a cmdlet could run' : ''}`,
    evidence: {
      request_id: orNull(f.RequestId),
      client_info: client,
      url: orNull(f.UrlStem),
      url_query: orNull(f.UrlQuery),
      status: orNull(status),
      // `user`, as the IIS rules name it: next steps ask to reset the account an exploit ran as (OW-02, PNS-01, this).
      user: orNull(f.AuthenticatedUser),
      authentication_type: orNull(f.AuthenticationType),
      client_ips: orNull(f.ClientIpAddress),
      front_end: orNull(f.FrontEndServer),
      server: orNull(f.ServerHostName),
      command: orNull(f.CommandName),
    },
    client_ip: orNull((f.ClientIpAddress ?? '').trim().split(/\s+/)[0]),
  };
}

export const RPS_HTTP_RULES: RecordRule[] = [
  {
    id: 'OW-04',
    title: 'Remote PowerShell proxied for a foreign client (OWASSRF / ProxyNotShell) in Rps_Http logs',
    cves: ['CVE-2022-41040', 'CVE-2022-41080', 'CVE-2022-41082'],
    severity: 'high',
    kind: 'exploitation',
    references: [CROWDSTRIKE, CROWDSTRIKE_SCRIPT, SIGBASE],
    description:
      "A request to the back end's /powershell whose ClientInfo is neither Exchange's Management Shell (Microsoft WinRM Client) nor its probes: a request proxied through OWA (OWASSRF) or autodiscover (ProxyNotShell) carries the attacker's user agent there. Answered 200: the session was served, a cmdlet could run (a script of your own on a non-WinRM PowerShell client, such as pypsrp, shows the same: check the user and the source). Otherwise an attempt. A row whose query carries the autodiscover.json SSRF (X-Rps-CAT=, Email=autodiscover/autodiscover.json…) is PS-15's.",
    grades: [{ as: 'OW-04 attempt', severity: 'medium', kind: 'attempt', when: 'the request was not answered 200' }],
    formats: ['rps-http'],
    needles: ['/powershell'],
    attack: ['attack.initial-access', 'attack.t1190', 'attack.execution', 'attack.t1059.001'],
    match: rpsHttpHit,
  },
];
