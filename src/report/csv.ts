// CSV output shaped like Test-ProxyLogon's per-host files, so existing runbooks keep working, plus one file with
// every finding.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Finding, HostResult, ScanReport } from '../model.js';
import { csvRow } from './csv-cell.js';
import { creditLine } from './credit.js';
import { hostTitle } from './summary.js';

const CVE_26855_COLUMNS = ['DateTime', 'RequestId', 'ClientIPAddress', 'UrlHost', 'UrlStem', 'RoutingHint', 'UserAgent', 'AnchorMailbox', 'HttpStatus'];
/** The rows Test-ProxyLogon's final version keeps: SSRF reaching a back-end path (autodiscover and localhost excluded). */
const TPL_26855_RULES = new Set(['PL-02', 'PL-23']);

const ALL_COLUMNS = ['host', 'host_label', 'id', 'time', 'severity', 'kind', 'rule', 'title', 'cves', 'client_ip', 'path', 'line', 'record', 'summary', 'evidence', 'rule_credit'];

/** A host's name safe as a file-name prefix (names come from evidence: attacker-controlled); `mail14 up (MAIL11)` is `mail14_up_MAIL11`. */
function safeFileName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+|_+$/g, '');
  return s.slice(0, 100) || 'host';
}

function ev(f: Finding, key: string): unknown {
  return f.evidence[key] ?? '';
}

function lines(header: string[], rows: unknown[][]): string {
  return [csvRow(header), ...rows.map(csvRow)].join('\r\n') + '\r\n';
}

/** One line of a Test-ProxyLogon style .log file; the path is evidence too, so neither it nor the text may break the line. */
function logLine(f: Finding, text: unknown): string {
  const where = f.source.line !== undefined ? `${f.source.path}:${f.source.line}` : f.source.path;
  return `${where}: ${f.time ?? ''} ${typeof text === 'string' ? text : ''}`.replace(/[\r\n]+/g, ' ');
}

/**
 * File-name prefixes for every host, unique even when names collide after sanitising or differ only in case
 * (`MAIL01`, `mail01`, `mail/01`): a second host must never overwrite the first one's files. Later ones get `-2`, `-3` ….
 */
export function csvBases(): (host: { name: string; label?: string }) => string {
  const used = new Set<string>();
  return (host) => {
    const base = safeFileName(hostTitle(host));
    let name = base;
    for (let n = 2; used.has(name.toLowerCase()); n++) name = `${base}-${n}`;
    used.add(name.toLowerCase());
    return name;
  };
}

/** One host's Test-ProxyLogon-style files: [file name, text], the BOM already in front of .csv files when asked. */
export function csvHostFiles(h: HostResult, base: string, opts: CsvOptions = {}): Array<[string, string]> {
  return hostFiles(h, base).map(([name, text]) => [name, opts.bom && name.endsWith('.csv') ? `${BOM}${text}` : text]);
}

function hostFiles(h: HostResult, base: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const ssrf = h.findings.filter((f) => TPL_26855_RULES.has(f.rule));
  if (ssrf.length) {
    out.push([
      `${base}-Cve-2021-26855.csv`,
      lines(CVE_26855_COLUMNS, ssrf.map((f) => [f.time, ev(f, 'request_id'), f.client_ip, ev(f, 'url_host'), ev(f, 'url'), ev(f, 'routing_hint'), ev(f, 'user_agent'), ev(f, 'anchor_mailbox'), ev(f, 'status')])),
    ]);
  }
  const vdir = h.findings.filter((f) => f.rule === 'PL-22');
  if (vdir.length) out.push([`${base}-Cve-2021-27065.log`, vdir.map((f) => logLine(f, ev(f, 'command'))).join('\r\n') + '\r\n']);
  const oab = h.findings.filter((f) => f.rule === 'PL-30');
  if (oab.length) out.push([`${base}-Cve-2021-26858.log`, oab.map((f) => logLine(f, ev(f, 'line_text'))).join('\r\n') + '\r\n']);
  const um = h.findings.filter((f) => f.cves.includes('CVE-2021-26857'));
  if (um.length) out.push([`${base}-Cve-2021-26857.csv`, lines(['TimeCreated', 'Message'], um.map((f) => [f.time, f.summary]))]);
  const other = h.findings.filter((f) => f.source.line === undefined && f.source.record === undefined);
  if (other.length) out.push([`${base}-other.csv`, lines(['Type', 'Path'], other.map((f) => [f.title, ev(f, 'file') || f.source.path]))]);
  return out;
}

export interface CsvOptions {
  /** Start each .csv file with a UTF-8 byte-order mark (Excel on Windows reads UTF-8 without one as ANSI). */
  bom?: boolean;
}

const BOM = '\ufeff';

/** `exhunt-findings.csv`: every finding of every host, one row each (a group is one row; its summary has the count). */
export function findingsCsv(report: ScanReport, opts: CsvOptions = {}): string {
  return `${findingsCsvHeader(opts)}${report.hosts.map(findingsCsvRows).join('')}`;
}

export function findingsCsvHeader(opts: CsvOptions = {}): string {
  return `${opts.bom ? BOM : ''}${csvRow(ALL_COLUMNS)}\r\n`;
}

/** One host's rows of `exhunt-findings.csv` (CRLF-terminated; written host by host when streamed). */
export function findingsCsvRows(h: HostResult): string {
  return h.findings.map((f) => `${csvRow([h.name, h.label ?? h.name, f.id, f.time, f.severity, f.kind, f.rule, f.title, f.cves.join(' '), f.client_ip, f.source.path, f.source.line ?? '', f.source.record ?? '', f.summary, f.evidence, creditLine(f)])}\r\n`).join('');
}

/** Writes the per-host Test-ProxyLogon-style files and `exhunt-findings.csv` into `dir`; returns the file names. */
export async function writeCsv(report: ScanReport, dir: string, opts: CsvOptions = {}): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const base = csvBases();
  const files: Array<[string, string]> = report.hosts.flatMap((h) => csvHostFiles(h, base(h), opts));
  files.push(['exhunt-findings.csv', findingsCsv(report, opts)]);
  for (const [name, text] of files) await writeFile(join(dir, name), text, 'utf8');
  return files.map(([name]) => name);
}
