// One rule set for every source that records Exchange cmdlets: MSExchange Management events (EVTX and XML
// exports), CmdletInfra Rps_Cmdlet logs, ECP Server S:CMD and PowerShell script-block logs. The same export cmdlet
// is graded the same wherever it was logged. Mailbox exports, the "Mailbox Import Export" role, certificate
// requests and removing export requests are Microsoft's documented admin workflow: info (context) unless the file
// goes to a web-served place or an .aspx/.ashx/.asmx name (critical), or the host-level chain check ties them to
// exploitation (src/engine/chain.ts). IDs and sources: shared/reference/detections.md PL-25, PS-08..PS-11, PX-13.
import { isIP } from 'node:net';
import type { EvidenceValue, LogRecord } from '../model.js';
import { isPrivateIp } from '../semantics.js';
import { decodeCmd } from '../parsers/ecp.js';
import { longFolderNames, markupIn, orNull } from './matchers.js';
import { REF } from './references.js';
import type { Grade, RecordRule, RuleHit } from './types.js';
import { compileCondition, type Condition } from './conditions.js';
import { PROXYSHELL_FAMILY } from './exploitation-windows.js';

const R = {
  sigmaOab: 'SigmaHQ/sigma "ProxyLogon MSExchange OabVirtualDirectory" (550d3350) and 9db37458',
  sigmaExportWeb: 'SigmaHQ/sigma "Mailbox Export to Exchange Webserver" (516376b4)',
  sigmaExportUnc: 'SigmaHQ/sigma 889719ef / 4a241dea (New-MailboxExportRequest to a UNC path)',
  sigmaRemoveExport: 'SigmaHQ/sigma 09570ae5 (Remove-MailboxExportRequest)',
  sigmaCertExport: 'SigmaHQ/sigma "Certificate Request Export to Exchange Webserver" (b7bc7038)',
  sigmaTransportAgent: 'SigmaHQ/sigma 4fe151c2 / c7d16cae (Install-TransportAgent)',
  hamadShe: 'hamad-she/hamad-she.github.io "ProxyShell vulnerabilities exploited" (MSExchange Management events)',
  msExport: 'https://learn.microsoft.com/en-us/exchange/recipients/mailbox-import-and-export/export-procedures (admin workflow: the Mailbox Import Export role, a UNC share, a .pst file)',
  msCertRequest: 'https://learn.microsoft.com/en-us/powershell/module/exchange/new-exchangecertificate (-GenerateRequest -RequestFile to a UNC path)',
} as const;

const PROXYSHELL = [...PROXYSHELL_FAMILY.cves];

/** Where a cmdlet call was recorded. */
export type CmdletSource = 'MSExchange Management' | 'Rps_Cmdlet' | 'ECP' | 'PowerShell script block';

export interface CmdletCall {
  cmdlet: string;
  /** Parameters by lower-case name (without the dash), values unquoted. */
  params: Map<string, string>;
  /** The parameters as recorded, for evidence. */
  text: string;
  user: string | null;
  failed: boolean;
  source: CmdletSource;
}

const f = (rec: LogRecord, name: string): string => rec.fields[name] ?? '';

/** `-Name value`, `-Name:value`, `-Name "v a l"`, `-Name 'v'` pairs of a PowerShell command line (linear scan). */
export function psParams(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /(?:^|\s)-([A-Za-z][\w]*)(?::|\s+)?(?:"((?:[^"]|"")*)"|'((?:[^']|'')*)'|([^\s"'-][^\s]*))?/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const v = m[2] !== undefined ? m[2].replace(/""/g, '"') : m[3] !== undefined ? m[3].replace(/''/g, "'") : (m[4] ?? '');
    if (!out.has(m[1].toLowerCase())) out.set(m[1].toLowerCase(), v);
  }
  return out;
}

/**
 * The cmdlets these rules watch, as regex alternatives (each linear: a bounded `\w` run between two literals). A
 * script block is searched for them; every other log's line must name one to be parsed (health probes run Get-*).
 */
const WATCHED_CMDLETS = ['New-MailboxExportRequest', 'Remove-MailboxExportRequest', 'New-ManagementRoleAssignment', 'New-ExchangeCertificate', 'Set-\\w{0,40}VirtualDirectory', 'Install-TransportAgent'];
const WATCHED = new RegExp(`\\b(${WATCHED_CMDLETS.join('|')})\\b`, 'gi');

/** The cmdlet calls one record holds, whichever source recorded it. */
export function cmdletCalls(rec: LogRecord): CmdletCall[] {
  if (rec.format === 'rps-cmdlet') {
    const cmdlet = f(rec, 'Cmdlet').trim();
    if (!cmdlet) return [];
    const text = f(rec, 'Parameters');
    const failed = /fail|error/i.test(f(rec, 'ExecutionResult')) || f(rec, 'ErrorType') !== '';
    return [{ cmdlet, params: psParams(text), text, user: orNull(f(rec, 'AuthenticatedUser')), failed, source: 'Rps_Cmdlet' }];
  }
  if (rec.format === 'ecp-server') {
    const cmd = f(rec, 'S:CMD');
    if (!cmd) return [];
    const d = decodeCmd(cmd);
    return [{ cmdlet: d.cmdlet, params: new Map(d.params.map(([k, v]) => [k.toLowerCase(), v])), text: cmd, user: orNull(f(rec, 'S:SID')), failed: f(rec, 'S:EX') !== '', source: 'ECP' }];
  }
  if (rec.format !== 'evtx') return [];
  if (f(rec, 'Provider') === 'MSExchange CmdletLogs' || f(rec, 'Channel') === 'MSExchange Management') {
    const cmdlet = f(rec, 'Data[0]').trim();
    if (!cmdlet) return [];
    // Published extracts separate parameters with a literal "\n".
    const text = f(rec, 'Data[1]');
    return [{ cmdlet, params: psParams(text.replace(/\\n/g, ' ')), text, user: orNull(f(rec, 'Data[2]')), failed: f(rec, 'EventID') === '6', source: 'MSExchange Management' }];
  }
  const id = f(rec, 'EventID');
  if (id !== '4104' && id !== '4103' && id !== '800') return [];
  const script = f(rec, 'ScriptBlockText') || f(rec, 'Message');
  const out: CmdletCall[] = [];
  for (const m of script.matchAll(WATCHED)) {
    const rest = script.slice(m.index + m[0].length, script.indexOf('\n', m.index) === -1 ? script.length : script.indexOf('\n', m.index));
    const text = rest.split(/[|;]/, 1)[0];
    out.push({ cmdlet: m[1], params: psParams(text), text: text.trim(), user: orNull(f(rec, 'UserID')), failed: false, source: 'PowerShell script block' });
  }
  return out;
}

/** A path a web server would serve, an admin share of this machine, or a script page name: where ProxyShell drops shells. */
export function webTarget(path: string): string | null {
  // Published extracts double every backslash (`\\\\localhost\\c$`): runs of separators count as one; 8.3 short
  // folder names (`FRONTE~1\HTTPPR~1`) are written out.
  const p = longFolderNames(path.replace(/[\\/]+/g, '\\')).toLowerCase();
  if (/^\\(?:localhost|127\.0\.0\.1|\[?::1\]?)\\[a-z]\$/.test(p)) return 'an administrative share of the server itself';
  if (p.includes('\\inetpub\\wwwroot')) return 'the IIS web root';
  if (p.includes('\\frontend\\httpproxy\\') || p.includes('\\clientaccess\\')) return 'an Exchange web folder';
  if (/\.as[hmp]x\b/.test(p)) return 'a web script name';
  return null;
}

function evidence(c: CmdletCall, extra: Record<string, EvidenceValue> = {}): Record<string, EvidenceValue> {
  return { cmdlet: c.cmdlet, parameters: c.text.slice(0, 2000), user: c.user, failed: c.failed, recorded_in: c.source, ...extra };
}

/** EVTX_RULES includes these rules too: the EVTX scanner runs them on every event record. */
const FORMATS = ['rps-cmdlet', 'ecp-server', 'evtx'] as const;
/** Cmdlet names that occur in these logs only when a watched cmdlet ran. */
const LINE_TEST = new RegExp(WATCHED_CMDLETS.join('|'), 'i');

/**
 * A cmdlet call's fields for conditions: `cmdlet` (the name as recorded), `parameters` (as recorded); the keyword
 * field (null) is both. Exported as Sigma msexchange-management keywords (the Message of the event holds both).
 */
function callField(c: CmdletCall, field: string | null): string | null {
  if (field === 'cmdlet') return c.cmdlet;
  if (field === 'parameters') return c.text;
  return field === null ? `${c.cmdlet} ${c.text}` : null;
}
const MSEXCHANGE_MANAGEMENT = { logsource: 'msexchange-management', fields: { cmdlet: null, parameters: null } } as const;

/**
 * A cmdlet rule: `when` (a condition over `callField`) picks the calls; `hit` grades them. With `exact`, `when` is
 * the whole rule (hit only words it) and the rule exports to Sigma; otherwise `hit` also decides (say why there).
 * `admin` names the calls that are the documented admin workflow (the rule gets the two `adminGrades`).
 */
function cmdletRule(
  r: Omit<RecordRule, 'formats' | 'needles' | 'lineTest' | 'match'> & { needles: string[]; when: Condition; exact?: boolean; admin?: string; hit(c: CmdletCall): RuleHit | null },
): RecordRule {
  const { when, hit, exact, admin, ...meta } = r;
  const picks = compileCondition(when, callField);
  return {
    ...meta,
    ...(admin ? { grades: [...(meta.grades ?? []), ...adminGrades(meta.id, meta.title, admin)] } : {}),
    ...(exact ? { condition: when, sigmaExport: MSEXCHANGE_MANAGEMENT } : {}),
    formats: FORMATS,
    lineTest: LINE_TEST,
    match(rec) {
      const hits = cmdletCalls(rec)
        .filter(picks)
        .map(hit)
        .filter((h): h is RuleHit => h !== null);
      return hits.length ? hits : null;
    },
  };
}

const cmdlet = (...values: string[]): Condition => ({ field: 'cmdlet', op: 'equals', values });

/**
 * The two grades of an admin-workflow call: info with no CVE (nothing ties it to an exploit), and critical once
 * the host-level chain check (src/rules/chain.ts) ties it to exploitation (it adds the exploit's CVEs).
 */
function adminGrades(id: string, title: string, what: string): Grade[] {
  return [
    { id, as: `${id} admin`, title, severity: 'info', kind: 'post-exploitation', cves: [], when: `the call is ${what} (the documented admin workflow): context` },
    { id, as: `${id} chained`, title, severity: 'critical', kind: 'post-exploitation', when: `the call is ${what} and ran within two hours of an exploitation or web-shell finding on the host, or as the account an exploit used (it takes that exploit's CVEs)` },
  ];
}

const adminHit = (id: string, c: CmdletCall, summary: string, extra: Record<string, EvidenceValue> = {}): RuleHit => ({
  summary: `${summary} (${c.source}; documented admin workflow, context unless tied to exploitation)`,
  grade: `${id} admin`,
  evidence: evidence(c, { admin_workflow: true, ...extra }),
});

/** The server of a UNC path (`\\\\host\\share\\…`, either slash; WebDAV's `host@SSL@443` form too), or null. */
function uncHost(path: string): string | null {
  const m = /^[\\/]{2}([^\\/@]+)(?:@[^\\/]*)?[\\/]/.exec(path);
  return m ? m[1] : null;
}

const PS08 = cmdletRule({
  id: 'PS-08',
  title: 'Mailbox exported to a web folder (ProxyShell)',
  cves: PROXYSHELL,
  severity: 'critical',
  kind: 'webshell',
  references: [R.sigmaExportWeb, R.sigmaExportUnc, R.hamadShe, R.msExport],
  description:
    'New-MailboxExportRequest wrote a mailbox (carrying a PST-encoded web shell) into a web-served folder, an administrative share of the server itself or an .aspx/.ashx/.asmx file: the ProxyShell drop. An export to a file share with a .pst name, and granting the "Mailbox Import Export" role, are the documented admin workflow: info, raised to critical when tied to exploitation (same client, user or time).',
  admin: 'an export to a file share with a .pst name, or a grant of the "Mailbox Import Export" role',
  grades: [
    {
      as: 'PS-08 internet',
      title: 'Mailbox exported to an internet address',
      severity: 'high',
      kind: 'post-exploitation',
      cves: [],
      when: 'the export goes to a share named by a public IP address (\\\\<public IP>\\…): data sent off the network, never an admin\'s file server',
    },
  ],
  needles: ['MailboxExportRequest', 'ManagementRoleAssignment'],
  when: cmdlet('New-MailboxExportRequest', 'New-ManagementRoleAssignment'),
  // Graded in code: the export target is classified after PowerShell unquoting and separator folding (webTarget),
  // and the role assignment by its -Role value; a condition over the recorded text cannot tell them apart.
  hit(c) {
    if (/^New-ManagementRoleAssignment$/i.test(c.cmdlet)) {
      const role = c.params.get('role') ?? '';
      return /Mailbox Import Export/i.test(role) ? adminHit('PS-08', c, `Role "Mailbox Import Export" assigned to ${c.params.get('user') ?? c.params.get('securitygroup') ?? '?'}`) : null;
    }
    const path = (c.params.get('filepath') ?? '').trim();
    const web = webTarget(path);
    if (web) return { summary: `New-MailboxExportRequest to ${JSON.stringify(path)} (${web}; ${c.source})`, evidence: evidence(c, { file: path, target: web }) };
    const host = uncHost(path);
    if (host !== null && isIP(host) !== 0 && !isPrivateIp(host)) {
      return {
        summary: `New-MailboxExportRequest of ${c.params.get('mailbox') ?? '?'} to ${JSON.stringify(path)}: a share on the internet address ${host} (${c.source})`,
        grade: 'PS-08 internet',
        evidence: evidence(c, { file: path, destination: host }),
      };
    }
    return adminHit('PS-08', c, `New-MailboxExportRequest of ${c.params.get('mailbox') ?? '?'} to ${JSON.stringify(path)}`, { file: orNull(path) });
  },
});

const PS09 = cmdletRule({
  id: 'PS-09',
  title: 'Mailbox export request removed',
  cves: PROXYSHELL,
  severity: 'info',
  kind: 'post-exploitation',
  references: [R.sigmaRemoveExport, R.hamadShe, R.msExport],
  description: 'Remove-MailboxExportRequest deletes a finished export request: routine for admins, and the ProxyShell exploits run it right after the export; raised to critical when tied to exploitation.',
  admin: 'a removal of an export request',
  needles: ['MailboxExportRequest'],
  when: cmdlet('Remove-MailboxExportRequest'),
  exact: true,
  attack: ['attack.defense-evasion', 'attack.t1070'],
  hit: (c) => adminHit('PS-09', c, `Remove-MailboxExportRequest ${c.text.replace(/\s+/g, ' ').trim().slice(0, 160)}`),
});

const PS10 = cmdletRule({
  id: 'PS-10',
  title: 'Certificate request written into a web folder (ProxyShell)',
  cves: PROXYSHELL,
  severity: 'critical',
  kind: 'webshell',
  references: [R.sigmaCertExport, R.hamadShe, R.msCertRequest],
  description:
    'New-ExchangeCertificate -RequestFile wrote a certificate request (carrying a web shell) into a web folder, an administrative share of the server or an .aspx file. A request file on a normal share is the admin workflow: info, raised when tied to exploitation.',
  admin: 'a request file on a normal share',
  needles: ['ExchangeCertificate'],
  when: cmdlet('New-ExchangeCertificate'),
  // Graded in code: -RequestFile is classified after unquoting and separator folding (webTarget).
  hit(c) {
    const path = (c.params.get('requestfile') ?? '').trim();
    if (!path) return null;
    const web = webTarget(path);
    if (web) return { summary: `New-ExchangeCertificate request written to ${JSON.stringify(path)} (${web}; ${c.source})`, evidence: evidence(c, { file: path, target: web }) };
    return adminHit('PS-10', c, `New-ExchangeCertificate request written to ${JSON.stringify(path)}`, { file: path });
  },
});

const PL25 = cmdletRule({
  id: 'PL-25',
  title: 'Script in a virtual-directory URL set by cmdlet (CVE-2021-27065)',
  cves: ['CVE-2021-27065'],
  severity: 'critical',
  kind: 'webshell',
  references: [R.sigmaOab, REF.msHafniumBlog],
  description:
    'A Set-*VirtualDirectory cmdlet stored script or server-side markup in a URL property (e.g. the OAB ExternalUrl China Chopper shell); resetting the directory writes it out as an .aspx web shell. (ECP Server logs: PL-22.)',
  needles: ['VirtualDirectory'],
  when: { field: 'cmdlet', op: 're', values: ['^Set-\\w{0,40}VirtualDirectory$'], ignoreCase: true },
  // Decided in code: markup in a URL-named parameter (markupIn over the unquoted value), not a literal.
  hit(c) {
    if (c.source === 'ECP') return null; // PL-22 reads S:CMD with the ECP canary and request id
    const param = [...c.params].find(([name, v]) => /url$/i.test(name) && markupIn(v) !== null);
    const markup = param ? markupIn(param[1]) : /url/i.test(c.text) ? markupIn(c.text) : null;
    if (!markup) return null;
    return { summary: `${c.cmdlet} with markup ${JSON.stringify(markup)} in a URL (${c.source})`, evidence: evidence(c, { markup }) };
  },
});

const PX13 = cmdletRule({
  id: 'PX-13',
  title: 'Exchange transport agent installed',
  cves: [],
  severity: 'high',
  kind: 'post-exploitation',
  references: [R.sigmaTransportAgent],
  description: 'Install-TransportAgent loads a DLL into every message flow; attackers use it for mail-flow persistence (a failed attempt is as telling as a successful one).',
  needles: ['TransportAgent'],
  when: cmdlet('Install-TransportAgent'),
  exact: true,
  attack: ['attack.persistence', 'attack.t1505.002'],
  hit: (c) => ({ summary: `Install-TransportAgent ${c.text.replace(/\s+/g, ' ').trim().slice(0, 200)}${c.failed ? ' (failed)' : ''} (${c.source})`, evidence: evidence(c) }),
});

export const CMDLET_RULES: RecordRule[] = [PL25, PS08, PS09, PS10, PX13];
