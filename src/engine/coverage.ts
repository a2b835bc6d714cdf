// Coverage rows merged: a host's per-file rows into one row per log source, and a split file's per-range rows into
// that file's rows. One function for both, so they cannot drift apart.
import type { Coverage } from '../model.js';
import { compareText } from '../semantics.js';

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
