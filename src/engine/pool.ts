// Runs file scans in worker threads (one per core by default), or in this thread for small scans, when asked, or
// when running from TypeScript sources (tests), where no compiled worker exists.
import { availableParallelism, totalmem } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { EvidenceFile } from '../evidence/file.js';
import { scanFile, type FileTaskResult } from './file-task.js';
import type { Prepared } from './registry.js';
import { emptyResult, type ScanOptions } from './types.js';
import { SINGLE_FILE, singleFileWorker } from '../packaged.js';

// The single-file executable has no worker file on disk: its bundled worker script runs with `eval` (and its
// import.meta.url is undefined, hence the short circuit).
const COMPILED = SINGLE_FILE || import.meta.url.endsWith('.js');
/** Below this much evidence, starting workers (and loading rule data in each) costs more than it saves. */
const WORKERS_FROM_BYTES = 64 * 1024 * 1024;
/** Small files travel to a worker in batches: one message per file costs more than scanning it. */
const BATCH_FILES = 64;
const BATCH_BYTES = 8 * 1024 * 1024;

function startWorker(options: ScanOptions): Worker {
  const settings = { workerData: options, resourceLimits: { maxYoungGenerationSizeMb: 12 } };
  const bundled = singleFileWorker();
  return bundled ? new Worker(bundled, { ...settings, eval: true }) : new Worker(new URL('./worker.js', import.meta.url), settings);
}

function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

/** Memory one worker may take at peak (its heap, a 4 MiB read buffer, rule tables, results in flight). */
const WORKER_MEMORY = 256 * 1024 * 1024;

/**
 * Workers actually started: what was asked, but never more than the cores nor more than half the machine's memory
 * allows (`--jobs 64` on 2 cores took 1.4 GB and ran five times slower than 2).
 */
export function effectiveJobs(requested: number, cores = availableParallelism(), memory = totalmem()): number {
  return Math.max(1, Math.min(requested, cores, Math.floor(memory / 2 / WORKER_MEMORY)));
}

type Done = (file: EvidenceFile, result: FileTaskResult) => void;

/** Largest first (for balance), small files grouped. */
export function batches(files: EvidenceFile[]): EvidenceFile[][] {
  const out: EvidenceFile[][] = [];
  let cur: EvidenceFile[] = [];
  let bytes = 0;
  for (const f of [...files].sort((a, b) => b.size - a.size)) {
    if (cur.length && (cur.length >= BATCH_FILES || bytes + f.size > BATCH_BYTES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(f);
    bytes += f.size;
  }
  if (cur.length) out.push(cur);
  return out;
}

export class FilePool {
  private readonly workers: Worker[] = [];

  /**
   * `jobs` undefined: one worker per core when the evidence is large enough to be worth it. `prepared` is this
   * thread's rule set; each worker builds its own from `options`.
   */
  constructor(
    private readonly jobs: number | undefined,
    private readonly options: ScanOptions,
    private readonly prepared: Prepared,
  ) {}

  /** Scans the files and reports each result as it arrives. */
  async run(files: EvidenceFile[], onDone: Done): Promise<void> {
    const options = this.options;
    const total = files.reduce((s, f) => s + f.size, 0);
    const jobs = effectiveJobs(this.jobs ?? (total >= WORKERS_FROM_BYTES ? defaultJobs() : 1));
    const queue = batches(files);
    if (jobs <= 1 || !COMPILED || files.length <= 1) {
      for (const batch of queue) for (const f of batch) onDone(f, await scanFile(f, options, this.prepared));
      return;
    }
    // A small young generation per worker: scans allocate short-lived line strings, and the default (tens of MB per
    // isolate) is what pushed two workers past the memory budget.
    while (this.workers.length < Math.min(jobs, queue.length)) this.workers.push(startWorker(options));
    let next = 0;
    await Promise.all(
      this.workers.map(async (w) => {
        while (next < queue.length) {
          const batch = queue[next++];
          const results = await this.send(w, batch);
          batch.forEach((f, i) => onDone(f, results[i]));
        }
      }),
    );
  }

  private send(w: Worker, files: EvidenceFile[]): Promise<FileTaskResult[]> {
    return new Promise((resolve, reject) => {
      const onMessage = (msg: { results?: FileTaskResult[]; error?: string }) => {
        w.off('error', onError);
        if (msg.results) resolve(msg.results);
        else resolve(files.map((f) => ({ ...emptyResult(), formats: [], skipped: [{ path: f.rel, reason: `scan failed: ${msg.error}` }] })));
      };
      const onError = (err: Error) => {
        w.off('message', onMessage);
        reject(err);
      };
      w.once('message', onMessage);
      w.once('error', onError);
      w.postMessage({ files });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
