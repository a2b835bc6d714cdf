import type { Coverage, Fact, RawFinding, Skipped } from '../model.js';
import type { EvidenceFile, FileHead, ReadBuffers } from '../evidence/file.js';
import type { ByteRange, RangeInfo } from './ranges.js';
import type { RuleSet } from '../rules/ruleset.js';
import type { Budget } from './budget.js';
import type { CollapsedKind } from './group.js';

// Moved to the model (rules make findings and must not import the engine); re-exported for code written before.
export type { RawFinding } from '../model.js';

/** What scanning one file produced. Plain data: it crosses worker-thread boundaries. */
export interface FileScanResult {
  findings: RawFinding[];
  /** Kinds with more than GROUP_AT findings in this file (engine/group.ts): log scanners group as they go. */
  groups?: CollapsedKind[];
  coverage: Coverage[];
  skipped: Skipped[];
  facts: Fact[];
  bytes: number;
  /** Set by a scan of one byte range of a file: lines are numbered from the range's first line (engine/ranges.ts). */
  range?: RangeInfo;
}

/** Options every scanner sees (plain data, cloned into workers). */
export interface ScanOptions {
  /** Start of the window the logs must cover when `sinceExplicit`, ISO 8601 (else the exposure windows decide). */
  since: string;
  /** --since was given: it overrides the exposure windows computed from the evidence. */
  sinceExplicit?: boolean;
  /** Extra IOC files given with --ioc. */
  iocFiles: string[];
  /** YARA rules file given with --yara, if any. */
  yaraRules: string | null;
  /** Sigma rule files or folders given with --rules (read through data/sigma/field-mapping.json). */
  ruleFiles?: string[];
  /** Per-file wall-clock limit in seconds (engine/budget.ts; default DEFAULT_FILE_SECONDS, 0 = none). */
  fileSeconds?: number;
  /** --event-csv-tz: the zone of the local times in event logs saved as CSV (an offset or an IANA name). */
  eventCsvZone?: string;
  /** --event-csv-dates: their day/month order, when the file cannot settle it. */
  eventCsvDates?: 'dmy' | 'mdy';
  /** --iis-tz: the server's time zone, for IIS logs in IIS's own format (u_in*.log: local times without a zone). */
  iisZone?: string;
}

/** What a scanner gets with one file besides the rule set: where, how long, what was read, what to read with. */
export interface FileContext {
  /** Scan only this byte range (scanners with `ranges`). */
  range?: ByteRange;
  budget?: Budget;
  /** The file's start as classified (the whole file when `head.whole`), so that it is not read again. */
  head?: FileHead;
  /** The thread's read-buffer lender (evidence/file.ts); without it, reads allocate their own. */
  buffers?: ReadBuffers;
}

/**
 * One evidence class (Exchange text logs, IIS logs, EVTX, files on disk ...). The engine asks each scanner in
 * order whether it claims a file, then runs `scan` for the claimed files, in worker threads.
 */
export interface Scanner {
  name: string;
  /**
   * Returns a format id when this scanner reads the file (decided from its head bytes and path), null when it
   * does not, or `{ skip }` when it recognises the file but cannot read it (the reason is reported, not an error).
   * Several scanners may claim the same file; each scans it.
   */
  classify(file: EvidenceFile, head: Buffer): string | null | { skip: string; unread?: true };
  /** `rules`: the scan's rule set (built once per scan, and once in each worker, from the same options). */
  scan(file: EvidenceFile, format: string, options: ScanOptions, rules: RuleSet, context?: FileContext): Promise<FileScanResult>;
  /** True when `scan` can read one byte range of a file (engine/ranges.ts); others read the whole file once. */
  ranges?: boolean;
  /** Releases what the scanner keeps open between files (the text scanner's plan channel); it scans no more. */
  close?(): void;
}

export function emptyResult(): FileScanResult {
  return { findings: [], coverage: [], skipped: [], facts: [], bytes: 0 };
}
