// One huge text log on every core: the file is cut into byte ranges scanned in parallel, then the results are put
// back together with exact line numbers and the right field layout.
//
// - A range owns the lines that start inside it: it skips the partial line at its start and reads past its end to
//   finish its last line (evidence/file.ts readRange). Nothing is read twice except those two line ends.
// - Line numbers: each range counts from 0 and reports how many lines it owns; the merge adds the lines of the
//   ranges before it (a prefix sum), so no pass over the file is needed first.
// - Field layout (`#Fields`): a range cannot know the layout in force at its start without reading what comes
//   before. It assumes the layout of the file's head (IIS and Exchange rewrite the same #Fields when they reopen a
//   log) and reports the layout it assumed and the one in force at its end; the merge walks the ranges in order and
//   scans again, with the layout really in force, any range whose assumption was wrong. Exact in every case; the
//   second pass costs only when a file changes layout mid-way.
import { readRange, type EvidenceFile, type ReadBuffers } from '../evidence/file.js';
import { utf8Lines } from '../parsers/text-encoding.js';
import { countNewlines } from '../search/needles.js';
import type { RawFinding } from '../model.js';
import type { FileScanResult } from './types.js';
import { mergeCoverage } from './coverage.js';

/** A part of a file to scan: lines starting in [start, end). `fields`: the #Fields line in force at `start`. */
export interface ByteRange {
  start: number;
  end: number;
  index: number;
  count: number;
  /** Set on a second pass: the #Fields directive line really in force at `start` (else the head's is assumed). */
  fields?: string;
}

/** What a range scan reports besides its results (text logs only). */
export interface RangeInfo {
  /** Lines owned (line feeds, plus an unterminated last line). */
  lines: number;
  /** The #Fields line the scan assumed at its start (null: none, the parser's default). */
  fieldsIn: string | null;
  /** The last #Fields line inside the range (null: none). */
  lastFields: string | null;
}

/** Ranges of about `rangeBytes` each, for a file on disk at least twice that size; null otherwise. */
export function planRanges(file: EvidenceFile, rangeBytes: number): ByteRange[] | null {
  if (file.kind !== 'fs' || !(rangeBytes > 0) || file.size < 2 * rangeBytes) return null;
  const count = Math.ceil(file.size / rangeBytes);
  return Array.from({ length: count }, (_, index) => ({
    start: Math.floor((index * file.size) / count),
    end: index === count - 1 ? file.size : Math.floor(((index + 1) * file.size) / count),
    index,
    count,
  }));
}

/** The ranges (by index) that must be scanned again, with the #Fields line really in force at their start. */
export function rescans(infos: Array<RangeInfo | undefined>): Map<number, string> {
  const out = new Map<number, string>();
  let cur = infos[0] ? infos[0].lastFields ?? infos[0].fieldsIn : null;
  for (let k = 1; k < infos.length; k++) {
    const info = infos[k];
    if (info === undefined) continue;
    if (cur !== null && info.fieldsIn !== cur) out.set(k, cur);
    cur = info.lastFields ?? cur;
  }
  return out;
}

/** One file's result from its ranges' (in order): line numbers made absolute, coverage rows joined. */
export function mergeRanges<R extends FileScanResult & { formats: string[]; range?: RangeInfo }>(parts: R[]): R {
  const merged = { ...parts[0], formats: [...parts[0].formats], findings: [], groups: undefined, coverage: [], skipped: [], facts: [], bytes: 0, range: undefined } as R;
  let offset = 0;
  for (const p of parts) {
    const at = <T extends { line?: number }>(x: T): T => (x.line === undefined ? x : { ...x, line: x.line + offset });
    const shift = (f: RawFinding): RawFinding => ({ ...f, source: at(f.source) });
    for (const f of p.findings) merged.findings.push(shift(f));
    for (const g of p.groups ?? []) (merged.groups ??= []).push({ ...g, first: g.first.map(shift), last: g.last.map(shift) });
    for (const s of p.skipped) merged.skipped.push(at(s));
    for (const f of p.facts) merged.facts.push({ ...f, source: at(f.source) });
    merged.bytes += p.bytes;
    for (const f of p.formats) if (!merged.formats.includes(f)) merged.formats.push(f);
    offset += p.range?.lines ?? 0;
  }
  // Every range reports the same one file: it counts once.
  merged.coverage = mergeCoverage(parts.flatMap((p) => p.coverage)).map((c) => ({ ...c, files: 1 }));
  return merged;
}

const FIELDS = Buffer.from('#Fields');

/**
 * What a text log range reports besides its results, from its lines counted as the text scanner reads them (lone CRs
 * end lines too) and nothing parsed: for a range no worker could scan (engine/pool.ts), so that the ranges after it
 * keep exact line numbers and the #Fields in force. `fieldsIn` null: it is never scanned again.
 */
export async function countRange(file: EvidenceFile, range: ByteRange, buffers?: ReadBuffers): Promise<RangeInfo> {
  const info: RangeInfo = { lines: 0, fieldsIn: null, lastFields: null };
  if (file.kind !== 'fs') return info;
  /** The last byte before the chunk (a line feed at the range's start: it begins a line). */
  let before = 10;
  /** A #Fields line cut by a chunk's end. */
  let cut: Buffer | null = null;
  const line = (b: Buffer) => b.toString('utf8', 0, b.length - (b[b.length - 1] === 13 ? 1 : 0));
  for await (const chunk of utf8Lines(readRange(file, range.start, range.end, buffers), 'utf8')) {
    if (chunk.length === 0) continue;
    info.lines += countNewlines(chunk, 0, chunk.length);
    let from = 0;
    if (cut !== null) {
      const nl = chunk.indexOf(10);
      cut = Buffer.concat([cut, nl === -1 ? chunk : chunk.subarray(0, nl)]);
      if (nl !== -1) [info.lastFields, cut] = [line(cut), null];
      from = nl === -1 ? chunk.length : nl;
    }
    for (let i = chunk.indexOf(FIELDS, from); i !== -1; i = chunk.indexOf(FIELDS, i + 1)) {
      if ((i === 0 ? before : chunk[i - 1]) !== 10) continue;
      const nl = chunk.indexOf(10, i);
      if (nl === -1) cut = Buffer.from(chunk.subarray(i));
      else info.lastFields = line(chunk.subarray(i, nl));
    }
    before = chunk[chunk.length - 1];
  }
  if (cut !== null) info.lastFields = line(cut);
  // An unterminated last line (the file's end) is a line too.
  if (before !== 10) info.lines++;
  return info;
}
