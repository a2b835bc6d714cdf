// The file sweep's own rules (src/engine/scanners/files.ts): drop zones, hash lists, magic numbers, dumps, archives
// and compiled pages. Web-shell content signatures are in signatures.ts. Severity, kind and title here are the
// defaults; where the sweep grades a hit it names one of the grades declared here (sweep.ts), never its own title.
import { TUNNEL_TOOL_REFS } from '../tools.js';
import { REF } from '../references.js';
import type { Grade, RuleMeta } from '../types.js';
import { PROXYSHELL_FAMILY } from '../exploitation-windows.js';

const PROXYSHELL = [...PROXYSHELL_FAMILY.cves];
const SIGBASE_NAMES = 'Neo23x0/signature-base iocs/filename-iocs.txt';
const BASELINES = 'microsoft/CSS-Exchange baselines (SHA256,Build,RelativePath per shipped build; data/baselines)';
const COMPARE_HASHES = 'microsoft/CSS-Exchange CompareExchangeHashes.ps1 (removed 22 Apr 2021)';
const CERT_LV = 'cert-lv/exchange_webshell_detection detect_webshells.ps1';

/**
 * The web-shell drop zones (`dropZone` in the sweep tells which one a path is in), the rule each reports under, how
 * a title names the place, and the grade a script Exchange does not ship there takes when the rule's own title is
 * about something else (WS-07 is about modified pages).
 */
export const DROP_ZONES = {
  aspnet_client: { rule: 'WS-01', where: 'inetpub\\wwwroot\\aspnet_client (normally empty)' },
  'ecp-auth': { rule: 'WS-02', where: 'FrontEnd\\HttpProxy\\ecp\\auth (only TimeoutLogout.aspx ships there)' },
  'owa-auth': { rule: 'WS-03', where: 'owa\\auth' },
  'owa-auth-sub': { rule: 'WS-04', where: 'owa\\auth\\<build> or Current (static files only)' },
  'exchange-web': { rule: 'WS-07', where: 'an Exchange web folder', notShipped: 'WS-07 not shipped' },
  wwwroot: { rule: 'WS-06', where: 'inetpub\\wwwroot' },
} as const;
export type Zone = keyof typeof DROP_ZONES;

/** Title of a script in a drop zone that is not one of Microsoft's files. */
const notShippedTitle = (zone: Zone): string => `Script that Exchange does not ship in ${DROP_ZONES[zone].where}`;

/** The grade of any other file in the two zones where Exchange ships nothing but a known page or web.config. */
export const UNEXPECTED = { aspnet_client: 'WS-01 unexpected', 'ecp-auth': 'WS-02 unexpected' } as const;
const unexpected = (zone: keyof typeof UNEXPECTED, when: string): Grade => ({
  as: UNEXPECTED[zone],
  title: `Unexpected file in ${DROP_ZONES[zone].where}`,
  severity: 'low',
  kind: 'webshell',
  when,
});

/** Named grades the sweep picks (sweep.ts). */
export const GRADE = {
  pstNotScript: 'WS-27 not a script',
  appHostOther: 'WS-10 other path',
  keywordsZone: 'WS-31 drop zone',
  keywordOne: 'WS-31 one keyword',
  dumpStaged: 'PX-07 other dump staged',
  dumpOther: 'PX-07 other dump',
  archiveVendor: 'PX-08 vendor folder',
  signInCredentials: 'WS-37 credentials',
} as const;

const META = {
  'WS-01': {
    title: notShippedTitle('aspnet_client'),
    cves: [],
    severity: 'high',
    kind: 'webshell',
    references: [REF.volexity, `${SIGBASE_NAMES} (\\inetpub\\wwwroot\\aspnet_client\\…\\.aspx, score 90)`, CERT_LV],
    description:
      'A web script in inetpub\\wwwroot\\aspnet_client, a folder that is normally empty and the most common ProxyLogon shell drop; any other file there except web.config is reported low as "Unexpected file".',
    grades: [unexpected('aspnet_client', 'the file is not a web script (and not web.config)')],
  },
  'WS-02': {
    title: notShippedTitle('ecp-auth'),
    cves: [],
    severity: 'high',
    kind: 'webshell',
    references: [REF.volexity, `${SIGBASE_NAMES} (\\FrontEnd\\HttpProxy\\ecp\\auth\\[^T], score 70)`, BASELINES],
    description:
      'A web script in FrontEnd\\HttpProxy\\ecp\\auth other than the one page Exchange ships there; any other unexpected file there is reported low.',
    grades: [unexpected('ecp-auth', 'the file is not a web script (and not web.config)')],
  },
  'WS-03': {
    title: notShippedTitle('owa-auth'),
    cves: [],
    severity: 'high',
    kind: 'webshell',
    references: [REF.volexity, COMPARE_HASHES, BASELINES],
    description: 'A web script in owa\\auth that is not one of the pages Microsoft ships there: a dropped web shell until shown otherwise.',
  },
  'WS-04': {
    title: notShippedTitle('owa-auth-sub'),
    cves: [],
    severity: 'high',
    kind: 'webshell',
    references: [REF.volexity, `${SIGBASE_NAMES} (owa\\auth\\Current\\ and owa\\auth\\<version>\\ .aspx, score 90)`],
    description: 'A web script under owa\\auth\\<build> or owa\\auth\\Current, where Exchange ships only static files.',
  },
  'WS-05': {
    title: 'File name or path on a published web-shell list',
    cves: [],
    severity: 'medium',
    kind: 'ioc',
    references: [
      'Azure/Azure-Sentinel Sample Data/Feeds/MSTICIoCs-ExchangeServerVulnerabilitiesDisclosedMarch2021.csv',
      'SCS-Labs/HAFNIUM-Microsoft-Exchange-0day indicators/webshell_names',
      'zer010bs/exchange-ioc-scan (outlook_cn.iocs, local.iocs)',
      'helsecert/2021-march-exchange README.md',
    ],
    description:
      'A file whose name or path is on a public web-shell list (data/iocs/webshell_files.csv or --ioc) and that no stronger file rule reported; a name alone is weak, and listed names of genuine Exchange files are not reported.',
  },
  'WS-06': {
    title: notShippedTitle('wwwroot'),
    cves: [],
    severity: 'high',
    kind: 'webshell',
    references: [`${COMPARE_HASHES} (Suspicious: new .aspx/.ashx/.asmx under inetpub\\wwwroot)`],
    description: 'A web script directly under inetpub\\wwwroot (outside aspnet_client), which Exchange does not put there.',
  },
  'WS-07': {
    title: 'Exchange page differs from every shipped build',
    cves: [],
    severity: 'medium',
    kind: 'webshell',
    references: [`${COMPARE_HASHES} (NoHashMatch)`, BASELINES, 'helsecert/2021-march-exchange README.md (hash mismatches on some JavaScript files)'],
    description:
      'A script at a path Exchange ships (or a .js/.htm of the owa\\auth and ecp\\auth sign-in folders, where a keylogger would live) whose SHA-256 is in none of the shipped builds (another build, or modified); a script Exchange does not ship elsewhere in its web folders is reported under this id too.',
    grades: [
      {
        as: DROP_ZONES['exchange-web'].notShipped,
        title: notShippedTitle('exchange-web'),
        severity: 'medium',
        kind: 'webshell',
        when: 'the script is in none of the known-good lists at any path: not one of Microsoft\'s files, in an Exchange web folder outside the drop zones',
      },
      {
        as: 'WS-07 other build',
        title: "Exchange web script not checked: no known-good list for the server's build",
        severity: 'low',
        kind: 'webshell',
        when: 'the newest build in the evidence is a CU no shipped list covers; with no build, the newest CU folder under owa\\auth or ecp holding ≥ 10 of the CU\'s shipped static files names it, for static scripts only, never for a page the web server runs (src/rules/files/baseline-build.ts)',
      },
    ],
  },
  'WS-08': {
    title: 'File hash on a published web-shell list',
    cves: [],
    severity: 'critical',
    kind: 'webshell',
    references: [
      `${COMPARE_HASHES} (KnownBadHash)`,
      REF.msHafniumBlog,
      'SCS-Labs/HAFNIUM-Microsoft-Exchange-0day indicators/hashes',
      'Neo23x0/signature-base iocs/hash-iocs.txt (HAFNIUM Webshells - Exchange Exploitation)',
    ],
    description: 'The file is byte for byte a published web shell (data/iocs/hashes.csv or a --ioc SHA-256), wherever it lies.',
  },
  'WS-09': {
    title: 'Compiled page of a web shell (Temporary ASP.NET Files)',
    cves: [],
    severity: 'high',
    kind: 'webshell',
    references: ['Neo23x0/signature-base yara/apt_hafnium.yar (WEBSHELL_Compiled_Webshell_Mar2021_1)'],
    description:
      'An App_Web_*.dll compiled from a page under ~/aspnet_client/ or ~/auth/: a web shell ran there, even if its .aspx has since been deleted.',
  },
  'WS-10': {
    title: 'IIS virtual directory pointing into ProgramData / Users',
    cves: [],
    severity: 'high',
    kind: 'post-exploitation',
    references: ['Neo23x0/signature-base yara/expl_proxyshell.yar (APT_IIS_Config_ProxyShell_Artifacts, SUSP_IIS_Config_ProxyShell_Artifacts)'],
    description:
      'applicationHost.config maps a virtual directory to the ProgramData\\COM, WHO, ZING, ZOO, XYZ, AUX or CON or Users\\All Users folders used in ProxyShell intrusions; any other ProgramData or Users path is graded medium.',
    grades: [{ as: GRADE.appHostOther, severity: 'medium', kind: 'post-exploitation', when: 'the virtual directory maps to another ProgramData or Users path' }],
  },
  'WS-27': {
    title: 'Mailbox export (PST) written as a web page (ProxyShell)',
    cves: PROXYSHELL,
    severity: 'critical',
    kind: 'webshell',
    references: [
      'Neo23x0/signature-base yara/expl_proxyshell.yar (WEBSHELL_ASPX_ProxyShell_Aug21_2, _Sep21_1, WEBSHELL_Mailbox_Export_PST_ProxyShell_Aug26)',
      'SigmaHQ rules (7280c9f3: MSExchangeMailboxReplication.exe writing .aspx)',
    ],
    description:
      'A web script (or any file in a drop zone, graded high) starting with the PST header: New-MailboxExportRequest wrote a mailbox carrying an encoded shell into a web folder.',
    grades: [{ as: GRADE.pstNotScript, severity: 'high', kind: 'webshell', when: 'the file is not a web script but lies in a web-shell drop zone' }],
  },
  'WS-28': {
    title: 'Certificate request written as a web page (ProxyShell)',
    cves: PROXYSHELL,
    severity: 'critical',
    kind: 'webshell',
    references: ['Neo23x0/signature-base yara/expl_proxyshell.yar (WEBSHELL_ASPX_ProxyShell_Aug21_3)'],
    description: 'A web script that is a DER certificate request: New-ExchangeCertificate -RequestFile wrote a shell into a web folder.',
  },
  'WS-29': {
    title: 'ASP.NET page directive inside a binary file',
    cves: [],
    severity: 'high',
    kind: 'webshell',
    references: ['Neo23x0/signature-base yara/expl_proxyshell.yar (SUSP_ASPX_PossibleDropperArtifact_Aug21)'],
    description: 'A page directive after non-text leading bytes (no known binary format): a page smuggled inside another file format, as ProxyShell drops are.',
  },
  'WS-31': {
    title: 'Web script with web-shell keywords',
    cves: [],
    severity: 'medium',
    kind: 'webshell',
    references: [CERT_LV],
    description:
      'A web script that is not one of Microsoft\'s files uses command, eval or file-write keywords; graded high in a drop zone, else medium for two or more keywords and low for one.',
    grades: [
      { as: GRADE.keywordsZone, severity: 'high', kind: 'webshell', when: 'the script lies in a web-shell drop zone (not the wider Exchange web folders)' },
      { as: GRADE.keywordOne, severity: 'low', kind: 'webshell', when: 'outside the drop zones, with one keyword' },
    ],
  },
  'WS-37': {
    title: 'Data file in the OWA or ECP sign-in folder',
    cves: [],
    severity: 'medium',
    kind: 'post-exploitation',
    references: [
      'Positive Technologies Expert Security Center, May 2024: an OWA sign-in page keylogger writes the captured credentials to a file fetched from the internet (summary https://rewterz.com/?p=32267)',
      BASELINES,
    ],
    description:
      'A file that is neither a page nor a static asset (a .txt, .log, .dat …) under owa\\auth or ecp\\auth, which anyone can fetch without signing in: Exchange ships no such file there, and sign-in page stealers leave their captured passwords there.',
    grades: [
      {
        as: GRADE.signInCredentials,
        title: 'Captured credentials in a file in the OWA or ECP sign-in folder',
        severity: 'high',
        kind: 'post-exploitation',
        when: 'a line of the file is a DOMAIN\\user or user@domain followed by a separator and more text (what the stealer wrote)',
      },
    ],
  },
  'PL-43': {
    title: 'WER report of an ECP worker crash (failed CVE-2021-26857 attempt)',
    cves: ['CVE-2021-26857'],
    severity: 'medium',
    kind: 'attempt',
    references: ['Neo23x0/signature-base yara/apt_hafnium.yar (APT_HAFNIUM_ForensicArtefacts_WER_Mar21_1)'],
    description: 'A small Windows Error Reporting file for a crash of w3wp.exe in MSExchangeECPAppPool, as left by exploit attempts against a patched server.',
  },
  'PX-07': {
    title: 'lsass memory dump (credential theft)',
    cves: [],
    severity: 'critical',
    kind: 'post-exploitation',
    references: [`${REF.testProxyLogon}, LsassDump`, REF.volexity],
    description:
      'A minidump of lsass (by name or loaded lsasrv.dll): credentials were taken; a dump of another process is titled "Process memory dump", high in a staging folder and low elsewhere.',
    grades: [
      { as: GRADE.dumpStaged, title: 'Process memory dump', severity: 'high', kind: 'post-exploitation', when: 'a dump of another process, in a staging folder (Windows\\Temp, inetpub, Users\\Public, PerfLogs, ProgramData outside WER)' },
      { as: GRADE.dumpOther, title: 'Process memory dump', severity: 'low', kind: 'post-exploitation', when: 'a dump of another process, elsewhere' },
    ],
  },
  'PX-08': {
    title: 'Archive staged under ProgramData',
    cves: [],
    severity: 'medium',
    kind: 'post-exploitation',
    references: [`${REF.testProxyLogon}, SuspiciousArchive`, 'microsoft/CSS-Exchange issue #311 (McAfee archives)'],
    description:
      'A 7z/zip/rar archive (by extension or content) under ProgramData, where HAFNIUM staged stolen data; graded low in antivirus and backup vendor folders, never hidden.',
    grades: [{ as: GRADE.archiveVendor, severity: 'low', kind: 'post-exploitation', when: 'the archive is in an antivirus or backup vendor folder' }],
  },
  'PX-09': {
    title: 'HAFNIUM staging path or tool name',
    cves: [],
    severity: 'high',
    kind: 'post-exploitation',
    references: ['SigmaHQ HAFNIUM Exchange Exploitation Activity (bbb2dedd)', 'Neo23x0/signature-base yara/apt_hafnium.yar (APT_HAFNIUM_Forensic_Artefacts_Mar21_1)', SIGBASE_NAMES],
    description: 'A file at a path or with a name HAFNIUM tooling used (data/iocs/file_artefacts.csv): batch files, dumps and tools staged after exploitation.',
  },
  'PX-19': {
    title: 'Tunnelling or remote-access tool in a staging or web folder',
    cves: [],
    severity: 'high',
    kind: 'post-exploitation',
    references: TUNNEL_TOOL_REFS,
    description: 'plink, ngrok, chisel, frp, AnyDesk, ScreenConnect and similar tools dropped in ProgramData, Users\\Public or a web folder: how attackers keep access after exploiting Exchange.',
  },
  YARA: {
    title: 'YARA rule matched',
    cves: [],
    severity: 'high',
    kind: 'ioc',
    references: ['https://virustotal.github.io/yara/ (rules supplied with --yara)'],
    description:
      'A rule from the user\'s --yara file matched the file; exhunt ships no YARA rules, so what it means is up to the rule\'s author. Each finding is titled "YARA rule <name>" after the rule that matched: the user\'s file declares it, as a Sigma file loaded with --rules declares its own title.',
  },
} satisfies Record<string, Omit<RuleMeta, 'id'>>;

export type FileRuleId = keyof typeof META;

/** The sweep's rules by id. */
export const FILE_RULES = Object.fromEntries(Object.entries(META).map(([id, m]) => [id, { id, ...m }])) as Record<FileRuleId, RuleMeta>;

/** A rule of the user's --yara file, as it declares itself: its name is its title (the YARA id groups them all). */
export const yaraRule = (name: string): RuleMeta => ({ ...FILE_RULES.YARA, title: `YARA rule ${name}` });
