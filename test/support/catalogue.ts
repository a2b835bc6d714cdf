// The catalogue proof for findings: every finding's (rule, title, severity, kind) is one its rule or a grade
// declared on a rule says (src/report/rules-catalog.ts catalogMeanings), never one made up by matcher code.
import type { Finding } from '../../src/model.js';
import { catalogMeanings, meaningKey } from '../../src/report/rules-catalog.js';
import { RECORD_RULES } from '../../src/rules/ruleset.js';
import { EVTX_RULES } from '../../src/rules/evtx.js';
import { gradesOf } from '../../src/report/rules-catalog.js';

/** Ids of the record rules and their grades: the findings whose meaning comes from declarations. */
const DECLARED = new Set([...RECORD_RULES, ...EVTX_RULES].flatMap((r) => [r.id, ...gradesOf(r).map((g) => g.id)]));

/** The distinct meanings of record-rule findings that no rule or grade declares (empty = the proof holds). */
export function undeclaredMeanings(findings: readonly Pick<Finding, 'rule' | 'title' | 'severity' | 'kind'>[]): string[] {
  const known = catalogMeanings();
  const keys = findings.filter((f) => DECLARED.has(f.rule)).map((f) => meaningKey({ id: f.rule, title: f.title, severity: f.severity, kind: f.kind }));
  return [...new Set(keys.filter((k) => !known.has(k)))].sort();
}
