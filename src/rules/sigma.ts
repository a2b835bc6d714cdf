// The Sigma bridge: Sigma rules (v2.1 YAML) for the log sources exhunt reads become record rules through the field
// mapping (data/sigma/field-mapping.json), and exhunt's declarative rules export as Sigma. Unsupported modifiers,
// sources and regexes are refused with a message naming the rule; nothing is guessed.
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import type { EvidenceValue, Kind, LogRecord, Severity } from '../model.js';
import { defaultMapping, reader, type SigmaMapping, type SigmaSource } from './sigma-fields.js';
import { LinearRegexError } from '../mitigations/linear-regex.js';
import { compileCondition, conditionNeedles, type Condition, type Op } from './conditions.js';
import type { RecordRule, RuleHit } from './types.js';
import { declaredGrades, meaningOf } from './finding.js';

export { defaultMapping, reader, sigmaFieldReader, type SigmaMapping, type SigmaSource } from './sigma-fields.js';

export class SigmaError extends Error {
  override name = 'SigmaError';
}


const LEVELS: Record<string, Severity> = { critical: 'critical', high: 'high', medium: 'medium', low: 'low', informational: 'info' };
const SUPPORTED_MODS = new Set(['contains', 'startswith', 'endswith', 'all', 're', 'i']);

/** A Sigma rule as read (only what exhunt uses). */
interface SigmaDoc {
  title?: unknown;
  id?: unknown;
  author?: unknown;
  description?: unknown;
  references?: unknown;
  tags?: unknown;
  level?: unknown;
  logsource?: unknown;
  detection?: unknown;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);

function sourceFor(logsource: unknown, mapping: SigmaMapping): SigmaSource | null {
  if (!isObj(logsource)) return null;
  return mapping.sources.find((s) => Object.entries(s.logsource).every(([k, v]) => str(logsource[k])?.toLowerCase() === v)) ?? null;
}

/** `*` and `?` in a Sigma value are wildcards (`\*` a literal star): as a regex source, or null without any. */
function wildcardRegex(value: string, op: Op): string | null {
  if (!/(^|[^\\])[*?]/.test(value)) return null;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && i + 1 < value.length && '*?\\'.includes(value[i + 1])) out += `\\${value[++i]}`;
    else if (c === '*') out += '[\\s\\S]*';
    else if (c === '?') out += '[\\s\\S]';
    else out += c.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  return `${op === 'equals' || op === 'startswith' ? '^' : ''}${out}${op === 'equals' || op === 'endswith' ? '$' : ''}`;
}

function leaf(field: string | null, mods: string[], raw: unknown, where: string): Condition {
  for (const m of mods) if (!SUPPORTED_MODS.has(m)) throw new SigmaError(`${where}: modifier |${m} is not supported (supported: ${[...SUPPORTED_MODS].join(', ')})`);
  const list = Array.isArray(raw) ? raw : [raw];
  const values = list.map((v) => {
    const s = str(v);
    if (s === null) throw new SigmaError(`${where}: value ${JSON.stringify(v)} is not supported (only strings and numbers)`);
    return s;
  });
  const all = mods.includes('all');
  if (mods.includes('re')) return { field, op: 're', values, all, ignoreCase: mods.includes('i') };
  const op: Op = mods.includes('contains') ? 'contains' : mods.includes('startswith') ? 'startswith' : mods.includes('endswith') ? 'endswith' : 'equals';
  const wild = values.map((v) => wildcardRegex(v, op));
  if (wild.every((w) => w === null)) return { field, op, values, all };
  const parts: Condition[] = values.map((v, i) => (wild[i] === null ? { field, op, values: [v] } : { field, op: 're', values: [wild[i] as string], ignoreCase: true }));
  return all ? { all: parts } : { any: parts };
}

function selection(name: string, body: unknown, where: string): Condition {
  const at = `${where} selection ${name}`;
  if (Array.isArray(body)) {
    if (body.every((b) => !isObj(b))) return leaf(null, ['contains'], body, at);
    return { any: body.map((b, i) => selection(`${name}[${i}]`, b, where)) };
  }
  if (!isObj(body)) return leaf(null, ['contains'], body, at);
  const parts = Object.entries(body).map(([key, value]) => {
    const [field, ...mods] = key.split('|');
    // `'|all': [...]` is a keyword list that must all occur.
    return field === '' ? leaf(null, ['contains', ...mods], value, at) : leaf(field, mods, value, at);
  });
  return parts.length === 1 ? parts[0] : { all: parts };
}

/** Sigma condition expressions: and / or / not, parentheses, `1 of x*`, `all of x*`, `1 of them`, `all of them`. */
function parseCondition(text: string, selections: Map<string, Condition>, where: string): Condition {
  const tokens = text.match(/\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const fail = (why: string): never => {
    throw new SigmaError(`${where}: condition "${text}": ${why}`);
  };
  const named = (pattern: string): Condition[] => {
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    const hits = [...selections].filter(([n]) => pattern === 'them' || re.test(n)).map(([, c]) => c);
    return hits.length ? hits : fail(`no selection matches ${pattern}`);
  };
  const factor = (): Condition => {
    const t = tokens[i++];
    if (t === undefined) return fail('ends too early');
    if (t === 'not') return { not: factor() };
    if (t === '(') {
      const e = expr();
      if (tokens[i++] !== ')') fail('missing )');
      return e;
    }
    if ((t === '1' || t === 'any' || t === 'all') && tokens[i] === 'of') {
      i++;
      const target = tokens[i++] ?? fail('missing the selections after "of"');
      const list = named(target);
      return t === 'all' ? { all: list } : { any: list };
    }
    return selections.get(t) ?? fail(`unknown selection ${t}`);
  };
  const term = (): Condition => {
    const parts = [factor()];
    while (tokens[i] === 'and') i++, parts.push(factor());
    return parts.length === 1 ? parts[0] : { all: parts };
  };
  const expr = (): Condition => {
    const parts = [term()];
    while (tokens[i] === 'or') i++, parts.push(term());
    return parts.length === 1 ? parts[0] : { any: parts };
  };
  const out = expr();
  if (i !== tokens.length) fail(`unexpected ${tokens[i]}`);
  return out;
}

function fieldsOf(c: Condition, out = new Set<string>()): Set<string> {
  if ('op' in c) {
    if (c.field !== null) out.add(c.field);
  } else if ('not' in c) fieldsOf(c.not, out);
  else for (const x of 'any' in c ? c.any : c.all) fieldsOf(x, out);
  return out;
}

/** A Sigma rule file's text as an exhunt record rule. Throws SigmaError naming the file for anything unsupported. */
export function sigmaRule(text: string, file: string, mapping: SigmaMapping): RecordRule {
  let doc: SigmaDoc;
  try {
    doc = parseYaml(text, { maxAliasCount: 10 }) as SigmaDoc;
  } catch (err) {
    throw new SigmaError(`${file}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  if (!isObj(doc) || !isObj(doc.detection) || typeof doc.title !== 'string') throw new SigmaError(`${file}: not a Sigma rule (no title or detection)`);
  const source = sourceFor(doc.logsource, mapping);
  if (!source) throw new SigmaError(`${file}: logsource ${JSON.stringify(doc.logsource)} is not one exhunt reads (${mapping.sources.map((s) => JSON.stringify(s.logsource)).join(', ')})`);
  const { condition, ...named } = doc.detection as Record<string, unknown>;
  const selections = new Map(Object.entries(named).map(([n, body]) => [n, selection(n, body, file)]));
  const conditions = (Array.isArray(condition) ? condition : [condition]).map((c) => (typeof c === 'string' ? c : new SigmaError(`${file}: detection has no condition`)));
  for (const c of conditions) if (c instanceof SigmaError) throw c;
  const cond: Condition = conditions.length === 1 ? parseCondition(conditions[0] as string, selections, file) : { any: conditions.map((c) => parseCondition(c as string, selections, file)) };
  const read = reader(source);
  let test: (rec: LogRecord) => boolean;
  try {
    test = compileCondition(cond, read);
  } catch (err) {
    if (err instanceof LinearRegexError) throw new SigmaError(`${file}: regex refused (${err.message}): exhunt runs evidence regexes in linear time only`);
    throw err;
  }
  const tags = Array.isArray(doc.tags) ? doc.tags.filter((t): t is string => typeof t === 'string') : [];
  const id = str(doc.id) ?? file;
  const author = str(doc.author) ?? 'unknown';
  const fields = [...fieldsOf(cond)];
  const channelOk = (rec: LogRecord) => !source.channel || rec.fields.Channel === source.channel || rec.fields.Provider === 'MSExchange CmdletLogs';
  return {
    id: `SIGMA-${id.slice(0, 8)}`,
    title: doc.title,
    cves: tags.filter((t) => /^cve\.\d{4}-\d{4,}$/i.test(t)).map((t) => `CVE-${t.slice(4).toUpperCase()}`),
    severity: LEVELS[str(doc.level) ?? ''] ?? 'medium',
    // Imported rules point at activity; they never prove a compromise on their own.
    kind: 'attempt' satisfies Kind,
    references: [`Sigma rule ${id} (${file}), author ${author}, Detection Rule License 1.1`, ...(Array.isArray(doc.references) ? doc.references.filter((r): r is string => typeof r === 'string') : [])],
    description: str(doc.description) ?? doc.title,
    formats: [source.format],
    needles: source.format === 'evtx' ? [] : (conditionNeedles(cond) ?? []),
    condition: cond,
    sigma: { id, author, logsource: source.name, tags },
    match(rec) {
      if (!channelOk(rec) || !test(rec)) return null;
      const evidence: Record<string, EvidenceValue> = { sigma_id: id, sigma_title: doc.title as string, rule_author: author, rule_license: 'DRL-1.1' };
      for (const f of fields) evidence[`sigma.${f}`] = read(rec, f);
      return { summary: `Sigma rule "${doc.title as string}" (by ${author}) matched`, evidence, client_ip: rec.fields['c-ip'] ?? rec.fields.ClientIpAddress ?? null } satisfies RuleHit;
    },
  };
}

/** Sigma rule files (text by name) for the sources exhunt reads; one message per file that cannot be used. */
export function sigmaRules(files: ReadonlyArray<{ name: string; text: string }>, mapping: SigmaMapping = defaultMapping()): { rules: RecordRule[]; problems: string[] } {
  const rules: RecordRule[] = [];
  const problems: string[] = [];
  for (const f of files) {
    try {
      rules.push(sigmaRule(f.text, f.name, mapping));
    } catch (err) {
      if (!(err instanceof SigmaError)) throw err;
      problems.push(err.message);
    }
  }
  return { rules, problems };
}

// ---- export ------------------------------------------------------------------------------------------------------

function toDetection(c: Condition, sel: Array<[string, unknown]>): string {
  const name = () => `selection_${sel.length + 1}`;
  if ('op' in c) {
    const n = name();
    const mods = [c.op === 'equals' ? '' : c.op, c.all ? 'all' : '', c.op === 're' && c.ignoreCase ? 'i' : ''].filter(Boolean);
    const key = `${c.field ?? ''}${mods.map((m) => `|${m}`).join('')}`;
    sel.push([n, c.field === null && !c.all ? c.values : { [key]: c.values.length === 1 ? c.values[0] : c.values }]);
    return n;
  }
  if ('not' in c) return `not ${toDetection(c.not, sel)}`;
  const list = 'any' in c ? c.any : c.all;
  return `(${list.map((x) => toDetection(x, sel)).join('any' in c ? ' or ' : ' and ')})`;
}

/** The condition with its field names as Sigma writes them (null: a keyword search, which Sigma matches as contains). */
function renameFields(c: Condition, names: Readonly<Record<string, string | null>>): Condition {
  if ('op' in c) {
    if (c.field === null || !Object.hasOwn(names, c.field)) return c;
    const field = names[c.field];
    return field === null && c.op !== 're' ? { ...c, field, op: 'contains' } : { ...c, field };
  }
  if ('not' in c) return { not: renameFields(c.not, names) };
  return 'any' in c ? { any: c.any.map((x) => renameFields(x, names)) } : { all: c.all.map((x) => renameFields(x, names)) };
}

const EXPORT_LEVEL: Record<Severity, string> = { critical: 'critical', high: 'high', medium: 'medium', low: 'low', info: 'informational' };

/** The grades of a rule that are data (a `condition`): each exports as its own Sigma rule, with its own level. */
export function sigmaGrades(rule: RecordRule): string[] {
  return rule.condition ? declaredGrades(rule).filter((_, i) => rule.grades![i].condition !== undefined).map((g) => g.name) : [];
}

/**
 * A declarative rule as Sigma v2.1 YAML (null for a code matcher or a source without a Sigma logsource), with the
 * rule's title and level; or, with `grade` (one of `sigmaGrades`), that grade's part of it with the grade's title and
 * level. The rule's own file leaves out what its graded parts cover, so an event meets one exported rule, at the
 * level exhunt gives it.
 */
export function toSigma(rule: RecordRule, mapping: SigmaMapping, uuid: string, date: string, grade?: string): string | null {
  if (!rule.condition) return null;
  const name = rule.sigmaExport?.logsource ?? rule.sigma?.logsource;
  const source = name !== undefined ? mapping.sources.find((s) => s.name === name) : mapping.sources.find((s) => rule.formats.includes(s.format));
  if (!source) return null;
  const graded = (rule.grades ?? []).filter((g) => g.condition !== undefined);
  const part = grade === undefined ? null : graded.find((g) => (g.as ?? g.id ?? rule.id) === grade);
  if (grade !== undefined && !part) throw new Error(`rule ${rule.id} has no grade ${grade} written as a condition`);
  const meaning = meaningOf(rule, grade);
  const whole: Condition = part ? { all: [rule.condition, part.condition!] } : graded.length ? { all: [rule.condition, ...graded.map((g) => ({ not: g.condition! }))] } : rule.condition;
  const sel: Array<[string, unknown]> = [];
  const condition = rule.sigmaExport?.fields ? renameFields(whole, rule.sigmaExport.fields) : whole;
  const cond = toDetection(condition, sel).replace(/^\((.*)\)$/, '$1');
  const tags = [...new Set([...meaning.cves.map((c) => `cve.${c.slice(4).toLowerCase()}`), ...(rule.sigma?.tags ?? []).filter((t) => t.startsWith('attack.')), ...(rule.attack ?? [])])];
  const doc = {
    title: meaning.title,
    id: uuid,
    status: 'experimental',
    description: rule.description,
    references: rule.references.filter((r) => /^https?:\/\//.test(r)),
    author: rule.sigma?.author ?? 'exhunt',
    date,
    tags: tags.length ? tags : undefined,
    logsource: source.logsource,
    detection: { ...Object.fromEntries(sel), condition: cond },
    falsepositives: ['Unknown'],
    level: EXPORT_LEVEL[meaning.severity],
  };
  if (doc.references.length === 0) delete (doc as Partial<typeof doc>).references;
  const head = `# exhunt rule ${rule.id}${part ? ` grade "${grade}" (${meaning.id} ${meaning.severity}: when ${meaning.when})` : ''}`;
  return `${head} (${rule.references.join('; ').replace(/\n/g, ' ')})\n${toYaml(doc, { lineWidth: 0 })}`;
}
