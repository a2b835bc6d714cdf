// Public IOC lists (shipped under data/iocs/, each row citing its source) plus the user's own (--ioc FILE:
// CSV `type,value[,comment]` or a STIX 2.1 bundle), loaded into one IocStore per scan and passed to the rules
// in their RuleContext (workers load their own from the same options).
import { packageText } from '../packaged.js';
import type { LogRecord } from '../model.js';
import { parseCsv } from '../parsers/csv.js';
import { REF } from './references.js';
import type { RecordRule, RuleHit } from './types.js';

export interface IocSource {
  source: string;
  note: string;
}
export interface IpIoc extends IocSource {
  /** Inclusive ISO day/time bounds; null = unbounded (user IOCs without validity). */
  from: string | null;
  until: string | null;
}
/** `scope` says where a UA counts: `POST <prefix>|<prefix>`, `scanner`, `benign`, `context` (no finding alone), `any`. */
export interface UaIoc extends IocSource {
  scope: string;
}
export interface PathRegexIoc extends IocSource {
  re: RegExp;
}

export interface IocStore {
  /** sha256 (lower hex) -> sources. */
  hashes: Map<string, IocSource>;
  ips: Map<string, IpIoc[]>;
  /** IIS form (spaces as `+`), lower case. */
  userAgents: Map<string, UaIoc[]>;
  /** File names (lower case). `genuine` rows are Exchange's own files: never flag by name alone. */
  fileNames: Map<string, IocSource & { genuine: boolean }>;
  /**
   * Full Windows paths (lower case, `\` separators) by their file name, in the order given: `tail` is the path
   * without its drive letter (matched against evidence paths). By name because the sweep asks for every file.
   */
  paths: Map<string, Array<PathIoc>>;
  /** URL paths as requested (lower case). */
  urlPaths: Map<string, IocSource>;
  pathRegexes: PathRegexIoc[];
  /** Non-web-shell artefacts (data/iocs/file_artefacts.csv rows). */
  artefacts: Artefact[];
}

export interface PathIoc extends IocSource {
  path: string;
  tail: string;
}

/** A file_artefacts.csv row, normalised once at load: `lower` (a path without its drive) and a compiled regex. */
export interface Artefact {
  kind: string;
  value: string;
  what: string;
  source: string;
  lower: string;
  re: RegExp | null;
}

function artefact(r: Record<string, string>): Artefact {
  const lower = r.value.toLowerCase();
  let re: RegExp | null = null;
  // Compiled-page names (App_Web_*) are matched by the sweep's own WS-09 check, not as a path pattern.
  if (r.kind === 'regex' && !r.value.startsWith('App_Web')) {
    try {
      re = new RegExp(r.value, 'i');
    } catch {
      re = null;
    }
  }
  return { kind: r.kind, value: r.value, what: r.what, source: r.source, lower: r.kind === 'path' ? lower.replace(/^c:\\/, '') : lower, re };
}

export class IocFileError extends Error {
  override name = 'IocFileError';
}


/** Rows of a CSV with a header, as objects. */
function csvObjects(text: string): Array<Record<string, string>> {
  const [header, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}

function emptyStore(): IocStore {
  return {
    hashes: new Map(), ips: new Map(), userAgents: new Map(), fileNames: new Map(), paths: new Map(),
    urlPaths: new Map(), pathRegexes: [], artefacts: [],
  };
}

function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/** IIS writes spaces in the user agent as `+`; the IOC key is that form, lower case. */
export function iisUaKey(ua: string): string {
  return ua.replace(/ /g, '+').toLowerCase();
}

function loadBuiltins(): IocStore {
  const st = emptyStore();
  const read = (f: string) => csvObjects(packageText(`data/iocs/${f}`));
  for (const r of read('hashes.csv')) st.hashes.set(r.sha256.toLowerCase(), { source: r.source, note: r.family });
  for (const r of read('ips.csv'))
    pushTo(st.ips, r.ip, { source: r.source, note: r.role, from: r.window_start || null, until: r.window_end || null });
  for (const r of read('user_agents.csv'))
    pushTo(st.userAgents, iisUaKey(r.user_agent), { source: r.source, note: r.context, scope: r.scope });
  for (const r of read('webshell_files.csv')) addFileIoc(st, r.kind, r.value, { source: r.source, note: r.caveat || r.campaign });
  st.artefacts = read('file_artefacts.csv').map(artefact);
  return st;
}

function addFileIoc(st: IocStore, kind: string, value: string, src: IocSource): void {
  switch (kind) {
    case 'filename':
      st.fileNames.set(value.toLowerCase(), { ...src, genuine: /GENUINE/.test(src.note) });
      break;
    case 'path': {
      const path = value.toLowerCase().replace(/\//g, '\\');
      const name = path.slice(path.lastIndexOf('\\') + 1);
      const same = st.paths.get(name) ?? [];
      st.paths.set(name, [...same.filter((e) => e.path !== path), { ...src, path, tail: path.replace(/^[a-z]:\\/, '') }]);
      break;
    }
    case 'url_path':
      st.urlPaths.set(value.toLowerCase(), src);
      break;
    case 'path_regex':
      st.pathRegexes.push({ ...src, re: new RegExp(value, 'i') });
      break;
    default: // `directory` rows describe drop zones; the sweep's zone rules implement them.
  }
}

const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** Adds one user indicator; returns a complaint when the value is not usable. */
function addUserIoc(st: IocStore, type: string, value: string, src: IocSource, from: string | null = null, until: string | null = null): string | null {
  const v = value.trim();
  switch (type.trim().toLowerCase()) {
    case 'sha256':
    case 'hash':
      if (!SHA256.test(v.toLowerCase())) return `not a SHA-256: ${v.slice(0, 80)}`;
      st.hashes.set(v.toLowerCase(), src);
      return null;
    case 'ip':
    case 'ipv4':
    case 'ipv6':
      if (!IPV4.test(v) && !v.includes(':')) return `not an IP address: ${v.slice(0, 80)}`;
      pushTo(st.ips, v.toLowerCase(), { ...src, from, until });
      return null;
    case 'ua':
    case 'user_agent':
    case 'user-agent':
      pushTo(st.userAgents, iisUaKey(v), { ...src, scope: 'any' });
      return null;
    case 'filename':
    case 'name':
      addFileIoc(st, 'filename', v, src);
      return null;
    case 'path':
      addFileIoc(st, 'path', v, src);
      return null;
    case 'url':
    case 'url_path':
      addFileIoc(st, 'url_path', urlPath(v), src);
      return null;
    default:
      return `unknown IOC type "${type.slice(0, 40)}"`;
  }
}

/** `https://host/owa/auth/x.aspx?a=b` -> `/owa/auth/x.aspx`; a bare path is kept. */
function urlPath(v: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/[^?#]*)?/i.exec(v);
  return m ? m[1] || '/' : v.split(/[?#]/)[0];
}

/** CSV `type,value[,comment]`, optional header row, `#` comment lines. */
function parseUserCsv(st: IocStore, text: string, file: string): string[] {
  const notes: string[] = [];
  parseCsv(text).forEach((r, i) => {
    if (r[0].startsWith('#') || (i === 0 && r[0].trim().toLowerCase() === 'type')) return;
    if (r.length < 2) return void notes.push(`${file}:${i + 1}: expected type,value[,comment]`);
    const err = addUserIoc(st, r[0], r[1], { source: `user IOC file ${file}`, note: r[2] ?? '' });
    if (err) notes.push(`${file}:${i + 1}: ${err}`);
  });
  return notes;
}

// No leading `\[?\s*`: before the keyword it only made a run of spaces quadratic; the term starts at the keyword.
const STIX_TERM = /(file:hashes\.(?:'SHA-256'|"SHA-256"|SHA256|'SHA256')|ipv4-addr:value|ipv6-addr:value|url:value|file:name)\s*=\s*'((?:[^'\\]|\\.)*)'/g;
const MAX_STIX_PATTERN = 4096;
const STIX_TYPE: Record<string, string> = { 'ipv4-addr:value': 'ip', 'ipv6-addr:value': 'ip', 'url:value': 'url', 'file:name': 'filename' };

/** STIX 2.1 bundle: `indicator` objects whose pattern is one or more simple equality terms (OR'ed). */
function parseStixBundle(st: IocStore, text: string, file: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new IocFileError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const objects = (doc as { objects?: unknown }).objects;
  if (!Array.isArray(objects)) throw new IocFileError(`${file}: not a STIX bundle (no "objects" array)`);
  const notes: string[] = [];
  for (const o of objects as Array<Record<string, unknown>>) {
    if (o?.type !== 'indicator' || typeof o.pattern !== 'string') continue;
    if (o.pattern_type !== undefined && o.pattern_type !== 'stix') {
      notes.push(`${file}: indicator ${String(o.id)}: pattern_type ${String(o.pattern_type)} not supported`);
      continue;
    }
    const name = typeof o.name === 'string' ? o.name : String(o.id ?? '');
    const src = { source: `user STIX bundle ${file}`, note: name };
    const from = typeof o.valid_from === 'string' ? o.valid_from : null;
    const until = typeof o.valid_until === 'string' ? o.valid_until : null;
    // Real patterns are a few hundred characters: a longer one is skipped with a note, bounding work per indicator.
    if (o.pattern.length > MAX_STIX_PATTERN) {
      notes.push(`${file}: indicator ${String(o.id)}: pattern longer than ${MAX_STIX_PATTERN} characters, skipped`);
      continue;
    }
    let terms = 0;
    for (const m of o.pattern.matchAll(STIX_TERM)) {
      terms++;
      const type = m[1].startsWith('file:hashes') ? 'sha256' : STIX_TYPE[m[1]];
      const err = addUserIoc(st, type, m[2].replace(/\\(.)/g, '$1'), src, from, until);
      if (err) notes.push(`${file}: indicator ${String(o.id)}: ${err}`);
    }
    if (terms === 0) notes.push(`${file}: indicator ${String(o.id)}: pattern not understood: ${o.pattern.slice(0, 120)}`);
  }
  return notes;
}

function mergeInto(base: IocStore): IocStore {
  const st = emptyStore();
  for (const [k, v] of base.hashes) st.hashes.set(k, v);
  for (const [k, v] of base.ips) st.ips.set(k, [...v]);
  for (const [k, v] of base.userAgents) st.userAgents.set(k, [...v]);
  for (const [k, v] of base.fileNames) st.fileNames.set(k, v);
  for (const [k, v] of base.paths) st.paths.set(k, [...v]);
  for (const [k, v] of base.urlPaths) st.urlPaths.set(k, v);
  st.pathRegexes = [...base.pathRegexes];
  st.artefacts = [...base.artefacts];
  return st;
}

/** The shipped IOC lists (data/iocs/). */
export function builtinIocs(): IocStore {
  return loadBuiltins();
}

/**
 * The shipped lists plus the user's IOC files (--ioc; read by engine/registry.ts `loadIocs`), as one store for
 * this scan. Returns notes about indicators that could not be used; throws IocFileError for a file that cannot be
 * parsed at all.
 */
export function parseIocFiles(files: ReadonlyArray<{ name: string; text: string }>, base: IocStore = builtinIocs()): { iocs: IocStore; notes: string[] } {
  if (files.length === 0) return { iocs: base, notes: [] };
  const st = mergeInto(base);
  const notes: string[] = [];
  for (const { name, text } of files) {
    const t = text.replace(/^\uFEFF/, '').trimStart();
    notes.push(...(t.startsWith('{') ? parseStixBundle(st, t, name) : parseUserCsv(st, t, name)));
  }
  return { iocs: st, notes };
}

// ---- record rules over IOC values ------------------------------------------------------------------------

const IP_FIELDS = ['c-ip', 'ClientIpAddress', 'ClientIPAddress'] as const;

/** The client address, lower case; an IPv4-mapped IPv6 form (`::ffff:1.2.3.4`) as its IPv4 address. */
function recordIp(rec: LogRecord): string | null {
  for (const f of IP_FIELDS) {
    const v = rec.fields[f];
    if (v) return v.toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  }
  return null;
}

function inWindow(ioc: IpIoc, time: string | null): boolean {
  if (!ioc.from && !ioc.until) return true;
  if (!time) return false; // a dated IOC cannot be matched on an undated record
  // ISO strings compare in time order; a date-only bound covers its whole day.
  if (ioc.from && time < ioc.from) return false;
  return !ioc.until || time.slice(0, ioc.until.length) <= ioc.until;
}

/**
 * PL-15: client IP on the public attacker lists, only inside the IOC's window (2021 VPS addresses get reused). Code:
 * the lists are loaded per scan (--ioc adds to them) and each address has its own date window.
 */
export const IOC_IP_RULE: RecordRule = {
  id: 'PL-15',
  title: 'Client IP on a public Exchange-exploitation IOC list',
  cves: ['CVE-2021-26855'],
  severity: 'medium',
  kind: 'ioc',
  references: [
    REF.volexity,
    'cisagov/CHIRP indicators/AA21062A.yaml',
    'SCS-Labs/HAFNIUM-Microsoft-Exchange-0day indicators/ip-addresses',
    'helsecert/2021-march-exchange README.md',
  ],
  description: 'A request came from an address published as an attacker source, inside the dates it was used; context, not proof.',
  formats: ['iis', 'httpproxy'],
  needles: [],
  iocNeedles: (st) => [...st.ips.keys()],
  match(rec, ctx) {
    let ip = recordIp(rec);
    const st = ctx.iocs;
    if (!ip || !st.ips.has(ip)) {
      // A malformed IIS line may have lost its c-ip column: look for the address as a whole token.
      if (!rec.raw) return null;
      ip = rec.raw.split(' ').find((t) => st.ips.has(t.toLowerCase()))?.toLowerCase() ?? null;
      if (!ip) return null;
    }
    const hits = (st.ips.get(ip) ?? []).filter((i) => inWindow(i, rec.time));
    if (hits.length === 0) return null;
    return {
      summary: `request from ${ip}: ${hits[0].note}`,
      evidence: { ip, ioc_sources: hits.map((h) => h.source), ioc_window: hits.map((h) => `${h.from ?? '*'}..${h.until ?? '*'}`) },
      client_ip: ip,
    } satisfies RuleHit;
  },
};

/** Does a UA IOC's scope fit this request? `POST a|b` = POST whose URL path starts with one of the prefixes. */
export function uaScopeFits(scope: string, method: string, pathLower: string): boolean {
  if (scope === 'any') return true;
  if (!scope.startsWith('POST ')) return false;
  return method === 'POST' && scope.slice(5).split('|').some((p) => pathLower.startsWith(p));
}
