// IIS logs whose #Fields leave out cs-uri-query (an admin's privacy trim, a SIEM export) cannot show ProxyShell or
// ProxyNotShell: their requests are told by the query (`autodiscover.json?@…/powershell`, `Email=autodiscover…`). Such
// logs must not make a host clean for those families (review10 R17); the coverage row and the reasons say why, and
// the HttpProxy logs of the same days (which record the query) still decide it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scan } from '../src/engine/scan.js';
import type { HostResult } from '../src/model.js';

const TRIMMED = 'date time s-ip cs-method cs-uri-stem s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken';
const FULL = 'date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken';
const DAYS = ['2021-08-20', '2021-08-21', '2021-08-22'];

/** One day of W3SVC1: OWA traffic and, on 08-21, the ProxyShell SSRF (a POST to autodiscover.json answered 200). */
function iisDay(day: string, fields: string): string {
  const q = fields.includes('cs-uri-query');
  const line = (time: string, method: string, stem: string, query: string, ua: string, status: number) =>
    [day, time, '10.1.2.7', method, stem, ...(q ? [query] : []), '443', '-', '157.245.58.14', ua, ...(q ? ['-'] : []), status, 0, 0, 12].join(' ');
  const rows = [line('00:00:05', 'GET', '/owa/', '-', 'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)', 302), line('23:59:50', 'GET', '/owa/auth/logon.aspx', 'url=https%3a%2f%2fmail.contoso.se%2fowa%2f&reason=0', 'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)', 200)];
  if (day === '2021-08-21') rows.splice(1, 0, ...[0, 1, 2].map((k) => line(`02:14:4${k}`, 'POST', '/autodiscover/autodiscover.json', '@evil.corp/autodiscover/autodiscover.json%3F@evil.corp/powershell/?X-Rps-CAT=VgEAVAdXaW5k&Email=autodiscover/autodiscover.json%3F@evil.corp', 'python-requests/2.26.0', 200)));
  return ['#Software: Microsoft Internet Information Services 10.0', '#Version: 1.0', `#Date: ${day} 00:00:00`, `#Fields: ${fields}`, ...rows].join('\r\n') + '\r\n';
}

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

async function host(fields: string, since?: string): Promise<HostResult> {
  const root = mkdtempSync(join(tmpdir(), 'exhunt-noq-'));
  roots.push(root);
  const dir = join(root, 'C', 'inetpub', 'logs', 'LogFiles', 'W3SVC1');
  mkdirSync(dir, { recursive: true });
  for (const d of DAYS) writeFileSync(join(dir, `u_ex${d.slice(2).replace(/-/g, '')}.log`), iisDay(d, fields));
  const report = await scan({ paths: [root], jobs: 1, command: [], options: since ? { since: `${since}T00:00:00.000Z`, sinceExplicit: true } : {} });
  return report.hosts[0];
}

describe('IIS logs without cs-uri-query', () => {
  it('with the query logged, the same SSRF is PS-02 (the control)', async () => {
    const h = await host(FULL, '2021-08-20');
    expect(h.findings.filter((f) => f.rule === 'PS-02').length).toBe(3);
    expect(h.verdict).toBe('compromised');
  });

  it('--since: not clean; the coverage row and the reasons say the query is not logged', async () => {
    const h = await host(TRIMMED, '2021-08-20');
    expect(h.findings.filter((f) => f.kind !== 'exposure')).toEqual([]);
    expect(h.coverage.map((c) => [c.source, c.query_unlogged])).toEqual([['IIS W3SVC1 (no query string logged)', true]]);
    expect(h.verdict).toBe('insufficient-evidence');
    expect(h.reasons.join('\n')).toMatch(/IIS W3SVC1 \(no query string logged\) has no cs-uri-query field, so ProxyShell \/ ProxyNotShell requests/);
    expect(h.reasons.join('\n')).toMatch(/select cs-uri-query/);
  });

  it('exposure windows: the ProxyShell window is not covered by them, and says why', async () => {
    const h = await host(TRIMMED);
    const ps = h.exposure_windows!.find((w) => w.family === 'proxyshell')!;
    expect(ps.covered).toBe(false);
    expect(ps.text).toMatch(/IIS W3SVC1 \(no query string logged\) cannot show ProxyShell/);
    expect(h.verdict).toBe('insufficient-evidence');
  });
});
