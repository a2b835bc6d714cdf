import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../src/model.js';
import { IisLineParser } from '../src/parsers/iis.js';
import { defaultRuleSet } from '../src/rules/ruleset.js';
import { LineDispatcher } from '../src/search/dispatch.js';
import { needExternal } from './support/external.js';
import { rng } from './support/rng.js';
import type { FieldTest } from '../src/rules/types.js';

const REAL = [
  'helsecert-2021-march-exchange/extracted/iis_W3SVC1_u_ex21030x_webshell_RedirSuiteServerProxy_access.log',
  'EVTX-ATTACK-SAMPLES/Command_and_Control/Tunna_rdp_tunnel_IIS.log',
  'hamad-she-proxyshell-writeup/iis_proxyshell_lines_as_published.log',
];
const EXAMPLES = [
  ...readdirSync('examples/evidence').flatMap((host) => {
    const dir = join('examples/evidence', host, 'C/inetpub/logs/LogFiles/W3SVC1');
    try {
      return readdirSync(dir).map((f) => join(dir, f));
    } catch {
      return [];
    }
  }),
];

const HEAD = 'date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken';
const UA = 'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/105.0.5195.54+Safari/537.36';
/** Attack shapes the three line-tested rule families catch, written the ways an attacker may encode them. */
const VARIANTS = [
  `2021-08-10 10:00:00 10.0.0.1 GET /autodiscover/autodiscover.json @evil.corp/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@evil.corp 443 - 203.0.113.9 python-requests/2.25.1 - 401 0 0 10`,
  `2022-10-01 10:00:00 10.0.0.1 POST /autodiscover/autodiscover.json @evil.corp/PowerShell/?Email=autodiscover/autodiscover.json%3F@evil.corp&Protocol=Powershell 443 CORP\\user1 203.0.113.9 python-requests/2.25.1 - 200 0 0 10`,
  `2022-10-01 10:00:00 10.0.0.1 GET /autodiscover.json x=a 443 CORP\\user1 203.0.113.9 python-requests/2.25.1 - 200 0 0 10`,
  `2021-08-10 10:00:00 10.0.0.1 GET /autodiscover/autodiscover.json a=1&Email=x%40y.com 443 - 203.0.113.9 python-requests/2.25.1 - 200 0 0 10`,
  `2021-08-10 10:00:00 10.0.0.1 GET /autodiscover/autodiscover.json @evil.corp/powershell/?X-Rps-CAT=VgHv&Email=autodiscover/autodiscover.json%3F@evil.corp 443 - 203.0.113.9 python-requests/2.25.1 - 200 0 0 10`,
  `2021-03-04 10:00:00 10.0.0.1 GET /aspnet_client/system_web/x.aspx cmd=whoami 443 - 203.0.113.9 curl https://mail.example.org/owa/ 200 0 0 10`,
  `2022-12-20 10:00:00 10.0.0.1 POST /owa/mastermailbox%40outlook.com/powershell - 443 - 203.0.113.9 ${UA} - 200 0 0 100`,
  `2022-12-20 10:00:00 10.0.0.1 POST /owa/m@x.com/powershell - 443 - 203.0.113.9 python - 200 0 0 100`,
  `2022-12-20 10:00:00 10.0.0.1 POST /%6Fwa/a%40b.com/PowerShell - 443 - 203.0.113.9 python - 500 0 0 100`,
  `2022-12-20 10:00:00 10.0.0.2 POST /powershell - 444 CORP\\EX01$ 10.0.0.1 - - 200 0 0 2`,
  `2022-12-20 10:00:00 10.0.0.2 POST /PowerShell - 444 - 10.0.0.1 - - 200 0 0 2`,
  `2021-03-03 06:49:42 10.0.0.1 GET /owa/auth/x.js - 443 - 203.0.113.9 Mozilla/5.0+zgrab/0.x - 500 0 0 10`,
  `2021-03-03 06:49:42 10.0.0.1 GET /ecp/%79.js - 443 - 203.0.113.9 curl - 500 0 0 10`,
  `2021-03-03 06:49:42 10.0.0.1 GET /ecp/default.flt - 443 - 203.0.113.9 curl - 200 0 0 10`,
  `2021-03-03 06:49:42 10.0.0.1 GET /ECP/Main%2eCSS - 443 - 203.0.113.9 curl - 200 0 0 10`,
  `2021-03-03 06:49:42 10.0.0.1 GET /owa/auth/abc%2ejs - 443 - 198.51.100.3 Mozilla/5.0+zgrab/0.x - 404 0 0 10`,
  `2021-03-03 06:49:43 10.0.0.1 POST /ecp/y.js &CorrelationID=<empty>;&cafeReqId=x; 443 - 203.0.113.9 python-requests/2.25.1 - 200 0 0 10`,
  `2021-03-03 06:49:43 10.0.0.1 POST /owa/auth/w.js - 443 - 203.0.113.9 python-requests/2.25.1 - 302 0 0 10`,
  `2021-03-03 06:49:43 10.0.0.1 POST /owa/auth/Current/themes/resources/logon.css - 443 - 203.0.113.9 DuckDuckBot/1.0 - 200 0 0 10`,
  `2021-03-03 06:49:43 10.0.0.1 POST /ECP/%6Dain.css - 443 - 203.0.113.9 curl - 500 0 0 10`,
];

/** Records, each with the field layout in force on its line. */
function records(files: string[]): Array<LogRecord & { names: readonly string[] }> {
  const out: Array<LogRecord & { names: readonly string[] }> = [];
  const feed = (p: IisLineParser, lines: string[]) =>
    lines.forEach((line, i) => {
      if (line.startsWith('#')) p.directive(line);
      else if (line) {
        const r = p.parse(line, i + 1);
        if (r) out.push({ ...r, names: p.fieldNames() });
      }
    });
  for (const f of files) feed(new IisLineParser(f), readFileSync(f, 'latin1').split(/\r?\n/));
  const p = new IisLineParser('variants');
  p.directive(`#Fields: ${HEAD}`);
  feed(p, VARIANTS);
  return out;
}

const RULES = defaultRuleSet();
const tested = RULES.recordRules.filter((r) => r.lineTest !== undefined && r.formats.includes('iis'));

/** The rules that matched; fails when a rule matches a line its line test rejects. */
function checkLineTests(recs: LogRecord[]): Set<string> {
  const fired = new Set<string>();
  for (const rec of recs) {
    for (const rule of tested) {
      expect(rule.lineTest!.global || rule.lineTest!.sticky, `${rule.id} must not keep lastIndex state`).toBe(false);
      if (rule.match(rec, RULES.context)) {
        fired.add(rule.id);
        expect(rule.lineTest!.test(rec.raw!), `${rule.id} missed ${rec.raw}`).toBe(true);
        if (rule.lineBytes) expect(rule.lineBytes(Buffer.from(rec.raw!), 0, Buffer.byteLength(rec.raw!)), `${rule.id} bytes missed ${rec.raw}`).toBe(true);
      }
    }
  }
  return fired;
}

const placed = RULES.recordRules.filter((r) => r.needleFields !== undefined && r.formats.includes('iis'));

/** The rules that matched; fails when a rule matches a line whose needles the dispatcher placed outside its fields. */
function checkNeedleFields(recs: Array<LogRecord & { names: readonly string[] }>): Set<string> {
  const fired = new Set<string>();
  const dispatch = new LineDispatcher(placed);
  for (const rec of recs) {
    const buf = Buffer.from(rec.raw!, 'utf8');
    const handed = dispatch.rulesFor(buf, 0, buf.length, dispatch.fieldMasks(rec.names, 32)).map((r) => r.id);
    for (const rule of placed) {
      if (!rule.match(rec, RULES.context)) continue;
      fired.add(rule.id);
      expect(handed, `${rule.id} not handed ${rec.raw}`).toContain(rule.id);
    }
  }
  return fired;
}

describe('IIS needle fields (needles placed in their field before the line is decoded)', () => {
  it('are necessary conditions: whenever a rule matches a line, the dispatcher handed it that line', () => {
    const fired = checkNeedleFields(records(EXAMPLES));
    // Every family that places its needles really fired on the examples and variants.
    expect([...fired].sort()).toEqual(['OW-01', 'OW-02', 'OW-03', 'PL-09', 'PL-10', 'PL-11', 'PL-13', 'PNS-01', 'PNS-02', 'PS-01', 'PS-02', 'PS-05', 'PX-R1', 'PX-R2', 'PX-R4', 'WS-40', 'WS-41']);
  });

  it('are necessary conditions on the real HelseCERT, Tunna and hamad-she IIS lines too', (ctx) => {
    const fired = checkNeedleFields(records(REAL.map((rel) => needExternal(ctx, rel))));
    expect(fired.size).toBeGreaterThan(2);
  });

  it('keep a Referer-only `.aspx` (OWA static traffic) away from the web-shell rules', () => {
    const line =
      '2021-03-04 00:00:01 10.1.1.5 GET /owa/prem/15.1.2176/scripts/boot.worker.js - 443 - 198.51.100.7 Mozilla/5.0 https://mail.example.org/owa/auth/logon.aspx 200 0 0 5';
    const dispatch = new LineDispatcher(placed);
    const buf = Buffer.from(line);
    const names = HEAD.split(' ');
    expect(dispatch.rulesFor(buf, 0, buf.length, dispatch.fieldMasks(names, 32)).map((r) => r.id)).not.toContain('WS-40');
    // Malformed (one field too many): the fields cannot be placed, so the line is handed over.
    const bad = Buffer.from(line.replace('Mozilla/5.0', 'Mozilla/5.0 extra'));
    expect(dispatch.rulesFor(bad, 0, bad.length, dispatch.fieldMasks(names, 32)).map((r) => r.id)).toContain('WS-40');
  });
});

const fieldTested = RULES.recordRules.filter((r) => r.fieldTest !== undefined && r.formats.includes('iis'));

/** The field's text as the text scanner cuts it out of the line; null where it does not (field count off). */
function fieldText(rec: { raw?: string; names: readonly string[] }, field: string): string | null {
  const tokens = rec.raw!.split(' ');
  if (tokens.length !== rec.names.length) return null;
  const k = rec.names.indexOf(field);
  return k < 0 ? '' : tokens[k];
}

/**
 * A field test's stage on a plain field's bytes, as the text scanner runs it: on ASCII without `%` only (true for any
 * other field, or without one), inside a larger buffer.
 */
function fieldBytes(t: FieldTest, text: string): boolean {
  if (!t.plain || !/^[\x00-\x7f]*$/.test(text) || text.includes('%')) return true;
  const b = Buffer.from(text, 'utf8');
  const framed = Buffer.concat([Buffer.from('/owa/auth/x.aspx '), b, Buffer.from(' .js.aspx')]);
  const inFrame = t.plain(framed, 17, 17 + b.length, RULES.context);
  expect(t.plain(b, 0, b.length, RULES.context)).toBe(inFrame);
  return inFrame;
}

/** The rules that matched; fails when a rule matches a line whose field its field test rejects. */
function checkFieldTests(recs: Array<LogRecord & { names: readonly string[] }>): Set<string> {
  const fired = new Set<string>();
  for (const rec of recs) {
    for (const rule of fieldTested) {
      if (!rule.match(rec, RULES.context)) continue;
      fired.add(rule.id);
      const text = fieldText(rec, rule.fieldTest!.field);
      if (text !== null) expect(rule.fieldTest!.test(text, RULES.context), `${rule.id} missed ${rec.raw}`).toBe(true);
      if (text !== null) expect(fieldBytes(rule.fieldTest!, text), `${rule.id} bytes missed ${rec.raw}`).toBe(true);
    }
  }
  return fired;
}

describe('IIS rule field tests (one field checked before the line is parsed)', () => {
  it('are necessary conditions: whenever a rule matches a line, its field test passes', () => {
    expect(fieldTested.map((r) => r.id).sort()).toEqual(['OW-01', 'OW-02', 'OW-03', 'PL-09', 'PL-10', 'PL-11', 'PX-R1', 'PX-R2', 'PX-R4', 'WS-40']);
    const shell = [
      `2021-03-04 10:00:00 10.0.0.1 GET /owa/auth/%52edirSuiteServerProxy.aspx - 443 - 203.0.113.9 curl - 200 0 0 10`,
      `2021-03-04 10:00:00 10.0.0.1 POST /OWA/AUTH/Current/themes/resources/zaivc.aspx - 443 - 203.0.113.9 curl - 404 0 0 10`,
      `2021-03-04 10:00:00 10.0.0.1 GET /aspnet_client/system_web/x%2easpx cmd=whoami 443 - 203.0.113.9 curl - 500 0 0 10`,
    ];
    const p = new IisLineParser('shell');
    p.directive(`#Fields: ${HEAD}`);
    const extra = shell.map((line, i) => ({ ...p.parse(line, i + 1)!, names: p.fieldNames() }));
    expect([...checkFieldTests([...records(EXAMPLES), ...extra])].sort()).toEqual(['OW-01', 'OW-02', 'OW-03', 'PL-09', 'PL-10', 'PL-11', 'PX-R1', 'PX-R2', 'PX-R4', 'WS-40']);
  });

  it('are necessary conditions on the real HelseCERT, Tunna and hamad-she IIS lines too', (ctx) => {
    checkFieldTests(records(REAL.map((rel) => needExternal(ctx, rel))));
  });

  it("reject Exchange's own /powershell traffic on its query, so those lines are neither decoded nor run through OW-03's regex", () => {
    const test = fieldTested.find((r) => r.id === 'OW-03')!.fieldTest!;
    for (const q of ['clientApplication=ActiveMonitor;PSVersion=5.1.14393.4169', 'PSVersion=5.1.17763.1852', 'x']) {
      expect(test.test(q, RULES.context), q).toBe(false);
      expect(fieldBytes(test, q), q).toBe(false);
    }
    expect(test.test('-', RULES.context)).toBe(true);
    expect(fieldBytes(test, '-')).toBe(true);
    // OW-01/02: the stem must name a mailbox under /owa/.
    const owa = fieldTested.find((r) => r.id === 'OW-01')!.fieldTest!;
    for (const stem of ['/powershell', '/PowerShell', '/owa/service.svc', '/ews/exchange.asmx']) {
      expect(owa.test(stem, RULES.context), stem).toBe(false);
      expect(fieldBytes(owa, stem), stem).toBe(false);
    }
    for (const stem of ['/owa/m@x.com/powershell', '/OWA/a%40b.com/PowerShell', '/%6Fwa/a%40b.com/powershell']) expect(owa.test(stem, RULES.context), stem).toBe(true);
  });

  it("reject OWA's own pages on their stem, so those lines are never parsed", () => {
    const test = fieldTested.find((r) => r.id === 'WS-40')!.fieldTest!;
    for (const stem of ['/owa/auth/logon.aspx', '/OWA/auth/LogOn.aspx', '/owa/auth/%6cogon.aspx', '/owa/auth/errorFE.aspx', '/owa/sessiondata.ashx', '-'])
      expect(test.test(stem, RULES.context), stem).toBe(false);
    for (const stem of ['/owa/auth/x.aspx', '/aspnet_client/system_web/a.ASPX', '/owa/auth/x%2easpx']) expect(test.test(stem, RULES.context), stem).toBe(true);
  });
});

describe('IIS rule field tests on a plain field\'s bytes (before it is decoded)', () => {
  const tests = [...new Set(fieldTested.map((r) => r.fieldTest!))];
  it('are necessary conditions of the field tests on random fields of their own pieces, any case and escaping', () => {
    expect(tests.every((t) => t.plain !== undefined)).toBe(true);
    const iocs = [...RULES.context.iocs.urlPaths.keys()];
    const pick = (list: readonly string[]) => list[Math.floor(r() * list.length)];
    const zones = ['', '/', '/owa/auth/', '/ecp/', '/ecp/auth/', '/aspnet_client/', '/owa/', ...iocs];
    const middles = ['', 'x', 'logon', 'a1', 'current/', '%41', '%2f', 'é', 'K', '%', '%zz', '-', '.', 'post', 'm@x.com/', '%40', '@'];
    const ends = ['', '.aspx', '.ashx', '.asp', '.js', '.flt', '.css', '.ico', '%2ejs', '%2Easpx', 'x', ' '];
    const methods = ['POST', 'GET', 'P%4fST', 'POSTé', 'PO', '-', ''];
    const r = rng(1616);
    const passed = new Map<FieldTest, number>(tests.map((t) => [t, 0]));
    let rejected = 0;
    for (let k = 0; k < 40_000; k++) {
      const raw = r() < 0.1 ? pick(methods) : r() < 0.05 ? '-' : pick(zones) + pick(middles) + pick(middles) + pick(ends);
      // Any letter in either case (the tests fold; the bytes must too).
      const text = [...raw].map((c) => (r() < 0.3 ? c.toUpperCase() : c)).join('');
      for (const t of tests) {
        const byText = t.test(text, RULES.context);
        const byBytes = fieldBytes(t, text);
        if (byText) expect(byBytes, `${t.field} ${text}`).toBe(true);
        if (byText) passed.set(t, passed.get(t)! + 1);
        if (!byBytes) rejected++;
      }
    }
    // The cases reach both sides: every test passes some fields, and the bytes reject many.
    for (const [t, n] of passed) expect(n, t.field).toBeGreaterThan(50);
    expect(rejected).toBeGreaterThan(30_000);
  });

  it("reject Exchange's own stems and methods on their bytes", () => {
    const stem = tests.filter((t) => t.field === 'cs-uri-stem');
    expect(stem).toHaveLength(3);
    for (const s of ['/owa/auth/15.1.2507/themes/resources/favicon.ico', '/ecp/PersonalSettings/HomePage.aspx', '/owa/sessiondata.ashx', '/EWS/Exchange.asmx'])
      for (const t of stem) expect(fieldBytes(t, s), s).toBe(false);
    const post = tests.find((t) => t.field === 'cs-method')!;
    expect(['GET', 'HEAD', 'POSTS'].map((m) => fieldBytes(post, m))).toEqual([false, false, false]);
    expect(['POST', 'post', 'PoSt'].map((m) => fieldBytes(post, m))).toEqual([true, true, true]);
  });
});

describe('IIS rule line tests (second prefilter stage)', () => {
  it('are necessary conditions: whenever a rule matches a line, its line test passes', () => {
    const ad = ['PNS-01', 'PNS-02', 'PNS-04', 'PS-01', 'PS-02', 'PS-03', 'PS-04', 'PS-05'];
    expect(tested.map((r) => r.id).sort()).toEqual(['OW-01', 'OW-02', 'OW-03', 'PL-09', 'PL-10', 'PL-11', ...ad].sort());
    const fired = checkLineTests(records(EXAMPLES));
    // Every tested rule really fired (of the autodiscover.json grades, those the variants above reach).
    expect([...fired].sort()).toEqual(['OW-01', 'OW-02', 'OW-03', 'PL-09', 'PL-10', 'PL-11', 'PNS-01', 'PNS-02', 'PS-01', 'PS-02', 'PS-05'].sort());
  });

  it('are necessary conditions on the real HelseCERT, Tunna and hamad-she IIS lines too', (ctx) => {
    const recs = records(REAL.map((rel) => needExternal(ctx, rel)));
    expect(recs.length).toBeGreaterThan(4000); // the Tunna log alone has ~4,300 lines
    checkLineTests(recs);
  });

  it("reject Exchange's own common traffic (with the field tests), so those lines are never parsed", () => {
    const benign = [
      '2021-03-04 00:00:01 10.1.1.5 GET /owa/auth/15.1.2176/scripts/premium/flogon.js - 443 - 198.51.100.7 Mozilla/5.0 - 200 0 0 5',
      '2021-03-04 00:00:01 10.1.1.5 GET /owa/auth/logon.aspx url=https%3a%2f%2fmail%2fowa%2f&reason=0 443 - 198.51.100.7 Mozilla/5.0 - 200 0 0 5',
      '2021-03-04 00:00:01 10.1.1.5 POST /powershell clientApplication=ActiveMonitor;PSVersion=5.1.14393.4169&CorrelationID=<empty>; 443 CORP\\HealthMailboxc089ef6 10.1.1.5 Microsoft+WinRM+Client - 200 0 0 2',
      '2021-03-04 00:00:01 10.1.1.5 POST /ecp/DDI/DDIService.svc/GetList schema=MailboxService 443 CORP\\admin 10.1.1.9 Mozilla/5.0 - 200 0 0 5',
      // Outlook mobile and desktop looking up their settings (bench/traffic.mjs).
      '2021-03-04 00:00:01 10.1.1.5 GET /autodiscover/autodiscover.json/v1.0/user4193@example.org Protocol=Ews&RedirectCount=1&CorrelationID=<empty>;&cafeReqId=79e99b34-f210-40d8-8bc5-52e89b439b62;&encoding=; 443 - 203.0.113.61 Outlook-iOS/723.4027091.prod.iphone+(4.2305.0) - 200 0 0 31',
      '2021-03-04 00:00:01 10.1.1.5 GET /autodiscover/autodiscover.json Email=user4193%40example.org&Protocol=AutodiscoverV1&RedirectCount=1 443 CORP\\user4193 198.51.100.7 Microsoft+Office/16.0 - 200 0 0 15',
    ];
    const prefiltered = RULES.recordRules.filter((r) => r.formats.includes('iis') && (r.lineTest || r.fieldTest));
    const names = HEAD.split(' ');
    for (const line of benign) {
      const low = line.toLowerCase();
      const selected = prefiltered.filter((r) => r.needles.some((n) => low.includes(n.toLowerCase())));
      expect(selected.length).toBeGreaterThan(0);
      for (const rule of selected) {
        const byField = rule.fieldTest ? rule.fieldTest.test(fieldText({ raw: line, names }, rule.fieldTest.field)!, RULES.context) : true;
        expect(byField && (rule.lineTest?.test(line) ?? true), `${rule.id} ${line}`).toBe(false);
        if (rule.lineBytes) expect(rule.lineBytes(Buffer.from(line), 0, line.length), `${rule.id} bytes ${line}`).toBe(false);
      }
    }
  });
});

describe('IIS prefilter end to end', () => {
  it('finds POST /owa/auth/w.js (PL-11), which no needle selected before', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { scan } = await import('../src/engine/scan.js');
    const root = mkdtempSync(join(tmpdir(), 'exhunt-iis-'));
    mkdirSync(join(root, 'W3SVC1'));
    const lines = ['#Software: Microsoft Internet Information Services 10.0', '#Version: 1.0', `#Fields: ${HEAD}`, ...VARIANTS.slice(-3, -1)];
    writeFileSync(join(root, 'W3SVC1', 'u_ex210303.log'), `${lines.join('\r\n')}\r\n`);
    const h = (await scan({ paths: [root], jobs: 1 })).hosts[0];
    expect(h.findings.filter((f) => f.rule.startsWith('PL-')).map((f) => [f.rule, f.source.line])).toEqual([
      ['PL-11', 4],
      ['PL-09', 5],
    ]);
  });
});
