// IIS W3C extended logs (u_exYYMMDD.log). Fields are mapped by each `#Fields` directive (the layout is
// configurable and can change mid-file); header-less extracts fall back to Exchange's default field list.
import type { LogRecord } from '../model.js';
import { withoutLeadingNuls } from './text-encoding.js';
import type { FormatSkip, LineParser, TextLogFormat } from './types.js';

/** Exchange's default IIS field selection for both sites (used when a file has no `#Fields`). */
const IIS_DEFAULT_FIELDS = [
  'date', 'time', 's-ip', 'cs-method', 'cs-uri-stem', 'cs-uri-query', 's-port', 'cs-username', 'c-ip',
  'cs(User-Agent)', 'cs(Referer)', 'sc-status', 'sc-substatus', 'sc-win32-status', 'time-taken',
] as const;

/** Set on a record whose token count does not match its `#Fields`; only leading fields are trusted then. */
export const MALFORMED_FIELD = 'x-exhunt-malformed';

const W3C_SIGNATURE = /^#(Software: Microsoft Internet Information Services|Fields: .*\b(cs-uri-stem|c-ip|cs-method)\b)/m;
const HEADERLESS_LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+ [A-Z][A-Z_-]{1,19} \/\S*/;

function firstDataLines(head: string, n: number): string[] {
  const out: string[] = [];
  // Directives and three records fit in the first 16 KB; every file's head passes through here, so its lines are
  // cut one at a time (as split(/\r?\n/) would) instead of all 16 KB of them.
  const text = head.slice(0, 16384);
  for (let at = 0; ; ) {
    const nl = text.indexOf('\n', at);
    const line = text.slice(at, nl < 0 ? text.length : nl > at && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
    if (line !== '' && !line.startsWith('#')) {
      out.push(line);
      if (out.length >= n) break;
    }
    if (nl < 0) break;
    at = nl + 1;
  }
  return out;
}

/** `W3SVC1`, `W3SVC2` ... from the path, else plain `IIS`. */
export function iisCoverageSource(rel: string): string {
  const m = /(?:^|[\\/])(W3SVC\d+)(?:[\\/]|$)/i.exec(rel);
  return m ? `IIS ${m[1].toUpperCase()}` : 'IIS';
}

/**
 * W3C logs that are not web-site logs: HTTP.sys's error log (`System32\LogFiles\HTTPERR`, on every Windows server,
 * often years of it) and IIS FTP sites. Neither records a served web request, so neither may count as web-log
 * coverage: years of HTTPERR lines alone made a server with no IIS logs `clean`.
 */
const NOT_WEB_W3C: ReadonlyArray<{ test: (head: string) => boolean; skip: FormatSkip }> = [
  {
    test: (h) => h.startsWith('#Software: Microsoft HTTP API') || h.includes('\n#Software: Microsoft HTTP API'),
    skip: {
      reason: 'HTTP.sys error log (HTTPERR: requests rejected before they reached IIS, never a served request): not read as a web log, and no web-log coverage',
      unread: false,
    },
  },
  {
    test: (h) => h.includes('#Fields:') && (h.includes(' x-session') || h.includes(' x-fullpath')) && /^#Fields: [^\n]*\bx-(?:session|fullpath)\b/m.test(h),
    skip: { reason: 'IIS FTP site log (x-session / x-fullpath fields): not read as a web log, and no web-log coverage', unread: false },
  },
];

/**
 * IIS central binary logging (IIS Manager > Logging > One log file per: Server, Format: Binary) writes every site's
 * requests to `LogFiles\W3SVC\raYYMMDD.ibl` in a proprietary binary format (Microsoft Learn, centralBinaryLogFile):
 * the only web logs of such a server, unread, must be named, never swept as a plain file in silence.
 */
export function iisBinaryLog(rel: string): string | null {
  return /\.ibl$/i.test(rel)
    ? 'IIS central binary log (.ibl, by its name): not read; convert it to W3C text with Microsoft Log Parser 2.2 (LogParser "SELECT * INTO OUT.log FROM FILE.ibl" -i:BIN -o:W3C) and scan that'
    : null;
}

export function detectIis(head: string, _rel: string): boolean | FormatSkip {
  for (const w of NOT_WEB_W3C) if (w.test(head)) return w.skip;
  if ((head.includes('#Software: Microsoft Internet') || head.includes('#Fields:')) && W3C_SIGNATURE.test(head)) return true;
  const lines = firstDataLines(head, 3);
  if (lines.length === 0) return false;
  if (HEADERLESS_LINE.test(lines[0])) return true;
  return false;
}

/** `date` + `time` (UTC in W3C logs) to ISO, or null when they do not have the W3C shape. */
function w3cTime(date: string | undefined, time: string | undefined): string | null {
  if (!date || !time || date.length !== 10 || date[4] !== '-' || date[7] !== '-') return null;
  if (time.length < 8 || time[2] !== ':' || time[5] !== ':') return null;
  return `${date}T${time.slice(0, 8)}Z`;
}

/** The `/owa/auth/<build>/` folder a request names (OWA's static resources), e.g. `15.1.2176`. */
export function owaAuthBuild(stem: string): string | null {
  if (stem.length < 16 || !/^\/owa\/auth\/1\d\./i.test(stem)) return null;
  const end = stem.indexOf('/', 10);
  const seg = stem.slice(10, end < 0 ? undefined : end);
  return /^1[45]\.\d{1,2}\.\d{1,4}(\.\d{1,4})?$/.test(seg) ? seg : null;
}

/** Parser state for one file: the current field layout. */
export class IisLineParser implements LineParser {
  private names: readonly string[] = IIS_DEFAULT_FIELDS;
  private dateIdx = 0;
  private timeIdx = 1;
  private stemIdx = 4;
  private readonly builds = new Map<string, number>();
  /**
   * `/owa/auth/<build>/` of the last build noted: a stem that starts with it holds that build, already noted. A busy
   * front end logs one static OWA resource after another under it (~1 line in 20): no regex, slice, map per line.
   */
  private buildPrefix: string | null = null;
  /** A `#Fields` of this file lacked cs-uri-query (sticky: any such block hides queries from the file's coverage). */
  private noQuery = false;

  constructor(private readonly rel: string) {}

  directive(line: string): void {
    if (!line.startsWith('#Fields:')) return;
    const names = line.slice(8).trim().split(/\s+/).filter(Boolean);
    if (names.length === 0) return;
    this.names = names;
    this.dateIdx = names.indexOf('date');
    this.timeIdx = names.indexOf('time');
    this.stemIdx = names.indexOf('cs-uri-stem');
    if (!names.includes('cs-uri-query')) this.noQuery = true;
  }

  queryUnlogged(): boolean {
    return this.noQuery;
  }

  parse(logged: string, lineNo: number): LogRecord | null {
    const line = withoutLeadingNuls(logged);
    if (line.length === 0 || line.charCodeAt(0) === 45 /* '-' */) return null; // blank, or `-----` separators in extracts
    if (line !== logged && line.charCodeAt(0) === 35 /* # */) {
      this.directive(line); // the header a restart wrote right after a crash's padding
      return null;
    }
    const tokens = line.split(' ');
    const names = this.names;
    const fields: Record<string, string> = {};
    const malformed = tokens.length !== names.length;
    // On a malformed line values after the first free-text field may be shifted: keep only the leading fields
    // up to the URI stem; rules fall back to the raw line for the rest.
    const n = malformed ? Math.min(tokens.length, this.stemIdx + 1) : names.length;
    for (let i = 0; i < n; i++) {
      const v = tokens[i];
      if (v !== '-') fields[names[i]] = v;
    }
    if (malformed) fields[MALFORMED_FIELD] = `${tokens.length} values for ${names.length} fields`;
    const stem = fields['cs-uri-stem'];
    if (stem !== undefined) this.noteBuild(stem, lineNo);
    return {
      format: 'iis',
      path: this.rel,
      line: lineNo,
      time: w3cTime(tokens[this.dateIdx], tokens[this.timeIdx]),
      fields,
      raw: line,
      // Set by the IIS rules (LogRecord.view); declared here so every record keeps one shape.
      view: undefined,
    };
  }

  observe(line: string, lineNo: number): void {
    // Every OWA static-resource line comes here: find the stem without splitting the line.
    if (this.stemIdx < 0) return;
    let from = 0;
    for (let k = 0; k < this.stemIdx; k++) {
      from = line.indexOf(' ', from) + 1;
      if (from === 0) return;
    }
    const to = line.indexOf(' ', from);
    this.noteBuild(line.slice(from, to < 0 ? line.length : to), lineNo);
  }

  /** observe reads the stem alone: the text scanner hands over just that field (no decode of the whole line). */
  readonly observedField = 'cs-uri-stem';

  observeField(stem: string, lineNo: number): void {
    this.noteBuild(stem, lineNo);
  }

  fieldNames(): readonly string[] {
    return this.names;
  }

  facts(): Array<{ kind: 'build'; value: string; origin: string; line: number }> {
    return [...this.builds].map(([value, line]) => ({ kind: 'build', value, origin: 'IIS /owa/auth/<build>/ path', line }));
  }

  private noteBuild(stem: string, lineNo: number): void {
    if (stem.charCodeAt(1) !== 111 && stem.charCodeAt(1) !== 79) return; // cheap: not `/o...`
    if (this.buildPrefix !== null && stem.startsWith(this.buildPrefix)) return;
    const b = owaAuthBuild(stem);
    if (b === null) return;
    if (!this.builds.has(b)) this.builds.set(b, lineNo);
    // owaAuthBuild reads the segment between `/owa/auth/` (10 characters) and the next `/`.
    if (stem.length > 10 + b.length && stem.charCodeAt(10 + b.length) === 47) this.buildPrefix = stem.slice(0, 11 + b.length);
  }
}

export const iisFormat: TextLogFormat = {
  id: 'iis',
  detect: detectIis,
  coverageSource: iisCoverageSource,
  createParser: (rel) => new IisLineParser(rel),
  factNeedles: ['/owa/auth/1'],
  fieldSeparator: 32,
};

/**
 * Decodes `%XX` escapes; invalid or partial escapes are kept as written (attacker input must not throw).
 * `+` is left alone: IIS writes spaces in the user agent as `+`, and `+` in a query may be literal.
 */
export function percentDecode(s: string): string {
  if (s.indexOf('%') < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/** IIS user-agent text as sent: `+` was written for each space. */
export function iisUserAgent(ua: string | undefined): string {
  return ua ? ua.replace(/\+/g, ' ') : '';
}
