// One finding per line in the Elastic Common Schema, for Elasticsearch / OpenSearch ingestion or Splunk.
import { ruleReferences } from './rules-catalog.js';
import { isIP } from 'node:net';
import type { EvidenceValue, Finding, HostResult, Kind, ScanReport, Severity, Stage } from '../model.js';
import { evidenceStatus, evidenceString, normalizeIp } from '../semantics.js';

const ECS_VERSION = '8.11.0';

/** Numeric severities on Elastic's risk-score scale (low 21, medium 47, high 73, critical 99). */
const ECS_SEVERITY: Record<Severity, number> = { critical: 99, high: 73, medium: 47, low: 21, info: 1 };

/** MITRE ATT&CK context where the kind alone says it; post-exploitation varies too much to guess. */
const THREAT: Partial<Record<Kind, { tactic: [string, string]; technique: [string, string] }>> = {
  scan: { tactic: ['TA0043', 'Reconnaissance'], technique: ['T1595', 'Active Scanning'] },
  attempt: { tactic: ['TA0001', 'Initial Access'], technique: ['T1190', 'Exploit Public-Facing Application'] },
  exploitation: { tactic: ['TA0001', 'Initial Access'], technique: ['T1190', 'Exploit Public-Facing Application'] },
  webshell: { tactic: ['TA0003', 'Persistence'], technique: ['T1505.003', 'Web Shell'] },
};

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
type Doc = { [k: string]: Json };

function categories(f: Finding): string[] {
  if (f.kind === 'exposure') return ['vulnerability'];
  const lane = f.lane;
  if (lane === 'Files' || lane === 'OABGenerator') return ['intrusion_detection', 'file'];
  if (lane === 'Event logs') return ['intrusion_detection', 'host'];
  return ['intrusion_detection', 'web'];
}

/** `url.*` from whatever the log held: a path with a query, or a full URL. */
function urlFields(raw: string): Doc {
  const out: Doc = { original: raw };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    try {
      const u = new URL(raw);
      return { ...out, scheme: u.protocol.replace(/:$/, ''), domain: u.hostname, path: u.pathname, ...(u.search.length > 1 ? { query: u.search.slice(1) } : {}) };
    } catch {
      return out;
    }
  }
  const q = raw.indexOf('?');
  if (!raw.startsWith('/')) return out;
  return q < 0 ? { ...out, path: raw } : { ...out, path: raw.slice(0, q), ...(q + 1 < raw.length ? { query: raw.slice(q + 1) } : {}) };
}

/** Evidence values as keyword strings: one mapping type per key, whatever the rule emitted. */
function flatEvidence(evidence: Record<string, EvidenceValue>): Doc {
  const out: Doc = {};
  for (const [k, v] of Object.entries(evidence)) {
    if (v === null) continue;
    out[k] = Array.isArray(v) ? v.map((x) => String(x)) : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

function basename(p: string): string {
  return p.replace(/\\/g, '/').split('/').pop() ?? p;
}

/** The ECS document for one finding. */
function ecsDocument(f: Finding, host: HostResult, ctx: { created: string; incident: string | null; stage: Stage }): Doc {
  const ip = normalizeIp(f.client_ip);
  const url = evidenceString(f.evidence.url);
  const method = evidenceString(f.evidence.method);
  const status = evidenceStatus(f);
  const ua = evidenceString(f.evidence.user_agent);
  const file = f.kind === 'exposure' ? null : evidenceString(f.evidence.file);
  const sha = evidenceString(f.evidence.sha256);
  const threat = THREAT[f.kind];
  const doc: Doc = {
    '@timestamp': f.time ?? ctx.created,
    ecs: { version: ECS_VERSION },
    event: {
      kind: 'alert',
      category: categories(f),
      type: ['info'],
      severity: ECS_SEVERITY[f.severity],
      risk_score: ECS_SEVERITY[f.severity],
      id: `${host.name}/${f.id}`,
      code: f.rule,
      dataset: 'exhunt.finding',
      module: 'exhunt',
      provider: 'exhunt',
      created: ctx.created,
    },
    message: `${f.title}: ${f.summary}`,
    host: { name: host.name },
    rule: { id: f.rule, name: f.title, category: f.kind, ruleset: 'exhunt', ...references(f.rule) },
    log: { file: { path: f.source.path } },
    tags: ['exhunt', f.kind, f.severity],
  };
  if (f.client_ip !== null && f.client_ip.trim() !== '') doc.source = { address: f.client_ip, ...(ip !== null && !ip.includes('%') && isIP(ip) ? { ip } : {}) };
  if (url !== null) doc.url = urlFields(url);
  const http: Doc = {};
  if (method !== null) http.request = { method: method.toUpperCase() };
  if (status !== null) http.response = { status_code: status };
  if (Object.keys(http).length) doc.http = http;
  if (ua !== null) doc.user_agent = { original: ua };
  if (file !== null || (sha !== null && /^[0-9a-f]{64}$/i.test(sha))) {
    doc.file = {
      ...(file !== null ? { path: file, name: basename(file) } : {}),
      ...(sha !== null && /^[0-9a-f]{64}$/i.test(sha) ? { hash: { sha256: sha.toLowerCase() } } : {}),
    };
  }
  if (f.cves.length) doc.vulnerability = { id: f.cves, enumeration: 'CVE', scanner: { vendor: 'exhunt' } };
  if (threat) {
    doc.threat = {
      framework: 'MITRE ATT&CK',
      tactic: { id: [threat.tactic[0]], name: [threat.tactic[1]] },
      technique: { id: [threat.technique[0]], name: [threat.technique[1]] },
    };
  }
  doc.exhunt = {
    finding_id: f.id,
    kind: f.kind,
    severity: f.severity,
    stage: f.stage,
    incident: ctx.incident,
    time_known: f.time !== null,
    host_verdict: host.verdict,
    host_stage: ctx.stage,
    source: { path: f.source.path, ...(f.source.line !== undefined ? { line: f.source.line } : {}), ...(f.source.record !== undefined ? { record: f.source.record } : {}) },
    evidence: flatEvidence(f.evidence),
  };
  return doc;
}

/** Every finding of every host, one JSON document per line (newline-terminated; empty string when none). */
export function renderNdjson(report: ScanReport): string {
  const lines: string[] = [];
  for (const host of report.hosts) {
    const { incidents, stage } = host;
    const incidentOf = new Map<string, string>();
    for (const inc of incidents) for (const id of inc.findings) incidentOf.set(id, inc.id);
    for (const f of host.findings) {
      lines.push(JSON.stringify(ecsDocument(f, host, { created: report.tool.finished, incident: incidentOf.get(f.id) ?? null, stage })));
    }
  }
  return lines.map((l) => `${l}\n`).join('');
}

/** ECS rule.reference: the public sources the rule follows (keyword array). */
function references(rule: string): { reference?: string[] } {
  const refs = ruleReferences(rule);
  return refs.length ? { reference: [...refs] } : {};
}

