import type { Kind, Lane, LogRecord, RawFinding, Severity } from '../model.js';
import { withMeaning, laneOfFormat } from '../semantics.js';
import { compileCondition, type FieldReader } from './conditions.js';
import type { Grade, RecordRule, RuleContext, RuleHit, RuleMeta } from './types.js';

/** How a known client's hit is graded, whatever the rule (rules that declare `knownClients`): context, not attack. */
export const KNOWN_CLIENT: Readonly<Record<'scanner' | 'probe', { severity: Severity; kind: Kind; says: string }>> = {
  scanner: { severity: 'low', kind: 'scan', says: 'a known scanner (user agent, published scanner request)' },
  probe: { severity: 'info', kind: 'scan', says: "Exchange's own health probes or a listed legitimate client" },
};
/** When a known client's hit keeps its own grade (rules/iis.ts keepsGrade): user agents are the client's to choose. */
export const KNOWN_CLIENT_KEEPS =
  'A probe\'s hit that proves exploitation or later keeps its grade; so does a scanner\'s web-shell request, PowerShell session through the SSRF or critical exploitation hit, unless the request is the published check itself.';

/** What a finding under one grade carries: the grade with the rule's id, title and CVEs where it leaves them out. */
export interface Meaning {
  id: string;
  title: string;
  severity: Severity;
  kind: Kind;
  cves: readonly string[];
  when: string | null;
}

/** A rule's declared grades with its defaults filled in, each with the name a hit picks it by. */
export function declaredGrades(rule: RuleMeta): Array<Meaning & { name: string; when: string }> {
  return (rule.grades ?? []).map((g: Grade) => {
    const id = g.id ?? rule.id;
    return { id, name: g.as ?? id, title: g.title ?? rule.title, severity: g.severity, kind: g.kind, cves: g.cves ?? rule.cves, when: g.when };
  });
}

/** What a hit under `grade` means: the declared grade, or the rule itself when none is named (an undeclared name is a bug). */
export function meaningOf(rule: RuleMeta, grade: string | undefined): Meaning {
  if (grade === undefined) return { id: rule.id, title: rule.title, severity: rule.severity, kind: rule.kind, cves: rule.cves, when: null };
  const g = declaredGrades(rule).find((x) => x.name === grade);
  if (!g) throw new Error(`rule ${rule.id} reported the undeclared grade ${grade}`);
  return g;
}

/**
 * The grade a record falls in by the grades' own conditions (the first that holds; undefined = the rule itself), for
 * rules whose grades are data. Null when no grade of the rule has a condition.
 */
export function conditionGrader<R>(rule: RuleMeta, read: FieldReader<R>): ((rec: R) => string | undefined) | null {
  const graded = declaredGrades(rule).flatMap((g, i) => {
    const c = rule.grades![i].condition;
    return c ? [{ name: g.name, test: compileCondition(c, read) }] : [];
  });
  if (!graded.length) return null;
  return (rec) => graded.find((g) => g.test(rec))?.name;
}

/** A state a rule's findings can report, the severities it comes at, and when (CVEs default to the rule's). */
export interface StateSpec {
  state: string;
  severities: readonly Severity[];
  when: string;
  cves?: readonly string[];
}

/**
 * Grades for a rule whose findings state a control's or mitigation's state in the title (`Extended Protection: off`):
 * one grade per state and severity it can have, named `<id> <state> <severity>`.
 */
export function stateGrades(rule: Pick<RuleMeta, 'id' | 'title'>, states: readonly StateSpec[]): Grade[] {
  return states.flatMap((s) =>
    s.severities.map((severity): Grade => ({
      as: stateGrade(rule.id, s.state, severity),
      title: `${rule.title}: ${s.state}`,
      severity,
      kind: 'exposure',
      when: s.when,
      ...(s.cves ? { cves: s.cves } : {}),
    })),
  );
}

/** The name `stateGrades` gives a state's grade at one severity (a finding naming an undeclared pair throws). */
export const stateGrade = (id: string, state: string, severity: Severity): string => `${id} ${state} ${severity}`;

/** What a finding says beside its declared meaning; `cves` only where the grade declares them as set at run time. */
export type FindingDetail = Omit<RawFinding, 'rule' | 'title' | 'severity' | 'kind' | 'cves' | 'lane' | 'stage'> & { cves?: readonly string[] };

/** A finding of a file or host rule under a declared grade (none = the rule itself): its meaning is the declared one. */
export function gradedFinding(rule: RuleMeta, grade: string | undefined, lane: Lane, detail: FindingDetail): RawFinding {
  const g = meaningOf(rule, grade);
  const { cves, ...rest } = detail;
  return withMeaning({ rule: g.id, title: g.title, cves: [...(cves ?? g.cves)], severity: g.severity, kind: g.kind, ...rest }, lane);
}

/** Turns a rule hit on a record into a finding (the host assigns the id later): its meaning is the declared one. */
export function hitToFinding(rule: RuleMeta, hit: RuleHit, rec: Pick<LogRecord, 'format' | 'path' | 'line' | 'record' | 'time'>): RawFinding {
  const source = rec.record !== undefined ? { path: rec.path, record: rec.record } : rec.line !== undefined ? { path: rec.path, line: rec.line } : { path: rec.path };
  const g = meaningOf(rule, hit.grade);
  const client = hit.client !== undefined && rule.knownClients ? KNOWN_CLIENT[hit.client] : null;
  return withMeaning({
    rule: g.id,
    title: g.title,
    cves: [...g.cves],
    severity: client?.severity ?? g.severity,
    kind: client?.kind ?? g.kind,
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
