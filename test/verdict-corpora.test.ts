// Whole-server corpora (scripts/make-corpora.mjs, generated at test time from published values) scanned end to
// end through the CLI: one per class of issue #10 — exposure windows, severity calibration, admin workflows,
// the evidence shapes once missed, and self-inflicted findings (own reports, copy times, outputs in evidence).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding, HostResult, ScanReport } from '../src/model.js';
import { catalogIds } from '../src/report/rules-catalog.js';
import { undeclaredMeanings } from './support/catalogue.js';
import { exhunt } from './support/cli.js';

let dir = '';
const hosts = new Map<string, { host: HostResult; code: number | null }>();

function scanHost(name: string, extra: string[] = []): { host: HostResult; code: number | null } {
  const r = exhunt(['scan', join(dir, name), '--json', '-', ...extra]);
  const report = JSON.parse(r.stdout) as ScanReport;
  return { host: report.hosts[0], code: r.code };
}

const at = (f: Finding) => `${f.rule} ${f.severity} ${f.source.path}:${f.source.line ?? f.source.record}`;
const MEDIUM_UP = new Set(['critical', 'high', 'medium']);
/** Findings that say something about an attack (exposure is host context) at medium or higher. */
const alarms = (h: HostResult) => h.findings.filter((f) => f.kind !== 'exposure' && MEDIUM_UP.has(f.severity));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'exhunt-corpora-'));
  execFileSync(process.execPath, [resolve('scripts/make-corpora.mjs'), dir]);
  for (const name of ['ex19-busy-clean', 'se26-patched', 'se26-unpatched', 'ex16-proxynotshell', 'ex13-proxylogon']) hosts.set(name, scanHost(name));
}, 240_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const get = (name: string) => hosts.get(name)!;
const find = (h: HostResult, rule: string, path: string, where: number) =>
  h.findings.find((f) => f.rule === rule && f.source.path === path && (f.source.line ?? f.source.record) === where);

describe('1. exposure windows decide clean vs insufficient-evidence', () => {
  it('a current Exchange SE server, installed 2025 on a fixed build and patched, with 30 days of logs: clean, exit 0', () => {
    const { host, code } = get('se26-patched');
    expect(host.verdict).toBe('clean');
    expect(code).toBe(0);
    expect(host.reasons[0]).toMatch(/^no sign of an attack, and the evidence shows no window in which the server was exposed to ProxyLogon, ProxyShell, ProxyNotShell, OWASSRF/);
    const pl = host.exposure_windows!.find((w) => w.family === 'proxylogon')!;
    expect(pl.start).toBeNull();
    expect(pl.end_reason).toBe('fixing build 15.2.2562.17 in ExchangeSetup.log (install completed) (C/ExchangeSetupLogs/ExchangeSetup.log:9) in place by 2025-07-15');
    expect(host.facts.find((f) => f.kind === 'install')).toMatchObject({ value: '15.2.2562.17', time: '2025-07-15T08:22:00.000Z', source: { path: 'C/ExchangeSetupLogs/ExchangeSetup.log', line: 9 } });
  });

  it('the same server on an unpatched build: insufficient-evidence naming the window, exit 3 (exposure only)', () => {
    const { host, code } = get('se26-unpatched');
    expect(host.verdict).toBe('insufficient-evidence');
    expect(code).toBe(3);
    const pns = host.exposure_windows!.find((w) => w.family === 'proxynotshell')!;
    expect(pns).toMatchObject({ start: '2022-08-01T00:00:00.000Z', covered: false, gating: true });
    expect(pns.text).toMatch(/^ProxyNotShell: exposed from 2022-08-01 to 2026-12-01 \(first in-the-wild exploitation \(2022-08-01\); install date not in the evidence; newest evidence; vulnerable build 15\.2\.1118\.7 in #Version/);
    expect(pns.text).toMatch(/logs cover 2026-11-02 to 2026-12-01 \([^)]+\)$/);
    expect(host.reasons[0]).toContain('ProxyNotShell: exposed from 2022-08-01 to 2026-12-01');
    expect(alarms(host)).toEqual([]);
  });

  it('--since overrides the windows', () => {
    const r = scanHost('se26-unpatched', ['--since', '2026-11-02']);
    expect(r.host.verdict).toBe('clean');
    expect(r.code).toBe(3);
  });
});

describe('2-3. a busy clean Exchange 2019 server: admin exports, EMS, autodiscover.json clients, AV archives', () => {
  it('is clean, with no finding at medium or above; exit 3: CU14 RTM is open to the KEV CVE-2026-42897 (review10 R12)', () => {
    const { host, code } = get('ex19-busy-clean');
    expect(host.verdict).toBe('clean');
    expect(code).toBe(3);
    expect(host.findings.find((f) => f.rule === 'EXP-01')?.evidence.kev_open).toEqual(['CVE-2026-42897']);
    expect(alarms(host).map(at)).toEqual([]);
    expect(host.reasons.at(-1)).toMatch(/^worth a look: \d+ low or info finding\(s\) \(PS-08, PS-09, PS-10, PX-08\), which do not change the verdict$/);
  });

  it('grades the documented export workflow info in every cmdlet source, at the exact record and line', () => {
    const { host } = get('ex19-busy-clean');
    const evtx = 'C/Windows/System32/winevt/Logs/MSExchange Management.xml';
    const rps = (hour: string) => `C/Program Files/Microsoft/Exchange Server/V15/Logging/CmdletInfra/Powershell-Proxy/Cmdlet/Rps_Cmdlet_${hour}-1.LOG`;
    for (const [rule, path, where] of [
      ['PS-08', evtx, 4100], ['PS-08', rps('2024051409'), 6], ['PS-08', evtx, 4101], ['PS-08', rps('2024051409'), 7],
      ['PS-09', evtx, 4102], ['PS-09', rps('2024051413'), 6], ['PS-10', evtx, 4103], ['PS-10', rps('2024052010'), 6],
    ] as const) {
      const f = find(host, rule, path, where);
      expect(f, `${rule} ${path}:${where}`).toBeDefined();
      expect(f!.severity).toBe('info');
      expect(f!.evidence.admin_workflow).toBe(true);
    }
    // Context, not attack steps: no incident, and EMS over /powershell (Kerberos, internal) raises nothing.
    expect(host.incidents.every((i) => i.findings.every((id) => !host.findings.find((f) => f.id === id)!.rule.startsWith('PS-')))).toBe(true);
    expect(host.findings.some((f) => /powershell/i.test(String(f.evidence.url ?? '')))).toBe(false);
    // AV and backup agents' archives under ProgramData stay listed, low.
    expect(host.findings.find((f) => f.rule === 'PX-08' && f.source.path === 'C/ProgramData/McAfee/Common Framework/FrameworkConfig.zip')).toMatchObject({ severity: 'low' });
  });
});

describe('4. the evidence shapes once missed', () => {
  it('a ProxyNotShell victim is compromised with the ProxyNotShell CVEs, authenticated SSRF told apart from ProxyShell', () => {
    const { host, code } = get('ex16-proxynotshell');
    expect(host.verdict).toBe('compromised');
    expect(code).toBe(1);
    const iis = 'C/inetpub/logs/LogFiles/W3SVC1/u_ex220920.log';
    for (const line of [21, 22, 23]) {
      const f = find(host, 'PNS-01', iis, line)!;
      expect(f).toMatchObject({ severity: 'critical', kind: 'exploitation', cves: ['CVE-2022-41040', 'CVE-2022-41082'] });
      expect(f.summary).toBe('ProxyNotShell: autodiscover.json SSRF to PowerShell answered 200 (authenticated as NORTHWIND\\jdoe)');
    }
    const attack = host.findings.filter((f) => f.kind !== 'exposure');
    expect(attack.some((f) => f.cves.some((c) => c.startsWith('CVE-2021-344') || c === 'CVE-2021-31207') && f.severity !== 'info')).toBe(false);
    expect(find(host, 'PX-03', 'C/Windows/System32/winevt/Logs/Microsoft-Windows-Sysmon%4Operational.xml', 88211)).toMatchObject({ severity: 'critical' });
    for (const line of [24, 25, 26, 27]) expect(find(host, 'WS-40', iis, line)).toMatchObject({ severity: 'critical' });
    // The role grant by the phished account nine minutes after the SSRF is part of the chain.
    const grant = find(host, 'PS-08', 'C/Windows/System32/winevt/Logs/MSExchange Management.xml', 4100)!;
    expect(grant).toMatchObject({ severity: 'critical', kind: 'post-exploitation' });
    expect(grant.evidence.chained_with).toMatch(/^PNS-01 at 2022-09-20T03:14:07/);
  });

  it('ProxyLogon: static /ecp/ POSTs, an OABGeneratorLog with an unknown #Log-type, HttpProxy shell rows and tunnelling tools', () => {
    const { host } = get('ex13-proxylogon');
    expect(host.verdict).toBe('compromised');
    const iis = 'C/inetpub/logs/LogFiles/W3SVC1/u_ex210303.log';
    expect(find(host, 'PL-10', iis, 21)!.summary).toBe('POST /ecp/y.png answered 200');
    const oab = find(host, 'PL-30', 'C/Program Files/Microsoft/Exchange Server/V15/Logging/OABGeneratorLog/OABGenerator_20210303-1.LOG', 6)!;
    expect(oab).toMatchObject({ severity: 'critical', cves: ['CVE-2021-26858'] });
    const proxyRow = find(host, 'WS-45', 'C/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Owa/HttpProxy_2021030306-1.LOG', 6)!;
    const iisRow = find(host, 'WS-40', iis, 25)!;
    const child = find(host, 'PX-18', 'C/Windows/System32/winevt/Logs/Microsoft-Windows-Sysmon%4Operational.xml', 51877)!;
    const dropped = host.findings.find((f) => f.rule === 'PX-19' && f.source.path === 'C/ProgramData/VMware/plink.exe')!;
    expect([proxyRow.severity, iisRow.severity, child.severity, dropped.severity]).toEqual(['high', 'critical', 'critical', 'high']);
    const incidentOf = (id: string) => host.incidents.find((i) => i.findings.includes(id))?.id;
    expect(incidentOf(proxyRow.id)).toBe(incidentOf(iisRow.id));
    expect(incidentOf(child.id)).toBe(incidentOf(dropped.id));
    expect(incidentOf(oab.id)).toBe(incidentOf(iisRow.id));
  });
});

describe('5. times and self-inflicted findings', () => {
  it('file findings carry no copy time, so no incident ends on the copy date', () => {
    const { host } = get('ex13-proxylogon');
    const files = host.findings.filter((f) => f.source.line === undefined && f.source.record === undefined && f.kind !== 'exposure');
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((f) => f.time === null && f.evidence.mtime === undefined)).toBe(true);
    expect(host.incidents.every((i) => i.last === null || i.last < '2021-04-01')).toBe(true);
  });

  it("skips exhunt's own reports inside the evidence and refuses to write an output into an input", () => {
    const copy = join(dir, 'ex19-with-reports');
    cpSync(join(dir, 'ex19-busy-clean'), copy, { recursive: true });
    const out = join(copy, 'reports');
    const first = exhunt(['scan', join(dir, 'ex13-proxylogon'), '-q', '--json', join(dir, 'r.json'), '--html', join(dir, 'r.html'), '--ndjson', join(dir, 'r.ndjson'), '--csv', join(dir, 'csv')]);
    expect(first.code).toBe(1);
    cpSync(join(dir, 'r.json'), join(copy, 'r.json'));
    cpSync(join(dir, 'r.html'), join(copy, 'r.html'));
    cpSync(join(dir, 'r.ndjson'), join(copy, 'r.ndjson'));
    cpSync(join(dir, 'csv'), join(copy, 'csv'), { recursive: true });
    const again = scanHost('ex19-with-reports');
    expect(again.host.verdict).toBe('clean');
    expect(again.host.skipped.filter((s) => s.reason.startsWith("exhunt's own")).map((s) => s.path).sort()).toEqual(
      expect.arrayContaining(['csv/exhunt-findings.csv', 'r.html', 'r.json', 'r.ndjson']),
    );
    const refused = exhunt(['scan', copy, '--html', join(out, 'x.html')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`--html ${join(out, 'x.html')} is inside the evidence`);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(join(dir, 'r.json'), 'utf8')).toContain('"schema": "exhunt.scan/1"');
  });
});

describe('6. the catalogue proof', () => {
  it('every rule id the corpora report is declared (a rule or a grade declared on one)', () => {
    const ids = catalogIds();
    const seen = [...new Set([...hosts.values()].flatMap(({ host }) => host.findings.map((f) => f.rule)))].sort();
    expect(seen.length).toBeGreaterThan(15);
    expect(seen.filter((id) => !ids.has(id))).toEqual([]);
  });

  it('every finding the corpora report carries the title, severity and kind its rule or grade declares', () => {
    const findings = [...hosts.values()].flatMap(({ host }) => host.findings);
    expect(findings.length).toBeGreaterThan(30);
    expect(undeclaredMeanings(findings)).toEqual([]);
  });
});
