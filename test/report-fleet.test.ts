import { describe, expect, it } from 'vitest';
import { fleetTable } from '../src/report/fleet.js';
import { safeText } from '../src/report/terminal.js';
import { attackSpan, coverageSpan } from '../src/report/summary.js';
import { compromisedFindings, cov, finding, FULL_COVERAGE, host, report, scannedFindings } from './support/report-fixtures.js';

describe('fleetTable', () => {
  const rep = report([
    host('mail04-nologs', [], [], 'insufficient-evidence'),
    host('mail02-scanned', scannedFindings(), FULL_COVERAGE, 'attempted'),
    host('mail01', compromisedFindings(), FULL_COVERAGE, 'compromised'),
    host('mail03-clean', [], [cov('IIS W3SVC1', 'iis', '2020-11-20T00:00:00Z', '2021-03-10T00:00:00Z')], 'clean'),
  ]);

  it('prints one aligned line per host, worst verdict first, and a totals line', () => {
    expect(fleetTable(rep, { color: false })).toBe(
      [
        'HOST            VERDICT                STAGE              CRIT  HIGH  MED  LOW  FIRST ATTACK          LAST ATTACK           LOGS COVER',
        'mail01          compromised            post-exploitation     6     1    1    2  2021-03-02 01:00:00Z  2021-03-06 02:00:00Z  2020-11-20 → 2021-03-10',
        'mail02-scanned  attempted              scanned               1     0    0    1  2021-03-07 01:00:00Z  2021-03-07 01:20:00Z  2020-11-20 → 2021-03-10',
        'mail04-nologs   insufficient-evidence  none                  0     0    0    0  —                     —                     no logs',
        'mail03-clean    clean                  none                  0     0    0    0  —                     —                     2020-11-20 → 2021-03-10',
        '4 hosts: 1 compromised, 1 attempted, 1 clean, 1 insufficient-evidence',
        '',
      ].join('\n'),
    );
  });

  it('colours only the verdict, without breaking the alignment', () => {
    const lines = fleetTable(rep, { color: true }).split('\n');
    expect(lines[1]).toContain('\x1b[1;31mcompromised          \x1b[0m');
    expect(lines[1].replace(/\x1b\[[0-9;]*m/g, '')).toBe(fleetTable(rep, { color: false }).split('\n')[1]);
  });

  it('takes attack times from logs only: a copied file has the time of the copy, so a file alone dates no attack activity', () => {
    const f = [
      finding({ id: 'L', rule: 'PL-02', kind: 'exploitation', time: '2021-03-03T06:49:42Z', client_ip: '1.2.3.4' }),
      finding({ id: 'D', rule: 'WS-20', kind: 'webshell', time: '2026-11-25T00:49:04Z', source: { path: 'C/inetpub/wwwroot/aspnet_client/x.aspx' } }),
    ];
    expect(attackSpan(host('h', f, []))).toEqual({ first: '2021-03-03T06:49:42Z', last: '2021-03-03T06:49:42Z' });
    expect(attackSpan(host('h', [f[1]], []))).toEqual({ first: null, last: null });
  });

  it('"logs cover" is the span of the logs that decide coverage: not a CU install\'s setup log months before the web logs (review11 R10)', () => {
    const rows = [
      cov('ExchangeSetupLogs', 'exchange-setup', '2021-03-20T09:12:44Z', '2021-03-20T09:41:02Z'),
      cov('IIS W3SVC1', 'iis', '2021-08-01T00:00:07Z', '2021-08-31T23:55:07Z'),
      cov('CmdletInfra Rps_Http', 'rps-http', '2021-07-30T00:00:00Z', '2021-08-20T00:00:00Z'),
    ];
    expect(coverageSpan(rows)).toEqual({ first: '2021-07-30T00:00:00Z', last: '2021-08-31T23:55:07Z' });
    // No log that decides coverage: the others are shown, the setup log still left out.
    expect(coverageSpan([rows[0], cov('EVTX Security', 'evtx', '2021-06-01T00:00:00Z', '2021-06-02T00:00:00Z')])).toEqual({ first: '2021-06-01T00:00:00Z', last: '2021-06-02T00:00:00Z' });
  });

  it('neutralises terminal escapes and bidi overrides in host names', () => {
    expect(safeText('evil\x1b]0;pwned\x07\u202ename')).toBe('evil\\x1b]0;pwned\\x07?name');
    const out = fleetTable(report([host('a\x1b[2Jb', [], [], 'clean')]), { color: false });
    expect(out).not.toContain('\x1b');
  });
});
