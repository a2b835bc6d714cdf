// Exchange's own CSV logs (HttpProxy, ECP Server/Activity, Rps Cmdlet ...) and the line-oriented OABGeneratorLog.
import type { LogRecord } from '../model.js';
import { isoTime, splitCsvLine } from './csv.js';
import { parseEventData } from './ecp.js';
import { withoutLeadingNuls } from './text-encoding.js';
import { ParseError, type LineParser, type TextLogFormat } from './types.js';

const LOG_TYPES: Record<string, string> = {
  'httpproxy logs': 'httpproxy',
  'ecp server log': 'ecp-server',
  'ecp activity context log': 'ecp-activity',
  'rps cmdlet logs': 'rps-cmdlet',
  // By analogy with `Rps Cmdlet Logs` (unconfirmed: no published file shows the directive); columns and name also decide.
  'rps http logs': 'rps-http',
};

/** Column layouts used when a file has a `#Log-type` but lost its `#Fields` line (excerpts, hand copies). */
const DEFAULT_FIELDS: Record<string, string[]> = {
  'ecp-server': ['TimeStamp', 'ServerName', 'EventId', 'EventData'],
  'ecp-activity': ['TimeStamp', 'ServerName', 'EventId', 'EventData'],
};

const TIME_FIELDS = ['DateTime', 'TimeStamp', 'Timestamp', 'date-time'];

/** The value of a `#Name:` directive in the header block (directives come first, so only the start is read). */
function directiveValue(head: string, name: string): string | null {
  const prefix = `#${name.toLowerCase()}:`;
  for (let at = 0; at < head.length && head.charCodeAt(at) === 35 /* # */; ) {
    const nl = head.indexOf('\n', at);
    const line = head.slice(at, nl === -1 ? head.length : nl).replace(/\r$/, '');
    if (line.slice(0, prefix.length).toLowerCase() === prefix) return line.slice(prefix.length).trim();
    if (nl === -1) break;
    at = nl + 1;
  }
  return null;
}

/** First line of the head that is neither a directive nor blank (a plain CSV header, when there is one). */
function firstDataLine(head: string): string {
  for (let at = 0, n = 0; at < head.length && n < 64; n++) {
    const nl = head.indexOf('\n', at);
    const end = nl === -1 ? head.length : nl;
    const l = head.slice(at, head.charCodeAt(end - 1) === 13 ? end - 1 : end);
    if (l && !l.startsWith('#')) return l;
    if (nl === -1) break;
    at = nl + 1;
  }
  return '';
}

function basename(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

/** A column the answer needs (literal alternatives: linear). */
const NEEDED_COLUMN = /anchormailbox|eventdata|parameters|clientinfo/i;
/** Where a header names its columns: HttpProxy's 100-odd take 1.3 KiB; a minified script's one line is longer. */
const HEADER_CHARS = 4096;

/**
 * Which Exchange log this is, from `#Log-type`, a plain header line, or the path. Asked about every text file (a
 * sweep's scripts and styles too), so the header is split only when it names a column the answer needs.
 */
export function classifyExchangeLog(head: string, rel: string): string | null {
  const logType = directiveValue(head, 'Log-type');
  // An unknown #Log-type (OABGeneratorLog writes its own) falls through to the columns, the path and the content.
  const known = logType === null ? undefined : LOG_TYPES[logType.toLowerCase()];
  if (known !== undefined) return known;
  const fields = directiveValue(head, 'Fields') ?? firstDataLine(head);
  if (NEEDED_COLUMN.test(fields.slice(0, HEADER_CHARS))) {
    const cols = new Set(splitCsvLine(fields).map((c) => c.trim().toLowerCase()));
    if (cols.has('anchormailbox') && (cols.has('urlstem') || cols.has('datetime'))) return 'httpproxy';
    if (cols.has('eventdata') && cols.has('timestamp')) return 'ecp-server';
    // CmdletInfra's cmdlet logs by their columns: LocalPowerShell\Cmdlet (cmdlets run in the server's own PowerShell,
    // e.g. a web shell loading the Exchange snap-in) under a #Log-type of its own, and copies that lost or moved
    // their directives (the header as a plain first line, an Import-Csv | Export-Csv copy).
    if (cols.has('cmdlet') && cols.has('parameters') && cols.has('datetime')) return 'rps-cmdlet';
    // Rps_Http (CmdletInfra\Powershell-Proxy\Http): the 38 columns of CrowdStrike's Rps_Http-IOC.ps1, ClientInfo among them.
    if (cols.has('clientinfo') && cols.has('urlstem') && cols.has('datetime')) return 'rps-http';
  }
  const lower = rel.toLowerCase();
  // Header damaged (a NUL or a cut in the #Fields line): the file's own name still says what it is.
  if (/^httpproxy_\d{8,10}-\d+\.log$/.test(basename(lower))) return 'httpproxy';
  if (/^rps_http_\d{8,10}-\d+\.log$/.test(basename(lower))) return 'rps-http';
  if (lower.includes('oabgeneratorlog') || /^oabgenerator/i.test(basename(rel)) || head.includes('Download failed and temporary file'))
    return 'oabgen';
  return null;
}

/** `HttpProxy/Ecp` from `.../HttpProxy/Ecp/HttpProxy_2021030306-1.LOG` or a `Ecp__HttpProxy_...` copy. */
function httpProxyProtocol(rel: string): string | null {
  const parts = rel.split('/');
  const i = parts.findIndex((p) => p.toLowerCase() === 'httpproxy');
  if (i !== -1 && i + 1 < parts.length - 1) return parts[i + 1];
  const m = /^([A-Za-z]+)__HttpProxy_/i.exec(basename(rel));
  return m ? m[1] : null;
}

const SOURCE_NAMES: Record<string, string> = {
  'ecp-server': 'ECP Server',
  'ecp-activity': 'ECP Activity',
  'rps-cmdlet': 'CmdletInfra Rps Cmdlet',
  'rps-http': 'CmdletInfra Rps_Http',
  oabgen: 'OABGeneratorLog',
};

export function exchangeCoverageSource(format: string, rel: string): string {
  if (format === 'httpproxy') {
    const protocol = httpProxyProtocol(rel);
    return protocol ? `HttpProxy/${protocol}` : 'HttpProxy';
  }
  if (format === 'rps-cmdlet' && /(?:^|\/)localpowershell\//i.test(rel)) return 'CmdletInfra LocalPowerShell Cmdlet';
  return SOURCE_NAMES[format] ?? format;
}

/** A build number as Exchange writes it in `#Version` (the literal `15.0.0.0` of ECP logs says nothing). */
function usefulVersion(v: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(v) && !/^15\.0+\.0+\.0+$/.test(v);
}

/** Parser for the comma-separated Exchange logs: columns by header name, never by position. */
export class ExchangeCsvParser implements LineParser {
  private fields: string[] | null = null;
  private headerLine: string | null = null;
  private timeIndex = -1;
  /** An HttpProxy layout of this file lacked UrlQuery (an older build's or a trimmed copy's): sticky, as in IIS. */
  private noQuery = false;
  private readonly found: Array<{ kind: 'build' | 'hostname'; value: string; origin: string; line: number }> = [];

  constructor(
    private readonly format: string,
    private readonly rel: string,
  ) {}

  directive(line: string, lineNo: number): void {
    const colon = line.indexOf(':');
    if (colon === -1) return;
    const name = line.slice(1, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'fields') this.setFields(splitCsvLine(value).map((f) => f.trim()));
    else if (name === 'version' && usefulVersion(value)) this.found.push({ kind: 'build', value, origin: '#Version', line: lineNo });
  }

  private setFields(fields: string[]): void {
    this.fields = fields;
    this.headerLine = fields.join(',');
    this.timeIndex = fields.findIndex((f) => TIME_FIELDS.includes(f));
    if (this.format === 'httpproxy' && !fields.includes('UrlQuery')) this.noQuery = true;
  }

  /** ProxyShell / ProxyNotShell are told by UrlQuery (`?@…/powershell`, `X-Rps-CAT=`): without it they cannot show. */
  queryUnlogged(): boolean {
    return this.noQuery;
  }

  parse(logged: string, lineNo: number): LogRecord | null {
    const line = withoutLeadingNuls(logged);
    if (line.length === 0) return null;
    if (line !== logged && line.charCodeAt(0) === 35 /* # */) {
      this.directive(line, lineNo); // the header a restart wrote right after a crash's padding
      return null;
    }
    if (this.fields === null) {
      const cols = splitCsvLine(line).map((c) => c.trim());
      if (cols.some((c) => TIME_FIELDS.includes(c))) {
        this.setFields(cols); // a plain CSV header line (Import-Csv style exports)
        return null;
      }
      const fallback = DEFAULT_FIELDS[this.format];
      if (!fallback) throw new ParseError('data before any #Fields or header line');
      this.setFields(fallback);
    }
    if (line === this.headerLine || line.startsWith('"') && splitCsvLine(line).join(',') === this.headerLine) return null;
    const values = splitCsvLine(line);
    const fields: Record<string, string> = {};
    const names = this.fields as string[];
    const n = Math.min(names.length, values.length);
    for (let i = 0; i < n; i++) fields[names[i]] = values[i];
    if (values.length > names.length) fields._extra = values.slice(names.length).join(',');
    const time = isoTime(this.timeIndex >= 0 ? values[this.timeIndex] : values[0]);
    if (time === null && !/^\d{4}-\d{2}-\d{2}/.test(values[0] ?? '')) throw new ParseError('line does not start with a timestamp');
    if (this.format === 'ecp-server' || this.format === 'ecp-activity') addEcpBag(fields, line);
    this.noteBuild(fields.TargetServerVersion, 'TargetServerVersion (back end, CU only)', lineNo);
    this.noteBuild(fields['S:BLD'] ?? fields['S:Bld'], 'ECP S:BLD', lineNo);
    if ((this.format === 'httpproxy' || this.format === 'rps-http') && fields.ServerHostName) this.noteHostname(fields.ServerHostName, 'ServerHostName', lineNo);
    if (this.format === 'ecp-server' && fields.ServerName && /^[A-Za-z0-9-]{1,63}$/.test(fields.ServerName)) this.noteHostname(fields.ServerName, 'ServerName', lineNo);
    return { format: this.format, path: this.rel, line: lineNo, time, fields, raw: line };
  }

  facts() {
    return this.found;
  }

  /** The first host name a record names (one per file). */
  private noteHostname(value: string, origin: string, line: number): void {
    if (this.found.every((f) => f.kind !== 'hostname')) this.found.push({ kind: 'hostname', value, origin, line });
  }

  /** A build a record names; the x.js probe's bogus `0.00.0003.000` and non-Exchange majors are ignored. */
  private noteBuild(value: string | undefined, origin: string, line: number): void {
    if (!value || !/^1[45]\.\d+\.\d+\.\d+$/.test(value)) return;
    if (this.found.some((f) => f.kind === 'build' && f.value === value && f.origin === origin)) return;
    this.found.push({ kind: 'build', value, origin, line });
  }
}

/**
 * Adds the EventData bag (`S:CMD`, `S:URL`, ...) as fields. When a copy lost columns, EventData is taken from the
 * first `S:` pair on the line.
 */
function addEcpBag(fields: Record<string, string>, line: string): void {
  let data = fields.EventData;
  if (!data || !/(^|;)'?S:/.test(data)) {
    const at = line.search(/'?S:[A-Z]+=/);
    data = at === -1 ? '' : line.slice(at);
    fields.EventData = data;
  }
  for (const [k, v] of parseEventData(data)) fields[k] = v;
}

/** OABGeneratorLog: no public sample shows its layout, so it is read as lines with an optional leading time. */
export class OabGeneratorParser implements LineParser {
  constructor(private readonly rel: string) {}
  directive(): void {}
  parse(logged: string, lineNo: number): LogRecord | null {
    const line = withoutLeadingNuls(logged);
    if (line.trim().length === 0) return null;
    const m = /^\s*(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?)/.exec(line);
    return { format: 'oabgen', path: this.rel, line: lineNo, time: m ? isoTime(m[1]) : null, fields: { Message: line }, raw: line };
  }
}

function exchangeFormat(id: string): TextLogFormat {
  return {
    id,
    detect: (head, rel) => classifyExchangeLog(head, rel) === id,
    family: classifyExchangeLog,
    coverageSource: (rel) => exchangeCoverageSource(id, rel),
    createParser: (rel) => (id === 'oabgen' ? new OabGeneratorParser(rel) : new ExchangeCsvParser(id, rel)),
  };
}

export const HTTPPROXY_FORMAT = exchangeFormat('httpproxy');
export const ECP_SERVER_FORMAT = exchangeFormat('ecp-server');
export const ECP_ACTIVITY_FORMAT = exchangeFormat('ecp-activity');
export const RPS_CMDLET_FORMAT = exchangeFormat('rps-cmdlet');
export const RPS_HTTP_FORMAT = exchangeFormat('rps-http');
export const OABGEN_FORMAT = exchangeFormat('oabgen');
