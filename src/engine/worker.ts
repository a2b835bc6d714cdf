// Worker thread: scans the files the pool sends, one at a time.
import { parentPort } from 'node:worker_threads';
import type { EvidenceFile } from '../evidence/file.js';
import { scanFile } from './file-task.js';
import type { ScanOptions } from './types.js';

parentPort?.on('message', async (msg: { id: number; file: EvidenceFile; options: ScanOptions }) => {
  try {
    const result = await scanFile(msg.file, msg.options);
    parentPort?.postMessage({ id: msg.id, result });
  } catch (err) {
    parentPort?.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
});
