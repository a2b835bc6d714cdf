// Runs file scans in worker threads (one per core by default), or in this thread when asked or when running
// from TypeScript sources (tests), where no compiled worker exists.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { EvidenceFile } from '../evidence/file.js';
import { scanFile, type FileTaskResult } from './file-task.js';
import type { ScanOptions } from './types.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);
const COMPILED = import.meta.url.endsWith('.js');

export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

type Done = (file: EvidenceFile, result: FileTaskResult) => void;

export class FilePool {
  private readonly workers: Worker[] = [];

  constructor(private readonly jobs: number) {}

  /** Scans the files (largest first, for balance) and reports each result as it arrives. */
  async run(files: EvidenceFile[], options: ScanOptions, onDone: Done): Promise<void> {
    const queue = [...files].sort((a, b) => b.size - a.size);
    if (this.jobs <= 1 || !COMPILED || queue.length <= 1) {
      for (const f of queue) onDone(f, await scanFile(f, options));
      return;
    }
    while (this.workers.length < Math.min(this.jobs, queue.length)) this.workers.push(new Worker(WORKER_URL));
    let next = 0;
    await Promise.all(
      this.workers.map(async (w) => {
        while (next < queue.length) {
          const file = queue[next++];
          onDone(file, await this.send(w, file, options));
        }
      }),
    );
  }

  private send(w: Worker, file: EvidenceFile, options: ScanOptions): Promise<FileTaskResult> {
    return new Promise((resolve, reject) => {
      const onMessage = (msg: { result?: FileTaskResult; error?: string }) => {
        w.off('error', onError);
        if (msg.result) resolve(msg.result);
        else resolve({ findings: [], coverage: [], facts: [], bytes: 0, formats: [], skipped: [{ path: file.rel, reason: `scan failed: ${msg.error}` }] });
      };
      const onError = (err: Error) => {
        w.off('message', onMessage);
        reject(err);
      };
      w.once('message', onMessage);
      w.once('error', onError);
      w.postMessage({ id: 0, file, options });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
