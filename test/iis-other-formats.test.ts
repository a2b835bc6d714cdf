// IIS logs in IIS's two other formats (IIS Manager > Logging > Format): "IIS" (u_inYYMMDD.log) and "NCSA"
// (u_ncYYMMDD.log). Lines are written as the formats are documented: Microsoft Learn "IIS Log File Format" (IIS 6.0
// technical reference; HTTP Server API "IIS logging": client IP, user name, date, local time, service and instance,
// server name, server IP, time taken, client bytes sent, server bytes sent, service status, Windows status, request
// type, target of operation, parameters, each followed by a comma; its example `192.168.114.201, -, 03/20/01,
// 7:55:20, W3SVC2, SALES1, 172.21.13.45, 4502, 163, 3223, 200, 0, GET, /DeptLogo.gif, -,`) and NCSA Common
// (`172.21.13.45 - REDMOND\fred [08/Apr/2001:17:39:04 -0800] "GET /scripts/iisadmin/ism.dll?http/serv HTTP/1.0" 200
// 3401`). The requests are the published ones: ProxyShell's SSRF to /powershell (Orange Tsai's autodiscover.json
// `@evil.corp` form with an X-Rps-CAT token, as in review10's repro) and HAFNIUM's web shell POST (HelseCERT:
// /owa/auth/<name>.aspx from 86.105.18.116). Before this, both files were named unread and the host was
// insufficient-evidence: the attack period's only web logs were a dead end.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostResult, ScanReport } from '../src/model.js';
import { IIS_NATIVE_FORMAT, IIS_NCSA_FORMAT, IisNativeParser, NcsaParser, OTHER_NCSA_FORMAT } from '../src/parsers/web-logs.js';
import { needExternal } from './support/external.js';
import { ParseError } from '../src/parsers/types.js';
import { defaultRuleSet } from '../src/rules/ruleset.js';
import { driveText } from './support/log-driver.js';
import { exhunt } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-iisformats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SSRF_QUERY = '@evil.corp/powershell/?X-Rps-CAT=VgEAVAdXaW5kb3dzQwBBCEtlcmJlcm9z&Email=autodiscover/autodiscover.json%3F@evil.corp';
const native = (time: string, method: string, target: string, params: string, opts: { date?: string; status?: number; site?: string; user?: string } = {}) =>
  `157.245.58.14, ${opts.user ?? '-'}, ${opts.date ?? '8/21/2021'}, ${time}, ${opts.site ?? 'W3SVC1'}, MAIL07, 10.1.2.7, 40, 512, 1024, ${opts.status ?? 200}, 0, ${method}, ${target}, ${params},`;
const NATIVE_ATTACK = [
  native('4:13:48', 'POST', '/autodiscover/autodiscover.json', SSRF_QUERY),
  native('4:18:48', 'POST', '/owa/auth/x0d.aspx', '-'),
];
const NCSA_ATTACK = [
  `157.245.58.14 - - [21/Aug/2021:04:13:48 +0200] "POST /autodiscover/autodiscover.json?${SSRF_QUERY} HTTP/1.1" 200 1024`,
  '157.245.58.14 - - [21/Aug/2021:04:18:48 +0200] "POST /owa/auth/x0d.aspx HTTP/1.1" 200 200',
];
const W1_IN = 'C/inetpub/logs/LogFiles/W3SVC1/u_in210821.log';
const W1_NC = 'C/inetpub/logs/LogFiles/W3SVC1/u_nc210821.log';

const rules = defaultRuleSet().recordRules;
const rulesOf = (id: string) => rules.filter((r) => r.formats.includes(id));

describe("IIS's own log format (u_in*.log)", () => {
  it('is recognised by its lines; FTP and SMTP services in the same format are not web logs', () => {
    expect(IIS_NATIVE_FORMAT.detect(NATIVE_ATTACK.join('\r\n'), W1_IN)).toBe(true);
    const ftp = '172.16.255.255, anonymous, 03/20/01, 23:58:11, MSFTPSVC, SALES1, 172.16.255.255, 60, 275, 0, 0, 0, PASS, /Intro.htm, -,';
    expect(IIS_NATIVE_FORMAT.detect(ftp, 'x/in010320.log')).toEqual({ reason: expect.stringMatching(/MSFTPSVC service \(not a web site\)/), unread: false });
    // A W3C line is not this format.
    expect(IIS_NATIVE_FORMAT.detect('2021-08-21 04:13:48 10.1.2.7 GET /owa/ - 443 - 1.2.3.4 - - 200 0 0 1', W1_IN)).toBe(false);
  });

  it('maps the fixed fields to W3C names; the local time is placed only with the server zone', () => {
    const bare = new IisNativeParser(W1_IN).parse(NATIVE_ATTACK[0], 1)!;
    expect(bare.fields).toEqual({
      'c-ip': '157.245.58.14', date: '8/21/2021', time: '4:13:48', 's-sitename': 'W3SVC1', 's-computername': 'MAIL07', 's-ip': '10.1.2.7',
      'time-taken': '40', 'cs-bytes': '512', 'sc-bytes': '1024', 'sc-status': '200', 'sc-win32-status': '0', 'cs-method': 'POST',
      'cs-uri-stem': '/autodiscover/autodiscover.json', 'cs-uri-query': SSRF_QUERY,
    });
    expect(bare.time).toBeNull();
    const berlin = (line: string) => new IisNativeParser(W1_IN, { iisZone: 'Europe/Berlin' }).parse(line, 1)!.time;
    expect(berlin(NATIVE_ATTACK[0])).toBe('2021-08-21T02:13:48Z'); // summer time: UTC+2
    expect(berlin(native('23:05:00', 'GET', '/owa/', '-', { date: '1/4/21' }))).toBe('2021-01-04T22:05:00Z'); // winter, two-digit year
    expect(berlin(native('23:05:00', 'GET', '/owa/', '-', { date: '13/4/2021' }))).toBeNull(); // not month/day/year
    expect(new IisNativeParser(W1_IN, { iisZone: '-05:00' }).parse(NATIVE_ATTACK[0], 1)!.time).toBe('2021-08-21T09:13:48Z');
    // Parameters keep their own commas; a line cut short is a parse error (named with its line), not a record.
    expect(new IisNativeParser(W1_IN).parse(native('4:13:48', 'GET', '/ecp/x.aspx', 'a=1,2, b=3'), 1)!.fields['cs-uri-query']).toBe('a=1,2, b=3');
    expect(() => new IisNativeParser(W1_IN).parse('157.245.58.14, -, 8/21/2021, 4:13:48, W3SVC1', 7)).toThrow(ParseError);
  });

  it('the IIS rules find the SSRF and the web shell in its records', () => {
    const { findings } = driveText(IIS_NATIVE_FORMAT, NATIVE_ATTACK.join('\r\n'), W1_IN, rulesOf('iis-in'));
    expect(findings.map((f) => `${f.rule}/${f.severity}`).sort()).toEqual(['PS-02/critical', 'WS-40/critical']);
  });

});

describe("IIS's NCSA log format (u_nc*.log)", () => {
  it('is an IIS log where IIS writes it; elsewhere (Apache, nginx) the same lines are a log of another format', () => {
    const text = NCSA_ATTACK.join('\n');
    expect([IIS_NCSA_FORMAT.detect(text, W1_NC), OTHER_NCSA_FORMAT.detect(text, W1_NC)]).toEqual([true, false]);
    expect([IIS_NCSA_FORMAT.detect(text, 'logs/nc210821.log'), OTHER_NCSA_FORMAT.detect(text, 'logs/nc210821.log')]).toEqual([true, false]);
    expect([IIS_NCSA_FORMAT.detect(text, 'C/nginx/logs/access.log'), OTHER_NCSA_FORMAT.detect(text, 'C/nginx/logs/access.log')]).toEqual([false, true]);
  });

  it('places times by their own offset and splits the request line', () => {
    const rec = new NcsaParser(W1_NC, 'iis-nc').parse(NCSA_ATTACK[0], 1)!;
    expect(rec.time).toBe('2021-08-21T02:13:48Z');
    expect(rec.fields).toMatchObject({ 'c-ip': '157.245.58.14', 'cs-method': 'POST', 'cs-uri-stem': '/autodiscover/autodiscover.json', 'cs-uri-query': SSRF_QUERY, 'cs-version': 'HTTP/1.1', 'sc-status': '200', 'sc-bytes': '1024' });
    expect(new NcsaParser(W1_NC, 'iis-nc').parse('172.21.13.45 - REDMOND\\fred [08/Apr/2001:17:39:04 -0800] "GET /scripts/iisadmin/ism.dll?http/serv HTTP/1.0" 200 3401', 1)).toMatchObject({
      time: '2001-04-09T01:39:04Z',
      fields: { 'cs-username': 'REDMOND\\fred', 'cs-uri-stem': '/scripts/iisadmin/ism.dll', 'cs-uri-query': 'http/serv' },
    });
    const { findings } = driveText(IIS_NCSA_FORMAT, NCSA_ATTACK.join('\n'), W1_NC, rulesOf('iis-nc'));
    expect(findings.map((f) => `${f.rule}/${f.severity}`).sort()).toEqual(['PS-02/critical', 'WS-40/critical']);
  });

  it("the combined form's referer and user agent are read; a quote inside the request stays in it", () => {
    const rec = new NcsaParser('C/nginx/logs/access.log', 'ncsa').parse('203.0.113.9 - - [03/Mar/2021:03:21:20 +0100] "GET /owa/auth/x.aspx?a="b" 200 1" HTTP/1.1" 200 512 "-" "python-requests/2.25.1"', 1)!;
    expect(rec.fields).toMatchObject({ 'cs-uri-stem': '/owa/auth/x.aspx', 'cs-uri-query': 'a="b" 200 1"', 'sc-status': '200', 'sc-bytes': '512', 'cs(Referer)': '-', 'cs(User-Agent)': 'python-requests/2.25.1' });
    expect(rec.format).toBe('ncsa');
  });

  it('a real Tomcat access log with attacks (EVTX-ATTACK-SAMPLES) reads line by line, every line a record', (ctx) => {
    const path = needExternal(ctx, 'EVTX-ATTACK-SAMPLES/Command_and_Control/web_attack_and_isp_webshell_localhost_access_log.txt');
    const text = readFileSync(path, 'utf8');
    expect(OTHER_NCSA_FORMAT.detect(text.slice(0, 8192), 'localhost_access_log.txt')).toBe(true);
    const lines = text.split(/\r?\n/).filter(Boolean);
    const parser = new NcsaParser('localhost_access_log.txt', 'ncsa');
    const recs = lines.map((l, i) => parser.parse(l, i + 1)!);
    expect(recs.every((r) => r.time !== null && r.fields['sc-status'] !== undefined)).toBe(true);
    // Tomcat writes `"-"` for a request it could not read (answered 400): no method, no URL.
    expect(recs.filter((r) => r.fields['cs-method'] === undefined).map((r) => (r.raw ?? '').split(' ').slice(-3).join(' '))).toEqual(Array(14).fill('"-" 400 -'));
    expect(recs[0]).toMatchObject({ time: '2018-07-11T05:41:28Z', fields: { 'c-ip': '192.168.105.83', 'cs-uri-stem': '/', 'sc-status': '200', 'sc-bytes': '11444' } });
  });

  it("needles a W3C line puts between spaces still reach their rule (PL-14's ` t=`: here `?t=`, on the back end)", () => {
    const line = '10.1.2.7 - - [03/Mar/2021:03:21:20 +0100] "POST /ecp/proxyLogon.ecp?t=1 HTTP/1.1" 241 0';
    const { findings } = driveText(IIS_NCSA_FORMAT, line, 'C/inetpub/logs/LogFiles/W3SVC2/u_nc210303.log', rulesOf('iis-nc'));
    expect(findings.map((f) => f.rule)).toContain('PL-14');
  });
});

function scan(name: string, files: Record<string, string>, args: string[] = []): HostResult {
  const root = join(dir, name);
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), data);
  }
  const out = join(dir, `${name}.json`);
  const r = exhunt(['scan', root, '--json', out, '--jobs', '1', ...args]);
  expect(r.stderr).toBe('');
  return (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
}

describe('scan, end to end', () => {
  const found = (h: HostResult) => h.findings.map((f) => `${f.rule}@${f.time ?? 'no time'}`).sort();

  it('an IIS-format log with the attack: compromised; without --iis-tz the findings have no time and skipped says why', () => {
    const h = scan('in-nozone', { [W1_IN]: `${NATIVE_ATTACK.join('\r\n')}\r\n` });
    expect(h.verdict).toBe('compromised');
    expect(found(h)).toEqual(['PS-02@no time', 'WS-40@no time']);
    expect(h.skipped).toEqual([{ path: W1_IN, reason: expect.stringMatching(/no zone was given.*give --iis-tz/) }]);
    const timed = scan('in-berlin', { [W1_IN]: `${NATIVE_ATTACK.join('\r\n')}\r\n` }, ['--iis-tz', 'Europe/Berlin']);
    expect(found(timed)).toEqual(['PS-02@2021-08-21T02:13:48Z', 'WS-40@2021-08-21T02:18:48Z']);
    expect(timed.coverage).toContainEqual(expect.objectContaining({ source: 'IIS W3SVC1 (IIS log file format)', first: '2021-08-21T02:13:48Z', last: '2021-08-21T02:18:48Z' }));
  });

  it("a clean IIS-format day without --iis-tz: insufficient-evidence, and 'to decide it' asks for the zone, not for logs it has", () => {
    const day = Array.from({ length: 96 }, (_, i) => native(`${Math.floor(i / 4)}:${String((i % 4) * 15).padStart(2, '0')}:12`, 'POST', '/EWS/Exchange.asmx', '-', { user: 'CONTOSO\\anna.berg' }));
    const h = scan('in-clean', { [W1_IN]: `${day.join('\r\n')}\r\n` });
    expect(h.verdict).toBe('insufficient-evidence');
    expect(h.findings).toEqual([]);
    expect(h.reasons).toContainEqual(expect.stringMatching(/^to decide it: scan again with --iis-tz .*hold 96 request\(s\)/));
  });

  it('an NCSA log with the attack is read, timed by its offsets', () => {
    const h = scan('nc', { [W1_NC]: `${NCSA_ATTACK.join('\n')}\n` });
    expect(h.verdict).toBe('compromised');
    expect(found(h)).toEqual(['PS-02@2021-08-21T02:13:48Z', 'WS-40@2021-08-21T02:18:48Z']);
  });

  it("an nginx log on the host with the attack is read: its findings count, but it never vouches for clean", () => {
    const h = scan('nginx', { 'C/nginx/logs/access.log': `${NCSA_ATTACK.join('\n')}\n` });
    expect(h.verdict).toBe('compromised');
    expect(found(h)).toEqual(['PS-02@2021-08-21T02:13:48Z', 'WS-40@2021-08-21T02:18:48Z']);
    const quiet = scan('nginx-quiet', { 'C/nginx/logs/access.log': '10.1.5.23 - - [21/Aug/2021:04:13:48 +0200] "GET /owa/ HTTP/1.1" 200 1024\n' });
    expect(quiet.verdict).toBe('insufficient-evidence');
    expect(quiet.coverage.map((c) => c.source)).toEqual(['web access log in NCSA/Apache format (a proxy or another web server: not counted as coverage)']);
  });

  it("a 2021 SSRF without X-Rps-CAT or a user is ProxyShell by the record's time, not the W3C line's date (review11 R16)", () => {
    // Was "logged after August 2022: ProxyShell or ProxyNotShell" with ProxyNotShell's CVEs: the family was read from
    // a W3C line's leading date, and an IIS-format line starts with the client.
    const nspi = native('16:03:27', 'POST', '/autodiscover/autodiscover.json', '@evil.corp/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@evil.corp');
    const timed = scan('in-nspi', { [W1_IN]: `${nspi}\r\n` }, ['--iis-tz', 'Europe/Berlin']);
    expect(timed.findings.map((f) => [f.rule, f.time, f.cves.join(' '), f.evidence.family])).toEqual([['PS-02', '2021-08-21T14:03:27Z', 'CVE-2021-34473 CVE-2021-34523 CVE-2021-31207', 'ProxyShell']]);
    const untimed = scan('in-nspi-nozone', { [W1_IN]: `${nspi}\r\n` });
    expect(untimed.findings.map((f) => f.summary)).toEqual([expect.stringContaining('(no user in the line and its time unknown: ProxyShell or ProxyNotShell')]);
  });

  it('--iis-tz must be a zone', () => {
    const r = exhunt(['scan', dir, '--iis-tz', 'Mars/Olympus']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--iis-tz: not a time zone/);
  });
});
