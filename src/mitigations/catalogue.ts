// Microsoft's interim mitigations for ProxyLogon (March 2021) and ProxyNotShell (Sept/Oct 2022), as data.
// Facts: shared reference remote-and-mitigation.md §3–4; the final ProxyNotShell rule as EOMTv2 applies it.
import { condition, rule, type HttpRequest, type RewriteRule } from './urlrewrite.js';

export const DEFAULT_SITE = 'Default Web Site';
export const SITE_WEB_CONFIG = '%SystemDrive%\\inetpub\\wwwroot\\web.config';

export interface UrlRewriteMitigation {
  id: 'proxylogon' | 'proxynotshell';
  title: string;
  cves: string[];
  rules: RewriteRule[];
  source: string;
  notes: string[];
}

export const PROXYLOGON_EOMT: UrlRewriteMitigation = {
  id: 'proxylogon',
  title: 'ProxyLogon backend-cookie mitigation (EOMT / ExchangeMitigations.ps1)',
  cves: ['CVE-2021-26855'],
  rules: [
    rule({
      name: 'X-AnonResource-Backend Abort - inbound',
      stopProcessing: false,
      conditions: [condition('{HTTP_COOKIE}', '(.*)X-AnonResource-Backend(.*)')],
    }),
    rule({
      name: 'X-BEResource Abort - inbound',
      stopProcessing: true,
      conditions: [condition('{HTTP_COOKIE}', '(.*)X-BEResource=(.+)/(.+)~(.+)')],
    }),
  ],
  source: 'Microsoft EOMT.ps1 / ExchangeMitigations.ps1 (March 2021), BackendCookieMitigation',
  notes: [
    'Stop-gap only: install the March 2021 (or later) Security Update; roll the rules back after patching.',
    'A Cumulative Update rewrites web.config and removes these rules: re-apply after a CU until the SU is installed.',
    'Blocks the known cookie patterns, not the SSRF as such: an X-BEResource value without "/" passes rule 2.',
    'Requires the IIS URL Rewrite module (2.1, MSI version 7.2.1993 or later; KB2999226 on IIS below 10).',
  ],
};

export type ProxyNotShellVersion = 'v1' | 'v2' | 'v3' | 'final';

export interface RuleVersion {
  version: ProxyNotShellVersion;
  date: string;
  bypassable: boolean;
  rule: RewriteRule;
  why: string;
}

const PNS_NAME = 'PowerShell - inbound';
const pnsRule = (input: string, pattern: string): RewriteRule =>
  rule({ name: PNS_NAME, stopProcessing: true, conditions: [condition(input, pattern)] });

/** Every published revision of Microsoft's ProxyNotShell URL Rewrite rule, oldest first. */
export const PROXYNOTSHELL_VERSIONS: readonly RuleVersion[] = [
  {
    version: 'v1',
    date: '2022-09-29',
    bypassable: true,
    rule: pnsRule('{REQUEST_URI}', '.*autodiscover\\.json.*\\@.*Powershell.*'),
    why: 'requires a literal "@" and matches the raw URI: requests without "@" or with URL-encoded characters pass',
  },
  {
    version: 'v2',
    date: '2022-10-02',
    bypassable: true,
    rule: pnsRule('{REQUEST_URI}', '.*autodiscover\\.json.*Powershell.*'),
    why: 'matches the raw URI: URL-encoded characters (e.g. "%50owershell") pass',
  },
  {
    version: 'v3',
    date: '2022-10-04',
    bypassable: false,
    rule: pnsRule('{UrlDecode:{REQUEST_URI}}', '.*autodiscover\\.json.*Powershell.*'),
    why: 'decodes the URI before matching (EOMTv2 22.10.05.2304)',
  },
  {
    version: 'final',
    date: '2022-10',
    bypassable: false,
    rule: pnsRule('{UrlDecode:{REQUEST_URI}}', '(?=.*autodiscover)(?=.*powershell)'),
    why: 'final EOMTv2 rule: decoded URI containing both "autodiscover" and "powershell", ".json" no longer required',
  },
];

export const PROXYNOTSHELL_FINAL = PROXYNOTSHELL_VERSIONS[PROXYNOTSHELL_VERSIONS.length - 1];

export const PROXYNOTSHELL_URLREWRITE: UrlRewriteMitigation = {
  id: 'proxynotshell',
  title: 'ProxyNotShell URL Rewrite request-blocking rule (MSRC guidance / EOMTv2, final version)',
  cves: ['CVE-2022-41040', 'CVE-2022-41082'],
  rules: [PROXYNOTSHELL_FINAL.rule],
  source: 'MSRC customer guidance (Sept/Oct 2022), EOMTv2.ps1; Exchange Emergency Mitigation Service M1',
  notes: [
    'Stop-gap only: install the November 2022 (or later) Security Update, then roll the rule back.',
    'Also block remote PowerShell for non-admin users and restrict ports 5985/5986 (same MSRC guidance).',
    'Blocks any Autodiscover request whose decoded URI contains "powershell", e.g. a mailbox named powershell@….',
    'Does not cover OWASSRF (/owa/…/powershell, CVE-2022-41080): only patching does.',
  ],
};

/** Requests a mitigation must block, with where each comes from. */
export interface LabelledRequest extends HttpRequest {
  label: string;
}

export const PROXYLOGON_ATTACKS: readonly LabelledRequest[] = [
  {
    label: 'CVE-2021-26855 probe (Microsoft NSE, x.js)',
    uri: '/owa/auth/x.js',
    cookie: 'X-AnonResource=true; X-AnonResource-Backend=localhost/ecp/default.flt?~3; X-BEResource=localhost/owa/auth/logon.aspx?~3;',
  },
  {
    label: 'X-BEResource only (probe cookie without the AnonResource part)',
    uri: '/owa/auth/x.js',
    cookie: 'X-BEResource=localhost/owa/auth/logon.aspx?~3;',
  },
  {
    label: 'HAFNIUM chain to /ecp/proxyLogon.ecp (HelseCERT AnchorMailbox)',
    uri: '/ecp/y.js',
    cookie: 'X-BEResource=a]@servernavn.xxx.local:444/ecp/proxyLogon.ecp?#~1941962753',
  },
];

/** Attack shapes the EOMT rules are known not to cover (reference §3.1 caveat; unconfirmed in the wild). */
export const PROXYLOGON_KNOWN_GAPS: readonly LabelledRequest[] = [
  { label: 'X-BEResource without "/" (Metasploit collector variant)', uri: '/ecp/y.js', cookie: 'X-BEResource=localhost~197991811' },
];

export const PROXYLOGON_BENIGN: readonly LabelledRequest[] = [
  {
    label: 'OWA session cookies',
    uri: '/owa/',
    cookie:
      'ClientId=0B5E6A0A4B8C4F4C9E5D1A2B3C4D5E6F; PrivateComputer=true; PBack=0; cadata=k3x0YtQf; cadataTTL=UvN5; ' +
      'X-BackEndCookie=S-1-5-21-3623811015-3361044348-30300820-1013=u56Lnp2ejJqBzc3Nzs3Px87; X-OWA-CANARY=Zq0dL1yvGEW2; ' +
      'UC=3c5b2c1f0e4a',
  },
  { label: 'OWA logon page', uri: '/owa/auth/logon.aspx?url=https%3a%2f%2fmail.contoso.com%2fowa%2f&reason=0' },
  { label: 'ECP with canary', uri: '/ecp/', cookie: 'msExchEcpCanary=Xx1yY2zZ3; X-BackEndCookie=S-1-5-21-1=abc' },
];

export const PROXYNOTSHELL_ATTACKS: readonly LabelledRequest[] = [
  { label: 'ProxyNotShell (GTSC shape)', uri: '/autodiscover/autodiscover.json?@evil.com/Powershell?&Email=autodiscover/autodiscover.json%3F@evil.com' },
  {
    label: 'no literal "@" (bypasses v1)',
    uri: '/autodiscover/autodiscover.json?a..foo.var/owa/&Email=autodiscover/autodiscover.json?a..foo.var&Protocol=XYZ&FooProtocol=Powershell',
  },
  { label: 'URL-encoded "@" (bypasses v1)', uri: '/autodiscover/autodiscover.json?%40evil.com/Powershell' },
  { label: 'URL-encoded "P" (bypasses v1 and v2)', uri: '/autodiscover/autodiscover.json?@evil.com/%50owershell' },
  { label: 'URL-encoded ".json" and "P"', uri: '/autodiscover/autodiscover%2Ejson?@evil.com/%70owershell/?X-Rps-CAT=x' },
];

export const PROXYNOTSHELL_BENIGN: readonly LabelledRequest[] = [
  { label: 'Autodiscover JSON for ActiveSync', uri: '/autodiscover/autodiscover.json?Email=user@contoso.com&Protocol=ActiveSync&RedirectCount=1' },
  { label: 'Autodiscover XML', uri: '/Autodiscover/Autodiscover.xml' },
  { label: 'Exchange Management Shell', uri: '/powershell?serializationLevel=Full;ExchClientVer=15.2.1118.7;clientApplication=ManagementShell;TargetServer=;PSVersion=5.1.17763.1' },
  { label: 'OWA', uri: '/owa/' },
];

/** A benign request the v2/v3/final rules also block (a documented trade-off, not a bug of this tool). */
export const PROXYNOTSHELL_COLLATERAL: readonly LabelledRequest[] = [
  { label: 'Autodiscover for a mailbox named powershell', uri: '/autodiscover/autodiscover.json?Email=powershell@contoso.com&Protocol=ActiveSync' },
];
