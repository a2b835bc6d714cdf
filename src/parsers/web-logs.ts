// IIS logs in IIS's two other formats (IIS Manager > Logging > Format): "IIS" (u_inYYMMDD.log: comma-separated,
// local time) and "NCSA" (u_ncYYMMDD.log: NCSA Common, local time with its offset). A site switched away from W3C
// logs the attack period in them. Their records carry W3C field names (c-ip, cs-method, cs-uri-stem, ...) so the
// IIS rules read them as they read W3C records (rules/ruleset.ts gives those rules these formats).
import type { LogRecord } from '../model.js';
import { zoneToUtc, type ZoneToUtc } from './evtx/csv-time.js';
import { iisCoverageSource } from './iis.js';
import { ParseError, type FormatSkip, type LineParser, type ParserOptions, type TextLogFormat } from './types.js';

export const IIS_NATIVE_ID = 'iis-in';
export const IIS_NCSA_ID = 'iis-nc';
/** NCSA logs elsewhere (Apache, nginx: a reverse proxy in front of Exchange, or another server): read, never web coverage of Exchange. */
export const OTHER_NCSA_ID = 'ncsa';

/**
 * Microsoft's "IIS" log file format (Microsoft Learn, "IIS Log File Format" / HTTP Server API "IIS logging"): fixed,
 * every field followed by a comma, `-` for none: client IP, user name, date (M/D/YY or M/D/YYYY), local time,
 * service and instance, server name, server IP, time taken, client bytes sent, server bytes sent, service status,
 * Windows status, request type, target of operation, parameters.
 */
const NATIVE_FIELDS = ['c-ip', 'cs-username', 'date', 'time', 's-sitename', 's-computername', 's-ip', 'time-taken', 'cs-bytes', 'sc-bytes', 'sc-status', 'sc-win32-status', 'cs-method'] as const;
const IIS_NATIVE_LINE = /^[0-9a-f.:]{2,45}, [^,]{0,256}, \d{1,2}\/\d{1,2}\/\d{2,4}, \d{1,2}:\d{2}:\d{2}, [^,]{1,64}, /i;
const NATIVE_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d\d|\d{4})$/;
const NATIVE_TIME = /^(\d{1,2}):(\d\d):(\d\d)$/;
/** A web site's service (`W3SVC1`); the same format also logs IIS FTP (`MSFTPSVC1`) and SMTP (`SMTPSVC1`). */
const WEB_SERVICE = /^W3SVC\d*$/i;

/**
 * NCSA Common: `host ident user [dd/Mon/yyyy:hh:mm:ss ±hhmm] "METHOD uri PROTOCOL" status bytes`; Apache's and
 * nginx's "combined" adds ` "referer" "user agent"`.
 */
const NCSA_LINE = /^\S+ \S+ \S+ \[\d{1,2}\/[A-Za-z]{3}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "/;
const NCSA_HEAD = /^(\S+) (\S+) (\S+) \[(\d{1,2})\/([A-Za-z]{3})\/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\] "/;
/** After the request: `" status bytes`, then the end or the combined form's quoted fields (sticky search from the request). */
const REQUEST_END = /" (\d{3}) (\d+|-)(?= "|$)/g;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
/** Where IIS writes a site's logs (`W3SVCn` folders), or IIS's NCSA file names (`ncYYMMDD.log`, `u_nc…`). */
const IIS_NCSA_PLACE = /(?:^|\/)W3SVC\d+\/|(?:^|\/)(?:u_)?nc\d{4,8}[^/]*\.log$/i;

function dataLines(head: string, n: number): string[] {
  const out: string[] = [];
  for (const l of head.slice(0, 16384).split('\n', 64)) {
    const line = l.endsWith('\r') ? l.slice(0, -1) : l;
    if (line === '' || line.startsWith('#')) continue;
    out.push(line);
    if (out.length >= n) break;
  }
  return out;
}

const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

function detectNative(head: string): boolean | FormatSkip {
  const lines = dataLines(head, 3);
  if (lines.length === 0 || !lines.every((l) => IIS_NATIVE_LINE.test(l))) return false;
  const service = lines[0].split(',', 5)[4].trim();
  if (!WEB_SERVICE.test(service)) return { reason: `IIS log file format of the ${service} service (not a web site): not read as a web log, and no web-log coverage`, unread: false };
  return true;
}

const isNcsa = (head: string) => {
  const lines = dataLines(head, 3);
  return lines.length > 0 && lines.every((l) => NCSA_LINE.test(l));
};

/** What a converted record's time means, said once per file (first range) in skipped. */
function nativeTimeNote(zone: string | undefined): string {
  return zone === undefined
    ? "read as an IIS log in IIS's own format (comma-separated): its times are the server's local time and no zone was given, so its records and findings have no time (not placed on the timeline, and the file covers no dated period); give --iis-tz with the server's time zone (e.g. Europe/Berlin) and scan again"
    : `read as an IIS log in IIS's own format (comma-separated): times are the server's local time, read as ${zone} (--iis-tz); dates read month/day/year (the format's fixed order)`;
}

/**
 * The server's local wall time to UTC, remembered for the last hour looked up: zone rules change offsets on the hour
 * (or half hour), and a log's lines come in time order, so nearly every record takes the cached offset.
 */
function hourlyUtc(toUtc: ZoneToUtc): (localMs: number) => number {
  let hour = Number.NaN;
  let offset = 0;
  return (ms) => {
    const h = Math.floor(ms / 1_800_000);
    if (h !== hour) {
      hour = h;
      offset = toUtc(h * 1_800_000) - h * 1_800_000;
    }
    return ms + offset;
  };
}

export class IisNativeParser implements LineParser {
  private readonly toUtc: ((ms: number) => number) | null;
  private readonly zone: string | undefined;

  constructor(private readonly rel: string, options: ParserOptions = {}) {
    const z = options.iisZone === undefined ? null : zoneToUtc(options.iisZone);
    this.zone = z === null ? undefined : options.iisZone;
    this.toUtc = z === null ? null : hourlyUtc(z);
  }

  directive(): void {}

  parse(line: string, lineNo: number): LogRecord | null {
    const cells = line.split(',', NATIVE_FIELDS.length);
    if (cells.length < NATIVE_FIELDS.length) throw new ParseError(`not a line of the IIS log file format (${cells.length} comma-separated values, ${NATIVE_FIELDS.length + 2} expected)`);
    // The target and the parameters come after the 13th comma: both may hold commas of their own; the target is
    // cut at the first `, ` (the format's separator; a URL path has no space), the parameters keep the rest.
    let at = 0;
    for (let i = 0; i < NATIVE_FIELDS.length; i++) at = line.indexOf(',', at) + 1;
    let rest = line.slice(at).trim();
    if (rest.endsWith(',')) rest = rest.slice(0, -1).trimEnd();
    const sep = rest.indexOf(', ');
    const cut = sep >= 0 ? sep : rest.indexOf(',');
    const target = cut < 0 ? rest : rest.slice(0, cut).trim();
    const params = cut < 0 ? '' : rest.slice(cut + 1).trim();
    if (!WEB_SERVICE.test(cells[4].trim())) return null;
    const fields: Record<string, string> = {};
    NATIVE_FIELDS.forEach((name, i) => {
      const v = cells[i].trim();
      if (v !== '-' && v !== '') fields[name] = v;
    });
    if (target !== '-' && target !== '') fields['cs-uri-stem'] = target;
    if (params !== '-' && params !== '') fields['cs-uri-query'] = params;
    return { format: IIS_NATIVE_ID, path: this.rel, line: lineNo, time: this.time(cells[2].trim(), cells[3].trim()), fields, raw: line, view: undefined };
  }

  private time(date: string, time: string): string | null {
    if (this.toUtc === null) return null;
    const d = NATIVE_DATE.exec(date);
    const t = NATIVE_TIME.exec(time);
    if (!d || !t) return null;
    const [month, day, y] = [Number(d[1]), Number(d[2]), Number(d[3])];
    const year = d[3].length === 2 ? 2000 + y : y;
    const local = Date.UTC(year, month - 1, day, Number(t[1]), Number(t[2]), Number(t[3]));
    const back = new Date(local);
    if (month > 12 || back.getUTCDate() !== day || Number(t[1]) > 23 || Number(t[2]) > 59 || Number(t[3]) > 59) return null;
    return iso(this.toUtc(local));
  }

  notes(): string[] {
    return [nativeTimeNote(this.zone)];
  }
}

export class NcsaParser implements LineParser {
  constructor(
    private readonly rel: string,
    private readonly format: string,
  ) {}

  directive(): void {}

  parse(line: string, lineNo: number): LogRecord | null {
    const m = NCSA_HEAD.exec(line);
    if (!m) throw new ParseError('not an NCSA Common log line');
    const month = MONTHS.indexOf(m[5].toLowerCase());
    const offset = (m[10] === '-' ? -1 : 1) * (Number(m[11]) * 60 + Number(m[12]));
    const local = Date.UTC(Number(m[6]), month, Number(m[4]), Number(m[7]), Number(m[8]), Number(m[9]));
    const fields: Record<string, string> = {};
    if (m[1] !== '-') fields['c-ip'] = m[1];
    if (m[3] !== '-') fields['cs-username'] = m[3];
    // The request is quoted; it ends at the first `" ` followed by a status and a byte count (a quote inside the
    // request, an attacker's, stays in it). Then, in the combined form, the quoted referer and user agent.
    const open = m[0].length;
    REQUEST_END.lastIndex = open;
    const end = REQUEST_END.exec(line);
    const request = end ? line.slice(open, end.index) : line.slice(open);
    if (end) {
      fields['sc-status'] = end[1];
      if (end[2] !== '-') fields['sc-bytes'] = end[2];
      const tail = line.slice(end.index + end[0].length);
      const ua = tail.lastIndexOf(' "');
      // W3C writes the agent's spaces as `+` (the IIS rules read it so).
      if (ua >= 0 && tail.endsWith('"') && tail.length - ua > 3) fields['cs(User-Agent)'] = tail.slice(ua + 2, -1).replace(/ /g, '+');
      if (tail.startsWith(' "') && ua > 0) fields['cs(Referer)'] = tail.slice(2, ua - 1);
    }
    const sp = request.indexOf(' ');
    const lastSp = request.lastIndexOf(' ');
    const hasProtocol = lastSp > sp && /^HTTP\/\d/i.test(request.slice(lastSp + 1));
    const method = sp < 0 ? request : request.slice(0, sp);
    const uri = sp < 0 ? '' : request.slice(sp + 1, hasProtocol ? lastSp : undefined);
    const q = uri.indexOf('?');
    if (method !== '' && method !== '-') fields['cs-method'] = method;
    if (uri !== '') fields['cs-uri-stem'] = q < 0 ? uri : uri.slice(0, q);
    if (q >= 0 && q + 1 < uri.length) fields['cs-uri-query'] = uri.slice(q + 1);
    if (hasProtocol) fields['cs-version'] = request.slice(lastSp + 1);
    const time = month < 0 ? null : iso(local - offset * 60_000);
    return { format: this.format, path: this.rel, line: lineNo, time, fields, raw: line, view: undefined };
  }
}

/** Coverage source: the site's, with the format named (a site may have switched formats: its rows stay apart). */
const source = (what: string) => (rel: string) => `${iisCoverageSource(rel)} (${what})`;

export const IIS_NATIVE_FORMAT: TextLogFormat = {
  id: IIS_NATIVE_ID,
  detect: detectNative,
  coverageSource: source('IIS log file format'),
  createParser: (rel, options) => new IisNativeParser(rel, options),
};

export const IIS_NCSA_FORMAT: TextLogFormat = {
  id: IIS_NCSA_ID,
  detect: (head, rel) => IIS_NCSA_PLACE.test(rel) && isNcsa(head),
  coverageSource: source('NCSA log format'),
  createParser: (rel) => new NcsaParser(rel, IIS_NCSA_ID),
};

/**
 * An NCSA log outside IIS's folders: Apache's or nginx's (a reverse proxy in front of Exchange, or another server's
 * site). Its requests go through the IIS rules, so an attack in it is found; it is never web coverage of Exchange
 * (whose site it logs is not known), so it cannot make a host clean.
 */
export const OTHER_NCSA_FORMAT: TextLogFormat = {
  id: OTHER_NCSA_ID,
  detect: (head, rel) => !IIS_NCSA_PLACE.test(rel) && isNcsa(head),
  coverageSource: () => 'web access log in NCSA/Apache format (a proxy or another web server: not counted as coverage)',
  createParser: (rel) => new NcsaParser(rel, OTHER_NCSA_ID),
};
