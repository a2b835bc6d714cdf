// Days with no web log between days that have them (engine/coverage.ts logHoles): an attacker who deletes the IIS and
// HttpProxy logs of the attack days must not leave a host `clean` because the logs still span the window end to end.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScanReport } from '../src/model.js';
import { logHoles } from '../src/engine/coverage.js';
import { exhunt } from './support/cli.js';

const days = (from: string, n: number, step = 1) => Array.from({ length: n }, (_, i) => new Date(Date.parse(`${from}T00:00:00Z`) + i * step * 86_400_000).toISOString().slice(0, 10));

describe('logHoles', () => {
  it('a day missing from daily logs is a hole; logs kept every few days are judged by their own rhythm', () => {
    const daily = days('2021-03-01', 20);
    expect(logHoles(daily)).toEqual([]);
    expect(logHoles(daily.filter((d) => d !== '2021-03-10'))).toEqual([{ from: '2021-03-10', to: '2021-03-10' }]);
    expect(logHoles(daily.filter((d) => d < '2021-03-04' || d > '2021-03-06'))).toEqual([{ from: '2021-03-04', to: '2021-03-06' }]);
    const every3 = days('2020-11-25', 40, 3);
    expect(logHoles(every3)).toEqual([]);
    // Twice its usual step: a hole (2021-01-21, then 2021-01-27).
    expect([every3[19], every3[21]]).toEqual(['2021-01-21', '2021-01-27']);
    expect(logHoles(every3.filter((_, i) => i !== 20))).toEqual([{ from: '2021-01-22', to: '2021-01-26' }]);
    expect(logHoles(['2021-03-01', '2021-03-09'])).toEqual([]);
  });
});

describe('a server whose web logs lack the attack days', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exhunt-holes-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const head = '#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken\r\n';
  const line = (d: string, t: string) => `${d} ${t} 10.0.0.5 GET /owa/healthcheck.htm - 443 - 10.0.0.9 AMProbe/Local/ClientAccess 200 0 0 3\r\n`;
  const shell = (d: string) => `${d} 02:13:48 10.0.0.5 POST /owa/auth/OutlookZH.aspx - 443 - 198.51.100.9 Mozilla/5.0 200 0 0 64\r\n`;
  const scan = (name: string, keep: (d: string) => boolean, file = (ymd: string) => `inetpub/logs/LogFiles/W3SVC1/u_ex${ymd}.log`, extra: (d: string) => string = () => '') => {
    for (const d of days('2021-03-01', 20).filter(keep)) {
      const path = join(dir, name, file(d.slice(2).replace(/-/g, '')));
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, head + line(d, '00:05:00') + extra(d) + line(d, '23:55:00'));
    }
    const out = join(dir, `${name}.json`);
    exhunt(['scan', join(dir, name), '--since', '2021-03-01', '--json', out]);
    return (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
  };

  it('every day there: clean; two days deleted: insufficient-evidence naming them', () => {
    const whole = scan('whole', () => true);
    expect(whole.verdict).toBe('clean');
    // Only IIS logs: the clean verdict says Exchange's own folder was not in the evidence (review9 F7).
    expect(whole.reasons.filter((r) => r.startsWith("Exchange's install folder is not in the evidence"))).toHaveLength(1);
    mkdirSync(join(dir, 'with-tree', 'C/Program Files/Microsoft/Exchange Server/V15/Bin'), { recursive: true });
    writeFileSync(join(dir, 'with-tree', 'C/Program Files/Microsoft/Exchange Server/V15/Bin/readme.txt'), 'Exchange\r\n');
    const tree = scan('with-tree', () => true);
    expect(tree.verdict).toBe('clean');
    expect(tree.reasons.some((r) => r.startsWith("Exchange's install folder"))).toBe(false);
    const h = scan('holed', (d) => d !== '2021-03-10' && d !== '2021-03-11');
    expect(h.verdict).toBe('insufficient-evidence');
    expect(h.reasons[0]).toBe(
      "no sign of an attack, but no HttpProxy or IIS log exists for 2021-03-10 → 2021-03-11, between days that have them (deleted, or the server was off?); find those days' logs (backups, SIEM, a load balancer's logs) and scan again",
    );
  });

  it("an exposure window the logs span is not 'covered' over deleted days inside it (review9 F3 residual)", () => {
    // ProxyShell's window opens 2021-08-05 (first in-the-wild exploitation) and the logs run 2021-08-01 → 08-20:
    // they span it, but 2021-08-10 and 08-11 are gone. Without --since the windows decide.
    const root = join(dir, 'window-holed/inetpub/logs/LogFiles/W3SVC1');
    mkdirSync(root, { recursive: true });
    for (const d of days('2021-08-01', 20).filter((x) => x !== '2021-08-10' && x !== '2021-08-11')) writeFileSync(join(root, `u_ex${d.slice(2).replace(/-/g, '')}.log`), head + line(d, '00:05:00') + line(d, '23:55:00'));
    const out = join(dir, 'window-holed.json');
    const r = exhunt(['scan', join(dir, 'window-holed'), '--json', out]);
    const h = (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
    const ps = h.exposure_windows?.find((w) => w.family === 'proxyshell');
    expect(ps?.logs).toEqual({ source: 'IIS W3SVC1', first: '2021-08-01T00:05:00Z', last: '2021-08-20T23:55:00Z' });
    expect(ps?.covered).toBe(false);
    expect(ps?.holes).toEqual([{ from: '2021-08-10', to: '2021-08-11' }]);
    expect(ps?.text).toMatch(/, but no web log exists for 2021-08-10 → 2021-08-11 \(deleted, or the server was off\?\)$/);
    expect(r.stdout).toMatch(/GAP +ProxyShell: exposed 2021-08-05 → 2021-08-20, logs cover 2021-08-01 → 2021-08-20 \(IIS W3SVC1\); no logs 2021-08-10 → 2021-08-11/);
    expect(h.verdict).toBe('insufficient-evidence');
    // Named in each window's sentence (ProxyLogon's window holds the days too), not again on its own.
    expect(h.reasons.join('\n').match(/2021-08-10 → 2021-08-11/g)).toHaveLength(2);
    expect(h.reasons.some((x) => x.includes('no HttpProxy or IIS log exists'))).toBe(false);
    expect(h.coverage_gaps?.join('\n')).toMatch(/ProxyShell: .*but no web log exists for 2021-08-10 → 2021-08-11/);
  });

  it('the same logs gathered on a share and renamed with the server (EXCH01_W3SVC1_u_exYYMMDD.log): the hole is seen', () => {
    const renamed = (ymd: string) => `logshare/EXCH01_W3SVC1_u_ex${ymd}.log`;
    expect(scan('share-whole', () => true, renamed).verdict).toBe('clean');
    // Was clean: the renamed files gave no name days, so no hole could be seen.
    const h = scan('share-holed', (d) => d !== '2021-03-10' && d !== '2021-03-11', renamed);
    expect(h.verdict).toBe('insufficient-evidence');
    expect(h.reasons[0]).toMatch(/^no sign of an attack, but no HttpProxy or IIS log exists for 2021-03-10 → 2021-03-11/);
  });

  it('a compromised host names the days deleted after the break-in: how far the attacker got is unknown there (review9 F3)', () => {
    const h = scan('broken-in', (d) => d !== '2021-03-10' && d !== '2021-03-11', undefined, (d) => (d === '2021-03-05' ? shell(d) : ''));
    expect(h.verdict).toBe('compromised');
    expect(h.reasons).toContain('no HttpProxy or IIS log exists for 2021-03-10 → 2021-03-11, between days that have them (deleted?): what happened on those days is unknown');
    expect(h.coverage_gaps).toEqual(['no HttpProxy or IIS log exists for 2021-03-10 → 2021-03-11, between days that have them (deleted, or the server was off?)']);
  });
});

// IIS set to roll its logs over weekly (IIS Manager > Logging > Schedule: Weekly) names them u_exYYMMWW.log, WW the
// week of the month from 01 (HTTP_LOGGING_ROLLOVER_TYPE, Microsoft Learn), a new week starting on Sunday. Read as
// days 1–6 of each month, such names made holes of the rest of every month (a clean server never `clean`), and
// --since left out the weeks inside the window, with the web shell used in them.
describe('a server whose IIS logs roll over weekly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exhunt-weekly-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const head = '#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken\r\n';
  const probe = (d: string) => `${d} 00:05:00 10.0.0.5 GET /owa/healthcheck.htm - 443 - 10.0.0.9 AMProbe/Local/ClientAccess 200 0 0 3\r\n`;
  const SHELL = '2021-03-23 08:12:01 10.0.0.5 POST /owa/auth/x0d.aspx - 443 - 86.105.18.116 ExchangeServicesClient/0.0.0.0 200 0 0 31\r\n';
  /** Week files of 2021-01-01 → 2021-04-30: a week of the month starts on the 1st or on a Sunday. */
  const weeks = new Map<string, string[]>();
  for (const d of days('2021-01-01', 120)) {
    const t = new Date(`${d}T00:00:00Z`);
    const firstDay = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), 1)).getUTCDay();
    const week = Math.floor((t.getUTCDate() + firstDay - 1) / 7) + 1;
    const name = `u_ex${d.slice(2, 4)}${d.slice(5, 7)}${String(week).padStart(2, '0')}.log`;
    weeks.set(name, [...(weeks.get(name) ?? []), d]);
  }
  const scan = (name: string, args: string[], opts: { skip?: string; shell?: boolean } = {}) => {
    const root = join(dir, name, 'inetpub/logs/LogFiles/W3SVC1');
    mkdirSync(root, { recursive: true });
    for (const [file, ds] of weeks) {
      if (file !== opts.skip) writeFileSync(join(root, file), head + ds.map(probe).join('') + (opts.shell && file === 'u_ex210304.log' ? SHELL : ''));
    }
    const out = join(dir, `${name}.json`);
    exhunt(['scan', join(dir, name), ...args, '--json', out]);
    return (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
  };

  it('the week files are named as IIS names them (weeks 01 to 06, 2021-03-23 in week 04)', () => {
    expect([...weeks.keys()].filter((f) => f.startsWith('u_ex2101'))).toEqual(['u_ex210101.log', 'u_ex210102.log', 'u_ex210103.log', 'u_ex210104.log', 'u_ex210105.log', 'u_ex210106.log']);
    expect(weeks.get('u_ex210304.log')).toEqual(days('2021-03-21', 7));
    expect(weeks.get('u_ex210203.log')).toEqual(days('2021-02-14', 7));
  });

  it('--since inside a month reads the weeks in the window: the web shell used on 2021-03-23 is found', () => {
    const h = scan('since', ['--since', '2021-03-15'], { shell: true });
    expect(h.findings.filter((f) => f.rule === 'WS-40').map((f) => f.time)).toEqual(['2021-03-23T08:12:01Z']);
    expect(h.verdict).toBe('compromised');
  });

  it('every week there: clean; a week deleted: insufficient-evidence naming exactly that week', () => {
    expect(scan('whole', ['--since', '2021-01-01']).verdict).toBe('clean');
    const h = scan('holed', ['--since', '2021-01-01'], { skip: 'u_ex210203.log' });
    expect(h.verdict).toBe('insufficient-evidence');
    expect(h.reasons[0]).toMatch(/^no sign of an attack, but no HttpProxy or IIS log exists for 2021-02-14 → 2021-02-20, between days that have them/);
  });
});
