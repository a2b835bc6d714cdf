// Host-level meaning, computed once per host after its findings are numbered: which web shells are proven, the
// verdict, incidents and timeline, and where the logs fall short. Reports read these from the HostResult.
import type { Coverage, Finding, HostResult } from '../model.js';
import { confirmedShells, correlate } from './correlate.js';
import { coverageGaps, hostVerdict, type Unseen, type WindowBasis } from './verdict.js';

/** What the engine concludes about one host from its numbered findings and coverage. */
export type HostJudgement = Pick<HostResult, 'verdict' | 'reasons' | 'incidents' | 'timeline' | 'stage' | 'shells' | 'coverage_gaps'>;

export function judgeHost(findings: Finding[], coverage: Coverage[], since: string, basis: WindowBasis = {}, unseen: Unseen = {}): HostJudgement {
  const shells = confirmedShells(findings);
  const { verdict, reasons } = hostVerdict(findings, coverage, since, basis, shells, unseen);
  return {
    verdict,
    reasons,
    ...correlate(findings, shells),
    shells: [...shells.values()],
    coverage_gaps: coverageGaps(coverage, since, basis, unseen.holes, unseen.gaps),
  };
}
