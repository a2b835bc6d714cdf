// IIS logs as real servers leave them, beyond the tidy W3C files of the fixtures:
// - a log cut off by a crash or power loss: the file system had allocated the file's next clusters, so a short log
//   ends in a block of NULs (and after a restart IIS appends behind them). The request is HelseCERT's HAFNIUM web
//   shell use (helsecert/2021-march-exchange: POST /owa/auth/<name>.aspx from 86.105.18.116).
// - a site logging in Microsoft's "IIS" log file format (u_in*.log; "IIS Log File Format", Microsoft Learn, IIS 6.0
//   technical reference: comma-separated client IP, user name, date, time, service, server name, server IP, …, in
//   local time) or NCSA (u_nc*.log): not W3C, read (test/iis-other-formats.test.ts), and never silently ignored.
// - internet scanners sending OS-command queries to every URL they know, OWA's logon.aspx first: the page answers
//   200 to any query (SigmaHQ web_win_webshells_in_access_logs.yml lists the keywords).
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostResult, ScanReport } from '../src/model.js';
import { exhunt, scanFiles } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-logshapes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEAD = [
  '#Software: Microsoft Internet Information Services 10.0',
  '#Version: 1.0',
  '#Date: 2021-03-05 08:00:00',
  '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken',
].join('\r\n');
const SHELL = '2021-03-05 08:12:01 10.0.0.5 POST /owa/auth/x0d.aspx - 443 - 86.105.18.116 ExchangeServicesClient/0.0.0.0 - 200 0 0 31';

const scan = (name: string, files: Record<string, Buffer | string>): HostResult => scanFiles(dir, name, files);

describe('IIS logs as crashed or differently configured servers leave them', () => {
  it('a short log that ends in a block of NULs (crash, power loss) is read, not skipped as binary', () => {
    const log = Buffer.concat([Buffer.from(`${HEAD}\r\n${SHELL}\r\n`), Buffer.alloc(64 * 1024)]);
    const h = scan('crashed', { 'W3SVC1/u_ex210305.log': log });
    expect(h.skipped).toEqual([]);
    expect(h.findings.filter((f) => f.rule === 'WS-40').map((f) => [f.client_ip, f.source.line])).toEqual([['86.105.18.116', 5]]);
    expect(h.verdict).toBe('compromised');
  });

  it('a log created just before a crash starts with the padding: the header IIS wrote after the restart is read', () => {
    // 12 KiB of NULs (three clusters allocated, never written), then the restart's directives right behind them.
    const log = Buffer.concat([Buffer.alloc(12 * 1024), Buffer.from(`${HEAD}\r\n${SHELL}\r\n`)]);
    const h = scan('crashed-new', { 'W3SVC1/u_ex210305.log': log });
    expect(h.skipped).toEqual([]);
    expect(h.findings.filter((f) => f.rule === 'WS-40').map((f) => [f.time, f.source.line])).toEqual([['2021-03-05T08:12:01Z', 5]]);
    // A head that is NULs only shows no text at all: still named, never read as a log in silence.
    const blank = scan('crashed-blank', { 'W3SVC1/u_ex210306.log': Buffer.alloc(80 * 1024) });
    expect(blank.skipped.map((s) => s.reason)).toEqual([expect.stringMatching(/^named like a text log but binary/)]);
  });

  it('padding that starts mid-line, at a sector boundary (the crash cut a line), is not binary: both shells are found', () => {
    // The header and the shell, a line cut at byte 1536 (three 512-byte sectors), NULs to 64 KiB, then the restart.
    const before = Buffer.from(`${HEAD}\r\n${SHELL}\r\n${SHELL.replace('08:12:01', '08:13:00').replace('POST', 'GET')}\r\n`.repeat(8));
    const cut = before.subarray(0, 1536);
    const restart = Buffer.from(`${HEAD}\r\n${SHELL.replace('08:12:01', '09:30:00')}\r\n`);
    const h = scan('crashed-mid', { 'W3SVC1/u_ex210305.log': Buffer.concat([cut, Buffer.alloc(64 * 1024 - 1536), restart]) });
    expect(h.skipped.filter((s) => /binary/.test(s.reason))).toEqual([]);
    const times = h.findings.filter((f) => f.rule === 'WS-40').map((f) => f.time);
    expect(times).toContain('2021-03-05T08:12:01Z');
    expect(times).toContain('2021-03-05T09:30:00Z');
  });

  it('a record right behind a hole of NULs keeps its time (IIS) and is not dropped (HttpProxy)', () => {
    const hole = Buffer.alloc(8192);
    const iis = Buffer.concat([Buffer.from(`${HEAD}\r\n${SHELL.replace('08:12:01', '08:00:01').replace('x0d.aspx', 'logon.aspx')}\r\n`), hole, Buffer.from(`${SHELL}\r\n`)]);
    // HelseCERT's ProxyLogon SSRF rows (the shipped mail01 example): the hole ends where row 8 (/ecp/y.js) begins.
    const src = readFileSync('examples/evidence/mail01-compromised/C/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG', 'latin1');
    const lines = src.split('\r\n');
    const proxy = Buffer.concat([Buffer.from(`${lines.slice(0, 7).join('\r\n')}\r\n`, 'latin1'), hole, Buffer.from(lines.slice(7).join('\r\n'), 'latin1')]);
    const h = scan('hole', { 'W3SVC1/u_ex210305.log': iis, 'HttpProxy/Ecp/HttpProxy_2021030306-1.LOG': proxy });
    expect(h.skipped).toEqual([]);
    const at = (rule: string, path: string) => h.findings.filter((f) => f.rule === rule && f.source.path === path).map((f) => [f.time, f.source.line]);
    expect(at('WS-40', 'W3SVC1/u_ex210305.log')).toEqual([['2021-03-05T08:12:01Z', 6]]);
    expect(at('PL-03', 'HttpProxy/Ecp/HttpProxy_2021030306-1.LOG')[0]).toEqual(['2021-03-03T06:49:42.162Z', 8]);
  });

  it("HTTP.sys's error log and an IIS FTP site's log are no web-log coverage: years of them never make a server clean", () => {
    // HTTPERR (System32\\LogFiles\\HTTPERR, on every Windows server): W3C with c-ip and cs-method, but only requests
    // HTTP.sys refused (timeouts, bad requests). Fields as HTTP.sys writes them (Microsoft Learn, "Error logging in
    // HTTP APIs"); one line every 3 days from 2020-11 to 2026-11. FTP: IIS FTP's W3C fields (x-session, x-fullpath).
    const day = (i: number) => new Date(Date.UTC(2020, 10, 1) + i * 3 * 86_400_000).toISOString().slice(0, 10);
    const httperr = [
      '#Software: Microsoft HTTP API 2.0',
      '#Version: 1.0',
      '#Date: 2020-11-01 00:00:00',
      '#Fields: date time c-ip c-port s-ip s-port cs-version cs-method cs-uri streamid sc-status s-siteid s-reason s-queuename',
      ...Array.from({ length: 730 }, (_, i) => `${day(i)} 00:00:00 203.0.113.7 51234 10.0.0.5 443 HTTP/1.1 GET /owa/ - - 2 Timer_ConnectionIdle MSExchangeOWAAppPool`),
      '',
    ].join('\r\n');
    const ftp = [
      '#Software: Microsoft Internet Information Services 10.0',
      '#Version: 1.0',
      '#Date: 2020-11-01 00:00:00',
      '#Fields: date time c-ip cs-username s-ip s-port cs-method cs-uri-stem sc-status sc-win32-status sc-substatus x-session x-fullpath',
      ...Array.from({ length: 730 }, (_, i) => `${day(i)} 00:00:00 10.0.0.9 backup 10.0.0.5 21 RETR db.bak 226 0 0 1b2c3d4e-0000-0000-0000-000000000000 /db.bak`),
      '',
    ].join('\r\n');
    const h = scan('not-web', { 'C/Windows/System32/LogFiles/HTTPERR/httperr1.log': httperr, 'C/inetpub/logs/LogFiles/FTPSVC2/u_ex201101.log': ftp });
    expect(h.verdict).toBe('insufficient-evidence');
    expect(h.coverage.filter((c) => /iis/i.test(c.format))).toEqual([]);
    const why = Object.fromEntries(h.skipped.map((s) => [s.path, s.reason]));
    expect(why['C/Windows/System32/LogFiles/HTTPERR/httperr1.log']).toMatch(/^HTTP\.sys error log \(HTTPERR/);
    expect(why['C/inetpub/logs/LogFiles/FTPSVC2/u_ex201101.log']).toMatch(/^IIS FTP site log/);
  });

  it('a binary file named like a log is still skipped as binary', () => {
    const noise = Buffer.alloc(4096);
    for (let i = 0; i < noise.length; i += 3) noise[i] = (i * 37) & 0xff;
    const h = scan('binary', { 'W3SVC1/u_ex210306.log': noise });
    expect(h.skipped.map((s) => s.reason)).toEqual([expect.stringMatching(/^named like a text log but binary/)]);
  });

  it("a scanner spraying cmd=whoami at OWA's own logon.aspx (answered 200, as it answers any query) is an attempt", () => {
    const spray = '2021-03-05 08:20:44 10.0.0.5 GET /owa/auth/logon.aspx url=https%3a%2f%2fmail%2fowa%2f&cmd=whoami 443 - 45.77.1.2 Mozilla/5.0 - 200 0 0 15';
    const h = scan('spray', { 'W3SVC1/u_ex210305.log': `${HEAD}\r\n${spray}\r\n` });
    expect(h.findings.filter((f) => f.rule === 'WS-41').map((f) => [f.severity, f.kind])).toEqual([['medium', 'attempt']]);
    expect(h.verdict).toBe('attempted');
    // The same query answered 200 by a page Exchange does not ship is a shell being driven.
    const driven = scan('driven', { 'W3SVC1/u_ex210305.log': `${HEAD}\r\n${spray.replace('logon.aspx', 'x0d.aspx')}\r\n` });
    expect(driven.findings.filter((f) => f.rule === 'WS-41').map((f) => f.severity)).toEqual(['critical']);
  });

  it('the IIS and NCSA log formats and IIS records as CSV are read, and skipped says how, never counted as unrelated in silence', () => {
    const h = scan('formats', {
      'W3SVC1/u_in210305.log': '86.105.18.116, -, 3/5/2021, 8:12:01, W3SVC1, MAIL01, 10.0.0.5, 31, 512, 1024, 200, 0, POST, /owa/auth/x0d.aspx, -,\r\n',
      'W3SVC1/u_nc210305.log': '86.105.18.116 - - [05/Mar/2021:08:12:01 +0000] "POST /owa/auth/x0d.aspx HTTP/1.1" 200 1024\r\n',
      // Log Parser 2.2 `SELECT * INTO iis.csv FROM u_ex*.log -i:IISW3C -o:CSV` (its LogFilename and LogRow columns,
      // then the W3C fields): was counted as an unrelated file in silence, then named unread; now read (test/iis-csv-export.test.ts).
      'iis-0305.csv':
        'LogFilename,LogRow,date,time,s-ip,cs-method,cs-uri-stem,cs-uri-query,s-port,cs-username,c-ip,cs(User-Agent),cs(Referer),sc-status,sc-substatus,sc-win32-status,time-taken\r\n' +
        'C:\\inetpub\\logs\\LogFiles\\W3SVC1\\u_ex210305.log,5,2021-03-05,08:12:01,10.0.0.5,POST,/owa/auth/x0d.aspx,-,443,-,86.105.18.116,ExchangeServicesClient/0.0.0.0,-,200,0,0,31\r\n',
    });
    const why = (p: string) => h.skipped.find((s) => s.path === p)?.reason ?? '';
    expect(why('W3SVC1/u_in210305.log')).toMatch(/^read as an IIS log in IIS's own format \(comma-separated\): .*give --iis-tz/);
    expect(why('W3SVC1/u_nc210305.log')).toBe('');
    expect(h.findings.filter((f) => f.rule === 'WS-40').map((f) => `${f.source.path} ${f.time ?? '-'}`).sort()).toEqual(['W3SVC1/u_in210305.log -', 'W3SVC1/u_nc210305.log 2021-03-05T08:12:01Z', 'iis-0305.csv 2021-03-05T08:12:01Z']);
    expect(why('iis-0305.csv')).toMatch(/^read as IIS records exported as CSV \(columns by their W3C field names\): an export may hold only a search's results, so it is not counted as web coverage/);
  });

  it("IIS central binary logging's .ibl files (the server's only IIS logs) are named unread: no clean from the HttpProxy logs alone", () => {
    // The example clean server (its HttpProxy logs cover every window) with its IIS logs kept in central binary
    // format (LogFiles\W3SVC\raYYMMDD.ibl, proprietary records: random bytes stand for them): was CLEAN, the .ibl
    // swept as a plain file in silence, though a web shell's requests are in the IIS log alone.
    const root = join(dir, 'central-binary');
    cpSync('examples/evidence/mail02-clean', root, { recursive: true, filter: (src) => !/W3SVC1/.test(src) });
    const ibl = join(root, 'C/inetpub/logs/LogFiles/W3SVC/ra210305.ibl');
    mkdirSync(join(ibl, '..'), { recursive: true });
    writeFileSync(ibl, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    const out = join(dir, 'central-binary.json');
    exhunt(['scan', root, '--json', out, '--jobs', '1']);
    const h = (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
    expect(h.skipped).toEqual([{ path: 'C/inetpub/logs/LogFiles/W3SVC/ra210305.ibl', reason: expect.stringMatching(/^IIS central binary log \(\.ibl, by its name\): not read; convert it .* -i:BIN -o:W3C/), unread: 'file' }]);
    expect(h.verdict).toBe('insufficient-evidence');
  });
});
