// Host-level grading that one record cannot decide: admin-workflow cmdlets tied to exploitation on the same host,
// and autodiscover.json SSRF lines that could be ProxyShell or ProxyNotShell, resolved by the build in place then.
import { SEVERITY_RANK, type RawFinding } from '../model.js';
import { buildEvidence, type BuildEvidence } from './exposure.js';
import type { HostRule } from './host.js';
import { CMDLET_RULES } from './cmdlets.js';
import { IIS_RULES } from './iis.js';
import { PROXYNOTSHELL_FAMILY, PROXYSHELL_FAMILY, PS_OR_PNS } from './exploitation-windows.js';
import { meaningOf } from './finding.js';
import type { RuleMeta } from './types.js';

/** A cmdlet this close to an exploitation finding is part of the same intrusion. */
const CHAIN_WINDOW_MS = 2 * 3_600_000;

/** Re-grades a finding to a grade its rule declares: the finding's meaning stays the catalogue's. */
function regrade(f: RawFinding, rules: readonly RuleMeta[], grade: string): void {
  const rule = rules.find((r) => r.id === f.rule);
  if (!rule) throw new Error(`no rule ${f.rule} to re-grade`);
  const m = meaningOf(rule, grade);
  Object.assign(f, { rule: m.id, title: m.title, severity: m.severity, kind: m.kind, cves: [...m.cves] });
}

const ms = (t: string | null): number => (t === null ? NaN : Date.parse(t));
/** `CONTOSO\jdoe`, `contoso.local/Users/jdoe`, `jdoe@contoso.com` → `jdoe`. */
const account = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v.trim().split(/[\\/]/).at(-1)!.split('@')[0].toLowerCase() : null);

/**
 * Mailbox exports, role grants, certificate requests and export removals are graded info as admin workflow; the
 * same cmdlet within two hours of exploitation on this host, or run by the account an exploit authenticated as,
 * is the attack chain (ProxyShell / ProxyNotShell post-exploitation): critical.
 */
export const ADMIN_CHAIN: HostRule = {
  emits: [],
  does: 'Raises admin-workflow cmdlets (mailbox export, Mailbox Import Export role, certificate request, export removal) to critical when they ran within two hours of exploitation or as the account an exploit used.',
  apply: (findings) => chainAdminWorkflow(findings),
};

function chainAdminWorkflow(input: readonly RawFinding[]): RawFinding[] {
  const findings = input.map((f) => (f.evidence.admin_workflow === true ? { ...f, evidence: { ...f.evidence } } : f));
  const exploits = findings.filter(
    (f) => f.evidence.admin_workflow !== true && f.time !== null && (f.kind === 'exploitation' || f.kind === 'webshell') && SEVERITY_RANK[f.severity] >= SEVERITY_RANK.high,
  );
  if (!exploits.length) return findings;
  for (const f of findings) {
    if (f.evidence.admin_workflow !== true) continue;
    const t = ms(f.time);
    const user = account(f.evidence.user);
    const tied = exploits.find((e) => Math.abs(ms(e.time) - t) <= CHAIN_WINDOW_MS || (user !== null && account(e.evidence.user) === user));
    if (!tied) continue;
    regrade(f, CMDLET_RULES, `${f.rule} chained`);
    f.cves = [...tied.cves];
    f.evidence.admin_workflow = false;
    f.evidence.chained_with = `${tied.rule} at ${tied.time} (${tied.source.path}${tied.source.line ? `:${tied.source.line}` : ''})`;
    f.summary = f.summary.replace(/; documented admin workflow, context unless tied to exploitation\)$/, ')') + `; tied to ${tied.rule} at ${tied.time}: part of the attack chain`;
  }
  return findings;
}

interface DatedBuild {
  at: number;
  b: BuildEvidence;
}

/** Full-precision build observations with a time, oldest first: sorted once per host, not once per finding. */
function datedBuilds(builds: BuildEvidence[]): DatedBuild[] {
  return builds
    .filter((b) => b.build.precision === 'full')
    .map((b) => ({ at: ms(b.fact.time), b }))
    .filter((x) => !Number.isNaN(x.at))
    .sort((x, y) => x.at - y.at);
}

/** The build in place at `t`: the latest dated observation at or before it, else the earliest after it. */
function buildAt(dated: DatedBuild[], t: number): BuildEvidence | null {
  for (let i = dated.length - 1; i >= 0; i--) if (dated[i].at <= t) return dated[i].b;
  return dated[0]?.b ?? null;
}

/**
 * An SSRF line with no user, logged after August 2022, is ProxyShell or ProxyNotShell. The build in place then
 * decides when it was fixed for one family and open to the other; otherwise the finding keeps both and says why.
 */
export const SSRF_FAMILY: HostRule = {
  emits: [],
  does: 'Labels an autodiscover.json SSRF line that could be ProxyShell or ProxyNotShell by the build in place at that time, when that build was fixed for one family and open to the other.',
  apply: (findings, ctx) => resolveSsrfFamily(findings, ctx.facts),
};

function resolveSsrfFamily(input: readonly RawFinding[], facts: HostContextFacts): RawFinding[] {
  const findings = input.map((f) => (f.evidence.family === PS_OR_PNS ? { ...f, evidence: { ...f.evidence } } : f));
  const undecided = findings.filter((f) => f.evidence.family === PS_OR_PNS);
  if (!undecided.length) return findings;
  const builds = datedBuilds(buildEvidence(facts));
  for (const f of undecided) {
    const b = buildAt(builds, ms(f.time));
    if (!b) {
      f.summary += '; no build fact tells which';
      continue;
    }
    const ps = b.assessment.families.proxyshell?.state;
    const pns = b.assessment.families.proxynotshell?.state;
    const where = `${b.assessment.build} (${b.fact.origin}, ${b.fact.source.path})`;
    if (ps === 'fixed' && pns !== 'fixed') {
      settle(f, 'ProxyNotShell');
      f.summary += `; the build in place then, ${where}, was fixed for ProxyShell: ProxyNotShell`;
      f.evidence.family = PROXYNOTSHELL_FAMILY.name;
    } else if (pns === 'fixed' && ps !== 'fixed') {
      settle(f, 'ProxyShell');
      f.summary += `; the build in place then, ${where}, was fixed for ProxyNotShell: ProxyShell`;
      f.evidence.family = PROXYSHELL_FAMILY.name;
    } else f.summary += `; the build in place then, ${where}, does not decide (ProxyShell ${ps ?? 'unknown'}, ProxyNotShell ${pns ?? 'unknown'})`;
  }
  return findings;
}

/**
 * Settles an undecided line's family. PS-02 (the only rule whose hit names both families' CVEs) moves to the grade
 * PS-02 declares for it; another rule's hit keeps its meaning and names the family's CVEs. A known client's hit
 * (kind scan) keeps its severity and kind.
 */
function settle(f: RawFinding, to: 'ProxyShell' | 'ProxyNotShell'): void {
  const family = to === 'ProxyShell' ? PROXYSHELL_FAMILY : PROXYNOTSHELL_FAMILY;
  if (f.rule !== 'PS-02') {
    f.cves = [...family.cves];
    return;
  }
  // PS-02 is critical when the SSRF went to PowerShell, high for another back end (unless a known client's).
  const backEnd = f.severity !== 'critical' && f.kind !== 'scan';
  const { severity, kind } = f;
  regrade(f, IIS_RULES, to === 'ProxyShell' ? (backEnd ? 'PS-02 back end' : 'PS-02') : backEnd ? 'PS-02 ProxyNotShell back end' : 'PS-02 ProxyNotShell');
  if (kind === 'scan') Object.assign(f, { severity, kind });
}

type HostContextFacts = Parameters<HostRule['apply']>[1]['facts'];
