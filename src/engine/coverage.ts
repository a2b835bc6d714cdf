// Coverage rows merged: a host's per-file rows into one row per log source, and a split file's per-range rows into
// that file's rows. One function for both, so they cannot drift apart.
import type { Coverage } from '../model.js';
import { compareText, DAY_MS } from '../semantics.js';

/**
 * One row per log source and format: files and records summed, each file stopped early (`partial`) named once,
 * the earliest first and latest last record; sorted by source.
 */
export function mergeCoverage(rows: readonly Coverage[]): Coverage[] {
  const by = new Map<string, Coverage>();
  for (const r of rows) {
    const key = `${r.source}\u0000${r.format}`;
    const m = by.get(key);
    if (!m) {
      by.set(key, { ...r });
      continue;
    }
    m.files += r.files;
    m.records += r.records;
    if (r.partial) m.partial = [...new Set([...(m.partial ?? []), ...r.partial])];
    if (r.first !== null && (m.first === null || r.first < m.first)) m.first = r.first;
    if (r.last !== null && (m.last === null || r.last > m.last)) m.last = r.last;
  }
  return [...by.values()].sort((a, b) => compareText(a.source, b.source));
}

/** Days (YYYY-MM-DD, first and last inclusive) with no web log at all between days that have them. */
export interface LogHole {
  from: string;
  to: string;
}

const dayNumber = (d: string): number => Date.parse(`${d}T00:00:00Z`) / DAY_MS;
const dayText = (n: number): string => new Date(n * DAY_MS).toISOString().slice(0, 10);

/**
 * Holes in the days a host's web logs are named for (IIS u_exYYMMDD, HttpProxy_YYYYMMDDHH: evidence/dates.ts): a
 * coverage span first → last cannot show the days an attacker deleted. A step between two days with logs counts as
 * a hole when it is at least twice the usual step (the median), and at least two days: an Exchange server's health
 * probes write a log every day it runs, so a missing day is deleted or the server was off; evidence kept every few
 * days (samples, a thinned archive) is judged by its own rhythm.
 */
export function logHoles(days: Iterable<string>): LogHole[] {
  const t = [...new Set(days)].map(dayNumber).filter(Number.isFinite).sort((a, b) => a - b);
  if (t.length < 3) return [];
  const steps = t.slice(1).map((x, i) => x - t[i]);
  const usual = [...steps].sort((a, b) => a - b)[steps.length >> 1];
  const limit = Math.max(2, 2 * usual);
  return steps.flatMap((s, i) => (s >= limit ? [{ from: dayText(t[i] + 1), to: dayText(t[i + 1] - 1) }] : []));
}
