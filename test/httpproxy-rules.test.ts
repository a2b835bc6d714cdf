import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { builtinIocs } from '../src/rules/iocs.js';
import type { LogRecord } from '../src/model.js';
import { ExchangeCsvParser } from '../src/parsers/exchange.js';
import { ECP_RULES, OABGEN_RULES } from '../src/rules/ecp.js';
import { gradeServerInfo, HTTPPROXY_RULES } from '../src/rules/httpproxy.js';
import { applyRules } from '../src/rules/finding.js';
import type { RawFinding } from '../src/engine/types.js';
import { OabGeneratorParser } from '../src/parsers/exchange.js';
import { external, needExternal } from './support/external.js';
import { rng } from './support/rng.js';

const HC = 'helsecert-2021-march-exchange/extracted';
const QZ = external('Qazeer-artefacts.help/extracted'); // vendored (CC0)
const FIELDS =
  'DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingType,RoutingHint,BackEndCookie';

function records(path: string, format: string): LogRecord[] {
  const parser = new ExchangeCsvParser(format, path);
  const out: LogRecord[] = [];
  readFileSync(path, 'utf8').split(/\r?\n/).forEach((line, i) => {
    if (line.startsWith('#')) parser.directive(line, i + 1);
    else if (line) {
      try {
        const r = parser.parse(line, i + 1);
        if (r) out.push(r);
      } catch {
        // comment lines in hand-made excerpts
      }
    }
  });
  return out;
}

function run(recs: LogRecord[], rules = [...HTTPPROXY_RULES, ...ECP_RULES]): RawFinding[] {
  const out: RawFinding[] = [];
  for (const r of recs) applyRules(rules.filter((x) => x.formats.includes(r.format)), r, out, { iocs: builtinIocs() });
  return out;
}

function row(values: Record<string, string>): LogRecord {
  const parser = new ExchangeCsvParser('httpproxy', 'x');
  parser.directive(`#Fields: ${FIELDS}`, 1);
  return parser.parse(FIELDS.split(',').map((f) => values[f] ?? '').join(','), 2)!;
}

describe('CVE-2021-26855 in HttpProxy (real HelseCERT incident rows)', () => {
  const helseCert = (ctx: Parameters<typeof needExternal>[0]) =>
    run(records(needExternal(ctx, `${HC}/httpproxy_ecp_Test-ProxyLogon_CVE-2021-26855_selected_columns.csv`), 'httpproxy'));

  it('grades all 11 ServerInfo~ rows instead of dropping two like Test-ProxyLogon', (ctx) => {
    const findings = helseCert(ctx);
    const byRule = (id: string) => findings.filter((f) => f.rule === id);
    expect(findings).toHaveLength(11);
    expect(byRule('PL-03')).toHaveLength(2); // autodiscover-only: attempted
    expect(byRule('PL-23')).toHaveLength(1); // ResetOABVirtualDirectory 200
    expect(byRule('PL-02')).toHaveLength(8);
    expect(byRule('PL-02').every((f) => f.kind === 'exploitation' && f.severity === 'critical')).toBe(true);
  });

  it('says a 241 on proxyLogon.ecp means a session was obtained, and keeps the correlation keys', (ctx) => {
    const findings = helseCert(ctx);
    const session = findings.filter((f) => String(f.evidence.backend_path).startsWith('/ecp/proxyLogon.ecp'));
    expect(session).toHaveLength(2);
    expect(session[0].summary).toMatch(/241.*session was obtained/);
    expect(session[0].client_ip).toBe('130.255.189.21');
    expect(session[0].time).toBe('2021-03-03T06:49:46.210Z');
    const reset = findings.find((f) => f.rule === 'PL-23')!;
    expect(reset.cves).toEqual(['CVE-2021-26855', 'CVE-2021-27065']);
    expect(reset.evidence.ecp_canary).toBe('8BeqxxxWYd1L8');
    expect(reset.evidence.ssrf_host).toBe('servernavn.xxx.local:444');
  });

  it('classifies the Microsoft nmap x.js probe (signature-base PR #125 shape) as a scanner probe', () => {
    const [hit] = run([row({ DateTime: '2021-03-07T15:04:04.546Z', UrlStem: '/owa/auth/x.js', AnchorMailbox: 'ServerInfo~localhost/ecp/default.flt?', HttpStatus: '500', RoutingHint: 'X-AnonResource-Backend-Cookie', TargetServer: 'localhost' })]);
    expect(hit.rule).toBe('PL-04');
    expect(hit.kind).toBe('scan');
  });

  it('grades a localhost SSRF by what it reached unless it is the scanners\' check page (review9 F2)', () => {
    // The HelseCERT chain with the back end named `localhost:444` (a single-server deployment's own back end).
    const at = (anchor: string, status: string) => gradeServerInfo(row({ DateTime: '2021-03-03T06:49:46.210Z', UrlStem: '/ecp/y.js', AnchorMailbox: anchor, HttpStatus: status }))!;
    expect(at('ServerInfo~a]@localhost:444/ecp/proxyLogon.ecp?#', '241')).toMatchObject({ grade: 'PL-02', summary: expect.stringMatching(/241.*session was obtained/) });
    expect(at('ServerInfo~a]@127.0.0.1:444/ecp/DDI/DDIService.svc/SetObject?schema=OABVirtualDirectory#', '200').grade).toBe('PL-02');
    expect(at('ServerInfo~localhost/ecp/default.flt?', '500').grade).toBe('PL-04');
    expect(at('ServerInfo~localhost/owa/auth/logon.aspx?', '200').grade).toBe('PL-04');
  });

  it('classifies an out-of-band canary as a scanner and a no-slash variant as unconfirmed', () => {
    expect(gradeServerInfo(row({ AnchorMailbox: 'ServerInfo~abc.burpcollaborator.net/ecp/default.flt?', DateTime: '2021-03-08T00:00:00Z' }))!.grade).toBe('PL-05');
    expect(gradeServerInfo(row({ AnchorMailbox: 'ServerInfo~localhost~197991811', DateTime: '2021-03-08T00:00:00Z' }))!.grade).toBe('PL-08');
    const [attempt] = run([row({ AnchorMailbox: 'ServerInfo~a]@ex01.corp.local:444/ecp/DDI/DDIService.svc/SetObject?x#', HttpStatus: '500', DateTime: '2021-03-08T00:00:00Z' })]);
    expect(attempt).toMatchObject({ rule: 'PL-02', title: 'ProxyLogon SSRF to a back-end path (not answered with success)', severity: 'high', kind: 'attempt' });
  });

  it('finds the BackEndCookie and RoutingHint variants, and nothing in benign traffic', () => {
    const out = run([
      row({ DateTime: '2021-03-08T00:00:00Z', BackEndCookie: 'Server~a]@ex01.corp.local:444/mapi/emsmdb/?~1942062522', AnchorMailbox: 'Sid~S-1-5-21-1' }),
      row({ DateTime: '2021-03-08T00:00:01Z', RoutingHint: 'X-BEResource-Cookie', AnchorMailbox: '' }),
      row({ DateTime: '2021-03-08T00:00:02Z', BackEndCookie: 'Server~server_hostname.domain.test~1942063431~2023-01-11T16:11:44', AnchorMailbox: 'Sid~S-1-5' }),
    ]);
    expect(out.map((f) => f.rule)).toEqual(['PL-06', 'PL-07']);
    const samples = readdirSync(QZ).filter((f) => f.includes('HttpProxy'));
    expect(samples).toHaveLength(8);
    const benign = samples.flatMap((f) => records(`${QZ}/${f}`, 'httpproxy'));
    expect(benign.length).toBeGreaterThanOrEqual(10);
    expect(run(benign)).toEqual([]);
  });
});

describe('CVE-2021-27065 in ECP Server logs', () => {
  it('fires on both real HelseCERT web-shell commands even though their S:URL tail was removed', (ctx) => {
    const recs = records(needExternal(ctx, `${HC}/ecpserver_ECPServer20210303-1_CVE-2021-27065_selected_fields.log`), 'ecp-server');
    const findings = run(recs).filter((f) => f.rule === 'PL-22');
    expect(findings).toHaveLength(2);
    expect(findings[0].evidence.shell_password).toBe('klk123456');
    expect(findings[0].evidence.parameter).toBe('ExternalUrl');
    expect(findings[0].summary).toContain('<script language=\\"JScript\\" runat=\\"server\\">');
    expect(findings.map((f) => f.time)).toEqual(['2021-03-03T06:49:53.772Z', '2021-03-03T06:59:17.960Z']);
  });

  it('reports the attacker clean-up as context, and a normal URL change not at all', () => {
    const parser = new ExchangeCsvParser('ecp-server', 'x');
    parser.directive('#Fields: TimeStamp,ServerName,EventId,EventData', 1);
    const rec = (cmd: string) => parser.parse(`2021-03-10T10:00:00.000Z,EX01,ECP.Request,"S:TIME=1;'S:CMD=${cmd}';S:URL=/ecp/DDI/DDIService.svc/SetObject?msExchEcpCanary=abc&schema=OABVirtualDirectory"`, 2)!;
    const out = run([rec("Set-OabVirtualDirectory.ExternalUrl=''https://mail.contoso.com/OAB''.Identity=''x''"), rec('Remove-OABVirtualDirectory.Force=$true')]);
    expect(out.map((f) => [f.rule, f.severity])).toEqual([['PL-22b', 'info']]);
    expect(out[0].evidence.ecp_canary).toBe('abc');
  });

  it('fires on InternalUrl markup too (any *Url parameter of any Set-*VirtualDirectory)', () => {
    const parser = new ExchangeCsvParser('ecp-server', 'x');
    parser.directive('#Fields: TimeStamp,ServerName,EventId,EventData', 1);
    const r = parser.parse(`2021-03-10T10:00:00.000Z,EX01,ECP.Request,"'S:CMD=Set-OwaVirtualDirectory.InternalUrl=''http://x/<%eval(Request.Item[""""z""""],""""unsafe"""")%>'''"`, 2)!;
    expect(run([r]).map((f) => f.rule)).toEqual(['PL-22']);
  });
});

describe('CVE-2021-26858 in OABGeneratorLog', () => {
  const p = new OabGeneratorParser('oab.log');
  const hits = (line: string) => run([p.parse(line, 1)!], OABGEN_RULES);
  it('flags a temporary file outside ClientAccess\\OAB and leaves the legitimate folder alone', () => {
    const bad = hits("2021-03-03T07:00:00.000Z Download failed and temporary file 'C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\abcdefgh.aspx' needs to be removed");
    expect(bad).toHaveLength(1);
    expect(bad[0].evidence.file).toBe('C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\abcdefgh.aspx');
    expect(bad[0].evidence.script_extension).toBe(true);
    expect(hits("Download failed and temporary file 'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\ClientAccess\\OAB\\Temp\\oab1.tmp' needs to be removed")).toHaveLength(0);
    expect(hits("Download failed and temporary file 'E:\\Exchange2016\\ClientAccess\\OAB\\Temp\\x.aspx' needs to be removed")).toHaveLength(1);
  });
});

describe('PL-06 byte check (before a row is parsed)', () => {
  const pl06 = HTTPPROXY_RULES.find((r) => r.id === 'PL-06')!;
  const parser = new ExchangeCsvParser('httpproxy', 'x');
  parser.directive(`#Fields: ${FIELDS}`, 1);
  const csv = (v: string) => (/[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const line = (values: Record<string, string>) => FIELDS.split(',').map((f) => csv(values[f] ?? '')).join(',');
  const passes = (text: string) => {
    const b = Buffer.from(text, 'utf8');
    return pl06.lineBytes!(b, 0, b.length);
  };

  it('is a necessary condition: every row PL-06 fires on passes it (random cookies, stems, quoting, case)', () => {
    const rnd = rng(606);
    const parts = ['Server~', 'SERVER~', 'sErVeR~', 'server', 'erver~', '~', '/', '%2f', 'a', '"', ',', 'Database~', 'ServerInfo~', ' ', 'é', 'ſerver~'];
    const pick = (n: number) => Array.from({ length: n }, () => parts[Math.floor(rnd() * parts.length)]).join('');
    const ctx = { iocs: builtinIocs() };
    let fired = 0;
    let rejected = 0;
    for (let n = 0; n < 10_000; n++) {
      const cookie = (rnd() < 0.5 ? 'Server~' : '') + pick(1 + Math.floor(rnd() * 6));
      const text = line({ DateTime: '2021-03-08T00:00:00Z', UrlStem: pick(Math.floor(rnd() * 3)), AnchorMailbox: 'Sid~S-1-5', BackEndCookie: cookie });
      const rec = parser.parse(text, 2)!;
      if (pl06.match(rec, ctx) !== null) {
        fired++;
        expect(passes(text), text).toBe(true);
      } else if (!passes(text)) rejected++;
    }
    expect(fired).toBeGreaterThan(500);
    expect(rejected).toBeGreaterThan(3_000);
  });

  it("rejects the PowerShell front end's own cookie, so those rows are never parsed", () => {
    expect(passes(line({ UrlStem: '/powershell', BackEndCookie: 'Server~server_hostname.domain.test~1942063431~2023-01-11T16:11:44' }))).toBe(false);
    expect(passes(line({ UrlStem: '/powershell', BackEndCookie: 'Server~ex01.corp.local:444/mapi/emsmdb/?~1942062522' }))).toBe(true);
    // The `/` must come after the first `server~`, and a `~` after the `/`.
    expect(passes('/x,Server~host~1,')).toBe(false);
    expect(passes('Server~host/x,')).toBe(false);
    expect(passes('server~/~')).toBe(true);
  });
});
