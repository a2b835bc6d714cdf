// engine/pool.ts with `--jobs 2`: this thread scans as one lane beside one worker thread, both taking files and byte
// ranges from one queue. The report must be exactly the one of `--jobs 1` (this thread alone) on a host with many
// files and a file cut into many ranges, one of which changes its #Fields (a range scanned again, here, while this
// thread is scanning its own share). Worker threads need the compiled pool: npm test builds dist/.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { scan as Scan } from '../src/engine/scan.js';
import type { ScanReport } from '../src/model.js';
import { effectiveJobs } from '../src/engine/pool.js';
import { IIS_FIELDS, iisAttacks, iisPools } from '../bench/traffic.mjs';
import { rng } from '../bench/lib.mjs';

const REPO = resolve(import.meta.dirname, '..');
const DIST_SCAN = join(REPO, 'dist', 'engine', 'scan.js');
const root = mkdtempSync(join(tmpdir(), 'exhunt-lanes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// IIS reopened the log with cs-method moved to the end: read under the first layout, the lines after it lose their
// shells (the range that starts under the old layout is scanned again once the file's ranges are in).
const FIELDS = IIS_FIELDS.split(' ');
const METHOD = FIELDS.indexOf('cs-method');
const FIELDS_B = [...FIELDS.filter((_, i) => i !== METHOD), 'cs-method'].join(' ');
const toB = (line: string) => {
  const f = line.split(' ');
  return [...f.filter((_, i) => i !== METHOD), f[METHOD]].join(' ');
};
const head = (fields: string, day: string) => `#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: ${day} 00:00:00\r\n#Fields: ${fields}\r\n`;

/** A day of busy front-end traffic (bench/traffic.mjs), one real attack line every ~600 lines, a time per line. */
function day(date: string, lines: number, seed: number, layoutChangeAt = -1): string {
  const r = rng(seed);
  const { front } = iisPools(r, 3000);
  const attacks = iisAttacks(r);
  let text = head(IIS_FIELDS, date);
  for (let i = 0; i < lines; i++) {
    if (i === layoutChangeAt) text += `${head(FIELDS_B, date).split('\r\n')[3]}\r\n`;
    const t = `${date} ${String(Math.floor(i / 3600) % 24).padStart(2, '0')}:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`;
    const line = `${t}${(i % 601 === 300 ? attacks[(i / 601) % attacks.length | 0] : r.pick(front)).slice(19)}`;
    text += `${layoutChangeAt >= 0 && i >= layoutChangeAt ? toB(line) : line}\r\n`;
  }
  return text;
}

const host = join(root, 'mail01');
const w3svc = join(host, 'inetpub', 'logs', 'LogFiles', 'W3SVC1');
mkdirSync(w3svc, { recursive: true });
// ~3 MB split into 48 KiB ranges (~64 ranges), the layout changing in its middle; and 9 smaller whole days.
writeFileSync(join(w3svc, 'u_ex210303.log'), day('2021-03-03', 10_000, 3, 5_000));
for (let d = 4; d <= 12; d++) writeFileSync(join(w3svc, `u_ex2103${String(d).padStart(2, '0')}.log`), day(`2021-03-${String(d).padStart(2, '0')}`, 1_500 + 300 * d, d));
const RANGE = 48 * 1024;

const comparable = (r: ScanReport) =>
  r.hosts.map((h) => ({ verdict: h.verdict, findings: h.findings, coverage: h.coverage, facts: h.facts, skipped: h.skipped, stats: { ...h.stats, seconds: 0 } }));

describe('FilePool: this thread as a lane beside the workers', () => {
  const canRun = existsSync(DIST_SCAN) && effectiveJobs(2) === 2;
  const why = existsSync(DIST_SCAN) ? 'one core or < 1 GiB: --jobs 2 is one lane' : 'dist/ not built: run `npm run build` (npm test does)';

  it('--jobs 2 reports exactly what --jobs 1 reports, over many files and ranges', async (ctx) => {
    ctx.skip(!canRun, why);
    const { scan } = (await import(pathToFileURL(DIST_SCAN).href)) as { scan: typeof Scan };
    const one = await scan({ paths: [host], jobs: 1, rangeBytes: RANGE });
    const two = await scan({ paths: [host], jobs: 2, rangeBytes: RANGE });
    const shells = one.hosts[0].findings.filter((f) => f.rule === 'WS-40');
    // Every range holds planted lines: a lane whose results were lost would lose findings.
    expect(one.hosts[0].findings.length).toBeGreaterThan(40);
    // The shells after the layout change are read under it (the rescan ran).
    expect(shells.some((f) => Number(f.source.line) > 5_004)).toBe(true);
    expect(one.hosts[0].stats.files_scanned).toBe(10);
    expect(comparable(two)).toEqual(comparable(one));
  });
});
