// Exposure windows per exploited family, from one host's evidence: opened by the later of the family's first
// in-the-wild exploitation and the install date (setup logs), closed by the first fixing build the evidence shows
// in place (build facts with their times) or, failing that, the newest evidence. Which build fixes which CVE comes
// from src/builds only; the families and their dates from src/rules/exploitation-windows.ts.
import type { LogHole } from './coverage.js';
import type { Coverage, ExposureWindow, Fact } from '../model.js';
import { CVES, type Assessment } from '../builds/index.js';
import { buildEvidence, type BuildEvidence } from '../rules/exposure.js';
import { EXPLOITED_FAMILIES, type ExploitedFamily } from '../rules/exploitation-windows.js';
import { END_SLACK_MS, START_SLACK_MS, utcDay as day } from '../semantics.js';


/** Said of every exposed family exhunt has no log detection for: such a window never supports `clean`. */
export const NOT_ASSESSABLE = 'not assessable from logs: exhunt has no log detection for it, so the verdict does not cover it';

type State = 'vulnerable' | 'fixed' | 'unknown' | 'untracked';

import { isWebSource } from '../semantics.js';
export { isWebSource };

const ms = (iso: string | null): number => (iso === null ? NaN : Date.parse(iso));

/** The family's state on one build: vulnerable if any CVE is, fixed when every CVE the table knows is closed. */
function familyState(a: Assessment, cves: readonly string[]): State {
  // The build's own state per CVE (configuration is not evidence here), from the assessment already made.
  const known = a.cves.filter((c) => cves.includes(c.cve)).map((c) => c.buildState);
  if (known.length === 0) return 'untracked';
  if (known.includes('vulnerable')) return 'vulnerable';
  if (known.includes('unknown')) return 'unknown';
  return 'fixed';
}

/** Does the build table know which builds fix any of the family's CVEs? */
function tracked(fam: ExploitedFamily): boolean {
  return CVES.some((c) => fam.cves.includes(c.cve));
}

interface Observation {
  time: number;
  state: State;
  e: BuildEvidence;
}

/** Newest record or dated fact: the best stand-in for "when the evidence was collected". */
export function newestEvidence(coverage: readonly Coverage[], facts: readonly Fact[]): number {
  const times = [...coverage.map((c) => ms(c.last)), ...facts.map((f) => ms(f.time))].filter((t) => !Number.isNaN(t));
  return times.length ? Math.max(...times) : NaN;
}

/** The earliest install date the setup logs show, or NaN. */
function installTime(facts: readonly Fact[]): { time: number; fact: Fact | null } {
  let best: Fact | null = null;
  for (const f of facts) if (f.kind === 'install' && !Number.isNaN(ms(f.time)) && (best === null || ms(f.time) < ms(best.time))) best = f;
  return { time: best ? ms(best.time) : NaN, fact: best };
}

function where(e: BuildEvidence): string {
  return `${e.assessment.build} in ${e.fact.origin} (${e.fact.source.path}${e.fact.source.line ? `:${e.fact.source.line}` : ''})`;
}

/** The web source whose records best cover [start, end]: starts earliest among those reaching the end. */
function bestLogs(web: readonly Coverage[], start: number, end: number): { c: Coverage; covered: boolean } | null {
  const dated = web.filter((c) => !Number.isNaN(ms(c.first)) && !Number.isNaN(ms(c.last)));
  if (!dated.length) return null;
  const covers = (c: Coverage) => ms(c.first) <= start + START_SLACK_MS && ms(c.last) >= end - END_SLACK_MS;
  const full = dated.find(covers);
  if (full) return { c: full, covered: true };
  // Otherwise the longest overlap with the window says most about what was seen.
  const overlap = (c: Coverage) => Math.max(0, Math.min(ms(c.last), end) - Math.max(ms(c.first), start));
  const pick = [...dated].sort((a, b) => overlap(b) - overlap(a) || ms(a.first) - ms(b.first))[0];
  return { c: pick, covered: false };
}

/**
 * Days with no web log inside a window (engine/coverage.ts logHoles) leave it uncovered, whatever span the logs
 * reach: the window names them (`holes`, and its sentence), so its row never says "covered" over deleted days.
 */
export function windowHoles(windows: ExposureWindow[], holes: readonly LogHole[]): ExposureWindow[] {
  if (!holes.length) return windows;
  return windows.map((w) => {
    if (!w.gating || w.start === null || w.end === null) return w;
    const [from, to] = [w.start.slice(0, 10), w.end.slice(0, 10)];
    const inside = holes.filter((h) => h.to >= from && h.from <= to);
    if (!inside.length) return w;
    const days = inside.map((h) => (h.from === h.to ? h.from : `${h.from} → ${h.to}`)).join(', ');
    return { ...w, covered: false, holes: inside, text: `${w.text}, but no web log exists for ${days} (deleted, or the server was off?)` };
  });
}

/** One window per family the build table knows, for one host. */
export function exposureWindows(facts: readonly Fact[], coverage: readonly Coverage[]): ExposureWindow[] {
  const end = newestEvidence(coverage, facts);
  if (Number.isNaN(end)) return [];
  const install = installTime(facts);
  const builds = buildEvidence(facts);
  const out: ExposureWindow[] = [];
  for (const fam of EXPLOITED_FAMILIES) {
    const w = familyWindow(fam, builds, install, end, coverage.filter((c) => isWebSource(c) || fam.alsoIn.includes(c.format)));
    if (w) out.push(w);
  }
  return out;
}

function familyWindow(
  fam: ExploitedFamily,
  builds: BuildEvidence[],
  install: { time: number; fact: Fact | null },
  end: number,
  /** The web logs, and the other logs that show this family (`alsoIn`). */
  web: readonly Coverage[],
): ExposureWindow | null {
  // Once per distinct build: a host's build facts (one per log file, hundreds) share a few assessments.
  const states = new Map<Assessment, State>();
  const stateOf = (a: Assessment): State => {
    let st = states.get(a);
    if (st === undefined) states.set(a, (st = familyState(a, fam.cves)));
    return st;
  };
  // Undated build facts (ExSetup.exe's version) describe the server when the evidence was taken.
  const obs: Observation[] = builds
    .map((e) => ({ time: Number.isNaN(ms(e.fact.time)) ? end : ms(e.fact.time), state: stateOf(e.assessment), e }))
    .filter((o) => o.state !== 'untracked')
    .sort((a, b) => a.time - b.time);
  // A family the build table does not know yet: only report it when its attacks would be in the logs.
  if (!fam.inLogs && !tracked(fam)) return null;
  const base = {
    family: fam.id,
    name: fam.name,
    cves: [...fam.cves],
    first_exploited: fam.firstExploited,
    source: fam.source,
    gating: fam.inLogs,
  };
  const itw = Date.parse(`${fam.firstExploited}T00:00:00Z`);
  const installed = !Number.isNaN(install.time);
  const start = installed ? Math.max(itw, install.time) : itw;
  const startReason =
    installed && install.time > itw
      ? `installed ${day(install.time)} (${install.fact!.origin}, ${install.fact!.source.path}), after the first in-the-wild exploitation (${fam.firstExploited})`
      : `first in-the-wild exploitation (${fam.firstExploited})${installed ? '' : '; install date not in the evidence'}`;
  const none = (why: string): ExposureWindow => ({ ...base, start: null, end: null, start_reason: startReason, end_reason: why, logs: null, covered: null, text: `not exposed: ${why}` });

  if (start >= end) return none(`the evidence ends ${day(end)}, before the window would open (${day(start)})`);
  // The fix is in place from the first fixed observation after the last vulnerable one.
  let fixedFrom: Observation | null = null;
  for (const o of obs) {
    if (o.state === 'vulnerable') fixedFrom = null;
    else if (o.state === 'fixed' && fixedFrom === null) fixedFrom = o;
  }
  const firstObs = obs[0];
  if (fixedFrom && fixedFrom.time <= start) return none(`fixing build ${where(fixedFrom.e)} in place by ${day(fixedFrom.time)}`);
  let stop = end;
  let endReason: string;
  if (fixedFrom) {
    stop = fixedFrom.time;
    endReason = `fixing build ${where(fixedFrom.e)} first seen ${day(fixedFrom.time)}`;
    if (fixedFrom === firstObs && !installed) endReason += '; the build before that is not in the evidence';
  } else if (!obs.length) {
    endReason = builds.length ? `newest evidence; the build table cannot assess ${fam.cves.join(', ')} yet` : 'newest evidence; no build facts, so exposure is assumed';
  } else {
    const last = [...obs].reverse().find((o) => o.state === 'vulnerable') ?? obs.at(-1)!;
    endReason = `newest evidence; ${last.state === 'vulnerable' ? 'vulnerable' : 'security update level unknown on'} build ${where(last.e)}, no fixing build seen`;
  }
  // A log without query strings cannot show a family told by its query: it does not cover that window.
  const blind = fam.inQuery ? web.filter((c) => c.query_unlogged) : [];
  const logs = bestLogs(blind.length ? web.filter((c) => !c.query_unlogged) : web, start, stop);
  const blindText = blind.length ? `; ${blind.map((c) => c.source).join(', ')} cannot show ${fam.name} (its requests are told by the query string)` : '';
  const rps = fam.alsoIn.includes('rps-http') ? ' or Rps_Http' : '';
  const noLogs = blind.length ? `no HttpProxy or IIS logs that record query strings${rps ? ', nor Rps_Http logs' : ''}` : rps ? 'no HttpProxy, IIS or Rps_Http logs' : 'no HttpProxy or IIS logs';
  const logText = (logs ? `logs cover ${day(ms(logs.c.first))} to ${day(ms(logs.c.last))} (${logs.c.source})` : noLogs) + blindText;
  // Log coverage proves nothing for a family whose attacks exhunt cannot see in logs: say so instead of a span.
  const tail = fam.inLogs ? `, ${logText}` : `; ${NOT_ASSESSABLE}`;
  return {
    ...base,
    start: new Date(start).toISOString(),
    end: new Date(stop).toISOString(),
    start_reason: startReason,
    end_reason: endReason,
    logs: logs ? { source: logs.c.source, first: logs.c.first!, last: logs.c.last! } : null,
    covered: logs ? logs.covered : false,
    text: `${fam.name}: exposed from ${day(start)} to ${day(stop)} (${startReason}; ${endReason})${tail}`,
  };
}
