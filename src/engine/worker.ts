// Worker thread: builds the rule set once from the scan options it was started with, then scans the batches of
// files the pool sends, one batch at a time.
import { parentPort, workerData } from 'node:worker_threads';
import type { EvidenceFile } from '../evidence/file.js';
import { scanFile, type FileTaskResult } from './file-task.js';
import { prepare, type Prepared } from './registry.js';
import type { ScanOptions } from './types.js';

const options = workerData as ScanOptions;
const ready: Promise<Prepared | Error> = prepare(options).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));

parentPort?.on('message', async (msg: { files: EvidenceFile[] }) => {
  try {
    const prepared = await ready;
    if (prepared instanceof Error) throw prepared;
    const results: FileTaskResult[] = [];
    for (const f of msg.files) results.push(await scanFile(f, options, prepared));
    parentPort?.postMessage({ results });
  } catch (err) {
    parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
});
