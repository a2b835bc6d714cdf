// The exposure-window view per host (terminal and HTML; the JSON carries `exposure_windows` itself): windows
// computed by the engine from build facts and coverage, rendered as one row per family with the gap named.
import { describe, expect, it } from 'vitest';
import { exposureWindows } from '../src/engine/exposure-windows.js';
import { hostVerdict } from '../src/engine/verdict.js';
import type { Coverage, Fact, HostResult } from '../src/model.js';
import { windowRows } from '../src/report/exposure-view.js';
import { esc, renderHtml } from '../src/report/html.js';
import { renderTerminal } from '../src/report/terminal.js';
import { cov, host, report, SINCE } from './support/report-fixtures.js';

const fact = (value: string, origin: string, time: string, path: string): Fact => ({ kind: 'build', value, origin, time, source: { path, line: 2 } });
/** 30 days of logs of a current server on 2019 CU12 (vulnerable to ProxyNotShell and OWASSRF). */
const RECENT: Coverage[] = [cov('HttpProxy/Owa', 'httpproxy', '2026-11-02T00:10:00Z', '2026-12-02T09:00:00Z')];

function judged(facts: Fact[], coverage: Coverage[], name = 'EX01'): HostResult {
  const windows = exposureWindows(facts, coverage);
  const h = { ...host(name, [], coverage), facts, exposure_windows: windows };
  return { ...h, ...hostVerdict([], coverage, SINCE, { windows }) };
}

describe('exposure-window rows', () => {
  it('an unpatched build with 30 days of logs: gating families show the uncovered part, the newer ones are not assessable', () => {
    const h = judged([fact('15.02.1118.007', '#Version', '2026-11-02T00:10:00Z', 'Logging/HttpProxy/Owa/HttpProxy_2026110200-1.LOG')], RECENT);
    const rows = windowRows(h);
    expect(rows.map((r) => r.family)).toEqual(['proxylogon', 'proxyshell', 'proxynotshell', 'owassrf', 'cve-2021-42321', 'cve-2024-21410', 'cve-2026-42897']);
    const pns = rows.find((r) => r.family === 'proxynotshell')!;
    expect(pns).toMatchObject({ state: 'gap', exposed: '2022-08-01 → 2026-12-02', logs: '2026-11-02 → 2026-12-02 (HttpProxy/Owa)', gap: 'no logs 2022-08-01 → 2026-11-02' });
    expect(pns.why).toMatch(/^first in-the-wild exploitation \(2022-08-01\); install date not in the evidence; newest evidence; vulnerable build 15\.2\.1118\.7 in #Version/);
    const xss = rows.find((r) => r.family === 'cve-2026-42897')!;
    expect(xss).toMatchObject({ state: 'not assessable', logs: null, gap: null });
    expect(xss.why).toMatch(/exhunt has no log detection for this family, so the verdict does not cover it$/);
    expect(h.verdict).toBe('insufficient-evidence');
  });

  it('logs reaching back over the whole window: covered, no gap; a window that ends before the logs: the gap is at its start', () => {
    const facts = [fact('15.01.2176.002', '#Version', '2020-11-25T00:00:00Z', 'a.LOG'), fact('15.01.2176.009', '#Version', '2021-03-04T10:00:00Z', 'b.LOG')];
    const full = windowRows(judged(facts, [cov('IIS W3SVC1', 'iis', '2020-11-25T00:00:00Z', '2021-03-31T00:00:00Z')])).find((r) => r.family === 'proxylogon')!;
    expect(full).toMatchObject({ state: 'covered', exposed: '2021-01-03 → 2021-03-04', logs: '2020-11-25 → 2021-03-31 (IIS W3SVC1)', gap: null });
    const late = windowRows(judged(facts, [cov('IIS W3SVC1', 'iis', '2021-02-10T00:00:00Z', '2021-03-31T00:00:00Z')])).find((r) => r.family === 'proxylogon')!;
    expect(late).toMatchObject({ state: 'gap', gap: 'no logs 2021-01-03 → 2021-02-10' });
    const none = windowRows(judged(facts, [cov('ECP Server', 'ecp-server', '2021-02-10T00:00:00Z', '2021-03-31T00:00:00Z')])).find((r) => r.family === 'proxylogon')!;
    expect(none).toMatchObject({ state: 'gap', logs: null, gap: 'no HttpProxy or IIS logs for 2021-01-03 → 2021-03-04' });
  });
});

describe('exposure windows in the terminal and HTML reports', () => {
  const h = judged([fact('15.02.1118.007', '#Version', '2026-11-02T00:10:00Z', 'Logging/HttpProxy/Owa/HttpProxy_2026110200-1.LOG')], RECENT);

  it('terminal: one line per family with its state, span, logs and gap, and the why below', () => {
    const out = renderTerminal(report([h]), { color: false });
    const block = out.slice(out.indexOf('  exposure windows:'));
    expect(block).toContain('    GAP            ProxyNotShell: exposed 2022-08-01 → 2026-12-02, logs cover 2026-11-02 → 2026-12-02 (HttpProxy/Owa); no logs 2022-08-01 → 2026-11-02\n                   why: first in-the-wild exploitation (2022-08-01);');
    expect(block).toContain('    not assessable CVE-2024-21410 (NTLM relay): exposed 2024-02-15 → 2026-11-02\n');
  });

  it('HTML: a table after the next steps, a row per family, gaps marked, evidence escaped', () => {
    const hostile = '<img src=x onerror=alert(1)>';
    const evil = { ...h, exposure_windows: h.exposure_windows!.map((w) => ({ ...w, end_reason: `${w.end_reason} ${hostile}`, logs: w.logs && { ...w.logs, source: hostile } })) };
    const html = renderHtml(report([evil]));
    const section = html.slice(html.indexOf('<h3>Exposure windows'), html.indexOf('<h3>Timeline'));
    expect(html.indexOf('What to do next')).toBeLessThan(html.indexOf('<h3>Exposure windows'));
    expect([...section.matchAll(/<tr class="w-(\w+)" data-family="([^"]+)" data-state="([^"]+)"/g)].map((m) => `${m[2]} ${m[3]} ${m[1]}`)).toEqual([
      'proxylogon gap gap', 'proxyshell gap gap', 'proxynotshell gap gap', 'owassrf gap gap',
      'cve-2021-42321 not assessable ok', 'cve-2024-21410 not assessable ok', 'cve-2026-42897 not assessable ok',
    ]);
    expect(section).toContain('<div class="gap">no logs 2022-08-01 → 2026-11-02</div>');
    expect(section).not.toContain(hostile);
    expect(section).toContain(esc(hostile));
  });
});
