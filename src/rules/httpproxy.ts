// CVE-2021-26855 (and the SSRF half of CVE-2021-27065) in HttpProxy logs. detections.md PL-01..PL-08, PL-23.
import type { LogRecord } from '../model.js';
import { ecpCanary } from '../parsers/ecp.js';
import { encodedLiteral, orNull, psLike } from './matchers.js';
import { REF } from './references.js';
import type { RecordRule, RuleHit } from './types.js';
import { shippedAuthUrls } from './files/baselines.js';
import { compileCondition, conditionNeedles, type Condition } from './conditions.js';
import { sigmaFieldReader } from './sigma-fields.js';
import { conditionGrader, declaredGrades } from './finding.js';
import { IIS_RULES, adLineBytes } from './iis.js';

const CVE_SSRF = ['CVE-2021-26855'];
const isResetVdir = psLike('ServerInfo~*/*Reset*VirtualDirectory#');

/** Out-of-band canary services that scanners put in the SSRF target (nuclei interactsh, Burp Collaborator ...). */
const OOB_HOSTS = /burpcollaborator\.net|oastify\.com|interact\.sh|\.oast\.|interactsh|dnslog\.cn|requestbin|canarytokens|pipedream\.net/i;

/** Columns every HttpProxy finding reports, named like Test-ProxyLogon's CSV plus correlation keys. */
function httpProxyEvidence(rec: LogRecord): Record<string, string | null> {
  const f = rec.fields;
  return {
    request_id: orNull(f.RequestId),
    url_host: orNull(f.UrlHost),
    url: orNull(f.UrlStem),
    method: orNull(f.Method),
    status: orNull(f.HttpStatus),
    user_agent: orNull(f.UserAgent),
    anchor_mailbox: orNull(f.AnchorMailbox),
    routing_hint: orNull(f.RoutingHint),
    backend_cookie: orNull(f.BackEndCookie),
    target_server: orNull(f.TargetServer),
    authenticated_user: orNull(f.AuthenticatedUser),
    ecp_canary: ecpCanary(f.AnchorMailbox) ?? ecpCanary(f.UrlQuery),
  };
}

function ok(status: string | undefined): boolean {
  return status === '241' || /^2\d\d$/.test(status ?? '');
}

/** Where an `X-BEResource` SSRF was sent: `ServerInfo~a]@mail.contoso.local:444/ecp/proxyLogon.ecp?#`. */
function ssrfTarget(anchor: string): { host: string; path: string | null } {
  const body = anchor.slice('ServerInfo~'.length);
  const slash = body.indexOf('/');
  const hostPart = slash === -1 ? body : body.slice(0, slash);
  const at = hostPart.lastIndexOf('@');
  return { host: (at === -1 ? hostPart : hostPart.slice(at + 1)).toLowerCase(), path: slash === -1 ? null : body.slice(slash) };
}

/** The back-end pages scanners' ProxyLogon checks ask for (signature-base PR #125 line, CSS-Exchange http-vuln-cve2021-26855.nse). */
const PROBE_TARGET = /^\/(?:ecp\/default\.flt|owa\/auth\/logon\.aspx)(?:[?#]|$)/i;

/** Grades one `ServerInfo~` row instead of dropping it (Test-ProxyLogon's exclusions hid real hits, #310). */
export function gradeServerInfo(rec: LogRecord): RuleHit | null {
  const f = rec.fields;
  const anchor = f.AnchorMailbox ?? '';
  if (!/^ServerInfo~/i.test(anchor)) return null;
  const { host, path } = ssrfTarget(anchor);
  const evidence = { ...httpProxyEvidence(rec), ssrf_host: host, backend_path: path };
  const base = { evidence, client_ip: orNull(f.ClientIpAddress) };
  const who = f.ClientIpAddress ? ` from ${f.ClientIpAddress}` : '';
  const status = f.HttpStatus ?? '?';
  if (path === null) {
    return { ...base, grade: 'PL-08', summary: `AnchorMailbox ${anchor} (no slash: the X-BEResource=<host>~<n> form seen in a Metasploit module; unconfirmed)${who}` };
  }
  if (isResetVdir(anchor)) {
    const success = f.HttpStatus === '200';
    return {
      ...base,
      grade: success ? 'PL-23' : 'PL-23 attempt',
      summary: `${success ? 'Reset' : 'Attempted reset of'} a virtual directory through ${path} (HTTP ${status})${who}: this call writes the web shell file`,
    };
  }
  // The scanners' check (Microsoft's nmap script, Metasploit) aims the SSRF at the server itself and a page every
  // back end has. Any other localhost target is graded by what it reached: the host is the client's to choose, and on
  // a single-server deployment localhost:444 is the back end.
  if ((host.startsWith('localhost') || host.startsWith('127.')) && PROBE_TARGET.test(path)) {
    return { ...base, grade: 'PL-04', summary: `Probe of ${f.UrlStem ?? '?'} with ServerInfo~${host}${path} (HTTP ${status})${who}; proves the server answered the SSRF at that time` };
  }
  if (OOB_HOSTS.test(host)) {
    return { ...base, grade: 'PL-05', summary: `SSRF aimed at the external canary ${host}${path} (HTTP ${status})${who}; proves the server was vulnerable at that time` };
  }
  if (/^\/autodiscover\//i.test(path)) {
    return {
      ...base,
      grade: 'PL-03',
      summary: `SSRF to ${host}${path} (HTTP ${status})${who}: the attacker probed autodiscover; on its own this does not show a mailbox or session was reached`,
    };
  }
  const session = /\/ecp\/proxyLogon\.ecp/i.test(path) && f.HttpStatus === '241';
  return {
    ...base,
    grade: ok(f.HttpStatus) ? 'PL-02' : 'PL-02 attempt',
    summary: session
      ? `SSRF to ${host}${path} answered 241${who}: an authenticated ECP session was obtained`
      : `SSRF to ${host}${path} (HTTP ${status})${who}`,
  };
}

// ---- rules as data: conditions over the HttpProxy columns (Sigma logsource product: exchange, service: httpproxy,
// exhunt's own: docs/writing-rules.md). The condition decides; the code below it only words the hit.

const read = sigmaFieldReader('exchange-httpproxy');
const HTTPPROXY = { logsource: 'exchange-httpproxy' } as const;
const T1190 = ['attack.initial-access', 'attack.t1190'];
const SERVERINFO: Condition = { field: 'AnchorMailbox', op: 'startswith', values: ['ServerInfo~'] };

/** A rule whose `condition` decides; needles derived from it unless given (they must then be implied by it). */
function declared(rule: Omit<RecordRule, 'needles' | 'match'> & { condition: Condition; needles?: readonly string[]; hit(rec: LogRecord): RuleHit | null }): RecordRule {
  const { hit, ...meta } = rule;
  const test = compileCondition(rule.condition, read);
  const grader = conditionGrader(meta, read);
  const match = (rec: LogRecord): RuleHit | null => {
    if (!test(rec)) return null;
    const h = hit(rec);
    const grade = grader?.(rec);
    return h && grade !== undefined ? { ...h, grade } : h;
  };
  return { ...meta, needles: rule.needles ?? conditionNeedles(rule.condition) ?? [], sigmaExport: HTTPPROXY, match };
}

/** The fields of a hit every routed-request rule reports. */
const routed = (rec: LogRecord, summary: string): RuleHit => ({ summary, evidence: httpProxyEvidence(rec), client_ip: orNull(rec.fields.ClientIpAddress) });

/** WS-45's stem: a script page under /owa/auth/ or /ecp/auth/ that Exchange does not ship (12 names, data/baselines). */
const WS45_CONDITION: Condition = {
  all: [
    { field: 'UrlStem', op: 'startswith', values: ['/owa/auth/', '/ecp/auth/'] },
    // Before the regex: OWA's own logon.aspx is in most front-end rows that reach this rule.
    { not: { field: 'UrlStem', op: 'equals', values: [...shippedAuthUrls()].filter((u) => /\.as[hp]x$/.test(u)).sort() } },
    { field: 'UrlStem', op: 're', values: ['^/(?:owa|ecp)/auth/[^,\\s]{1,256}\\.as[hp]x$'], ignoreCase: true },
  ],
};

const SERVER = Buffer.from('server', 'latin1');

/**
 * PL-06's necessary condition on the raw line, before it is parsed: a `server~` (any ASCII case) with a `/` after
 * it and a `~` after that. The cookie the rule wants (`Server~`, a path, a `~`) holds them in that order, the line
 * holds the field (quoted or not), and the first `server~` of the line is at or before the field's. The PowerShell front end logs a
 * `Server~<host>~<version>~<time>` cookie on every request: on realistic traffic ~36,000 lines per GB were parsed and
 * run through the linear-time regex (~13% of the HttpProxy scan), all to fail on the missing `/`. Linear: each byte
 * is read at most once by each of the three forward searches (the `server` check looks back six bytes per `~`).
 */
export function serverPathBytes(b: Uint8Array, start: number, end: number): boolean {
  let i = start + SERVER.length;
  for (; i < end; i++) {
    if (b[i] !== 126) continue;
    let k = 0;
    // `| 32` folds A-Z only onto a-z here: no other byte ORs to a lower-case letter.
    while (k < SERVER.length && (b[i - SERVER.length + k] | 32) === SERVER[k]) k++;
    if (k === SERVER.length) break;
  }
  for (i++; i < end && b[i] !== 47; i++);
  for (i++; i < end; i++) if (b[i] === 126) return true;
  return false;
}


// ---- ProxyShell / ProxyNotShell / OWASSRF in HttpProxy logs (R1) ----------------------------------------------
// The front end logs the same request IIS does, in its protocol folder (Autodiscover: `/autodiscover/autodiscover.json`
// with `?@…/Powershell…&Email=autodiscover/autodiscover.json%3F@…`; PowerShell: `/powershell` with `?X-Rps-CAT=…&Email=
// autodiscover/autodiscover.json%3F@…`; Owa: `/owa/<mailbox>@…/powershell`: exchange-evidence.md §3.1). IIS logs are
// the ones clean-up scripts delete, and a copy of Exchange's Logging folder holds none: these rows are judged by the
// IIS rules themselves (same grades, family split, known clients), on the row seen as a W3C line.

/** HttpProxy writes a user agent's commas as two spaces (exchange-evidence.md §3.0); IIS writes spaces as `+`. */
const iisFormUa = (ua: string): string => ua.replace(/ {2}/g, ', ').replace(/ /g, '+');

/**
 * The row as the IIS rules read a W3C line: status HttpStatus (BackEndStatus when the front end wrote none). An
 * Rps_Http row (the back end's PowerShell log) names the client in ClientInfo and may list the proxy chain in
 * ClientIpAddress (`203.0.113.7 10.1.2.5`): its first address is the client's.
 */
function asIisRecord(rec: LogRecord): LogRecord {
  const f = rec.fields;
  const fields: Record<string, string> = {
    'cs-method': f.Method ?? '',
    'cs-uri-stem': f.UrlStem ?? '',
    'cs-uri-query': (f.UrlQuery ?? '').replace(/^\?/, ''),
    'sc-status': f.HttpStatus || f.BackEndStatus || '',
    'cs(User-Agent)': iisFormUa(f.UserAgent ?? f.ClientInfo ?? ''),
    'cs-username': f.AuthenticatedUser ?? '',
    'c-ip': (f.ClientIpAddress ?? '').trim().split(/\s+/)[0],
  };
  return { format: 'iis', path: rec.path, line: rec.line, time: rec.time, fields, raw: rec.raw };
}

/** The IIS rules a front-end row can show (the back-end-only OW-03 and PS-06 read IIS's port 444). */
const viaIis = (ids: readonly string[]): RecordRule[] => ids.map((id) => IIS_RULES.find((r) => r.id === id)!);
const AD_FAMILY = viaIis(['PS-01', 'PS-02', 'PS-03', 'PS-04', 'PS-05', 'PNS-01', 'PNS-02', 'PNS-04']);
const OW_FAMILY = viaIis(['OW-01', 'OW-02']);

/** Each IIS rule's own meaning and its grades, under the names its hits report (`PS-02`, `PS-02 either`, `OW-01 attempt` …). */
const gradesFrom = (rules: readonly RecordRule[]) =>
  rules.flatMap((r) => [
    { id: r.id, as: r.id, title: r.title, severity: r.severity, kind: r.kind, cves: r.cves, when: `as ${r.id} on an IIS line: ${r.description}` },
    ...declaredGrades(r).map((g) => ({ id: g.id, as: g.name, title: g.title, severity: g.severity, kind: g.kind, cves: g.cves, when: `as on an IIS line: ${g.when}` })),
  ]);

/** The IIS rules' hits on the row, under their own ids, with the HttpProxy columns as evidence. */
function iisHits(rules: readonly RecordRule[]): RecordRule['match'] {
  return (rec, ctx) => {
    const iis = asIisRecord(rec);
    const hits: RuleHit[] = [];
    for (const r of rules) {
      const h = r.match(iis, ctx);
      for (const x of h === null ? [] : Array.isArray(h) ? h : [h]) {
        const evidence = { ...httpProxyEvidence(rec), ...x.evidence, request_id: orNull(rec.fields.RequestId), backend_status: orNull(rec.fields.BackEndStatus) };
        hits.push({ ...x, grade: x.grade ?? r.id, evidence });
      }
    }
    return hits.length ? hits : null;
  };
}

const SIGMA_PS = 'SigmaHQ rules-emerging-threats/2021/Exploits/ProxyShell-Exploit/web_exchange_proxyshell.yml (23eee45e-…), web_exchange_proxyshell_successful.yml (992be1eb-…)';
const SIGMA_OW = 'SigmaHQ rules-emerging-threats/2022/Exploits/CVE-2022-41082/web_cve_2022_36804_exchange_owassrf_exploitation.yml (181f49fa-…; proxy twin 1ddf4596-…)';

/** OW-05's necessary condition on the raw row: a `/owa/` field (UrlStem) with an `@` (or `%40`) in it. Linear: starts only at a field. */
const OW_ROW = new RegExp(`(?:^|,)"?${encodedLiteral('/owa/')}[^,]*(?:@|%40)`, 'i');

const FRONT_END_SSRF: RecordRule[] = [
  {
    id: 'PS-15',
    title: 'ProxyShell / ProxyNotShell autodiscover.json SSRF in HttpProxy or Rps_Http logs',
    cves: AD_FAMILY.find((r) => r.id === 'PS-02')!.cves,
    severity: 'critical',
    kind: 'exploitation',
    references: [SIGMA_PS, 'Neo23x0/signature-base yara/expl_proxyshell.yar, expl_proxynotshell_owassrf_dec22.yar', 'shared/reference/exchange-evidence.md §3.1 (UrlQuery of PowerShell rows: Email=autodiscover/autodiscover.json…, X-Rps-CAT=)'],
    description:
      'A front-end row (any protocol folder: Autodiscover, PowerShell, Owa, Ecp), or a back-end Rps_Http row (client from ClientInfo), whose UrlStem + UrlQuery is an autodiscover.json SSRF: graded exactly as the IIS rules PS-01..PS-05 / PNS-01..PNS-04 grade the same request (HttpStatus for success, AuthenticatedUser and X-Rps-CAT for the ProxyShell / ProxyNotShell split); every hit reports under one of those ids.',
    grades: gradesFrom(AD_FAMILY),
    knownClients: true,
    formats: ['httpproxy', 'rps-http'],
    needles: ['autodiscover.json', 'autodiscover%2ejson'],
    lineBytes: adLineBytes,
    attack: T1190,
    match: iisHits(AD_FAMILY),
  },
  {
    id: 'OW-05',
    title: 'OWASSRF /owa/<mailbox>@…/powershell in HttpProxy logs',
    cves: OW_FAMILY[0].cves,
    severity: 'critical',
    kind: 'exploitation',
    references: [SIGMA_OW, 'SigmaHQ web_cve_2022_36804_exchange_owassrf_poc_exploitation.yml (92d78c63-…; proxy twin fdd7e904-…)', 'https://www.crowdstrike.com/blog/owassrf-exploit-analysis-and-recommendations/'],
    description: 'A front-end row for PowerShell reached through OWA with an explicit-logon mailbox (CVE-2022-41080): graded exactly as the IIS rules OW-01 / OW-02 grade the same request; every hit reports under one of those ids.',
    grades: gradesFrom(OW_FAMILY),
    knownClients: true,
    formats: ['httpproxy'],
    needles: ['/powershell', '%2fpowershell'],
    lineTest: OW_ROW,
    attack: T1190,
    match: iisHits(OW_FAMILY),
  },
];

export const HTTPPROXY_RULES: RecordRule[] = [
  ...FRONT_END_SSRF,
  declared({
    id: 'PL-01',
    title: 'ProxyLogon SSRF in HttpProxy logs (AnchorMailbox ServerInfo~*/*)',
    cves: CVE_SSRF,
    severity: 'high',
    kind: 'exploitation',
    references: [REF.testProxyLogon, REF.msHafniumBlog, REF.cssExchange310, REF.cssExchange312, REF.helsecert, REF.sigBasePr125, REF.nse, REF.msQa302014, REF.chirp],
    description:
      'A request routed by an attacker-set X-BEResource / X-AnonResource-Backend cookie (AnchorMailbox ServerInfo~host/path), graded by where it went: every hit reports under one of the graded ids below.',
    grades: [
      { id: 'PL-02', title: 'ProxyLogon SSRF reached the Exchange back end (CVE-2021-26855)', severity: 'critical', kind: 'exploitation', when: 'the SSRF went to a back-end path and was answered 2xx or 241 (241 on /ecp/proxyLogon.ecp = an ECP session)' },
      { id: 'PL-02', as: 'PL-02 attempt', title: 'ProxyLogon SSRF to a back-end path (not answered with success)', severity: 'high', kind: 'attempt', when: 'the SSRF went to a back-end path and was not answered with success' },
      { id: 'PL-03', title: 'ProxyLogon SSRF attempt (autodiscover only)', severity: 'medium', kind: 'attempt', when: 'the SSRF went to /autodiscover/ only' },
      { id: 'PL-04', title: 'ProxyLogon scanner probe (localhost SSRF, Microsoft nmap / Metasploit check)', severity: 'low', kind: 'scan', when: 'the SSRF target is localhost or 127.x and the page scanners check (/ecp/default.flt, /owa/auth/logon.aspx)' },
      { id: 'PL-05', title: 'ProxyLogon out-of-band SSRF test (scanner canary host)', severity: 'low', kind: 'scan', when: 'the SSRF target is an out-of-band canary host (Burp Collaborator, interactsh, dnslog …)' },
      { id: 'PL-23', title: 'Virtual-directory reset through the SSRF (CVE-2021-27065 web-shell write)', severity: 'critical', kind: 'exploitation', cves: ['CVE-2021-26855', 'CVE-2021-27065'], when: 'the SSRF target is */*Reset*VirtualDirectory# and it was answered 200' },
      { id: 'PL-23', as: 'PL-23 attempt', title: 'Virtual-directory reset through the SSRF (CVE-2021-27065 web-shell write)', severity: 'high', kind: 'attempt', cves: ['CVE-2021-26855', 'CVE-2021-27065'], when: 'the SSRF target is */*Reset*VirtualDirectory# and it was not answered 200' },
      { id: 'PL-08', title: 'ServerInfo~ routing without a path (unconfirmed SSRF cookie variant)', severity: 'medium', kind: 'attempt', when: 'the ServerInfo~ value has no path (the X-BEResource=<host>~<n> form)' },
    ],
    formats: ['httpproxy'],
    needleCase: 'exact',
    condition: SERVERINFO,
    attack: T1190,
    // The grade (which of the ids above) is where the ServerInfo~ target points: host and path parsed in code.
    hit: gradeServerInfo,
  }),
  declared({
    id: 'PL-06',
    title: 'SSRF target in the BackEndCookie (Server~*/*~*)',
    cves: CVE_SSRF,
    severity: 'medium',
    kind: 'attempt',
    references: [REF.msHafniumBlog, REF.cssExchange310],
    description: 'The BackEndCookie names a server with a path in it, which only an attacker-crafted cookie produces.',
    formats: ['httpproxy'],
    needleCase: 'exact',
    lineBytes: serverPathBytes,
    // `-like 'Server~*/*~*'` (Microsoft's check); a ServerInfo~ anchor is PL-01's.
    condition: {
      all: [
        { field: 'BackEndCookie', op: 'startswith', values: ['Server~'] },
        { field: 'BackEndCookie', op: 're', values: ['^Server~[\\s\\S]*/[\\s\\S]*~'], ignoreCase: true },
        { not: SERVERINFO },
      ],
    },
    attack: T1190,
    hit: (rec) => routed(rec, `BackEndCookie ${rec.fields.BackEndCookie} on ${rec.fields.UrlStem ?? '?'} (HTTP ${rec.fields.HttpStatus ?? '?'})`),
  }),
  declared({
    id: 'WS-45',
    title: 'Request to a web shell in an Exchange drop zone (HttpProxy)',
    cves: [],
    severity: 'high',
    kind: 'webshell',
    references: [REF.helsecert, REF.volexity],
    description:
      'The front end logged a request for a script under /owa/auth/ or /ecp/auth/ that Exchange does not ship: the same request IIS logged (WS-40), joined to the incident by request id, client and URL. Answered 2xx = the file served (high); otherwise a probe for it (low attempt).',
    grades: [{ as: 'WS-45 probe', severity: 'low', kind: 'attempt', when: 'the request was not answered 2xx (a probe for the file)', condition: { not: { field: 'HttpStatus', op: 're', values: ['^2[0-9][0-9]$'] } } }],
    formats: ['httpproxy'],
    lineTest: /\/(?:owa|ecp)\/auth\/[^,\s]{0,256}\.as[hp]x/i,
    condition: WS45_CONDITION,
    attack: ['attack.persistence', 'attack.t1505.003'],
    hit(rec) {
      const status = rec.fields.HttpStatus ?? '';
      const used = /^2\d\d$/.test(status);
      return routed(rec, `${rec.fields.Method ?? '?'} ${rec.fields.UrlStem} answered ${status || '?'}${used ? ': web shell used' : ''}`);
    },
  }),
  declared({
    id: 'PL-07',
    title: 'Request routed by an SSRF cookie (RoutingHint X-BEResource / X-AnonResource-Backend)',
    cves: CVE_SSRF,
    severity: 'medium',
    kind: 'attempt',
    references: [REF.helsecert, REF.sigBasePr125],
    description: 'Exchange routed the request by the cookie the exploit sets, although the anchor mailbox does not show the target.',
    formats: ['httpproxy'],
    needleCase: 'exact',
    condition: { all: [{ field: 'RoutingHint', op: 'equals', values: ['X-BEResource-Cookie', 'X-AnonResource-Backend-Cookie'] }, { not: SERVERINFO }] },
    attack: T1190,
    hit: (rec) =>
      routed(rec, `RoutingHint ${rec.fields.RoutingHint} on ${rec.fields.UrlStem ?? '?'} (HTTP ${rec.fields.HttpStatus ?? '?'}), AnchorMailbox ${rec.fields.AnchorMailbox || 'empty'}`),
  }),
];
