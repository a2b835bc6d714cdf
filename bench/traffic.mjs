// Realistic benign Exchange web traffic for the dense-log benches (issue 16): the request mix of a busy on-premises
// server, in the IIS W3C and HttpProxy layouts. Not a bench itself.
//
// Layouts and values: ../shared/reference/exchange-evidence.md §3.1 (HttpProxy, 74 columns, artefacts.help samples of
// Exchange 2016 CU23: AMProbe/Local/ClientAccess EWS probes, HealthMailbox MAPI and PowerShell rows with their
// `Server~` BackEndCookie, Outlook-iOS-Android ActiveSync, AppleExchangeWebServices autodiscover, zgrab on ECP) and
// §3.7 (IIS: the default 15 fields, `+` for spaces in the user agent, the front end's
// `&CorrelationID=<empty>;&cafeReqId=<guid>;&encoding=;` query suffix, the W3SVC2 back end on port 444).
// URL paths are Exchange's own virtual directories and files (/owa/auth/<build>/ static resources, logon.aspx,
// sessiondata.ashx, /ecp/<build>/ resources, /mapi/emsmdb/ and /mapi/nspi/, /EWS/Exchange.asmx, /OAB/<guid>/,
// /rpc/rpcproxy.dll, <vdir>/healthcheck.htm for load balancers, autodiscover.json/v1.0/<smtp> from Outlook mobile).
//
// The mix (share of lines, front end): no public per-protocol statistics of Exchange traffic exist, so the shares are
// an estimate of a mid-size organisation where most mailboxes use Outlook (MAPI/HTTP + EWS + autodiscover) and a
// phone (ActiveSync, Outlook mobile's autodiscover.json), a minority use OWA (a logon pulls dozens of static files),
// Managed Availability probes every virtual directory every few minutes, and a load balancer polls healthcheck.htm.
// The shares are printed by the bench with the share of lines that contain a rule needle (~a quarter on IIS, the
// density the issue measured on real-looking traffic).
import { HP_FIELDS, hpIdleLatencies } from './lib.mjs';

const BUILD = '15.1.2507';
const BUILD_FULL = '15.01.2507.000';
const ORG = 'example.org';
const SRV = { name: 'MAIL01', fqdn: 'MAIL01.corp.example.org', domain: 'corp.example.org', db: 'fb7adba2-51f4-47e3-b170-fd39f85aaf35', ip: '10.1.1.5' };
const CHROME = (r) => `Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/${r.int(110, 131)}.0.0.0+Safari/537.36+Edg/${r.int(110, 131)}.0.${r.int(1000, 2999)}.${r.int(10, 99)}`;
const OUTLOOK = (r) => `Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.${r.int(14000, 18000)};+Pro)`;
const MOBILE = (r) => r.pick([`Apple-iPhone${r.int(12, 16)}C${r.int(1, 5)}/${r.int(2000, 2200)}.${r.int(10, 99)}`, 'Outlook-iOS-Android/1.0', `Android-Mail/2023.${r.int(10, 12)}.${r.int(1, 30)}`, `SAMSUNG-SM-S${r.int(900, 999)}B/${r.int(100, 999)}`]);

// ---------------------------------------------------------------------------------------------------------------
// IIS W3C (date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer)
// sc-status sc-substatus sc-win32-status time-taken)

export const IIS_FIELDS = 'date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken';
export const IIS_TS0 = '2021-03-03 00:00:00'; // 19 characters, rewritten per line
const iisLine = (f) => [IIS_TS0, f.sip ?? SRV.ip, f.m, f.stem, f.q || '-', f.port ?? 443, f.user || '-', f.ip, f.ua || '-', f.ref || '-', f.s ?? 200, 0, 0, f.t ?? 15].join(' ');
const cafe = (r) => `&CorrelationID=<empty>;&cafeReqId=${r.guid()};&encoding=;`;
const user = (r) => `user${r.int(1000, 9999)}`;
const client = (r) => `${r.pick(['203.0.113', '198.51.100', '192.0.2', '10.20.30', '10.20.31'])}.${r.int(2, 254)}`;
const OWA_STATIC = [
  'scripts/boot.worker.js', 'scripts/premium/flogon.js', 'themes/resources/segoeui-regular.ttf', 'themes/resources/segoeui-semibold.ttf', 'themes/resources/favicon.ico',
  'resources/images/0/sprite1.mouse.png', 'resources/images/0/sprite1.mouse.css', 'resources/styles/0/boot.worldwide.mouse.css', 'scripts/microsoft.owa.boot.js', 'resources/images/0/owa_brand.png',
];
const ECP_STATIC = ['themes/default/fabric.color.css', 'scripts/microsoft.exchange.control.js', 'themes/default/images/icon.png', 'scripts/common.js', 'themes/resources/segoeui-regular.ttf'];
const OWA_ACTIONS = ['GetItem', 'FindItem', 'FindConversation', 'GetConversationItems', 'GetAttachmentDownloadToken', 'UpdateItem', 'CreateItem', 'GetOwaUserConfiguration', 'SubscribeToNotification'];
const HEALTH_VDIRS = ['/owa', '/ecp', '/EWS', '/mapi', '/Microsoft-Server-ActiveSync', '/Autodiscover', '/OAB', '/rpc'];

/** [weight, name, make(r)] of front-end (W3SVC1) requests; a line's share is its weight over the sum. */
const IIS_FRONT = [
  [200, 'ActiveSync (phones)', (r) => ({ m: 'POST', stem: '/Microsoft-Server-ActiveSync/default.eas', q: `Cmd=${r.pick(['Ping', 'Ping', 'Sync', 'Sync', 'FolderSync', 'ItemOperations', 'SendMail'])}&User=${user(r)}&DeviceId=${r.hex(32).toUpperCase()}&DeviceType=${r.pick(['iPhone', 'Outlook', 'SAMSUNGSMS911B', 'Android'])}${cafe(r)}`, user: `CORP\\${user(r)}`, ip: client(r), ua: MOBILE(r), t: r.int(50, 900000) })],
  [10, 'ActiveSync OPTIONS', (r) => ({ m: 'OPTIONS', stem: '/Microsoft-Server-ActiveSync/default.eas', q: cafe(r), user: `CORP\\${user(r)}`, ip: client(r), ua: MOBILE(r) })],
  [150, 'MAPI/HTTP emsmdb (Outlook)', (r) => ({ m: 'POST', stem: '/mapi/emsmdb/', q: `mailboxId=${r.guid()}@${ORG}${cafe(r)}`, user: `CORP\\${user(r)}`, ip: client(r), ua: OUTLOOK(r) })],
  [30, 'MAPI/HTTP nspi (Outlook)', (r) => ({ m: 'POST', stem: '/mapi/nspi/', q: `MailboxId=${r.guid()}@${ORG}${cafe(r)}`, user: `CORP\\${user(r)}`, ip: client(r), ua: OUTLOOK(r) })],
  [100, 'EWS (Outlook, Mac, Teams)', (r) => ({ m: 'POST', stem: '/EWS/Exchange.asmx', q: cafe(r), user: `CORP\\${user(r)}`, ip: client(r), ua: r.pick([OUTLOOK(r), `MacOutlook/16.${r.int(70, 90)}.23121017+(Intelx64+Mac+OS+X+14.2.1+(Build+23C71))`, 'AppleExchangeWebServices/818.120.2+accountsd/113', `Microsoft+Office/16.0+(Microsoft+Teams)`]) })],
  // The logon page's resources come from /owa/auth/<build>/ with the logon page as referrer; the mailbox's from /owa/prem/.
  [180, 'OWA static (/owa/prem, /owa/auth/<build>)', (r) => ({ m: 'GET', ...(r.int(0, 2) === 0 ? { stem: `/owa/auth/${BUILD}/${r.pick(OWA_STATIC)}`, ref: `https://mail.${ORG}/owa/auth/logon.aspx?url=https%3a%2f%2fmail.${ORG}%2fowa%2f&reason=0` } : { stem: `/owa/prem/${BUILD}/${r.pick(OWA_STATIC)}`, ref: `https://mail.${ORG}/owa/` }), q: cafe(r), ip: client(r), ua: CHROME(r), s: r.pick([200, 200, 304]) })],
  [45, 'OWA service.svc / ev.owa2', (r) => ({ m: 'POST', stem: r.pick(['/owa/service.svc', '/owa/ev.owa2']), q: `action=${r.pick(OWA_ACTIONS)}&app=Mail&n=${r.int(10, 99)}${cafe(r)}`, user: `CORP\\${user(r)}`, ip: client(r), ua: CHROME(r), ref: `https://mail.${ORG}/owa/` })],
  [40, 'OWA pages (logon.aspx, auth.owa, sessiondata.ashx)', (r) => ({ ...r.pick([
    { m: 'GET', stem: '/owa/', q: cafe(r), s: 302 },
    { m: 'GET', stem: '/owa/auth/logon.aspx', q: `url=https%3a%2f%2fmail.${ORG}%2fowa%2f&reason=0${cafe(r)}` },
    { m: 'POST', stem: '/owa/auth.owa', q: cafe(r), s: 302 },
    { m: 'GET', stem: '/owa/sessiondata.ashx', q: `appcacheclient=0${cafe(r)}`, user: `CORP\\${user(r)}` },
    { m: 'POST', stem: '/owa/userspecificresourceinjector.ashx', q: `ver=${BUILD}.0&appcacheclient=0${cafe(r)}`, user: `CORP\\${user(r)}` },
    { m: 'GET', stem: '/owa/prefetch.aspx', q: cafe(r), user: `CORP\\${user(r)}` },
  ]), ip: client(r), ua: CHROME(r), ref: `https://mail.${ORG}/owa/` })],
  [40, 'ECP (options, inbox rules, admin)', (r) => ({ ...r.pick([
    { m: 'GET', stem: `/ecp/${BUILD}/${r.pick(ECP_STATIC)}`, q: cafe(r) },
    { m: 'POST', stem: '/ecp/RulesEditor/InboxRules.svc/GetList', q: `msExchEcpCanary=${r.alnum(43)}.${cafe(r)}` },
    { m: 'GET', stem: '/ecp/', q: `rfr=owa&p=PersonalSettings/HomePage.aspx${cafe(r)}` },
    { m: 'GET', stem: '/ecp/PersonalSettings/HomePage.aspx', q: `showhelp=false&rfr=owa${cafe(r)}` },
    { m: 'POST', stem: '/ecp/DDI/DDIService.svc/GetList', q: `schema=MailboxService&msExchEcpCanary=${r.alnum(43)}.${cafe(r)}` },
  ]), user: `CORP\\${user(r)}`, ip: client(r), ua: CHROME(r), ref: `https://mail.${ORG}/ecp/` })],
  [50, 'Autodiscover XML (Outlook, Apple)', (r) => ({ m: 'POST', stem: '/autodiscover/autodiscover.xml', q: cafe(r), user: `CORP\\${user(r)}`, ip: client(r), ua: r.pick([OUTLOOK(r), 'AppleExchangeWebServices/818.120.2+accountsd/113']) })],
  [30, 'autodiscover.json (Outlook mobile)', (r) => ({ m: 'GET', stem: `/autodiscover/autodiscover.json/v1.0/${user(r)}@${ORG}`, q: `Protocol=${r.pick(['ActiveSync', 'Ews', 'Rest'])}&RedirectCount=1${cafe(r)}`, ip: client(r), ua: `Outlook-iOS/723.${r.int(4000000, 4099999)}.prod.iphone+(4.${r.int(2300, 2450)}.0)` })],
  [15, 'autodiscover.json (Outlook desktop)', (r) => ({ m: 'GET', stem: '/autodiscover/autodiscover.json', q: `Email=${user(r)}%40${ORG}&Protocol=AutodiscoverV1&RedirectCount=1${cafe(r)}`, ip: client(r), ua: OUTLOOK(r) })],
  [20, 'RPC over HTTP (Outlook Anywhere)', (r) => ({ m: r.pick(['RPC_IN_DATA', 'RPC_OUT_DATA']), stem: '/rpc/rpcproxy.dll', q: `${SRV.fqdn.toLowerCase()}:6001${cafe(r)}`, user: `CORP\\${user(r)}`, ip: client(r), ua: 'MSRPC' })],
  [20, 'OAB download (Outlook)', (r) => ({ m: 'GET', stem: `/OAB/${r.guid()}/${r.pick(['oab.xml', `${r.guid()}-data-${r.int(1, 99)}.lzx`])}`, q: cafe(r), user: `CORP\\${user(r)}`, ip: client(r), ua: 'Microsoft+BITS/7.8' })],
  [50, 'Managed Availability probes', (r) => ({ ...r.pick([
    { m: 'GET', stem: `${r.pick(HEALTH_VDIRS)}/healthcheck.htm`, ua: 'AMProbe/Local/ClientAccess' },
    { m: 'POST', stem: '/owa/auth.owa', ua: 'AMProbe/Local/ClientAccess', s: 302 },
    { m: 'GET', stem: '/ews/', user: `CORP\\HealthMailbox${r.hex(7)}`, ua: 'AMProbe/Local/ClientAccess' },
    { m: 'POST', stem: '/EWS/Exchange.asmx', user: `CORP\\HealthMailbox${r.hex(7)}`, ua: `Ews_AM_Probe/Local+(ExchangeServicesClient/${BUILD}.007)` },
    { m: 'POST', stem: '/mapi/emsmdb/', user: `CORP\\HealthMailbox${r.hex(7)}`, ua: 'MapiHttpClient' },
    { m: 'POST', stem: '/Microsoft-Server-ActiveSync/default.eas', user: `CORP\\HealthMailbox${r.hex(7)}`, ua: 'AMProbe/Local/ClientAccess' },
  ]), q: cafe(r), ip: r.pick(['127.0.0.1', '::1', SRV.ip]) })],
  [20, 'load-balancer health checks', (r) => ({ m: 'GET', stem: `${r.pick(HEALTH_VDIRS)}/healthcheck.htm`, q: cafe(r), ip: r.pick(['10.1.0.2', '10.1.0.3']), ua: '-' })],
  [15, 'remote PowerShell (probes, admins)', (r) => ({ m: 'POST', stem: '/powershell', q: `clientApplication=ActiveMonitor;PSVersion=5.1.17763.${r.int(1000, 5000)}${cafe(r)}`, user: `CORP\\${r.pick(['HealthMailbox' + r.hex(7), 'admin1'])}`, ip: SRV.ip, ua: 'Microsoft+WinRM+Client' })],
  [5, 'internet noise (/, favicon, robots)', (r) => ({ m: 'GET', stem: r.pick(['/', '/favicon.ico', '/robots.txt']), q: '', ip: `${r.int(11, 220)}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`, ua: r.pick(['Mozilla/5.0', CHROME(r)]), s: r.pick([200, 302, 404]) })],
];

/** [weight, name, make(r)] of back-end (W3SVC2, port 444) requests, proxied by the front end. */
const IIS_BACK = [
  [330, 'MAPI emsmdb/nspi', (r) => ({ m: 'POST', stem: r.pick(['/mapi/emsmdb/', '/mapi/emsmdb/', '/mapi/nspi/']), q: `mailboxId=${r.guid()}@${ORG}`, user: `CORP\\${user(r)}`, ua: OUTLOOK(r) })],
  [280, 'ActiveSync proxy', (r) => ({ m: 'POST', stem: '/Microsoft-Server-ActiveSync/Proxy/default.eas', q: `Cmd=${r.pick(['Ping', 'Sync', 'FolderSync'])}&User=${user(r)}&DeviceId=${r.hex(32).toUpperCase()}&DeviceType=iPhone`, user: `CORP\\${user(r)}`, ua: MOBILE(r) })],
  [180, 'EWS', (r) => ({ m: 'POST', stem: '/EWS/Exchange.asmx', q: '', user: `CORP\\${user(r)}`, ua: OUTLOOK(r) })],
  [80, 'OWA service', (r) => ({ m: 'POST', stem: '/owa/service.svc', q: `action=${r.pick(OWA_ACTIONS)}&app=Mail`, user: `CORP\\${user(r)}`, ua: CHROME(r) })],
  [50, 'Autodiscover', (r) => ({ m: 'POST', stem: '/autodiscover/autodiscover.xml', q: '', user: `CORP\\${user(r)}`, ua: OUTLOOK(r) })],
  [30, 'ECP', (r) => ({ m: 'POST', stem: '/ecp/RulesEditor/InboxRules.svc/GetList', q: `msExchEcpCanary=${r.alnum(43)}.`, user: `CORP\\${user(r)}`, ua: CHROME(r) })],
  [50, 'PowerShell (probes)', (r) => ({ m: 'POST', stem: '/powershell', q: `clientApplication=ActiveMonitor;PSVersion=5.1.17763.${r.int(1000, 5000)}`, user: `CORP\\HealthMailbox${r.hex(7)}`, ua: 'Microsoft+WinRM+Client' })],
];

/** `n` lines drawn by weight from `mix`: { lines, shares } (shares: name -> per-mille, as drawn). */
function draw(r, n, mix, toLine) {
  const total = mix.reduce((s, [w]) => s + w, 0);
  const lines = [];
  for (let i = 0; i < n; i++) {
    let x = r.int(0, total - 1);
    let k = 0;
    while (x >= mix[k][0]) x -= mix[k++][0];
    lines.push(toLine(mix[k][2](r)));
  }
  return lines;
}

const shares = (mix) => {
  const total = mix.reduce((s, [w]) => s + w, 0);
  return mix.map(([w, name]) => `${name} ${((100 * w) / total).toFixed(1)}%`).join(', ');
};
/** The weighted mixes as text, for the bench's log. */
export const IIS_MIX = { front: shares(IIS_FRONT), back: shares(IIS_BACK) };

/** Pools of realistic front-end and back-end IIS lines. */
export function iisPools(r, n) {
  return {
    front: draw(r, n, IIS_FRONT, iisLine),
    back: draw(r, Math.max(1, n >> 2), IIS_BACK, (f) => iisLine({ ...f, port: 444, ip: SRV.ip })),
  };
}

/** Real attack lines (HelseCERT, hamad-she, the OWASSRF write-ups) in the default layout. */
export function iisAttacks(r) {
  return [
    iisLine({ m: 'GET', stem: '/owa/auth/RedirSuiteServerProxy.aspx', q: cafe(r), ip: '139.162.202.236', ua: 'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/65.0.2345+Safari/537.36' }),
    iisLine({ m: 'POST', stem: '/autodiscover/autodiscover.json', q: `@evil.corp/powershell/?X-Rps-CAT=VgHvv71UB1dpbmRvd3ND77&Email=autodiscover/autodiscover.json%3F@evil.corp${cafe(r)}`, ip: '198.51.100.66', ua: 'Mozilla/5.0' }),
    iisLine({ m: 'POST', stem: '/owa/mastermailbox%40outlook.com/powershell', q: cafe(r), ip: '198.51.100.67', ua: 'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/88.0.4324.182+Safari/537.36' }),
    iisLine({ m: 'GET', stem: '/aspnet_client/system_web/aKdMadOeT.aspx', q: 'cmd=whoami', ip: '198.51.100.68', ua: 'Mozilla/5.0' }),
    iisLine({ m: 'POST', stem: '/owa/auth/Current/themes/resources/logon.css', q: cafe(r), ip: '198.51.100.69', ua: 'DuckDuckBot/1.0;+(+http://duckduckgo.com/duckduckbot.html)', s: 500 }),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// HttpProxy (74 columns): one folder per protocol, each with its own share of the day's bytes.

const HP_COLS = HP_FIELDS.split(',');
export const HP_TS0 = '2021-03-03T00:00:00.000Z';
const hpCell = (v) => (v === undefined ? '' : /[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const hpRow = (v) => HP_COLS.map((c) => hpCell(v[c])).join(',');
const hpUa = (ua) => ua.replace(/\+/g, ' ').replace(/,/g, ' '); // HttpProxy writes spaces, and no commas inside a CSV cell

function hpBase(r, protocol, ip) {
  const total = r.int(3, 900);
  const t = HP_TS0.slice(0, 11);
  return {
    DateTime: HP_TS0, RequestId: r.guid(), MajorVersion: '15', MinorVersion: '1', BuildVersion: '2507', RevisionVersion: '6', Protocol: protocol,
    IsAuthenticated: 'true', ServerHostName: SRV.name, HttpStatus: r.pick(['200', '200', '200', '200', '401', '302']), BackEndStatus: '200',
    ProxyAction: 'Proxy', TargetServer: SRV.fqdn, TargetServerVersion: BUILD_FULL, RoutingType: 'IntraForest', RequestBytes: String(r.int(0, 9000)),
    ResponseBytes: String(r.int(80, 90000)), ...hpIdleLatencies(), CalculateTargetBackEndLatency: String(r.int(0, 3)), ActivityContextLifeTime: String(total),
    ClientReqStreamLatency: '1', BackendReqInitLatency: '0', BackendProcessingLatency: String(Math.max(0, total - 4)), RequestHandlerLatency: String(total),
    ProxyTime: String(total - 3), CoreLatency: '3', RoutingLatency: '2', HttpProxyOverhead: '4', TotalRequestTime: String(total), ClientIpAddress: ip,
    GenericInfo: `BeginRequest=${t}00:00:00.000Z;CorrelationID=<empty>;ProxyState-Run=None;FEAuth=BEVersion-1942063431;RoutingEntry=DatabaseGuid:${SRV.db}%40${SRV.domain}%40${SRV.domain} Server:${SRV.fqdn}+1942063431@6380703675${r.int(10000000, 99999999)};NewConnection=${ip}&0;BeginGetRequestStream=${t}00:00:00.00${r.int(1, 9)}Z;OnRequestStreamReady=${t}00:00:00.00${r.int(1, 9)}Z;BeginGetResponse=${t}00:00:00.0${r.int(10, 99)}Z;OnResponseReady=${t}00:00:00.${r.int(100, 999)}Z;EndGetResponse=${t}00:00:00.${r.int(100, 999)}Z;ProxyState-Complete=ProxyResponseData;SharedCacheGuard=0;EndRequest=${t}00:00:00.${r.int(100, 999)}Z;`,
    DatabaseGuid: `|RoutingDB:${SRV.db}`, RoutingStatus: 'CafeV1',
  };
}
const sid = (r) => `Sid~S-1-5-21-1234567890-987654321-123456789-${r.int(1100, 9999)}`;
const dbCookie = (r) => `Database~${SRV.db}~~2021-04-02T0${r.int(0, 9)}:00:00~${SRV.domain}~1`;
const hpClient = (r) => r.pick([`10.20.${r.int(0, 9)}.${r.int(2, 254)}`, `192.168.${r.int(10, 90)}.${r.int(2, 254)}`, `fe80::${r.hex(4)}:${r.hex(4)}:${r.hex(4)}:${r.hex(4)}%3`]);
const probe = (r) => ({ AuthenticatedUser: `CORP\\HealthMailbox${r.hex(7)}`, ClientIpAddress: r.pick(['127.0.0.1', '::1']) });

/** Per protocol folder: its share of the bytes (per mille) and its row kinds [weight, fields(r)]. */
const HP_FOLDERS = {
  Mapi: [300, [
    [95, (r) => ({ ClientRequestId: `R:${r.guid()}:${r.int(1, 40)};RT:${r.pick(['Execute', 'Execute', 'Connect', 'Disconnect'])};CI:${r.guid()}:1;CID:${r.guid()}`, UrlHost: SRV.fqdn, UrlStem: r.pick(['/mapi/emsmdb/', '/mapi/emsmdb/', '/mapi/nspi/']), AuthenticationType: 'Negotiate', Organization: SRV.domain, AnchorMailbox: `MailboxGuid~${r.guid()}`, UserAgent: 'MapiHttpClient', Method: 'POST', RoutingHint: 'MailboxGuidWithDomain', BackEndCookie: `Database~${SRV.db}~~2021-04-02T01:00:04`, UrlQuery: `?mailboxId=${r.guid()}@${SRV.domain}` })],
    [5, (r) => ({ ...probe(r), UrlHost: SRV.fqdn, UrlStem: '/mapi/emsmdb/', AuthenticationType: 'Negotiate', AnchorMailbox: `MailboxGuid~${r.guid()}`, UserAgent: 'MapiHttpClient', Method: 'POST', RoutingHint: 'MailboxGuidWithDomain', UrlQuery: `?mailboxId=${r.guid()}@${SRV.domain}` })],
  ]],
  Eas: [220, [
    [100, (r) => ({ UrlHost: `mail.${ORG}`, UrlStem: '/Microsoft-Server-ActiveSync/default.eas', AuthenticationType: 'Basic', AnchorMailbox: sid(r), UserAgent: hpUa(MOBILE(r)), Method: r.pick(['POST', 'POST', 'POST', 'OPTIONS']), RoutingHint: 'WindowsIdentity-NoDatabase', UrlQuery: `?Cmd=${r.pick(['Ping', 'Sync', 'FolderSync'])}&User=${SRV.domain}%5Cuser${r.int(1000, 9999)}&DeviceId=${r.hex(32).toUpperCase()}&DeviceType=Outlook` })],
  ]],
  Ews: [170, [
    [90, (r) => ({ UrlHost: `mail.${ORG}`, UrlStem: '/EWS/Exchange.asmx', AuthenticationType: 'NTLM', AnchorMailbox: sid(r), UserAgent: hpUa(OUTLOOK(r)), Method: 'POST', RoutingHint: 'WindowsIdentity', BackEndCookie: dbCookie(r) })],
    [10, (r) => ({ ...probe(r), UrlHost: 'localhost', UrlStem: '/ews/', AuthenticationType: 'Negotiate', AnchorMailbox: sid(r), UserAgent: 'AMProbe/Local/ClientAccess', Method: 'GET', RoutingHint: 'WindowsIdentity' })],
  ]],
  Owa: [130, [
    [60, (r) => ({ UrlHost: `mail.${ORG}`, UrlStem: r.pick(['/owa/service.svc', '/owa/ev.owa2']), ProtocolAction: r.pick(OWA_ACTIONS), AuthenticationType: 'Negotiate', AnchorMailbox: sid(r), UserAgent: hpUa(CHROME(r)), Method: 'POST', RoutingHint: 'WindowsIdentity', BackEndCookie: dbCookie(r), UrlQuery: `?action=${r.pick(OWA_ACTIONS)}&app=Mail&n=${r.int(10, 99)}` })],
    [35, (r) => ({ UrlHost: `mail.${ORG}`, UrlStem: `/owa/prem/${BUILD}/${r.pick(OWA_STATIC)}`, AuthenticationType: 'Negotiate', AnchorMailbox: sid(r), UserAgent: hpUa(CHROME(r)), Method: 'GET', RoutingHint: 'WindowsIdentity', BackEndCookie: dbCookie(r) })],
    [5, (r) => ({ UrlHost: `mail.${ORG}`, UrlStem: r.pick(['/owa/auth/logon.aspx', '/owa/auth.owa', '/owa/']), IsAuthenticated: 'false', UserAgent: hpUa(CHROME(r)), Method: r.pick(['GET', 'POST']), HttpStatus: '302', ProxyAction: '', TargetServer: '', TargetServerVersion: '', RoutingType: '' })],
  ]],
  Autodiscover: [70, [
    [70, (r) => ({ UrlHost: `autodiscover.${ORG}`, UrlStem: '/autodiscover/autodiscover.xml', AuthenticationType: 'NTLM', AnchorMailbox: sid(r), UserAgent: r.pick([hpUa(OUTLOOK(r)), 'AppleExchangeWebServices/818.120.2 accountsd/113']), Method: 'POST', RoutingHint: 'WindowsIdentity', BackEndCookie: `Database~${SRV.db}~~2021-04-02T18:59:59~${SRV.domain}~1` })],
    [30, (r) => ({ UrlHost: `autodiscover.${ORG}`, UrlStem: `/autodiscover/autodiscover.json/v1.0/user${r.int(1000, 9999)}@${ORG}`, AuthenticationType: 'Anonymous', IsAuthenticated: 'false', AnchorMailbox: `Smtp~user${r.int(1000, 9999)}@${ORG}`, UserAgent: `Outlook-iOS/723.${r.int(4000000, 4099999)}.prod.iphone (4.${r.int(2300, 2450)}.0)`, Method: 'GET', RoutingHint: 'Smtp', UrlQuery: '?Protocol=ActiveSync&RedirectCount=1' })],
  ]],
  PowerShell: [50, [
    // Every real PowerShell row carries a Server~ BackEndCookie: all of them pass the `Server~` prefilter (PL-06).
    [100, (r) => ({ ...probe(r), UrlHost: SRV.fqdn.toLowerCase(), UrlStem: '/powershell', ProtocolAction: r.pick(['New-PSSession:Receive', 'Get-Mailbox:Command', 'Remove-PSSession:Receive', 'Get-ExchangeServer:Command']), AuthenticationType: 'Kerberos', AnchorMailbox: `ServerVersion~Version 15.1 (Build 2507.0)`, UserAgent: 'Microsoft WinRM Client', Method: 'POST', RoutingHint: 'ExchClientVer-ServerCookie', BackEndCookie: `Server~${SRV.fqdn.toLowerCase()}~1942063431~2021-03-03T16:11:44`, UrlQuery: `?clientApplication=ActiveMonitor;PSVersion=5.1.17763.${r.int(1000, 5000)}&sessionID=Version_15.1_(Build_2507.0)=${r.alnum(60)}=` })],
  ]],
  Ecp: [30, [
    [90, (r) => ({ UrlHost: `mail.${ORG}`, UrlStem: r.pick(['/ecp/RulesEditor/InboxRules.svc/GetList', `/ecp/${BUILD}/${r.pick(ECP_STATIC)}`, '/ecp/PersonalSettings/HomePage.aspx']), AuthenticationType: 'Negotiate', AnchorMailbox: sid(r), UserAgent: hpUa(CHROME(r)), Method: 'POST', RoutingHint: 'WindowsIdentity', UrlQuery: `?msExchEcpCanary=${r.alnum(43)}.` })],
    [10, (r) => ({ ...probe(r), UrlHost: 'localhost', UrlStem: '/ecp/', AuthenticationType: 'Negotiate', AnchorMailbox: sid(r), UserAgent: 'AMProbe/Local/ClientAccess', Method: 'GET', RoutingHint: 'WindowsIdentity' })],
  ]],
  RpcHttp: [20, [
    [100, (r) => ({ UrlHost: `mail.${ORG}`, UrlStem: '/rpc/rpcproxy.dll', AuthenticationType: 'NTLM', AnchorMailbox: sid(r), UserAgent: 'MSRPC', Method: r.pick(['RPC_IN_DATA', 'RPC_OUT_DATA']), RoutingHint: 'WindowsIdentity', UrlQuery: `?${SRV.fqdn.toLowerCase()}:6001` })],
  ]],
  Oab: [10, [
    [100, (r) => ({ UrlHost: `mail.${ORG}`, UrlStem: `/OAB/${r.guid()}/oab.xml`, AuthenticationType: 'Negotiate', AnchorMailbox: sid(r), UserAgent: 'Microsoft BITS/7.8', Method: 'GET', RoutingHint: 'WindowsIdentity', BackEndCookie: dbCookie(r) })],
  ]],
};

/** The folder shares as text, for the bench's log. */
export const HP_MIX = shares(Object.entries(HP_FOLDERS).map(([p, [share]]) => [share, p]));

/** Per protocol folder: { share (0..1), rows: n realistic rows }. */
export function httpProxyPools(r, n) {
  return Object.fromEntries(
    Object.entries(HP_FOLDERS).map(([protocol, [share, kinds]]) => {
      const mix = kinds.map(([w, make]) => [w, protocol, make]);
      const rows = draw(r, n, mix, (fields) => hpRow({ ...hpBase(r, protocol, hpClient(r)), AuthenticatedUser: `CORP\\user${r.int(1000, 9999)}`, ...fields }));
      return [protocol, { share: share / 1000, rows }];
    }),
  );
}
