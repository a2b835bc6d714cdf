// Issue 17, bounded resources: a flood inside one log file is counted as it is read, never held as one object per
// line. One host whose HttpProxy logs hold 32,000 ProxyLogon scanner probes (files of 20,000 and 12,000 lines, the
// generator of bench/fleet-memory.mjs) is scanned under a 48 MB V8 heap, in this thread alone and beside a worker (--jobs 2).
// Before grouping moved into the log scanners, a file's 20,000 findings were materialised first: the same runs died
// with "JavaScript heap out of memory" (--jobs 1) and "Worker terminated due to reaching memory limit" (--jobs 2),
// and needed about 72 MB of heap.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain ES module shared with the bench, no type declarations
import { makeFleet } from '../bench/fleet-gen.mjs';
import type { ScanReport } from '../src/model.js';
import { CLI } from './support/cli.js';

const FINDINGS = 32_000;
/** V8 old-space limit (MB), for the main thread and each worker. */
const HEAP_MB = 48;

describe(`one host with ${FINDINGS} probes in two log files, under --max-old-space-size=${HEAP_MB}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'exhunt-flood-mem-'));
  const runs: Record<string, { status: number | null; stderr: string; report: ScanReport | null }> = {};

  beforeAll(() => {
    const [host] = makeFleet(join(dir, 'fleet'), { hosts: 1, findings: FINDINGS });
    for (const jobs of ['1', '2']) {
      const out = join(dir, `out${jobs}`);
      mkdirSync(out);
      const outputs = jobs === '1' ? ['--ndjson', join(out, 'r.ndjson'), '--csv', join(out, 'csv'), '--html', join(out, 'r.html'), '--timesketch', join(out, 'r.jsonl'), '--stix', join(out, 'r.stix.json')] : [];
      const r = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, CLI, 'scan', host, '-q', '--jobs', jobs, '--json', join(out, 'r.json'), ...outputs], { encoding: 'utf8', timeout: 300_000 });
      let report: ScanReport | null = null;
      try {
        report = JSON.parse(readFileSync(join(out, 'r.json'), 'utf8')) as ScanReport;
      } catch {
        // no report: the assertions below say so
      }
      runs[jobs] = { status: r.status, stderr: r.stderr, report };
    }
  }, 600_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const jobs of ['1', '2']) {
    it(`--jobs ${jobs}: ends normally with the flood as one counted row`, () => {
      const run = runs[jobs];
      expect(run.stderr).toBe('');
      expect(run.status).toBe(1);
      const probes = run.report!.hosts[0].findings.filter((f) => f.rule === 'PL-04');
      expect(probes).toHaveLength(1);
      expect(probes[0].group).toMatchObject({ count: FINDINGS, distinct_ips: 250, first_time: '2021-03-07T00:00:00.000Z', last_time: '2021-03-07T08:53:19.000Z' });
      expect(probes[0].group!.first.map((s) => s.source.line)).toEqual([6, 7, 8, 9, 10]);
    });
  }

  it('groups made in this thread and a worker merge into the same report as in one thread', () => {
    const strip = (r: ScanReport) => JSON.stringify(r.hosts.map(({ stats: { seconds: _, ...stats }, ...h }) => ({ ...h, stats })));
    expect(strip(runs['2'].report!)).toBe(strip(runs['1'].report!));
  });
});
