// What a finding means, beside the facts it carries: its evidence lane, the attack stage it shows on its own, and
// the normalised keys (file location, client address) that join findings. Pure functions over the model: rules and
// scanners use them when they make a finding, the engine when it judges a host, reports only to read.
import { isIP } from 'node:net';
import { SEVERITY_RANK, STAGES } from './model.js';
import type { Coverage, EvidenceValue, Finding, Kind, Lane, RawFinding, Severity, Stage } from './model.js';

export const STAGE_RANK: Record<Stage, number> = Object.fromEntries(STAGES.map((s, i) => [s, i])) as Record<Stage, number>;

/** How far one finding, on its own, shows an attacker got. Exposure findings are host context, not attack steps. */
export function findingStage(f: { kind: Kind; severity: Severity }): Stage | null {
  const strong = SEVERITY_RANK[f.severity] >= SEVERITY_RANK.high;
  switch (f.kind) {
    case 'exposure':
      return null;
    // Info is the grade of Exchange's own health probes and listed legitimate clients (rules/finding.ts
    // KNOWN_CLIENT.probe): listed, but no attack traffic; a real scanner is low or higher.
    case 'scan':
      return f.severity === 'info' ? 'none' : 'scanned';
    case 'attempt':
      return 'attempted';
    // A weak exploitation hit (e.g. a POST to a HAFNIUM-looking URL) proves the try, not the success.
    case 'exploitation':
      return strong ? 'exploited' : 'attempted';
    // A weak shell or post-exploitation hit (unknown aspx, archive in ProgramData) is only suspicious.
    case 'webshell':
      return strong ? 'persistence' : 'none';
    case 'post-exploitation':
      return strong ? 'post-exploitation' : 'none';
    case 'ioc':
      return 'none';
  }
}

/**
 * Whether a finding can change a host's verdict (engine/verdict.ts): attack traffic (scans, attempts) whatever its
 * severity, any other attack stage at medium or higher. Low and info indicators (an unknown page not compared, a
 * listed client) are only worth a look; exposure findings have no stage.
 */
export function canChangeVerdict(f: { stage: Stage | null; severity: Severity }): boolean {
  return f.stage !== null && (f.stage === 'scanned' || f.stage === 'attempted' || SEVERITY_RANK[f.severity] >= SEVERITY_RANK.medium);
}

/** Sources that record the requests ProxyLogon / ProxyShell / ProxyNotShell / OWASSRF are seen in. */
export function isWebSource(c: Coverage): boolean {
  if (c.not_exchange) return false;
  return /^(httpproxy|iis)/i.test(c.format) || /httpproxy|iis|w3svc/i.test(c.source);
}

/** The evidence lane of each record format (`LogRecord.format` or a scanner's format id). */
const FORMAT_LANES: Record<string, Lane> = {
  httpproxy: 'HttpProxy',
  'ecp-server': 'ECP',
  'ecp-activity': 'ECP',
  oabgen: 'OABGenerator',
  iis: 'IIS',
  'iis-in': 'IIS',
  'iis-nc': 'IIS',
  'web-csv': 'IIS',
  evtx: 'Event logs',
  'evtx-xml': 'Event logs',
  'evtx-json': 'Event logs',
  'evtx-pwsh-json': 'Event logs',
  'evtxecmd-csv': 'Event logs',
  'evtxecmd-json': 'Event logs',
  file: 'Files',
  'iis-web-config': 'Files',
  'iis-applicationhost': 'Files',
};

/** Lane of the format that parsed the evidence; logs of other formats (Rps cmdlet logs ...) are `Other logs`. */
export function laneOfFormat(format: string): Lane {
  return Object.hasOwn(FORMAT_LANES, format) ? FORMAT_LANES[format] : 'Other logs';
}

/** A finding with its meaning set, the one way findings are made: lane from the parsing format, stage from grade. */
export function withMeaning(f: Omit<RawFinding, 'lane' | 'stage'>, lane: Lane): RawFinding {
  return { ...f, lane, stage: findingStage(f) };
}

/**
 * A comparable "folder/name" key for a web-shell location, whatever form it was written in: a Windows path
 * (`C:\...\FrontEnd\HttpProxy\owa\auth\shell.aspx`, `\\localhost\c$\inetpub\wwwroot\aspnet_client\s.aspx`), an
 * evidence path, a URL path or a full URL. Paths below a web root keep only the part a URL would show, so
 * `C:\inetpub\wwwroot\s.aspx` and `/s.aspx` meet.
 */
/** A UNC path (`\\\\server\\share\\…`, either slash): where a cmdlet wrote a file, not where it is on the disk. */
export const isUncPath = (path: string): boolean => /^[\\/]{2}/.test(path);

export function fileKey(raw: string): string | null {
  let s = raw.trim();
  if (!s) return null;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
    try {
      s = new URL(s).pathname;
    } catch {
      return null;
    }
  }
  s = s.split(/[?#]/)[0];
  if (s.includes('%')) {
    try {
      s = decodeURIComponent(s);
    } catch {
      // A malformed escape is kept as written: the key still compares equal to the same malformed string.
    }
  }
  s = s.replace(/\\/g, '/').toLowerCase();
  const root = /(?:^|\/)(?:inetpub\/wwwroot|frontend\/httpproxy)\//.exec(s);
  if (root) s = s.slice(root.index + root[0].length);
  const parts = s.split('/').filter((x) => x !== '' && x !== '.');
  return parts.length ? parts.slice(-2).join('/') : null;
}

/** A client address as a join key: first address of a list, port and IPv4-mapped prefix removed. */
export function normalizeIp(raw: string | null): string | null {
  if (!raw) return null;
  let s = raw.trim().split(/[,\s]+/)[0].toLowerCase();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1];
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(':'));
  if (s.startsWith('::ffff:') && isIP(s.slice(7)) === 4) s = s.slice(7);
  if (s === '' || s === '-') return null;
  return s;
}

/** Strings in code-unit order (the order `sort()` gives), for comparators that chain several keys. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Strings with their digit runs compared as numbers (CVE-2021-9999 before CVE-2021-26855), as
 * `a.localeCompare(b, 'en', { numeric: true })` orders them. One collator: that call builds a new one each time
 * (~9 ms per host in the build assessment's CVE sort, the largest share of a small host's scan).
 */
export const compareNumeric: (a: string, b: string) => number = new Intl.Collator('en', { numeric: true }).compare;

/** Loopback and unspecified addresses never join findings (every local request would become one incident). */
export function isLoopback(ip: string): boolean {
  return ip === '::1' || ip === '::' || ip === '0.0.0.0' || ip.startsWith('127.') || ip === 'localhost';
}

/** RFC 1918, loopback, link-local, CGNAT and IPv6 local ranges. */
export function isPrivateIp(ip: string): boolean {
  const mapped = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.exec(ip);
  if (mapped) return isPrivateIp(mapped[1]);
  if (ip.includes(':')) return /^(::1$|fe80:|fc|fd)/i.test(ip);
  const [a, b] = ip.split('.').map(Number);
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
}

export function evidenceString(v: EvidenceValue | undefined): string | null {
  if (typeof v === 'string') return v.trim() === '' ? null : v;
  if (typeof v === 'number') return String(v);
  return null;
}

export function evidenceStatus(f: Pick<Finding, 'evidence'>): number | null {
  const s = evidenceString(f.evidence.status);
  return s !== null && /^\d{3}$/.test(s) ? Number(s) : null;
}

/** `2021-03-03 08:12:01Z` from an ISO time: readable, still UTC. */
/** A size as people read it: `12.4 GB`, `3.1 MB`. */
export function byteSize(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : `${(n / 1e6).toFixed(1)} MB`;
}

export function shortTime(t: string | null): string {
  return t === null ? '—' : t.replace('T', ' ').replace(/(\.\d+)?Z$/, 'Z');
}

/**
 * The findings' valid times, from logs when there are any: a file's time is its modification time, which a copy
 * without preserved times turns into the day of collection.
 */
export function preferLogTimes(findings: readonly Finding[]): string[] {
  const dated = findings.filter((f) => f.time !== null && !Number.isNaN(Date.parse(f.time)));
  const logged = dated.filter((f) => f.lane !== 'Files');
  return (logged.length ? logged : dated).map((f) => f.time as string);
}

export const DAY_MS = 86_400_000;
/** Logs roll daily: a source whose first record is within a day after a window opens still covers it. */
export const START_SLACK_MS = DAY_MS;
/** A source that stops more than this before a window closes leaves its end unseen. */
export const END_SLACK_MS = 2 * DAY_MS;

/** The UTC day of a time in milliseconds, `YYYY-MM-DD`. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
