// Findings about whether Microsoft's interim mitigations were in place (read from IIS configuration files).
// The state itself is worked out in src/mitigations/state.ts; these are the rules' metadata, with one grade per
// state (findings are titled `<mitigation>: <state>`).
import type { Severity } from '../model.js';
import type { Status } from '../mitigations/state.js';
import type { OwaCspStatus } from '../mitigations/owa-csp.js';
import type { RuleMeta } from './types.js';
import { stateGrades } from './finding.js';

type StateTable<S extends string> = Readonly<Record<S, { severity: Severity; when: string }>>;

/** URL Rewrite mitigations (EOMT, ProxyNotShell): each state's severity, as the replayed requests judge it. */
export const URL_REWRITE_STATES: StateTable<Status> = {
  applied: { severity: 'info', when: 'replayed through the rules, every known attack request is aborted' },
  'not applied': { severity: 'info', when: 'no rule of this mitigation is in the configuration' },
  disabled: { severity: 'info', when: 'the rules are present but disabled' },
  'not evaluated': { severity: 'low', when: 'a rule pattern could not be evaluated (unsupported or unsafe)' },
  bypassable: { severity: 'low', when: 'some known attack requests get through the rules' },
  ineffective: { severity: 'low', when: 'the rules abort none of the known attack requests' },
};

/** The app-pool stop-gaps: the pool starts or it does not. */
export const APP_POOL_STATES: StateTable<'applied' | 'not applied'> = {
  applied: { severity: 'info', when: 'the pool has autoStart=false' },
  'not applied': { severity: 'info', when: 'the pool starts (autoStart=true)' },
};

/** The OWA CSP outbound rule, judged by replaying OWA responses. */
export const OWA_CSP_STATES: StateTable<OwaCspStatus> = {
  applied: { severity: 'info', when: "every OWA single-page response gets script-src-attr 'none'" },
  'not applied': { severity: 'info', when: 'no outbound rule adds the directive' },
  incomplete: { severity: 'low', when: 'only some OWA single-page responses get the directive' },
  disabled: { severity: 'low', when: 'the rule that would add it is disabled' },
  'same name, different behaviour': { severity: 'low', when: 'a rule named like the EOMT/EEMS rule does not add the directive' },
  'not evaluated': { severity: 'low', when: 'a rule could not be evaluated' },
};

function withStates(rule: RuleMeta, table: StateTable<string>): RuleMeta {
  return { ...rule, grades: stateGrades(rule, Object.entries(table).map(([state, t]) => ({ state, severities: [t.severity], when: t.when }))) };
}

const EOMT = 'microsoft/CSS-Exchange Security/src/EOMT.ps1 and BackendCookieMitigation (URL Rewrite rules X-AnonResource-Backend / X-BEResource Abort - inbound)';
const MITIGATIONS_PS1 = 'microsoft/CSS-Exchange Security/src/ExchangeMitigations.ps1 (March 2021 interim mitigations, removed 7 Mar 2022)';
const MSRC_PNS = 'Microsoft MSRC guidance for CVE-2022-41040 / CVE-2022-41082 (2022-09-29 and revisions; EEMS M1 / EOMTv2 URL Rewrite rule)';

const RULES: Record<'MIT-PL-URLREWRITE' | 'MIT-PNS-URLREWRITE' | 'MIT-ECP-APPPOOL' | 'MIT-OAB-APPPOOL' | 'MIT-OWA-CSP', RuleMeta> = {
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

export const MITIGATION_RULES: typeof RULES = {
  'MIT-OWA-CSP': withStates(RULES['MIT-OWA-CSP'], OWA_CSP_STATES),
  'MIT-PL-URLREWRITE': withStates(RULES['MIT-PL-URLREWRITE'], URL_REWRITE_STATES),
  'MIT-PNS-URLREWRITE': withStates(RULES['MIT-PNS-URLREWRITE'], URL_REWRITE_STATES),
  'MIT-ECP-APPPOOL': withStates(RULES['MIT-ECP-APPPOOL'], APP_POOL_STATES),
  'MIT-OAB-APPPOOL': withStates(RULES['MIT-OAB-APPPOOL'], APP_POOL_STATES),
};
