// Worker thread: builds the rule set once from the scan options it was started with, says it is ready (a worker that
// stops before that could not start: not the fault of the files it was sent), then scans the batches of files (or
// byte ranges of a file) the pool sends, one batch at a time.
import { parentPort, workerData } from 'node:worker_threads';
import type { Task } from './pool.js';
import { scanFile, type FileTaskResult } from './file-task.js';
import { prepare, type Prepared } from './registry.js';
import type { ScanOptions } from './types.js';
import { PlanShare } from './scanners/textlog.js';

// The options come with the worker, or in its first message when it was started before they were known (an
// EarlyWorker of engine/workers.ts), its modules loaded meanwhile.
const options: Promise<ScanOptions> = workerData
  ? Promise.resolve(workerData as ScanOptions)
  : new Promise((resolve) => parentPort?.once('message', (msg: { options: ScanOptions }) => resolve(msg.options)));
// Opened before the rule set is built (~0.1 s): the main thread posts its finder plan when it plans, and a channel
// opened after that only gets it when main answers its ask, between main's regions, often after this worker's first
// region was planned again (1 scan in 4, 60-80 ms of CPU).
const plans = new PlanShare().open();
const ready: Promise<Prepared> = options.then((o) => prepare(o, plans));
ready.then(
  () => parentPort?.postMessage({ ready: true }),
  // A rule set that cannot be built: the worker stops before it is ready, with the error as its 'error' event, so the
  // pool starts none in its place and its work goes back to the queue (a ready worker answering every batch with
  // the error would have had its files listed as failed).
  (err: unknown) =>
    queueMicrotask(() => {
      throw err;
    }),
);

parentPort?.on('message', async (msg: { tasks?: Task[] }) => {
  if (!msg.tasks) return; // the options (above)
  let prepared: Prepared;
  try {
    prepared = await ready;
  } catch {
    return; // stopping: see above
  }
  try {
    const results: FileTaskResult[] = [];
    for (const t of msg.tasks) results.push(await scanFile(t.file, await options, prepared, t.range));
    parentPort?.postMessage({ results });
  } catch (err) {
    parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
});
