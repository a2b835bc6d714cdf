// A hole inside one web log: hours of lines removed from a day's IIS log (findstr /v over a time range) leave the
// day's file in place, so the day-level hole check (coverage.ts logHoles) cannot see it. Exchange's sites are
// probed by Managed Availability around the clock (AMProbe / HealthMailbox requests every few minutes, users or
// not), so a long stretch without a probe line, in a file where they otherwise come every few minutes, is lines
// removed, or IIS or the server stopped (a CU install stops IIS for an hour or more). Thresholds: the file holds at
// least MIN_PROBES probe lines, their usual (median) spacing is at most USUAL_MS, and the stretch is at least GAP_MS:
// a quiet server without probes, or one whose probes are sparse, is never judged by this.
import type { EvidenceFile } from '../evidence/file.js';
import { fsPath } from '../evidence/file.js';
import { openEvidence } from '../evidence/open.js';

const GAP_MS = 4 * 3600_000;
const USUAL_MS = 10 * 60_000;
const MIN_PROBES = 24;
/** Windows of the file read (the whole of a small file); the bytes between two are read when their times are GAP_MS apart. */
const WINDOW = 32 * 1024;
const STRIDE = 4 * 1024 * 1024;

const PROBE_MARKS = [Buffer.from('AMProbe'), Buffer.from('HealthMailbox')];
/** A W3C record line's leading `date time` (the default first two IIS fields). */
const LEAD = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})\b/;

/** A time stretch inside one file with no probe line. */
export interface ProbeGap {
  file: string;
  from: string;
  to: string;
}

/** Starts and times (ms) of the probe lines wholly inside `buf`, by start. */
function probeLines(buf: Buffer): Map<number, number> {
  // By line start: a line holding both marks counts once.
  const lines = new Map<number, number>();
  for (const mark of PROBE_MARKS) {
    for (let at = buf.indexOf(mark); at >= 0; at = buf.indexOf(mark, at + mark.length)) {
      const start = buf.lastIndexOf(10, at) + 1;
      const end = buf.indexOf(10, at);
      // A line cut by the window's start or end is not read (its start is another line's, or missing).
      if (start === 0 || end < 0) continue;
      const m = LEAD.exec(buf.toString('latin1', start, Math.min(end, start + 32)));
      const t = m ? Date.parse(`${m[1]}T${m[2]}Z`) : NaN;
      if (!Number.isNaN(t)) lines.set(start, t);
      at = end;
    }
  }
  return lines;
}

/** Times (ms) of the probe lines wholly inside `buf`, in time order. */
export function probeTimes(buf: Buffer): number[] {
  return [...probeLines(buf).values()].sort((a, b) => a - b);
}

/** The stretches of at least GAP_MS between consecutive probe times, when the probes are regular enough to tell. */
export function probeGaps(times: readonly number[]): Array<[number, number]> {
  if (times.length < MIN_PROBES) return [];
  const steps = times.slice(1).map((t, i) => t - times[i]);
  const usual = [...steps].sort((a, b) => a - b)[steps.length >> 1];
  if (usual > USUAL_MS) return [];
  return steps.flatMap((s, i) => (s >= GAP_MS ? [[times[i], times[i + 1]] as [number, number]] : []));
}

/**
 * The probe gaps of one IIS log on disk: windows of WINDOW bytes every STRIDE, and the bytes between two windows
 * whose probe times lie GAP_MS or more apart (the log is in time order, so a gap that long can only be there). Files
 * inside archives are not checked (no positional reads there).
 */
export async function fileProbeGaps(file: EvidenceFile): Promise<ProbeGap[]> {
  if (file.kind !== 'fs') return [];
  const fh = await openEvidence(fsPath(file));
  try {
    const read = async (from: number, to: number): Promise<Buffer> => {
      const buf = Buffer.alloc(Math.max(0, Math.min(to, file.size) - from));
      const { bytesRead } = await fh.read(buf, 0, buf.length, from);
      return buf.subarray(0, bytesRead);
    };
    /** Probe times between `from` and `to` (bytes), read a stride at a time (overlapping by a window, each line once). */
    const between = async (from: number, to: number): Promise<number[]> => {
      const out: number[] = [];
      for (let p = from; p < to; p += STRIDE) {
        const own = Math.min(STRIDE, to - p);
        for (const [start, t] of probeLines(await read(p, p + own + WINDOW))) if (start < own || p + own >= to) out.push(t);
      }
      return out;
    };
    const times: number[] = [];
    /** Where the last window that held a probe line starts: the bytes after it are where a stretch may lie. */
    let lastStart = 0;
    for (let at = 0; at < file.size; at += STRIDE) {
      const got = probeTimes(await read(at, at + WINDOW));
      const last = times.at(-1);
      // A long stretch since the last probe seen: the bytes from its window to this one say whether it is real (a
      // window without a probe in between tells nothing: re-reading from it invented hours missing).
      if (last !== undefined && got.length && got[0] - last >= GAP_MS && at > lastStart + WINDOW) {
        times.push(...(await between(lastStart, at + WINDOW)).filter((t) => t > last && t < got[0]));
      }
      times.push(...got);
      if (got.length) lastStart = at;
    }
    const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');
    return probeGaps(times.sort((a, b) => a - b)).map(([a, b]) => ({ file: file.rel, from: iso(a), to: iso(b) }));
  } finally {
    await fh.close();
  }
}

/** The probe gaps of a host's IIS logs of Exchange's sites; a file that cannot be read now is left out. */
export async function webLogGaps(files: readonly EvidenceFile[]): Promise<ProbeGap[]> {
  const out: ProbeGap[] = [];
  for (const f of files) {
    try {
      out.push(...(await fileProbeGaps(f)));
    } catch {
      // Read by the scan a moment ago; if it is gone now, its own lines were judged and nothing more is known.
    }
  }
  return out;
}
