// Golden JSON for the example hosts: any change in what a scan of examples/evidence reports fails here, so a
// refactor proves it changed nothing and a behaviour change is reviewed line by line. Only what moves from run to
// run (tool version, clock times, the command line, seconds) is normalised.
//
// After an intended change: EXHUNT_UPDATE_GOLDEN=1 npx vitest run test/golden.test.ts, then read the diff of
// test/golden/*.json before committing it and say why in the commit message.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scan } from '../src/engine/scan.js';
import type { ScanReport } from '../src/model.js';

const REPO = join(import.meta.dirname, '..');
const HOSTS = ['mail01-compromised', 'mail02-clean', 'mail03-scanned', 'mail04-nologs'];
const UPDATE = process.env.EXHUNT_UPDATE_GOLDEN === '1';

/** File modification times of the example files are checkout times; collected to be replaced by a marker. */
function mtimes(v: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(v)) for (const x of v) mtimes(x, out);
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'mtime' && typeof x === 'string') out.add(x);
      else mtimes(x, out);
    }
  }
  return out;
}

/** The report with run-dependent values (tool run, checkout mtimes and times derived from them) replaced by fixed markers. */
function normalise(report: ScanReport): unknown {
  const seen = mtimes(report, new Set());
  return JSON.parse(
    JSON.stringify({
      ...report,
      tool: { ...report.tool, version: '<version>', started: '<time>', finished: '<time>', command: [] },
      hosts: report.hosts.map((h) => ({ ...h, stats: { ...h.stats, seconds: 0 } })),
    }),
    (_k, v: unknown) => (typeof v === 'string' && seen.has(v) ? '<mtime>' : v),
  );
}

describe('golden scans of examples/evidence', () => {
  for (const host of HOSTS) {
    it(`${host} reports exactly what test/golden/${host}.json holds`, async () => {
      const input = join('examples', 'evidence', host);
      const report = normalise(await scan({ paths: [input], jobs: 1, command: [] }));
      const file = join(REPO, 'test', 'golden', `${host}.json`);
      if (UPDATE || !existsSync(file)) {
        expect(UPDATE, `${file} is missing: run EXHUNT_UPDATE_GOLDEN=1 npx vitest run test/golden.test.ts`).toBe(true);
        writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
      }
      const want = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      expect(report, `scan output of ${input} changed; if intended, regenerate (see the head of test/golden.test.ts)`).toEqual(want);
    });
  }
});
