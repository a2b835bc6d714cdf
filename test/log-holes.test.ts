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
  const scan = (name: string, keep: (d: string) => boolean) => {
    const root = join(dir, name, 'inetpub/logs/LogFiles/W3SVC1');
    mkdirSync(root, { recursive: true });
    for (const d of days('2021-03-01', 20).filter(keep)) writeFileSync(join(root, `u_ex${d.slice(2).replace(/-/g, '')}.log`), head + line(d, '00:05:00') + line(d, '23:55:00'));
    const out = join(dir, `${name}.json`);
    exhunt(['scan', join(dir, name), '--since', '2021-03-01', '--json', out]);
    return (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
  };

  it('every day there: clean; two days deleted: insufficient-evidence naming them', () => {
    expect(scan('whole', () => true).verdict).toBe('clean');
    const h = scan('holed', (d) => d !== '2021-03-10' && d !== '2021-03-11');
    expect(h.verdict).toBe('insufficient-evidence');
    expect(h.reasons[0]).toBe(
      "no sign of an attack, but no HttpProxy or IIS log exists for 2021-03-10 → 2021-03-11, between days that have them (deleted, or the server was off?); find those days' logs (backups, SIEM, a load balancer's logs) and scan again",
    );
  });
});
