// The exposure-window view per host: one row per exploited family, "exposed from A to B (why), logs cover C to D",
// with the part of the window no log covers named as a gap. Shared by the terminal and HTML reports so both say
// the same; the JSON carries the windows themselves (`hosts[].exposure_windows`).
import type { ExposureWindow, HostResult } from '../model.js';
import { END_SLACK_MS, START_SLACK_MS } from '../semantics.js';

export type WindowState = 'not exposed' | 'covered' | 'gap' | 'not assessable';

export interface WindowRow {
  family: string;
  name: string;
  cves: string[];
  state: WindowState;
  /** `A → B` (UTC days), or null when the server was not exposed. */
  exposed: string | null;
  /** Why the window opens and closes where it does. */
  why: string;
  /** `C → D (source)`, or null when no web log overlaps the window. */
  logs: string | null;
  /** The parts of the window no web log covers (`A → C`, `D → B`), or what is missing; null when covered. */
  gap: string | null;
}

const day = (iso: string): string => iso.slice(0, 10);

/** The uncovered parts of [start, end] given the covering logs' span, in days, with the slack the verdict allows. */
function gapText(w: ExposureWindow): string | null {
  if (w.start === null || w.end === null || w.covered) return null;
  if (!w.logs) return `no HttpProxy or IIS logs for ${day(w.start)} → ${day(w.end)}`;
  const parts: string[] = [];
  if (Date.parse(w.logs.first) > Date.parse(w.start) + START_SLACK_MS) parts.push(`${day(w.start)} → ${day(w.logs.first)}`);
  if (Date.parse(w.logs.last) < Date.parse(w.end) - END_SLACK_MS) parts.push(`${day(w.logs.last)} → ${day(w.end)}`);
  // Days deleted inside the span the logs reach.
  for (const h of w.holes ?? []) parts.push(h.from === h.to ? h.from : `${h.from} → ${h.to}`);
  if (parts.length) return `no logs ${parts.join(' and ')}`;
  return `no single web log spans ${day(w.start)} → ${day(w.end)}`;
}

function state(w: ExposureWindow): WindowState {
  if (w.start === null) return 'not exposed';
  if (!w.gating) return 'not assessable';
  return w.covered ? 'covered' : 'gap';
}

export function windowRow(w: ExposureWindow): WindowRow {
  const st = state(w);
  const exposed = w.start !== null && w.end !== null ? `${day(w.start)} → ${day(w.end)}` : null;
  const why = exposed ? `${w.start_reason}; ${w.end_reason}` : w.end_reason;
  return {
    family: w.family,
    name: w.name,
    cves: w.cves,
    state: st,
    exposed,
    why: st === 'not assessable' ? `${why}; exhunt has no log detection for this family, so the verdict does not cover it` : why,
    logs: w.logs && st !== 'not assessable' ? `${day(w.logs.first)} → ${day(w.logs.last)} (${w.logs.source})` : null,
    gap: st === 'gap' ? gapText(w) : null,
  };
}

/** The rows of one host, in the families' order (src/rules/exploitation-windows.ts). */
export function windowRows(h: HostResult): WindowRow[] {
  return (h.exposure_windows ?? []).map(windowRow);
}
