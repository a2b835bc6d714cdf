import type { LogRecord, RawFinding } from '../model.js';
import { withMeaning, laneOfFormat } from '../semantics.js';
import type { RecordRule, RuleContext, RuleHit, RuleMeta } from './types.js';

/** Turns a rule hit on a record into a finding (the host assigns the id later). */
export function hitToFinding(rule: RuleMeta, hit: RuleHit, rec: Pick<LogRecord, 'format' | 'path' | 'line' | 'record' | 'time'>): RawFinding {
  const source = rec.record !== undefined ? { path: rec.path, record: rec.record } : rec.line !== undefined ? { path: rec.path, line: rec.line } : { path: rec.path };
  return withMeaning({
    rule: hit.rule ?? rule.id,
    title: hit.title ?? rule.title,
    cves: hit.cves ?? rule.cves,
    severity: hit.severity ?? rule.severity,
    kind: hit.kind ?? rule.kind,
    time: hit.time !== undefined ? hit.time : rec.time,
    client_ip: hit.client_ip ?? null,
    source,
    summary: hit.summary,
    evidence: hit.evidence,
  }, laneOfFormat(rec.format));
}

/** Runs every rule over one record and collects findings. */
export function applyRules(rules: readonly RecordRule[], rec: LogRecord, out: RawFinding[], ctx: RuleContext): void {
  for (const rule of rules) {
    const res = rule.match(rec, ctx);
    if (!res) continue;
    for (const hit of Array.isArray(res) ? res : [res]) out.push(hitToFinding(rule, hit, rec));
  }
}
