// ECS field types for the NDJSON report, and a validator listing every problem (shared by the report tests).
import { isIP } from 'node:net';

/** The ECS fields exhunt emits, with the type Elasticsearch maps them to. Anything else must live under `exhunt.`. */
const ECS_TYPES: Record<string, 'date' | 'keyword' | 'keyword[]' | 'long' | 'float' | 'ip' | 'text'> = {
  '@timestamp': 'date',
  'ecs.version': 'keyword',
  'event.kind': 'keyword',
  'event.category': 'keyword[]',
  'event.type': 'keyword[]',
  'event.severity': 'long',
  'event.risk_score': 'float',
  'event.id': 'keyword',
  'event.code': 'keyword',
  'event.dataset': 'keyword',
  'event.module': 'keyword',
  'event.provider': 'keyword',
  'event.created': 'date',
  message: 'text',
  'host.name': 'keyword',
  'source.ip': 'ip',
  'source.address': 'keyword',
  'url.original': 'keyword',
  'url.path': 'keyword',
  'url.query': 'keyword',
  'url.scheme': 'keyword',
  'url.domain': 'keyword',
  'http.request.method': 'keyword',
  'http.response.status_code': 'long',
  'user_agent.original': 'keyword',
  'file.path': 'keyword',
  'file.name': 'keyword',
  'file.hash.sha256': 'keyword',
  'rule.id': 'keyword',
  'rule.name': 'keyword',
  'rule.category': 'keyword',
  'rule.ruleset': 'keyword',
  'rule.reference': 'keyword[]',
  'vulnerability.id': 'keyword[]',
  'vulnerability.enumeration': 'keyword',
  'vulnerability.scanner.vendor': 'keyword',
  'threat.framework': 'keyword',
  'threat.tactic.id': 'keyword[]',
  'threat.tactic.name': 'keyword[]',
  'threat.technique.id': 'keyword[]',
  'threat.technique.name': 'keyword[]',
  'log.file.path': 'keyword',
  tags: 'keyword[]',
};
const ALLOWED = {
  'event.kind': ['alert'],
  'event.category': ['intrusion_detection', 'web', 'file', 'host', 'vulnerability'],
  'event.type': ['info'],
} as Record<string, string[]>;

function flatten(o: Record<string, unknown>, prefix = ''): Array<[string, unknown]> {
  return Object.entries(o).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? flatten(v as Record<string, unknown>, `${prefix}${k}.`) : [[`${prefix}${k}`, v] as [string, unknown]],
  );
}

function typeProblem(field: string, v: unknown): string | null {
  const t = ECS_TYPES[field];
  const isStr = (x: unknown) => typeof x === 'string';
  const ok = {
    date: isStr(v) && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(v as string) && !Number.isNaN(Date.parse(v as string)),
    keyword: isStr(v),
    text: isStr(v),
    'keyword[]': Array.isArray(v) && v.length > 0 && v.every(isStr),
    long: Number.isInteger(v),
    float: typeof v === 'number' && Number.isFinite(v),
    ip: isStr(v) && isIP(v as string) !== 0,
  }[t];
  if (!ok) return `${field} is not ${t}: ${JSON.stringify(v)}`;
  const allowed = ALLOWED[field];
  if (allowed && !(Array.isArray(v) ? v : [v]).every((x) => allowed.includes(x as string))) return `${field} has a value ECS does not allow: ${JSON.stringify(v)}`;
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
        if (!(field in ECS_TYPES)) return [`line ${n + 1}: ${field} is not an ECS field exhunt declares`];
        const p = typeProblem(field, v);
        return p ? [`line ${n + 1}: ${p}`] : [];
      });
    });
}

