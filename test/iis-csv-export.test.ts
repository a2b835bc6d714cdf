// IIS log records exported as CSV: Log Parser 2.2 (`SELECT * INTO iis.csv FROM u_ex*.log -i:IISW3C -o:CSV`: its
// LogFilename and LogRow columns, then the W3C fields, date and time as the log wrote them, UTC), a spreadsheet saved
// in a locale that writes `;`, and SIEM exports (Splunk field names `c_ip`, `cs_uri_stem`, `_time` with its offset;
// Microsoft Sentinel's W3CIISLog table: `cIP`, `csUriStem`, `TimeGenerated [UTC]`). Requests: HelseCERT's HAFNIUM web
// shell POST (/owa/auth/<name>.aspx from 86.105.18.116) and ProxyShell's SSRF to /powershell (the autodiscover.json
// `@evil.corp` form with an X-Rps-CAT token). Before, such a file was named unread ("not parsed as an IIS log").
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HostResult } from '../src/model.js';
import type { scan as Scan } from '../src/engine/scan.js';
import { IIS_CSV_FORMAT, IisCsvParser } from '../src/parsers/web-logs.js';
import { defaultRuleSet } from '../src/rules/ruleset.js';
import { driveText } from './support/log-driver.js';
import { scanFiles } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-iiscsv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SSRF_QUERY = '@evil.corp/powershell/?X-Rps-CAT=VgEAVAdXaW5kb3dzQwBBCEtlcmJlcm9z&Email=autodiscover/autodiscover.json%3F@evil.corp';
const LOGPARSER_HEAD = 'LogFilename,LogRow,date,time,s-ip,cs-method,cs-uri-stem,cs-uri-query,s-port,cs-username,c-ip,cs(User-Agent),cs(Referer),sc-status,sc-substatus,sc-win32-status,time-taken';
const logParserRow = (row: number, time: string, method: string, stem: string, query: string, ip = '86.105.18.116') =>
  `C:\\inetpub\\logs\\LogFiles\\W3SVC1\\u_ex210305.log,${row},2021-03-05,${time},10.0.0.5,${method},${stem},${query},443,-,${ip},Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64),-,200,0,0,31`;
const SHELL = logParserRow(5, '08:12:01', 'POST', '/owa/auth/x0d.aspx', '-');
const SPLUNK = [
  '"_time","c_ip","cs_method","cs_uri_stem","cs_uri_query","sc_status","cs_User_Agent"',
  `"2021-08-21T04:13:48.000+02:00","157.245.58.14","POST","/autodiscover/autodiscover.json","${SSRF_QUERY}","200","python-requests/2.25.1"`,
];
const rules = defaultRuleSet().recordRules.filter((r) => r.formats.includes('web-csv'));

describe('IIS records exported as CSV', () => {
  it('recognised by a header row of W3C field names, however a tool spells them', () => {
    expect(IIS_CSV_FORMAT.detect(`${LOGPARSER_HEAD}\r\n${SHELL}\r\n`, 'iis.csv')).toBe(true);
    expect(IIS_CSV_FORMAT.detect(SPLUNK.join('\n'), 'export.csv')).toBe(true);
    expect(IIS_CSV_FORMAT.detect('TimeGenerated [UTC],sSiteName,csMethod,csUriStem,csUriQuery,cIP,scStatus\n', 'W3CIISLog.csv')).toBe(true);
    // Exchange's own CSV logs and event logs saved as CSV are not this.
    expect(IIS_CSV_FORMAT.detect('DateTime,RequestId,MajorVersion,UrlStem,ClientIpAddress\n2021-03-03T01:02:03.000Z,abc,15,/owa/,1.2.3.4\n', 'HttpProxy_2021030301-1.LOG')).toBe(false);
    expect(IIS_CSV_FORMAT.detect('"TimeCreated","Id","ProviderName","Message"\n', 'events.csv')).toBe(false);
  });

  it('maps columns to W3C fields; W3C date and time are UTC; a stamp is used with its zone', () => {
    const lp = new IisCsvParser('iis.csv');
    expect(lp.parse(LOGPARSER_HEAD, 1)).toBeNull();
    expect(lp.parse(SHELL, 2)).toMatchObject({ time: '2021-03-05T08:12:01Z', fields: { 'c-ip': '86.105.18.116', 'cs-method': 'POST', 'cs-uri-stem': '/owa/auth/x0d.aspx', 'sc-status': '200' } });
    expect(lp.parse(SHELL, 2)?.fields['cs-uri-query']).toBeUndefined();
    const sp = new IisCsvParser('export.csv');
    sp.parse(SPLUNK[0], 1);
    expect(sp.parse(SPLUNK[1], 2)).toMatchObject({ time: '2021-08-21T02:13:48.000Z', fields: { 'cs-uri-query': SSRF_QUERY, 'cs(User-Agent)': 'python-requests/2.25.1' } });
    // Excel in a `;` locale, quoted cells; its dates re-written as the sheet shows them cannot be placed.
    const xl = new IisCsvParser('sheet.csv');
    xl.parse('date;time;c-ip;cs-method;cs-uri-stem;cs-uri-query;sc-status', 1);
    expect(xl.parse('"05.03.2021";"08:12:01";"86.105.18.116";"POST";"/owa/auth/x0d.aspx";"-";"200"', 2)).toMatchObject({ time: null, fields: { 'cs-uri-stem': '/owa/auth/x0d.aspx' } });
    expect(xl.notes()).toEqual([expect.stringMatching(/not counted as web coverage.*1 record\(s\) without a time/)]);
    // Sentinel's portal export: its header says UTC.
    const st = new IisCsvParser('W3CIISLog.csv');
    st.parse('TimeGenerated [UTC],csMethod,csUriStem,cIP,scStatus', 1);
    expect(st.parse('2021-03-05T08:12:01.123,POST,/owa/auth/x0d.aspx,86.105.18.116,200', 2)?.time).toBe('2021-03-05T08:12:01.123Z');
  });

  it('the IIS rules find the shell and the SSRF in the rows', () => {
    const lp = driveText(IIS_CSV_FORMAT, `${LOGPARSER_HEAD}\r\n${SHELL}\r\n`, 'iis.csv', rules);
    expect(lp.findings.map((f) => `${f.rule}/${f.severity}`)).toEqual(['WS-40/critical']);
    const sp = driveText(IIS_CSV_FORMAT, SPLUNK.join('\n'), 'export.csv', rules);
    expect(sp.findings.map((f) => `${f.rule}/${f.severity}`)).toEqual(['PS-02/critical']);
  });
});

const scanCli = (name: string, files: Record<string, Buffer | string>): HostResult => scanFiles(dir, name, files);

describe('scan, end to end', () => {
  it('a Log Parser export with the web shell: compromised; a clean one is no coverage (an export may be filtered)', () => {
    const h = scanCli('lp', { 'export/iis-0305.csv': `${LOGPARSER_HEAD}\r\n${SHELL}\r\n` });
    expect(h.verdict).toBe('compromised');
    expect(h.findings.map((f) => `${f.rule}@${f.time}`)).toEqual(['WS-40@2021-03-05T08:12:01Z']);
    const benign = Array.from({ length: 50 }, (_, i) => logParserRow(i + 2, `08:${String(i).padStart(2, '0')}:00`, 'POST', '/EWS/Exchange.asmx', '-', '10.1.5.23'));
    const clean = scanCli('lp-clean', { 'export/iis-0305.csv': `${LOGPARSER_HEAD}\r\n${benign.join('\r\n')}\r\n` });
    expect(clean.verdict).toBe('insufficient-evidence');
    expect(clean.skipped).toEqual([{ path: 'export/iis-0305.csv', reason: expect.stringMatching(/^read as IIS records exported as CSV .*not counted as web coverage/) }]);
  });

  it('a later byte range of a big export knows the header (its rows are mapped, not lost)', async () => {
    const { scan } = (await import(pathToFileURL(resolve('dist/index.js')).href)) as { scan: typeof Scan };
    const rows = Array.from({ length: 4000 }, (_, i) => logParserRow(i + 2, `0${Math.floor(i / 1000)}:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`, 'GET', '/owa/', `rid=${i}`, '10.1.5.23'));
    rows.push(logParserRow(4002, '07:00:00', 'POST', '/owa/auth/x0d.aspx', '-'));
    const root = join(dir, 'big');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'iis.csv'), `${LOGPARSER_HEAD}\r\n${rows.join('\r\n')}\r\n`);
    const report = await scan({ paths: [root], jobs: 1, rangeBytes: 48 * 1024 });
    const h = report.hosts[0];
    expect(h.findings.map((f) => `${f.rule}@${f.time} line ${f.source.line}`)).toEqual(['WS-40@2021-03-05T07:00:00Z line 4002']);
    expect(h.skipped.filter((s) => s.path === 'iis.csv')).toHaveLength(1);
  });
});
