// Starting scan worker threads, kept apart from engine/pool.ts so that the command line can start them before it
// loads the scanner (cli/early.ts): this module imports nothing of exhunt's but packaged.ts.
import { availableParallelism, totalmem } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ScanOptions } from './types.js';
import { SINGLE_FILE, singleFileWorker } from '../packaged.js';

// The single-file executable has no worker file on disk: its bundled worker script runs with `eval` (and its
// import.meta.url is undefined, hence the short circuit).
export const COMPILED = SINGLE_FILE || import.meta.url.endsWith('.js');

/** Memory one worker may take at peak (its heap, a 4 MiB read buffer, rule tables, results in flight). */
const WORKER_MEMORY = 256 * 1024 * 1024;

export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Workers actually started: what was asked, but never more than the cores nor more than half the machine's memory
 * allows (`--jobs 64` on 2 cores took 1.4 GB and ran five times slower than 2).
 */
export function effectiveJobs(requested: number, cores = availableParallelism(), memory = totalmem()): number {
  return Math.max(1, Math.min(requested, cores, Math.floor(memory / 2 / WORKER_MEMORY)));
}

/**
 * A scan worker; without `options` it loads its modules and waits for them in its first message (see EarlyWorker).
 * A small young generation per worker: scans allocate short-lived line strings, and the default (tens of MB per
 * isolate) is what pushed two workers past the memory budget.
 */
export function startWorker(options?: ScanOptions): Worker {
  const settings = { ...(options ? { workerData: options } : {}), resourceLimits: { maxYoungGenerationSizeMb: 12 } };
  const bundled = singleFileWorker();
  return bundled ? new Worker(bundled, { ...settings, eval: true }) : new Worker(new URL('./worker.js', import.meta.url), settings);
}

/**
 * A worker started before the scan's options were known (`scan --jobs N`: at the start of the process), which loads
 * the scanner's modules (~0.2 s of one core) while this thread loads its own; the pool sends it the options.
 * Unreferenced until the pool takes it: a command that stops early (a usage error) is not kept waiting by it.
 */
export interface EarlyWorker {
  worker: Worker;
  /** Why it stopped before the pool took it (it could not start), else null. */
  stop: Error | null;
}

export function startEarlyWorker(): EarlyWorker {
  const worker = startWorker();
  const early: EarlyWorker = { worker, stop: null };
  // Listened to from its start: an 'error' with no listener would end the process with a stack trace.
  worker.on('error', (err: Error) => (early.stop ??= err));
  worker.on('exit', (code: number) => (early.stop ??= new Error(`a scan worker stopped (exit code ${code})`)));
  worker.unref();
  return early;
}
