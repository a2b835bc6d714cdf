// Host-level grading that one record cannot decide: admin-workflow cmdlets tied to exploitation on the same host,
// and autodiscover.json SSRF lines that could be ProxyShell or ProxyNotShell, resolved by the build in place then.
import { SEVERITY_RANK, type RawFinding } from '../model.js';
import { buildEvidence, type BuildEvidence } from './exposure.js';
import type { HostRule } from './host.js';

/** A cmdlet this close to an exploitation finding is part of the same intrusion. */
const CHAIN_WINDOW_MS = 2 * 3_600_000;
const EITHER = 'ProxyShell or ProxyNotShell';
const PROXYSHELL = ['CVE-2021-34473', 'CVE-2021-34523', 'CVE-2021-31207'];
const PROXYNOTSHELL = ['CVE-2022-41040', 'CVE-2022-41082'];

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
    f.severity = 'critical';
    f.cves = [...tied.cves];
    f.kind = 'post-exploitation';
    f.evidence.admin_workflow = false;
    f.evidence.chained_with = `${tied.rule} at ${tied.time} (${tied.source.path}${tied.source.line ? `:${tied.source.line}` : ''})`;
    f.summary = f.summary.replace(/; documented admin workflow, context unless tied to exploitation\)$/, ')') + `; tied to ${tied.rule} at ${tied.time}: part of the attack chain`;
  }
  return findings;
}

/** The build in place at `t`: the latest dated observation at or before it, else the earliest after it. */
function buildAt(builds: BuildEvidence[], t: number): BuildEvidence | null {
  const dated = builds.filter((b) => !Number.isNaN(ms(b.fact.time)) && b.build.precision === 'full').sort((a, b) => ms(a.fact.time) - ms(b.fact.time));
  return [...dated].reverse().find((b) => ms(b.fact.time) <= t) ?? dated[0] ?? null;
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
  const findings = input.map((f) => (f.evidence.family === EITHER ? { ...f, evidence: { ...f.evidence } } : f));
  const undecided = findings.filter((f) => f.evidence.family === EITHER);
  if (!undecided.length) return findings;
  const builds = buildEvidence(facts);
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
      Object.assign(f, { rule: f.rule === 'PS-02' ? 'PNS-01' : f.rule, title: 'ProxyNotShell autodiscover.json SSRF to PowerShell answered 200', cves: PROXYNOTSHELL, summary: `${f.summary}; the build in place then, ${where}, was fixed for ProxyShell: ProxyNotShell` });
      f.evidence.family = 'ProxyNotShell';
    } else if (pns === 'fixed' && ps !== 'fixed') {
      Object.assign(f, { cves: PROXYSHELL, summary: `${f.summary}; the build in place then, ${where}, was fixed for ProxyNotShell: ProxyShell` });
      f.evidence.family = 'ProxyShell';
    } else f.summary += `; the build in place then, ${where}, does not decide (ProxyShell ${ps ?? 'unknown'}, ProxyNotShell ${pns ?? 'unknown'})`;
  }
  return findings;
}

type HostContextFacts = Parameters<HostRule['apply']>[1]['facts'];
