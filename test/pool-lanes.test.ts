// engine/pool.ts with `--jobs 2`: this thread scans as one lane beside one worker thread, both taking files and byte
// ranges from one queue. The report must be exactly the one of `--jobs 1` (this thread alone) on a host with many
// files and a file cut into many ranges, one of which changes its #Fields (a range scanned again, here, while this
// thread is scanning its own share). A worker that stops mid-scan: its work is scanned again on a fresh worker, and
// a range that stops two workers is listed while the rest of its file keeps exact line numbers.
// Worker threads need the compiled pool: npm test builds dist/.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { scan as Scan } from '../src/engine/scan.js';
import type { ScanReport } from '../src/model.js';
import { effectiveJobs } from '../src/engine/workers.js';
import { planRanges } from '../src/engine/ranges.js';
import { IIS_FIELDS, iisAttacks, iisPools } from '../bench/traffic.mjs';
import { rng } from '../bench/lib.mjs';

const REPO = resolve(import.meta.dirname, '..');
const DIST_SCAN = join(REPO, 'dist', 'engine', 'scan.js');
const root = mkdtempSync(join(tmpdir(), 'exhunt-lanes-'));
// dist/ copies live in the repository's tmp/, so that packages still resolve from node_modules.
mkdirSync(join(REPO, 'tmp'), { recursive: true });
const copies = mkdtempSync(join(REPO, 'tmp', 'lanes-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(copies, { recursive: true, force: true });
});

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

/** A day of busy front-end traffic (bench/traffic.mjs), one real attack line every `every` lines, a time per line. */
function day(date: string, lines: number, seed: number, layoutChangeAt = -1, every = 601): string {
  const r = rng(seed);
  const { front } = iisPools(r, 3000);
  const attacks = iisAttacks(r);
  let text = head(IIS_FIELDS, date);
  for (let i = 0; i < lines; i++) {
    if (i === layoutChangeAt) text += `${head(FIELDS_B, date).split('\r\n')[3]}\r\n`;
    const t = `${date} ${String(Math.floor(i / 3600) % 24).padStart(2, '0')}:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`;
    const line = `${t}${(i % every === every >> 1 ? attacks[(i / every) % attacks.length | 0] : r.pick(front)).slice(19)}`;
    text += `${layoutChangeAt >= 0 && i >= layoutChangeAt ? toB(line) : line}\r\n`;
  }
  return text;
}

const host = join(root, 'mail01');
const w3svc = join(host, 'inetpub', 'logs', 'LogFiles', 'W3SVC1');
mkdirSync(w3svc, { recursive: true });
// ~3 MB split into 48 KiB ranges (~64 ranges, each with attack lines), the layout changing in its middle; and 9
// smaller whole days.
const BIG = day('2021-03-03', 10_000, 3, 5_000, 61);
writeFileSync(join(w3svc, 'u_ex210303.log'), BIG);
for (let d = 4; d <= 12; d++) writeFileSync(join(w3svc, `u_ex2103${String(d).padStart(2, '0')}.log`), day(`2021-03-${String(d).padStart(2, '0')}`, 1_500 + 300 * d, d));
const RANGE = 48 * 1024;
// The big file alone: every queue entry is one range, so the worker's first task is one range.
const single = join(root, 'mail02');
mkdirSync(join(single, 'W3SVC1'), { recursive: true });
writeFileSync(join(single, 'W3SVC1', 'u_ex210303.log'), BIG);

/**
 * The compiled scan of a dist/ copy whose workers stop (exit code 7) once ready, a test hook only: the first worker on
 * the first task it is sent (noted in `mark`); with `again`, every worker sent that task again stops too.
 */
async function stoppingScan(name: string, again: boolean): Promise<{ scan: typeof Scan; mark: string }> {
  // Beside the copy: what the compiled code reads from the package root (its version, the rule data).
  const dist = join(copies, name, 'dist');
  const mark = join(copies, `${name}.mark`);
  cpSync(join(REPO, 'dist'), dist, { recursive: true });
  for (const f of ['package.json', 'data']) symlinkSync(join(REPO, f), join(copies, name, f));
  renameSync(join(dist, 'engine', 'worker.js'), join(dist, 'engine', 'scan-worker.js'));
  // The worker first (its message listener must be there before any message is delivered), then the hook.
  const hook = `import './scan-worker.js';
import { parentPort } from 'node:worker_threads';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
const MARK = ${JSON.stringify(mark)};
const key = (t) => t.file.rel + '#' + (t.range ? t.range.index : '');
let ready = false;
let stop = false;
// Stopped right after the worker says it is ready, before it scans: a worker that stops on its work.
const post = parentPort.postMessage.bind(parentPort);
parentPort.postMessage = (m) => {
  post(m);
  if (m && m.ready && (ready = true) && stop) process.exit(7);
};
parentPort.on('message', (m) => {
  if (!m.tasks) return;
  const marked = existsSync(MARK) ? readFileSync(MARK, 'utf8').split('\\n') : null;
  if (marked === null) writeFileSync(MARK, m.tasks.map(key).join('\\n'));
  else if (!${again} || !m.tasks.some((t) => marked.includes(key(t)))) return;
  if (ready) process.exit(7);
  stop = true;
});
`;
  writeFileSync(join(dist, 'engine', 'worker.js'), hook);
  return { scan: ((await import(pathToFileURL(join(dist, 'engine', 'scan.js')).href)) as { scan: typeof Scan }).scan, mark };
}

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

  it('a worker that stops mid-scan: what it held is scanned on a fresh worker, the report unchanged', async (ctx) => {
    ctx.skip(!canRun, why);
    const { scan: ref } = (await import(pathToFileURL(DIST_SCAN).href)) as { scan: typeof Scan };
    const { scan, mark } = await stoppingScan('once', false);
    const one = await ref({ paths: [host], jobs: 1, rangeBytes: RANGE });
    const two = await scan({ paths: [host], jobs: 2, rangeBytes: RANGE });
    // The hook stopped a worker holding work (a batch of whole days here), and nothing was lost.
    expect(readFileSync(mark, 'utf8').length).toBeGreaterThan(0);
    expect(comparable(two)).toEqual(comparable(one));
  });

  it('a range that stops two workers is listed; the rest of its file keeps its findings at exact line numbers', async (ctx) => {
    ctx.skip(!canRun, why);
    const { scan: ref } = (await import(pathToFileURL(DIST_SCAN).href)) as { scan: typeof Scan };
    const { scan, mark } = await stoppingScan('twice', true);
    const one = await ref({ paths: [single], jobs: 1, rangeBytes: RANGE });
    const two = await scan({ paths: [single], jobs: 2, rangeBytes: RANGE });
    const [rel, index] = readFileSync(mark, 'utf8').split('#');
    const range = planRanges({ kind: 'fs', abs: '', rel, size: Buffer.byteLength(BIG), mtimeMs: 0 }, RANGE)![Number(index)];
    // The lines that start in the lost range (1-based), from the file's bytes.
    const owned = new Set<number>();
    for (let at = 0, line = 1; at < BIG.length; line++) {
      if (at >= range.start && at < range.end) owned.add(line);
      const nl = BIG.indexOf('\n', at);
      at = nl === -1 ? BIG.length : nl + 1;
    }
    expect(owned.size).toBeGreaterThan(50);
    const places = (r: ScanReport) => r.hosts[0].findings.map((f) => `${f.rule} ${f.source.path}:${f.source.line}`).sort();
    const kept = places(one).filter((p) => !owned.has(Number(p.slice(p.lastIndexOf(':') + 1))));
    expect(kept.length).toBeLessThan(places(one).length);
    expect(places(two)).toEqual(kept);
    expect(two.hosts[0].skipped).toEqual([
      {
        path: rel,
        reason: `not scanned: bytes ${range.start}–${range.end} (range ${range.index + 1} of ${range.count}; the other ranges were scanned) stopped two scan workers (a scan worker stopped (exit code 7); a scan worker stopped (exit code 7))`,
        unread: 'file',
      },
    ]);
  });
});
