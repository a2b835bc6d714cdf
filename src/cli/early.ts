// `scan --jobs N`: the N − 1 scan workers start first thing, before this thread loads the scanner, so that each has
// loaded its own copy (~0.2 s of a core) by the time the evidence is listed, instead of starting then. Measured on
// 2 cores (IIS realistic 1 GB, --jobs 2): see engine/workers.ts EarlyWorker.
import { COMPILED, effectiveJobs, startEarlyWorker, type EarlyWorker } from '../engine/workers.js';

/** The value of the last --jobs / -j on a scan command line (commander reads it again, and checks it). */
export function jobsAsked(args: readonly string[]): number | undefined {
  let jobs: number | undefined;
  for (let i = 0; i < args.length && args[i] !== '--'; i++) {
    const a = args[i];
    if (a === '--jobs' || a === '-j') jobs = Number(args[++i]);
    else if (a.startsWith('--jobs=')) jobs = Number(a.slice(7));
    else if (a.startsWith('-j') && !a.startsWith('--')) jobs = Number(a.slice(2));
  }
  return jobs;
}

/** Workers for `scan` with more than one job asked for (`argv` as process.argv); none for anything else. */
export function earlyScanWorkers(argv: readonly string[]): EarlyWorker[] {
  if (argv[2] !== 'scan' || !COMPILED) return [];
  const jobs = jobsAsked(argv.slice(3));
  if (jobs === undefined || !Number.isInteger(jobs) || jobs < 2) return [];
  return Array.from({ length: effectiveJobs(jobs) - 1 }, startEarlyWorker);
}
