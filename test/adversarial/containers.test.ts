// Hostile containers: a broken zip costs only its own host; overlapping-entry and over-declared zip bombs are
// refused from the central directory, before a byte is inflated.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeZips, listZip } from '../../src/evidence/zip.js';
import { exhunt } from '../support/cli.js';
import { overDeclaredZip, overlappingZipBomb, plainZip } from './gen/zip.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-containers-'));
const EXAMPLES = resolve('examples/evidence');
afterAll(closeZips);

async function listed(path: string) {
  const skipped: Array<[string, string]> = [];
  const entries = await listZip(path, (n, r) => skipped.push([n, r]));
  return { entries, skipped };
}

describe('a bad container never aborts the other hosts', () => {
  const good = plainZip({ 'notes.txt': 'nothing here\n' });
  for (const [label, bytes] of [
    ['truncated', good.subarray(0, good.length - 30)],
    ['corrupt central directory', Buffer.concat([good.subarray(0, good.length - 22), Buffer.alloc(22, 0xff)])],
    ['zip magic then garbage', Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(4000, 7)])],
  ] as const) {
    it(`${label} zip between two good hosts: both reported, the bad one named in skipped`, () => {
      const bad = join(dir, `${label.replace(/ /g, '-')}.zip`);
      writeFileSync(bad, bytes);
      const json = join(dir, `${label}.json`);
      const r = exhunt(['scan', join(EXAMPLES, 'mail01-compromised'), bad, join(EXAMPLES, 'mail02-clean'), '--json', json, '-q']);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(r.code).toBe(1); // mail01's findings, not 2 (input error)
      const report = JSON.parse(readFileSync(json, 'utf8'));
      expect(report.hosts.map((h: { verdict: string }) => h.verdict)).toEqual(['compromised', expect.any(String), 'clean']);
      const skipped = report.hosts[1].skipped;
      expect(skipped).toEqual([{ path: `${label.replace(/ /g, '-')}.zip`, reason: expect.stringMatching(/^evidence not readable, host not scanned: /) }]);
      expect(report.hosts[1].verdict).not.toBe('clean');
    });
  }
});

describe('zip bombs the per-entry ratio rule cannot see', () => {
  it('overlapping entries (each under 64 MiB) are refused without inflating: 24 × 32 MiB from a 34 KB zip', async () => {
    const path = join(dir, 'overlap.zip');
    writeFileSync(path, overlappingZipBomb(24, 32 * 1024 * 1024));
    expect(readFileSync(path).length).toBeLessThan(64 * 1024);
    const { entries, skipped } = await listed(path);
    expect(entries).toEqual([]);
    expect(skipped).toHaveLength(24);
    for (const [, reason] of skipped) expect(reason).toMatch(/overlaps another entry|more than 1000× the zip's size/);
    expect(skipped.filter(([, r]) => /overlaps/.test(r)).length).toBeGreaterThan(0);
  });

  it('a small overlapping bomb (under the total budget) is caught by the overlap check alone', async () => {
    const path = join(dir, 'overlap-small.zip');
    writeFileSync(path, overlappingZipBomb(8, 1024 * 1024));
    const { entries, skipped } = await listed(path);
    expect(entries).toEqual([]);
    expect(skipped.map(([, r]) => r)).toEqual(new Array(8).fill('entry data overlaps another entry (overlapping zip bomb): not read'));
  });

  it('entries declaring far more than the archive could hold stop at the total budget', async () => {
    const path = join(dir, 'declared.zip');
    writeFileSync(path, overDeclaredZip(200, 40 * 1024 * 1024));
    const { entries, skipped } = await listed(path);
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.length).toBeLessThan(10);
    expect(skipped.length).toBe(200 - entries.length);
    expect(skipped[0][1]).toBe("entries declare more than 1000× the zip's size in total (zip bomb?): not read");
  });

  it('scanning the bomb as a host reads none of it and names every entry (no clock: 0 bytes scanned is the bound)', () => {
    const path = join(dir, 'overlap-host.zip');
    writeFileSync(path, overlappingZipBomb(24, 32 * 1024 * 1024));
    const json = join(dir, 'bomb.json');
    const r = exhunt(['scan', path, '--json', json, '-q']);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const host = JSON.parse(readFileSync(json, 'utf8')).hosts[0];
    expect(host.skipped).toHaveLength(24);
    expect(host.stats.bytes_scanned).toBe(0);
  });
});
