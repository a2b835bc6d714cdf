// Runs file scans in this thread beside worker threads (one lane per core by default: this thread and cores − 1
// workers), or in this thread alone for small scans, when asked (`--jobs 1`), or when running from TypeScript
// sources (tests), where no compiled worker exists.
import type { Worker } from 'node:worker_threads';
import type { EvidenceFile } from '../evidence/file.js';
import { scanFile, type FileTaskResult } from './file-task.js';
import type { Prepared } from './registry.js';
import { emptyResult, type ScanOptions } from './types.js';
import { countRange, mergeRanges, planRanges, rescans, type ByteRange } from './ranges.js';
import { COMPILED, defaultJobs, effectiveJobs, startWorker, type EarlyWorker } from './workers.js';

/** Below this much evidence, starting workers (and loading rule data in each) costs more than it saves. */
const WORKERS_FROM_BYTES = 64 * 1024 * 1024;
/** Small files travel to a worker in batches: one message per file costs more than scanning it. */
const BATCH_FILES = 64;
const BATCH_BYTES = 8 * 1024 * 1024;
/**
 * With workers, a file on disk of twice this size or more is scanned as ranges of about this size (engine/ranges.ts):
 * a single 20 GB log then keeps every core busy, and small enough ranges balance the end of a scan.
 */
const RANGE_BYTES = 64 * 1024 * 1024;

type Done = (file: EvidenceFile, result: FileTaskResult) => void;

/**
 * A file or range no worker could scan: it stopped two workers (both reasons), or it was held by one that stopped when
 * this host had no fresh worker left (`spent`: how many it had). Never scanned in this thread, where the same stop
 * would end the whole scan and its report.
 */
function lostResult(task: Task, cause: { whys: [string, string] } | { why: string; spent: number }): FileTaskResult {
  const r = task.range;
  const what = r ? `bytes ${r.start}–${r.end} (range ${r.index + 1} of ${r.count}; the other ranges were scanned)` : 'the file';
  const reason =
    'whys' in cause
      ? `not scanned: ${what} stopped two scan workers (${cause.whys.join('; ')})`
      : `not scanned: ${what} was held by a scan worker that stopped (${cause.why}) after this host's ${cause.spent} fresh workers were spent; scan it alone with --jobs 1`;
  return { ...emptyResult(), formats: [], skipped: [{ path: task.file.rel, reason, unread: 'file' }] };
}

/** One file, or one byte range of a file, for a worker. */
export interface Task {
  file: EvidenceFile;
  range?: ByteRange;
}

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

/** A queue entry: a batch of whole files (made tasks only when sent: no object per file of a 200,000-file host), or one range. */
type Entry = EvidenceFile[] | Task;

function tasksOf(e: Entry): Task[] {
  return Array.isArray(e) ? e.map((file) => ({ file })) : [e];
}

/** Queue entries for files: every range of a split file alone (recorded in `split`), the other files in batches. */
function entriesOf(files: EvidenceFile[], rangeBytes: number, split: Map<EvidenceFile, ByteRange[]>): Entry[] {
  const whole: EvidenceFile[] = [];
  const out: Entry[] = [];
  for (const f of files) {
    const ranges = planRanges(f, rangeBytes);
    if (!ranges) whole.push(f);
    else {
      split.set(f, ranges);
      for (const range of ranges) out.push({ file: f, range });
    }
  }
  out.push(...batches(whole));
  return out;
}

const entryBytes = (e: Entry): number => (Array.isArray(e) ? e.reduce((s, f) => s + f.size, 0) : e.range!.end - e.range!.start);

export class FilePool {
  private readonly workers: Worker[] = [];
  /** Why a worker can take no more work (its error, or its exit), kept from its start on: see `spawn`. */
  private readonly stopped = new Map<Worker, Error>();
  /** Workers that built their rule set (worker.ts says so): one that stops after that stopped on its work. */
  private readonly ready = new Set<Worker>();
  /** Workers started in place of stopped ones during this host's `run` (see `replace`): each host has its own budget. */
  private replacements = 0;

  /** `jobs` undefined: one worker per core when the evidence is large enough to be worth it. */
  constructor(
    private readonly jobs: number | undefined,
    /** Each worker builds its own rule set from these. */
    private readonly options: ScanOptions,
    /** Split files on disk of twice this size or more into ranges scanned apart (default: RANGE_BYTES with workers). */
    private readonly rangeBytes?: number,
    /** Workers started before the options were known (cli/early.ts): taken before any fresh one is started. */
    private readonly early: EarlyWorker[] = [],
  ) {}

  /**
   * With more than one job asked for (`--jobs N`), starts the N − 1 workers now (this thread is the N-th lane, see
   * `run`): each loads the scanner and builds its rule set (~0.3 s) while this thread prepares and starts listing
   * the evidence. Left to the default, workers start in `run`, once the files handed over add up to enough evidence.
   */
  start(): void {
    if (this.jobs === undefined || !COMPILED) return;
    const jobs = effectiveJobs(this.jobs);
    while (this.workers.length < jobs - 1) this.workers.push(this.spawn());
  }

  /**
   * Scans the files and reports each result as it arrives (a split file once all its ranges are done). `prepared`
   * is this thread's rule set, for what it scans itself. `files` may come in parts while they are still being
   * listed (an async iterable): the lanes start on the first part, and each part joins the queue, most bytes first.
   *
   * A worker that stops mid-scan (a crash, its memory limit, an exit) does not end the scan: the files or ranges it
   * held are scanned again, one at a time, on a fresh worker, and one that stops a second worker too is listed as
   * skipped with both reasons, never lost. Each host may start twice the workers asked for in place of stopped ones;
   * past that, what the last ones held is listed as skipped, not moved to this thread, where the file that stopped
   * them would end the whole process (workers have the same heap limit as this thread). A worker that stops before
   * it is ready (it could not start) is not replaced and its work goes back to the queue.
   */
  async run(files: EvidenceFile[] | AsyncIterable<EvidenceFile[]>, prepared: Prepared, onDone: Done): Promise<void> {
    const options = this.options;
    this.replacements = 0;
    const queue: Entry[] = [];
    let next = 0;
    /** Every part of `files` is queued. */
    let listed = false;
    let total = 0;
    let jobs = 1;
    let parallel = false;
    const split = new Map<EvidenceFile, ByteRange[]>();
    /** Lanes waiting for work (the queue empty, the listing not done). */
    const waiting: Array<() => void> = [];
    const wake = () => {
      for (const go of waiting.splice(0)) go();
    };
    const moreWork = () => new Promise<void>((go) => waiting.push(go));
    /** Tasks a worker held when it stopped, with why: for a fresh worker, one at a time. */
    const retry: Array<{ task: Task; why: string }> = [];
    /** Fresh workers this host may start in place of stopped ones: twice the workers asked for. */
    const budget = 2 * (effectiveJobs(this.jobs ?? defaultJobs()) - 1);
    const lanes: Array<Promise<void>> = [];
    /** Lanes started on workers in this run (see `add`). */
    let started = 0;
    /** Queues a part of the files; starts workers once there is evidence enough for them (and entries to share). */
    const add = (part: EvidenceFile[]) => {
      total += part.reduce((s, f) => s + f.size, 0);
      if (!parallel) {
        // Decided before the part is cut into ranges: a large file in the first part is split only with workers.
        jobs = effectiveJobs(this.jobs ?? (total >= WORKERS_FROM_BYTES ? defaultJobs() : 1));
        parallel = jobs > 1 && COMPILED;
      }
      const added = entriesOf(part, this.rangeBytes ?? (parallel ? RANGE_BYTES : 0), split);
      const rest = queue.splice(next).concat(added);
      queue.push(...rest.sort((x, y) => entryBytes(y) - entryBytes(x)));
      if (parallel) {
        while (started < Math.min(jobs, queue.length) - 1) {
          const w = this.spawn();
          this.workers.push(w);
          started++;
          lanes.push(lane(w));
        }
      }
      wake();
    };
    const parts = new Map<EvidenceFile, FileTaskResult[]>();
    /** Results of ranges no worker could scan: their lines are counted (ranges.ts countRange), never scanned again. */
    const lost = new Set<FileTaskResult>();
    const done = async (task: Task, result: FileTaskResult): Promise<void> => {
      const ranges = task.range ? split.get(task.file) : undefined;
      if (!task.range || !ranges) return onDone(task.file, result);
      const got = parts.get(task.file) ?? [];
      parts.set(task.file, got);
      got[task.range.index] = result;
      if (got.filter(Boolean).length < ranges.length) return;
      // A text log's ranges report their lines: a lost one's are counted, so that the ranges after it keep exact
      // line numbers and the #Fields in force.
      if (lost.size && got.some((r) => r.range)) for (const [k, r] of got.entries()) if (lost.has(r)) r.range = await countRange(task.file, ranges[k], prepared.buffers);
      // Ranges that assumed the wrong #Fields are scanned again (rare: a layout change inside the file), here.
      for (const [k, fields] of rescans(got.map((r) => r.range))) if (!lost.has(got[k])) got[k] = await scanFile(task.file, options, prepared, { ...ranges[k], fields });
      onDone(task.file, mergeRanges(got));
    };
    // This thread is one lane (it has the modules and its rule set, and would otherwise idle through the scan) beside
    // jobs − 1 workers, all taking entries from one queue: with 2 jobs, one isolate to start, compile and plan
    // instead of two. A second worker cost as much CPU (~1.2 CPU-s) as it saved on 1 GB.
    const here = async (): Promise<void> => {
      for (;;) {
        if (next < queue.length) for (const t of tasksOf(queue[next++])) await done(t, await scanFile(t.file, options, prepared, t.range));
        else if (listed) return;
        else await moreWork();
      }
    };
    const lane = async (first: Worker): Promise<void> => {
      let w: Worker | null = first;
      while (w !== null) {
        // Stopped while idle (between hosts, or before it got any work): it held nothing.
        if (this.stopped.has(w)) {
          w = this.replace(w, this.ready.has(w), budget);
          continue;
        }
        const again = retry.shift();
        if (again === undefined && next >= queue.length) {
          if (listed) return;
          await moreWork();
          continue;
        }
        const entry = again === undefined ? queue[next++] : null;
        const batch = entry === null ? [again!.task] : tasksOf(entry);
        let results: FileTaskResult[];
        try {
          results = await this.send(w, batch);
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          const ready = this.ready.has(w);
          w = this.replace(w, ready, budget);
          if (!ready) {
            if (entry !== null) queue.push(entry);
            else retry.unshift(again!);
          } else if (again !== undefined) {
            const result = lostResult(again.task, { whys: [again.why, why] });
            lost.add(result);
            await done(again.task, result);
          } else for (const task of batch) retry.push({ task, why });
          // Work for the other lanes, which may be waiting.
          wake();
          continue;
        }
        for (let i = 0; i < batch.length; i++) await done(batch[i], results[i]);
      }
    };
    // Workers already running (`start`, or left from the previous host) take work from the start.
    for (const w of [...this.workers]) {
      started++;
      lanes.push(lane(w));
    }
    let failed: unknown = null;
    if (Array.isArray(files)) add(files);
    else {
      // Lanes start on the first parts while the rest is being listed.
      const mine = here();
      try {
        for await (const part of files) add(part);
      } catch (err) {
        failed = err;
      }
      listed = true;
      wake();
      await mine;
    }
    listed = true;
    await Promise.all([here(), ...lanes]);
    // Every worker gone (none could start, or the replacements ran out): what no worker took is scanned here, and
    // what a worker held when it stopped is listed.
    await here();
    for (const { task, why } of retry.splice(0)) {
      const result = lostResult(task, { why, spent: this.replacements });
      lost.add(result);
      await done(task, result);
    }
    if (failed !== null) throw failed;
  }

  /**
   * The worker to go on with after `w` stopped: a fresh one while the replacements last (`most`), none when `w`
   * never got ready (a worker that cannot start will not start the next time).
   */
  private replace(w: Worker, started: boolean, most: number): Worker | null {
    this.workers.splice(this.workers.indexOf(w), 1);
    if (!started || this.replacements >= most) return null;
    this.replacements++;
    const fresh = this.spawn();
    this.workers.push(fresh);
    return fresh;
  }

  /**
   * A worker, listened to from its start: a worker started early (`start`) sits idle while the evidence is listed,
   * and an 'error' with no listener would end the process with a stack trace instead of the scan's error message.
   */
  private spawn(): Worker {
    const early = this.early.shift();
    const w = early?.worker ?? startWorker(this.options);
    w.on('message', (msg: { ready?: boolean }) => {
      if (msg.ready) this.ready.add(w);
    });
    w.on('error', (err: Error) => this.stopped.set(w, err));
    w.on('exit', (code: number) => {
      if (!this.stopped.has(w)) this.stopped.set(w, new Error(`a scan worker stopped (exit code ${code})`));
    });
    if (early) {
      if (early.stop) this.stopped.set(w, early.stop);
      w.ref();
      w.postMessage({ options: this.options });
    }
    return w;
  }

  private send(w: Worker, tasks: Task[]): Promise<FileTaskResult[]> {
    return new Promise((resolve, reject) => {
      const stopped = this.stopped.get(w);
      if (stopped) return reject(stopped);
      const settle = () => {
        w.off('message', onMessage);
        w.off('error', onStop);
        w.off('exit', onStop);
      };
      const onMessage = (msg: { results?: FileTaskResult[]; error?: string; ready?: boolean }) => {
        if (msg.ready) return;
        settle();
        if (msg.results) resolve(msg.results);
        else resolve(tasks.map((t) => ({ ...emptyResult(), formats: [], skipped: [{ path: t.file.rel, reason: `scan failed: ${msg.error}`, unread: 'file' }] })));
      };
      // Registered after spawn's listeners, which have recorded why by now: a worker that exits without an error
      // (never answering) rejects too, where the scan would otherwise wait for ever.
      const onStop = () => {
        settle();
        reject(this.stopped.get(w));
      };
      w.on('message', onMessage);
      w.on('error', onStop);
      w.on('exit', onStop);
      w.postMessage({ tasks });
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers, ...this.early.splice(0).map((e) => e.worker)].map((w) => w.terminate()));
    this.workers.length = 0;
    this.stopped.clear();
    this.ready.clear();
  }
}
