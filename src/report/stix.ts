// The indicators a scan found, as a STIX 2.1 bundle (MISP, OpenCTI and TIPs import it): attacker addresses,
// web-shell hashes and paths, exploit user agents as indicators; shell passwords as notes on the shell; one
// sighting per indicator and host. Ids are UUIDv5 of the content, so the same scan gives the same bundle.
// Spec: STIX 2.1 (OASIS, 2021), sections 4 (indicator), 5 (sighting), 9 (patterns), 2.9 (ids).
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { findingWeight, SEVERITY_RANK, type Finding, type HostResult, type ScanReport, type ToolInfo } from '../model.js';

/** What the bundle needs of a host: its name, verdict and the findings that can show an indicator. */
export type StixHost = Pick<HostResult, 'name' | 'label' | 'verdict' | 'findings'>;
import { builtinIocs, iisUaKey, type IocStore } from '../rules/iocs.js';
import { evidenceString, fileKey, isPrivateIp, isUncPath, normalizeIp } from '../semantics.js';
import { serverPath } from '../evidence/server-path.js';
import { hostTitle } from './summary.js';

/** The STIX 2.1 namespace for deterministic identifiers (spec section 2.9). */
const STIX_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';
const MAX_PER_KIND = 500;

type StixObject = Record<string, unknown> & { type: string; id: string };

/** RFC 4122 version 5 UUID (SHA-1 of namespace + name). */
function uuid5(name: string): string {
  const ns = Buffer.from(STIX_NAMESPACE.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function stixId(type: string, name: string): string {
  return `${type}--${uuid5(`${type}:${name}`)}`;
}

/** A STIX pattern string literal: backslash and quote escaped (spec 9.3); evidence text is attacker-controlled. */
function lit(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** STIX timestamps: RFC 3339 UTC with Z and millisecond precision. */
function stixTime(t: string): string {
  return new Date(Date.parse(t)).toISOString();
}

interface Seen {
  kind: 'ip' | 'sha256' | 'path' | 'user-agent';
  value: string;
  name: string;
  pattern: string;
  indicatorTypes: string[];
  description: string;
  findings: Finding[];
}

/**
 * A finding that shows an attack stage beyond scanner probes, graded medium or higher: its address and user agent
 * are the attacker's. (A low hit's client can be anyone's: a blocklist fed from it blocks the innocent.)
 */
function isAttack(f: Finding): boolean {
  return f.stage !== null && f.stage !== 'scanned' && f.stage !== 'none' && SEVERITY_RANK[f.severity] >= SEVERITY_RANK.medium;
}

/**
 * An address worth sharing: a public one. A private address is the server's own, its load balancer's or an internal
 * client's; imported into a blocklist or EDR it would cut the server off.
 */
const shareableIp = (ip: string): boolean => isIP(ip) !== 0 && !isPrivateIp(ip);

/**
 * A user agent worth sharing: not a legitimate client the shipped lists name (Exchange's own WinRM / probe clients,
 * which an exploit may send too) and more than a bare browser prefix, which every browser sends.
 */
function shareableUa(ua: string, iocs: IocStore): boolean {
  if (iocs.userAgents.get(iisUaKey(ua))?.some((u) => u.scope === 'benign')) return false;
  return !/^Mozilla\/5\.0[+ ]\([^)]*\)$/i.test(ua.trim());
}

/** The SHA-256 of zero bytes: every empty file has it. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function ipIndicator(ip: string): Omit<Seen, 'findings'> {
  const type = isIP(ip) === 6 ? 'ipv6-addr' : 'ipv4-addr';
  return { kind: 'ip', value: ip, name: `Exchange attacker address ${ip}`, pattern: `[${type}:value = ${lit(ip)}]`, indicatorTypes: ['malicious-activity'], description: 'Client address of exploitation requests against Exchange (scanner-only addresses are left out).' };
}

function pathIndicator(path: string): Omit<Seen, 'findings'> {
  const win = serverPath(path) ?? path;
  const cut = Math.max(win.lastIndexOf('\\'), win.lastIndexOf('/'));
  const name = win.slice(cut + 1);
  const dir = cut > 0 ? win.slice(0, cut) : '';
  const pattern = dir ? `[file:name = ${lit(name)} AND file:parent_directory_ref.path = ${lit(dir)}]` : `[file:name = ${lit(name)}]`;
  return { kind: 'path', value: win, name: `Exchange web shell ${win}`, pattern, indicatorTypes: ['malicious-activity'], description: 'Web shell or attacker-written file on an Exchange server.' };
}

/** Every indicator of one host, keyed by kind and value, with the findings that showed it. */
function hostIndicators(host: StixHost, iocs: IocStore): Map<string, Seen> {
  const out = new Map<string, Seen>();
  const add = (base: Omit<Seen, 'findings'>, f: Finding) => {
    const key = `${base.kind}\u0000${base.kind === 'path' ? (fileKey(base.value) ?? base.value) : base.value}`;
    const cur = out.get(key);
    // A shell's own path, not the UNC path a cmdlet wrote it to (\\localhost\c$\…), names it for other servers.
    if (cur && base.kind === 'path' && isUncPath(cur.value) && !isUncPath(base.value)) Object.assign(cur, base);
    if (cur) cur.findings.push(f);
    else if ([...out.values()].filter((s) => s.kind === base.kind).length < MAX_PER_KIND) out.set(key, { ...base, findings: [f] });
  };
  for (const f of host.findings.filter(isAttack)) {
    const ip = normalizeIp(f.client_ip);
    if (ip !== null && shareableIp(ip)) add(ipIndicator(ip), f);
    const ua = evidenceString(f.evidence.user_agent);
    if (ua !== null && ua.trim() !== '' && shareableUa(ua, iocs)) {
      add({ kind: 'user-agent', value: ua, name: `Exchange exploit user agent ${ua.slice(0, 80)}`, pattern: `[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = ${lit(ua)}]`, indicatorTypes: ['malicious-activity'], description: 'User-Agent of exploitation requests against Exchange; common browser strings match legitimate traffic too.' }, f);
    }
  }
  // Web-shell findings graded medium or higher: a low one (a page in no known-good list, an empty file) is a file
  // every server of that build may have.
  for (const f of host.findings.filter((x) => x.kind === 'webshell' && SEVERITY_RANK[x.severity] >= SEVERITY_RANK.medium)) {
    const sha = evidenceString(f.evidence.sha256);
    if (sha !== null && /^[0-9a-f]{64}$/i.test(sha) && sha.toLowerCase() !== EMPTY_SHA256) {
      const hex = sha.toLowerCase();
      add({ kind: 'sha256', value: hex, name: `Exchange web shell SHA-256 ${hex}`, pattern: `[file:hashes.'SHA-256' = ${lit(hex)}]`, indicatorTypes: ['malicious-activity'], description: 'SHA-256 of a web shell found on an Exchange server.' }, f);
    }
    const file = evidenceString(f.evidence.file);
    if (file !== null) add(pathIndicator(file), f);
  }
  return out;
}

function span(findings: Finding[]): { first: string | null; last: string | null } {
  const ms = findings.map((f) => (f.time === null ? NaN : Date.parse(f.time))).filter((t) => !Number.isNaN(t));
  if (!ms.length) return { first: null, last: null };
  return { first: new Date(Math.min(...ms)).toISOString(), last: new Date(Math.max(...ms)).toISOString() };
}

/** The bundle for the whole scan: indicators shared across hosts, one sighting per indicator and host. */
export function stixBundle(report: ScanReport | { tool: ToolInfo; hosts: readonly StixHost[] }): { type: 'bundle'; id: string; objects: StixObject[] } {
  const created = stixTime(report.tool.finished);
  const common = { spec_version: '2.1', created, modified: created };
  const tool: StixObject = { type: 'identity', id: stixId('identity', 'exhunt'), ...common, name: 'exhunt', identity_class: 'system', description: `exhunt ${report.tool.version}` };
  const objects: StixObject[] = [tool];
  const indicators = new Map<string, StixObject>();
  const notes: StixObject[] = [];
  const sightings: StixObject[] = [];
  // Read once per bundle: the shipped lists are parsed on every call.
  const iocs = builtinIocs();
  for (const host of report.hosts) {
    // Named by label when two hosts share a server name: one identity and one sighting id each.
    const name = hostTitle(host);
    const where: StixObject = { type: 'identity', id: stixId('identity', `host:${name}`), ...common, name, identity_class: 'system', description: `Exchange server (exhunt verdict: ${host.verdict})` };
    const seen = hostIndicators(host, iocs);
    if (seen.size) objects.push(where);
    for (const s of seen.values()) {
      const id = stixId('indicator', s.pattern);
      if (!indicators.has(id)) {
        const times = span(s.findings);
        indicators.set(id, {
          type: 'indicator',
          id,
          ...common,
          created_by_ref: tool.id,
          name: s.name,
          description: s.description,
          indicator_types: s.indicatorTypes,
          pattern: s.pattern,
          pattern_type: 'stix',
          pattern_version: '2.1',
          valid_from: times.first ?? created,
          labels: [...new Set(s.findings.flatMap((f) => f.cves))].sort(),
        });
      }
      const times = span(s.findings);
      sightings.push({
        type: 'sighting',
        id: stixId('sighting', `${name}\u0000${id}`),
        ...common,
        created_by_ref: tool.id,
        sighting_of_ref: id,
        where_sighted_refs: [where.id],
        count: s.findings.reduce((n, f) => n + findingWeight(f), 0),
        ...(times.first ? { first_seen: times.first, last_seen: times.last } : {}),
        description: `${name}: ${[...new Set(s.findings.map((f) => f.rule))].sort().join(', ')}`,
      });
    }
    for (const f of host.findings) {
      const password = evidenceString(f.evidence.shell_password);
      const noteId = stixId('note', `${name}\u0000${password}`);
      if (password === null || notes.some((n) => n.id === noteId)) continue;
      const refs = [...seen.values()].filter((s) => s.kind === 'path' || s.kind === 'sha256').map((s) => stixId('indicator', s.pattern));
      notes.push({
        type: 'note',
        id: noteId,
        ...common,
        created_by_ref: tool.id,
        abstract: 'Web shell password',
        content: `${name}: the web shell written by ${f.rule} (${f.title}) takes its commands in the request parameter "${password}".`,
        object_refs: refs.length ? refs : [where.id],
      });
      if (!refs.length && !objects.includes(where)) objects.push(where);
    }
  }
  for (const l of [...indicators.values()]) if (Array.isArray(l.labels) && l.labels.length === 0) delete l.labels;
  return { type: 'bundle', id: `bundle--${uuid5(`bundle:${report.tool.started}:${report.hosts.map((h) => h.name).join('\u0000')}`)}`, objects: [...objects, ...indicators.values(), ...sightings, ...notes] };
}

/** A host reduced to what the bundle reads (attack-stage, web-shell and shell-password findings), to keep while streaming. */
export function stixHost(h: HostResult): StixHost {
  return { name: h.name, ...(h.label !== undefined ? { label: h.label } : {}), verdict: h.verdict, findings: h.findings.filter((f) => isAttack(f) || f.kind === 'webshell' || evidenceString(f.evidence.shell_password) !== null) };
}

export function renderStix(report: ScanReport | { tool: ToolInfo; hosts: readonly StixHost[] }): string {
  return `${JSON.stringify(stixBundle(report), null, 1)}\n`;
}
