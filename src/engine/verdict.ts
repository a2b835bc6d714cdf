import type { Coverage, Finding, Verdict } from '../model.js';

const COMPROMISE_KINDS = new Set(['exploitation', 'webshell', 'post-exploitation']);

/** One verdict per host, with the reasons a person can check. Scanner traffic alone never compromises a host. */
export function hostVerdict(findings: Finding[], coverage: Coverage[], since: string): { verdict: Verdict; reasons: string[] } {
  const strong = findings.filter((f) => COMPROMISE_KINDS.has(f.kind) && (f.severity === 'critical' || f.severity === 'high'));
  if (strong.length) return { verdict: 'compromised', reasons: strong.slice(0, 5).map((f) => `${f.rule}: ${f.summary}`) };
  const attempts = findings.filter((f) => f.kind === 'attempt' || (COMPROMISE_KINDS.has(f.kind) && f.severity === 'medium'));
  if (attempts.length) return { verdict: 'attempted', reasons: attempts.slice(0, 5).map((f) => `${f.rule}: ${f.summary}`) };
  const weak = findings.filter((f) => f.kind === 'ioc' || (f.kind !== 'scan' && f.kind !== 'exposure' && f.severity !== 'info'));
  if (weak.length) return { verdict: 'suspicious', reasons: weak.slice(0, 5).map((f) => `${f.rule}: ${f.summary}`) };
  const covered = coverage.filter((c) => c.first !== null && c.first <= since);
  if (covered.length === 0) {
    const reason = coverage.length
      ? `no findings, but no log source reaches back to ${since.slice(0, 10)} (oldest record ${oldest(coverage)})`
      : 'no findings, and no readable logs in the evidence';
    return { verdict: 'insufficient-evidence', reasons: [reason] };
  }
  return { verdict: 'clean', reasons: [`no findings; ${covered.map((c) => c.source).join(', ')} cover the window from ${since.slice(0, 10)}`] };
}

function oldest(coverage: Coverage[]): string {
  const firsts = coverage.map((c) => c.first).filter((t): t is string => t !== null).sort();
  return firsts[0] ?? 'none';
}
