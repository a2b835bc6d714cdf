// Worker thread: scans the batches of files the pool sends, one batch at a time.
import { parentPort } from 'node:worker_threads';
import type { EvidenceFile } from '../evidence/file.js';
import { scanFile, type FileTaskResult } from './file-task.js';
import type { ScanOptions } from './types.js';

parentPort?.on('message', async (msg: { files: EvidenceFile[]; options: ScanOptions }) => {
  try {
    const results: FileTaskResult[] = [];
    for (const f of msg.files) results.push(await scanFile(f, msg.options));
    parentPort?.postMessage({ results });
  } catch (err) {
    parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
});
