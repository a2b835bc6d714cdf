// Exposure windows from build facts and setup logs, and how they decide clean vs insufficient-evidence.
import { describe, expect, it } from 'vitest';
import type { Coverage, Fact } from '../src/model.js';
import { exposureWindows } from '../src/engine/exposure-windows.js';
import { hostVerdict } from '../src/engine/verdict.js';
import { ownReportKind } from '../src/evidence/own-reports.js';
import { cov, finding } from './support/report-fixtures.js';

const SINCE = '2020-12-01T00:00:00.000Z';
const fact = (kind: Fact['kind'], value: string, origin: string, time: string | null, path = 'Logging/HttpProxy/Owa/x.LOG'): Fact => ({ kind, value, origin, time, source: { path, line: 2 } });
/** 30 days of HttpProxy logs ending 2026-12-02, as a current server keeps them. */
const RECENT: Coverage[] = [cov('HttpProxy/Owa', 'httpproxy', '2026-11-02T00:10:00Z', '2026-12-02T09:00:00Z')];
/** SE RTM installed 2025-07-15 (setup log), Nov26SU first seen in the logs on 2026-11-02. */
const SE_INSTALLED_THEN_NOV26SU: Fact[] = [
  fact('install', '15.2.2562.17', 'ExchangeSetup.log (install completed)', '2025-07-15T09:12:00Z', 'ExchangeSetupLogs/ExchangeSetup.log'),
  fact('build', '15.2.2562.17', 'ExchangeSetup.log (install completed)', '2025-07-15T09:12:00Z', 'ExchangeSetupLogs/ExchangeSetup.log'),
  fact('build', '15.02.2562.057', '#Version', '2026-11-02T00:10:00Z'),
];

describe('exposure windows', () => {
  it('a server installed on a fixed build (setup log) was never exposed: 30 days of logs make it clean', () => {
    const facts = SE_INSTALLED_THEN_NOV26SU;
    const windows = exposureWindows(facts, RECENT);
    const gating = windows.filter((w) => w.gating);
    expect(gating.map((w) => w.family)).toEqual(['proxylogon', 'proxyshell', 'proxynotshell', 'owassrf']);
    expect(gating.every((w) => w.start === null)).toBe(true);
    const v = hostVerdict([], RECENT, SINCE, { windows });
    expect(v.verdict).toBe('clean');
    expect(v.reasons[0]).toMatch(/^no sign of an attack, and the evidence shows no window in which the server was exposed/);
  });

  it('an unpatched build with 30 days of logs is insufficient-evidence, naming the window', () => {
    const facts = [fact('build', '15.02.1118.007', '#Version', '2026-11-02T00:10:00Z')];
    const windows = exposureWindows(facts, RECENT);
    const pns = windows.find((w) => w.family === 'proxynotshell')!;
    expect(pns.start).toBe('2022-08-01T00:00:00.000Z');
    expect(pns.end).toBe('2026-12-02T09:00:00.000Z');
    expect(pns.covered).toBe(false);
    expect(pns.text).toMatch(/^ProxyNotShell: exposed from 2022-08-01 to 2026-12-02 \(first in-the-wild exploitation \(2022-08-01\); install date not in the evidence; newest evidence; vulnerable build 15\.2\.1118\.7 in #Version/);
    expect(pns.text).toMatch(/logs cover 2026-11-02 to 2026-12-02 \(HttpProxy\/Owa\)$/);
    const v = hostVerdict([], RECENT, SINCE, { windows });
    expect(v.verdict).toBe('insufficient-evidence');
    expect(v.reasons[0]).toContain('ProxyNotShell: exposed from 2022-08-01 to 2026-12-02');
    // --since overrides the windows: logs reaching back to it are enough.
    expect(hostVerdict([], RECENT, '2026-11-02T00:00:00Z', { windows, sinceExplicit: true }).verdict).toBe('clean');
  });

  it('a window closes at the first fixing build seen, and logs covering it make the host clean', () => {
    const facts = [
      fact('build', '15.01.2176.002', '#Version', '2020-11-25T00:00:00Z'),
      fact('build', '15.01.2176.009', '#Version', '2021-03-04T10:00:00Z'),
    ];
    const coverage = [cov('IIS W3SVC1', 'iis', '2020-11-25T00:00:00Z', '2021-03-31T00:00:00Z')];
    const pl = exposureWindows(facts, coverage).find((w) => w.family === 'proxylogon')!;
    expect([pl.start, pl.end, pl.covered]).toEqual(['2021-01-03T00:00:00.000Z', '2021-03-04T10:00:00.000Z', true]);
    expect(pl.end_reason).toMatch(/^fixing build 15\.1\.2176\.9 in #Version .* first seen 2021-03-04/);
    expect(hostVerdict([], coverage, SINCE, { windows: exposureWindows(facts, coverage) }).verdict).toBe('clean');
    const late = [cov('IIS W3SVC1', 'iis', '2021-02-10T00:00:00Z', '2021-03-31T00:00:00Z')];
    const v = hostVerdict([], late, SINCE, { windows: exposureWindows(facts, late) });
    expect(v.verdict).toBe('insufficient-evidence');
    expect(v.reasons[0]).toContain('ProxyLogon: exposed from 2021-01-03 to 2021-03-04');
    expect(v.reasons[0]).toContain('logs cover 2021-02-10 to 2021-03-31 (IIS W3SVC1)');
  });

  it('families exhunt cannot see in logs never gate clean, and every verdict names them as not assessable from logs', () => {
    // SE RTM installed 2025-07-15, Nov26SU (fixes CVE-2026-42897) first seen in the logs on 2026-11-02.
    const facts = SE_INSTALLED_THEN_NOV26SU;
    const windows = exposureWindows(facts, RECENT);
    const xss = windows.find((w) => w.family === 'cve-2026-42897')!;
    expect(xss).toMatchObject({ gating: false, start: '2026-05-14T00:00:00.000Z', end: '2026-11-02T00:10:00.000Z' });
    expect(xss.text).toMatch(/^CVE-2026-42897 \(OWA stored XSS\): exposed from 2026-05-14 to 2026-11-02 \(.*\); not assessable from logs: exhunt has no log detection for it, so the verdict does not cover it$/);
    expect(xss.text).not.toContain('logs cover');
    const clean = hostVerdict([], RECENT, SINCE, { windows });
    expect(clean.verdict).toBe('clean');
    expect(clean.reasons[0]).toContain('exposed to ProxyLogon, ProxyShell, ProxyNotShell, OWASSRF;');
    expect(clean.reasons).toContain(xss.text);
    // Named also when no web logs at all leave the host insufficient-evidence.
    const none = hostVerdict([], [cov('ECP Server', 'ecp-server', '2026-11-02T00:10:00Z', '2026-12-02T09:00:00Z')], SINCE, { windows });
    expect(none.verdict).toBe('insufficient-evidence');
    expect(none.reasons).toContain(xss.text);
  });

  it('with no build facts, exposure is assumed from the first exploitation, and said so', () => {
    const w = exposureWindows([], RECENT).find((x) => x.family === 'proxylogon')!;
    expect(w.start).toBe('2021-01-03T00:00:00.000Z');
    expect(w.end_reason).toBe('newest evidence; no build facts, so exposure is assumed');
  });
});

describe('verdict calibration', () => {
  it('low and info findings never flip a clean host; a medium indicator makes it suspicious', () => {
    const low = [
      finding({ id: 'A', rule: 'WS-24', kind: 'webshell', severity: 'low', summary: 'aspnet_client file' }),
      finding({ id: 'B', rule: 'PX-R3', kind: 'post-exploitation', severity: 'low', summary: 'AV archive' }),
      finding({ id: 'C', rule: 'EXP-01', kind: 'exposure', severity: 'high', summary: 'vulnerable build' }),
    ];
    const coverage = [cov('HttpProxy/Owa', 'httpproxy', '2020-11-25T00:00:00Z', '2021-03-31T00:00:00Z')];
    const v = hostVerdict(low, coverage, SINCE);
    expect(v.verdict).toBe('clean');
    expect(v.reasons.at(-1)).toBe('worth a look: 2 low or info finding(s) (PX-R3, WS-24), which do not change the verdict');
    expect(hostVerdict([...low, finding({ id: 'D', rule: 'PL-15', kind: 'ioc', severity: 'medium' })], coverage, SINCE).verdict).toBe('suspicious');
  });
});

describe('own reports', () => {
  it('recognises exhunt JSON, HTML, NDJSON and CSV heads, and nothing else', () => {
    expect(ownReportKind('{\n  "schema": "exhunt.scan/1",\n  "tool": {')).toBe('JSON report');
    expect(ownReportKind('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>exhunt report — MAIL02</title>')).toBe('HTML report');
    expect(ownReportKind('{"@timestamp":"2021-03-03T06:49:46.210Z","event":{"kind":"alert","dataset":"exhunt.finding"}}')).toBe('NDJSON findings');
    expect(ownReportKind('"host","id","time","severity","kind","rule","title","cves","client_ip","path","line","record","summary","evidence"\r\n')).toBe('CSV findings');
    // The header since host_label (927d996): its own report was read back as evidence (a clean host turned compromised).
    expect(ownReportKind('"host","host_label","id","time","severity","kind","rule","title","cves","client_ip","path","line","record","summary","evidence","rule_credit"\r\n')).toBe('CSV findings');
    expect(ownReportKind('#TYPE Selected.System.Management.Automation.PSCustomObject\r\n"DateTime","RequestId"')).toBeNull();
    expect(ownReportKind('{"schema":"other"}')).toBeNull();
  });
});
