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
