// Detections over IIS W3C records: ProxyLogon request patterns, web-shell use and probing, ProxyShell,
// ProxyNotShell, OWASSRF, ProxyToken, and the public UA/IP lists. Every matcher reads one request "view" that
// decodes the URL once and falls back to the raw line when the parser flagged the line as malformed.
import { isIP } from 'node:net';
import type { EvidenceValue, LogRecord } from '../model.js';
import { STAGE_RANK, findingStage, isLoopback, isPrivateIp } from '../semantics.js';
import { MALFORMED_FIELD, iisUserAgent, percentDecode } from '../parsers/iis.js';
import { shippedAuthUrls } from './files/baselines.js';
import { IOC_IP_RULE, builtinIocs, uaScopeFits, type IocStore } from './iocs.js';
import { encodedLiteral } from './matchers.js';
import { PairFilter, type PairClass } from '../search/multifind.js';
import { compileCondition, conditionNeedles, type Condition } from './conditions.js';
import { REF } from './references.js';
import { conditionGrader, meaningOf } from './finding.js';
import { PROXYNOTSHELL_FAMILY, PROXYSHELL_FAMILY, PS_OR_PNS } from './exploitation-windows.js';
import type { FieldTest, RecordRule, RuleContext, RuleHit, RuleMeta } from './types.js';

// ---- request view ---------------------------------------------------------------------------------------

export interface IisRequest {
  method: string;
  /** URI stem as logged. */
  stem: string;
  /** Query as logged ('' for `-`). */
  query: string;
  /** Percent-decoded, lower-case stem. */
  path: string;
  /** Percent-decoded, lower-case `stem?query`; for a malformed line, everything after the method. */
  target: string;
  /** null when the line has no trustworthy status. */
  status: number | null;
  /** User agent as logged (IIS form, `+` for spaces). */
  ua: string;
  /** The client: c-ip, or behind a load balancer the address its logged X-Forwarded-For names (clientIp). */
  ip: string | null;
  /** The load balancer's or proxy's c-ip when `ip` came from X-Forwarded-For, else null. */
  proxy: string | null;
  user: string;
  port: string;
  malformed: boolean;
  backEnd: boolean;
  requestId: string | null;
}

/** Status from a malformed line: the first ` NNN n n ` group (sc-status sc-substatus sc-win32-status). */
const RAW_STATUS = / ([1-5]\d\d) \d+ \d+ /;

/** A stem as the request view reads it (`IisRequest.path`): percent-decoded, lower case; '' for `-`. */
function decodedPath(stem: string): string {
  return stem === '-' ? '' : percentDecode(stem).toLowerCase();
}

// Field tests on a plain field's bytes (FieldTest.plain: ASCII without `%`, nearly every stem): decodedPath is its
// bytes with A-Z folded, and most stems are rejected by their last bytes with no string made (the field tests, with
// their decode and decodedPath, were ~6% of a busy IIS scan's profile; end to end this saved 2% or less).

/** Whether `b[start, end)` ends with one of `lits` (lower case), A-Z folded. */
function endsWithFolded(b: Uint8Array, start: number, end: number, lits: readonly Uint8Array[]): boolean {
  for (const lit of lits) if (end - lit.length >= start && foldedAt(b, end - lit.length, end, lit)) return true;
  return false;
}

/** Whether `b[start, end)` starts with one of `lits` (lower case), A-Z folded. */
function startsWithFolded(b: Uint8Array, start: number, end: number, lits: readonly Uint8Array[]): boolean {
  for (const lit of lits) if (foldedAt(b, start, end, lit)) return true;
  return false;
}

/** Whether `b[start, end)`, A-Z folded, is `key` (lower case). */
function equalsFolded(b: Uint8Array, start: number, end: number, key: string): boolean {
  if (end - start !== key.length) return false;
  for (let k = 0; k < key.length; k++) {
    const c = b[start + k];
    if ((c >= 65 && c <= 90 ? c | 32 : c) !== key.charCodeAt(k)) return false;
  }
  return true;
}

const bytesOf = (texts: readonly string[]): Uint8Array[] => texts.map((t) => Buffer.from(t, 'latin1'));
/** Past this many URL IOCs, a stem is not compared with each on its bytes: it is decoded and looked up. */
const MAX_BYTE_IOCS = 64;

/**
 * The record's request view, made once and kept on the record (`LogRecord.view`) for the other rules of its line: a
 * module-level "last record" memo was shared state, and a WeakMap entry per line cost a hash insert and ephemeron
 * work in every garbage collection.
 */
export function iisRequest(rec: LogRecord): IisRequest {
  if (rec.view !== undefined) return rec.view as IisRequest;
  const f = rec.fields;
  const malformed = f[MALFORMED_FIELD] !== undefined;
  const stem = f['cs-uri-stem'] ?? '';
  const query = f['cs-uri-query'] ?? '';
  const raw = rec.raw ?? '';
  let target: string;
  let status: number | null;
  if (malformed) {
    const at = stem ? raw.indexOf(stem) : -1;
    target = percentDecode(at >= 0 ? raw.slice(at) : raw).toLowerCase();
    const m = RAW_STATUS.exec(at >= 0 ? raw.slice(at) : raw);
    status = m ? Number(m[1]) : null;
  } else {
    target = percentDecode(query ? `${stem}?${query}` : stem).toLowerCase();
    status = f['sc-status'] ? Number(f['sc-status']) || null : null;
  }
  const port = malformed ? '' : f['s-port'] ?? '';
  const cip = malformed ? null : f['c-ip'] ?? null;
  const ip = malformed ? null : clientIp(f);
  let requestId: string | null | undefined;
  const req: IisRequest = {
    method: (f['cs-method'] ?? '').toUpperCase(),
    stem,
    query,
    path: decodedPath(stem),
    target,
    status,
    ua: malformed ? '' : f['cs(User-Agent)'] ?? '',
    ip,
    proxy: ip !== cip ? cip : null,
    user: malformed ? '' : f['cs-username'] ?? '',
    port,
    malformed,
    backEnd: port === '444' || /(^|\/)W3SVC2\//i.test(rec.path),
    // Read only for evidence (a few lines per file): not worked out for every candidate line.
    get requestId() {
      if (requestId === undefined) requestId = cafeReqId(malformed ? raw : query);
      return requestId;
    },
  };
  rec.view = req;
  return req;
}

/**
 * The request view under Sigma's webserver field names, for the IIS rules written as conditions: `cs-uri-stem` is the
 * percent-decoded stem, `cs-uri-query` the percent-decoded `stem?query` (Sigma's taxonomy puts the whole URI there),
 * `sc-status` the status (read from the raw text of a malformed line), `cs-user-agent` with `+` read as space; the
 * keyword field (null) is the raw line. Decoding here is why an exported rule is slightly weaker in a SIEM that
 * compares the logged form: exhunt also sees `%2e`-escaped stems.
 */
export function iisField(rec: LogRecord, field: string | null, logged = false): string | null {
  if (field === null) return rec.raw ?? null;
  const req = iisRequest(rec);
  // As logged (a condition leaf's `logged`): the stem, or `stem?query`, undecoded.
  if (logged && field === 'cs-uri-stem') return req.stem || null;
  if (logged && field === 'cs-uri-query') return loggedTarget(req) || null;
  switch (field) {
    case 'cs-method':
      return req.method || null;
    case 'cs-uri-stem':
      return req.path || null;
    case 'cs-uri-query':
      return req.target || null;
    case 'sc-status':
      return req.status === null ? null : String(req.status);
    case 'cs-username':
      return req.user || null;
    case 'cs-user-agent':
      return req.ua ? req.ua.replace(/\+/g, ' ') : null;
    case 's-port':
      return req.port || null;
    case 'c-ip':
      return req.ip;
    default:
      return rec.fields[field] ?? null;
  }
}

/** `stem?query` as logged (the parser's fields, also on a malformed line). */
const loggedTarget = (req: IisRequest): string => (req.query ? `${req.stem}?${req.query}` : req.stem);

/**
 * IIS custom log fields that carry the client address a load balancer or CDN passed on, in order of preference:
 * X-Forwarded-For (F5, Kemp, HAProxy, Azure Application Gateway), then the single-address headers others set
 * (Akamai True-Client-IP, Cloudflare CF-Connecting-IP, NetScaler Client-IP, Kemp X-ClientSide, nginx X-Real-IP) and
 * names admins give the field (OriginalIP). The field name is the admin's choice: compared lower-case, `cs(…)`
 * unwrapped, `_` read as `-`.
 */
const FORWARDED_FIELDS = [
  'x-forwarded-for', 'true-client-ip', 'cf-connecting-ip', 'x-client-ip', 'client-ip', 'clientip', 'x-clientside',
  'x-real-ip', 'x-cluster-client-ip', 'originalip', 'original-ip',
];

/** A custom field's name as FORWARDED_FIELDS lists it. */
function forwardedName(k: string): string {
  const low = k.toLowerCase().replace(/_/g, '-');
  return low.startsWith('cs(') && low.endsWith(')') ? low.slice(3, -1) : low;
}

/** The logged client-address header (X-Forwarded-For or the like), or null. */
function forwardedFor(f: Record<string, string>): string | null {
  let best = -1;
  let value: string | null = null;
  for (const k in f) {
    const rank = FORWARDED_FIELDS.indexOf(forwardedName(k));
    if (rank !== -1 && (best === -1 || rank < best)) (best = rank), (value = f[k]);
  }
  return value;
}

/** One X-Forwarded-For entry as an address: IIS's `+` for spaces, `[v6]:port` and `v4:port` forms undone. */
function hopAddress(hop: string): string {
  let a = 0;
  let b = hop.length;
  while (a < b && (hop[a] === '+' || hop[a] === ' ')) a++;
  while (b > a && (hop[b - 1] === '+' || hop[b - 1] === ' ')) b--;
  const h = hop.slice(a, b);
  if (h.length > 64) return h; // no address is longer: not worth a regex
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::\d+)?$/.exec(h);
  if (v6) return v6[1];
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(h);
  return v4 ? v4[1] : h;
}

/**
 * The client address. Behind a load balancer or reverse proxy (c-ip private) whose X-Forwarded-For is logged as a
 * custom field, the client is the right-most public address in it (else its right-most address): each proxy appends
 * the peer it saw, so entries to its left are what the client itself sent (spoofable). A public c-ip is the client
 * whatever the header says.
 */
function clientIp(f: Record<string, string>): string | null {
  const ip = f['c-ip'] ?? null;
  // Loopback is the server itself, not a balancer: whatever it sent in the header is not a client's address.
  if (ip === null || !isPrivateIp(ip) || isLoopback(ip)) return ip;
  const hops = forwardedFor(f)?.split(',').map(hopAddress) ?? [];
  const valid = hops.filter((h) => isIP(h) !== 0);
  // An internal client behind the balancer has only private hops: the right-most one is still the client.
  // Spoofable only where a client reaches IIS without the balancer (then c-ip, kept as proxy_ip, is the truth).
  return [...valid].reverse().find((h) => !isPrivateIp(h)) ?? valid.at(-1) ?? ip;
}

/** Exchange's front end appends `&cafeReqId=<guid>;` to the query: the key that joins IIS with HttpProxy rows. */
export function cafeReqId(s: string): string | null {
  const i = s.toLowerCase().lastIndexOf('cafereqid=');
  if (i < 0) return null;
  const v = /^[^;&\s]*/.exec(s.slice(i + 10))?.[0] ?? '';
  return v || null;
}

function evidence(req: IisRequest, extra: Record<string, EvidenceValue> = {}): Record<string, EvidenceValue> {
  const ev: Record<string, EvidenceValue> = {
    url: req.query ? `${req.stem}?${req.query}` : req.stem,
    method: req.method || null,
    status: req.status,
    user_agent: req.ua ? iisUserAgent(req.ua) : null,
    request_id: req.requestId,
    ...extra,
  };
  if (req.malformed) ev.malformed_line = true;
  if (req.user) ev.user = req.user;
  if (req.proxy !== null) ev.proxy_ip = req.proxy;
  return ev;
}

// ---- known clients: scanners and health probes are graded `scan`, never dropped ----------------------------

const SCANNER_UA = ['zgrab', 'nessus', 'nmap scripting engine', 'nmap+scripting+engine'];
const PROBE_UA = ['amprobe/', 'ews_am_probe', 'activemonitor', 'exchange+backend+probes', 'exchange backend probes'];
/**
 * Nessus's ProxyShell / ProxyNotShell checks (signature-base's exclusions), as [stem, start of the query]: the request
 * must be the check itself, not carry its text elsewhere in the line (a Referer, a query parameter) where an attacker
 * could put it.
 */
const NESSUS_CHECKS: ReadonlyArray<readonly [string, string]> = [
  ['/owa/', '&email=autodiscover/autodiscover.json%3f@test.com&clientid='],
  ['/autodiscover/autodiscover.json', '@test.com/owa/?&email=autodiscover/autodiscover.json%3f@test.com'],
];

/**
 * Who a known client is: `probe` (Exchange's own monitoring), `scanner`; `check` when the request is itself a
 * published scanner check (not only a user agent the client chose).
 */
interface KnownClient {
  who: 'scanner' | 'probe';
  check: boolean;
}

/** The known client that sent a request, or null. */
function knownClient(req: IisRequest, iocs: IocStore): KnownClient | null {
  const ua = req.ua.toLowerCase();
  const user = req.user.toLowerCase();
  if (PROBE_UA.some((p) => ua.includes(p)) || user.includes('healthmailbox')) return { who: 'probe', check: false };
  const uaIoc = iocs.userAgents.get(ua);
  if (uaIoc?.some((u) => u.scope === 'benign')) return { who: 'probe', check: false };
  // Microsoft's NSE / Metasploit ProxyLogon check, Nessus's ProxyShell / ProxyNotShell checks.
  const query = req.query.toLowerCase();
  if (req.path === '/owa/auth/x.js' || NESSUS_CHECKS.some(([stem, q]) => req.path === stem && query.startsWith(q))) return { who: 'scanner', check: true };
  if (SCANNER_UA.some((s) => ua.includes(s)) || uaIoc?.some((u) => u.scope === 'scanner')) return { who: 'scanner', check: false };
  return null;
}

/**
 * Whether a known client's hit keeps its own grade: user agents and user names are the client's to choose. For a
 * probe, a hit that proves exploitation or later is never talked down, nor an SSRF into the PowerShell back end (the
 * public ProxyNotShell exploits send `Microsoft WinRM Client`, a legitimate /powershell client). A scanner's check
 * may well succeed (an SSRF answered 200 on a vulnerable server) and is talked down; steps no check takes are not: a
 * web shell used, a PowerShell session opened through the SSRF, or any critical exploitation grade (a virtual
 * directory reset that writes the shell), by a client that only calls itself a scanner.
 */
function keepsGrade(meta: RuleMeta, grade: string | undefined, hit: RuleHit, client: KnownClient, req: IisRequest): boolean {
  const m = meaningOf(meta, grade);
  const stage = findingStage(m);
  const rank = stage === null ? -1 : STAGE_RANK[stage];
  if (client.who === 'probe') return (m.kind === 'exploitation' && hit.evidence.family !== undefined) || rank >= STAGE_RANK.exploited;
  if (client.check) return false;
  return rank >= STAGE_RANK.persistence || (rank >= STAGE_RANK.exploited && (m.severity === 'critical' || /\/powershell/i.test(`${req.path}?${req.query}`)));
}

/**
 * One answer per record for a matcher that several graded rules share (autodiscover.json feeds eight rules):
 * each rule keeps only its own grade, so the work is done once per line, not once per rule.
 */
function perRecord<T>(fn: (req: IisRequest, raw: string, iocs: IocStore, time: string | null) => T): (req: IisRequest, rec: LogRecord, ctx: RuleContext) => T {
  // The last record only, as for iisRequest: the rules of one line run in a row.
  let last: { rec: LogRecord; value: T } | null = null;
  return (req, rec, ctx) => {
    if (last === null || last.rec !== rec) last = { rec, value: fn(req, rec.raw ?? '', ctx.iocs, rec.time) };
    return last.value;
  };
}

function downgrade(hit: RuleHit, who: 'scanner' | 'probe'): RuleHit {
  return { ...hit, client: who, summary: `${who === 'scanner' ? 'known scanner' : 'Exchange health probe / legitimate client'}: ${hit.summary}` };
}

// ---- rule construction ------------------------------------------------------------------------------------

interface IisHit {
  /** Which rule of a family (autodiscover.json, OWASSRF, web-shell requests) the hit belongs to. */
  rule?: string;
  /** The declared grade of that rule (`RuleHit.grade`). */
  grade?: string;
  summary: string;
  extra?: Record<string, EvidenceValue>;
}

const WEBSERVER = { logsource: 'webserver' } as const;

/**
 * An IIS rule from metadata and a matcher over the request view; adds evidence and known-client grading. With a
 * `condition` (over `iisField`), the condition decides whether the rule fires, the needles are derived from it unless
 * given (then they must be implied by it: test/declarative-rules.test.ts), the rule exports to Sigma, and `fn` only
 * words the summary and grades the hit.
 */
function iisRule(
  meta: RuleMeta & Partial<Pick<RecordRule, 'needles'>> & Pick<RecordRule, 'iocNeedles' | 'lineBytes' | 'lineTest' | 'needleFields' | 'fieldTest' | 'condition' | 'attack'>,
  fn: (req: IisRequest, rec: LogRecord, ctx: RuleContext) => IisHit | null,
): RecordRule {
  const test = meta.condition ? compileCondition(meta.condition, iisField) : null;
  const grader = meta.condition ? conditionGrader(meta, iisField) : null;
  return {
    ...meta,
    knownClients: true,
    needles: meta.needles ?? (meta.condition ? conditionNeedles(meta.condition) : null) ?? [],
    ...(meta.condition ? { sigmaExport: WEBSERVER } : {}),
    formats: ['iis'],
    match(rec, ctx) {
      if (test !== null && !test(rec)) return null;
      const req = iisRequest(rec);
      const h = fn(req, rec, ctx);
      if (!h) return null;
      const grade = grader ? grader(rec) : h.grade;
      const hit: RuleHit = { summary: h.summary, evidence: evidence(req, h.extra), client_ip: req.ip, ...(grade !== undefined ? { grade } : {}) };
      const client = knownClient(req, ctx.iocs);
      return client === null || keepsGrade(meta, grade, hit, client, req) ? hit : downgrade(hit, client.who);
    },
  };
}

const PROXYLOGON = ['CVE-2021-26855', 'CVE-2021-27065'];
const PROXYSHELL = [...PROXYSHELL_FAMILY.cves];
const PROXYNOTSHELL = [...PROXYNOTSHELL_FAMILY.cves];
const OWASSRF = ['CVE-2022-41080', 'CVE-2022-41082'];
const SIGMA_PL = 'SigmaHQ rules-emerging-threats/2021/TA/HAFNIUM/web_exchange_exploitation_hafnium.yml (67bce556-312f-4c81-9162-c3c9ff2599b2)';
const VOLEXITY = REF.volexity;
const SIGBASE_PL = 'Neo23x0/signature-base yara/apt_hafnium_log_sigs.yar';
const isOk = (s: number | null) => s !== null && s >= 200 && s < 400;
/** `needleFields` of rules that read only the decoded path (`req.path`), the query, or both. */
const IN_STEM = ['cs-uri-stem'];
const IN_QUERY = ['cs-uri-query'];
const IN_URL = ['cs-uri-stem', 'cs-uri-query'];

// ---- ProxyLogon request patterns (PL-09, PL-10, PL-11) -------------------------------------------------------

// The three are exclusive, so one POST yields one finding: PL-09 first, then PL-11, then PL-10.
const PL11_FILES = ['/ecp/y.js', '/ecp/main.css', '/ecp/default.flt', '/ecp/auth/w.js', '/owa/auth/w.js'];
const ECP_STATIC_EXT = ['.js', '.css', '.flt', '.png', '.gif', '.jpg', '.jpeg', '.ico', '.svg', '.woff', '.woff2', '.ttf', '.eot', '.htm', '.html', '.xml', '.txt', '.map'];
const POST: Condition = { field: 'cs-method', op: 'equals', values: ['POST'] };
const stem = (op: 'equals' | 'contains' | 'startswith' | 'endswith', values: string[]): Condition => ({ field: 'cs-uri-stem', op, values });
const status = (...values: string[]): Condition => ({ field: 'sc-status', op: 'equals', values });
const PL_CONDITION = {
  'PL-09': { all: [POST, stem('startswith', ['/owa/auth/Current/themes/resources/'])] },
  'PL-11': { all: [POST, stem('equals', PL11_FILES), status('200', '301', '302')] },
} satisfies Record<string, Condition>;
/** POST to /owa/auth/Current/ or to any static file under /ecp/: static files never take a POST (the CVE-2021-26855 carrier). */
const PL10_CONDITION: Condition = {
  all: [POST, { any: [stem('startswith', ['/owa/auth/Current/']), { all: [stem('startswith', ['/ecp/']), stem('endswith', ECP_STATIC_EXT)] }] }, { not: PL_CONDITION['PL-09'] }, { not: PL_CONDITION['PL-11'] }],
};

// Wider than the conditions' literals (each literal contains one of these), so that a stem with a %-escape further
// on still reaches the encoding-aware line test; `/owa/auth/w.js` is a PL-11 file outside the other two.
const PL_NEEDLES = ['/owa/auth/current/', '/ecp/', '/owa/auth/w.js'];
/** The three need a POST: checked on the method alone first (most /ecp/ lines are GETs of its resources). */
const POST_BYTES = bytesOf(['post']);
const POST_METHOD: FieldTest = {
  field: 'cs-method',
  test: (m) => m.length === 4 && m.toUpperCase() === 'POST',
  plain: (b, start, end) => end - start === 4 && startsWithFolded(b, start, end, POST_BYTES),
};
/** A POST to one of those stems (IIS writes cs-method right before cs-uri-stem); ECP's own POSTs are to .svc/.aspx. */
const PL_LINE = new RegExp(
  `(?:^| )POST (?:${encodedLiteral('/owa/auth/current/')}|${encodedLiteral('/owa/auth/w.js')}|${encodedLiteral('/ecp/')}[^ ]*(?:${ECP_STATIC_EXT.map(encodedLiteral).join('|')})(?: |$))`,
  'i',
);

const T1190 = ['attack.initial-access', 'attack.t1190'];

/**
 * WS-44's two tunnel requests as parameters of the logged query (after the `?` of `stem?query`, at its start or after
 * an `&`), with the groups that hold the target: Tunna `proxy&port=<port>&ip=<host>`, reGeorg
 * `cmd=connect&target=<host>&port=<port>`.
 */
const TUNNEL_QUERY = [
  { re: '^[^?]*\\?(?:[^&]*&)*proxy&port=([0-9]{1,5})&ip=([^&\\s]+)', host: 2, port: 1 },
  { re: '^[^?]*\\?(?:[^&]*&)*cmd=connect&target=([^&\\s]+)&port=([0-9]{1,5})', host: 1, port: 2 },
].map((t) => ({ ...t, groups: new RegExp(t.re, 'i') }));

function plRule(id: 'PL-09' | 'PL-10' | 'PL-11', meta: Omit<RuleMeta, 'id' | 'cves' | 'kind'>): RecordRule {
  const condition = id === 'PL-10' ? PL10_CONDITION : PL_CONDITION[id];
  return iisRule({ id, cves: PROXYLOGON, kind: 'attempt', needles: PL_NEEDLES, lineTest: PL_LINE, fieldTest: POST_METHOD, needleFields: IN_STEM, condition, attack: T1190, ...meta }, (req) => ({
    summary: `${req.method} ${req.stem} answered ${req.status ?? '?'}`,
  }));
}

// ---- web-shell requests (WS-40, PX-R4) ---------------------------------------------------------------------

// .asmx is left out: EWS (/EWS/Exchange.asmx) would put most of a busy log through the prefilter.
const SCRIPT_EXT = /\.(aspx|ashx|asp)$/;
const DROP_ZONES = ['/owa/auth/', '/ecp/auth/', '/aspnet_client/'];
/** SCRIPT_EXT's endings and DROP_ZONES, for SHELL_STEM's bytes. */
const SCRIPT_EXT_BYTES = bytesOf(['.aspx', '.ashx', '.asp']);
const DROP_ZONE_BYTES = bytesOf(DROP_ZONES);
/** Sigma "Windows Webshell Strings" (7ff9db12-…) query keywords. */
const SHELL_QUERY = [
  '=whoami', '=net%20user', '=net+user', '=net%2buser', '=cmd%20/c%', '=cmd+/c+', '=cmd%2b/c%', '=cmd%20/r%', '=cmd+/r+',
  '=cmd%2b/r%', '=cmd%20/k%', '=cmd+/k+', '=cmd%2b/k%', '=powershell%', '=powershell+', '=tasklist%', '=tasklist+', '=wmic%',
  '=wmic+', '=ssh%', '=ssh+', '=python%', '=python+', '=python3%', '=python3+', '=ipconfig', '=wget%', '=wget+', '=curl%', '=curl+',
  '=certutil', '=copy%20%5c%5c', '=dsquery%', '=dsquery+', '=nltest%', '=nltest+',
];
/** One needle per command word (each needle costs the engine a pass over every chunk); match() checks the full list. */
const SHELL_QUERY_NEEDLES = [...new Set(SHELL_QUERY.map((k) => /^=[a-z0-9]+/.exec(k)![0]))];

function shellQuery(req: IisRequest): string | undefined {
  const q = req.query.toLowerCase();
  return SHELL_QUERY.find((k) => q.includes(k));
}

/** A script request (decoded lower-case `path`) in a web-shell drop zone that is not one of Exchange's own files, or a known shell URL. */
function shellTarget(p: string, iocs: IocStore): { zone: boolean; ioc: string | null } | null {
  const ioc = iocs.urlPaths.get(p) ? p : null;
  const zone = SCRIPT_EXT.test(p) && DROP_ZONES.some((z) => p.startsWith(z)) && !shippedAuthUrls().has(p);
  return zone || ioc ? { zone, ioc } : null;
}

/** Grades a web-shell request: 2xx = the file answered (use), 5xx = present but failing, else absent (probe). */
function shellRequest(req: IisRequest, _raw: string, iocs: IocStore): IisHit | null {
  const t = shellTarget(req.path, iocs);
  if (!t) return null;
  const extra = { known_shell_url: t.ioc, file_hint: req.path };
  const s = req.status;
  if (s !== null && s >= 200 && s < 300) {
    const used = req.method === 'POST' || shellQuery(req) !== undefined;
    return {
      rule: 'WS-40',
      ...(used ? { grade: 'WS-40 used' } : {}),
      summary: `${req.method} ${req.stem} answered ${s}: ${used ? 'web shell used' : 'a non-Exchange script answered'}`,
      extra,
    };
  }
  if (s === null)
    return { rule: 'WS-40', grade: 'WS-40 unknown', summary: `${req.method} ${req.stem} (malformed line, status unknown)`, extra };
  if (s >= 500)
    return { rule: 'WS-40', grade: 'WS-40 unknown', summary: `${req.method} ${req.stem} failed with ${s}: script present but erroring?`, extra };
  return {
    rule: 'PX-R4',
    summary: `${req.method} ${req.stem} answered ${s ?? '?'} (absent): someone looked for a web shell`,
    extra,
  };
}

const SHELL_NEEDLES = ['.asp', '.ashx', '%2easp', '%2eash'];
const shellRequestOnce = perRecord(shellRequest);
/**
 * shellRequest answers only for a shellTarget, which reads the stem alone: every OWA page (`/owa/auth/logon.aspx`,
 * `sessiondata.ashx` …, a few percent of a busy server's lines) is rejected on its stem without parsing the line.
 */
const SHELL_STEM: FieldTest = {
  field: 'cs-uri-stem',
  test: (stem, ctx) => shellTarget(decodedPath(stem), ctx.iocs) !== null,
  // shellTarget's drop-zone script or known shell URL, on the bytes; `-` (decodedPath '') goes to the test.
  plain: (b, start, end, ctx) => {
    if (end - start === 1 && b[start] === 45) return true;
    if (endsWithFolded(b, start, end, SCRIPT_EXT_BYTES) && startsWithFolded(b, start, end, DROP_ZONE_BYTES)) return true;
    const urls = ctx.iocs.urlPaths;
    if (urls.size > MAX_BYTE_IOCS) return true;
    for (const key of urls.keys()) if (equalsFolded(b, start, end, key)) return true;
    return false;
  },
};

function shellRule(id: 'WS-40' | 'PX-R4', meta: Omit<RuleMeta, 'id' | 'cves'>): RecordRule {
  const rule = {
    id,
    cves: [],
    ...meta,
    needles: SHELL_NEEDLES,
    needleFields: IN_STEM,
    fieldTest: SHELL_STEM,
    // Known shell URLs (shipped or --ioc) match by path whatever their extension, so they are needles too.
    iocNeedles: (st: IocStore) => [...st.urlPaths.keys()],
  };
  return iisRule(rule, (req, rec, ctx) => {
    const h = shellRequestOnce(req, rec, ctx);
    return h && h.rule === id ? h : null;
  });
}

// ---- ProxyShell / ProxyNotShell via autodiscover.json ------------------------------------------------------

/** Markers that make an autodiscover.json request an SSRF rather than a client looking up its settings. */
function ssrfMarker(t: string): string | null {
  for (const m of ['x-rps-cat', '/powershell', '/mapi/nspi', '/mapi/emsmdb', '/ews', 'email=autodiscover/autodiscover.json', 'autodiscover.json?@'])
    if (t.includes(m)) return m;
  if (/@[a-z0-9.-]{1,253}(:\d{1,5})?\//.test(t)) return '@host/'; // Sentinel 968358d6: `@domain/` or `:port/` path
  return null;
}

const PNS_POC = ['/autodiscover.json x=a', '/autodiscover/admin@localhost/'];
const PNS01_TITLE = 'ProxyNotShell autodiscover.json SSRF to PowerShell answered 200';

/** ProxyNotShell (2022) was exploited in the wild from August 2022 (GTSC): before that, an SSRF line is ProxyShell. */
const PNS_FIRST_SEEN = PROXYNOTSHELL_FAMILY.firstExploited;

/**
 * Which family an autodiscover.json SSRF line belongs to. ProxyShell needs no credentials and sends X-Rps-CAT;
 * ProxyNotShell is authenticated (a user in the line) and appeared in August 2022. A line with neither, logged
 * after August 2022, cannot tell them apart: both families' CVEs are named and the summary says so (the host's
 * build at that time can decide: src/engine/chain.ts).
 */
function ssrfFamily(t: string, user: string, time: string | null, pnsShape: boolean): 'ps' | 'pns' | 'either' {
  if (t.includes('x-rps-cat')) return 'ps';
  if (pnsShape || user !== '') return 'pns';
  if (time !== null && time < PNS_FIRST_SEEN) return 'ps';
  return 'either';
}

function autodiscoverSsrf(req: IisRequest, raw: string, _iocs: IocStore, recTime: string | null): IisHit | null {
  const t = req.target;
  // The record's UTC time, else the W3C line's leading UTC date: enough to place it before or after August 2022 (an
  // IIS-format or NCSA line starts with the client: its time is the record's, or unknown without --iis-tz).
  const time = recTime ?? /^\d{4}-\d{2}-\d{2}/.exec(raw)?.[0] ?? null;
  if (!t.includes('autodiscover.json')) return null;
  const rawLow = raw.toLowerCase();
  const poc = PNS_POC.find((p) => rawLow.includes(p));
  const marker = ssrfMarker(t);
  if (!marker && !poc) {
    // PS-05 (Beaumont): `&Email` on autodiscover.json without Protocol= is not what Outlook sends.
    if (t.includes('&email') && !t.includes('protocol=')) return { rule: 'PS-05', summary: 'autodiscover.json with &Email and no Protocol' };
    return null;
  }
  const powershell = t.includes('powershell');
  const user = req.user === '-' ? '' : req.user;
  const family = ssrfFamily(t, user, time, poc !== undefined || (powershell && t.includes('protocol=')));
  const s = req.status;
  const extra: Record<string, EvidenceValue> = { marker: marker ?? poc ?? null, family: family === 'either' ? PS_OR_PNS : family === 'ps' ? PROXYSHELL_FAMILY.name : PROXYNOTSHELL_FAMILY.name };
  const why = family === 'pns' ? (user ? `authenticated as ${user}` : 'ProxyNotShell request shape') : '';
  if (family === 'pns') {
    if (s === 200 && (powershell || poc !== undefined)) return { rule: poc ? 'PNS-02' : 'PNS-01', summary: `ProxyNotShell: autodiscover.json SSRF to PowerShell answered 200 (${why})`, extra };
    return { rule: 'PNS-04', summary: `ProxyNotShell-shaped request answered ${s ?? '?'} (${why})`, extra };
  }
  const when = time === null ? 'its time unknown' : 'logged after August 2022';
  const undecided = family === 'either' ? ` (no user in the line and ${when}: ProxyShell or ProxyNotShell, the line alone cannot decide)` : '';
  const what = powershell || t.includes('x-rps-cat') ? 'PowerShell' : marker;
  if (s === null) {
    // Malformed line: signature-base's raw-line rules decide (EXPL_Exchange_ProxyShell_Failed/Successful_Aug21_1).
    if (/ 401 0 0/.test(raw)) return { rule: 'PS-03', grade: 'PS-03 rejected', summary: `ProxyShell SSRF (${what}) rejected 401 (raw line)`, extra };
    return { rule: 'PS-03', ...(powershell ? { grade: 'PS-03 PowerShell' } : {}), summary: `ProxyShell SSRF to ${what} (raw line, status not recorded)`, extra };
  }
  if (isOk(s)) {
    const grade = `PS-02${family === 'either' ? ' either' : ''}${what === 'PowerShell' ? '' : ' back end'}`;
    return { rule: 'PS-02', ...(grade !== 'PS-02' ? { grade } : {}), summary: `ProxyShell SSRF to ${what} answered ${s}${undecided}`, extra };
  }
  if (s === 401) return { rule: 'PS-01', summary: `ProxyShell SSRF to ${what} rejected 401`, extra };
  if (powershell && s === 404 && /zgrab/i.test(req.ua)) return { rule: 'PNS-04', grade: 'PNS-04 scanner', summary: 'scanner check for autodiscover.json → PowerShell SSRF', extra };
  return { rule: 'PS-04', summary: `autodiscover.json SSRF (${what}) answered ${s}`, extra };
}

const AUTODISCOVER_NEEDLES = ['autodiscover.json', 'autodiscover%2ejson'];
/**
 * autodiscoverSsrf's necessary conditions on the raw line (each character may be %-encoded; the decoded target's
 * `?` is the space between stem and query): a marker, `&email`, a `/` after `@host`, a PoC string. Outlook's own
 * lookups (mobile `…/autodiscover.json/v1.0/user@example.org Protocol=…`, desktop `… Email=user%40example.org&Protocol=…`)
 * carry none and are not parsed.
 */
const AD_LINE = new RegExp(
  [
    ...['x-rps-cat', '/powershell', '/mapi/nspi', '/mapi/emsmdb', '/ews', 'email=autodiscover', '&email'].map(encodedLiteral),
    // `autodiscover.json?@`: the needle vouches for the first half.
    '(?:\\?|%3f| )(?:@|%40)',
    // `@host/` or `@host:port/`: at most 253 + 6 characters, each of them maybe %-encoded. The run never holds
    // `%40`, the start (the last `@` before the `/` still matches): runs of different starts cannot overlap, so the
    // work stays linear on `%40%40%40…` (with `%40` inside the run it was quadratic, and still ~1.5 s/MB bounded).
    '(?:@|%40)(?:[a-z0-9.:-]|%(?!40)[0-9a-f]{2}){1,259}(?:/|%2f)',
    ...PNS_POC.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')),
    // Non-ASCII (raw or encoded) may lower-case to ASCII in the target (`İ` to `i̇`, `K` to `k`): always parsed.
    '[^\\x00-\\x7f]|%[89a-f][0-9a-f]',
  ].join('|'),
  'i',
);

/** Byte classes of adLineBytes: 1 `%`, 2 `@`, 3 `/`, 4 `x`, 5 `e`, 6 `&`, 7 non-ASCII (either case); 0 anything else. */
const AD_CLASS = Uint8Array.from({ length: 256 }, (_, c) =>
  c === 37 ? 1 : c === 64 ? 2 : c === 47 ? 3 : (c | 32) === 120 ? 4 : (c | 32) === 101 ? 5 : c === 38 ? 6 : c >= 0x80 ? 7 : 0,
);
/** `[a-z0-9.:-]` of AD_LINE's `@host/` (either case). */
const AD_HOST = Uint8Array.from({ length: 256 }, (_, c) => (c < 0x80 && /[a-z0-9.:-]/i.test(String.fromCharCode(c)) ? 1 : 0));
/** Hex digit values (either case); 255: not a hex digit. */
const HEX = Uint8Array.from({ length: 256 }, (_, c) => (c < 0x80 && /[0-9a-f]/i.test(String.fromCharCode(c)) ? Number.parseInt(String.fromCharCode(c), 16) : 255));
const latin1 = (t: string): Uint8Array => Buffer.from(t, 'latin1');
/** AD_LINE's encoded literals, by their first character, without it. */
const AD_AFTER_SLASH = ['powershell', 'mapi/nspi', 'mapi/emsmdb', 'ews'].map(latin1);
const AD_AFTER_X = latin1('-rps-cat');
const AD_AFTER_E = latin1('mail=autodiscover');
const AD_AFTER_AMP = latin1('email');
/** The PoC's literal that AD_LINE takes only as written (its other one, `…/admin@localhost/`, is an `@host/`). */
const AD_POC_AFTER_SLASH = latin1('autodiscover.json x=a');
const ENCODED = 0x100;

/**
 * The character at `b[i]` as AD_LINE's encoded literals read it: a `%XX` escape (ENCODED | its byte; 3 bytes) or
 * the byte itself (1 byte); -1 past `end`. A `%` without two hex digits after it is a plain byte.
 */
function adChar(b: Uint8Array, i: number, end: number): number {
  if (i >= end) return -1;
  const c = b[i];
  if (c !== 37 || i + 2 >= end) return c;
  const hi = HEX[b[i + 1]];
  const lo = HEX[b[i + 2]];
  return hi === 255 || lo === 255 ? c : ENCODED | (hi << 4) | lo;
}

/** Whether an encoded literal (`(?:c|%XX)` per character, `lit` lower case) starts at `b[i]`. */
function adLiteralAt(b: Uint8Array, i: number, end: number, lit: Uint8Array): boolean {
  for (let k = 0; k < lit.length; k++) {
    const ch = adChar(b, i, end);
    if (ch < 0) return false;
    // Written: any case. Escaped: the lower-case character's code only (`%58` is not `x`).
    if (ch & ENCODED ? (ch & 0xff) !== lit[k] : (ch >= 65 && ch <= 90 ? ch | 32 : ch) !== lit[k]) return false;
    i += ch & ENCODED ? 3 : 1;
  }
  return true;
}

/** Whether `b[at, end)` starts with `lit` as written (A-Z folded to a-z). */
function foldedAt(b: Uint8Array, at: number, end: number, lit: Uint8Array): boolean {
  if (at + lit.length > end) return false;
  for (let k = 0; k < lit.length; k++) {
    const c = b[at + k];
    if ((c >= 65 && c <= 90 ? c | 32 : c) !== lit[k]) return false;
  }
  return true;
}

/**
 * AD_LINE's `@host/` from the `@` (or `%40`) ending before `i`: a run of host characters or escapes other than
 * `%40`, then `/` or `%2f` (an escape in the run: the regex backtracks to it). Without the 259 bound: a superset.
 */
function adHostSlash(b: Uint8Array, i: number, end: number): boolean {
  for (let n = 0; ; n++) {
    const ch = adChar(b, i, end);
    if (ch < 0) return false;
    if (ch === 47 || (n > 0 && ch === (ENCODED | 47))) return n > 0;
    if (ch & ENCODED ? ch === (ENCODED | 64) : AD_HOST[ch] === 0) return false;
    i += ch & ENCODED ? 3 : 1;
  }
}

/**
 * AD_LINE's necessary condition on the line's bytes, before it is decoded (RecordRule.lineBytes): false only where
 * AD_LINE cannot match, and no decode, no regex. One walk over the line's characters as the regex's alternatives
 * read them (a byte, or a `%XX` escape), trying each alternative where its first character is: the encoded
 * literals (after `/`, `x-rps-cat`, `email=autodiscover`, `&email`), `?@`/`%3f@`/` @`, `@host/` (which holds the
 * PoC's `admin@localhost/`), the PoC's `/autodiscover.json x=a` as written, and any non-ASCII byte or escape. The
 * regex may also start inside an escape, at its hex digits: of its alternatives only `email=autodiscover` starts
 * with one (`e`), so an escape with an `e` digit passes the line (a superset, as is the unbounded host run).
 * Outlook's own lookups (mobile `…/v1.0/user@example.org Protocol=…`, desktop `Email=user%40example.org&…`) pass
 * none: the autodiscover.json lines of a busy server are neither decoded nor run through the regex. Linear: an
 * `@host` run stops at the next `@` or `%40`, so runs never overlap; literals are short.
 */
export function adLineBytes(b: Uint8Array, start: number, end: number): boolean {
  const f = PairFilter.of(AD_PAIRS);
  const n = f === null ? -1 : f.find(b, start, end);
  if (n < 0) return adWalk(b, start, end);
  // The walk's steps where something may start (the others step one byte on): the same steps, in order.
  let i = start;
  for (let k = 0; k < n; k++) {
    const p = start + f!.position(k);
    // Inside an escape the step before took whole.
    if (p < i) continue;
    i = adStep(b, start, p, end);
    if (i < 0) return true;
  }
  return false;
}

/** adLineBytes by a walk over every byte (no SIMD here, or a line longer than the pair filter takes). */
export function adWalk(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; ) {
    if (AD_CLASS[b[i]] === 0) {
      i++;
      continue;
    }
    i = adStep(b, start, i, end);
    if (i < 0) return true;
  }
  return false;
}

/**
 * The walk's step at the character at `b[i]`: -1 when an alternative starts there, else where the next character
 * starts (`i + 1`, or `i + 3` after an escape).
 */
function adStep(b: Uint8Array, start: number, i: number, end: number): number {
  const c = b[i];
  const cls = AD_CLASS[c];
  if (cls === 0) return i + 1;
  let ch = c;
  let len = 1;
  if (cls === 1) {
    ch = adChar(b, i, end);
    if (ch & ENCODED) {
      len = 3;
      if ((ch & 0xff) >= 0x80 || (b[i + 1] | 32) === 101 || (b[i + 2] | 32) === 101) return -1;
    }
  } else if (cls === 7) return -1;
  // The character as a literal's first: written in any case, or escaped as the lower-case code.
  const first = ch & ENCODED ? ch & 0xff : c >= 65 && c <= 90 ? c | 32 : c;
  const next = i + len;
  // Most candidates fail on the next byte: its folded value, or a `%` that may escape anything.
  if (adSecondFails(first, next < end ? b[next] | 32 : 0)) return next;
  if (first === 47) {
    for (const lit of AD_AFTER_SLASH) if (adLiteralAt(b, next, end, lit)) return -1;
    if (len === 1 && foldedAt(b, next, end, AD_POC_AFTER_SLASH)) return -1;
  } else if (first === 120) {
    if (adLiteralAt(b, next, end, AD_AFTER_X)) return -1;
  } else if (first === 101) {
    if (adLiteralAt(b, next, end, AD_AFTER_E)) return -1;
  } else if (first === 38) {
    if (adLiteralAt(b, next, end, AD_AFTER_AMP)) return -1;
  } else if (first === 64) {
    if (adQuestionOrSpaceBefore(b, start, i) || adHostSlash(b, next, end)) return -1;
  }
  return next;
}

/**
 * Whether none of AD_LINE's literals that start with the character `first` (`/`, `e`, `&`, `x`) can start where the
 * next byte, folded (`| 32`; 0 past the end), is `n`: where most candidates fail. A `%` may escape anything.
 */
function adSecondFails(first: number, n: number): boolean {
  if (n === 37) return false;
  return first === 47 ? n !== 112 && n !== 109 && n !== 101 && n !== 97 : first === 101 ? n !== 109 : first === 38 ? n !== 101 : first === 120 ? n !== 45 : false;
}

const BYTES = Array.from({ length: 256 }, (_, c) => c);
/** The bytes that may follow a character `first` where adStep does more than step on (0: the end of the line). */
const adNext = (first: number): number[] => BYTES.filter((n) => n !== 0 && !adSecondFails(first, n | 32));
/**
 * The byte pairs where adStep may do more than step on, as the pair filter's classes: `%`, `@` and non-ASCII before
 * anything, and the first characters of the literals (either case) before a byte that may be their second.
 */
const AD_PAIRS: PairClass[] = [
  { first: [37], next: BYTES },
  { first: [64], next: BYTES },
  { first: BYTES.slice(0x80), next: BYTES },
  { first: [47], next: adNext(47) },
  { first: [101, 69], next: adNext(101) },
  { first: [38], next: adNext(38) },
  { first: [120, 88], next: adNext(120) },
];

/**
 * Whether the character before `b[i]` is `?`, `%3f` or a space (AD_LINE's `(?:\?|%3f| )(?:@|%40)`). An escape
 * there is a `%` and two hex digits: a `%` is never a hex digit, so escapes cannot overlap and that one is read as one.
 */
function adQuestionOrSpaceBefore(b: Uint8Array, start: number, i: number): boolean {
  if (i - 3 >= start && b[i - 3] === 37 && HEX[b[i - 2]] !== 255 && HEX[b[i - 1]] !== 255) return b[i - 2] === 51 && (b[i - 1] | 32) === 102;
  return i > start && (b[i - 1] === 63 || b[i - 1] === 32);
}

const autodiscoverSsrfOnce = perRecord(autodiscoverSsrf);

function adRule(id: string, meta: Omit<RuleMeta, 'id'>, owns: (rule: string) => boolean): RecordRule {
  return iisRule({ id, needles: AUTODISCOVER_NEEDLES, needleFields: IN_URL, lineBytes: adLineBytes, lineTest: AD_LINE, ...meta }, (req, rec, ctx) => {
    const h = autodiscoverSsrfOnce(req, rec, ctx);
    return h && owns(h.rule ?? '') ? h : null;
  });
}

// ---- OWASSRF (OW-01..OW-03) -------------------------------------------------------------------------------

const OW_PATH = /^\/owa\/[^/\s]{1,30}@[^/\s.]{1,30}\.[^/\s]{2,3}\/powershell/;
/** A POST answered 200: PowerShell ran the attacker's commands (OW-01, OW-02); anything else is an attempt. */
const POST_200: Condition = { all: [{ field: 'cs-method', op: 'equals', values: ['POST'] }, { field: 'sc-status', op: 'equals', values: ['200'] }] };

/**
 * OW-02 as data, SigmaHQ 92d78c63's selection over the stem: the public PoC's user agent and its explicit-logon path
 * /owa/mastermailbox@…/powershell. The `@` is decoded in exhunt's view; `%40` is how a SIEM sees it logged.
 */
const OW02_CONDITION: Condition = {
  all: [
    stem('startswith', ['/owa/mastermailbox']),
    stem('contains', ['/powershell']),
    stem('contains', ['@', '%40']),
    { field: 'cs-user-agent', op: 'equals', values: ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/105.0.5195.54 Safari/537.36'] },
  ],
};
/** OW-01 as data, SigmaHQ 181f49fa's selection: PowerShell through OWA with an explicit-logon mailbox, the PoC aside. */
const OW01_CONDITION: Condition = {
  all: [stem('startswith', ['/owa/']), stem('contains', ['/powershell']), stem('contains', ['@', '%40']), { not: OW02_CONDITION }],
};

/** OW-03: the back-end footprint (code: the back-end site is told by port 444 or the W3SVC2 log path). */
function owassrfBackEnd(req: IisRequest): IisHit | null {
  return req.backEnd && req.path === '/powershell' && req.method === 'POST' && !req.query && req.status === 200
    ? { summary: 'back-end POST /powershell with no client query answered 200 (OWASSRF footprint)' }
    : null;
}

/**
 * Necessary conditions on the raw line (each character may be %-encoded): OW-01/02 need a `/owa/...@` stem,
 * OW-03 a `/powershell` stem with no query. Exchange's own /powershell traffic (health probes, EMS) carries a
 * query and is not parsed.
 */
const OW_LINE = {
  owa: new RegExp(`(?:^| )${encodedLiteral('/owa/')}[^ ]*(?:@|%40)`, 'i'),
  backEnd: new RegExp(`(?:^| )${encodedLiteral('/powershell')} (?!\\S*=)`, 'i'),
};

const OWA_BYTES = bytesOf(['/owa/']);
/**
 * OW-01/02 need a `/owa/` stem naming a mailbox (`@`, or a `%40` left after decoding), checked on the stem before
 * OW_LINE.owa decodes the line: every /powershell line (health probes, EMS) holds their needle.
 */
const OWA_MAILBOX_STEM: FieldTest = {
  field: 'cs-uri-stem',
  test: (stem) => {
    const p = decodedPath(stem);
    return p.startsWith('/owa/') && (p.includes('@') || p.includes('%40'));
  },
  plain: (b, start, end) => {
    if (!startsWithFolded(b, start, end, OWA_BYTES)) return false;
    for (let i = start + 5; i < end; i++) if (b[i] === 64) return true;
    return false;
  },
};

/**
 * OW-03 reads no query (`!req.query`: the field logged as `-`, or a layout without it), on the field's bytes before
 * OW_LINE.backEnd decodes the line: Exchange's own /powershell traffic (health probes, EMS: a tenth of a back-end
 * log) carries a query, and the regex on each of those lines cost ~3% of a busy IIS scan.
 */
const NO_QUERY: FieldTest = {
  field: 'cs-uri-query',
  test: (q) => q === '' || q === '-',
  plain: (b, start, end) => end === start || (end - start === 1 && b[start] === 45),
};

const OW_META = { cves: OWASSRF, kind: 'exploitation', needles: ['/powershell'], needleFields: IN_STEM, attack: T1190 } as const;
const OW_ATTEMPT = { severity: 'medium', kind: 'attempt', when: 'not a POST answered 200', condition: { not: POST_200 } } as const;

// ---- probes by suspicious URI (PX-R1, PX-R2) -----------------------------------------------------------------

const PROBE_URI = /^\/(owa\/auth\/[a-z0-9]{1,30}\.js|ecp\/[a-z0-9]{1,30}\.(js|flt|css))$/;
/** PROBE_URI on the stem alone, before the line is parsed: most /owa/auth/ and /ecp/ lines are OWA's own resources. */
const PROBE_EXT_BYTES = bytesOf(['.js', '.flt', '.css']);
const PROBE_STEM: FieldTest = {
  field: 'cs-uri-stem',
  test: (stem) => PROBE_URI.test(decodedPath(stem)),
  // PROBE_URI's endings (`-`, decodedPath '', has none).
  plain: (b, start, end) => endsWithFolded(b, start, end, PROBE_EXT_BYTES),
};


// ---- the rule list -----------------------------------------------------------------------------------------

const SIGMA_PS = 'SigmaHQ rules-emerging-threats/2021/Exploits/ProxyShell-Exploit/web_exchange_proxyshell.yml (23eee45e-…), web_exchange_proxyshell_successful.yml (992be1eb-…)';
const SIGBASE_PS = 'Neo23x0/signature-base yara/expl_proxyshell.yar (EXPL_Exchange_ProxyShell_Failed_Aug21_1, _Successful_Aug21_1)';
const SIGBASE_PNS = 'Neo23x0/signature-base yara/expl_proxynotshell_owassrf_dec22.yar';

/** PT-01 as data (it exports to Sigma): SigmaHQ's ProxyToken rule over the W3C fields, cs-uri-query = stem?query. */
const PT01_CONDITION: Condition = {
  all: [
    {
      any: [
        { all: [{ field: 'cs-method', op: 'equals', values: ['POST'] }, { field: 'cs-uri-query', op: 'contains', values: ['/ecp/', '/RulesEditor/InboxRules.svc/NewObject'], all: true }] },
        { field: 'cs-uri-query', op: 'contains', values: ['SecurityToken=', '/ecp/'], all: true },
      ],
    },
    { field: 'sc-status', op: 'equals', values: ['500'] },
  ],
};

// Declarative (a `condition`, exported to Sigma): PL-09/10/11, PL-24, WS-42, WS-44, OW-01, OW-02, PT-01. Code
// matchers, and why:
// - PL-14 and OW-03 need the back-end site (port 444 or a W3SVC2 log path: the path is not a record field).
// - PS-06: its only selective needle (`$ ` after the user name) is W3C layout, which no condition literal implies;
//   as a condition it would read every IIS line.
// - PL-28 and WS-43 test the raw line (a malformed line has no fields) with line-shape regexes; WS-43 percent-decodes
//   the whole line first, which no field of the view offers.
// - WS-40/PX-R4, PL-13 and the IP rule read IOC lists loaded per scan (--ioc), and WS-40/PX-R4 the shipped pages.
// - PX-R1/R2 read the per-scan scanner user-agent list and private-address ranges (as does every rule's known-client
//   grading).
// - The PS-/PNS- family (eight rules, one pass) places a line before or after August 2022 (a date comparison) and
//   tells ProxyShell from ProxyNotShell by user, date and markers of the decoded target.
// - WS-41 matches the %-encoded keywords as logged; the view's cs-uri-query is decoded.
export const IIS_RULES: RecordRule[] = [
  plRule('PL-09', {
    title: 'POST to an OWA theme resource (ProxyLogon SSRF request)',
    severity: 'medium',
    references: [VOLEXITY, SIGMA_PL, 'cisagov/CHIRP indicators/AA21062A.yaml', SIGBASE_PL],
    description: 'ProxyLogon requests POSTed to static files under /owa/auth/Current/themes/resources/; suspicious, not proof of compromise.',
  }),
  plRule('PL-10', {
    title: 'POST to an OWA/ECP static file (ProxyLogon SSRF request)',
    severity: 'medium',
    references: [VOLEXITY, SIGMA_PL, 'cisagov/CHIRP indicators/AA21062A.yaml'],
    description: 'POST to /owa/auth/Current/ or to any static file under /ecp/ (.js, .css, .flt, .png …): static files take no POST, so this is the SSRF carrier of CVE-2021-26855.',
  }),
  plRule('PL-11', {
    title: 'HAFNIUM ProxyLogon request answered 200/301/302',
    severity: 'high',
    references: [`${SIGBASE_PL} (LOG_APT_HAFNIUM_Exchange_Log_Traces_Mar21_1)`],
    description: 'POST to /ecp/y.js, /ecp/main.css, /ecp/default.flt or /(ecp|owa)/auth/w.js that the server answered.',
  }),
  iisRule(
    {
      id: 'PL-14', title: 'Back-end request with a query starting t= (HAFNIUM pattern)', cves: PROXYLOGON, severity: 'medium', kind: 'attempt',
      references: ['Azure/Azure-Sentinel Hunting Queries/W3CIISLog/HAFNIUMSuspiciousExchangeRequestPattern.yaml (23005e87-…)'],
      description: 'On the Exchange Back End site, a cs-uri-query beginning "t=" matched HAFNIUM exploitation traffic.',
      needles: [' t='],
    },
    (req) => (req.backEnd && req.query.toLowerCase().startsWith('t=') ? { summary: `back-end ${req.method} ${req.stem} with query t=…` } : null),
  ),
  iisRule(
    {
      id: 'PL-24', title: 'ECP DDIService SetObject Reset*VirtualDirectory (CVE-2021-27065 file write)', cves: PROXYLOGON, severity: 'critical', kind: 'exploitation',
      references: ['SigmaHQ rules-emerging-threats/2021/Exploits/CVE-2021-26858/web_cve_2021_26858_iis_rce.yml (effee1f6-…)', VOLEXITY],
      description: 'The SetObject call with schema=Reset…VirtualDirectory writes the attacker-controlled OAB/vdir configuration to a file (the web shell).',
      grades: [
        {
          as: 'PL-24 answered',
          severity: 'high',
          kind: 'exploitation',
          when: 'answered 200 to a user that is not a machine account (the critical case is Sigma effee1f6: a machine account)',
          condition: { all: [status('200'), { not: { field: 'cs-username', op: 'endswith', values: ['$'] } }] },
        },
        { as: 'PL-24 attempt', severity: 'medium', kind: 'attempt', when: 'not answered 200', condition: { not: status('200') } },
      ],
      // Wider than the stem literal: the needle must not depend on how the client spelled `/ecp/DDI/`.
      needles: ['ddiservice.svc/setobject'],
      needleFields: IN_STEM,
      condition: {
        all: [POST, stem('equals', ['/ecp/DDI/DDIService.svc/SetObject']), { field: 'cs-uri-query', op: 'contains', values: ['schema=Reset', 'VirtualDirectory'], all: true }],
      },
      attack: T1190,
    },
    (req) => {
      if (req.status === 200 && req.user.endsWith('$')) return { summary: 'Reset*VirtualDirectory SetObject by a machine account answered 200 (Sigma effee1f6)' };
      if (req.status === 200) return { summary: 'Reset*VirtualDirectory SetObject answered 200' };
      return { summary: `Reset*VirtualDirectory SetObject answered ${req.status ?? '?'}` };
    },
  ),
  iisRule(
    {
      id: 'PL-28', title: 'RPC request with empty CorrelationID then RequestId (HAFNIUM back-end trace)', cves: PROXYLOGON, severity: 'medium', kind: 'attempt',
      references: ['Neo23x0/signature-base yara/apt_hafnium_log_sigs.yar (LOG_CVE_2021_27065_Exchange_Forensic_Artefacts_Mar21_2)'],
      description: 'GET /rpc/ whose query is "&CorrelationID=<empty>;&RequestId=…" and which was answered: seen on exploited back ends.',
      needles: ['&correlationid=<empty>;&requestid='],
    },
    (req, rec) =>
      /GET \/rpc\/ &CorrelationID=<empty>;&RequestId=[^\n]{40,600} (200|301|302) /.test(rec.raw ?? '')
        ? { summary: `GET ${req.stem} with empty CorrelationID answered ${req.status ?? '?'}` }
        : null,
  ),
  iisRule(
    {
      id: 'PX-R1', title: 'Automated ProxyLogon scanner probe', cves: ['CVE-2021-26855'], severity: 'low', kind: 'scan',
      references: ['Azure/Azure-Sentinel Hunting Queries/W3CIISLog/ExchangeServerSuspiciousURIsVisited.yaml (3122423d-…)', 'microsoft/CSS-Exchange Security/src/http-vuln-cve2021-26855.nse'],
      description: 'A known scanner fetched an /owa/auth/<x>.js or /ecp/<x>.(js|flt|css) probe URL: the server was checked, not necessarily exploited.',
      needles: ['/owa/auth/', '/ecp/'],
      fieldTest: PROBE_STEM,
      needleFields: IN_STEM,
    },
    (req, rec, ctx) =>
      req.method !== 'POST' && PROBE_URI.test(req.path) && knownClient(req, ctx.iocs)?.who === 'scanner'
        ? { summary: `scanner ${req.method} ${req.stem} answered ${req.status ?? '?'}` }
        : null,
  ),
  iisRule(
    {
      id: 'PX-R2', title: 'ProxyLogon probe URL from a public address', cves: ['CVE-2021-26855'], severity: 'low', kind: 'attempt',
      references: ['Azure/Azure-Sentinel Detections/W3CIISLog/ExchangeServerProxyLogonURI.yaml (bcbebbae-…)'],
      description: 'A non-private client requested an /owa/auth/<x>.js or /ecp/<x>.(js|flt|css) URL that Exchange does not serve.',
      needles: ['/owa/auth/', '/ecp/'],
      fieldTest: PROBE_STEM,
      needleFields: IN_STEM,
    },
    (req, rec, ctx) =>
      req.method !== 'POST' && PROBE_URI.test(req.path) && req.ip && !isPrivateIp(req.ip) && knownClient(req, ctx.iocs)?.who !== 'scanner'
        ? { summary: `${req.method} ${req.stem} from ${req.ip} answered ${req.status ?? '?'}` }
        : null,
  ),
  shellRule('WS-40', {
    title: 'Request to a web shell in an Exchange drop zone', severity: 'high', kind: 'webshell',
    references: ['helsecert/2021-march-exchange README.md', VOLEXITY, 'microsoft/CSS-Exchange Security/Baselines'],
    description: 'A script under /owa/auth/, /ecp/auth/ or /aspnet_client/ that Exchange does not ship answered the request.',
    grades: [
      { as: 'WS-40 used', severity: 'critical', kind: 'webshell', when: 'it answered 2xx to a POST or to a query with a shell command: the web shell was used' },
      { as: 'WS-40 unknown', severity: 'medium', kind: 'webshell', when: 'it failed with 5xx (present but erroring?) or a malformed line hides the status' },
    ],
  }),
  shellRule('PX-R4', {
    title: 'Probe for a web shell that was not there', severity: 'low', kind: 'attempt',
    references: ['helsecert/2021-march-exchange README.md (67.205.176.9 shell-name scanning)'],
    description: 'A request for a known or non-Exchange script name in a drop zone answered 302/404: somebody hunted for a shell.',
  }),
  iisRule(
    {
      id: 'WS-41', title: 'Command-execution keywords in a query string', cves: [], severity: 'critical', kind: 'webshell',
      references: ['SigmaHQ rules/web/webserver_generic/web_win_webshells_in_access_logs.yml (7ff9db12-…)'],
      description: 'A query passes an OS command (whoami, cmd /c, powershell, net user …): a web shell being driven.',
      grades: [{ as: 'WS-41 attempt', severity: 'medium', kind: 'attempt', when: 'it was answered with neither success nor redirect (refused, absent), or the page is one Exchange ships under /owa/auth/ or /ecp/auth/ (it answers any query)' }],
      needles: SHELL_QUERY_NEEDLES,
      needleFields: IN_QUERY,
    },
    (req) => {
      const k = shellQuery(req);
      if (!k) return null;
      // Exchange's own sign-in pages answer 200 to any query: a scanner spraying cmd=whoami at logon.aspx is an
      // attempt (a modified page is the file sweep's to find, WS-34).
      if (shippedAuthUrls().has(req.path)) return { grade: 'WS-41 attempt', summary: `${req.method} ${req.stem} with "${k}" answered ${req.status ?? '?'} (a page Exchange ships, which answers any query)`, extra: { keyword: k } };
      return isOk(req.status) || req.status === null
        ? { summary: `${req.method} ${req.stem} with "${k}" answered ${req.status ?? '?'}`, extra: { keyword: k } }
        : { grade: 'WS-41 attempt', summary: `${req.method} ${req.stem} with "${k}" answered ${req.status}`, extra: { keyword: k } };
    },
  ),
  iisRule(
    {
      id: 'WS-42', title: 'Archive, dump or mailbox file downloaded from a web folder', cves: [], severity: 'medium', kind: 'post-exploitation',
      references: ['Azure/Azure-Sentinel Hunting Queries/W3CIISLog/SuspectedMailBoxExportHostonOWA.yaml'],
      description: 'A .pst/.zip/.7z/.rar/.dmp/.cab served from /owa/, /ecp/ or /aspnet_client/: staged data being collected.',
      // The extensions, not the folders: /owa/ and /ecp/ are in most lines of a busy front end.
      needles: ['.pst', '.zip', '.7z', '.rar', '.dmp', '.cab'],
      needleFields: IN_STEM,
      condition: {
        all: [stem('startswith', ['/owa/', '/ecp/', '/aspnet_client/']), stem('endswith', ['.pst', '.zip', '.7z', '.rar', '.dmp', '.cab']), { field: 'sc-status', op: 're', values: ['^[23][0-9][0-9]$'] }],
      },
      attack: ['attack.collection', 'attack.t1114'],
    },
    (req) => ({ summary: `${req.method} ${req.stem} answered ${req.status}` }),
  ),
  iisRule(
    {
      id: 'WS-46', title: 'Text file downloaded from the OWA or ECP sign-in folder', cves: [], severity: 'medium', kind: 'post-exploitation',
      references: [
        'Positive Technologies Expert Security Center, May 2024: an OWA sign-in page keylogger writes the captured credentials to a file fetched from the internet (summary https://rewterz.com/?p=32267)',
        'microsoft/CSS-Exchange baselines (owa\\auth and ecp\\auth hold pages, scripts, styles, images and fonts only; data/baselines)',
      ],
      description: 'A .txt/.csv/.log/.dat under /owa/auth/ or /ecp/auth/ was served: Exchange ships no such file there, and a credential stealer on the sign-in page leaves its captured passwords there for the attacker to fetch.',
      needles: ['.txt', '.csv', '.log', '.dat', '%2etxt', '%2ecsv', '%2elog', '%2edat'],
      needleFields: IN_STEM,
      condition: {
        all: [stem('startswith', ['/owa/auth/', '/ecp/auth/']), stem('endswith', ['.txt', '.csv', '.log', '.dat']), { field: 'sc-status', op: 're', values: ['^2[0-9][0-9]$'] }],
      },
      attack: ['attack.credential-access', 'attack.t1056.003', 'attack.collection'],
    },
    (req) => ({ summary: `${req.method} ${req.stem} answered ${req.status}` }),
  ),
  iisRule(
    {
      id: 'WS-43', title: 'China Chopper clean-up commands in a request', cves: [], severity: 'critical', kind: 'post-exploitation',
      references: ['Neo23x0/signature-base yara/apt_hafnium_log_sigs.yar (LOG_Exchange_Forensic_Artefacts_CleanUp_Activity_Mar21_1)'],
      description: 'cmd /c cd /d …aspnet_client, or aspnet_client&del / &attrib +h +s +r / &echo [S]: a shell operator at work.',
      needles: ['aspnet_client', 'aspnet%5fclient', 'echo'],
    },
    (req, rec) => {
      const t = percentDecode(rec.raw ?? '').replace(/\+/g, ' ').toLowerCase();
      const cd = /cmd(\.exe)? \/c cd \/d "?c:[/\\]inetpub[/\\]wwwroot[/\\]aspnet_client/.test(t);
      const marks = ["aspnet_client&del '", 'aspnet_client&attrib +h +s +r ', '&echo [s]'].filter((m) => t.includes(m));
      return cd || marks.length >= 2 ? { summary: `shell operator commands in ${req.method} ${req.stem}`, extra: { markers: cd ? ['cd /d aspnet_client', ...marks] : marks } } : null;
    },
  ),
  iisRule(
    {
      id: 'WS-44', title: 'Web tunnel (Tunna / reGeorg) through a script', cves: [], severity: 'high', kind: 'post-exploitation',
      references: ['sbousseaden/EVTX-ATTACK-SAMPLES Command and Control/Tunna_rdp_tunnel_IIS.log', 'https://github.com/SECFORCE/Tunna', 'https://github.com/sensepost/reGeorg'],
      description: 'A script was asked to open a TCP connection for the client (Tunna proxy&port=&ip=, reGeorg cmd=connect): lateral movement through a web shell.',
      needleFields: IN_QUERY,
      // The query as logged: the tunnel script reads its parameters only when `&` and `=` are sent unescaped, and
      // the needles (`proxy&port=`, `cmd=connect`) follow from it.
      condition: {
        all: [
          stem('endswith', ['.aspx', '.ashx', '.asp', '.jsp', '.php']),
          { field: 'cs-uri-query', op: 'contains', values: ['proxy&port=', 'cmd=connect'], logged: true },
          { field: 'cs-uri-query', op: 're', ignoreCase: true, values: TUNNEL_QUERY.map((t) => t.re), logged: true },
        ],
      },
      attack: ['attack.command-and-control', 'attack.t1090'],
    },
    (req) => {
      // The condition held: one of the two shapes is in the query; its groups name the target.
      const logged = loggedTarget(req);
      for (const t of TUNNEL_QUERY) {
        const m = t.groups.exec(logged);
        if (m) return { summary: `${req.stem} asked to tunnel to ${m[t.host].toLowerCase()}:${m[t.port]}`, extra: { tunnel_query: req.query } };
      }
      return null;
    },
  ),
  adRule('PS-01', {
    title: 'ProxyShell autodiscover.json SSRF rejected (401)', cves: PROXYSHELL, severity: 'medium', kind: 'attempt',
    references: [SIGMA_PS, SIGBASE_PS],
    description: 'An autodiscover.json request carrying a back-end path (/powershell, /mapi, /EWS, X-Rps-CAT, Email=autodiscover…) was refused with 401.',
  }, (r) => r === 'PS-01'),
  adRule('PS-02', {
    title: 'ProxyShell autodiscover.json SSRF answered', cves: PROXYSHELL, severity: 'critical', kind: 'exploitation',
    references: [SIGMA_PS, 'https://github.com/GossiTheDog/ThreatHunting AzureSentinel/Exchange-Powershell-via-SSRF'],
    description: 'The SSRF reached a back-end endpoint and got 200/301/302; with /powershell or X-Rps-CAT the attacker ran Exchange cmdlets.',
    grades: [
      { as: 'PS-02 back end', severity: 'high', kind: 'exploitation', when: 'the SSRF reached a back end other than PowerShell (/mapi, /EWS …)' },
      { as: 'PS-02 either', severity: 'critical', kind: 'exploitation', cves: [...PROXYSHELL, ...PROXYNOTSHELL], when: `the line has no user and was logged after ${PNS_FIRST_SEEN}: ProxyShell or ProxyNotShell (the build in place then may decide, SSRF_FAMILY)` },
      { as: 'PS-02 either back end', severity: 'high', kind: 'exploitation', cves: [...PROXYSHELL, ...PROXYNOTSHELL], when: 'both of the above' },
      { id: 'PNS-01', as: 'PS-02 ProxyNotShell', title: PNS01_TITLE, severity: 'critical', kind: 'exploitation', cves: PROXYNOTSHELL, when: 'an undecided line (PS-02 either) to PowerShell, and the build in place then was fixed for ProxyShell only (SSRF_FAMILY)' },
      { id: 'PNS-01', as: 'PS-02 ProxyNotShell back end', title: PNS01_TITLE, severity: 'high', kind: 'exploitation', cves: PROXYNOTSHELL, when: 'an undecided line (PS-02 either back end) to another back end, and the build in place then was fixed for ProxyShell only (SSRF_FAMILY)' },
    ],
  }, (r) => r === 'PS-02'),
  adRule('PS-03', {
    title: 'ProxyShell autodiscover.json SSRF (raw-line signature)', cves: PROXYSHELL, severity: 'high', kind: 'exploitation',
    references: [SIGBASE_PS],
    description: 'A malformed IIS line matched signature-base\'s ProxyShell raw-line patterns; status graded from the raw text when present.',
    grades: [
      { as: 'PS-03 PowerShell', severity: 'critical', kind: 'exploitation', when: 'the SSRF target is PowerShell' },
      { as: 'PS-03 rejected', severity: 'medium', kind: 'attempt', when: 'the raw line shows 401 0 0 (rejected)' },
    ],
  }, (r) => r === 'PS-03'),
  adRule('PS-04', {
    title: 'ProxyShell-shaped autodiscover.json request (other status)', cves: PROXYSHELL, severity: 'low', kind: 'attempt',
    references: ['Azure/Azure-Sentinel Detections/W3CIISLog/ProxyShellPwn2Own.yaml / Exchange SSRF Autodiscover ProxyShell - Detection (968358d6-…)'],
    description: 'autodiscover.json with an @host/ or back-end path that the server answered with neither success nor 401.',
  }, (r) => r === 'PS-04'),
  adRule('PS-05', {
    title: 'autodiscover.json with &Email and no Protocol', cves: PROXYSHELL, severity: 'low', kind: 'attempt',
    references: ['https://github.com/GossiTheDog/ThreatHunting AzureSentinel/Exchange-ProxyShell-SSRF'],
    description: 'Beaumont\'s ProxyShell hunt: the &Email parameter on autodiscover.json outside a normal client lookup.',
  }, (r) => r === 'PS-05'),
  iisRule(
    {
      id: 'PS-06', title: 'Back-end request by a machine account (SSRF footprint)', cves: PROXYSHELL, severity: 'medium', kind: 'attempt',
      references: ['https://github.com/GossiTheDog/ThreatHunting AzureSentinel/Exchange-CVE-2021-34473-SSRF'],
      description: 'On port 444 a request authenticated as a computer account (user ending $) outside the known internal clients: front-end SSRF.',
      needles: ['$ '],
    },
    (req) => {
      if (req.port !== '444' || !req.user.endsWith('$')) return null;
      if (req.path === '/rpc/rpcproxy.dll' || req.path === '/ecp/current/exporttool/microsoft.exchange.ediscovery.exporttool.application') return null;
      const ua = req.ua.toLowerCase();
      if (ua.includes('ewsstoredataprovider') || ua.includes('ediscovery') || ua === 'exchangeinternalewsclient-auditlog-complianceauditservice-adminauditwriter') return null;
      return { summary: `back-end ${req.method} ${req.stem} as ${req.user} answered ${req.status ?? '?'}` };
    },
  ),
  adRule('PNS-01', {
    title: PNS01_TITLE, cves: PROXYNOTSHELL, severity: 'critical', kind: 'exploitation',
    references: ['Neo23x0/signature-base (EXPL_Exchange_ProxyNotShell_Patterns_CVE_2022_41040_Oct22_1)', 'https://msrc.microsoft.com/blog/2022/09/customer-guidance-for-reported-zero-day-vulnerabilities-in-microsoft-exchange-server/'],
    description: 'The 2022 autodiscover.json SSRF (Protocol=…Powershell) reached PowerShell: CVE-2022-41082 code execution is possible.',
  }, (r) => r === 'PNS-01'),
  adRule('PNS-02', {
    title: 'ProxyNotShell public PoC request answered 200', cves: PROXYNOTSHELL, severity: 'critical', kind: 'exploitation',
    references: ['Neo23x0/signature-base (LOG_ProxyNotShell_POC_CVE_2022_41040_Nov22)'],
    description: 'A request with the public PoC\'s strings (/autodiscover.json x=a, /autodiscover/admin@localhost/) succeeded.',
  }, (r) => r === 'PNS-02'),
  adRule('PNS-04', {
    title: 'ProxyNotShell-shaped request not answered 200', cves: PROXYNOTSHELL, severity: 'medium', kind: 'attempt',
    references: ['https://www.gteltsc.vn/blog/warning-new-attack-campaign-utilized-a-new-0day-rce-vulnerability-on-microsoft-exchange-server-12715.html', SIGBASE_PNS],
    description: 'ProxyNotShell request shape with a failure status (or a scanner\'s check): an attempt.',
    grades: [{ as: 'PNS-04 scanner', severity: 'low', kind: 'scan', when: 'a zgrab check: autodiscover.json to /powershell answered 404' }],
  }, (r) => r === 'PNS-04'),
  iisRule(
    {
      id: 'OW-01', title: 'OWASSRF: /owa/<mailbox>@…/powershell', severity: 'critical', ...OW_META, cves: OWASSRF, fieldTest: OWA_MAILBOX_STEM, lineTest: OW_LINE.owa,
      references: ['SigmaHQ rules-emerging-threats/2022/Exploits/CVE-2022-41082/web_cve_2022_36804_exchange_owassrf_exploitation.yml (181f49fa-…)', 'https://www.crowdstrike.com/blog/owassrf-exploit-analysis-and-recommendations/'],
      description: 'PowerShell reached through the OWA frontend with an explicit-logon mailbox (CVE-2022-41080), 200 = commands ran.',
      condition: OW01_CONDITION,
      grades: [{ as: 'OW-01 attempt', ...OW_ATTEMPT }],
    },
    (req) =>
      req.method === 'POST' && req.status === 200
        ? { summary: `POST ${req.stem} answered 200 (${OW_PATH.test(req.path) ? 'signature-base path shape' : '/owa/<mailbox>@…/powershell'})` }
        : { summary: `${req.method} ${req.stem} answered ${req.status ?? '?'}` },
  ),
  iisRule(
    {
      id: 'OW-02', title: 'OWASSRF public PoC (mastermailbox)', severity: 'critical', ...OW_META, cves: OWASSRF, fieldTest: OWA_MAILBOX_STEM, lineTest: OW_LINE.owa,
      references: ['SigmaHQ rules-emerging-threats/2022/Exploits/CVE-2022-41082/web_cve_2022_36804_exchange_owassrf_poc_exploitation.yml (92d78c63-…)'],
      description: 'The public OWASSRF PoC user agent and /owa/mastermailbox…/powershell path.',
      condition: OW02_CONDITION,
      grades: [{ as: 'OW-02 attempt', ...OW_ATTEMPT, severity: 'high' }],
    },
    (req) => ({ summary: `public OWASSRF PoC request answered ${req.status ?? '?'}` }),
  ),
  iisRule(
    {
      id: 'OW-03', title: 'OWASSRF back-end PowerShell footprint', cves: OWASSRF, severity: 'high', kind: 'exploitation', needles: ['/powershell'], needleFields: IN_STEM, fieldTest: NO_QUERY, lineTest: OW_LINE.backEnd,
      references: [`${SIGBASE_PNS} (EXPL_LOG_ProxyNotShell_OWASSRF_PowerShell_Proxy_Log_Dec22_1, _2, _3)`],
      description: 'A back-end POST /powershell without the query legitimate remote-PowerShell clients send, answered 200.',
    },
    owassrfBackEnd,
  ),
  iisRule(
    {
      id: 'PT-01', title: 'ProxyToken: ECP request with SecurityToken / InboxRules NewObject answered 500', cves: ['CVE-2021-33766'], severity: 'high', kind: 'exploitation',
      references: ['SigmaHQ rules-emerging-threats/2021/Exploits/CVE-2021-33766/web_cve_2021_33766_msexchange_proxytoken.yml (56973b50-…)', 'Neo23x0/signature-base (LOG_EXPL_ProxyToken_Exploitation_Aug21_1)'],
      description: 'ProxyToken lets an unauthenticated client change another mailbox\'s settings (e.g. add a forwarding rule) through ECP.',
      condition: PT01_CONDITION,
      attack: T1190,
    },
    (req) => {
      const rulePost = req.method === 'POST' && req.target.includes('/ruleseditor/inboxrules.svc/newobject');
      return { summary: `${req.method} ${req.stem} answered 500 (${rulePost ? 'InboxRules NewObject' : 'SecurityToken='})` };
    },
  ),
  iisRule(
    {
      id: 'PL-13', title: 'Attacker user agent from the public ProxyLogon lists', cves: ['CVE-2021-26855'], severity: 'medium', kind: 'ioc',
      references: [VOLEXITY, SIGMA_PL, 'cisagov/CHIRP indicators/AA21062A.yaml'],
      description: 'A POST in the published context (e.g. crawler UA to /owa/auth/Current/, python-requests to /ecp/, antSword to /aspnet_client/); weak alone.',
      // The user agents themselves are the needles (one SIMD pass finds them all): a path like /owa/ would put
      // most of a busy front end's lines through the parser. Only UAs that can raise a finding are needled.
      needles: [],
      needleFields: ['cs(User-Agent)'],
      iocNeedles: (st) => [...st.userAgents].filter(([, v]) => v.some((u) => u.scope === 'any' || u.scope.startsWith('POST '))).map(([k]) => k),
      grades: [
        {
          as: 'PL-13 OWASSRF',
          title: 'Attacker user agent from the public OWASSRF proof of concept',
          cves: OWASSRF,
          severity: 'medium',
          kind: 'ioc',
          when: "the list's row for the user agent names OWASSRF (the December 2022 proof of concept): a 2022 chain, not ProxyLogon",
        },
      ],
    },
    (req, _rec, ctx) => {
      const uas = ctx.iocs.userAgents.get(req.ua.toLowerCase());
      const fit = uas?.find((u) => uaScopeFits(u.scope, req.method, req.path));
      if (!fit) return null;
      const hit = { summary: `${req.method} ${req.stem} with UA ${iisUserAgent(req.ua)}`, extra: { ioc_source: fit.source, ioc_context: fit.note } };
      return /\bOWASSRF\b/.test(fit.note) ? { ...hit, grade: 'PL-13 OWASSRF' } : hit;
    },
  ),
  IOC_IP_RULE,
];

/** Every literal the IIS rules prefilter on (the bench greps these with ripgrep for a like-for-like baseline). */
export function iisNeedles(iocs: IocStore = builtinIocs()): string[] {
  const all = IIS_RULES.filter((r) => r.formats.includes('iis')).flatMap((r) => [...r.needles, ...(r.iocNeedles?.(iocs) ?? [])]);
  return [...new Set(all.map((n) => n.toLowerCase()))];
}
