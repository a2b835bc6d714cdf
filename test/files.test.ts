import { describe, expect, it, beforeAll } from 'vitest';
import { builtinIocs, parseIocFiles } from '../src/rules/iocs.js';
import { loadIocs } from '../src/engine/registry.js';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { EvidenceFile } from '../src/evidence/file.js';
import { locateWindowsPath } from '../src/engine/locate.js';
import { fileSweepScanner, sweepFile } from '../src/engine/scanners/files.js';
import { contentRules, dropZone, dumpAndArchiveRules, pathRules, type SweptFile } from '../src/rules/files/sweep.js';
import { baselineAuthUrls, checkBaseline, exchangeRelPath, shippedAuthUrls } from '../src/rules/files/baselines.js';
import { BASELINE_AUTH_URLS } from '../src/rules/files/shipped-auth-urls.js';
import { yaraEngine } from '../src/engine/yara.js';
import { scanOptions } from '../src/engine/scan.js';
import { external, needExternal } from './support/external.js';
import { needYara } from './support/yara.js';

const EX = 'C/Program Files/Microsoft/Exchange Server/V15';
const OPTS = scanOptions();
const IOCS = builtinIocs();
let root: string;

function put(rel: string, data: Buffer | string): string {
  const abs = join(root, rel);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, data);
  return rel;
}
function copy(src: string, rel: string): string {
  const abs = join(root, rel);
  mkdirSync(dirname(abs), { recursive: true });
  copyFileSync(src, abs);
  return rel;
}
function ev(rel: string): EvidenceFile {
  const abs = join(root, rel);
  const st = statSync(abs);
  return { kind: 'fs', abs, rel, size: st.size, mtimeMs: st.mtimeMs };
}
async function sweep(rel: string, opts = OPTS) {
  return sweepFile(ev(rel), opts, loadIocs(opts.iocFiles, IOCS).iocs);
}
async function rules(rel: string, opts = OPTS) {
  return (await sweep(rel, opts)).findings.map((f) => `${f.rule}/${f.severity}`);
}
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)]));
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'exhunt-files-'));
});

describe('file rules as pure decisions (src/rules/files/sweep.ts)', () => {
  const swept = (win: string, over: Partial<SweptFile> = {}): SweptFile => {
    const name = win.slice(win.lastIndexOf('\\') + 1);
    const ext = name.includes('.') ? name.slice(name.lastIndexOf('.')) : '';
    return { shown: `C:\\${win}`, win, name, ext, script: ext === '.aspx', zone: dropZone(win), bytes: 4096, head: Buffer.alloc(64), minidump: false, found: new Set(), ...over };
  };
  // A hit names the grade its rule declares (none = the rule itself), never a title or severity of its own.
  const ids = (hits: Array<{ rule: string | { id: string }; hit: { grade?: string } }>) => hits.map((h) => h.hit.grade ?? (typeof h.rule === 'string' ? h.rule : h.rule.id));

  it('decide from what the sweep measured, without reading a file', () => {
    const dump = swept('windows\\temp\\w3wp.dmp', { minidump: true });
    expect(ids(dumpAndArchiveRules(dump, 'w3wp.dmp'))).toEqual(['PX-07 other dump staged']);
    expect(ids(dumpAndArchiveRules({ ...dump, found: new Set(['lsasrv.dll']) }, 'w3wp.dmp'))).toEqual(['PX-07']);
    const zip = Buffer.from('PK\x03\x04');
    expect(ids(dumpAndArchiveRules(swept('programdata\\veeam\\backup\\x.dat', { head: zip }), 'x.dat'))).toEqual(['PX-08 vendor folder']);
    const pst = Buffer.from('!BDN');
    expect(ids(contentRules(swept('inetpub\\wwwroot\\aspnet_client\\x.aspx', { head: pst }), null, { status: 'unknown-path' }))).toEqual(['WS-27']);
    expect(ids(contentRules(swept('inetpub\\wwwroot\\aspnet_client\\x.bin', { head: pst, script: false }), null, { status: 'unknown-path' }))).toEqual(['WS-27 not a script']);
    expect(ids(pathRules(swept('inetpub\\wwwroot\\aspnet_client\\x.txt', { script: false }), { status: 'unknown-path' }, builtinIocs(), false).hits)).toEqual(['WS-01 unexpected']);
    expect(ids(pathRules(swept('program files\\microsoft\\exchange server\\v15\\frontend\\httpproxy\\ews\\x.aspx'), { status: 'unknown-path' }, builtinIocs(), false).hits)).toEqual(['WS-07 not shipped']);
    const shell = swept('inetpub\\wwwroot\\aspnet_client\\errorFF.aspx');
    expect(ids(pathRules(shell, { status: 'unknown-path' }, builtinIocs(), false).hits)).toEqual(['WS-01']);
    expect(pathRules(shell, { status: 'unknown-path' }, builtinIocs(), true).hits).toEqual([]);
  });

  it('match a path IOC by whole names: either path may be the longer, never a name or folder that only ends like it', () => {
    const { iocs, notes } = parseIocFiles([{ name: 'case.csv', text: 'path,C:\\ProgramData\\Cases\\evil.aspx,case 7\npath,C:\\evil2.aspx,case 7\n' }]);
    expect(notes).toEqual([]);
    const ioc = (win: string) => pathRules(swept(win), { status: 'unknown-path' }, iocs, true).attach.ioc ?? null;
    expect(ioc('programdata\\cases\\evil.aspx')).toBe('path c:\\programdata\\cases\\evil.aspx');
    expect(ioc('collection\\c\\programdata\\cases\\evil.aspx')).toBe('path c:\\programdata\\cases\\evil.aspx');
    expect(ioc('cases\\evil.aspx')).toBe('path c:\\programdata\\cases\\evil.aspx'); // collected below a folder
    expect(ioc('evil2.aspx')).toBe('path c:\\evil2.aspx');
    expect(ioc('programdata\\cases\\notevil.aspx')).toBeNull();
    expect(ioc('xprogramdata\\cases\\evil.aspx')).toBeNull();
    expect(ioc('programdata\\notevil2.aspx')).toBeNull();
    // A built-in path IOC (webshell_files.csv) still matches, with its source.
    const builtin = pathRules(swept('program files\\microsoft\\exchange server\\v15\\frontend\\httpproxy\\owa\\auth\\outlookzh.aspx'), { status: 'unknown-path' }, builtinIocs(), true).attach;
    expect(builtin.ioc).toBe('path c:\\program files\\microsoft\\exchange server\\v15\\frontend\\httpproxy\\owa\\auth\\outlookzh.aspx');
  });
});

describe('paths', () => {
  it('locates a file a log names among the evidence, by the tail of its Windows path', () => {
    const ev = (rel: string): EvidenceFile => ({ kind: 'fs', abs: `/x/${rel}`, rel, size: 1, mtimeMs: 0 });
    const at = (win: string, rels: string[]) => locateWindowsPath(win, rels.map(ev))?.rel ?? null;
    expect(at('C:\\inetpub\\wwwroot\\aspnet_client\\shell.aspx', ['C/inetpub/wwwroot/aspnet_client/shell.aspx'])).toBe('C/inetpub/wwwroot/aspnet_client/shell.aspx');
    expect(at('C:\\inetpub\\wwwroot\\aspnet_client\\shell.aspx', ['wwwroot/aspnet_client/shell.aspx'])).toBe('wwwroot/aspnet_client/shell.aspx');
    expect(at('\\\\localhost\\c$\\inetpub\\wwwroot\\aspnet\\p433zrwewrvmcv.aspx', ['triage/C/inetpub/wwwroot/aspnet/P433ZRWEWRVMCV.aspx'])).toBe('triage/C/inetpub/wwwroot/aspnet/P433ZRWEWRVMCV.aspx');
    expect(at('C:\\inetpub\\wwwroot\\aspnet_client\\shell.aspx', ['C/inetpub/wwwroot/shell.aspx'])).toBeNull();
    expect(at('C:\\a\\shell.aspx', ['b/shell.aspx'])).toBeNull();
    expect(at('C:\\a\\shell.aspx', ['shell.aspx'])).toBe('shell.aspx');
    expect(at('C:\\x\\a\\shell.aspx', ['b/shell.aspx', 'q/a/shell.aspx', 'x/a/shell.aspx'])).toBe('x/a/shell.aspx');
  });

  it('knows the drop zones and the baseline form of Exchange paths', () => {
    expect(dropZone('c\\program files\\microsoft\\exchange server\\v15\\frontend\\httpproxy\\owa\\auth\\x.aspx')).toBe('owa-auth');
    expect(dropZone('v15\\frontend\\httpproxy\\owa\\auth\\15.1.2176\\x.aspx')).toBe('owa-auth-sub');
    expect(dropZone('inetpub\\wwwroot\\aspnet_client\\system_web\\x.aspx')).toBe('aspnet_client');
    expect(dropZone('users\\bob\\x.aspx')).toBeNull();
    expect(exchangeRelPath(`${EX}/FrontEnd/HttpProxy/owa/auth/15.1.2176/scripts/premium/fexppw.js`)).toBe('frontend\\httpproxy\\owa\\auth\\version\\scripts\\premium\\fexppw.js');
    expect(shippedAuthUrls().has('/owa/auth/logon.aspx')).toBe(true);
    expect(shippedAuthUrls().has('/owa/auth/redirsuiteserverproxy.aspx')).toBe(false);
    expect(shippedAuthUrls().has('/ecp/auth/timeoutlogoff.aspx')).toBe(true); // the name Volexity and Elastic use
    expect(checkBaseline('frontend\\httpproxy\\owa\\auth\\logon.aspx', '49194CA2DC5FF65A4E4438B3B68D11D63ED72E12CF72B76949733F4B5196A9B2')).toEqual({ status: 'known', builds: ['15.1.2176.9', '15.2.792.10'] });
    expect(checkBaseline('frontend\\httpproxy\\owa\\auth\\logon.aspx', '00'.repeat(32)).status).toBe('differs');
  });

  it('ships the generated auth-folder names exactly as the baseline lists them (scripts/build-baselines.mjs)', () => {
    expect(baselineAuthUrls()).toEqual([...BASELINE_AUTH_URLS]);
    expect(BASELINE_AUTH_URLS).toContain('/ecp/auth/timeoutlogout.aspx');
  });

  it('leaves logs and event logs to their scanners', () => {
    const f = (rel: string) => ({ kind: 'fs', abs: '/x', rel, size: 1, mtimeMs: 0 }) as EvidenceFile;
    expect(fileSweepScanner().classify(f('W3SVC1/u_ex210303.log'), Buffer.alloc(0))).toBeNull();
    expect(fileSweepScanner().classify(f('Logs/Security.evtx'), Buffer.alloc(0))).toBeNull();
    expect(fileSweepScanner().classify(f('HttpProxy/Ecp/HttpProxy_2021030301-1.LOG'), Buffer.alloc(0))).toBeNull();
    expect(fileSweepScanner().classify(f('x/shell.aspx'), Buffer.alloc(0))).toBe('file');
  });
});

describe('real web shells', () => {
  it('flags every tennc .aspx/.ashx/.asax sample by content alone (outside any drop zone)', async () => {
    const base = external('tennc-webshell') + '/';
    const samples = walk(base).filter((p) => /\.(aspx|ashx|asax)$/i.test(p));
    expect(samples.length).toBeGreaterThanOrEqual(14);
    for (const s of samples) {
      const rel = copy(s, `samples/tennc/${relative(base, s)}`);
      const r = await sweep(rel);
      const shells = r.findings.filter((f) => f.kind === 'webshell');
      expect(shells.length, rel).toBeGreaterThan(0);
      expect(shells[0].evidence).toMatchObject({ file: rel, size: statSync(s).size });
      expect(shells[0].evidence.sha256).toBe(createHash('sha256').update(readFileSync(s)).digest('hex'));
    }
    // README.txt quotes the China Chopper one-liner verbatim, so it is (rightly) reported; the others are plain text.
    const readme = (await sweep(copy(base + 'README.txt', 'samples/tennc-docs/README.txt'))).findings;
    expect(readme.map((f) => f.rule)).toContain('WS-21');
    expect(readme.every((f) => f.severity === 'high')).toBe(true); // not a page the server would run
    for (const doc of ['LICENSE', 'caidao-shell/README.md', 'aspx/httpHandlers_backdoor/readme.md'])
      expect((await sweep(copy(base + doc, `samples/tennc-docs/${doc}`))).findings, doc).toEqual([]);
  });

  it('names the family where a signature exists', async () => {
    const t = external('tennc-webshell') + '/';
    expect(await rules(copy(t + 'caidao-shell/ice.aspx', 'fam/ice.aspx'))).toContain('WS-21/critical');
    expect(await rules(copy(t + 'aspx/editor.aspx', 'fam/editor.aspx'))).toContain('WS-21/critical');
    expect(await rules(copy(t + 'aspx/abcd.aspx', 'fam/abcd.aspx'))).toEqual(['WS-33/critical']);
    expect(await rules(copy(t + 'Behinder/shell.aspx', 'fam/behinder.aspx'))).toEqual(['WS-33/critical']);
    expect(await rules(copy(t + 'aspx/ASPXspy2.aspx', 'fam/spy.aspx'))).toEqual(['WS-33/critical']);
  });

  it('reads a page saved as UTF-16 in either byte order (ASP.NET runs both with their BOM)', async () => {
    // The China Chopper one-liner of tennc caidao-shell/ice.aspx (its parameter renamed); big-endian matched no
    // signature before (only the path rules judged it).
    const chopper = '<%@ Page Language="Jscript"%><%eval(Request.Item["z"],"unsafe");%>';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(chopper, 'utf16le')]);
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(chopper, 'utf16le').swap16()]);
    expect(await rules(put('fam/le.aspx', le))).toContain('WS-21/critical');
    expect(await rules(put('fam/be.aspx', be))).toContain('WS-21/critical');
  });

  it('hamad-she VB.NET cmd shell: keyword heuristics, graded by where it sits', async (ctx) => {
    const src = needExternal(ctx, 'hamad-she-proxyshell-writeup/webshell_vb_cmd_proxyshell_incident.aspx');
    const loose = await sweep(copy(src, 'misc/app/page.aspx'));
    expect(loose.findings.map((f) => `${f.rule}/${f.severity}`)).toEqual(['WS-31/medium']);
    expect(loose.findings[0].evidence.keywords).toEqual(expect.arrayContaining(['processstartinfo']));
    expect(await rules(copy(src, 'C/inetpub/wwwroot/aspnet_client/system_web/xmmm.aspx'))).toEqual(['WS-31/high']);
  });

  it('zer010bs OAB body: the CISA OAB-shell shape; critical when served as .aspx', async () => {
    const src = external('zer010bs-exchange-ioc-scan/oab_webshell_http_response_body_redacted.txt');
    expect(await rules(copy(src, 'misc/oab_body.txt'))).toEqual(['PL-29/high']);
    expect(await rules(copy(src, 'C/inetpub/wwwroot/aspnet_client/shell.aspx'))).toEqual(['PL-29/critical']);
  });
});

describe('benign controls', () => {
  it('genuine OAB web.config files and Microsoft-byte-exact files produce nothing', async () => {
    const hc = external('CSS-Exchange-HealthChecker-testdata/E19') + '/';
    expect((await sweep(copy(hc + 'DefaultWebSite-OAB_web.config', `${EX}/FrontEnd/HttpProxy/OAB/web.config`))).findings).toEqual([]);
    expect((await sweep(copy(hc + 'ExchangeBackEnd-OAB_web.config', `${EX}/ClientAccess/OAB/web.config`))).findings).toEqual([]);
    // An empty sprite file is in Microsoft's baselines for this path (SHA-256 of nothing).
    expect((await sweep(put(`${EX}/ClientAccess/owa/prem/15.1.2176/resources/images/0/bdsprite1.narrow.x2.css`, ''))).findings).toEqual([]);
    expect((await sweep(put(`${EX}/FrontEnd/HttpProxy/owa/auth/15.1.2176/themes/resources/logon.css`, 'body{}'))).findings).toEqual([]);
    expect((await sweep(put('C/inetpub/wwwroot/aspnet_client/web.config', '<configuration/>'))).findings).toEqual([]);
  });

  it('a genuine name with other content is "differs", a look-alike name is a new script', async () => {
    expect(await rules(put(`${EX}/FrontEnd/HttpProxy/owa/auth/logon.aspx`, '<%@ Page Language="C#" %>hello'))).toEqual(['WS-07/medium']);
    const f = (await sweep(put(`${EX}/FrontEnd/HttpProxy/owa/auth/RedirSuiteServerProxy.aspx`, '<%@ Page Language="C#" %>hello'))).findings;
    expect(f.map((x) => `${x.rule}/${x.severity}`)).toEqual(['WS-03/high']);
    expect(String(f[0].evidence.ioc)).toContain('redirsuiteserverproxy.aspx');
    // A data file in the anonymous sign-in folders is where stealers leave captured passwords (WS-37); any other
    // unexpected file in ecp\auth (an image, say) stays low.
    expect(await rules(put(`${EX}/FrontEnd/HttpProxy/ecp/auth/notes.txt`, 'x'))).toEqual(['WS-37/medium']);
    expect(await rules(put(`${EX}/FrontEnd/HttpProxy/ecp/auth/logo.png`, 'x'))).toEqual(['WS-02/low']);
    // Exchange's own DLLs in ClientAccess\owa\auth are in the known-good lists: never a data file.
    expect(await rules(put(`${EX}/ClientAccess/Owa/auth/owaauth.dll`, Buffer.from('MZ\x90\x00')))).toEqual([]);
    // WS-37 stands beside the staging IOCs (a dump compressed in the sign-in folder stays PX-09 high).
    expect((await rules(put(`${EX}/FrontEnd/HttpProxy/owa/auth/lsass.dmp.zip`, Buffer.from('PK\x03\x04rest')))).sort()).toEqual(['PX-09/high', 'WS-37/medium']);
  });
});

describe('ProxyShell artefacts, dumps, archives', () => {
  it('PST and certificate requests written as .aspx', async () => {
    const pst = Buffer.concat([Buffer.from('!BDN'), Buffer.alloc(600), Buffer.from("<script language='JScript' runat='server'>")]);
    expect(await rules(put('C/inetpub/wwwroot/aspnet/p433zrwewrvmcv.aspx', pst))).toEqual(['WS-27/critical']);
    const der = Buffer.concat([Buffer.from([0x30, 0x82, 0x02, 0x10]), Buffer.from('CN=<%@ Page Language="Jscript"%>')]);
    expect(await rules(put(`${EX}/FrontEnd/HttpProxy/ecp/auth/blank.aspx`, der))).toEqual(['WS-28/critical']);
  });

  it('lsass dumps by content, streamed, across chunk edges; other dumps graded by place', async () => {
    // 'lsasrv.dll' (UTF-16) straddles the 4 MiB read-chunk boundary of a 6 MiB file.
    const big = Buffer.alloc(6 * 1024 * 1024);
    big.write('MDMP', 0, 'latin1');
    Buffer.from('C:\\Windows\\System32\\lsasrv.dll', 'utf16le').copy(big, 4 * 1024 * 1024 - 30);
    const r = await sweep(put('C/Windows/Temp/CqMebRGC.dmp', big));
    expect(r.findings.map((f) => `${f.rule}/${f.severity}`)).toEqual(['PX-07/critical']);
    expect(r.bytes).toBe(big.length);
    expect(r.findings[0].evidence.sha256).toBe(createHash('sha256').update(big).digest('hex'));
    const crash = Buffer.concat([Buffer.from('MDMP'), Buffer.alloc(100)]);
    expect(await rules(put('C/ProgramData/Microsoft/Windows/WER/ReportQueue/a/w3wp.mdmp', crash))).toEqual(['PX-07/low']);
    expect(await rules(put('C/inetpub/wwwroot/x.bin', crash))).toEqual(['PX-07/high']);
  });

  it('archives under ProgramData: vendor paths low, disguised archives found by magic, documents ignored', async () => {
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(60)]);
    expect(await rules(put('C/ProgramData/it.zip', zip))).toEqual(['PX-09/high', 'PX-08/medium']);
    expect(await rules(put('C/ProgramData/McAfee/Common Framework/FrameworkConfig.zip', zip))).toEqual(['PX-08/low']);
    const sevenZ = Buffer.concat([Buffer.from('7z\xbc\xaf\x27\x1c', 'latin1'), Buffer.alloc(60)]);
    const d = (await sweep(put('C/ProgramData/Temp1/logo.gif', sevenZ))).findings;
    expect(d.map((f) => `${f.rule}/${f.severity}`)).toEqual(['PX-08/medium']);
    expect(d[0].evidence.disguised).toBe(true);
    expect(await rules(put('C/ProgramData/Office/report.docx', zip))).toEqual([]);
    expect(await rules(put('C/Users/bob/Documents/photos.zip', zip))).toEqual([]);
  });

  it('compiled web-shell pages and IIS virtual directories into ProgramData', async () => {
    const dll = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(300), Buffer.from('~/aspnet_client/system_web/abc.aspx', 'utf16le')]);
    expect(await rules(put('C/Windows/Microsoft.NET/Framework64/v4.0.30319/Temporary ASP.NET Files/root/1/2/App_Web_ab12cd34.dll', dll))).toEqual(['WS-09/high']);
    const cfg = '<configuration><virtualDirectory path="/x" physicalPath="C:\\ProgramData\\COM\\x" /></configuration>';
    expect(await rules(put('C/Windows/System32/inetsrv/config/applicationHost.config', cfg))).toEqual(['WS-10/high']);
  });
});

describe('IOCs, unreadable files, YARA', () => {
  it('a --ioc hash marks a file as known bad', async () => {
    const rel = put('misc/tool.bin', 'not a shell but on the list');
    const sha = createHash('sha256').update('not a shell but on the list').digest('hex');
    const ioc = put('iocs/mine.csv', `sha256,${sha},case 42\n`);
    const opts = scanOptions({ iocFiles: [join(root, ioc)] });
    expect(await rules(rel, opts)).toEqual(['WS-08/critical']);
    expect(await rules(rel)).toEqual([]);
  });

  it('a file that cannot be read is reported and still checked by path', async () => {
    const file: EvidenceFile = { kind: 'fs', abs: join(root, 'gone', 'x.aspx'), rel: 'C/inetpub/wwwroot/aspnet_client/x.aspx', size: 10, mtimeMs: 0 };
    const r = await sweepFile(file, OPTS, IOCS);
    expect(r.skipped[0].reason).toMatch(/not readable.*ENOENT/);
    expect(r.findings.map((f) => f.rule)).toEqual(['WS-01']);
  });

  it('--yara runs rules with YARA-X when installed, else Debian yara (installed by scripts/setup-test-deps.sh)', async (ctx) => {
    needYara(ctx);
    const rulesFile = join(root, put('rules/t.yar', 'rule Exhunt_Test { strings: $a = "marker-7f3a" condition: $a }'));
    expect(await yaraEngine(rulesFile)).toEqual({ engine: expect.stringMatching(/^(yara-x|cli)$/) });
    const opts = scanOptions({ yaraRules: rulesFile });
    const hit = await sweep(put('misc/y.txt', 'xx marker-7f3a xx'), opts);
    expect(hit.findings.map((f) => f.evidence.yara_rule)).toEqual(['Exhunt_Test']);
    // The user's rule declares the meaning: its name is the title, under the YARA rule's id, severity and kind.
    expect(hit.findings[0]).toMatchObject({ rule: 'YARA', title: 'YARA rule Exhunt_Test', severity: 'high', kind: 'ioc' });
    expect((await sweep(put('misc/n.txt', 'nothing'), opts)).findings).toEqual([]);
    const broken = join(root, put('rules/bad.yar', 'rule { nope'));
    expect(await yaraEngine(broken)).toEqual({ error: expect.stringMatching(/do not compile/) });
  });
});
