import { rng } from './support/rng.js';
import { describe, expect, it } from 'vitest';
import { builtinIocs } from '../src/rules/iocs.js';
import { readFileSync } from 'node:fs';
import {
  IisLineParser, detectIis, iisCoverageSource, iisFormat, iisUserAgent, owaAuthBuild, percentDecode, MALFORMED_FIELD,
} from '../src/parsers/iis.js';
import { IIS_RULES, cafeReqId, iisNeedles, iisRequest } from '../src/rules/iis.js';
import { isPrivateIp } from '../src/semantics.js';
import { countBy, driveFile, driveText } from './support/log-driver.js';
import { needExternal } from './support/external.js';

const HELSE = 'helsecert-2021-march-exchange/extracted/iis_W3SVC1_u_ex21030x_webshell_RedirSuiteServerProxy_access.log';
const TUNNA = 'EVTX-ATTACK-SAMPLES/Command_and_Control/Tunna_rdp_tunnel_IIS.log';
const HAMAD = 'hamad-she-proxyshell-writeup/iis_proxyshell_lines_as_published.log';
const APACHE = 'EVTX-ATTACK-SAMPLES/Command_and_Control/web_attack_and_isp_webshell_localhost_access_log.txt';
const FIX = new URL('./fixtures/iis/', import.meta.url).pathname;

const HEADER = [
  '#Software: Microsoft Internet Information Services 10.0',
  '#Version: 1.0',
  '#Date: 2021-03-03 00:00:00',
  '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken',
].join('\r\n');
const CHROME = 'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/88.0.4324.182+Safari/537.36';
/** One default-layout line; values from the public write-ups padded into the 15 fields. */
function line(method: string, stem: string, query: string, status: number, opts: { ip?: string; ua?: string; user?: string; port?: number; time?: string } = {}): string {
  return [
    '2021-03-03', opts.time ?? '02:13:48', '10.10.4.102', method, stem, query || '-', String(opts.port ?? 443), opts.user ?? '-',
    opts.ip ?? '203.0.113.50', opts.ua ?? CHROME, '-', String(status), '0', '0', '64',
  ].join(' ');
}
const W1 = 'C/inetpub/logs/LogFiles/W3SVC1/u_ex210303.log';
const W2 = 'C/inetpub/logs/LogFiles/W3SVC2/u_ex210303.log';
function run(lines: string[], rel = W1) {
  return driveText(iisFormat, [HEADER, ...lines].join('\r\n') + '\r\n', rel, IIS_RULES);
}
function only(lines: string[], rel = W1) {
  const r = run(lines, rel);
  return r.findings.map((f) => `${f.rule}/${f.severity}/${f.kind}`);
}

describe('IIS W3C parser', () => {
  it('recognises W3C headers and header-less Exchange lines, not Apache logs', (ctx) => {
    const [helse, hamad, apacheLog] = [HELSE, HAMAD, APACHE].map((rel) => needExternal(ctx, rel));
    expect(detectIis(HEADER, 'x/u_ex210303.log')).toBe(true);
    expect(detectIis(readFileSync(helse, 'utf8'), 'a.log')).toBe(true);
    expect(detectIis(readFileSync(hamad, 'utf8'), 'a.log')).toBe(true);
    // An Apache (Tomcat) access log is not W3C: parsers/web-logs.ts reads it as an NCSA log.
    expect(detectIis(readFileSync(apacheLog, 'utf8').slice(0, 4096), 'localhost_access_log.txt')).toBe(false);
    // An Exchange CSV log is not ours (and is not rejected either: another format reads it).
    expect(detectIis('#Software: Microsoft Exchange Server\n#Fields: DateTime,RequestId\n2021-03-03T01:02:03.000Z,abc\n', 'x.LOG')).toBe(false);
  });

  it('maps by #Fields, follows a header change mid-file, and keeps raw lines', () => {
    const text = [
      '#Fields: date time cs-method cs-uri-stem sc-status c-ip',
      '2021-03-03 01:00:00 GET /owa/ 200 1.2.3.4',
      '#Fields: time date c-ip sc-status cs-uri-stem cs-method cs(User-Agent)',
      '01:00:01 2021-03-04 5.6.7.8 302 /ecp/ POST Mozilla/5.0+(X11)',
    ].join('\n');
    const { records } = driveText(iisFormat, text, W1, []);
    expect(records).toHaveLength(2);
    expect(records[0].fields).toMatchObject({ 'cs-method': 'GET', 'sc-status': '200', 'c-ip': '1.2.3.4' });
    expect(records[1].fields).toMatchObject({ 'cs-method': 'POST', 'sc-status': '302', 'c-ip': '5.6.7.8', 'cs(User-Agent)': 'Mozilla/5.0+(X11)' });
    expect(records[1].time).toBe('2021-03-04T01:00:01Z');
    expect(records[1].raw).toBe(text.split('\n')[3]);
  });

  it('parses the Tunna IIS log: two directive blocks, comment line, CRLF', (ctx) => {
    const tunna = needExternal(ctx, TUNNA);
    const { records, findings } = driveFile(iisFormat, tunna, W1, IIS_RULES);
    const raw = readFileSync(tunna, 'utf8');
    const dataLines = raw.split(/\r?\n/).filter((l) => l !== '' && !l.startsWith('#')).length;
    expect(records).toHaveLength(dataLines);
    expect(records.every((r) => r.fields[MALFORMED_FIELD] === undefined)).toBe(true);
    expect(records[0]).toMatchObject({ line: 7, time: '2019-09-03T10:13:36Z' });
    expect(records[0].fields).toMatchObject({ 'cs-uri-stem': '/erp/conn.aspx', 'cs-uri-query': 'proxy&port=3389&ip=127.0.0.1', 'c-ip': '10.0.2.17' });
    expect(records.some((r) => r.raw?.endsWith('\r'))).toBe(false);
    // Every tunnel connect is reported (WS-44); the plain `proxy` polling is not a finding each.
    const tunnels = findings.filter((f) => f.rule === 'WS-44');
    expect(tunnels.length).toBe(raw.split('proxy&port=3389&ip=127.0.0.1').length - 1);
    expect(tunnels[0].summary).toContain('127.0.0.1:3389');
    expect(findings.every((f) => f.rule === 'WS-44')).toBe(true);
  });

  it('uses the default Exchange field list for header-less extracts and skips separator lines', (ctx) => {
    const { records } = driveFile(iisFormat, needExternal(ctx, HELSE), W1, []);
    expect(records).toHaveLength(8);
    expect(records[0].fields).toMatchObject({ 'c-ip': '139.162.202.236', 'sc-status': '200', 'cs-uri-stem': '/owa/auth/RedirSuiteServerProxy.aspx' });
  });

  it('does not crash on mangled lines and keeps the leading fields only', (ctx) => {
    const { records } = driveFile(iisFormat, needExternal(ctx, HAMAD), W1, []);
    expect(records).toHaveLength(5);
    for (const r of records) {
      expect(r.fields[MALFORMED_FIELD]).toBeDefined();
      expect(r.fields['cs-uri-stem']).toBe('/autodiscover/autodiscover.json');
      expect(r.fields['sc-status']).toBeUndefined();
    }
  });

  it('reads the site from the folder and the /owa/auth/<build>/ path as a CU-level build fact', () => {
    expect(iisCoverageSource('C/inetpub/logs/LogFiles/W3SVC2/u_ex210303.log')).toBe('IIS W3SVC2');
    expect(iisCoverageSource('logs\\w3svc1\\u_ex1.log')).toBe('IIS W3SVC1');
    expect(owaAuthBuild('/owa/auth/15.1.2176/themes/resources/x.png')).toBe('15.1.2176');
    expect(owaAuthBuild('/owa/auth/Current/themes/resources/x.png')).toBeNull();
    const p = new IisLineParser(W1);
    p.directive(HEADER.split('\r\n')[3]);
    p.parse(line('GET', '/owa/auth/15.2.986/themes/resources/favicon.ico', '', 200), 5);
    p.parse(line('GET', '/owa/auth/15.2.986/scripts/x.js', '', 200), 6);
    expect(p.facts()).toEqual([{ kind: 'build', value: '15.2.986', origin: 'IIS /owa/auth/<build>/ path', line: 5 }]);
  });

  it('notes each build at the first line that names it, however builds, cases and look-alikes alternate', () => {
    const stems = [
      '/owa/auth/15.1.2507/a.js', '/owa/auth/15.1.2507/b.png', '/OWA/auth/15.1.2507/c.js', '/owa/auth/15.1.25071/d.js',
      '/owa/auth/15.1.2507', '/owa/auth/15.1.2507x/e.js', '/owa/auth/15.2.986/f.js', '/owa/auth/15.1.2507/g.js',
      '/owa/auth/15.1.250/h.js', '/owa/auth/15.1.250', '/owa/auth/Current/i.js', '/owa/auth/15.0.1497/j.css',
    ];
    const r = rng(5);
    let builds = 0;
    for (let round = 0; round < 300; round++) {
      const order = Array.from({ length: 12 }, () => stems[Math.floor(r() * stems.length)]);
      const p = new IisLineParser(W1);
      order.forEach((stem, i) => p.observeField(stem, i + 1));
      // The reference: every stem through owaAuthBuild, each build at its first line.
      const want = new Map<string, number>();
      order.forEach((stem, i) => {
        const b = owaAuthBuild(stem);
        if (b !== null && !want.has(b)) want.set(b, i + 1);
      });
      expect(p.facts().map((f) => [f.value, f.line]), order.join(' ')).toEqual([...want]);
      builds += want.size;
    }
    expect(builds).toBeGreaterThan(600);
  });

  it('decodes percent escapes without throwing on bad ones, and + in user agents', () => {
    expect(percentDecode('/owa/x%40y.com/powershell')).toBe('/owa/x@y.com/powershell');
    expect(percentDecode('a%zz%40b%E0%A4')).toBe('a%zz@b%E0%A4');
    expect(iisUserAgent('Mozilla/5.0+(X11;+Linux)')).toBe('Mozilla/5.0 (X11; Linux)');
    expect(cafeReqId('&CorrelationID=<empty>;&cafeReqId=cde28fc4-299e;&encoding=;')).toBe('cde28fc4-299e');
    expect(cafeReqId('a=b')).toBeNull();
  });
});

describe('IIS rules on real lines', () => {
  it('HelseCERT extract: 5x200 web-shell access and 3x302 probes, both IOC IPs', (ctx) => {
    const { findings } = driveFile(iisFormat, needExternal(ctx, HELSE), W1, IIS_RULES);
    expect(countBy(findings, (f) => f.rule)).toEqual({ 'WS-40': 5, 'PX-R4': 3, 'PL-15': 8 });
    const ws = findings.filter((f) => f.rule === 'WS-40');
    expect(ws.every((f) => f.severity === 'high' && f.kind === 'webshell' && f.evidence.status === 200)).toBe(true);
    expect(new Set(ws.map((f) => f.client_ip))).toEqual(new Set(['139.162.202.236', '67.205.176.9']));
    expect(ws[0].evidence).toMatchObject({ request_id: 'cde28fc4-299e-4179-b3e9-de56f5c1d9ee', method: 'GET' });
    expect(ws[0].time).toBe('2021-03-05T03:06:27Z');
    expect(findings.filter((f) => f.rule === 'PX-R4').every((f) => f.evidence.status === 302 && f.kind === 'attempt')).toBe(true);
  });

  it('hamad-she ProxyShell lines: SSRF found from the raw line despite mangling', (ctx) => {
    const { findings } = driveFile(iisFormat, needExternal(ctx, HAMAD), W1, IIS_RULES);
    expect(findings.map((f) => f.rule)).toEqual(['PS-02', 'PS-02', 'PS-02', 'PS-02', 'PS-03']);
    expect(findings[4]).toMatchObject({ severity: 'critical', kind: 'exploitation' });
    expect(findings[4].evidence.marker).toBe('x-rps-cat');
    expect(findings.every((f) => f.cves.includes('CVE-2021-34473'))).toBe(true);
  });

  it('benign Exchange traffic (front end and back end) produces nothing', () => {
    expect(driveFile(iisFormat, FIX + 'benign_W3SVC1.log', W1, IIS_RULES).findings).toEqual([]);
    expect(driveFile(iisFormat, FIX + 'benign_W3SVC2.log', W2, IIS_RULES).findings).toEqual([]);
  });
});

describe('IIS rules on padded public patterns', () => {
  it('ProxyLogon POSTs grade PL-09 / PL-10 / PL-11 exclusively', () => {
    expect(only([line('POST', '/owa/auth/Current/themes/resources/logon.css', '', 200)])).toEqual(['PL-09/medium/attempt']);
    expect(only([line('POST', '/ecp/y.js', '', 200)])).toEqual(['PL-11/high/attempt']);
    expect(only([line('POST', '/ecp/y.js', '', 500)])).toEqual(['PL-10/medium/attempt']);
    expect(only([line('POST', '/ecp/DDI/x.js', '', 200)])).toEqual(['PL-10/medium/attempt']);
    expect(only([line('GET', '/ecp/y.js', '', 404, { ip: '10.0.0.9' })])).toEqual([]);
  });

  it('PL-24 SetObject Reset*VirtualDirectory: critical only with 200 and a machine account', () => {
    const q = 'schema=ResetOABVirtualDirectory&msExchEcpCanary=8BeqxxxWYd1L8.';
    expect(only([line('POST', '/ecp/DDI/DDIService.svc/SetObject', q, 200, { user: 'CONTOSO\\EX01$', port: 444 })], W2)).toContain('PL-24/critical/exploitation');
    expect(only([line('POST', '/ecp/DDI/DDIService.svc/SetObject', q, 500)])).toEqual(['PL-24/medium/attempt']);
    expect(only([line('POST', '/ecp/DDI/DDIService.svc/SetObject', 'schema=OABVirtualDirectory', 200)])).toEqual([]);
  });

  it('ProxyShell: status tells attempt from success', () => {
    const q = '@evil.corp/powershell/?X-Rps-CAT=VgEAVAdXaW5kb3dz&Email=autodiscover/autodiscover.json%3F@evil.corp';
    expect(only([line('POST', '/autodiscover/autodiscover.json', q, 200)])).toEqual(['PS-02/critical/exploitation']);
    expect(only([line('POST', '/autodiscover/autodiscover.json', q, 401)])).toEqual(['PS-01/medium/attempt']);
    expect(only([line('GET', '/autodiscover/autodiscover.json', '@evil.corp/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@evil.corp', 302)])).toEqual(['PS-02/high/exploitation']);
    expect(only([line('GET', '/autodiscover/autodiscover.json', 'a=1&Email=x', 200)])).toEqual(['PS-05/low/attempt']);
  });

  it('ProxyShell back end: machine account on 444 (PS-06), known internal clients excluded', () => {
    expect(only([line('GET', '/mapi/emsmdb/', '', 200, { user: 'CONTOSO\\EX01$', port: 444 })], W2)).toEqual(['PS-06/medium/attempt']);
    expect(only([line('GET', '/rpc/rpcproxy.dll', '', 200, { user: 'CONTOSO\\EX01$', port: 444 })], W2)).toEqual([]);
  });

  it('ProxyNotShell: 200 = exploited, non-200 = attempt, Nessus and zgrab = scan', () => {
    const q = '@evil.com/owa/&Email=autodiscover/autodiscover.json%3f@evil.com&Protocol=XYZ&FooProtocol=Powershell';
    expect(only([line('POST', '/autodiscover/autodiscover.json', q, 200)])).toEqual(['PNS-01/critical/exploitation']);
    expect(only([line('POST', '/autodiscover/autodiscover.json', q, 400)])).toEqual(['PNS-04/medium/attempt']);
    expect(only([line('GET', '/autodiscover/autodiscover.json', '@zdi/Powershell', 404, { ua: 'Mozilla/5.0+zgrab/0.x' })])).toEqual(['PNS-04/low/scan']);
    const nessus = line('GET', '/autodiscover/autodiscover.json', '@test.com/owa/?&Email=autodiscover/autodiscover.json%3F@test.com&Protocol=Powershell', 200);
    expect(only([nessus])).toEqual(['PNS-01/low/scan']);
  });

  it('a scanner user agent talks down what a check does, not a PowerShell session through the SSRF or a web shell used', () => {
    // review9 F1: the ProxyShell chain of 2021-08-21 (hamad-she lines) sent with zgrab's user agent.
    const zgrab = { ua: 'Mozilla/5.0+zgrab/0.x' };
    const ssrf = (target: string) => `@evil.corp/${target}?=&Email=autodiscover/autodiscover.json%3F@evil.corp`;
    expect(only([line('GET', '/autodiscover/autodiscover.json', ssrf('mapi/emsmdb/'), 200, zgrab)])).toEqual(['PS-02/low/scan']);
    expect(only([line('POST', '/autodiscover/autodiscover.json', ssrf('powershell/') + '&X-Rps-CAT=VgEAVAdXaW5kb3dzQwBBCEtlcmJlcm9z', 200, zgrab)])).toEqual(['PS-02/critical/exploitation']);
    expect(only([line('POST', '/aspnet_client/xfrdhsw.aspx', 'exec_code=Response.Write(1)', 200, zgrab)])).toContain('WS-40/critical/webshell');
    // ProxyLogon's virtual-directory reset (the request that writes the shell): no check sends it.
    const reset = line('POST', '/ecp/DDI/DDIService.svc/SetObject', 'schema=ResetOABVirtualDirectory&msExchEcpCanary=x', 200, { ...zgrab, user: 'CONTOSO\\EX01$', port: 444 });
    expect(only([reset], W2)).toContain('PL-24/critical/exploitation');
    // Nessus's published check keeps its scan grade whatever user agent it carries, and so does x.js.
    expect(only([line('GET', '/autodiscover/autodiscover.json', '@test.com/owa/?&Email=autodiscover/autodiscover.json%3F@test.com&Protocol=Powershell', 200, { ua: CHROME })])).toEqual(['PNS-01/low/scan']);
    // Only the check request itself: its text carried elsewhere in an attack's line changes nothing.
    const nessusText = '&x=@test.com/owa/?&Email=autodiscover/autodiscover.json%3F@test.com';
    expect(only([line('POST', '/autodiscover/autodiscover.json', ssrf('powershell/') + nessusText, 200)])).toEqual(['PS-02/critical/exploitation']);
    expect(only([line('POST', '/aspnet_client/xfrdhsw.aspx', `exec_code=Response.Write(1)${nessusText}`, 200)])).toContain('WS-40/critical/webshell');
  });

  it('OWASSRF: /owa/<mailbox>@…/powershell; a probe user agent never talks down an answered exploit or shell', () => {
    expect(only([line('POST', '/owa/mastermailbox%40outlook.com/powershell', '', 200)])).toEqual(['OW-01/critical/exploitation']);
    const poc = 'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/105.0.5195.54+Safari/537.36';
    expect(only([line('POST', '/owa/mastermailbox%40outlook.com/powershell', '', 200, { ua: poc })])).toEqual(['OW-02/critical/exploitation', 'PL-13/medium/ioc']);
    // The PoC's user agent is an OWASSRF indicator, not a ProxyLogon one (review10 R3).
    const ua = run([line('POST', '/owa/mastermailbox%40outlook.com/powershell', '', 200, { ua: poc })]).findings.find((f) => f.rule === 'PL-13');
    expect([ua?.title, ua?.cves]).toEqual(['Attacker user agent from the public OWASSRF proof of concept', ['CVE-2022-41080', 'CVE-2022-41082']]);
    // The user agent is the client's to choose (OWASSRF's PowerShell stage sends WinRM's own): never talked down.
    expect(only([line('POST', '/owa/user%40contoso.com/powershell', '', 200, { ua: 'Microsoft+WinRM+Client' })])).toEqual(['OW-01/critical/exploitation']);
    expect(only([line('POST', '/owa/auth/x0d.aspx', 'cmd=whoami', 200, { ua: 'AMProbe/Local/ClientAccess' })])).toEqual(['WS-40/critical/webshell', 'WS-41/critical/webshell']);
    expect(only([line('POST', '/powershell', '', 200, { port: 444, user: 'CONTOSO\\alice' })], W2)).toEqual(['OW-03/high/exploitation']);
  });

  it('web-shell commands, scanners and UAs', () => {
    expect(only([line('GET', '/owa/auth/aKdMadOeT.aspx', 'cmd=whoami', 200)])).toEqual(['WS-40/critical/webshell', 'WS-41/critical/webshell']);
    expect(only([line('GET', '/owa/auth/x.js', '', 500)])).toEqual(['PX-R1/low/scan']);
    expect(only([line('GET', '/ecp/abc.js', '', 404, { ip: '198.51.100.23' })])).toEqual(['PX-R2/low/attempt']);
    expect(only([line('POST', '/aspnet_client/system_web/abcdefgh.aspx', '', 200, { ua: 'antSword/v2.1' })])).toEqual(['WS-40/critical/webshell', 'PL-13/medium/ioc']);
    expect(only([line('GET', '/owa/auth/Current/themes/errorFS.aspx', '', 302)])).toEqual(['PX-R4/low/attempt']);
    expect(only([line('GET', '/aspnet_client/system_web/it.zip', '', 200)])).toEqual(['WS-42/medium/post-exploitation']);
    expect(only([line('POST', '/ecp/RulesEditor/InboxRules.svc/NewObject', 'SecurityToken=x', 500)])).toEqual(['PT-01/high/exploitation']);
  });

  it('attacker IPs match only inside their window', () => {
    const inWin = line('GET', '/owa/', '', 200, { ip: '103.77.192.219' });
    expect(only([inWin])).toEqual(['PL-15/medium/ioc']);
    expect(only([inWin.replace('2021-03-03', '2023-03-03')])).toEqual([]);
  });

  it('every IIS rule cites a source, and its needles admit its own test lines', () => {
    for (const r of IIS_RULES) {
      expect(r.references.length, r.id).toBeGreaterThan(0);
      expect(r.needles.length + (r.iocNeedles?.(builtinIocs()).length ?? 0), `${r.id} needs needles`).toBeGreaterThan(0);
    }
    expect(iisNeedles()).toContain('autodiscover.json');
    expect(isPrivateIp('10.1.2.3') && isPrivateIp('172.20.0.1') && !isPrivateIp('172.32.0.1') && !isPrivateIp('8.8.8.8')).toBe(true);
    // IPv4-mapped IPv6 (a dual-stack listener's c-ip) is judged by its IPv4 part: every private range, not three.
    expect(['::ffff:172.16.4.2', '::FFFF:169.254.1.1', '::ffff:100.64.0.9', '::ffff:10.0.0.1'].every(isPrivateIp)).toBe(true);
    expect(isPrivateIp('::ffff:8.8.8.8')).toBe(false);
    const rec = run([line('GET', '/a', '', 200)]).records[0];
    expect(iisRequest(rec)).toBe(iisRequest(rec));
    // The view is kept on its record, not in module state (brief: no module-level mutable state; it held a
    // module-level "last record" memo): two records read in turn each keep their own.
    const [a, b] = run([line('GET', '/owa/a', '', 200), line('POST', '/ecp/b', '', 404)]).records;
    const va = iisRequest(a);
    expect([iisRequest(b).path, iisRequest(a)]).toEqual(['/ecp/b', va]);
    expect([a.view, b.view]).toEqual([va, iisRequest(b)]);
    expect(readFileSync('src/rules/iis.ts', 'utf8')).not.toMatch(/^(?:export )?let /m);
  });
});
