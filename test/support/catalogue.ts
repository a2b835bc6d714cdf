// The catalogue proof for findings: every finding's (rule, title, severity, kind) is one its rule or a grade
// declared on a rule says (src/report/rules-catalog.ts catalogMeanings), never one made up by code. It covers every
// finding a scan makes: record rules, file rules, content signatures, configuration scanners and host rules.
import type { Finding } from '../../src/model.js';
import { catalogMeanings, meaningKey } from '../../src/report/rules-catalog.js';

/** The distinct meanings of findings that no rule or grade declares (empty = the proof holds). */
export function undeclaredMeanings(findings: readonly Pick<Finding, 'rule' | 'title' | 'severity' | 'kind'>[]): string[] {
  const known = catalogMeanings();
  const keys = findings.map((f) => meaningKey({ id: f.rule, title: f.title, severity: f.severity, kind: f.kind }));
  return [...new Set(keys.filter((k) => !known.has(k)))].sort();
}
