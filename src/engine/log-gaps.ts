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
import { nameDate } from '../evidence/dates.js';
import { DAY_MS } from '../semantics.js';

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
  if (!regular(times)) return [];
  return times.slice(1).flatMap((t, i) => (t - times[i] >= GAP_MS ? [[times[i], t] as [number, number]] : []));
}

/** Enough probes, at a usual (median) spacing close enough, for a long stretch without one to mean something. */
function regular(times: readonly number[]): boolean {
  if (times.length < MIN_PROBES) return false;
  const steps = times.slice(1).map((t, i) => t - times[i]);
  return [...steps].sort((a, b) => a - b)[steps.length >> 1] <= USUAL_MS;
}

/**
 * The probe gaps of one IIS log on disk: windows of WINDOW bytes every STRIDE, and the bytes between two windows
 * whose probe times lie GAP_MS or more apart (the log is in time order, so a gap that long can only be there). Files
 * inside archives are not checked (no positional reads there).
 */
export async function fileProbeGaps(file: EvidenceFile): Promise<ProbeGap[]> {
  return gapsOf(file.rel, await fileProbeTimes(file));
}

const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');
const gapsOf = (rel: string, times: readonly number[]): ProbeGap[] => probeGaps(times).map(([a, b]) => ({ file: rel, from: iso(a), to: iso(b) }));

/**
 * The probe times of one IIS log on disk, in time order: windows of WINDOW bytes every STRIDE and the file's last
 * WINDOW bytes (its last probes: hours cut at its end show against the next day's log), and the bytes between two
 * windows whose probe times lie GAP_MS or more apart.
 */
async function fileProbeTimes(file: EvidenceFile): Promise<number[]> {
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
    let firstStart = -1;
    const take = async (at: number, to: number) => {
      const got = probeTimes(await read(at, to));
      const last = times.at(-1);
      // A long stretch since the last probe seen: the bytes from its window to this one say whether it is real (a
      // window without a probe in between tells nothing: re-reading from it invented hours missing).
      if (last !== undefined && got.length && got[0] - last >= GAP_MS && at > lastStart + WINDOW) {
        times.push(...(await between(lastStart, to)).filter((t) => t > last && t < got[0]));
      }
      times.push(...got);
      if (got.length) lastStart = at;
      if (got.length && firstStart < 0) firstStart = at;
    };
    let end = 0;
    for (let at = 0; at < file.size; at += STRIDE) {
      await take(at, at + WINDOW);
      end = at + WINDOW;
    }
    // The file's last bytes, from where the last window ended at the earliest (no line read twice).
    if (end < file.size) await take(Math.max(end, file.size - WINDOW), file.size);
    if (firstStart < 0) return [];
    // The file's first and last probes bound its hours against the neighbouring days' logs: read from its start to
    // the first window that held one, and from the last such window to its end (busy hours may leave a window none).
    times.sort((a, b) => a - b);
    const [first, last] = [times[0], times.at(-1)!];
    const before = firstStart > 0 ? (await between(0, firstStart)).filter((t) => t < first) : [];
    const after = lastStart + WINDOW < file.size ? (await between(lastStart, file.size)).filter((t) => t > last) : [];
    return [...before.sort((a, b) => a - b), ...times, ...after.sort((a, b) => a - b)];
  } finally {
    await fh.close();
  }
}

/** The probe gaps of a host's IIS logs of Exchange's sites; a file that cannot be read now is left out. */
export async function webLogGaps(files: readonly EvidenceFile[]): Promise<ProbeGap[]> {
  const out: ProbeGap[] = [];
  const read: Array<{ rel: string; times: number[] }> = [];
  for (const f of files) {
    try {
      const times = await fileProbeTimes(f);
      read.push({ rel: f.rel, times });
      out.push(...gapsOf(f.rel, times));
    } catch {
      // Read by the scan a moment ago; if it is gone now, its own lines were judged and nothing more is known.
    }
  }
  return [...out, ...dayEdgeGaps(read)];
}

/**
 * Hours cut at the end of one day's log (or the start of the next): its last probe and the first probe of the next
 * day's log of the same site (folder) GAP_MS or more apart, both logs probed regularly (review10 R19: a day without
 * its last six hours was seen by nothing). Logs named a day or more apart are left to the day-hole check.
 */
export function dayEdgeGaps(logs: ReadonlyArray<{ rel: string; times: readonly number[] }>): ProbeGap[] {
  const bySite = new Map<string, Array<{ rel: string; times: readonly number[]; day: number }>>();
  for (const l of logs) {
    const name = nameDate(l.rel);
    if (name === null || !regular(l.times)) continue;
    const site = l.rel.slice(0, l.rel.lastIndexOf('/') + 1);
    const list = bySite.get(site) ?? [];
    list.push({ ...l, day: Date.parse(name) });
    bySite.set(site, list);
  }
  const out: ProbeGap[] = [];
  for (const list of bySite.values()) {
    list.sort((a, b) => a.day - b.day || (a.rel < b.rel ? -1 : 1));
    for (let i = 1; i < list.length; i++) {
      const [a, b] = [list[i - 1], list[i]];
      const [last, first] = [a.times.at(-1)!, b.times[0]];
      if (b.day - a.day <= DAY_MS && first - last >= GAP_MS) out.push({ file: a.rel, from: iso(last), to: iso(first) });
    }
  }
  return out;
}
