// IIS logs in IIS's two other formats (IIS Manager > Logging > Format): "IIS" (u_inYYMMDD.log: comma-separated,
// local time) and "NCSA" (u_ncYYMMDD.log: NCSA Common, local time with its offset). A site switched away from W3C
// logs the attack period in them. Their records carry W3C field names (c-ip, cs-method, cs-uri-stem, ...) so the
// IIS rules read them as they read W3C records (rules/ruleset.ts gives those rules these formats).
import type { LogRecord } from '../model.js';
import { zoneToUtc, type ZoneToUtc } from './evtx/csv-time.js';
import { iisCoverageSource } from './iis.js';
import { isoTime, splitCsvLine } from './csv.js';
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

// ---- IIS records exported as CSV --------------------------------------------------------------------------------

/**
 * IIS log records exported as CSV with a header row of W3C field names: Log Parser (`-o:CSV`: LogFilename, LogRow,
 * then the fields), a spreadsheet (Excel writes `;` in many locales), a SIEM (Splunk `cs_uri_stem`, Sentinel
 * W3CIISLog `csUriStem`). An export may hold only a query's results (a SIEM search, rows filtered in a sheet): its
 * findings stand, but it is never web coverage (its id and source say nothing of IIS, see exposure-windows.ts).
 */
export const IIS_CSV_ID = 'web-csv';

const letters = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');
/** W3C field names by their letters alone: `cs-uri-stem`, `cs_uri_stem`, `csUriStem` are one field. */
const W3C_BY_LETTERS = new Map(
  ['date', 'time', 's-sitename', 's-computername', 's-ip', 'cs-method', 'cs-uri-stem', 'cs-uri-query', 's-port', 'cs-username', 'c-ip', 'cs-version', 'cs(User-Agent)', 'cs(Cookie)', 'cs(Referer)', 'cs-host', 'sc-status', 'sc-substatus', 'sc-win32-status', 'sc-bytes', 'cs-bytes', 'time-taken'].map((n) => [letters(n), n]),
);
/** A one-column time stamp (Sentinel TimeGenerated, Splunk _time, …): used when it carries its zone, or says UTC. */
const STAMP_COLUMNS = new Set(['timegenerated', 'timestamp', 'time', 'datetime', 'eventtime']);
const CSV_SEPARATORS = [',', ';', '\t'];
const W3C_DATE = /^(\d{4}-\d\d-\d\d)/;
const W3C_TIME = /(\d\d:\d\d:\d\d)(?:\.\d{1,7})?$/;
const ZONED = /(?:Z|[+-]\d\d:?\d\d)$/;

interface CsvLayout {
  sep: string;
  names: Array<string | null>;
  date: number;
  time: number;
  /** A one-column time stamp, and whether its header says UTC. */
  stamp: number;
  stampUtc: boolean;
}

/** The layout a header row gives, or null when it is not one of IIS fields (a URI stem and a client IP at least). */
function csvLayout(header: string): CsvLayout | null {
  const h = header.charCodeAt(0) === 0xfeff ? header.slice(1) : header;
  const sep = CSV_SEPARATORS.reduce((best, c) => (h.split(c).length > h.split(best).length ? c : best));
  const cells = splitCsvLine(h, sep).map((c) => c.trim());
  const names = cells.map((c) => W3C_BY_LETTERS.get(letters(c)) ?? null);
  if (!names.includes('cs-uri-stem') || !names.includes('c-ip')) return null;
  // A bare `time` column beside `date` is W3C's time of day; alone, it may be a whole stamp.
  const stamp = cells.findIndex((c) => STAMP_COLUMNS.has(letters(c).replace(/utc$/, '')) && (letters(c) !== 'time' || !names.includes('date')));
  return { sep, names, date: names.indexOf('date'), time: names.indexOf('time'), stamp, stampUtc: stamp >= 0 && /utc/i.test(cells[stamp]) };
}

/** A header row is a line of names: longer, it is not one. */
const MAX_HEADER = 4096;
/** Every spelling of the URI stem's name has these letters (cs-uri-stem, cs_uri_stem, csUriStem): tried before a split. */
const HEADER_HINT = /uri.?stem/i;

/** The first line that is not blank or a `#` comment, if it is short enough to be a header row. */
function firstLine(head: string): string | null {
  for (let at = 0, n = 0; at < head.length && n < 16; n++) {
    const nl = head.indexOf('\n', at);
    const end = nl < 0 ? head.length : nl;
    if (end - at > MAX_HEADER) return null;
    const line = head.slice(at, head.charCodeAt(end - 1) === 13 ? end - 1 : end);
    if (line.trim() !== '' && !line.startsWith('#')) return line;
    at = end + 1;
  }
  return null;
}

export class IisCsvParser implements LineParser {
  private layout: CsvLayout | null = null;
  private header = '';
  private untimed = 0;

  constructor(private readonly rel: string) {}

  /** The header row, handed over by a later byte range (TextLogFormat.headerLine). */
  directive(line: string): void {
    if (this.layout === null && !line.startsWith('#')) this.setHeader(line);
  }

  parse(line: string, lineNo: number): LogRecord | null {
    if (this.layout === null) {
      if (!this.setHeader(line)) throw new ParseError('IIS records as CSV: no header row of W3C field names before this line');
      return null;
    }
    if (line === this.header) return null; // exports pasted together repeat their header
    const L = this.layout;
    const cells = splitCsvLine(line, L.sep);
    const fields: Record<string, string> = {};
    L.names.forEach((name, i) => {
      const v = cells[i]?.trim();
      if (name !== null && v !== undefined && v !== '' && v !== '-') fields[name] = v;
    });
    const time = this.time(cells);
    if (time === null) this.untimed++;
    return { format: IIS_CSV_ID, path: this.rel, line: lineNo, time, fields, raw: line, view: undefined };
  }

  private setHeader(line: string): boolean {
    this.layout = csvLayout(line);
    this.header = line;
    return this.layout !== null;
  }

  /** W3C's date and time (UTC, as the log wrote them), else a one-column stamp with its zone (or a header saying UTC). */
  private time(cells: string[]): string | null {
    const L = this.layout!;
    const d = L.date >= 0 ? W3C_DATE.exec(cells[L.date]?.trim() ?? '') : null;
    const t = L.time >= 0 ? W3C_TIME.exec(cells[L.time]?.trim() ?? '') : null;
    if (d && t) return `${d[1]}T${t[1]}Z`;
    const stamp = L.stamp >= 0 ? cells[L.stamp]?.trim() ?? '' : '';
    return stamp !== '' && (L.stampUtc || ZONED.test(stamp)) ? isoTime(stamp) : null;
  }

  notes(): string[] {
    const what = 'read as IIS records exported as CSV (columns by their W3C field names): an export may hold only a search\'s results, so it is not counted as web coverage; scan the original u_ex*.log files (inetpub\\logs\\LogFiles) for that';
    return this.untimed === 0 ? [what] : [`${what}; ${this.untimed} record(s) without a time read (no date and time in W3C form, YYYY-MM-DD and hh:mm:ss, nor a time stamp with its zone): not placed on the timeline`];
  }
}

export const IIS_CSV_FORMAT: TextLogFormat = {
  id: IIS_CSV_ID,
  detect: (head) => {
    const line = firstLine(head);
    return line !== null && HEADER_HINT.test(line) && csvLayout(line) !== null;
  },
  coverageSource: () => 'web requests exported as CSV (an export may be filtered: not counted as coverage)',
  createParser: (rel) => new IisCsvParser(rel),
  headerLine: firstLine,
};
