// Issue 17, bounded resources: peak memory follows the live data. The live heap of a scan of many small files is
// small, but V8 let its old generation grow to 3-4x of it between full collections (200,000 aspnet_client pages:
// 360 MB peak RSS with --jobs 1). The CLI bounds that growth (src/cli/heap.ts) in its main thread and in every worker.
// Checked without a clock or an RSS threshold: V8's own --trace-gc says, for each full collection, how much heap was
// in use before it and how much the previous one left; the CLI's runs must stay near 1.5x. The code before the
// bound grew 3.1x (--jobs 1) and 3.9x (a worker, --jobs 2) on this host.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain ES module shared with the bench, no type declarations
import { makeFleet } from '../bench/fleet-gen.mjs';
import type { ScanReport } from '../src/model.js';
import { CLI } from './support/cli.js';

const FILES = 20_000;

interface FullGc {
  isolate: string;
  before: number;
  after: number;
}

/** `[pid:0x…] … Mark-Compact 32.8 (64.1) -> 17.3 (58.3) MB, …`: MB in use before and after, per isolate (thread). */
function fullCollections(trace: string): FullGc[] {
  const out: FullGc[] = [];
  for (const m of trace.matchAll(/^\[\d+:(0x[0-9a-f]+)\][^\n]*?Mark-Compact(?: \(reduce\))? ([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/gm)) {
    out.push({ isolate: m[1], before: Number(m[2]), after: Number(m[3]) });
  }
  return out;
}

/** Each full collection's heap in use against what the one before it in the same thread left. */
function growth(gcs: FullGc[]): Array<{ isolate: string; from: number; to: number }> {
  const last = new Map<string, number>();
  const out: Array<{ isolate: string; from: number; to: number }> = [];
  for (const g of gcs) {
    const from = last.get(g.isolate);
    if (from !== undefined) out.push({ isolate: g.isolate, from, to: g.before });
    last.set(g.isolate, g.after);
  }
  return out;
}

describe(`one host with ${FILES} pages in aspnet_client: heap growth between full collections`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'exhunt-heap-growth-'));
  const runs: Record<string, { status: number | null; stderr: string; gcs: FullGc[]; report: ScanReport | null }> = {};

  beforeAll(() => {
    const [host] = makeFleet(join(dir, 'fleet'), { hosts: 1, findings: 0, files: FILES });
    for (const jobs of ['1', '2']) {
      const json = join(dir, `r${jobs}.json`);
      const r = spawnSync(process.execPath, ['--trace-gc', CLI, 'scan', host, '-q', '--jobs', jobs, '--json', json], { encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20 });
      let report: ScanReport | null = null;
      try {
        report = JSON.parse(readFileSync(json, 'utf8')) as ScanReport;
      } catch {
        // no report: the assertions below say so
      }
      runs[jobs] = { status: r.status, stderr: r.stderr, gcs: fullCollections(r.stdout), report };
    }
  }, 600_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const jobs of ['1', '2']) {
    it(`--jobs ${jobs}: full collections come when the heap reaches ~1.5x what the last one left`, () => {
      const run = runs[jobs];
      expect(run.stderr).toBe('');
      expect(run.status).toBe(1);
      expect(run.report!.hosts[0].stats.files_seen).toBe(FILES);
      const steps = growth(run.gcs);
      // V8 starts a full collection at the bound but finishes it after incremental marking (15-25 ms here), while the
      // sweep keeps allocating: the heap in use when it ends overshoots the bound by a few MB, now and then by more.
      // So the typical step must keep the bound (+12 MB: the young generation), and no step may reach 2x; the
      // unbounded growth was 3.1x and 3.9x in every step.
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      expect(median(steps.map((s) => s.to - 1.5 * s.from - 12))).toBeLessThanOrEqual(0);
      expect(steps.filter((s) => s.to > 2 * s.from + 12)).toEqual([]);
      // Enough collections to judge, in each thread that scanned (the main thread, and with --jobs 2 the worker too).
      expect(steps.length).toBeGreaterThanOrEqual(4);
      if (jobs === '2') expect(new Set(steps.map((s) => s.isolate)).size).toBeGreaterThanOrEqual(2);
    });
  }
});
