// The headline case of issue #10 end to end: a current, patched Exchange SE server (scripts/make-corpora.mjs,
// `se26-patched`: installed 2025-07-15, Nov26SU, the last 30 days of logs) collected with exhunt's own collector
// from its C: drive, then the case scanned. The install date and build only reach the scan through
// C:\ExchangeSetupLogs, so the verdict is `clean` only when the collector gathers that folder.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanReport } from '../src/model.js';
import { collect } from '../src/response/collect.js';
import { exhunt } from './support/cli.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'exhunt-collect-e2e-'));
  execFileSync(process.execPath, [resolve('scripts/make-corpora.mjs'), dir, 'se26-patched']);
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a patched SE server collected with exhunt collect and scanned', () => {
  for (const out of ['case', 'case.zip']) {
    it(`is clean from the ${out.endsWith('.zip') ? 'zip' : 'case folder'}, with the install date from the collected setup log`, async () => {
      const casePath = join(dir, out);
      const r = await collect({ volumes: [{ drive: 'C', root: join(dir, 'se26-patched', 'C') }], out: casePath, host: 'EXSE01', live: false, maxBytes: null, commandLine: 'exhunt collect' });
      expect(r.manifest.files.map((f) => f.original)).toContain('C:\\ExchangeSetupLogs\\ExchangeSetup.log');
      const scan = exhunt(['scan', casePath, '--json', '-']);
      const host = (JSON.parse(scan.stdout) as ScanReport).hosts[0];
      expect(host.verdict).toBe('clean');
      expect(scan.code).toBe(0);
      expect(host.facts.find((f) => f.kind === 'install')).toMatchObject({ value: '15.2.2562.17', time: '2025-07-15T08:22:00.000Z', source: { path: 'files/C/ExchangeSetupLogs/ExchangeSetup.log', line: 9 } });
      for (const fam of ['proxylogon', 'proxyshell', 'proxynotshell', 'owassrf']) {
        expect(host.exposure_windows!.find((w) => w.family === fam), fam).toMatchObject({ start: null, gating: true });
      }
    }, 120_000);
  }
});
