// IIS logs of another website on the server (W3SVC3: an intranet app) are no web coverage of Exchange: a box whose
// only IIS logs are another site's was `clean` on them. Exchange's front end (Default Web Site) and back end
// (Exchange Back End) are told by what they answer: Exchange's virtual directories, all day (Managed Availability's
// AMProbe and HealthMailbox probes: artefacts.help samples; client traffic).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ScanReport } from '../src/model.js';
import { exchangeShare, isExchangeSiteLog } from '../src/engine/exchange-sites.js';
import { exhunt } from './support/cli.js';

const HEAD = '#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n';
const row = (day: string, t: string, m: string, stem: string, ua: string, st: number, port = 443) => `${day} ${t} 10.0.0.5 ${m} ${stem} - ${port} - 10.0.0.9 ${ua} - ${st} 0 0 12\r\n`;
const CHROME = 'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/131.0.0.0+Safari/537.36';

/** A day of an intranet app on a second site: its own pages, and a user who typed /owa/ on it (404 there). */
function intranetDay(day: string, probes = ''): string {
  const own = ['/', '/Home/Index', '/api/orders', '/css/site.css', '/js/app.js', '/Reports/Monthly'];
  const lines = own.flatMap((s, i) => [row(day, `0${i}:10:00`, 'GET', s, CHROME, 200), row(day, `1${i}:40:00`, 'GET', s, CHROME, 200)]);
  lines.push(row(day, '03:33:03', 'GET', '/owa/', CHROME, 404));
  return HEAD + lines.join('') + probes;
}
/** Internet scanners probe every site for Exchange (answered 404 by another site). */
const scanners = (day: string) => row(day, '04:33:03', 'GET', '/owa/auth/x.js', 'Mozilla/5.0+zgrab/0.x', 404) + row(day, '04:33:04', 'GET', '/autodiscover/autodiscover.json', 'Mozilla/5.0+zgrab/0.x', 404);

/** A day of Exchange's front end: probes and clients on its virtual directories, a redirect of /. */
function exchangeDay(day: string): string {
  return (
    HEAD +
    [
      row(day, '00:05:00', 'GET', '/owa/', 'AMProbe/Local/ClientAccess', 200),
      row(day, '00:05:01', 'POST', '/ews/exchange.asmx', 'AMProbe/Local/ClientAccess', 200),
      row(day, '06:00:00', 'GET', '/', CHROME, 302),
      row(day, '08:00:00', 'GET', '/owa/auth/logon.aspx', CHROME, 200),
      row(day, '08:00:05', 'POST', '/mapi/emsmdb/', 'Microsoft+Office/16.0', 200),
      row(day, '23:55:00', 'GET', '/Microsoft-Server-ActiveSync/default.eas', 'Apple-iPhone15C2/2201.81', 401),
    ].join('')
  );
}

describe('telling an Exchange site from another website', () => {
  it('by the share of requests its virtual directories answer (a 404 there is another site)', () => {
    expect(exchangeShare(exchangeDay('2021-03-01'))).toEqual({ requests: 5, exchange: 5 });
    expect(isExchangeSiteLog(exchangeDay('2021-03-01'))).toBe(true);
    expect(exchangeShare(intranetDay('2021-03-01', scanners('2021-03-01')))).toEqual({ requests: 13, exchange: 0 });
    expect(isExchangeSiteLog(intranetDay('2021-03-01', scanners('2021-03-01')))).toBe(false);
    expect(isExchangeSiteLog(intranetDay('2021-03-01'))).toBe(false);
    // No #Fields, or no request: cannot tell, so it keeps counting as before.
    expect(isExchangeSiteLog('2021-03-01 00:00:00 GET /x 200\r\n')).toBeNull();
    expect(isExchangeSiteLog(HEAD)).toBeNull();
    // A front end behind a load balancer that polls / every 5 s (and /favicon.ico): at night those are most of its
    // lines, and tell nothing of the site (review10 R18).
    const night = Array.from({ length: 700 }, (_, i) => row('2021-03-01', `00:${String(Math.floor(i / 12) % 60).padStart(2, '0')}:${String((i % 12) * 5).padStart(2, '0')}`, 'GET', i % 50 ? '/' : '/favicon.ico', 'F5-Monitor', 302)).join('');
    expect(isExchangeSiteLog(exchangeDay('2021-03-01') + night)).toBe(true);
  });
});

describe('a server whose only IIS logs are another website', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exhunt-sites-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const days = Array.from({ length: 20 }, (_, i) => `2021-03-${String(i + 1).padStart(2, '0')}`);
  const put = (rel: string, text: string) => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  const scan = (name: string) => {
    const out = join(dir, `${name}.json`);
    const r = exhunt(['scan', join(dir, name), '--since', '2021-03-01', '--json', out]);
    return { stdout: r.stdout, host: (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0] };
  };
  for (const d of days) {
    const ymd = d.slice(2).replace(/-/g, '');
    put(`other/C/inetpub/logs/LogFiles/W3SVC3/u_ex${ymd}.log`, intranetDay(d));
    put(`both/C/inetpub/logs/LogFiles/W3SVC3/u_ex${ymd}.log`, intranetDay(d));
    // The Exchange site's logs lack two days: only the Exchange site's days count for holes.
    if (d !== '2021-03-10' && d !== '2021-03-11') put(`both/C/inetpub/logs/LogFiles/W3SVC1/u_ex${ymd}.log`, exchangeDay(d));
  }

  it('is not covered: insufficient-evidence, the site listed as another website', () => {
    const { host, stdout } = scan('other');
    expect(host.verdict).toBe('insufficient-evidence');
    expect(host.coverage).toEqual([expect.objectContaining({ source: 'IIS W3SVC3', files: 20, not_exchange: true })]);
    expect(host.reasons[0]).toMatch(/no HttpProxy or IIS logs in the evidence .*only IIS W3SVC3 \(another website's log: no request to Exchange\)/);
    expect(stdout).toMatch(/IIS W3SVC3 .* another website: no Exchange coverage/);
  });

  it("beside Exchange's own site: only Exchange's days count, so its missing days are a hole", () => {
    const { host } = scan('both');
    expect(host.verdict).toBe('insufficient-evidence');
    expect(host.coverage.find((c) => c.source === 'IIS W3SVC1')?.not_exchange).toBeUndefined();
    expect(host.coverage.find((c) => c.source === 'IIS W3SVC3')?.not_exchange).toBe(true);
    expect(host.reasons[0]).toMatch(/no HttpProxy or IIS log exists for 2021-03-10 → 2021-03-11/);
  });
});
