// One finding per line in the Elastic Common Schema, for Elasticsearch / OpenSearch ingestion or Splunk.
import { ruleReferences } from './rules-catalog.js';
import { isIP } from 'node:net';
import type { EvidenceValue, Finding, HostResult, Kind, ScanReport, Severity, Stage } from '../model.js';
import { evidenceStatus, evidenceString, normalizeIp } from '../semantics.js';
import { hostTitle } from './summary.js';

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

/** ATT&CK for post-exploitation, from what the finding names (a credential dump, a mailbox export, a shell command). */
function postExploitation(f: Finding): { tactic: [string, string]; technique: [string, string] } | null {
  const text = `${f.title} ${f.summary} ${evidenceString(f.evidence.cmdlet) ?? ''} ${evidenceString(f.evidence.process) ?? ''} ${evidenceString(f.evidence.target) ?? ''}`.toLowerCase();
  if (/lsass|comsvcs|minidump|procdump/.test(text)) return { tactic: ['TA0006', 'Credential Access'], technique: ['T1003.001', 'LSASS Memory'] };
  if (/mailboxexportrequest|mailbox import export/.test(text)) return { tactic: ['TA0009', 'Collection'], technique: ['T1114.002', 'Remote Email Collection'] };
  if (/transportagent/.test(text)) return { tactic: ['TA0003', 'Persistence'], technique: ['T1505.002', 'Transport Agent'] };
  if (/powershell/.test(text)) return { tactic: ['TA0002', 'Execution'], technique: ['T1059.001', 'PowerShell'] };
  if (evidenceString(f.evidence.command_line) !== null) return { tactic: ['TA0002', 'Execution'], technique: ['T1059.003', 'Windows Command Shell'] };
  return null;
}

/** A Windows process path as ECS `process.executable` / `process.name`; a bare name is only the name. */
function processFields(path: string | null, commandLine: string | null, pid: EvidenceValue | undefined): Doc {
  const out: Doc = {};
  if (path !== null && path !== '') {
    if (/[\\/]/.test(path)) out.executable = path;
    out.name = basename(path);
  }
  if (commandLine !== null && commandLine !== '') out.command_line = commandLine;
  if (typeof pid === 'number' && Number.isInteger(pid) && pid >= 0) out.pid = pid;
  return out;
}

/** `DOMAIN\user`, `user@domain` or a bare name as ECS `user.name` / `user.domain`. */
function userFields(raw: string | null): Doc | null {
  const v = raw?.trim() ?? '';
  if (v === '' || v === '-') return null;
  const slash = v.indexOf('\\');
  if (slash > 0) return { name: v.slice(slash + 1), domain: v.slice(0, slash) };
  return { name: v };
}

/**
 * Winlogbeat's `winlog.*` (not part of ECS itself; mapped by schema/ecs-index-template.json): the channel from the
 * .evtx file name (`%4` is how Windows writes `/` in one), the record id, event id, computer and provider.
 */
function winlogFields(f: Finding): Doc | null {
  if (f.lane !== 'Event logs') return null;
  const out: Doc = {};
  const file = basename(f.source.path);
  const channel = evidenceString(f.evidence.channel);
  if (channel !== null && channel !== '') out.channel = channel;
  else if (/\.evtx$/i.test(file)) out.channel = file.slice(0, -5).replace(/%4/g, '/');
  if (f.source.record !== undefined) out.record_id = String(f.source.record);
  const id = f.evidence.event_id;
  if (typeof id === 'number' && Number.isInteger(id)) out.event_id = String(id);
  const computer = evidenceString(f.evidence.computer);
  if (computer !== null && computer !== '') out.computer_name = computer;
  const provider = evidenceString(f.evidence.provider);
  if (provider !== null && provider !== '') out.provider_name = provider;
  return Object.keys(out).length ? out : null;
}

function categories(f: Finding): string[] {
  if (f.kind === 'exposure') return ['vulnerability'];
  if (evidenceString(f.evidence.command_line) !== null) return ['intrusion_detection', 'process'];
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
  const threat = THREAT[f.kind] ?? (f.kind === 'post-exploitation' ? postExploitation(f) : null);
  const doc: Doc = {
    '@timestamp': f.time ?? ctx.created,
    ecs: { version: ECS_VERSION },
    event: {
      kind: 'alert',
      category: categories(f),
      type: categories(f).includes('process') ? ['info', 'start'] : ['info'],
      severity: ECS_SEVERITY[f.severity],
      risk_score: ECS_SEVERITY[f.severity],
      // Unique across a fleet: two customers' MAIL01 are two hosts.
      id: `${hostTitle(host)}/${f.id}`,
      code: f.rule,
      dataset: 'exhunt.finding',
      module: 'exhunt',
      provider: 'exhunt',
      created: ctx.created,
    },
    message: `${f.title}: ${f.summary}`,
    host: { name: host.name },
    rule: { id: f.rule, name: f.title, category: f.kind, ruleset: 'exhunt', ...references(f.rule), ...ruleAuthors(f) },
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
  const proc = processFields(evidenceString(f.evidence.process), evidenceString(f.evidence.command_line), f.evidence.pid);
  const parent = processFields(evidenceString(f.evidence.parent_process), evidenceString(f.evidence.parent_command_line), f.evidence.parent_pid);
  if (Object.keys(parent).length) proc.parent = parent;
  if (Object.keys(proc).length) doc.process = proc;
  const user = userFields(evidenceString(f.evidence.user) ?? evidenceString(f.evidence.authenticated_user) ?? evidenceString(f.evidence.caller));
  if (user !== null) doc.user = user;
  const winlog = winlogFields(f);
  if (winlog !== null) doc.winlog = winlog;
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
    host_label: host.label ?? host.name,
    host_verdict: host.verdict,
    host_stage: ctx.stage,
    source: { path: f.source.path, ...(f.source.line !== undefined ? { line: f.source.line } : {}), ...(f.source.record !== undefined ? { record: f.source.record } : {}) },
    evidence: flatEvidence(f.evidence),
    ...(f.group ? { group: { count: f.group.count, first_time: f.group.first_time, last_time: f.group.last_time, folder: f.group.folder, distinct_ips: f.group.distinct_ips } } : {}),
  };
  return doc;
}

/** Every finding of every host, one JSON document per line (newline-terminated; empty string when none). */
export function renderNdjson(report: ScanReport): string {
  return report.hosts.map((h) => ndjsonHostLines(h, report.tool.finished)).join('');
}

/**
 * One host's lines (newline-terminated). `created`: when exhunt made them (the end of the scan, or of this host when
 * streamed); undated findings carry it as their `@timestamp`. A group is one document; `exhunt.group` has its count.
 */
export function ndjsonHostLines(host: HostResult, created: string): string {
  const { incidents, stage } = host;
  const incidentOf = new Map<string, string>();
  for (const inc of incidents) for (const id of inc.findings) incidentOf.set(id, inc.id);
  return host.findings.map((f) => `${JSON.stringify(ecsDocument(f, host, { created, incident: incidentOf.get(f.id) ?? null, stage }))}\n`).join('');
}

/**
 * ECS rule.author / rule.license: the authors of the Detection Rule License rules the finding's rule was adapted
 * from (or of the imported Sigma rule), as that licence asks of every match.
 */
function ruleAuthors(f: Finding): { author?: string[]; license?: string } {
  const credits = f.credits ?? [];
  const imported = evidenceString(f.evidence.rule_author);
  const authors = [...new Set([...credits.map((c) => c.author), ...(imported !== null ? [imported] : [])])];
  if (!authors.length) return {};
  const licences = [...new Set([...credits.map((c) => c.license), ...(imported !== null ? [evidenceString(f.evidence.rule_license) ?? 'DRL-1.1'] : [])])];
  return { author: authors, license: licences.join(' ') };
}

/** ECS rule.reference: the public sources the rule follows (keyword array). */
function references(rule: string): { reference?: string[] } {
  const refs = ruleReferences(rule);
  return refs.length ? { reference: [...refs] } : {};
}

