// The CSV/log files written by --csv: evidence may not add lines or formulas.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeCsv } from '../src/report/csv.js';
import { finding, host, report } from './support/report-fixtures.js';

describe('--csv files', () => {
  it('keep one line per PL-22 finding even when the evidence path holds a line break', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exhunt-csv-'));
    const f = finding({
      id: 'F1', rule: 'PL-22', kind: 'webshell', time: '2021-03-03T08:12:08.000Z',
      source: { path: 'Logging/ECP/Server/x\r\nfake.LOG: 2021-03-03 forged\n.LOG', line: 3 },
      evidence: { command: 'Set-OabVirtualDirectory\n-ExternalUrl "<script>"' },
    });
    const names = await writeCsv(report([host('mail01', [f], [], 'compromised')]), dir);
    const log = readFileSync(join(dir, names.find((n) => n.endsWith('-Cve-2021-27065.log'))!), 'utf8');
    expect(log.split('\r\n')).toEqual([
      'Logging/ECP/Server/x fake.LOG: 2021-03-03 forged .LOG:3: 2021-03-03T08:12:08.000Z Set-OabVirtualDirectory -ExternalUrl "<script>"',
      '',
    ]);
    const all = readFileSync(join(dir, 'exhunt-findings.csv'), 'utf8');
    expect(all).toContain('"Logging/ECP/Server/x\r\nfake.LOG: 2021-03-03 forged\n.LOG"'); // quoted: one CSV field
  });
});
