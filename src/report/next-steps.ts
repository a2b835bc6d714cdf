// "What to do next", derived from one host's result: CISA AA21-062A's response steps, made specific.
import { SEVERITY_RANK, type Finding, type HostResult } from '../model.js';
import { STAGE_RANK, evidenceString, fileKey, isLoopback, isPrivateIp, normalizeIp } from '../semantics.js';
import { baseline, exchangeRelPath } from '../rules/files/baselines.js';
import { serverPath } from '../evidence/server-path.js';
import { buildAssessment } from './summary.js';

export interface NextStep {
  /** Stable id, e.g. `preserve`, `isolate`, `remove-shells`. */
  id: string;
  title: string;
  detail: string;
  /** Concrete things to act on (paths, addresses, missing logs); evidence text, escape when rendering. */
  items: string[];
  /** exhunt command lines that carry out the step (`exhunt collect …`, `exhunt mitigate …`); built from safe parts only. */
  commands?: string[];
  /** For items that are server paths: the same file's path in the evidence (for hover and details). */
  evidencePaths?: Record<string, string>;
}

const MAX_ITEMS = 25;

function cap(items: string[]): string[] {
  const uniq = [...new Set(items)];
  return uniq.length > MAX_ITEMS ? [...uniq.slice(0, MAX_ITEMS), `… and ${uniq.length - MAX_ITEMS} more (see findings)`] : uniq;
}

const LSASS = /lsass|minidump|comsvcs|procdump|\.dmp\b/i;

/** Findings that show LSASS memory was dumped (credentials must be presumed stolen). */
function lsassDumps(host: HostResult): Finding[] {
  return host.findings.filter((f) => f.kind === 'post-exploitation' && f.severity !== 'info' && LSASS.test(`${f.rule} ${f.title} ${f.summary} ${evidenceString(f.evidence.file) ?? ''}`));
}

/**
 * Files an attacker wrote or left (web shells on disk, files written by exploitation: OAB, exports, cert requests),
 * one per location, keyed by the Windows path the admin will type on the server (the evidence path when the drive
 * is unknown), with the path of the copy in the evidence when there is one.
 */
function shellPaths(host: HostResult): Map<string, string | null> {
  const paths = [
    ...host.shells,
    ...host.findings
      // Only what proves attacker code: a low or medium page difference (another build's page) is for review, and
      // deleting one of Exchange's own pages breaks OWA. Post-exploitation files count when a web folder holds them
      // (a credential stealer's script, its dump of captured passwords).
      .filter((f) => (f.kind === 'webshell' && SEVERITY_RANK[f.severity] >= SEVERITY_RANK.medium) || (f.kind === 'exploitation' && f.stage === 'exploited') || (f.stage === 'post-exploitation' && inWebFolder(f)))
      .map((f) => evidenceString(f.evidence.file))
      .filter((p): p is string => p !== null),
  ];
  const byKey = new Map<string, { server: string | null; evidence: string | null }>();
  const windowsLike = (p: string) => /^[a-z]:\\|^\\\\/i.test(p);
  for (const p of paths) {
    const key = fileKey(p) ?? p;
    const seen = byKey.get(key) ?? { server: null, evidence: null };
    if (windowsLike(p)) seen.server ??= p;
    else {
      seen.evidence ??= p;
      seen.server ??= serverPath(p);
    }
    byKey.set(key, seen);
  }
  return new Map([...byKey.values()].map((v) => [v.server ?? (v.evidence as string), v.server !== null ? v.evidence : null]));
}

function inWebFolder(f: Finding): boolean {
  const file = evidenceString(f.evidence.file);
  return file !== null && (exchangeRelPath(file) !== null || /(^|[\\/])inetpub[\\/]wwwroot[\\/]/i.test(file));
}

/** A page the web server runs (what "web shell" names), not a dropped data file. */
const shellLike = (path: string): boolean => /\.(aspx|ashx|asmx|asax|asp|ascx|cshtml|config|php|jsp)$/i.test(path);

/** One of Microsoft's own Exchange files (its path is in the known-good lists): restored, never deleted. */
function shipped(path: string): boolean {
  const rel = exchangeRelPath(path);
  return rel !== null && baseline().paths.has(rel);
}

/**
 * The addresses behind attack findings, split into those to block and internal ones (private or loopback ranges):
 * blocking a load balancer, another Exchange server or this server's own address stops mail, and the attacker
 * behind it is elsewhere.
 */
function attackerIps(host: HostResult): { block: string[]; internal: string[] } {
  const block: string[] = [];
  const internal: string[] = [];
  // Scanners and Exchange's own health probes (kind scan, stage scanned or none) are not attackers to block.
  for (const f of host.findings.filter((x) => x.stage !== null && x.kind !== 'scan')) {
    const ip = normalizeIp(f.client_ip);
    if (ip === null) continue;
    // Only the address decides: a public address is an outside client even on the back end (through a balancer's
    // X-Forwarded-For) or as a computer account (any user can create one).
    (isPrivateIp(ip) || isLoopback(ip) ? internal : block).push(ip);
  }
  return { block, internal: internal.filter((ip) => !block.includes(ip)) };
}

/** The update to install: the build assessment's advice when a build was read, generic advice otherwise. */
function updateStep(host: HostResult): NextStep {
  const exposure = buildAssessment(host);
  const install = exposure ? evidenceString(exposure.evidence.install) : null;
  const build = exposure ? evidenceString(exposure.evidence.current_build) ?? evidenceString(exposure.evidence.build) : null;
  const product = exposure ? [evidenceString(exposure.evidence.product), evidenceString(exposure.evidence.cu)].filter((x) => x !== null).join(' ') : '';
  if (exposure && build !== null) {
    const what = `${build}${product ? ` (${product})` : ''}`;
    const families = exposure.evidence.current_families ?? exposure.evidence.families;
    const kev = openKev(exposure);
    const items = [
      ...(families && typeof families === 'object' && !Array.isArray(families) ? Object.entries(families).map(([k, v]) => `${k}: ${String(v)}`) : []),
      ...kev.map((c) => `${c}: vulnerable (exploited in the wild, CISA KEV)`),
    ];
    // The updates by KB, or by name for SUs such as Oct26SU that ship without a public KB (the text is the build table's).
    const kbs = install === null ? [] : [...new Set(install.split(/Stop-gap/i)[0].match(/\bKB\d{6,8}\b|\b[A-Z][a-z]{2}\d{2}SU\b(?! \(KB| for [^(]{0,60}\(KB)/g) ?? [])];
    const commands = mitigateCommand(families, kev.includes(OWA_XSS_CVE) && !owaCspApplied(host));
    const why = kev.length ? ` It closes ${kev.join(', ')}, exploited in the wild (CISA KEV).` : '';
    return install !== null
      ? {
          id: 'update',
          title: `Install the security update for build ${what}${kbs.length ? `: ${kbs.join(', then ')}` : ''}`,
          detail: `${install}.${why} Patching closes the hole but does not remove an attacker who is already in.${commands.length ? ' Until it is installed, Microsoft\'s interim mitigation (printed by the command below, run on the server) is a stop-gap for the paths it names.' : ''}${familyOpen(families, 'proxynotshell') ? ` ${OWASSRF_STOP_GAP}` : ''}`,
          items,
          ...(commands.length ? { commands } : {}),
        }
      : { id: 'update', title: `Keep build ${what} up to date`, detail: 'The build is fixed for ProxyLogon, ProxyShell and ProxyNotShell; keep installing each new Security Update.', items };
  }
  const builds = host.facts.filter((f) => f.kind === 'build').map((f) => `${f.value} (${f.origin})`);
  return {
    id: 'update',
    title: 'Install the latest Cumulative Update and Security Update',
    detail:
      'No build could be assessed from the evidence. Read ExSetup.exe\'s file version on the server and install the latest CU and SU for it (ProxyLogon was fixed by the March 2021 SU, KB5000871; later CUs and SUs also fix ProxyShell, ProxyNotShell and OWASSRF). Patching does not remove an attacker who is already in.',
    items: cap(builds),
  };
}

/** A family the current build is open to, from EXP-01's `current_families` (or `families`). */
function familyOpen(families: unknown, id: string): boolean {
  return !!families && typeof families === 'object' && !Array.isArray(families) && (families as Record<string, unknown>)[id] === 'vulnerable';
}

/**
 * The ProxyNotShell URL Rewrite rule matches the Autodiscover path only; OWASSRF (CVE-2022-41080) reaches the same
 * PowerShell endpoint through /owa/<mailbox>/powershell, which no rule covers (docs/mitigate.md; Microsoft's guidance
 * for it: the November 2022 SU, or remote PowerShell off for users who need no PowerShell).
 */
const OWASSRF_STOP_GAP =
  "The ProxyNotShell rule (--proxynotshell) stops the Autodiscover path only, not OWASSRF (/owa/<mailbox>/powershell, CVE-2022-41080), the chain mass-exploited since November 2022: until the update, turn remote PowerShell off for every user who does not administer Exchange (Set-User <user> -RemotePowerShellEnabled $false) or block OWA from the internet.";

/** The OWA stored XSS that `exhunt mitigate --owa-csp` (EOMT's CSP outbound rule) stands in for until Jun26SU. */
const OWA_XSS_CVE = 'CVE-2026-42897';

/** The KEV CVEs outside the three families that EXP-01 found the current build open to. */
function openKev(exposure: Finding): string[] {
  const kev = exposure.evidence.kev_open;
  return Array.isArray(kev) ? kev.filter((c): c is string => typeof c === 'string') : [];
}

/** The configuration shows the OWA CSP outbound rule doing its job (MIT-OWA-CSP applied). */
function owaCspApplied(host: HostResult): boolean {
  return host.findings.some((f) => f.rule === 'MIT-OWA-CSP' && f.evidence.state === 'applied');
}

/**
 * `exhunt mitigate` flags for the families the current build is still open to (ProxyShell has no interim
 * mitigation: only the update closes it), and --owa-csp while CVE-2026-42897 is open and its rule not seen in place.
 */
function mitigateCommand(families: unknown, owaCsp: boolean): string[] {
  const open = (id: string) => familyOpen(families, id);
  const flags = [open('proxylogon') ? '--proxylogon' : '', open('proxynotshell') ? '--proxynotshell' : '', owaCsp ? '--owa-csp' : ''].filter((f) => f !== '');
  return flags.length ? [`exhunt mitigate ${flags.join(' ')} > mitigate.ps1`] : [];
}

/** The host name as a command-line word: evidence text, so anything but plain name characters drops it. */
function hostArg(name: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name) ? ` --host ${name}` : '';
}

function preserve(host: HostResult): NextStep {
  return {
    id: 'preserve',
    title: 'Preserve evidence before changing anything',
    detail: `Take a forensic image and a memory capture of ${host.name} if you can; keep copies of the IIS, Exchange (HttpProxy, ECP, OABGenerator) and Windows event logs, and of this report. Cleaning or rebuilding first destroys what an investigator, insurer or CERT will ask for. On the server, exhunt collect copies the logs, event logs and web folders read-only into a hashed case (write it to another drive, here E:).`,
    items: [],
    commands: [`exhunt collect C:\\ --case E:\\exhunt-case.zip${hostArg(host.name)}`],
  };
}

function isolate(host: HostResult, urgent: boolean): NextStep {
  return urgent
    ? {
        id: 'isolate',
        title: 'Cut the server off from the internet',
        detail: `Block inbound internet access to ${host.name} (OWA, ECP, EWS, Autodiscover, PowerShell) at the firewall or reverse proxy until it is cleaned or rebuilt and patched.`,
        items: [],
      }
    : {
        id: 'restrict',
        title: 'Restrict internet access until patched',
        detail: 'If the update cannot be installed now, restrict or block internet access to the server, or apply Microsoft\'s interim mitigation (URL Rewrite rule / Emergency Mitigation Service) as a stop-gap only.',
        items: [],
      };
}

/** "Restrict internet access until patched", unless the build is assessed and needs no update (review10 R10). */
function restrictUntilPatched(host: HostResult): NextStep | null {
  const exposure = buildAssessment(host);
  const patched = exposure !== undefined && exposure.evidence.install === null && evidenceString(exposure.evidence.current_build ?? exposure.evidence.build) !== null;
  return patched ? null : isolate(host, false);
}

/**
 * Where the web shells that only the logs show (a strong web-shell hit with a URL, no file in the evidence) usually
 * are on the server: IIS serves /aspnet_client from inetpub\wwwroot, /owa and /ecp from Exchange's front end.
 */
function loggedShells(host: HostResult): string[] {
  const out = new Set<string>();
  for (const f of host.findings) {
    if (f.kind !== 'webshell' || SEVERITY_RANK[f.severity] < SEVERITY_RANK.high || evidenceString(f.evidence.file) !== null) continue;
    const url = evidenceString(f.evidence.url);
    const path = url === null ? null : urlPath(url);
    if (path !== null) out.add(path);
  }
  return [...out].sort();
}

/** A URL's path as the file IIS serves it from, or null when it names no page. */
function urlPath(url: string): string | null {
  let stem = url.split(/[?#]/)[0];
  try {
    stem = decodeURIComponent(stem);
  } catch {
    // A malformed escape stays as logged.
  }
  const parts = stem.split('/').filter((x) => x !== '' && x !== '.' && x !== '..');
  if (parts.length === 0 || !/\.[a-z0-9]{1,8}$/i.test(parts[parts.length - 1])) return null;
  const front = /^(?:owa|ecp)$/i.test(parts[0]);
  return `${front ? '%ExchangeInstallPath%FrontEnd\\HttpProxy\\' : 'C:\\inetpub\\wwwroot\\'}${parts.join('\\')}`;
}

function removeShells(host: HostResult): NextStep[] {
  const all = [...shellPaths(host)];
  const remove = all.filter(([p, e]) => !shipped(e ?? p));
  const step = (entries: Array<[string, string | null]>, s: Omit<NextStep, 'items' | 'evidencePaths'>): NextStep[] => {
    if (!entries.length) return [];
    const evidencePaths = Object.fromEntries(entries.filter((e): e is [string, string] => e[1] !== null));
    return [{ ...s, items: cap(entries.map((e) => e[0])), ...(Object.keys(evidencePaths).length ? { evidencePaths } : {}) }];
  };
  const known = new Set(all.map(([p, e]) => fileKey(e ?? p)));
  const seenOnly = loggedShells(host).filter((p) => !known.has(fileKey(p)));
  return [
    ...step(seenOnly.map((p) => [p, null]), {
      id: 'find-shells',
      title: 'Find and remove the web shells the logs show answering (after imaging)',
      detail:
        'These files answered requests in the logs but are not in the evidence: look for them at these paths (the usual place for each URL; %ExchangeInstallPath% is the Exchange folder, e.g. C:\\Program Files\\Microsoft\\Exchange Server\\V15\\), copy each into the case, delete it, then hunt for the same names on every Exchange server and in Temporary ASP.NET Files.',
    }),
    ...step(remove, {
      id: 'remove-shells',
      title: remove.every(([p]) => shellLike(p)) ? 'Remove the web shells (after imaging)' : "Remove the web shells and the attacker's files (after imaging)",
      detail: 'Delete these files on the server, then hunt for the same names and hashes on every Exchange server and in Temporary ASP.NET Files (compiled App_Web_*.dll copies survive deletion).',
    }),
    ...step(all.filter(([p, e]) => shipped(e ?? p)), {
      id: 'restore-pages',
      title: "Restore Exchange's own files that were modified (after imaging)",
      detail:
        "These are Microsoft's files with attacker code added: do not delete them (OWA or ECP stops working). Replace each with the same file from a clean server of the same build and Security Update; or run the installed CU's Setup.exe /Mode:Upgrade to lay them down again, then reinstall the latest Security Update and re-apply Extended Protection (setup lays down the CU's files, not the SU's). Then check every Exchange server for the same change.",
    }),
  ];
}

/** A credential stealer in the sign-in pages (WS-34, WS-35) or its dump of captured sign-ins (WS-36, WS-37). */
const SIGN_IN_CAPTURE = new Set(['WS-34', 'WS-35', 'WS-36', 'WS-37']);

/** ProxyNotShell / OWASSRF findings: the exploit needs a mailbox password, so the user it ran as is the attacker's. */
const AUTHENTICATED_EXPLOIT = /^(?:PNS|OW)-\d+$/;

/**
 * Accounts a successful ProxyNotShell / OWASSRF request ran as (`evidence.user`), each with the first time and the
 * rules: evidence text, escaped when rendered.
 */
function exploitAccounts(host: HostResult): string[] {
  const byUser = new Map<string, { user: string; first: string | null; rules: Set<string> }>();
  for (const f of host.findings) {
    if (!AUTHENTICATED_EXPLOIT.test(f.rule) || f.stage === null || STAGE_RANK[f.stage] < STAGE_RANK.exploited) continue;
    const user = evidenceString(f.evidence.user);
    if (user === null || user === '-' || user === '') continue;
    const key = user.toLowerCase();
    const seen = byUser.get(key) ?? { user, first: null, rules: new Set<string>() };
    if (f.time !== null && (seen.first === null || f.time < seen.first)) seen.first = f.time;
    seen.rules.add(f.rule);
    byUser.set(key, seen);
  }
  return [...byUser.values()].map((u) => `${u.user} (${[...u.rules].sort().join(', ')}${u.first ? `, first ${u.first.slice(0, 16).replace('T', ' ')} UTC` : ''})`);
}

function credentials(host: HostResult): NextStep {
  const accounts = exploitAccounts(host);
  const step = credentialStep(host);
  if (!accounts.length) return step;
  return {
    ...step,
    title: `${step.title}; first the accounts the exploit ran as`,
    detail:
      `ProxyNotShell and OWASSRF need a mailbox password: the attacker had the password of these accounts (phished or sprayed) and can still use it from the internet after patching (OWA, EWS, ActiveSync). Reset them now, revoke their sessions, and check their sign-ins, MFA methods and inbox rules. ${step.detail}`,
    items: cap([...accounts, ...step.items]),
  };
}

function credentialStep(host: HostResult): NextStep {
  const dumps = lsassDumps(host);
  const captured = host.findings.filter((f) => f.stage !== null && f.stage !== 'none' && SIGN_IN_CAPTURE.has(f.rule));
  if (captured.length) {
    return {
      id: 'reset-credentials',
      title: 'Reset credentials: the OWA sign-in page captured passwords',
      detail:
        `Every user who signed in to OWA or ECP on ${host.name} while the page was modified must be presumed stolen: find them in the IIS logs (POST /owa/auth.owa, and the HttpProxy Owa logs) from the file's first change on, reset their passwords and revoke their sessions, starting with administrators${dumps.length ? '; LSASS memory was dumped too: reset administrators, service accounts and krbtgt (twice)' : ''}.`,
      items: cap([...captured, ...dumps].map((f) => { const file = evidenceString(f.evidence.file); return file === null ? f.summary : serverPath(file) ?? file; })),
    };
  }
  return dumps.length
    ? {
        id: 'reset-credentials',
        title: 'Reset credentials: LSASS memory was dumped',
        detail: `Assume every credential that was in memory on ${host.name} is stolen: reset the passwords of administrators and service accounts that logged on to it, reset the krbtgt account twice, and review privileged group membership.`,
        items: cap(dumps.map((f) => evidenceString(f.evidence.file) ?? f.summary)),
      }
    : {
        id: 'reset-credentials',
        title: 'Reset credentials used on the server',
        detail: 'Web shells run as SYSTEM and attackers routinely dump LSASS: reset the passwords of accounts that logged on to the server, starting with administrators and service accounts.',
        items: [],
      };
}

function hunt(): NextStep {
  return {
    id: 'hunt',
    title: 'Look for persistence and follow-on activity',
    detail: 'Check scheduled tasks and new services, AD accounts created in the last 30 days, Exchange group changes (event 4756), mailbox export requests (Get-MailboxExportRequest) and OAB virtual directory URLs; make sure antivirus does not exclude inetpub or the Exchange folders.',
    items: [],
  };
}

function report(): NextStep {
  return {
    id: 'report',
    title: 'Report the incident',
    detail: 'Follow your incident-response plan: inform management, your cyber insurer and your national CERT, and hand them this report.',
    items: [],
  };
}

function coverageStep(host: HostResult, since: string): NextStep | null {
  const problems = host.coverage_gaps;
  if (!problems.length) return null;
  return {
    id: 'collect-logs',
    title: 'Collect the missing logs and scan again',
    detail: `The logs do not cover the window from ${since.slice(0, 10)}; look for older copies (backups, SIEM, log archive) of these sources. Until then, a server that was unpatched and internet-facing since January 2021 should be treated as possibly compromised (CISA).`,
    items: cap(problems),
  };
}

/**
 * The configuration controls that are off (EXP-EP, EXP-SDS, EXP-OVR, …; src/rules/config-exposure.ts): a patched
 * server stays exposed until each is fixed.
 */
function configStep(host: HostResult): NextStep | null {
  const off = host.findings.filter((f) => f.kind === 'exposure' && f.rule.startsWith('EXP-') && f.rule !== 'EXP-01' && f.evidence.state === 'off');
  if (off.length === 0) return null;
  return {
    id: 'fix-config',
    title: 'Close the configuration gaps',
    detail: 'Installing updates does not fix these: each control below is off and leaves the CVEs named open until it is fixed.',
    items: cap(off.map((f) => `${f.title}${f.cves.length ? ` (${f.cves.join(', ')})` : ''}: ${evidenceString(f.evidence.fix) ?? f.summary}`)),
  };
}

/** Ordered steps for one host. `since` is the scan's window start (`report.tool.options.since`). */
export function nextSteps(host: HostResult, since: string): NextStep[] {
  const steps: Array<NextStep | null> = [];
  switch (host.verdict) {
    case 'compromised':
      steps.push(preserve(host), isolate(host, true), ...removeShells(host), credentials(host), updateStep(host), hunt(), report());
      break;
    case 'attempted': {
      const ips = attackerIps(host);
      steps.push(updateStep(host), restrictUntilPatched(host), coverageStep(host, since));
      if (ips.block.length) steps.push({ id: 'block', title: 'Block or watch the attacking addresses', detail: 'Public addresses behind the exploitation attempts (scanners and internal addresses excluded); add them to your firewall or SIEM watch list.', items: cap(ips.block) });
      if (ips.internal.length) {
        steps.push({
          id: 'internal-sources',
          title: 'Identify the internal addresses before blocking anything',
          detail:
            "These attempts came from a private or loopback address. Such an address is usually a load balancer, another Exchange server or this server itself passing an outside request on (find the outside client in that machine's logs), or an attacker already inside the network. Do not block it blindly: blocking an Exchange server or balancer stops mail.",
          items: cap(ips.internal),
        });
      }
      steps.push({ id: 'keep-logs', title: 'Keep these logs', detail: 'Raise log retention for IIS and Exchange HttpProxy logs (the defaults keep only days to weeks) so a later scan can still see this period.', items: [] });
      break;
    }
    case 'suspicious':
      steps.push(
        { id: 'review', title: 'Review the suspicious findings', detail: 'Nothing proves exploitation, but these matches need a person to look at them; scan again with the web-root files and event logs if they were not included.', items: cap(host.findings.filter((f) => f.stage === 'none' && f.severity !== 'info').map((f) => `${f.rule}: ${f.summary}`)) },
        updateStep(host),
        coverageStep(host, since),
      );
      break;
    case 'insufficient-evidence':
      steps.push(coverageStep(host, since) ?? { id: 'collect-logs', title: 'Collect the logs and scan again', detail: 'The evidence holds no logs that would show exploitation.', items: [] }, updateStep(host), restrictUntilPatched(host));
      break;
    case 'clean':
      steps.push(updateStep(host), { id: 'keep-logs', title: 'Keep the logs', detail: 'Keep IIS and Exchange logs long enough to cover the next advisory window, and scan again when one is published.', items: [] });
      break;
  }
  const update = steps.findIndex((s) => s?.id === 'update');
  steps.splice(update + 1, 0, configStep(host));
  return steps.filter((s): s is NextStep => s !== null);
}
