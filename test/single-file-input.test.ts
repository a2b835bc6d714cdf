// A responder often scans one file: the HttpProxy log of the attack hour, or one exported .evtx. Such an input is
// no case (only a folder or a zip can hold a case manifest): nothing about a "case manifest" may appear in skipped.
// Evidence: HelseCERT's ProxyLogon rows in the shipped mail01 example; an EVTX-to-MITRE-Attack sample (licence in
// test/fixtures/external/README.md).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostResult, ScanReport } from '../src/model.js';
import { exhunt } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-onefile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scanOne(path: string, name: string): HostResult {
  const out = join(dir, `${name}.json`);
  const r = exhunt(['scan', path, '--json', out, '--jobs', '1']);
  expect(r.stderr).toBe('');
  return (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
}

describe('one file as the input', () => {
  it('an HttpProxy log: its findings, and no bogus case-manifest line in skipped', () => {
    const h = scanOne('examples/evidence/mail01-compromised/C/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG', 'proxy');
    expect(h.skipped).toEqual([]);
    expect(h.findings.some((f) => f.rule === 'PL-02')).toBe(true);
  });

  it('an .evtx file: no bogus case-manifest line either', () => {
    const h = scanOne('test/fixtures/external/EVTX-to-MITRE-Attack/TA0006-Credential_Access/T1003-Credential_dumping/ID1-LSASS dump with LSASSY (SYSMON).evtx', 'evtx');
    expect(h.skipped.filter((s) => s.path === 'manifest.json')).toEqual([]);
    expect(h.coverage.length).toBeGreaterThan(0);
  });
});
