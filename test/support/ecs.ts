// Validates the NDJSON report against Elastic's own field definitions: every field outside `exhunt.*` must exist in
// ECS (test/fixtures/ecs/ecs_fields.json, vendored from elastic/ecs ecs_flat.yml, Apache-2.0) or be one of
// Winlogbeat's `winlog.*` fields, and every value must have the field's type. Lists every problem.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

interface FieldDef {
  type: string;
  array?: boolean;
  allowed?: string[];
}

export const ECS_FIELDS: Record<string, FieldDef> = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'ecs', 'ecs_fields.json'), 'utf8')) as { fields: Record<string, FieldDef> }
).fields;

/** Winlogbeat's exported fields that exhunt writes (winlogbeat/docs/fields.asciidoc: all keyword). */
export const WINLOG_FIELDS: Record<string, FieldDef> = {
  'winlog.channel': { type: 'keyword' },
  'winlog.record_id': { type: 'keyword' },
  'winlog.event_id': { type: 'keyword' },
  'winlog.computer_name': { type: 'keyword' },
  'winlog.provider_name': { type: 'keyword' },
};

const STRING_TYPES = new Set(['keyword', 'wildcard', 'constant_keyword', 'text', 'match_only_text']);
const INTEGER_TYPES = new Set(['long', 'integer', 'short', 'byte']);
const NUMBER_TYPES = new Set(['float', 'double', 'scaled_float', 'half_float']);

export function flatten(o: Record<string, unknown>, prefix = ''): Array<[string, unknown]> {
  return Object.entries(o).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? flatten(v as Record<string, unknown>, `${prefix}${k}.`) : [[`${prefix}${k}`, v] as [string, unknown]],
  );
}

function valueOk(type: string, v: unknown): boolean {
  if (STRING_TYPES.has(type)) return typeof v === 'string';
  if (INTEGER_TYPES.has(type)) return Number.isInteger(v);
  if (NUMBER_TYPES.has(type)) return typeof v === 'number' && Number.isFinite(v);
  if (type === 'boolean') return typeof v === 'boolean';
  if (type === 'ip') return typeof v === 'string' && isIP(v) !== 0;
  if (type === 'date') return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(v) && !Number.isNaN(Date.parse(v));
  return false;
}

function typeProblem(field: string, def: FieldDef, v: unknown): string | null {
  const values = Array.isArray(v) ? v : [v];
  if (def.array && !Array.isArray(v)) return `${field} is not an array of ${def.type}: ${JSON.stringify(v)}`;
  if (Array.isArray(v) && v.length === 0) return `${field} is an empty array`;
  if (!values.every((x) => valueOk(def.type, x))) return `${field} is not ${def.type}: ${JSON.stringify(v)}`;
  if (def.allowed && !values.every((x) => def.allowed?.includes(x as string))) return `${field} has a value ECS does not allow: ${JSON.stringify(v)}`;
  return null;
}

/** Every problem in every line, so a failure lists them all. */
export function validateEcs(ndjson: string): string[] {
  return ndjson
    .split('\n')
    .filter((l) => l !== '')
    .flatMap((line, n) => {
      const doc = JSON.parse(line) as Record<string, unknown>;
      return flatten(doc).flatMap(([field, v]) => {
        if (field.startsWith('exhunt.')) return [];
        const def = Object.hasOwn(ECS_FIELDS, field) ? ECS_FIELDS[field] : Object.hasOwn(WINLOG_FIELDS, field) ? WINLOG_FIELDS[field] : undefined;
        if (def === undefined) return [`line ${n + 1}: ${field} is not an ECS field`];
        const p = typeProblem(field, def, v);
        return p ? [`line ${n + 1}: ${p}`] : [];
      });
    });
}
