// engine/pool.ts with worker threads that fail: `--jobs N` starts the workers before the evidence is listed, so a
// worker may fail while nothing waits on it (no uncaught 'error' event and its stack trace; its work is done here);
// a worker that exits without an error must not leave the scan waiting for ever; a file that stops workers is tried
// on a second one, then listed as skipped, never lost; each host has its own budget of fresh workers.
// Worker threads need the compiled pool: a copy of dist/ (npm test builds it) under the repository's own tmp/, so
// that packages still resolve from node_modules, with dist/engine/worker.js replaced by one that fails.
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import type { EvidenceFile } from '../src/evidence/file.js';
import { effectiveJobs, type startEarlyWorker as StartEarly } from '../src/engine/workers.js';
import type { FilePool as Pool } from '../src/engine/pool.js';
import type { Prepared } from '../src/engine/registry.js';
import { scanOptions } from '../src/engine/scan.js';

const REPO = resolve(import.meta.dirname, '..');
const TMP = join(REPO, 'tmp');
mkdirSync(TMP, { recursive: true });
const COPY = mkdtempSync(join(TMP, 'pool-'));
afterAll(() => rmSync(COPY, { recursive: true, force: true }));

/** The compiled FilePool (and its startEarlyWorker) of a dist/ copy whose worker script is `worker`. */
async function distWith(name: string, worker: string): Promise<{ FilePool: typeof Pool; startEarlyWorker: typeof StartEarly }> {
  const dist = join(COPY, name);
  cpSync(join(REPO, 'dist'), dist, { recursive: true, filter: (p) => !p.endsWith('.map') });
  writeFileSync(join(dist, 'engine', 'worker.js'), worker);
  const load = async <T>(rel: string) => (await import(pathToFileURL(join(dist, 'engine', rel)).href)) as T;
  return { ...(await load<{ FilePool: typeof Pool }>('pool.js')), ...(await load<{ startEarlyWorker: typeof StartEarly }>('workers.js')) };
}

const poolWith = async (name: string, worker: string): Promise<typeof Pool> => (await distWith(name, worker)).FilePool;

const LOG = join(REPO, 'examples', 'evidence', 'mail02-clean');
// Two entries of the queue (each over the 8 MiB of a batch): this thread takes the first (it does not exist: listed as
// not readable, no rule set needed), the worker the second.
const files: EvidenceFile[] = ['none.log', 'none2.log'].map((rel) => ({ kind: 'fs', abs: join(LOG, rel), rel, size: 9_000_000, mtimeMs: 0 }));
const prepared = null as unknown as Prepared;

const workersOf = (pool: Pool): Worker[] => (pool as unknown as { workers: Worker[] }).workers;

describe('FilePool, workers that stop (--jobs 2)', () => {
  // --jobs 2 starts a worker beside this thread only with two cores and 1 GiB of memory (effectiveJobs).
  const two = effectiveJobs(2) === 2;
  const canRun = existsSync(join(REPO, 'dist', 'engine', 'pool.js')) && two;
  const why = two ? 'dist/ not built: run `npm run build` (npm test does)' : 'one core or < 1 GiB: --jobs 2 starts no worker';
  const reasons = async (FilePool: typeof Pool) => {
    const pool = new FilePool(2, scanOptions());
    pool.start();
    const got = new Map<string, string[]>();
    await pool.run(files, prepared, (f, r) => got.set(f.rel, r.skipped.map((s) => s.reason)));
    const left = workersOf(pool).length;
    await pool.close();
    return { got, left };
  };

  it('a worker that fails while idle leaves its work to this thread: no uncaught error, every file reported', async (ctx) => {
    ctx.skip(!canRun, why);
    const FilePool = await poolWith('throws', 'throw new Error("worker broke while idle");\n');
    const { got, left } = await reasons(FilePool);
    // Both scanned here (they do not exist: not readable); a worker that could not start is not started again.
    expect([...got.keys()].sort()).toEqual(['none.log', 'none2.log']);
    for (const r of got.values()) expect(r).toEqual([expect.stringMatching(/^not readable/)]);
    expect(left).toBe(0);
  });

  it('a worker that exits before it is ready, without an error, does not leave the scan waiting for ever', async (ctx) => {
    ctx.skip(!canRun, why);
    const FilePool = await poolWith('exits', "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => process.exit(3));\n");
    const { got } = await reasons(FilePool);
    for (const r of got.values()) expect(r).toEqual([expect.stringMatching(/^not readable/)]);
    expect(got.size).toBe(2);
  });

  it('a ready worker that stops while idle (between hosts) does not end the scan: a fresh one takes its share', async (ctx) => {
    ctx.skip(!canRun, why);
    // Quits 10 ms after it is ready unless it got work by then; answers work with a result of its own.
    const worker = `import { parentPort } from 'node:worker_threads';
let busy = false;
parentPort.on('message', (m) => {
  busy = true;
  parentPort.postMessage({ results: m.tasks.map((t) => ({ findings: [], coverage: [], skipped: [{ path: t.file.rel, reason: 'from a worker' }], facts: [], bytes: 0, formats: [] })) });
});
parentPort.postMessage({ ready: true });
setTimeout(() => busy || process.exit(5), 10);
`;
    const FilePool = await poolWith('quits', worker);
    const pool = new FilePool(2, scanOptions());
    pool.start();
    await Promise.all(workersOf(pool).map((w) => new Promise((exited) => w.once('exit', exited))));
    const got = new Map<string, string[]>();
    await pool.run(files, prepared, (f, r) => got.set(f.rel, r.skipped.map((s) => s.reason)));
    await pool.close();
    // This thread scanned the first file, the worker started in its place the second.
    expect(Object.fromEntries(got)).toEqual({ 'none.log': [expect.stringMatching(/^not readable/)], 'none2.log': ['from a worker'] });
  });

  const STOPS = "import { parentPort } from 'node:worker_threads';\nparentPort.postMessage({ ready: true });\nparentPort.on('message', () => process.exit(3));\n";
  const TWICE = 'not scanned: the file stopped two scan workers (a scan worker stopped (exit code 3); a scan worker stopped (exit code 3))';
  const SPENT = "not scanned: the file was held by a scan worker that stopped (a scan worker stopped (exit code 3)) after this host's 2 fresh workers were spent; scan it alone with --jobs 1";

  it('a file that stops a ready worker is tried once more on a fresh worker, then listed with both reasons', async (ctx) => {
    ctx.skip(!canRun, why);
    const FilePool = await poolWith('stops', STOPS);
    const { got } = await reasons(FilePool);
    // This thread took the first file; the worker the second, and so did its replacement.
    expect(got.get('none.log')).toEqual([expect.stringMatching(/^not readable/)]);
    expect(got.get('none2.log')).toEqual([TWICE]);
  });

  it('each host of a fleet has its own budget of fresh workers: worker deaths on earlier hosts leave a later host its own', async (ctx) => {
    ctx.skip(!canRun, why);
    const FilePool = await poolWith('stops-fleet', STOPS);
    const pool = new FilePool(2, scanOptions());
    pool.start();
    // Each host: its worker and the fresh one in its place stop on none2.log (two of the budget of 2 × (2 − 1)).
    for (let host = 0; host < 3; host++) {
      const got = new Map<string, string[]>();
      await pool.run(files, prepared, (f, r) => got.set(f.rel, r.skipped.map((s) => s.reason)));
      expect(got.get('none2.log'), `host ${host + 1}`).toEqual([TWICE]);
    }
    await pool.close();
  });

  it('once the fresh workers are spent, what the last worker held is listed, not moved to this thread', async (ctx) => {
    ctx.skip(!canRun, why);
    const FilePool = await poolWith('stops-batch', STOPS);
    const pool = new FilePool(2, scanOptions());
    pool.start();
    // The large file alone for this thread; four small ones in one batch for the worker, which stops on it. Its
    // files are tried one at a time on fresh workers: a.log and b.log each stop one (the budget of 2 is spent);
    // c.log and d.log, held by the worker that stopped on the batch, are listed: one of them could be the file that
    // stopped it, and here it would end the whole scan.
    const small = ['a.log', 'b.log', 'c.log', 'd.log'].map((rel): EvidenceFile => ({ kind: 'fs', abs: join(LOG, rel), rel, size: 1000, mtimeMs: 0 }));
    const got = new Map<string, string[]>();
    await pool.run([files[0], ...small], prepared, (f, r) => got.set(f.rel, r.skipped.map((s) => s.reason)));
    await pool.close();
    expect(Object.fromEntries(got)).toEqual({
      'none.log': [expect.stringMatching(/^not readable/)],
      'a.log': [TWICE],
      'b.log': [TWICE],
      'c.log': [SPENT],
      'd.log': [SPENT],
    });
  });

  it('a worker that cannot build its rule set stops before it is ready: its work is done here, not failed', async (ctx) => {
    ctx.skip(!canRun, why);
    // The real worker script, with an --ioc file that does not exist: its rule set cannot be built.
    const FilePool = ((await import(pathToFileURL(join(REPO, 'dist', 'engine', 'pool.js')).href)) as { FilePool: typeof Pool }).FilePool;
    const pool = new FilePool(2, scanOptions({ iocFiles: [join(COPY, 'no-such-iocs.csv')] }));
    pool.start();
    const got = new Map<string, string[]>();
    await pool.run(files, prepared, (f, r) => got.set(f.rel, r.skipped.map((s) => s.reason)));
    const left = workersOf(pool).length;
    await pool.close();
    for (const r of got.values()) expect(r).toEqual([expect.stringMatching(/^not readable/)]);
    expect(got.size).toBe(2);
    // Not started again: the next would fail the same way.
    expect(left).toBe(0);
  });

  // `scan --jobs N` starts its workers before the options are known (cli/early.ts); the pool sends them.
  // Answers with where its options came from and one of them.
  const TELLS = `import { parentPort, workerData } from 'node:worker_threads';
let options = workerData;
parentPort.on('message', (m) => {
  if (m.options) {
    options = m.options;
    parentPort.postMessage({ ready: true });
    return;
  }
  const reason = (workerData ? 'workerData ' : 'message ') + options.fileSeconds;
  parentPort.postMessage({ results: m.tasks.map((t) => ({ findings: [], coverage: [], skipped: [{ path: t.file.rel, reason }], facts: [], bytes: 0, formats: [] })) });
});
if (workerData) parentPort.postMessage({ ready: true });
`;

  it('a worker started early is taken by the pool, sent the options, and scans: no second worker is started', async (ctx) => {
    ctx.skip(!canRun, why);
    const { FilePool, startEarlyWorker } = await distWith('early', TELLS);
    const early = startEarlyWorker();
    const pool = new FilePool(2, scanOptions({ fileSeconds: 7 }), undefined, [early]);
    pool.start();
    expect(workersOf(pool)).toEqual([early.worker]);
    const got = new Map<string, string[]>();
    await pool.run(files, prepared, (f, r) => got.set(f.rel, r.skipped.map((s) => s.reason)));
    await pool.close();
    expect(Object.fromEntries(got)).toEqual({ 'none.log': [expect.stringMatching(/^not readable/)], 'none2.log': ['message 7'] });
  });

  it('an early worker that failed before the pool took it leaves its work to this thread; one never taken is stopped', async (ctx) => {
    ctx.skip(!canRun, why);
    const { FilePool, startEarlyWorker } = await distWith('early-throws', 'throw new Error("worker broke while loading");\n');
    const early = startEarlyWorker();
    await new Promise((exited) => early.worker.once('exit', exited));
    expect(early.stop?.message).toBe('worker broke while loading');
    const pool = new FilePool(2, scanOptions(), undefined, [early]);
    pool.start();
    const got = new Map<string, string[]>();
    await pool.run(files, prepared, (f, r) => got.set(f.rel, r.skipped.map((s) => s.reason)));
    expect(workersOf(pool)).toEqual([]);
    await pool.close();
    for (const r of got.values()) expect(r).toEqual([expect.stringMatching(/^not readable/)]);
    expect(got.size).toBe(2);
    // --jobs 1 after all (or a small scan): an early worker the pool never takes ends with the pool.
    const { startEarlyWorker: start2 } = await distWith('early-unused', TELLS);
    const unused = start2();
    const single = new FilePool(1, scanOptions(), undefined, [unused]);
    single.start();
    await single.run(files.slice(0, 1), prepared, () => {});
    const exit = new Promise((exited) => unused.worker.once('exit', exited));
    await single.close();
    await exit;
  });
});
