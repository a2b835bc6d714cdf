// Detections over Windows event-log records (LogRecord.format 'evtx'; field names: src/engine/scanners/evtx.ts).
// IDs and conditions follow shared/reference/detections.md (PL-25/26, PL-40..42, PS-07..11, PX-01..03, PX-06,
// PX-11/PS-13, PX-13, PX-16). Every value read here is attacker-controlled text.
import type { EvidenceValue, LogRecord } from '../model.js';
import { longFolderNames, orNull } from './matchers.js';
import { REF } from './references.js';
import type { RecordRule, RuleHit } from './types.js';
import { compileCondition, type Condition } from './conditions.js';
import { sigmaFieldReader } from './sigma-fields.js';
import { CMDLET_RULES } from './cmdlets.js';
import { TUNNEL_TOOLS, TUNNEL_TOOL_REFS } from './tools.js';
import { WEB_SCRIPT } from './files/sweep.js';
import { splitContainer } from '../parsers/defender.js';

// Declarative (a `condition` over the Sigma fields of their logsource, exported to Sigma): PL-40, PL-41, PS-07
// (Application log) and PX-16 (Defender). Code matchers, and why:
// - PX-01, PX-02 and PX-06 read process creation in two schemas (Sysmon 1 Image / ParentImage / ParentCommandLine,
//   Security 4688 NewProcessName / ParentProcessName), and PX-11 Sysmon 11 file creation. Sigma's process_creation
//   and file_event categories name neither the channel nor the event id, and data/sigma/field-mapping.json has no
//   logsource that maps one category onto two event schemas, so a condition here could neither export nor import.
//   PX-01 (markers in the command line) and PX-11 (writer process, file name; its grades by writer) would otherwise
//   be plain conditions.
// - PX-02 also takes the app pool out of the parent's command line (`-ap "<pool>"`) to grade PX-03.
// - PX-06 searches one script line at a time (procdump … lsass on the same line; a regex over the whole script
//   would be quadratic).
// The cmdlet rules (MSExchange Management) are in cmdlets.ts and partly declarative.
const FORMATS = ['evtx'] as const;

const R = {
  testProxyLogon: 'microsoft/CSS-Exchange Security/src/Test-ProxyLogon.ps1 (Get-WinEvent Application, MSExchange Unified Messaging, Level 2)',
  msHafniumBlog: REF.msHafniumBlog,
  chirp: REF.chirp,
  sentinelUm: 'Azure/Azure-Sentinel HAFNIUMSuspiciousUMServiceError.yaml (0625fcce)',
  sigmaUmChild: 'SigmaHQ/sigma "Potential CVE-2021-26857 Exploitation Attempt" (cd479ccc)',
  elasticUmChild: 'elastic/detection-rules "Microsoft Exchange Server UM Spawning Suspicious Processes"',
  beaumontRbac: 'GossiTheDog Exchange-ProxyShell-RBAC hunting query (MSExchange RBAC event 23)',
  sigmaChopper: 'SigmaHQ/sigma "Chopper Webshell Process Pattern" (fa3c117a)',
  redCanary: 'https://redcanary.com/blog/microsoft-exchange-attacks/',
  sigmaWebChild: 'SigmaHQ/sigma "Suspicious Process By Web Server Process" (8202070f)',
  elasticWorker: 'elastic/detection-rules "Microsoft Exchange Worker Spawning Suspicious Processes"',
  sigmaComsvcs: 'SigmaHQ/sigma bbb2dedd (HAFNIUM: rundll32 comsvcs.dll MiniDump)',
  volexity: REF.volexity,
  sigmaAspxWrite: 'SigmaHQ/sigma bd1212e5 / 6b269392 (w3wp writing .aspx) and 7280c9f3 (MSExchangeMailboxReplication writing .aspx)',
  helsecertSysmon11: 'helsecert/2021-march-exchange README.md (Sysmon 11 on C:\\inetpub\\wwwroot*)',
  artefactsHelp: 'Qazeer/artefacts.help microsoft_exchange.md (Defender names seen on Exchange)',
} as const;

// --- field access --------------------------------------------------------------------------------------------

const f = (rec: LogRecord, name: string): string => rec.fields[name] ?? '';
const eventId = (rec: LogRecord): string => f(rec, 'EventID');
const lower = (s: string): string => s.toLowerCase();
/** A one-line excerpt for summaries (evidence keeps the full value). */
const snippet = (s: string): string => s.replace(/\s+/g, ' ').trim().slice(0, 200);
const baseName = (path: string): string => lower(path.slice(Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/')) + 1));

/** Process creation: Sysmon 1 (Image/ParentImage) or Security 4688 (NewProcessName/ParentProcessName). */
function processEvent(rec: LogRecord): { image: string; parent: string; cmd: string; parentCmd: string; pid: number | null; parentPid: number | null } | null {
  const id = eventId(rec);
  if (id === '1' && f(rec, 'Provider') === 'Microsoft-Windows-Sysmon') {
    return { image: f(rec, 'Image'), parent: f(rec, 'ParentImage'), cmd: f(rec, 'CommandLine'), parentCmd: f(rec, 'ParentCommandLine'), pid: processId(f(rec, 'ProcessId')), parentPid: processId(f(rec, 'ParentProcessId')) };
  }
  if (id === '4688') {
    return { image: f(rec, 'NewProcessName'), parent: f(rec, 'ParentProcessName'), cmd: f(rec, 'CommandLine'), parentCmd: '', pid: processId(f(rec, 'NewProcessId')), parentPid: processId(f(rec, 'ProcessId')) };
  }
  return null;
}

/** A process id as Sysmon (decimal) or Security 4688 (hex, `0x1a2c`) writes it; null when it is neither. */
function processId(s: string): number | null {
  const v = s.trim();
  if (/^\d{1,10}$/.test(v)) return Number(v);
  return /^0x[0-9a-f]{1,8}$/i.test(v) ? Number.parseInt(v.slice(2), 16) : null;
}

function processEvidence(p: NonNullable<ReturnType<typeof processEvent>>, rec: LogRecord): Record<string, EvidenceValue> {
  return {
    process: p.image,
    command_line: p.cmd,
    parent_process: orNull(p.parent),
    parent_command_line: orNull(p.parentCmd),
    pid: p.pid,
    parent_pid: p.parentPid,
    user: orNull(f(rec, 'User') || f(rec, 'SubjectUserName')),
    event_id: Number(eventId(rec)),
    computer: orNull(f(rec, 'Computer')),
    channel: orNull(f(rec, 'Channel')),
  };
}

const rule = (r: Omit<RecordRule, 'formats' | 'needles'>): RecordRule => ({ formats: FORMATS, needles: [], ...r });

/**
 * A rule whose `condition`, over the Sigma fields of `logsource` (data/sigma/field-mapping.json), decides; `hit`
 * only words the finding. Exported to Sigma under that logsource.
 */
function declared(r: Omit<RecordRule, 'formats' | 'needles' | 'match' | 'sigmaExport'> & { condition: Condition; logsource: string; hit(rec: LogRecord): RuleHit }): RecordRule {
  const { hit, logsource, ...meta } = r;
  const test = compileCondition(r.condition, sigmaFieldReader(logsource));
  return { ...meta, formats: FORMATS, needles: [], sigmaExport: { logsource }, match: (rec) => (test(rec) ? hit(rec) : null) };
}

const APPLICATION = 'windows-application';
const DEFENDER = 'windows-defender';
const field = (name: string, op: 'equals' | 'startswith' | 'contains', ...values: string[]): Condition => ({ field: name, op, values });
/** Field-less: Sigma keywords, the event's Message here. */
const keyword = (...values: string[]): Condition => ({ field: null, op: 'contains', values });
const ERROR = field('Level', 'equals', 'Error');

// --- CVE-2021-26857 (UM deserialisation) ------------------------------------------------------------------------

const UM_PHRASES = ['an unhandled exception occurred in a um worker process', 'the microsoft exchange unified messaging service'];

const PL40 = declared({
  id: 'PL-40',
  title: 'Unified Messaging InvalidCastException (CVE-2021-26857)',
  cves: ['CVE-2021-26857'],
  severity: 'high',
  kind: 'attempt',
  references: [R.testProxyLogon, R.msHafniumBlog, R.chirp],
  description:
    'The Unified Messaging service logged an error with System.InvalidCastException, the trace of the CVE-2021-26857 deserialisation exploit; the event itself does not say whether it succeeded.',
  logsource: APPLICATION,
  condition: { all: [field('Provider_Name', 'equals', 'MSExchange Unified Messaging'), ERROR, keyword('System.InvalidCastException')] },
  attack: ['attack.initial-access', 'attack.t1190'],
  hit: (rec) => ({ summary: 'MSExchange Unified Messaging error with System.InvalidCastException', evidence: { event_id: Number(eventId(rec)), message: f(rec, 'Message').slice(0, 2000) } }),
});

const PL41 = declared({
  id: 'PL-41',
  title: 'Unified Messaging worker crash naming TextFormattingRunProperties (CVE-2021-26857)',
  cves: ['CVE-2021-26857'],
  severity: 'high',
  kind: 'attempt',
  references: [R.sentinelUm],
  description:
    'An Exchange error or Watson crash report of the UM worker process that names the TextFormattingRunProperties gadget, or a UM worker/service failure, as seen when CVE-2021-26857 payloads are sent.',
  logsource: APPLICATION,
  condition: {
    all: [
      field('Provider_Name', 'startswith', 'MSExchange'),
      ERROR,
      { not: keyword('System.OutOfMemoryException') },
      { any: [{ field: null, op: 'contains', values: ['UMWorkerProcess', 'TextFormattingRunProperties'], all: true }, keyword(...UM_PHRASES)] },
    ],
  },
  attack: ['attack.initial-access', 'attack.t1190'],
  hit(rec) {
    const msg = lower(f(rec, 'Message'));
    const watson = msg.includes('umworkerprocess') && msg.includes('textformattingrunproperties');
    const phrase = UM_PHRASES.find((p) => msg.includes(p));
    return {
      summary: watson ? 'UM worker crash report naming TextFormattingRunProperties' : `Exchange error: "${phrase}"`,
      evidence: { event_id: Number(eventId(rec)), provider: f(rec, 'Provider'), message: f(rec, 'Message').slice(0, 2000) },
    };
  },
});

// --- MSExchange RBAC (the cmdlet rules for MSExchange Management are in cmdlets.ts) ---------------------------

const PS07 = declared({
  id: 'PS-07',
  title: 'MSExchange RBAC event 23 (ProxyShell)',
  cves: ['CVE-2021-34523'],
  severity: 'medium',
  kind: 'attempt',
  references: [R.beaumontRbac],
  description: 'MSExchange RBAC event 23 is logged when a PowerShell session is built for an impersonated user, as in ProxyShell.',
  // MSExchange RBAC writes to the Application log.
  logsource: APPLICATION,
  condition: { all: [field('Provider_Name', 'equals', 'MSExchange RBAC'), field('EventID', 'equals', '23')] },
  attack: ['attack.privilege-escalation', 'attack.t1068'],
  hit: (rec) => ({ summary: 'MSExchange RBAC event 23', evidence: { event_id: 23, message: f(rec, 'Message').slice(0, 2000) } }),
});

// --- processes ------------------------------------------------------------------------------------------------

/** Command-line framing only China Chopper writes (lower case). */
export const CHOPPER = ['&ipconfig&echo', '&quser&echo', '&whoami&echo', '&c:&echo', '&cd&echo', '&dir&echo', '&echo [e]', '&echo [s]'];

const PX01 = rule({
  id: 'PX-01',
  title: 'China Chopper web-shell command',
  cves: [],
  severity: 'critical',
  kind: 'webshell',
  references: [R.sigmaChopper, R.redCanary],
  description: 'A command line with the "&cd&echo" / "&echo [S]" framing that only the China Chopper web shell produces: a web shell is running commands.',
  match(rec) {
    const p = processEvent(rec);
    if (!p) return null;
    const cmd = lower(p.cmd);
    const marker = CHOPPER.find((m) => cmd.includes(m));
    if (!marker) return null;
    return { summary: `China Chopper command (${marker}) run by ${baseName(p.parent) || 'unknown parent'}: ${snippet(p.cmd)}`, evidence: { ...processEvidence(p, rec), marker } };
  },
});

const RECON_CHILDREN = new Set(
  'arp at bash bitsadmin certutil cmd cscript dsget hostname ipconfig nbtstat net net1 netdom netsh nltest ntdsutil powershell_ise powershell pwsh qprocess query quser qwinsta reg rundll32 sc sh systeminfo tasklist whoami wmic wscript wusa'
    .split(' ')
    .map((n) => `${n}.exe`),
);

const PX02 = rule({
  id: 'PX-02',
  title: 'Web or UM worker process spawned a shell or recon tool',
  cves: [],
  severity: 'high',
  kind: 'webshell',
  references: [R.sigmaWebChild, R.elasticWorker, R.sigmaUmChild, R.elasticUmChild, ...TUNNEL_TOOL_REFS],
  description:
    'IIS (w3wp.exe) or the Exchange Unified Messaging service started a shell or reconnaissance tool: web-shell use, or CVE-2021-26857 exploitation when the parent is a UM process; a tunnelling or remote-access tool (plink, ngrok, chisel, AnyDesk, ScreenConnect …) started by w3wp is critical.',
  grades: [
    { id: 'PX-03', title: 'Exchange worker process spawned a shell or recon tool', severity: 'critical', kind: 'webshell', when: 'the w3wp.exe parent runs an MSExchange*AppPool' },
    { id: 'PX-18', title: 'Web worker process started a tunnelling or remote-access tool', severity: 'critical', kind: 'post-exploitation', when: 'w3wp.exe started a tunnelling or remote-access tool (plink, ngrok, chisel, AnyDesk, ScreenConnect …)' },
    { id: 'PL-42', title: 'Unified Messaging process spawned a child (CVE-2021-26857)', severity: 'critical', kind: 'exploitation', cves: ['CVE-2021-26857'], when: 'the parent is UMWorkerProcess.exe or UMService.exe (WerFault, wermgr and UMWorkerProcess children excepted)' },
  ],
  match(rec) {
    const p = processEvent(rec);
    if (!p) return null;
    const parent = baseName(p.parent);
    const child = baseName(p.image);
    const um = parent === 'umworkerprocess.exe' || parent === 'umservice.exe';
    if (um && child !== 'werfault.exe' && child !== 'wermgr.exe' && child !== 'umworkerprocess.exe') {
      return {
        grade: 'PL-42',
        summary: `${parent} started ${snippet(p.cmd) || child}`,
        evidence: processEvidence(p, rec),
      };
    }
    const pool = /-ap\s+"?([^"\s]+)/i.exec(p.parentCmd)?.[1] ?? null;
    if (parent === 'w3wp.exe' && TUNNEL_TOOLS.has(child)) {
      return {
        grade: 'PX-18',
        summary: `w3wp.exe${pool ? ` (${pool})` : ''} started ${child}: ${snippet(p.cmd) || child}`,
        evidence: { ...processEvidence(p, rec), app_pool: pool, tool: child, file: p.image },
      };
    }
    if (parent !== 'w3wp.exe' || !RECON_CHILDREN.has(child)) return null;
    const exchange = pool !== null && /^MSExchange.*AppPool$/i.test(pool);
    return {
      ...(exchange ? { grade: 'PX-03' } : {}),
      summary: `w3wp.exe${pool ? ` (${pool})` : ''} started ${snippet(p.cmd) || child}`,
      evidence: { ...processEvidence(p, rec), app_pool: pool },
    };
  },
});

/** comsvcs.dll MiniDump (also by ordinal #24), procdump of lsass, MiniDumpWriteDump of lsass in a script. */
/**
 * A tool name then a marker later on the same line. A regex `tool\b[^\n]*marker` rescans the rest of the line
 * from every occurrence of the tool (quadratic: a 900 KB script took 180 s); here each line is searched once.
 */
function onSameLineAfter(text: string, tool: RegExp, marker: RegExp): boolean {
  tool.lastIndex = 0;
  for (let m = tool.exec(text); m; m = tool.exec(text)) {
    const eol = text.indexOf('\n', tool.lastIndex);
    const rest = text.slice(tool.lastIndex, eol < 0 ? text.length : eol);
    if (marker.test(rest)) return true;
    if (eol < 0) return false;
    tool.lastIndex = eol + 1;
  }
  return false;
}

const PROCDUMP = /procdump(?:64)?(?:\.exe)?\b/gi;
const RDRLEAKDIAG = /rdrleakdiag(?:\.exe)?\b/gi;

// Linear shapes only (script text is attacker-controlled and may be megabytes): `\s*(?:,\s*)?` instead of the
// ambiguous `\s*,?\s*`, and "both words present" instead of `a[\s\S]*b|b[\s\S]*a` (the same thing: they cannot overlap).
const LSASS_DUMP: Array<(text: string) => boolean> = [
  (t) => /comsvcs(?:\.dll)?["']?\s*(?:,\s*)?(?:minidump|#\s*24)\b/i.test(t),
  (t) => onSameLineAfter(t, PROCDUMP, /(?:^|\W)lsass/i),
  (t) => onSameLineAfter(t, RDRLEAKDIAG, /\/fullmemdmp/i),
  (t) => {
    const lower = t.toLowerCase();
    return lower.includes('minidumpwritedump') && lower.includes('lsass');
  },
];

/** PowerShell module / script-block / pipeline events whose Message is the script. */
const SCRIPT_LOG_IDS = new Set(['4103', '4104', '800']);

/** Sysmon 10 (lsass opened by a dumper) and 11 (an lsass*.dmp file written). */
function sysmonLsassDump(rec: LogRecord): RuleHit | null {
  const id = eventId(rec);
  if (id === '11' && /\\lsass[^\\]*\.dmp$/i.test(f(rec, 'TargetFilename'))) {
    return { summary: `${baseName(f(rec, 'Image'))} wrote ${f(rec, 'TargetFilename')}`, evidence: { process: f(rec, 'Image'), file: f(rec, 'TargetFilename'), event_id: 11 } };
  }
  if (id !== '10' || baseName(f(rec, 'TargetImage')) !== 'lsass.exe') return null;
  // The dump happens inside the accessing process: comsvcs.dll on its call stack, or procdump itself.
  if (!/comsvcs\.dll/i.test(f(rec, 'CallTrace')) && !baseName(f(rec, 'SourceImage')).startsWith('procdump')) return null;
  return {
    summary: `${baseName(f(rec, 'SourceImage'))} opened lsass.exe for dumping`,
    evidence: { process: f(rec, 'SourceImage'), target: f(rec, 'TargetImage'), granted_access: orNull(f(rec, 'GrantedAccess')), event_id: 10 },
  };
}

const PX06 = rule({
  id: 'PX-06',
  title: 'LSASS memory dump (comsvcs.dll MiniDump, procdump, rdrleakdiag)',
  cves: [],
  severity: 'critical',
  kind: 'post-exploitation',
  references: [R.sigmaComsvcs, R.volexity],
  description: 'Process memory of LSASS was dumped (rundll32 comsvcs.dll MiniDump, procdump, MiniDumpWriteDump): credential theft, as done by HAFNIUM after exploitation.',
  match(rec) {
    const id = eventId(rec);
    const p = processEvent(rec);
    if (f(rec, 'Provider') === 'Microsoft-Windows-Sysmon' && (id === '10' || id === '11')) return sysmonLsassDump(rec);
    const text = p ? p.cmd : SCRIPT_LOG_IDS.has(id) ? f(rec, 'Message') : '';
    if (!text || !LSASS_DUMP.some((test) => test(text))) return null;
    const evidence: Record<string, EvidenceValue> = p ? processEvidence(p, rec) : { event_id: Number(id), script: text.slice(0, 2000) };
    return { summary: `LSASS dump: ${snippet(text)}`, evidence };
  },
});

// --- files and antivirus --------------------------------------------------------------------------------------

const WEB_FOLDER = /\\inetpub\\|\\frontend\\httpproxy\\|\\clientaccess\\|\\aspnet_client\\/i;
const SCRIPT_EXT = /\.(?:aspx|ashx|asmx|asp)$/i;
const WRITERS = new Set(['w3wp.exe', 'umworkerprocess.exe', 'umservice.exe', 'msexchangemailboxreplication.exe']);

const PX11 = rule({
  id: 'PX-11',
  title: 'Exchange or IIS process wrote a script page into a web folder',
  cves: [],
  severity: 'critical',
  kind: 'webshell',
  references: [R.sigmaAspxWrite, R.helsecertSysmon11],
  description: 'w3wp.exe, a UM process or the mailbox replication service created an .aspx/.ashx/.asmx file in an Exchange or IIS web folder: a web shell being dropped.',
  grades: [
    { id: 'PL-34', title: 'Exchange or IIS process wrote a script page into a web folder', severity: 'critical', kind: 'webshell', cves: ['CVE-2021-26858'], when: 'the writer is a Unified Messaging process (the CVE-2021-26858 file write)' },
    { id: 'PS-13', title: 'Exchange or IIS process wrote a script page into a web folder', severity: 'critical', kind: 'webshell', when: 'the writer is MSExchangeMailboxReplication.exe (the ProxyShell mailbox-export drop)' },
  ],
  match(rec) {
    if (eventId(rec) !== '11' || f(rec, 'Provider') !== 'Microsoft-Windows-Sysmon') return null;
    const file = f(rec, 'TargetFilename');
    const writer = baseName(f(rec, 'Image'));
    if (!SCRIPT_EXT.test(file) || !WEB_FOLDER.test(longFolderNames(file)) || !WRITERS.has(writer)) return null;
    const um = writer.startsWith('um');
    return {
      ...(um ? { grade: 'PL-34' } : writer.startsWith('msexchangemailbox') ? { grade: 'PS-13' } : {}),
      summary: `${writer} wrote ${file}`,
      evidence: { file, process: f(rec, 'Image'), event_id: 11 },
    };
  },
});

/**
 * Threat names that point at Exchange exploitation or a web shell (artefacts.help; Defender's own names: `Exmann` is
 * its name for the Exchange exploits, e.g. Exploit:Script/Exmann.A!dha in Microsoft's HAFNIUM post).
 */
export const EXCHANGE_THREAT = 'exchg|exchange|exmann|proxyshell|proxylogon|chopper|webshell|CVE-2021-(?:26855|26857|26858|27065|34473|34523|31207)|CVE-2022-(?:41040|41082|41080)|Backdoor:(?:ASP|MSIL)/|:ASP/';

/**
 * The files of a Defender detection's Path: resources as `<schema>:_<value>` separated by `;` (`file:_C:\x.aspx;
 * process:_pid:4120,ProcessStart:…`); only file resources name a file. A path written without a schema is taken as it is.
 */
function defenderFiles(path: string): string[] {
  const out = new Set<string>();
  for (const part of path.split(';')) {
    const r = part.trim();
    const m = /^(\w{1,20}):_(.*)$/.exec(r);
    const file = m === null ? r : /^(?:file|containerfile)$/i.test(m[1]) ? m[2] : '';
    const onDisk = splitContainer(file).onDisk.trim();
    if (onDisk) out.add(onDisk);
  }
  return [...out];
}

/** A file IIS runs as code: a detection there is a shell to remove; elsewhere (an Exchange log, an OAB file) it is the exploit's text. */
export const webScript = (file: string): boolean => WEB_SCRIPT.has(file.slice(file.lastIndexOf('.')).toLowerCase());

const PX16 = declared({
  id: 'PX-16',
  title: 'Defender detected an Exchange exploit or web shell',
  cves: [],
  severity: 'critical',
  kind: 'webshell',
  references: [R.artefactsHelp, R.msHafniumBlog],
  description: 'Microsoft Defender reported a threat whose name points at Exchange exploitation or a web shell (e.g. Exploit:Script/Exmann.A, IISExchgSpawnCMD, Exploit:Win32/CVE-2021-31207, Backdoor:ASP/…).',
  logsource: DEFENDER,
  condition: {
    all: [
      field('EventID', 'equals', '1006', '1007', '1116', '1117'),
      field('Provider_Name', 'contains', 'Windows Defender'),
      { field: 'Threat Name', op: 're', values: [EXCHANGE_THREAT], ignoreCase: true },
    ],
  },
  attack: ['attack.persistence', 'attack.t1505.003'],
  grades: [
    {
      as: 'PX-16 exploit',
      title: 'Defender detected Exchange exploit text outside a web page',
      severity: 'critical',
      kind: 'exploitation',
      when: "no file of the detection is one IIS runs as code (Exmann in an Exchange log or OAB file: the exploit's text reached the server, the file is evidence to keep), or it names no file",
    },
  ],
  hit(rec) {
    const id = eventId(rec);
    const threat = f(rec, 'Threat Name');
    const resources = f(rec, 'Path');
    const files = defenderFiles(resources);
    // Only a shell's path is `file` (the file to remove, a STIX indicator); a log the exploit text reached is `detected_in`.
    const shells = files.filter(webScript);
    const shown = shells[0] ?? files[0] ?? null;
    return {
      summary: `Defender ${id === '1117' || id === '1007' ? 'acted on' : 'detected'} ${threat}${shown ? ` in ${shown}` : resources ? ` in ${resources}` : ''}`,
      evidence: {
        threat,
        ...(shells.length ? { file: shells[0], ...(shells.length > 1 ? { files: shells } : {}) } : { detected_in: orNull(files[0]) }),
        resources: orNull(resources),
        action: orNull(f(rec, 'Action Name')),
        event_id: Number(id),
      },
      ...(shells.length ? {} : { grade: 'PX-16 exploit' }),
    };
  },
});

export const EVTX_RULES: RecordRule[] = [PL40, PL41, ...CMDLET_RULES, PS07, PX01, PX02, PX06, PX11, PX16];

