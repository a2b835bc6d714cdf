// Distributed scanning on an engine responders already run: Redis with BullMQ. `queue add` puts one job per host
// PATH (only the path and scan options go through Redis, never evidence); `worker` processes on any number of
// machines scan each PATH from storage they all read and write exactly one result file per host, atomically;
// `queue status` shows counts and the hosts that failed with their error. BullMQ gives retries with backoff and
// stalled-job pickup: a job whose worker died is moved back and scanned by another worker.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Verdict } from '../model.js';
import { renderJson } from '../report/json.js';
import { scan } from './scan.js';

export const QUEUE_NAME = 'exhunt-scan';

/** What a job carries: a path and options, nothing read from evidence. */
export interface ScanJobData {
  path: string;
  since: string;
  iocFiles: string[];
  yaraRules: string | null;
}

/** What a finished job returns to Redis: where the result is and its verdict. */
export interface ScanJobResult {
  file: string;
  label: string;
  verdict: Verdict;
  findings: number;
}

export interface QueueLimits {
  /** Tries per host before it is reported as failed. */
  attempts: number;
  /** First retry delay; doubles each time. */
  backoffMs: number;
  /** A job whose worker stops renewing its lock for this long is stalled and handed to another worker. */
  stallMs: number;
}

export const DEFAULT_LIMITS: QueueLimits = { attempts: 3, backoffMs: 10_000, stallMs: 30_000 };

/** The URL to show in messages: user name and password left out (parsed, not matched: no regex on user input). */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
      return u.toString().replace('://', '://…@');
    }
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

// BullMQ and ioredis are loaded by the queue commands only: imported at start they added ~25-30 MB of RSS and a
// quarter of a second to every command, `scan` included.
const bullmq = () => import('bullmq');

/** A Redis connection from a URL (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS). */
export async function connect(url: string): Promise<Redis> {
  if (!/^rediss?:\/\//i.test(url)) throw new Error(`--redis: not a redis:// or rediss:// URL: ${shownUrl(url)}`);
  const { Redis } = await import('ioredis');
  // BullMQ's blocking commands need maxRetriesPerRequest null; offline queueing off so a dead server fails fast.
  return new Redis(url, { maxRetriesPerRequest: null, enableOfflineQueue: true, lazyConnect: false });
}

/** The job id of a host: the same PATH queued twice is one job, so it gets one result. */
export function jobIdFor(path: string): string {
  return createHash('sha256').update(resolve(path)).digest('hex').slice(0, 32);
}

/** The result file of a host, decided by its PATH alone: a job run twice (after a stall) rewrites the same file. */
export function resultName(path: string): string {
  const own = basename(resolve(path)).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'host';
  return `${own}-${jobIdFor(path).slice(0, 12)}.json`;
}

export async function addJobs(redis: Redis, paths: string[], data: Omit<ScanJobData, 'path'>, limits: QueueLimits = DEFAULT_LIMITS): Promise<{ added: number; already: number }> {
  const { Queue } = await bullmq();
  const queue = new Queue<ScanJobData, ScanJobResult>(QUEUE_NAME, { connection: redis });
  try {
    const before = new Set<string>();
    for (const p of paths) if (await queue.getJob(jobIdFor(p))) before.add(jobIdFor(p));
    await queue.addBulk(
      paths.map((p) => ({
        name: 'scan',
        data: { ...data, path: resolve(p) },
        opts: { jobId: jobIdFor(p), attempts: limits.attempts, backoff: { type: 'exponential', delay: limits.backoffMs }, removeOnComplete: false, removeOnFail: false },
      })),
    );
    return { added: paths.length - before.size, already: before.size };
  } finally {
    await queue.close();
  }
}

/** Writes via a temporary name and renames: a reader never sees half a result, a crash leaves no result. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, text, 'utf8');
  await rename(tmp, file);
}

export interface WorkerRequest {
  redis: Redis;
  out: string;
  concurrency: number;
  limits?: QueueLimits;
  /** Stop when the queue has nothing waiting, delayed or running (batch use and tests). */
  untilEmpty?: boolean;
  log?: (line: string) => void;
}

/** Runs a worker until stopped (SIGINT/SIGTERM) or, with `untilEmpty`, until the queue is drained. */
export async function runWorker(req: WorkerRequest): Promise<{ done: number; failed: number }> {
  const limits = req.limits ?? DEFAULT_LIMITS;
  const log = req.log ?? (() => undefined);
  await mkdir(req.out, { recursive: true });
  let done = 0;
  let failed = 0;
  const processor = async (job: Job<ScanJobData, ScanJobResult>): Promise<ScanJobResult> => {
    const { path, since, iocFiles, yaraRules } = job.data;
    log(`start ${path}`);
    if (!existsSync(path)) throw new Error(`no such file or folder on this worker: ${path}`);
    const report = await scan({ paths: [path], jobs: 1, options: { since, iocFiles, yaraRules }, command: ['exhunt', 'worker', path] });
    const host = report.hosts[0];
    const file = join(req.out, resultName(path));
    await writeAtomically(file, renderJson(report));
    return { file, label: host.label ?? host.name, verdict: host.verdict, findings: host.findings.length };
  };
  const { Queue, Worker } = await bullmq();
  const worker = new Worker<ScanJobData, ScanJobResult>(QUEUE_NAME, processor, {
    connection: req.redis,
    concurrency: req.concurrency,
    lockDuration: limits.stallMs,
    stalledInterval: Math.max(1000, Math.floor(limits.stallMs / 2)),
    maxStalledCount: limits.attempts,
  });
  worker.on('completed', (job, r) => {
    done++;
    log(`done ${job.data.path}: ${r.verdict} -> ${r.file}`);
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    if (final) failed++;
    log(`${final ? 'FAILED' : 'retry'} ${job.data.path} (attempt ${job.attemptsMade}): ${err.message}`);
  });
  worker.on('error', (err) => log(`worker error: ${err.message}`));
  const stop = new Promise<void>((resolveStop) => {
    const onSignal = () => resolveStop();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    if (req.untilEmpty) {
      const queue = new Queue(QUEUE_NAME, { connection: req.redis });
      const timer = setInterval(() => {
        queue
          .getJobCounts('waiting', 'active', 'delayed', 'prioritized')
          .then((c) => {
            if (Object.values(c).every((n) => n === 0)) {
              clearInterval(timer);
              void queue.close().then(() => resolveStop());
            }
          })
          .catch((err: Error) => log(`status check failed: ${err.message}`));
      }, 500);
    }
  });
  await stop;
  await worker.close();
  return { done, failed };
}

export interface QueueStatus {
  counts: Record<string, number>;
  failed: Array<{ path: string; error: string; attempts: number }>;
  done: Array<{ path: string; label: string; verdict: Verdict; file: string }>;
}

export async function queueStatus(redis: Redis, max = 1000): Promise<QueueStatus> {
  const { Queue } = await bullmq();
  const queue = new Queue<ScanJobData, ScanJobResult>(QUEUE_NAME, { connection: redis });
  try {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized');
    const failed = (await queue.getFailed(0, max - 1)).map((j) => ({ path: j.data.path, error: j.failedReason ?? 'unknown error', attempts: j.attemptsMade }));
    const done = (await queue.getCompleted(0, max - 1)).filter((j) => j.returnvalue).map((j) => ({ path: j.data.path, label: j.returnvalue.label, verdict: j.returnvalue.verdict, file: j.returnvalue.file }));
    return { counts, failed, done };
  } finally {
    await queue.close();
  }
}
