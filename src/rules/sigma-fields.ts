// How Sigma field names read exhunt records, per log source (data/sigma/field-mapping.json). Apart from the rest of
// the Sigma bridge (rules/sigma.ts) so that the shipped rules, which read their fields this way, load without the
// YAML parser: a scan loads that only for --rules files.
import type { LogRecord } from '../model.js';
import { packageText } from '../packaged.js';
import type { FieldReader } from './conditions.js';

/** A Sigma field: a record field, a joined pair, `+` read as space, or a record value named as Sigma writes it (Level 2 = Error). */
type FieldMap = string | { field: string; plusAsSpace?: boolean; values?: Record<string, string> } | { join: string[]; with: string };
export interface SigmaSource {
  name: string;
  logsource: Record<string, string>;
  format: string;
  /** EVTX only: the channel the rule is about (also matched by provider `MSExchange CmdletLogs`). */
  channel?: string;
  /** The record field searched by keyword (field-less) selections; default: the whole raw line. */
  keywords?: string;
  fields: Record<string, FieldMap>;
}
export interface SigmaMapping {
  sources: SigmaSource[];
}

export function defaultMapping(): SigmaMapping {
  return JSON.parse(packageText('data/sigma/field-mapping.json')) as SigmaMapping;
}

/** Reads a Sigma field from a record of the source's format, through the mapping. */
export function reader(source: SigmaSource): FieldReader<LogRecord> {
  // One accessor per field name, worked out on first use: rules read their fields on every record.
  const accessors = new Map<string, (rec: LogRecord) => string | null>();
  const accessor = (field: string): ((rec: LogRecord) => string | null) => {
    const m: FieldMap = Object.hasOwn(source.fields, field) ? source.fields[field] : field;
    if (typeof m === 'string') {
      const data = `EventData.${m}`;
      return (rec) => rec.fields[m] ?? rec.fields[data] ?? null;
    }
    if ('join' in m) {
      return (rec) => {
        const parts = m.join.map((f) => rec.fields[f]).filter((v): v is string => v !== undefined && v !== '' && v !== '-');
        return parts.length ? parts.join(m.with) : null;
      };
    }
    const { values } = m;
    return (rec) => {
      const v = rec.fields[m.field];
      if (v === undefined) return null;
      if (values) return Object.hasOwn(values, v) ? values[v] : v;
      return m.plusAsSpace ? v.replace(/\+/g, ' ') : v;
    };
  };
  const keywords = (rec: LogRecord) => (source.keywords ? (rec.fields[source.keywords] ?? null) : (rec.raw ?? Object.values(rec.fields).join(' ')));
  const field = (name: string | null) => {
    if (name === null) return keywords;
    let get = accessors.get(name);
    if (get === undefined) accessors.set(name, (get = accessor(name)));
    return get;
  };
  return Object.assign((rec: LogRecord, name: string | null) => field(name)(rec), { field });
}

/** The field reader of one logsource of the shipped mapping (declarative shipped rules read their fields with it). */
export function sigmaFieldReader(name: string): FieldReader<LogRecord> {
  const source = defaultMapping().sources.find((s) => s.name === name);
  if (!source) throw new Error(`no Sigma logsource ${name} in data/sigma/field-mapping.json`);
  return reader(source);
}
