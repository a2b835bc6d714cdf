// Shipped rules written as data (conditions over mapped record fields): their needles follow from their conditions,
// they export to Sigma v2.1 (official JSON Schema), and an exported rule loaded back with `scan --rules` fires on
// exactly the log lines its shipped rule fires on, through the real parsers.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { LogRecord } from '../src/model.js';
import { HTTPPROXY_FORMAT } from '../src/parsers/exchange.js';
import { iisFormat } from '../src/parsers/iis.js';
import { iisField } from '../src/rules/iis.js';
import { compileCondition, needleChoices } from '../src/rules/conditions.js';
import { builtinIocs } from '../src/rules/iocs.js';
import { defaultRuleSet } from '../src/rules/ruleset.js';
import { defaultMapping, sigmaGrades, sigmaRule } from '../src/rules/sigma.js';
import type { RecordRule } from '../src/rules/types.js';
import type { RawFinding } from '../src/model.js';
import { gradesOf } from '../src/report/rules-catalog.js';
import { meaningOf } from '../src/rules/finding.js';
import { exhunt } from './support/cli.js';
import { driveText } from './support/log-driver.js';

const set = defaultRuleSet();
const shipped = [...new Map([...set.recordRules, ...set.evtxRules].map((r) => [r.id, r])).values()];
const declarative = shipped.filter((r) => r.condition !== undefined);
const tmp = mkdtempSync(join(tmpdir(), 'exhunt-declarative-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('shipped declarative rules', () => {
  it('cover the IIS, HttpProxy, MSExchange Management, Application and Defender families', () => {
    expect(declarative.map((r) => r.id).sort()).toEqual(['OW-01', 'OW-02', 'PL-01', 'PL-06', 'PL-07', 'PL-09', 'PL-10', 'PL-11', 'PL-24', 'PL-40', 'PL-41', 'PS-07', 'PS-09', 'PT-01', 'PX-13', 'PX-16', 'WS-42', 'WS-44', 'WS-45', 'WS-46']);
  });

  it('keep the needles they had as code (event-log rules read every event: none)', () => {
    // Needle lists dumped from the code matchers before they became conditions.
    for (const id of ['PL-40', 'PL-41', 'PS-07', 'PX-16']) expect(declarative.find((r) => r.id === id)!.needles, id).toEqual([]);
    for (const id of ['OW-01', 'OW-02']) expect(declarative.find((r) => r.id === id)!.needles, id).toEqual(['/powershell']);
    // WS-44's condition reads the query as logged, so it implies the needles it had as code.
    expect(declarative.find((r) => r.id === 'WS-44')!.needles).toEqual(['proxy&port=', 'cmd=connect']);
  });

  it('prefilter on needles their condition implies (every literal of one conjunct contains one of them)', () => {
    for (const r of declarative.filter((x) => !x.formats.every((f) => f === 'evtx') && x.needles.length > 0)) {
      const choices = needleChoices(r.condition!);
      const implied = choices.some((c) => c.every((lit) => r.needles.some((n) => lit.toLowerCase().includes(n.toLowerCase()))));
      expect(implied, `${r.id}: needles ${r.needles.join(' | ')} are not implied by any of ${JSON.stringify(choices)}`).toBe(true);
    }
  });

  it('compare case-insensitively exactly as lower-casing the whole value would, non-ASCII values included', () => {
    const read = (rec: { v: string }) => rec.v;
    const ops = ['equals', 'startswith', 'endswith', 'contains'] as const;
    // The Kelvin sign lower-cases to ASCII k; dotted capital I to i + U+0307 (longer); final sigma by context.
    const values = ['Error', 'ERROR', 'error', 'Erro', 'Errors', 'xError', '\u212Aelvin', 'kelvin', 'abİ', 'ABI', 'abİx', 'Σx', 'MSExchange RBAC', 'msexchange rbac ', ''];
    const wants = [['error'], ['kelvin'], ['abi'], ['Error', 'x'], ['MSExchange RBAC'], ['ab']];
    for (const op of ops)
      for (const w of wants) {
        const test = compileCondition({ field: 'v', op, values: w }, read);
        const lw = w.map((x) => x.toLowerCase());
        for (const v of values) {
          const lv = v.toLowerCase();
          const want = lw.some((x) => (op === 'equals' ? lv === x : op === 'startswith' ? lv.startsWith(x) : op === 'endswith' ? lv.endsWith(x) : lv.includes(x)));
          expect(test({ v }), `${op} ${JSON.stringify(w)} on ${JSON.stringify(v)}`).toBe(want);
        }
      }
  });

  it('read a field as logged where a leaf says so (an escaped separator is not a separator), and derive needles to match', () => {
    const rec = (query: string): LogRecord => ({ format: 'iis', path: 'u_ex.log', time: null, fields: { 'cs-method': 'GET', 'cs-uri-stem': '/conn.aspx', 'cs-uri-query': query } });
    const decoded = compileCondition({ field: 'cs-uri-query', op: 'contains', values: ['proxy&port='] }, iisField);
    const logged = compileCondition({ field: 'cs-uri-query', op: 'contains', values: ['proxy&port='], logged: true }, iisField);
    expect([decoded(rec('proxy&port=1')), decoded(rec('proxy%26port=1'))]).toEqual([true, true]);
    expect([logged(rec('proxy&port=1')), logged(rec('proxy%26port=1'))]).toEqual([true, false]);
    expect(needleChoices({ field: 'cs-uri-query', op: 'contains', values: ['proxy&port='] })).toEqual([['proxy']]);
    expect(needleChoices({ field: 'cs-uri-query', op: 'contains', values: ['proxy&port='], logged: true })).toEqual([['proxy&port=']]);
  });

  it('the implication check fails for a needle the condition does not imply', () => {
    const pl09 = declarative.find((r) => r.id === 'PL-09')!;
    const choices = needleChoices(pl09.condition!);
    expect(choices.some((c) => c.every((lit) => lit.toLowerCase().includes('/ews/')))).toBe(false);
    expect(choices).toContainEqual(['/owa/auth/Current/themes/resources/']);
  });
});

// ---- round trip through the real parsers ------------------------------------------------------------------------

const IIS_HEAD = [
  '#Software: Microsoft Internet Information Services 10.0',
  '#Version: 1.0',
  '#Date: 2021-03-03 00:00:00',
  '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken',
];
const iis = (method: string, stem: string, query: string, status: number, user = '-', port = 443, ua = 'python-requests/2.25.1') =>
  `2021-03-03 01:02:03 10.0.0.5 ${method} ${stem} ${query || '-'} ${port} ${user} 203.0.113.9 ${ua} - ${status} 0 0 15`;
/** The public OWASSRF PoC's user agent as IIS logs it (SigmaHQ 92d78c63). */
const POC_UA = 'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/105.0.5195.54+Safari/537.36';
/** One line per exported IIS rule (published request shapes), plus benign lines none of them may fire on. */
const IIS_LINES = [
  iis('POST', '/owa/auth/Current/themes/resources/logon.css', '', 200), // PL-09 (Volexity)
  iis('POST', '/ecp/DDI/x.js', '', 404), // PL-10
  iis('POST', '/ecp/y.js', '', 200), // PL-11 (signature-base LOG_APT_HAFNIUM_Exchange_Log_Traces_Mar21_1)
  iis('POST', '/ecp/DDI/DDIService.svc/SetObject', 'schema=ResetOABVirtualDirectory&msExchEcpCanary=x', 200, 'CONTOSO\\MAIL01$'), // PL-24
  iis('POST', '/ecp/RulesEditor/InboxRules.svc/NewObject', 'SecurityToken=x', 500), // PT-01 (SigmaHQ 56973b50)
  iis('GET', '/owa/auth/Current/exported.zip', '', 200), // WS-42
  iis('POST', '/ecp/DDI/DDIService.svc/SetObject', 'schema=ResetOABVirtualDirectory&msExchEcpCanary=x', 200, 'CONTOSO\\admin'), // PL-24 answered
  iis('POST', '/ecp/DDI/DDIService.svc/SetObject', 'schema=ResetOABVirtualDirectory&msExchEcpCanary=x', 500), // PL-24 attempt
  iis('GET', '/owa/auth/Current/themes/resources/logon.css', '', 200),
  iis('POST', '/ecp/DDI/DDIService.svc/GetList', 'schema=VirtualDirectory', 200),
  iis('POST', '/EWS/Exchange.asmx', '', 200),
  iis('GET', '/owa/auth/Current/exported.zip', '', 404),
  // Line 17 on: OWASSRF (CrowdStrike / Rapid7 request shapes, SigmaHQ 181f49fa and 92d78c63) and web tunnels
  // (the EVTX-ATTACK-SAMPLES Tunna log's request, reGeorg's connect), then look-alikes none of them may fire on.
  iis('POST', '/owa/mastermailbox%40outlook.com/powershell', '', 200, '-', 443, POC_UA), // OW-02
  iis('POST', '/owa/mastermailbox%40outlook.com/powershell', '', 401, '-', 443, POC_UA), // OW-02 attempt
  iis('POST', '/owa/user%40contoso.com/powershell', 'clientApplication=x', 200), // OW-01
  iis('GET', '/owa/user@contoso.com/PowerShell', '', 500), // OW-01 attempt
  iis('POST', '/erp/conn.aspx', 'proxy&port=3389&ip=127.0.0.1', 200), // WS-44 (Tunna)
  iis('POST', '/aspnet_client/tunnel.ashx', 'cmd=connect&target=10.0.0.20&port=445', 200), // WS-44 (reGeorg)
  iis('POST', '/erp/conn.aspx', 'proxy', 200), // Tunna polling: not a connect
  iis('POST', '/owa/mastermailbox/powershell', '', 200, '-', 443, POC_UA), // no explicit-logon mailbox
  iis('POST', '/powershell', 'clientApplication=ActiveMonitor;PSVersion=5.1', 200, 'CORP\\HealthMailbox1', 443, 'Microsoft+WinRM+Client'),
  iis('GET', '/owa/', 'realm=user@contoso.com&path=/powershell', 200),
  iis('POST', '/erp/conn.css', 'proxy&port=3389&ip=127.0.0.1', 200), // not a script
  iis('POST', '/erp/conn.aspx', 'xproxy&port=3389&ip=127.0.0.1', 200), // not the parameter
  iis('RPC_IN_DATA', '/rpc/rpcproxy.dll', 'mail01.corp.example.org:6001', 200), // `proxy` in the stem only
  iis('GET', '/ews/connect.aspx', 'cmd=connected&target=x', 200),
  iis('POST', '/erp/conn.aspx', 'proxy%26port=3389%26ip=127.0.0.1', 200), // escaped: the script sees no port parameter
];

const HP_FIELDS =
  'DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingType,RoutingHint,BackEndCookie';
const hp = (o: { stem: string; anchor?: string; status?: number; hint?: string; cookie?: string }) =>
  `2021-03-03T01:02:03.000Z,${crypto.randomUUID()},15,1,2176,2,,Ecp,mail.contoso.com,${o.stem},,,false,,,${o.anchor ?? ''},python-requests/2.25.1,203.0.113.9,MAIL01,${o.status ?? 200},200,,POST,,,,,${o.hint ?? ''},${o.cookie ?? ''}`;
/** HelseCERT / Test-ProxyLogon shapes, one per exported HttpProxy rule, then benign rows. */
const HP_LINES = [
  `#Software: Microsoft Exchange Server`,
  `#Fields: ${HP_FIELDS}`,
  hp({ stem: '/ecp/y.js', anchor: 'ServerInfo~a]@MAIL01.contoso.local:444/autodiscover/autodiscover.xml?#', status: 200, hint: 'X-BEResource-Cookie' }), // PL-01 (PL-03)
  hp({ stem: '/ecp/x.js', cookie: 'Server~MAIL01.contoso.local/ecp/~1941962753', hint: 'X-BEResource-Cookie' }), // PL-06 and PL-07
  hp({ stem: '/owa/auth/zxc.aspx', status: 200 }), // WS-45
  hp({ stem: '/owa/auth/zxc.aspx', status: 404 }), // WS-45 probe
  hp({ stem: '/owa/auth/logon.aspx', status: 200 }),
  hp({ stem: '/mapi/emsmdb/', anchor: 'SMTP:user@contoso.com', hint: 'AnchorMailboxHeader', cookie: 'MailboxGuid~x' }),
];

function exportRules(): { dir: string; files: string[] } {
  const dir = join(tmp, 'export');
  const r = exhunt(['rules', 'export', '--sigma', dir]);
  expect(r.code, r.stderr).toBe(0);
  return { dir, files: readdirSync(dir).filter((f) => f.endsWith('.yml')).sort() };
}

/** The exported grade (a grade written as a condition) a shipped rule's finding falls in, else the rule id. */
function gradeName(rule: RecordRule, f: { rule: string; title: string; severity: string; kind: string }): string {
  const g = gradesOf(rule).find((x) => sigmaGrades(rule).includes(x.name) && x.id === f.rule && x.title === f.title && x.severity === f.severity && x.kind === f.kind);
  return g?.name ?? rule.id;
}

/** Rule (or grade) name → the line numbers it fired on. */
function fired(rules: readonly RecordRule[], format: Parameters<typeof driveText>[0], text: string, rel: string, key: (r: RecordRule, f: RawFinding) => string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const rule of rules) {
    for (const f of driveText(format, text, rel, [rule], builtinIocs()).findings) {
      const k = key(rule, f);
      out.set(k, [...new Set([...(out.get(k) ?? []), f.source.line!])]);
    }
  }
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

describe('Sigma export of the declarative rules (rules export --sigma)', () => {
  const { dir, files } = exportRules();
  const exported = files.map((f) => ({ file: f, text: readFileSync(join(dir, f), 'utf8') }));
  const back = exported.map((e) => ({ ...e, rule: sigmaRule(e.text, e.file, defaultMapping()) }));
  const shippedId = (file: string) => /# exhunt rule (\S+)/.exec(readFileSync(join(dir, file), 'utf8'))![1];
  /** The shipped rule id, or `<grade>` for a grade exported as its own rule. */
  const exportedName = (file: string) => {
    const m = /# exhunt rule (\S+)(?: grade "([^"]+)")?/.exec(readFileSync(join(dir, file), 'utf8'))!;
    return m[2] ?? m[1];
  };

  it('writes every declarative rule, valid against the official Sigma v2.1 schema, with its logsource and tags', () => {
    const schema = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'sigma', 'spec', 'sigma-detection-rule-schema.json'), 'utf8'));
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
    expect([...new Set(files.map(shippedId))].sort()).toEqual(declarative.map((r) => r.id).sort());
    // Grades written as conditions export as their own rules.
    expect(files.map(exportedName).filter((n) => !declarative.some((r) => r.id === n)).sort()).toEqual(['OW-01 attempt', 'OW-02 attempt', 'PL-24 answered', 'PL-24 attempt', 'WS-45 probe']);
    for (const e of exported) {
      const doc = parseYaml(e.text);
      expect(validate(doc), `${e.file}: ${JSON.stringify(validate.errors)}`).toBe(true);
      const rule = declarative.find((r) => r.id === shippedId(e.file))!;
      const logsource = {
        webserver: { category: 'webserver' },
        'msexchange-management': { product: 'windows', service: 'msexchange-management' },
        'windows-application': { product: 'windows', service: 'application' },
        'windows-defender': { product: 'windows', service: 'windefend' },
        'exchange-httpproxy': { product: 'exchange', service: 'httpproxy' },
      }[rule.sigmaExport!.logsource];
      expect(doc.logsource, e.file).toEqual(logsource);
      expect(doc.tags.filter((t: string) => t.startsWith('attack.t')).length, `${e.file}: an attack technique tag`).toBeGreaterThan(0);
      for (const cve of rule.cves) expect(doc.tags).toContain(`cve.${cve.slice(4).toLowerCase()}`);
      // The level is the rule's or the grade's severity, never a default.
      const meaning = meaningOf(rule, exportedName(e.file) === rule.id ? undefined : exportedName(e.file));
      expect([doc.level, doc.title], e.file).toEqual([{ critical: 'critical', high: 'high', medium: 'medium', low: 'low', info: 'informational' }[meaning.severity], meaning.title]);
    }
    const level = (name: string) => parseYaml(exported.find((e) => exportedName(e.file) === name)!.text).level;
    expect(['PL-24', 'PL-24 answered', 'PL-24 attempt', 'WS-45', 'WS-45 probe', 'PS-09', 'PX-16', 'OW-02', 'OW-02 attempt', 'WS-44'].map(level)).toEqual([
      'critical', 'high', 'medium', 'high', 'low', 'informational', 'critical', 'critical', 'high', 'high',
    ]);
  });

  /** Line numbers each shipped rule of `id` fires on, and each re-imported exported rule (keyed by its shipped id). */
  function beforeAfter(id: string, format: Parameters<typeof driveText>[0], text: string, rel: string) {
    const before = fired(declarative.filter((r) => r.formats.includes(id)), format, text, rel, gradeName);
    const after = fired(back.map((b) => b.rule).filter((r) => r.formats.includes(id)), format, text, rel, (r) => exportedName(back.find((b) => b.rule === r)!.file));
    return { before, after };
  }

  it('IIS: each re-imported rule fires on exactly the W3C lines its shipped rule fires on', () => {
    const { before, after } = beforeAfter('iis', iisFormat, [...IIS_HEAD, ...IIS_LINES].join('\r\n'), 'W3SVC1/u_ex210303.log');
    expect(before).toEqual(
      new Map([
        ['OW-01', [19]], ['OW-01 attempt', [20]], ['OW-02', [17]], ['OW-02 attempt', [18]], ['PL-09', [5]], ['PL-10', [6]], ['PL-11', [7]], ['PL-24', [8]],
        ['PL-24 answered', [11]], ['PL-24 attempt', [12]], ['PT-01', [9]], ['WS-42', [10]], ['WS-44', [21, 22]],
      ]),
    );
    expect(after).toEqual(before);
  });

  it('HttpProxy (custom logsource product: exchange, service: httpproxy): the same rows fire before and after', () => {
    const { before, after } = beforeAfter('httpproxy', HTTPPROXY_FORMAT, HP_LINES.join('\r\n'), 'Ecp/HttpProxy_2021030301-1.LOG');
    expect(before).toEqual(new Map([['PL-01', [3]], ['PL-06', [4]], ['PL-07', [4]], ['WS-45', [5]], ['WS-45 probe', [6]]]));
    expect(after).toEqual(before);
  });

  it('MSExchange Management: the cmdlet rules fire on the same events before and after (keywords over the message)', () => {
    const event = (cmdlet: string, params: string): LogRecord => ({
      format: 'evtx',
      path: 'MSExchange Management.evtx',
      record: 1,
      time: '2021-08-10T01:02:03.000Z',
      fields: { Channel: 'MSExchange Management', Provider: 'MSExchange CmdletLogs', EventID: '1', 'Data[0]': cmdlet, 'Data[1]': params, Message: `${cmdlet}\n${params}` },
    });
    // hamad-she's ProxyShell extract; SigmaHQ 4fe151c2 (Install-TransportAgent).
    const events = [
      event('Remove-MailboxExportRequest', '-Identity "contoso.local/Users/Administrator\\MailboxExport" -Confirm "False"'),
      event('Install-TransportAgent', '-Name "Security Interop Service" -TransportAgentFactory "Microsoft.Exchange.Security.Interop.SecurityInteropAgentFactory" -AssemblyPath "c:\\windows\\temp\\x.dll"'),
      event('Get-MailboxExportRequest', ''),
    ];
    const ctx = { iocs: builtinIocs() };
    const fires = (rules: readonly RecordRule[], id: (r: RecordRule) => string) =>
      events.map((e) => rules.filter((r) => r.formats.includes('evtx') && r.match(e, ctx) !== null).map(id).sort());
    const before = fires(declarative.filter((r) => r.formats.includes('evtx')), (r) => r.id);
    const after = fires(back.map((b) => b.rule), (r) => shippedId(back.find((b) => b.rule === r)!.file));
    expect(before).toEqual([['PS-09'], ['PX-13'], []]);
    expect(after).toEqual(before);
  });

  it('Application and Defender logs: PL-40, PL-41, PS-07 and PX-16 fire on the same events before and after', () => {
    const event = (channel: string, provider: string, id: string, level: string, message: string, extra: Record<string, string> = {}): LogRecord => ({
      format: 'evtx',
      path: `${channel.replace(/\//g, '%4')}.evtx`,
      record: 1,
      time: '2021-03-03T01:02:03.000Z',
      fields: { Channel: channel, Provider: provider, EventID: id, Level: level, Message: message, ...extra },
    });
    const APP = 'Application';
    const DEF = 'Microsoft-Windows-Windows Defender/Operational';
    const defender = (id: string, threat: string) => event(DEF, 'Microsoft-Windows-Windows Defender', id, '3', `Microsoft Defender Antivirus has detected malware. Name: ${threat}`, { 'Threat Name': threat, Path: 'file:_C:\\inetpub\\wwwroot\\aspnet_client\\x.aspx', 'Action Name': 'Quarantine' });
    // Test-ProxyLogon's UM query (Level 2, InvalidCastException); Sentinel 0625fcce's phrases; Beaumont's RBAC 23;
    // Defender names from artefacts.help. Then benign look-alikes.
    const events = [
      event(APP, 'MSExchange Unified Messaging', '1', '2', 'An unhandled exception occurred in a UM worker process: System.InvalidCastException: Unable to cast object'),
      event(APP, 'MSExchange Common', '4999', '2', 'Watson report about to be sent for process id: 4424, with parameters: E12IIS, c-RTL-AMD64, 15.01.2106.002, UMWorkerProcess, M.Exchange.UM.UMCore, TextFormattingRunProperties'),
      event(APP, 'MSExchange RBAC', '23', '4', 'Building a new PowerShell runspace for user Administrator'),
      defender('1116', 'Backdoor:ASP/Chopper.F!dha'),
      defender('1117', 'Exploit:Win32/CVE-2021-31207.B'),
      event(APP, 'MSExchange Unified Messaging', '1', '2', 'An unhandled exception occurred in a UM worker process: System.OutOfMemoryException'),
      event(APP, 'MSExchange Unified Messaging', '1', '4', 'System.InvalidCastException (information, not an error)'),
      defender('1116', 'Trojan:Win32/Wacatac.B!ml'),
    ];
    const ctx = { iocs: builtinIocs() };
    const ids = ['PL-40', 'PL-41', 'PS-07', 'PX-16'];
    const fires = (rules: readonly RecordRule[], id: (r: RecordRule) => string) => events.map((e) => rules.filter((r) => r.formats.includes('evtx') && r.match(e, ctx) !== null).map(id).sort());
    const before = fires(declarative.filter((r) => ids.includes(r.id)), (r) => r.id);
    const after = fires(back.map((b) => b.rule).filter((r) => ids.includes(shippedId(back.find((b) => b.rule === r)!.file))), (r) => shippedId(back.find((b) => b.rule === r)!.file));
    expect(before).toEqual([['PL-40', 'PL-41'], ['PL-41'], ['PS-07'], ['PX-16'], ['PX-16'], [], [], []]);
    expect(after).toEqual(before);
  });
});
