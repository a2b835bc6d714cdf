// The per-file wall-clock limit: every regex that sees evidence runs in linear time, so a file's scan time is
// bounded by its size, but a huge or pathological file must still not hold a host's report hostage. Scanners
// check it between chunks (text logs) and record batches (event logs): a file that runs over is stopped there,
// named in skipped with where it stopped, and marked partial in its coverage row; the scan goes on.

/** Default per-file limit, in seconds (a safety net: a 10 GB log scans in well under a minute on one core). */
export const DEFAULT_FILE_SECONDS = 600;

export interface Budget {
  /** The limit in seconds, for messages. */
  seconds: number;
  exceeded(): boolean;
}

/**
 * A budget that starts now. `seconds` 0 or negative: no limit. `clock` (milliseconds) is for tests: they advance
 * it by hand instead of waiting.
 */
export function startBudget(seconds: number | undefined, clock: () => number = () => performance.now()): Budget | undefined {
  const s = seconds ?? DEFAULT_FILE_SECONDS;
  if (!(s > 0)) return undefined;
  const deadline = clock() + s * 1000;
  return { seconds: s, exceeded: () => clock() > deadline };
}

export function budgetReason(b: Budget, where: string): string {
  return `per-file time limit of ${b.seconds} s reached: scanned ${where}; the rest of the file was not read (--file-time-limit)`;
}
