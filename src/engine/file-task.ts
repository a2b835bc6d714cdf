// Scanning one evidence file: classify it with every scanner, run the ones that claim it. Runs inside workers.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Skipped } from '../model.js';
import { lendStart, HEAD_BYTES, type EvidenceFile, type FileHead, type LentStart } from '../evidence/file.js';
import { unreadableHint } from '../evidence/local.js';
import type { Prepared } from './registry.js';
import type { ByteRange } from './ranges.js';
import { startBudget } from './budget.js';
import { emptyResult, type FileScanResult, type ScanOptions } from './types.js';

export interface FileTaskResult extends FileScanResult {
  /** Formats that read this file (empty = ignored as unrelated). */
  formats: string[];
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  return code ? `${code}: ${err.message}` : err.message;
}

/**
 * `range`: scan only the lines that start in it (engine/ranges.ts). Scanners that cannot read a range read the
 * whole file with the first range; classification problems are reported by the first range only.
 */
export async function scanFile(file: EvidenceFile, options: ScanOptions, prepared: Prepared, range?: ByteRange, clock?: () => number): Promise<FileTaskResult> {
  const out: FileTaskResult = { ...emptyResult(), formats: [] };
  // A turn of the event loop per file: small files are read with blocking calls and otherwise only promise
  // callbacks run between them, so timers (progress), V8's garbage-collection tasks and the read buffer's return
  // (evidence/file.ts) would wait for the end of the batch.
  await nextTurn();
  let lent: LentStart;
  try {
    lent = await lendStart(file, HEAD_BYTES, prepared.buffers);
  } catch (err) {
    const hint = unreadableHint(file.rel, (err as NodeJS.ErrnoException).code);
    out.skipped.push({ path: file.rel, reason: `not readable: ${describe(err)}${hint ? `; ${hint}` : ''}`, unread: 'file' });
    return out;
  }
  // The head is the thread's buffer, given back once every scanner is done with the file (none keeps a view of it).
  try {
    await scanStart(file, lent.head, options, prepared, out, range, clock);
  } finally {
    lent.release();
  }
  return out;
}

/** Classifies the file by its head with every scanner and runs the ones that claim it, into `out`. */
async function scanStart(file: EvidenceFile, start: FileHead, options: ScanOptions, prepared: Prepared, out: FileTaskResult, range?: ByteRange, clock?: () => number): Promise<void> {
  const later = range !== undefined && range.index > 0;
  const skip = (reason: string, extra: Partial<Skipped> = {}) => out.skipped.push({ path: file.rel, reason, ...extra });
  for (const scanner of prepared.scanners) {
    let claim: ReturnType<typeof scanner.classify>;
    try {
      claim = scanner.classify(file, start.bytes);
    } catch (err) {
      skip(`${scanner.name}: could not classify: ${describe(err)}`);
      continue;
    }
    if (claim === null) continue;
    if (typeof claim === 'object') {
      if (!later) skip(claim.skip, claim.unread ? { unread: 'file' } : {});
      continue;
    }
    if (later && !scanner.ranges) continue;
    out.formats.push(claim);
    try {
      // Each reading pass gets the whole per-file time limit (a split file: each range).
      const budget = startBudget(options.fileSeconds, clock);
      const r = await scanner.scan(file, claim, options, prepared.rules, { range: scanner.ranges ? range : undefined, budget, head: start, buffers: prepared.buffers });
      out.findings.push(...r.findings);
      if (r.groups?.length) (out.groups ??= []).push(...r.groups);
      out.coverage.push(...r.coverage);
      out.skipped.push(...r.skipped);
      out.facts.push(...r.facts);
      out.bytes = Math.max(out.bytes, r.bytes);
      if (r.range) out.range = r.range;
    } catch (err) {
      // Nothing of the file is kept: its scanner's results come whole or not at all.
      skip(`${claim}: scan stopped: ${describe(err)}`, { unread: 'file' });
    }
  }
}
