// Was a mitigation in place? Judged from the URL Rewrite rules found in a server's configuration: the rules are
// recognised by name/pattern (to name the version) and then evaluated against the attack and normal requests, so
// hand-typed or modified rules are judged by what they do, not by how they look.
import {
  PROXYLOGON_ATTACKS,
  PROXYLOGON_BENIGN,
  PROXYLOGON_EOMT,
  PROXYNOTSHELL_ATTACKS,
  PROXYNOTSHELL_BENIGN,
  PROXYNOTSHELL_VERSIONS,
  type LabelledRequest,
} from './catalogue.js';
import { evaluate, rulePatterns, unsafeReason, type RewriteCondition, type RewriteRule } from './urlrewrite.js';
export type Family = 'proxylogon' | 'proxynotshell';
export type Status = 'applied' | 'bypassable' | 'ineffective' | 'not applied' | 'disabled' | 'not evaluated';

export interface FamilyState {
  family: Family;
  status: Status;
  /** `eomt`, `v1`…`final`, or `custom` for rules that match no published version; null when there are none. */
  label: string | null;
  /** The rules that belong to this mitigation. */
  rules: RewriteRule[];
  blocked: string[];
  passed: string[];
  /** Normal requests the rules block too. */
  collateral: string[];
  reason?: string;
}

interface FamilySpec {
  factId: string;
  title: string;
  cves: string[];
  attacks: readonly LabelledRequest[];
  benign: readonly LabelledRequest[];
  relevant(r: RewriteRule): boolean;
  label(rules: RewriteRule[]): string;
}

const condKey = (c: RewriteCondition): string => `${c.input.replace(/\s+/g, '').toLowerCase()}\u0000${c.pattern.toLowerCase()}`;
const sameConditions = (a: RewriteRule, b: RewriteRule): boolean =>
  a.conditions.length === b.conditions.length && a.conditions.every((c, i) => condKey(c) === condKey(b.conditions[i]));

export const FAMILIES: Record<Family, FamilySpec> = {
  proxylogon: {
    factId: 'proxylogon-eomt',
    title: 'ProxyLogon URL Rewrite mitigation (EOMT)',
    cves: ['CVE-2021-26855'],
    attacks: PROXYLOGON_ATTACKS,
    benign: PROXYLOGON_BENIGN,
    relevant: (r) =>
      PROXYLOGON_EOMT.rules.some((e) => e.name === r.name) || r.conditions.some((c) => /x-anonresource|x-beresource/i.test(c.pattern)),
    label: (rules) =>
      rules.length === PROXYLOGON_EOMT.rules.length && PROXYLOGON_EOMT.rules.every((e) => rules.some((r) => sameConditions(r, e)))
        ? 'eomt'
        : 'custom',
  },
  proxynotshell: {
    factId: 'proxynotshell-urlrewrite',
    title: 'ProxyNotShell URL Rewrite mitigation',
    cves: ['CVE-2022-41040', 'CVE-2022-41082'],
    attacks: PROXYNOTSHELL_ATTACKS,
    benign: PROXYNOTSHELL_BENIGN,
    relevant: (r) => rulePatterns(r).some((p) => /autodiscover/i.test(p) && /powershell/i.test(p)),
    label: (rules) => {
      const v = PROXYNOTSHELL_VERSIONS.filter((x) => rules.some((r) => sameConditions(r, x.rule)));
      return v.length > 0 ? v[v.length - 1].version : 'custom';
    },
  },
};

/** The state of one mitigation given every inbound rule configured at one scope. */
export function familyState(family: Family, rules: readonly RewriteRule[], scope = '/'): FamilyState {
  const spec = FAMILIES[family];
  const mine = rules.filter(spec.relevant);
  const base = { family, rules: mine, blocked: [], passed: [], collateral: [] };
  if (mine.length === 0) return { ...base, status: 'not applied', label: null };
  const label = spec.label(mine);
  if (mine.every((r) => !r.enabled)) return { ...base, status: 'disabled', label };
  // Every rule at the scope runs, so every pattern must be safe to evaluate (they come from evidence).
  for (const p of rules.flatMap(rulePatterns)) {
    const why = unsafeReason(p);
    if (why !== null) return { ...base, status: 'not evaluated', label, reason: `pattern not evaluated (${why}): ${p.slice(0, 120)}` };
  }
  try {
    const outcome = (reqs: readonly LabelledRequest[], want: 'blocked' | 'passed'): string[] =>
      reqs.filter((q) => evaluate(rules, q, scope).outcome === want).map((q) => q.label);
    const blocked = outcome(spec.attacks, 'blocked');
    const passed = outcome(spec.attacks, 'passed');
    const collateral = outcome(spec.benign, 'blocked');
    const status: Status = passed.length === 0 ? 'applied' : blocked.length > 0 ? 'bypassable' : 'ineffective';
    return { ...base, status, label, blocked, passed, collateral };
  } catch (err) {
    return { ...base, status: 'not evaluated', label, reason: `a pattern does not compile: ${(err as Error).message}` };
  }
}

/** The fact value, e.g. `proxylogon-eomt: applied`, `proxynotshell-urlrewrite: v1 (bypassable)`. */
export function stateFact(s: FamilyState): string {
  const id = FAMILIES[s.family].factId;
  if (s.family === 'proxynotshell' && s.label !== null) return `${id}: ${s.label} (${s.status})`;
  return `${id}: ${s.status}${s.label === 'custom' ? ' (custom rules)' : ''}`;
}

/** One unambiguous sentence for the report. */
export function stateSentence(s: FamilyState, where: string): string {
  const spec = FAMILIES[s.family];
  const version = s.label && s.label !== 'custom' ? ` ${s.label === 'eomt' ? 'EOMT rules' : `rule ${s.label}`}` : s.label ? ' custom rules' : '';
  const head = `${spec.title}: ${s.status.toUpperCase()}${version ? ` (${version.trim()})` : ''} in ${where}.`;
  const tail: Record<Status, string> = {
    applied: 'Every known attack request is aborted. It is a stop-gap: only the Security Update fixes the vulnerability.',
    bypassable: `Known bypasses get through: ${s.passed.join('; ')}.`,
    ineffective: 'The rules are present but abort none of the known attack requests.',
    'not applied': 'No such rules. This matters only while the server lacks the Security Update.',
    disabled: 'The rules are present but disabled (enabled="false").',
    'not evaluated': s.reason ?? 'The rules could not be evaluated.',
  };
  const extra = s.collateral.length > 0 ? ` Also aborts normal requests: ${s.collateral.join('; ')}.` : '';
  return `${head} ${tail[s.status]}${extra}`;
}
