import type { RuleCredit } from '../model.js';

// Public sources the rules cite, in one place so that every rule names a source the same way.
// Commit ids and names are as given in shared/reference/detections.md.
export const REF = {
  testProxyLogon: 'microsoft/CSS-Exchange Security/src/Test-ProxyLogon.ps1 (final logic: commit 19778cd80, 11 Mar 2021; PR #386 ff06672de, 18 Mar 2021)',
  msHafniumBlog: 'https://www.microsoft.com/security/blog/2021/03/02/hafnium-targeting-exchange-servers-with-0-day-exploits/',
  cssExchange310: 'microsoft/CSS-Exchange issue #310 (hits hidden by the 11 Mar 2021 exclusions; BackEndCookie Server~*/*~*)',
  cssExchange312: 'microsoft/CSS-Exchange issue #312 (autodiscover-only rows as a failed-attempt state)',
  helsecert: 'helsecert/2021-march-exchange README.md (real incident, 2021-03-03: proxyLogon.ecp 241, Set-OabVirtualDirectory web shell)',
  sigBasePr125: 'Neo23x0/signature-base PR #125 (HttpProxy line of the x.js / X-AnonResource-Backend probe)',
  nse: 'microsoft/CSS-Exchange Security/src/http-vuln-cve2021-26855.nse (Microsoft nmap probe, removed 7 Mar 2022)',
  msQa302014: 'Microsoft Q&A question 302014 (ServerInfo~burpcollaborator.net/ecp/default.flt? canary)',
  volexity: 'https://www.volexity.com/blog/2021/03/02/active-exploitation-of-microsoft-exchange-zero-day-vulnerabilities/',
  chirp: 'cisagov/CHIRP indicators/AA21062A.yaml (CISA AA21-062A)',
  sigBase27065: 'Neo23x0/signature-base EXPL_LOG_CVE_2021_27065_Exchange_Forensic_Artefacts_Mar21_1',
  sentinelOab: 'Azure/Azure-Sentinel HAFNIUM OAB download-path hunting query (path regex ([^\\\\]*)(\\\\[^\']*))',
  rapid7Pr17438: 'rapid7/metasploit-framework PR #17438 (X-BEResource=localhost~ cookie without a slash; unconfirmed)',
} as const;

// ---- Credits owed to Detection Rule License rules --------------------------------------------------------------
// DRL 1.1 (SigmaHQ rules; Neo23x0/signature-base under "DRL 1.1 STRICT"): messages based on matches with the rules,
// "including in modified form", must keep the rule's author field. Each exhunt rule adapted from such a rule lists
// it here; every finding of that rule carries the credit (JSON `credits`, NDJSON `rule.author` / `rule.license`,
// the CSV `rule_credit` column, the HTML evidence line). Authors are copied from the upstream rule's `author` field:
// SigmaHQ rules from shared/reference/upstream/sigmahq-exchange-rules (SigmaHQ/sigma @8eaafff1) or SigmaHQ/sigma
// for the four tunnelling-tool rules; signature-base rules from Neo23x0/signature-base's yara/*.yar `meta.author`.
// test/credits.test.ts checks that every rule citing a SigmaHQ or signature-base rule has a credit here.

const DRL_SIGMA = { license: 'DRL-1.1', license_url: 'https://github.com/SigmaHQ/Detection-Rule-License' } as const;
const DRL_SIGBASE = { license: 'DRL-1.1', license_url: 'https://github.com/Neo23x0/signature-base/blob/master/LICENSE' } as const;
const SIGMA_BLOB = 'https://github.com/SigmaHQ/sigma/blob/master/';
const SIGBASE_BLOB = 'https://github.com/Neo23x0/signature-base/blob/master/';

const sigma = (id: string, path: string, author: string): RuleCredit => ({ project: 'SigmaHQ', rule: id, author, ...DRL_SIGMA, url: SIGMA_BLOB + path });
/** `file` '' = the rule's file could not be confirmed: the link is the YARA folder. */
const sigbase = (rule: string, file: string, author: string): RuleCredit => ({ project: 'signature-base', rule, author, ...DRL_SIGBASE, url: file ? SIGBASE_BLOB + file : 'https://github.com/Neo23x0/signature-base/tree/master/yara' });

const ROTH = 'Florian Roth (Nextron Systems)';
const ET = 'rules-emerging-threats/';
const PC = 'rules/windows/process_creation/';
const MSX = 'rules/windows/builtin/msexchange/';
const FE = 'rules/windows/file/file_event/';

/** The DRL-licensed upstream rules exhunt's rules follow, by a short key. */
export const UPSTREAM_RULES = {
  sigmaHafniumWeb: sigma('67bce556-312f-4c81-9162-c3c9ff2599b2', `${ET}2021/TA/HAFNIUM/web_exchange_exploitation_hafnium.yml`, ROTH),
  sigmaResetVdir: sigma('effee1f6-a932-4297-a81f-acb44064fa3a', `${ET}2021/Exploits/CVE-2021-26858/web_cve_2021_26858_iis_rce.yml`, 'frack113'),
  sigmaWebshellStrings: sigma('7ff9db12-1b94-4a79-ba68-a2402c5d6729', 'rules/web/webserver_generic/web_win_webshells_in_access_logs.yml', `${ROTH}, Nasreddine Bencherchali (Nextron Systems)`),
  sigmaProxyShell: sigma('23eee45e-933b-49f9-ae1b-df706d2d52ef', `${ET}2021/Exploits/ProxyShell-Exploit/web_exchange_proxyshell.yml`, `${ROTH}, Rich Warren`),
  sigmaProxyShellOk: sigma('992be1eb-e5da-437e-9a54-6d13b57bb4d8', `${ET}2021/Exploits/ProxyShell-Exploit/web_exchange_proxyshell_successful.yml`, `${ROTH}, Rich Warren`),
  sigmaOwassrf: sigma('181f49fa-0b21-4665-a98c-a57025ebb8c7', `${ET}2022/Exploits/CVE-2022-41082/web_cve_2022_36804_exchange_owassrf_exploitation.yml`, 'Nasreddine Bencherchali (Nextron Systems)'),
  sigmaOwassrfPoc: sigma('92d78c63-5a5c-4c40-9b60-463810ffb082', `${ET}2022/Exploits/CVE-2022-41082/web_cve_2022_36804_exchange_owassrf_poc_exploitation.yml`, 'Nasreddine Bencherchali (Nextron Systems)'),
  sigmaProxyToken: sigma('56973b50-3382-4b56-bdf5-f51a3183797a', `${ET}2021/Exploits/CVE-2021-33766/web_cve_2021_33766_msexchange_proxytoken.yml`, `${ROTH}, Max Altgelt (Nextron Systems), Christian Burkard (Nextron Systems)`),
  sigmaOabVdir: sigma('550d3350-bb8a-4ff3-9533-2ba533f4a1c0', `${MSX}win_exchange_proxylogon_oabvirtualdir.yml`, ROTH),
  sigmaOabExternalUrl: sigma('9db37458-4df2-46a5-95ab-307e7f29e675', `${MSX}win_exchange_set_oabvirtualdirectory_externalurl.yml`, 'Jose Rodriguez @Cyb3rPandaH'),
  sigmaExportWeb: sigma('516376b4-05cd-4122-bae0-ad7641c38d48', `${MSX}win_exchange_proxyshell_mailbox_export.yml`, `${ROTH}, Rich Warren, Christian Burkard (Nextron Systems)`),
  sigmaExportShare: sigma('889719ef-dd62-43df-86c3-768fb08dc7c0', `${PC}proc_creation_win_powershell_mailboxexport_share.yml`, ROTH),
  sigmaExportSharePs: sigma('4a241dea-235b-4a7e-8d76-50d817b146c4', 'rules/windows/powershell/powershell_script/posh_ps_mailboxexport_share.yml', 'Nasreddine Bencherchali (Nextron Systems)'),
  sigmaRemoveExport: sigma('09570ae5-889e-43ea-aac0-0e1221fb3d95', `${MSX}win_exchange_proxyshell_remove_mailbox_export.yml`, 'Christian Burkard (Nextron Systems)'),
  sigmaCertExport: sigma('b7bc7038-638b-4ffd-880c-292c692209ef', `${MSX}win_exchange_proxyshell_certificate_generation.yml`, 'Max Altgelt (Nextron Systems)'),
  sigmaTransportAgent: sigma('4fe151c2-ecf9-4fae-95ae-b88ec9c2fca6', `${MSX}win_exchange_transportagent.yml`, 'Tobias Michalski (Nextron Systems)'),
  sigmaTransportAgentFailed: sigma('c7d16cae-aaf3-42e5-9c1c-fb8553faa6fa', `${MSX}win_exchange_transportagent_failed.yml`, 'Tobias Michalski (Nextron Systems)'),
  sigmaChopper: sigma('fa3c117a-bc0d-416e-a31b-0c0e80653efb', `${PC}proc_creation_win_webshell_chopper.yml`, `${ROTH}, MSTI (query)`),
  sigmaWebChild: sigma('8202070f-edeb-4d31-a010-a26c72ac5600', `${PC}proc_creation_win_webshell_susp_process_spawned_from_webserver.yml`, `Thomas Patzke, ${ROTH}, Zach Stanford @svch0st, Tim Shelton, Nasreddine Bencherchali (Nextron Systems)`),
  sigmaUmChild: sigma('cd479ccc-d8f0-4c66-ba7d-e06286f3f887', `${ET}2021/Exploits/CVE-2021-26857/proc_creation_win_exploit_cve_2021_26857_msexchange.yml`, 'Bhabesh Raj'),
  sigmaHafniumProc: sigma('bbb2dedd-a0e3-46ab-ba6c-6c82ae7a9aa7', `${ET}2021/TA/HAFNIUM/proc_creation_win_apt_hafnium.yml`, ROTH),
  sigmaAspxDrop: sigma('bd1212e5-78da-431e-95fa-c58e3237a8e6', `${FE}file_event_win_exchange_webshell_drop.yml`, `${ROTH}, MSTI (query, idea)`),
  sigmaFileDrop: sigma('6b269392-9eba-40b5-acb6-55c882b20ba6', `${FE}file_event_win_exchange_webshell_drop_suspicious.yml`, ROTH),
  sigmaReplicationAspx: sigma('7280c9f3-a5af-45d0-916a-bc01cb4151c9', `${FE}file_event_win_susp_exchange_aspx_write.yml`, ROTH),
  sigmaNgrok: sigma('ee37eb7c-a4e7-4cd5-8fa4-efa27f1c3f31', `${PC}proc_creation_win_pua_ngrok.yml`, ROTH),
  sigmaChisel: sigma('8b0e12da-d3c3-49db-bb4f-256703f380e5', `${PC}proc_creation_win_pua_chisel.yml`, ROTH),
  sigmaPlink: sigma('48a61b29-389f-4032-b317-b30de6b95314', `${PC}proc_creation_win_plink_port_forwarding.yml`, ROTH),
  sigmaFrp: sigma('32410e29-5f94-4568-b6a3-d91a8adad863', `${PC}proc_creation_win_pua_frp.yml`, 'frack113, Florian Roth'),

  sbOabLog: sigbase('EXPL_LOG_CVE_2021_27065_Exchange_Forensic_Artefacts_Mar21_1', 'yara/apt_hafnium_log_sigs.yar', ROTH),
  sbThemesPost: sigbase('EXPL_LOG_CVE_2021_26858_Exchange_Forensic_Artefacts_Mar21_1', 'yara/apt_hafnium_log_sigs.yar', ROTH),
  sbHafniumTraces: sigbase('LOG_APT_HAFNIUM_Exchange_Log_Traces_Mar21_1', 'yara/apt_hafnium_log_sigs.yar', ROTH),
  sbRpcLog: sigbase('LOG_CVE_2021_27065_Exchange_Forensic_Artefacts_Mar21_2', 'yara/apt_hafnium_log_sigs.yar', ROTH),
  sbCleanup: sigbase('LOG_Exchange_Forensic_Artefacts_CleanUp_Activity_Mar21_1', 'yara/apt_hafnium_log_sigs.yar', ROTH),
  sbProxyShellFailed: sigbase('EXPL_Exchange_ProxyShell_Failed_Aug21_1', 'yara/expl_proxyshell.yar', ROTH),
  sbProxyShellOk: sigbase('EXPL_Exchange_ProxyShell_Successful_Aug21_1', 'yara/expl_proxyshell.yar', ROTH),
  sbPnsPatterns: sigbase('EXPL_Exchange_ProxyNotShell_Patterns_CVE_2022_41040_Oct22_1', '', ROTH),
  sbPnsPoc: sigbase('LOG_ProxyNotShell_POC_CVE_2022_41040_Nov22', '', ROTH),
  sbOwassrf1: sigbase('EXPL_LOG_ProxyNotShell_OWASSRF_PowerShell_Proxy_Log_Dec22_1', 'yara/expl_proxynotshell_owassrf_dec22.yar', ROTH),
  sbOwassrf2: sigbase('EXPL_LOG_ProxyNotShell_OWASSRF_PowerShell_Proxy_Log_Dec22_2', 'yara/expl_proxynotshell_owassrf_dec22.yar', ROTH),
  sbOwassrf3: sigbase('EXPL_LOG_ProxyNotShell_OWASSRF_PowerShell_Proxy_Log_Dec22_3', 'yara/expl_proxynotshell_owassrf_dec22.yar', ROTH),
  sbPnsProxyLog: sigbase('EXPL_LOG_ProxyNotShell_PowerShell_Proxy_Log_Dec22_1', 'yara/expl_proxynotshell_owassrf_dec22.yar', ROTH),
  sbFilenameIocs: sigbase('iocs/filename-iocs.txt', 'iocs/filename-iocs.txt', 'Neo23x0/signature-base (the IOC file names no author)'),
  sbHashIocs: sigbase('iocs/hash-iocs.txt', 'iocs/hash-iocs.txt', 'Neo23x0/signature-base (the IOC file names no author)'),
  sbCompiledShell: sigbase('WEBSHELL_Compiled_Webshell_Mar2021_1', 'yara/apt_hafnium.yar', 'Bundesamt fuer Sicherheit in der Informationstechnik'),
  sbIisConfig: sigbase('APT_IIS_Config_ProxyShell_Artifacts', 'yara/expl_proxyshell.yar', ROTH),
  sbIisConfigSusp: sigbase('SUSP_IIS_Config_ProxyShell_Artifacts', 'yara/expl_proxyshell.yar', ROTH),
  sbPstShell: sigbase('WEBSHELL_ASPX_ProxyShell_Aug21_2', 'yara/expl_proxyshell.yar', ROTH),
  sbPstShellB64: sigbase('WEBSHELL_ASPX_ProxyShell_Sep21_1', 'yara/expl_proxyshell.yar', 'Tobias Michalski'),
  sbPstExport: sigbase('WEBSHELL_Mailbox_Export_PST_ProxyShell_Aug26', 'yara/expl_proxyshell.yar', 'Moritz Oettle'),
  sbDerShell: sigbase('WEBSHELL_ASPX_ProxyShell_Aug21_3', 'yara/expl_proxyshell.yar', 'Max Altgelt'),
  sbDropper: sigbase('SUSP_ASPX_PossibleDropperArtifact_Aug21', 'yara/expl_proxyshell.yar', 'Max Altgelt'),
  sbIisStart: sigbase('WEBSHELL_ASPX_ProxyShell_Aug15', 'yara/expl_proxyshell.yar', 'Moritz Oettle'),
  sbEvalAsf: sigbase('WEBSHELL_ASPX_ProxyShell_Exploitation_Aug21_1', 'yara/expl_proxyshell.yar', ROTH),
  sbDropHell: sigbase('WEBSHELL_ProxyShell_Exploitation_Nov21_1', 'yara/expl_proxyshell.yar', ROTH),
  sbWer: sigbase('APT_HAFNIUM_ForensicArtefacts_WER_Mar21_1', 'yara/apt_hafnium.yar', ROTH),
  sbHafniumArtefacts: sigbase('APT_HAFNIUM_Forensic_Artefacts_Mar21_1', 'yara/apt_hafnium.yar', ROTH),
  sbChopperHafnium: sigbase('APT_WEBSHELL_HAFNIUM_Chopper_WebShell', 'yara/apt_hafnium.yar', 'Markus Neis,Swisscom'),
  sbChopperGeneric: sigbase('ChinaChopper_Generic', 'yara/apt_webshell_chinachopper.yar', ROTH),
  sbCisa01: sigbase('WEBSHELL_HAFNIUM_CISA_10328929_01', 'yara/apt_hafnium.yar', 'CISA Code & Media Analysis'),
  sbCisa02: sigbase('WEBSHELL_HAFNIUM_CISA_10328929_02', 'yara/apt_hafnium.yar', 'CISA Code & Media Analysis'),
  sbChopperLike: sigbase('WEBSHELL_ASPX_Chopper_Like_Mar21_1', 'yara/apt_hafnium.yar', ROTH),
  sbTinyShell: sigbase('APT_WEBSHELL_Tiny_WebShell', 'yara/apt_hafnium.yar', 'Markus Neis,Swisscom'),
  sbChopper3: sigbase('APT_MAL_ASPX_HAFNIUM_Chopper_Mar21_3', 'yara/apt_hafnium.yar', ROTH),
  sbChopper4: sigbase('APT_MAL_ASPX_HAFNIUM_Chopper_Mar21_4', 'yara/apt_hafnium.yar', ROTH),
  sbOabShell: sigbase('WEBSHELL_CVE_2021_27065_Webshells', 'yara/apt_hafnium.yar', 'Joe Hannon, Microsoft Threat Intelligence Center (MSTIC)'),
} as const satisfies Record<string, RuleCredit>;

type Upstream = keyof typeof UPSTREAM_RULES;
const TUNNELS: Upstream[] = ['sigmaNgrok', 'sigmaChisel', 'sigmaPlink', 'sigmaFrp'];

/**
 * exhunt rule id (as findings carry it, graded ids included) → the DRL rules it was adapted from. Not listed:
 * PL-01/PL-07 (Test-ProxyLogon logic; signature-base PR #125 is cited for a sample log line, not a rule) and
 * PT-01's signature-base twin LOG_EXPL_ProxyToken_Exploitation_Aug21_1 (its author could not be read; PT-01
 * credits the SigmaHQ rule it implements).
 */
const ADAPTED_FROM: Record<string, readonly Upstream[]> = {
  'PL-09': ['sigmaHafniumWeb', 'sbThemesPost'],
  'PL-10': ['sigmaHafniumWeb'],
  'PL-11': ['sbHafniumTraces'],
  'PL-13': ['sigmaHafniumWeb'],
  'PL-22': ['sbOabLog'],
  'PL-24': ['sigmaResetVdir'],
  'PL-25': ['sigmaOabVdir', 'sigmaOabExternalUrl'],
  'PL-28': ['sbRpcLog'],
  'PL-29': ['sbOabShell', 'sbCisa02'],
  'PL-42': ['sigmaUmChild'],
  'PL-43': ['sbWer'],
  'WS-01': ['sbFilenameIocs'],
  'WS-02': ['sbFilenameIocs'],
  'WS-04': ['sbFilenameIocs'],
  'WS-08': ['sbHashIocs'],
  'WS-09': ['sbCompiledShell'],
  'WS-10': ['sbIisConfig', 'sbIisConfigSusp'],
  'WS-20': ['sbChopperHafnium'],
  'WS-21': ['sbChopperGeneric'],
  'WS-22': ['sbCisa01'],
  'WS-24': ['sbChopperLike'],
  'WS-25': ['sbTinyShell', 'sbChopper3', 'sbChopper4'],
  'WS-27': ['sbPstShell', 'sbPstShellB64', 'sbPstExport', 'sigmaReplicationAspx'],
  'WS-28': ['sbDerShell'],
  'WS-29': ['sbDropper'],
  'WS-30': ['sbIisStart', 'sbEvalAsf', 'sbDropHell'],
  'WS-32': ['sbHafniumArtefacts'],
  'WS-41': ['sigmaWebshellStrings'],
  'WS-43': ['sbCleanup'],
  'PS-01': ['sigmaProxyShell', 'sbProxyShellFailed'],
  'PS-02': ['sigmaProxyShellOk'],
  'PS-03': ['sbProxyShellFailed', 'sbProxyShellOk'],
  'PS-15': ['sigmaProxyShell', 'sigmaProxyShellOk', 'sbProxyShellFailed', 'sbProxyShellOk', 'sbPnsPatterns', 'sbPnsPoc'],
  'PS-08': ['sigmaExportWeb', 'sigmaExportShare', 'sigmaExportSharePs'],
  'PS-09': ['sigmaRemoveExport'],
  'PS-10': ['sigmaCertExport'],
  'PNS-01': ['sbPnsPatterns'],
  'PNS-02': ['sbPnsPoc'],
  'PNS-04': ['sbOwassrf1', 'sbOwassrf2', 'sbOwassrf3'],
  'OW-01': ['sigmaOwassrf'],
  'OW-02': ['sigmaOwassrfPoc'],
  'OW-03': ['sbOwassrf1', 'sbOwassrf2', 'sbOwassrf3'],
  'OW-04': ['sbPnsProxyLog'],
  'OW-05': ['sigmaOwassrf', 'sigmaOwassrfPoc'],
  'PT-01': ['sigmaProxyToken'],
  'PX-01': ['sigmaChopper'],
  'PX-21': ['sigmaChopper'],
  'PX-02': ['sigmaWebChild', 'sigmaUmChild', ...TUNNELS],
  'PX-06': ['sigmaHafniumProc'],
  'PX-09': ['sigmaHafniumProc', 'sbHafniumArtefacts', 'sbFilenameIocs'],
  'PX-11': ['sigmaAspxDrop', 'sigmaFileDrop', 'sigmaReplicationAspx'],
  'PX-13': ['sigmaTransportAgent', 'sigmaTransportAgentFailed'],
  'PX-19': TUNNELS,
};

/** The ids of the exhunt rules that owe a DRL credit (for the catalogue test). */
export const CREDITED_RULES: readonly string[] = Object.keys(ADAPTED_FROM);

/** The DRL credits a finding of this rule id carries (empty when it owes none). */
export function ruleCredits(ruleId: string): RuleCredit[] {
  return (Object.hasOwn(ADAPTED_FROM, ruleId) ? ADAPTED_FROM[ruleId] : []).map((k) => UPSTREAM_RULES[k]);
}
