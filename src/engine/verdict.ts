// One verdict per host, with reasons a person can check. Scanner traffic alone never compromises a host;
// missing logs never make it clean.
import { SEVERITY_RANK } from '../model.js';
import type { Coverage, ExposureWindow, Finding, Skipped, Verdict } from '../model.js';
import { DAY_MS, END_SLACK_MS, START_SLACK_MS, STAGE_RANK, canChangeVerdict, evidenceString, utcDay as day } from '../semantics.js';
import { confirmedShells } from './correlate.js';
import { serverPath } from '../evidence/server-path.js';
import { isWebSource } from './exposure-windows.js';
import { QUERY_FAMILIES } from '../rules/exploitation-windows.js';
import type { LogHole } from './coverage.js';
import type { ProbeGap } from './log-gaps.js';
import { IIS_NATIVE_ID } from '../parsers/web-logs.js';

const MAX_RULE_REASONS = 6;
/** Exchange keeps one HttpProxy folder per protocol; naming every short one would bury the verdict. */
const MAX_SHORT = 3;

/** A source by name; another website's IIS log says it is one. */
const sourceText = (c: Coverage): string => (c.not_exchange ? `${c.source} (another website's log: no request to Exchange)` : c.source);

function spanText(c: Coverage): string {
  return `${c.source} ${c.first?.slice(0, 10) ?? '?'} → ${c.last?.slice(0, 10) ?? '?'}`;
}

export interface CoverageAssessment {
  /** Web-facing sources whose records reach from --since to the newest evidence. */
  covering: Coverage[];
  /** Why coverage is short, one sentence each (empty when at least one web source covers the window). */
  problems: string[];
  /** Newest record time in any source, the best stand-in for "when the evidence was collected". */
  end: string | null;
}

/** Does the evidence reach back to `since` and forward to its own end, in the logs that would show the attacks? */
export function assessCoverage(coverage: Coverage[], since: string): CoverageAssessment {
  const sinceMs = Date.parse(since);
  const lasts = coverage.map((c) => (c.last === null ? NaN : Date.parse(c.last))).filter((t) => !Number.isNaN(t));
  const endMs = lasts.length ? Math.max(...lasts) : NaN;
  const end = Number.isNaN(endMs) ? null : new Date(endMs).toISOString();
  const web = coverage.filter(isWebSource);
  if (coverage.length === 0) return { covering: [], problems: ['no readable logs in the evidence'], end };
  if (web.length === 0) {
    const others = coverage.map(sourceText).join(', ');
    return { covering: [], problems: [`no HttpProxy or IIS logs in the evidence (the logs that record exploit requests); only ${others}`], end };
  }
  const covering: Coverage[] = [];
  const problems: string[] = [];
  for (const c of web) {
    const first = c.first === null ? NaN : Date.parse(c.first);
    const last = c.last === null ? NaN : Date.parse(c.last);
    if (Number.isNaN(first) || Number.isNaN(last)) {
      problems.push(`${c.source}: ${c.files} file(s) but no dated records`);
    } else if (Number.isNaN(sinceMs) || first > sinceMs + START_SLACK_MS) {
      const late = Number.isNaN(sinceMs) ? '' : `, ${Math.round((first - sinceMs) / DAY_MS)} days after ${day(sinceMs)}`;
      problems.push(`${c.source} starts ${day(first)}${late}`);
    } else if (last < endMs - END_SLACK_MS) {
      problems.push(`${c.source} ends ${day(last)}, ${Math.round((endMs - last) / DAY_MS)} days before the newest evidence (${day(endMs)})`);
    } else if (c.query_unlogged) {
      problems.push(`${c.source} has no ${c.format === 'httpproxy' ? 'UrlQuery column' : 'cs-uri-query field'}, so ${QUERY_FAMILIES} requests (told by their query string) cannot be seen in it`);
    } else covering.push(c);
  }
  return { covering, problems: covering.length ? [] : problems, end };
}

/** "summary of the first (and 2 more like it) [PL-02]" lines, strongest rules first: the words first, the rule id last. */
function ruleReasons(findings: Finding[]): string[] {
  const byRule = new Map<string, Finding[]>();
  for (const f of findings) byRule.set(f.rule, [...(byRule.get(f.rule) ?? []), f]);
  const ranked = [...byRule.values()].sort((a, b) => SEVERITY_RANK[b[0].severity] - SEVERITY_RANK[a[0].severity] || b.length - a.length);
  const lines = ranked.slice(0, MAX_RULE_REASONS).map((list) => `${list[0].summary}${list.length > 1 ? ` (and ${list.length - 1} more like it)` : ''} [${list[0].rule}]`);
  if (ranked.length > MAX_RULE_REASONS) lines.push(`… and ${ranked.length - MAX_RULE_REASONS} more rules (see findings)`);
  return lines;
}

/** What the scan could not see, besides coverage: evidence not read at all, and days with no web log. */
export interface Unseen {
  skipped?: Skipped[];
  holes?: LogHole[];
  /** Hours with no health-probe line inside one web log (engine/log-gaps.ts). */
  gaps?: ProbeGap[];
  /** Whether Exchange's install folder (its front end or its logs) is in the evidence; unknown when not said. */
  installTree?: boolean;
}

/** How the window the logs must cover is decided: the exposure windows, unless --since overrides them. */
export interface WindowBasis {
  windows?: ExposureWindow[];
  /** --since was given: it, not the exposure windows, sets the window. */
  sinceExplicit?: boolean;
}

/** Exposure windows decide coverage unless --since was given or they were not computed. */
function byWindows(basis: WindowBasis): ExposureWindow[] | null {
  return basis.windows && !basis.sinceExplicit ? basis.windows : null;
}

/** Windows that decide `clean`: the server was exposed to a family whose attacks exhunt sees in logs. */
function gatingWindows(windows: ExposureWindow[]): ExposureWindow[] {
  return windows.filter((w) => w.gating && w.start !== null);
}

/** Gating windows the web logs do not cover. */
function openWindows(windows: ExposureWindow[]): ExposureWindow[] {
  return gatingWindows(windows).filter((w) => !w.covered);
}

/**
 * Where the logs fall short, one sentence each: the exposure windows they do not cover, or, when --since sets the
 * window (or no windows were computed), why no web source reaches from --since to the newest evidence.
 */
export function coverageGaps(coverage: Coverage[], since: string, basis: WindowBasis, holes: LogHole[] = [], probeGaps: ProbeGap[] = []): string[] {
  const windows = byWindows(basis);
  const gaps = windows ? openWindows(windows).map((w) => w.text) : assessCoverage(coverage, since).problems;
  // With the windows deciding, the holes inside them are in their sentences already (windowHoles).
  const inside = windows ? [] : holesInside(holes, windows, since);
  const cut = gapsInside(probeGaps, windows, since);
  return [
    ...gaps,
    ...(inside.length ? [`no HttpProxy or IIS log exists for ${holesText(inside)}, between days that have them (deleted, or the server was off?)`] : []),
    ...(cut.length ? [gapsText(cut)] : []),
  ];
}

/** The probe gaps inside the window the logs must cover (as day spans, like holes). */
function gapsInside(gaps: ProbeGap[], windows: ExposureWindow[] | null, since: string): ProbeGap[] {
  return gaps.filter((g) => holesInside([{ from: g.from.slice(0, 10), to: g.to.slice(0, 10) }], windows, since).length > 0);
}

const hoursText = (g: ProbeGap): string => `${g.from.slice(0, 16).replace('T', ' ')} → ${g.to.slice(0, 16).replace('T', ' ')} (${Math.round((Date.parse(g.to) - Date.parse(g.from)) / 360_000) / 10} h, ${shortPath(g.file)})`;

function gapsText(gaps: ProbeGap[]): string {
  return `web logs with hours missing inside them: no Exchange health-probe line for ${named(gaps.map(hoursText))}, where they otherwise come every few minutes (lines removed, or IIS or the server stopped: a CU install stops IIS for an hour or more)`;
}

function coverageCaveat(coverage: Coverage[], since: string, basis: WindowBasis, holes: LogHole[], probeGaps: ProbeGap[] = []): string[] {
  const gaps = coverageGaps(coverage, since, basis, holes, probeGaps);
  return gaps.length ? [`coverage is incomplete, so earlier or later activity may be missing: ${gaps.join('; ')}`] : [];
}

/** The holes in the days of the web logs (engine/coverage.ts logHoles) that fall in the window the logs must cover. */
function holesInside(holes: LogHole[], windows: ExposureWindow[] | null, since: string): LogHole[] {
  if (holes.length === 0) return [];
  const spans = windows ? gatingWindows(windows).map((w) => [w.start!.slice(0, 10), w.end?.slice(0, 10) ?? '9999-12-31']) : [[since.slice(0, 10), '9999-12-31']];
  return holes.filter((h) => spans.some(([from, to]) => h.to >= from && h.from <= to));
}

const holesText = (holes: LogHole[]): string => named(holes.map((h) => (h.from === h.to ? h.from : `${h.from} → ${h.to}`)));

const NO_INSTALL_TREE =
  "Exchange's install folder is not in the evidence (no FrontEnd\\HttpProxy, no Exchange logs): a web shell written to owa\\auth or ecp\\auth but never requested, and the HttpProxy, ECP and cmdlet logs, were not checked; if Exchange is on another drive, scan that drive too (%ExchangeInstallPath%)";

const WEB_LOGS = 'the HttpProxy logs (Exchange Server\\V15\\Logging\\HttpProxy) and IIS logs (inetpub\\logs\\LogFiles)';

/** The evidence or `--since` that would turn insufficient-evidence into a verdict, said as an instruction. */
function whatWouldDecide(coverage: Coverage[], since: string, end: string | null): string {
  const from = since.slice(0, 10);
  // IIS logs in IIS's own format read without --iis-tz: their requests are in the evidence, their times are not known.
  const undated = coverage.filter((c) => c.format === IIS_NATIVE_ID && c.records > 0 && c.first === null);
  if (undated.length) {
    const records = undated.reduce((n, c) => n + c.records, 0);
    return `to decide it: scan again with --iis-tz and the server's time zone (e.g. --iis-tz Europe/Berlin): ${named(undated.map((c) => c.source))} hold ${records} request(s) whose times are the server's local time, and cannot be placed without its zone`;
  }
  const dated = coverage.filter((c) => isWebSource(c) && c.first !== null && c.last !== null && !Number.isNaN(Date.parse(c.first)) && !Number.isNaN(Date.parse(c.last)));
  if (!dated.length) return `to decide it: add ${WEB_LOGS} from ${from} on (older copies: backups, SIEM, log archive) and scan again`;
  // Logs without query strings: the HttpProxy logs of the same days show what they cannot (verdict R17).
  const noQuery = dated.every((c) => c.query_unlogged);
  const proxyNoQuery = dated.some((c) => c.query_unlogged && c.format === 'httpproxy');
  const queryHint = proxyNoQuery
    ? 'the whole HttpProxy files (Exchange Server\\V15\\Logging\\HttpProxy, every column: these have no UrlQuery, an export of some columns or an older layout) or IIS logs with cs-uri-query record the query string'
    : 'the HttpProxy logs (Exchange Server\\V15\\Logging\\HttpProxy) record the query these IIS logs leave out; for the IIS logs to come, select cs-uri-query (IIS Manager > Logging > Select Fields)';
  const first = Math.min(...dated.map((c) => Date.parse(c.first as string)));
  if (first > Date.parse(since) + START_SLACK_MS) {
    return `to decide it: add ${WEB_LOGS} from ${from} to ${day(first)} (backups, SIEM, log archive), or scan again with --since ${day(first)} to judge only the period these logs cover${noQuery ? `; ${queryHint}` : ''}`;
  }
  if (noQuery) return `to decide it: add ${proxyNoQuery ? 'logs of the same period that record the query string' : 'the HttpProxy logs of the same period'} and scan again: ${queryHint}`;
  const last = Math.max(...dated.map((c) => Date.parse(c.last as string)));
  return `to decide it: add ${WEB_LOGS} from ${day(last)} to ${end?.slice(0, 10) ?? 'the day of collection'} (the newest evidence) and scan again`;
}

const MAX_NAMED = 6;

/**
 * Files the scan could not compare with a known-good list (`evidence.not_compared` says why): only content
 * signatures judged them, so a modified page that matches none would not show. Named on every verdict.
 */
function notCompared(findings: Finding[]): string[] {
  const rows = findings.filter((f) => evidenceString(f.evidence.not_compared) !== null);
  if (!rows.length) return [];
  const count = rows.reduce((n, f) => n + (f.group?.count ?? 1), 0);
  const why = [...new Set(rows.map((f) => evidenceString(f.evidence.not_compared)))].join('; ');
  const names = [...new Set(rows.map((f) => shortPath(evidenceString(f.evidence.file) ?? f.source.path)))];
  const more = count > Math.min(names.length, MAX_NAMED) ? ` and ${count - Math.min(names.length, MAX_NAMED)} more` : '';
  return [
    `not checked: ${count} Exchange web file(s) could not be compared with Microsoft's originals (${why}): ${names.slice(0, MAX_NAMED).join(', ')}${more}; ` +
      'a modified page that matches no content signature (an OWA logon credential stealer, for one) would not show: compare them with the same files on a clean server of that build',
  ];
}

/** The last three parts of a path (`owa\auth\logon.aspx`): enough to find the file, short enough to list. */
function shortPath(p: string): string {
  return p.split(/[\\/]/).slice(-3).join('\\');
}

/** Low and info findings never change a verdict; they are named so nobody misses them. */
function worthALook(findings: Finding[]): string[] {
  const minor = findings.filter((f) => f.kind !== 'exposure' && SEVERITY_RANK[f.severity] < SEVERITY_RANK.medium);
  if (!minor.length) return [];
  const rules = [...new Set(minor.map((f) => f.rule))].sort();
  return [`worth a look: ${minor.length} low or info finding(s) (${rules.join(', ')}), which do not change the verdict`];
}

/**
 * One verdict per host, with the reasons a person can check. Attack traffic (scans, attempts) counts whatever its
 * severity; an indicator without exploit context needs medium or higher to make a host `suspicious` (low and info
 * ones are listed as worth a look); exposure findings never change the verdict.
 */
export function hostVerdict(
  findings: Finding[],
  coverage: Coverage[],
  since: string,
  basis: WindowBasis = {},
  shells = confirmedShells(findings),
  unseen: Unseen = {},
): { verdict: Verdict; reasons: string[] } {
  const v = verdictOf(findings, coverage, since, basis, shells, unseen);
  return { verdict: v.verdict, reasons: [...v.reasons, ...notCompared(findings)] };
}

function verdictOf(findings: Finding[], coverage: Coverage[], since: string, basis: WindowBasis, shells: Map<string, string>, unseen: Unseen): { verdict: Verdict; reasons: string[] } {
  const graded = findings
    .map((f) => ({ f, stage: f.stage }))
    .filter((x): x is { f: Finding; stage: NonNullable<typeof x.stage> } => canChangeVerdict(x.f));
  const at = (test: (rank: number) => boolean) => graded.filter((x) => test(STAGE_RANK[x.stage])).map((x) => x.f);
  const success = at((r) => r >= STAGE_RANK.exploited);
  const tries = at((r) => r === STAGE_RANK.scanned || r === STAGE_RANK.attempted);
  const weak = at((r) => r === STAGE_RANK.none);
  const holes = unseen.holes ?? [];
  if (success.length || shells.size) {
    const shellLines = [...shells.values()].map((p) => `web shell ${serverPath(p) ?? p} is on disk and answered a request with HTTP 2xx`);
    // Days an attacker deleted are where "how far did they get" is missing.
    const inside = holesInside(holes, byWindows(basis), since);
    const unknown = inside.length ? [`no HttpProxy or IIS log exists for ${holesText(inside)}, between days that have them (deleted?): what happened on those days is unknown`] : [];
    const cut = gapsInside(unseen.gaps ?? [], byWindows(basis), since);
    if (cut.length) unknown.push(`${gapsText(cut)}: what happened then is unknown`);
    return { verdict: 'compromised', reasons: [...shellLines, ...ruleReasons(success), ...unknown] };
  }
  if (tries.length) {
    const onlyScans = tries.every((f) => f.kind === 'scan');
    const head = onlyScans
      ? `scanner probes only (${tries.length}); nothing shows they got in`
      : `exploitation attempted (${tries.length} hits) with no sign of success: no request reached the back end, no web shell, no post-exploitation`;
    const extra = weak.length ? [`also ${weak.length} suspicious finding(s) to review`] : [];
    return { verdict: 'attempted', reasons: [head, ...ruleReasons(tries), ...extra, ...coverageCaveat(coverage, since, basis, holes, unseen.gaps)] };
  }
  if (weak.length) return { verdict: 'suspicious', reasons: [...ruleReasons(weak), ...coverageCaveat(coverage, since, basis, holes, unseen.gaps)] };
  const windows = byWindows(basis);
  const judged = windows ? windowVerdict(coverage, windows, since) : sinceVerdict(coverage, since, notAssessable(basis.windows ?? [], since));
  const v = notAllRead(withGaps(withHoles(notReadInFull(judged, coverage), holesInside(holes, windows, since)), gapsInside(unseen.gaps ?? [], windows, since)), unseen.skipped ?? []);
  // Exchange installed on another drive than the one scanned, or logs sent without it: said, not silently clean.
  const noTree = v.verdict === 'clean' && unseen.installTree === false ? [NO_INSTALL_TREE] : [];
  return { verdict: v.verdict, reasons: [...v.reasons, ...noTree, ...worthALook(findings)] };
}

/** Where web logs live, by path alone: HttpProxy and IIS W3SVC folders, u_ex files; for folders, their parents too. */
const WEB_LOG_FILE = /(?:^|\/)(?:httpproxy|w3svc\d*)\/|(?:^|\/)u_ex[^/]*\.log$/i;
const WEB_LOG_FOLDER = /(?:^|\/)(?:httpproxy|w3svc\d*)(?:\/|$)|(?:^|\/)(?:v15|logging|inetpub|logs|logfiles)$|^\.?$/i;
/** A server's own folders, where AV and backup agents keep archives of their own (with or without the drive letter). */
const SERVER_TREE = /(?:^|\/)(?:program files(?: \(x86\))?|programdata|windows|users|\$recycle\.bin)\//i;

/**
 * Unread evidence that could hold the attack: a disk image, an archive that is not one of a server's own files (the
 * zip or 7z the evidence came in, wherever the case folder keeps it), a web log or a folder where web logs live.
 */
function blinds(s: Skipped): boolean {
  if (s.unread === 'image') return true;
  if (s.unread === 'archive' && !SERVER_TREE.test(s.path)) return true;
  return (s.unread === 'folder' ? WEB_LOG_FOLDER : WEB_LOG_FILE).test(s.path);
}

/** A verdict and its reasons, as the steps below pass them on. */
type Judged = { verdict: Verdict; reasons: string[] };

/** `clean` given up for `insufficient-evidence`: `head` says why, in place of the reason that made it clean. */
function notClean(v: Judged, head: string, rest: string[] = []): Judged {
  return { verdict: 'insufficient-evidence', reasons: [head, ...v.reasons.slice(1), ...rest] };
}

const named = (paths: string[]): string => paths.slice(0, MAX_SHORT).join(', ') + (paths.length > MAX_SHORT ? ` and ${paths.length - MAX_SHORT} more` : '');

/**
 * Evidence that was not read at all and could hold the attack (`blinds`) cannot support `clean`. Other unread items
 * (on a live server, files other processes hold locked) leave `clean` standing and are named with it.
 */
function notAllRead(v: Judged, skipped: Skipped[]): Judged {
  if (v.verdict !== 'clean') return v;
  // Two scanners may each list the same file (the sweep and a log scanner): named once.
  const blind = new Set<string>();
  const others = new Set<string>();
  for (const s of skipped) if (s.unread !== undefined) (blinds(s) ? blind : others).add(s.path);
  if (blind.size === 0 && others.size === 0) return v;
  const rest = others.size ? [`${others.size} other file(s) or folder(s) could not be read (see skipped): ${named([...others])}`] : [];
  if (blind.size === 0) return { verdict: 'clean', reasons: [...v.reasons, ...rest] };
  return notClean(v, `no sign of an attack in what was read, but ${blind.size} image(s), archive(s) or web log(s) were not read at all (see skipped for why and how to read them): ${named([...blind])}`, rest);
}

/**
 * Days with no web log between days that have them (engine/coverage.ts logHoles) cannot support `clean` when they
 * fall in the window the logs must cover: the attack days are the ones an attacker deletes.
 */
function withHoles(v: Judged, inside: LogHole[]): Judged {
  if (v.verdict !== 'clean' || inside.length === 0) return v;
  return notClean(v, `no sign of an attack, but no HttpProxy or IIS log exists for ${holesText(inside)}, between days that have them (deleted, or the server was off?); find those days' logs (backups, SIEM, a load balancer's logs) and scan again`);
}

/** Hours missing inside a web log (log-gaps.ts) cannot support `clean` either: lines removed over a time range. */
function withGaps(v: Judged, gaps: ProbeGap[]): Judged {
  if (v.verdict !== 'clean' || gaps.length === 0) return v;
  return notClean(v, `no sign of an attack, but ${gapsText(gaps)}; find those hours' lines (the HttpProxy logs, a backup, SIEM, a load balancer's logs) and scan again`);
}

/**
 * A web log stopped by the per-file time limit was not read to its end: what it holds after that point is unknown,
 * so it cannot support `clean`. Named so the user can rescan it with a larger --file-time-limit.
 */
function notReadInFull(v: Judged, coverage: Coverage[]): Judged {
  if (v.verdict !== 'clean') return v;
  const partial = coverage.filter(isWebSource).flatMap((c) => c.partial ?? []);
  if (partial.length === 0) return v;
  return notClean(v, `no sign of an attack, but ${partial.length} web log file(s) were not read to the end (per-file time limit, or data that ends early: see skipped): ${named(partial)}; for the time limit, scan again with a larger --file-time-limit (0 = none)`);
}

/** Nothing found: clean when the web logs cover every window in which the server was exposed. */
function windowVerdict(coverage: Coverage[], windows: ExposureWindow[], since: string): { verdict: Verdict; reasons: string[] } {
  const web = coverage.filter((c) => isWebSource(c) && c.first !== null && c.last !== null);
  // Exposed families exhunt cannot see in logs are named on every verdict, never silently left out.
  const info = windows.filter((w) => !w.gating && w.start !== null).map((w) => w.text);
  if (web.length === 0) {
    const from = gatingWindows(windows).map((w) => w.start!).sort()[0] ?? since;
    const why = coverage.length === 0 ? 'no readable logs in the evidence' : `no dated HttpProxy or IIS records in the evidence (the logs that record exploit requests); only ${coverage.map(sourceText).join(', ')}`;
    return { verdict: 'insufficient-evidence', reasons: [...insufficient([why]).reasons, whatWouldDecide(coverage, from, null), ...info] };
  }
  const gating = gatingWindows(windows);
  const open = openWindows(windows);
  if (open.length) {
    const reasons = [`no sign of an attack, but the logs do not cover every window in which the server was exposed: ${open.map((w) => w.text).join('; ')}`];
    const from = Math.min(...open.map((w) => Date.parse(w.start!)));
    return { verdict: 'insufficient-evidence', reasons: [...reasons, whatWouldDecide(coverage, new Date(from).toISOString(), open.map((w) => w.end!).sort().at(-1) ?? null), ...info] };
  }
  const span = (c: Coverage) => Date.parse(c.last!) - Date.parse(c.first!);
  const spans = [...web].sort((a, b) => span(b) - span(a)).map(spanText);
  const more = spans.length > MAX_SHORT ? ` and ${spans.length - MAX_SHORT} more` : '';
  const names = windows.filter((w) => w.gating).map((w) => w.name).join(', ');
  const head = gating.length
    ? `no sign of an attack, and the logs cover every window in which the server was exposed to ${names}; logs: ${spans.slice(0, MAX_SHORT).join(', ')}${more}`
    : `no sign of an attack, and the evidence shows no window in which the server was exposed to ${names}; logs: ${spans.slice(0, MAX_SHORT).join(', ')}${more}`;
  const per = windows.filter((w) => w.gating).map((w) => (w.start === null ? `${w.name}: ${w.text}` : w.text));
  return { verdict: 'clean', reasons: [head, ...per, ...info] };
}

function insufficient(problems: string[]): { verdict: Verdict; reasons: string[] } {
  return { verdict: 'insufficient-evidence', reasons: [`no sign of an attack, but that proves little: ${problems.join('; ')}`] };
}

/** Exposure windows of families exhunt cannot see in logs that reach into the --since window: named, as without it. */
function notAssessable(windows: ExposureWindow[], since: string): string[] {
  return windows.filter((w) => !w.gating && w.start !== null && (w.end === null || w.end >= since)).map((w) => w.text);
}

/** Nothing found, window set by --since: clean when a web source reaches from --since to the newest evidence. */
function sinceVerdict(coverage: Coverage[], since: string, info: string[]): { verdict: Verdict; reasons: string[] } {
  const cov = assessCoverage(coverage, since);
  if (cov.covering.length === 0) return { verdict: 'insufficient-evidence', reasons: [...insufficient(cov.problems).reasons, whatWouldDecide(coverage, since, cov.end), ...info] };
  const to = cov.end ? ` to the newest evidence (${cov.end.slice(0, 10)})` : '';
  const reasons = [`no sign of an attack; ${cov.covering.map(spanText).join(', ')} cover the window from ${since.slice(0, 10)}${to}`];
  const short = coverage.filter((c) => isWebSource(c) && !cov.covering.includes(c));
  if (short.length) {
    const more = short.length > MAX_SHORT ? ` and ${short.length - MAX_SHORT} more` : '';
    reasons.push(`shorter sources: ${short.slice(0, MAX_SHORT).map(spanText).join(', ')}${more}`);
  }
  return { verdict: 'clean', reasons: [...reasons, ...info] };
}
