// The rule catalogue (docs/rules.md): every detection's metadata, one table per evidence source, so that any rule
// id in a report can be looked up in one step. Written by scripts/rules-doc.mjs; test/rules-doc.test.ts fails when
// the committed file is stale. Only evidence-free metadata is printed: signature terms stay encoded in the source.
import { createHash } from 'node:crypto';
import { EXPOSURE_RULE_META } from '../rules/exposure.js';
import { CONFIG_RULES } from '../rules/config-exposure.js';
import { RECORD_RULES, TEXT_FORMATS } from '../rules/ruleset.js';
import { EVTX_RULES } from '../rules/evtx.js';
import { FILE_RULES } from '../rules/files/rules.js';
import { SIGNATURES } from '../rules/files/signatures.js';
import { MITIGATION_RULES } from '../rules/mitigation-state.js';
import { HOST_RULES } from '../rules/host.js';
import type { RuleMeta } from '../rules/types.js';
import { KNOWN_CLIENT, KNOWN_CLIENT_KEEPS, declaredGrades, type Meaning } from '../rules/finding.js';
import { ruleCredits } from '../rules/references.js';
import { compareNumeric } from '../semantics.js';

export interface CatalogSection {
  title: string;
  rules: RuleMeta[];
}

/** A graded sub-rule as the catalogue lists it: the grade declared on its parent rule, defaults filled in. */
export interface Grade extends Meaning {
  /** The name its hits pick it by. */
  name: string;
  when: string;
  parent: string;
}

/** Headings of the record formats (`LogRecord.format`); a format missing here is headed by its id. */
const FORMAT_TITLES: Record<string, string> = {
  httpproxy: 'HttpProxy logs',
  'ecp-server': 'ECP Server logs',
  'ecp-activity': 'ECP Activity logs',
  'rps-cmdlet': 'Remote PowerShell cmdlet logs',
  'rps-http': 'Remote PowerShell HTTP logs (Rps_Http)',
  oabgen: 'OABGeneratorLog',
  iis: 'IIS logs',
  'defender-mplog': 'Defender support log (MPLog)',
};

/** Every rule definition, each once, from every source (record, EVTX, file and content rules, exposure). */
export function catalogRules(): RuleMeta[] {
  const all = [...RECORD_RULES, ...EVTX_RULES, ...Object.values(FILE_RULES), ...SIGNATURES, ...HOST_RULES.flatMap((h) => h.emits), ...Object.values(MITIGATION_RULES)];
  // The cmdlet rules read text logs and event logs alike: listed once.
  return [...new Map(all.map((r) => [r.id, r])).values()];
}

/**
 * The rule set's version as a report header can show it: the rule count and a digest of every rule's (and
 * declared grade's) id, title, severity, kind and CVEs, so two reports made with different rules say so even under the same exhunt version.
 */
export function rulesetVersion(): string {
  const rules = catalogRules().flatMap((r) => [[r.id, r.title, r.severity, r.kind, r.cves], ...gradesOf(r).map((g) => [g.id, g.title, g.severity, g.kind, g.cves])]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  return `${rules.length} rules, ${createHash('sha256').update(JSON.stringify(rules)).digest('hex').slice(0, 12)}`;
}

const byId = (a: RuleMeta, b: RuleMeta) => compareNumeric(a.id, b.id);

/** The record rules grouped by the formats they read (a rule reading two formats is listed under both). */
function recordSections(): CatalogSection[] {
  const order = TEXT_FORMATS.map((f) => f.id);
  const rank = (id: string) => (order.includes(id) ? order.indexOf(id) : order.length);
  // Event-log rules have their own section (the cmdlet rules read text logs and event logs alike).
  const formats = [...new Set(RECORD_RULES.flatMap((r) => r.formats))].filter((f) => f !== 'evtx').sort((a, b) => rank(a) - rank(b));
  return formats.map((f) => ({ title: FORMAT_TITLES[f] ?? f, rules: RECORD_RULES.filter((r) => r.formats.includes(f)).sort(byId) }));
}

export function catalogSections(): CatalogSection[] {
  return [
    ...recordSections(),
    { title: 'Event logs (EVTX)', rules: [...EVTX_RULES].sort(byId) },
    { title: 'Files on disk', rules: [...Object.values(FILE_RULES), ...SIGNATURES].sort(byId) },
    { title: 'Exposure (Exchange build)', rules: [EXPOSURE_RULE_META] },
    { title: 'Exposure (configuration controls)', rules: CONFIG_RULES },
    { title: 'Mitigation state (IIS configuration)', rules: Object.values(MITIGATION_RULES) },
  ];
}

/** The graded sub-rules a rule declares (`grades` on the rule), with their parent. */
export function gradesOf(rule: RuleMeta): Grade[] {
  return declaredGrades(rule).map((g) => ({ ...g, parent: rule.id }));
}

/**
 * Every (id, title, severity, kind) a finding of a rule can carry: the rule, its grades, and for rules that grade
 * known clients, each of those as a scanner or probe would be graded. The catalogue proof compares findings with it.
 */
export function catalogMeanings(): Set<string> {
  const out = new Set<string>();
  for (const r of catalogRules()) {
    for (const m of [{ id: r.id, title: r.title, severity: r.severity, kind: r.kind }, ...gradesOf(r)]) {
      out.add(meaningKey(m));
      if (r.knownClients) for (const c of Object.values(KNOWN_CLIENT)) out.add(meaningKey({ ...m, severity: c.severity, kind: c.kind }));
    }
  }
  return out;
}

/** The key `catalogMeanings` holds for a finding. */
export function meaningKey(m: Pick<Meaning, 'id' | 'title' | 'severity' | 'kind'>): string {
  return JSON.stringify([m.id, m.title, m.severity, m.kind]);
}

/** Every id a finding can carry: the rules' ids and their declared grades (the catalogue proof reads this). */
export function catalogIds(): Set<string> {
  return new Set(catalogRules().flatMap((r) => [r.id, ...gradesOf(r).map((g) => g.id)]));
}

/** Escapes Markdown in a table cell: backslash-escape inline syntax (paths, globs, `<build>`) and the cell bar. */
export function mdCell(text: string): string {
  return text.replace(/[\\`*_[\]<>|~&#]/g, '\\$&').replace(/\s*\n\s*/g, ' ');
}

function refCell(refs: readonly string[]): string {
  return refs.map((r) => (/^https?:\/\/\S+$/.test(r) ? `<${r}>` : mdCell(r))).join('<br>');
}

/** The DRL credits of a rule, as its findings carry them (author, upstream rule, licence). */
function creditCell(id: string): string {
  const credits = ruleCredits(id);
  return credits.length ? `<br>**Adapted from** (findings keep the author): ${credits.map((c) => `${mdCell(c.project)} ${mdCell(c.rule)} by ${mdCell(c.author)}, [${mdCell(c.license)}](${c.license_url})`).join('; ')}` : '';
}

function ruleRow(r: RuleMeta): string {
  const cves = r.cves.length ? r.cves.join(', ') : '—';
  const clients = r.knownClients ? ` ${mdCell(`From ${KNOWN_CLIENT.scanner.says}: ${KNOWN_CLIENT.scanner.severity} / ${KNOWN_CLIENT.scanner.kind}; from ${KNOWN_CLIENT.probe.says}: ${KNOWN_CLIENT.probe.severity} / ${KNOWN_CLIENT.probe.kind}. ${KNOWN_CLIENT_KEEPS}`)}` : '';
  return `| ${r.id} | ${mdCell(r.title)} | ${cves} | ${r.severity} / ${r.kind} | ${mdCell(r.description)}${clients} | ${refCell(r.references)}${creditCell(r.id)} |`;
}

function gradeRow(g: Grade): string {
  const cves = g.cves.join(', ') || '—';
  const from = g.id === g.parent ? 'graded' : `graded from ${g.parent}`;
  return `| ${g.id} | ${mdCell(g.title)} | ${cves} | ${g.severity} / ${g.kind} | ${from} when ${mdCell(g.when)} | as ${g.parent}${creditCell(g.id)} |`;
}

/** GitHub's heading anchor. */
function anchor(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');
}

const INTRO = `# Rule catalogue

Every detection exhunt runs, from the rules' own metadata. Generated by \`npm run rules-doc\`
(scripts/rules-doc.mjs); do not edit by hand. To find a rule's code, search its id in quotes under \`src/\`
(for example \`grep -rn "'PL-01'" src\`).

Severity / kind are a rule's defaults. Every other id, title, severity and kind a finding can carry is declared on
its rule (\`grades\`) and listed right under it, with the condition that selects it: a finding takes its meaning
from these rows, never from matcher code.
Content signatures' terms are base64 in \`src/rules/files/signatures.ts\` and are not printed here: antivirus flags
plain web-shell text.

Rules adapted from SigmaHQ or Neo23x0/signature-base rules, both under the Detection Rule License 1.1, name the
upstream rule and its author under "Adapted from"; every finding of such a rule carries the same credit (JSON
\`credits\`, NDJSON \`rule.author\` / \`rule.license\`, CSV \`rule_credit\`, the HTML evidence line), as that licence asks.
`;

/** The whole catalogue as Markdown. */
export function rulesCatalog(sections: CatalogSection[] = catalogSections()): string {
  const grades = gradesOf;
  const count = (s: CatalogSection) => {
    const g = s.rules.flatMap(grades).length;
    return `${s.rules.length}${g ? ` (+${g} graded)` : ''}`;
  };
  const out = [INTRO, '| Source | Rules |', '|---|---|', ...sections.map((s) => `| [${s.title}](#${anchor(s.title)}) | ${count(s)} |`), ''];
  for (const s of sections) {
    out.push(`## ${s.title}`, '', '| Id | Title | CVEs | Severity / kind | What it means | References |', '|---|---|---|---|---|---|');
    for (const r of s.rules) out.push(ruleRow(r), ...grades(r).map(gradeRow));
    out.push('');
  }
  return out.join('\n');
}

let referenceIndex: Map<string, readonly string[]> | null = null;

/** A rule id's public references (a graded sub-rule such as PL-02 has its parent's). */
export function ruleReferences(id: string): readonly string[] {
  if (!referenceIndex) {
    const rules = catalogRules();
    referenceIndex = new Map(rules.map((r) => [r.id, r.references]));
    for (const r of rules) for (const g of gradesOf(r)) if (!referenceIndex.has(g.id)) referenceIndex.set(g.id, r.references);
  }
  return referenceIndex.get(id) ?? [];
}

