// Findings about whether Microsoft's interim mitigations were in place (read from IIS configuration files).
// The state itself is worked out in src/mitigations/state.ts; these are the rules' metadata.
import type { RuleMeta } from './types.js';

const EOMT = 'microsoft/CSS-Exchange Security/src/EOMT.ps1 and BackendCookieMitigation (URL Rewrite rules X-AnonResource-Backend / X-BEResource Abort - inbound)';
const MITIGATIONS_PS1 = 'microsoft/CSS-Exchange Security/src/ExchangeMitigations.ps1 (March 2021 interim mitigations, removed 7 Mar 2022)';
const MSRC_PNS = 'Microsoft MSRC guidance for CVE-2022-41040 / CVE-2022-41082 (2022-09-29 and revisions; EEMS M1 / EOMTv2 URL Rewrite rule)';

export const MITIGATION_RULES: Record<'MIT-PL-URLREWRITE' | 'MIT-PNS-URLREWRITE' | 'MIT-ECP-APPPOOL' | 'MIT-OAB-APPPOOL' | 'MIT-OWA-CSP', RuleMeta> = {
  'MIT-OWA-CSP': {
    id: 'MIT-OWA-CSP',
    title: 'CVE-2026-42897 OWA Content-Security-Policy mitigation',
    cves: ['CVE-2026-42897'],
    severity: 'info',
    kind: 'exposure',
    references: ['microsoft/CSS-Exchange EOMT Security/src/EOMT/Mitigations/CVE-2026-42897.ps1 (commit aef34c06): outbound rule "EOMT OWA CSP - outbound"; EEMS M2.1.x'],
    description: "Whether an IIS outbound rule adds script-src-attr 'none' to the Content-Security-Policy of the OWA single-page pages, judged by replaying OWA responses through the outbound rules (applied, incomplete, disabled, same name doing something else, not applied); rule names are not trusted (EEMS writes them without spaces).",
  },
  'MIT-PL-URLREWRITE': {
    id: 'MIT-PL-URLREWRITE',
    title: 'ProxyLogon URL Rewrite mitigation (EOMT)',
    cves: ['CVE-2021-26855'],
    severity: 'info',
    kind: 'exposure',
    references: [EOMT],
    description: 'Whether the two EOMT cookie-abort rules are in the Default Web Site configuration, judged by replaying attack and normal requests through them (applied, not applied, disabled, bypassable, ineffective).',
  },
  'MIT-PNS-URLREWRITE': {
    id: 'MIT-PNS-URLREWRITE',
    title: 'ProxyNotShell URL Rewrite mitigation',
    cves: ['CVE-2022-41040', 'CVE-2022-41082'],
    severity: 'info',
    kind: 'exposure',
    references: [MSRC_PNS],
    description: 'Whether the autodiscover/PowerShell request-blocking rule is present and which version it is; versions 1 and 2 are bypassable with URL encoding.',
  },
  'MIT-ECP-APPPOOL': {
    id: 'MIT-ECP-APPPOOL',
    title: 'ECP app-pool mitigation',
    cves: ['CVE-2021-27065'],
    severity: 'info',
    kind: 'exposure',
    references: [MITIGATIONS_PS1],
    description: 'Whether MSExchangeECPAppPool is kept from starting (autoStart=false), the March 2021 stop-gap against the ECP file write; ECP is then unavailable by design.',
  },
  'MIT-OAB-APPPOOL': {
    id: 'MIT-OAB-APPPOOL',
    title: 'OAB app-pool mitigation',
    cves: ['CVE-2021-26858'],
    severity: 'info',
    kind: 'exposure',
    references: [MITIGATIONS_PS1],
    description: 'Whether MSExchangeOABAppPool is kept from starting (autoStart=false), the March 2021 stop-gap against the OAB file write; OAB downloads then fail.',
  },
};
