// The short human summary printed after a scan: verdict, counts by CVE, coverage, what was skipped.
import type { Finding, HostResult, Verdict } from '../model.js';
import { SEVERITIES, findingWeight } from '../model.js';
import { windowRows, type WindowState } from './exposure-view.js';
import { nextSteps } from './next-steps.js';
import { VERDICT_TEXT, attackSpan, buildAssessment, hostTitle, severityCounts } from './summary.js';

export interface Style {
  color: boolean;
  /** Where the HTML report was written (pointed to after the steps); absent: say how to get one. */
  htmlPath?: string;
}

/** The terminal shows the first steps only; the HTML report has them all with their reasons. */
const TERMINAL_STEPS = 5;
const TERMINAL_ITEMS = 4;

const CODES = { red: 31, green: 32, yellow: 33, magenta: 35, cyan: 36, dim: 2, bold: 1 } as const;

function paint(style: Style, code: keyof typeof CODES, s: string): string {
  return style.color ? `\x1b[${CODES[code]}m${s}\x1b[0m` : s;
}

/**
 * Evidence is attacker-controlled: control characters (terminal escapes) are shown escaped, never sent to the
 * terminal, and direction overrides (which can make a name read as another) become `?`.
 */
export function safeText(s: string): string {
  return s
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '?');
}

const VERDICT_COLOR: Record<Verdict, keyof typeof CODES> = {
  compromised: 'red',
  attempted: 'yellow',
  suspicious: 'magenta',
  clean: 'green',
  'insufficient-evidence': 'cyan',
};

function day(t: string | null): string {
  return t ? t.slice(0, 16).replace('T', ' ') : '?';
}

function countBy<T>(items: T[], key: (t: T) => string[], weight: (t: T) => number = () => 1): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const it of items) for (const k of key(it)) m.set(k, (m.get(k) ?? 0) + weight(it));
  return [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

function evidenceText(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/** The build in one spelling (the assessment's), with what it is and the evidence that showed it. */
function buildLine(h: HostResult, exposure: Finding | undefined): string {
  const ev = exposure?.evidence ?? {};
  const build = evidenceText(ev.current_build) ?? evidenceText(ev.build);
  if (build === null) {
    const raw = h.facts.filter((f) => f.kind === 'build');
    return raw.length ? `  build: not recognised (${safeText(raw[0].value)} from ${safeText(raw[0].origin)})` : '  build: not found in the evidence';
  }
  const what = [ev.product, ev.cu, ev.su].map(evidenceText).filter((x) => x !== null).join(' ');
  const origin = evidenceText(ev.origin);
  return `  build: ${safeText(build)}${what ? ` (${safeText(what)})` : ''}${origin ? `, read from ${safeText(origin)}` : ''}`;
}

/** The exposure finding in words: what the build was open to, and the update that closes it. */
function exposureLine(exposure: Finding | undefined, style: Style): string[] {
  if (!exposure || exposure.severity === 'info') return [];
  const install = evidenceText(exposure.evidence.install);
  const kev = exposure.evidence.kev_open;
  const kevLine = Array.isArray(kev) && kev.length ? [`    exploited in the wild (CISA KEV), open on the current build: ${safeText(kev.join(', '))}`] : [];
  return [`  ${paint(style, 'yellow', `exposure (${exposure.severity})`)}: ${safeText(exposure.title)} [${safeText(exposure.rule)}]`, ...kevLine, ...(install ? [`    update: ${safeText(install)}`] : [])];
}

function stepLines(h: HostResult, since: string, style: Style): string[] {
  const steps = nextSteps(h, since).slice(0, TERMINAL_STEPS);
  const out = [paint(style, 'bold', '  What to do now:')];
  steps.forEach((s, i) => {
    out.push(`   ${i + 1}. ${safeText(s.title)}`);
    for (const c of s.commands ?? []) out.push(`        ${paint(style, 'cyan', safeText(c))}`);
    for (const it of s.items.slice(0, TERMINAL_ITEMS)) out.push(`        ${safeText(it)}`);
    if (s.items.length > TERMINAL_ITEMS) out.push(`        … ${s.items.length - TERMINAL_ITEMS} more in the HTML report`);
  });
  return out;
}

const STATE_COLOR: Record<WindowState, keyof typeof CODES> = { gap: 'red', covered: 'green', 'not assessable': 'yellow', 'not exposed': 'dim' };

/** One line per exploited family: state, the exposed span and the logs that cover it, the gap; the why below. */
function windowLines(h: HostResult, style: Style): string[] {
  const rows = windowRows(h);
  if (!rows.length) return [];
  const out = ['  exposure windows:'];
  for (const r of rows) {
    const state = paint(style, STATE_COLOR[r.state], (r.state === 'gap' ? 'GAP' : r.state).padEnd(14));
    if (!r.exposed) {
      out.push(`    ${state} ${safeText(r.name)}: ${safeText(r.why)}`);
      continue;
    }
    out.push(`    ${state} ${safeText(r.name)}: exposed ${r.exposed}${r.logs ? `, logs cover ${safeText(r.logs)}` : ''}${r.gap ? `; ${r.gap}` : ''}`);
    out.push(`                   ${paint(style, 'dim', `why: ${safeText(r.why)}`)}`);
  }
  return out;
}

function hostSummary(h: HostResult, since: string, style: Style): string {
  const out: string[] = [];
  const verdict = paint(style, VERDICT_COLOR[h.verdict], h.verdict.toUpperCase());
  out.push(`${paint(style, 'bold', safeText(hostTitle(h)))}  ${verdict}  ${VERDICT_TEXT[h.verdict].meaning}`);
  for (const r of h.reasons) out.push(`  - ${safeText(r)}`);
  out.push(...stepLines(h, since, style));
  out.push(style.htmlPath ? `  Timeline, incidents and every finding: ${safeText(style.htmlPath)}` : '  Timeline, incidents and every finding: scan again with --html report.html');
  out.push('');
  const exposure = buildAssessment(h);
  out.push(buildLine(h, exposure), ...exposureLine(exposure, style));
  if (h.findings.length) {
    const counts = severityCounts(h);
    const sev = SEVERITIES.filter((s) => counts[s] > 0);
    const groups = h.findings.filter((f) => f.group);
    const grouped = groups.length ? `; ${groups.length} kind${groups.length === 1 ? '' : 's'} grouped into counted rows` : '';
    out.push(`  findings: ${SEVERITIES.reduce((n, s) => n + counts[s], 0)} (${sev.map((s) => `${s} ${counts[s]}`).join(', ')})${grouped}`);
    const cves = countBy(h.findings, (f) => (f.cves.length ? f.cves : ['no CVE']), findingWeight);
    out.push(`  by CVE: ${cves.map(([c, n]) => `${c} ${n}`).join(', ')}`);
    const span = attackSpan(h);
    if (span.first) out.push(`  attack activity: ${day(span.first)} -> ${day(span.last)} UTC`);
  } else out.push('  findings: none');
  if (h.coverage.length) {
    out.push('  coverage:');
    for (const c of h.coverage) out.push(`    ${safeText(c.source).padEnd(24)} ${day(c.first)} -> ${day(c.last)}  (${c.files} file${c.files === 1 ? '' : 's'}, ${c.records} records)${c.not_exchange ? '  another website: no Exchange coverage' : ''}`);
  } else out.push('  coverage: no readable logs');
  out.push(...windowLines(h, style));
  const byDate = h.stats.files_skipped_by_date ?? 0;
  if (byDate > 0) out.push(`    ${'skipped by date'.padEnd(24)} ${byDate} log file${byDate === 1 ? '' : 's'} outside --since/--until, not read (listed under skipped)`);
  out.push(`  files: ${h.stats.files_seen} seen, ${h.stats.files_scanned} read, ${h.stats.files_ignored} ignored as unrelated`);
  if (h.skipped.length) {
    out.push(paint(style, 'yellow', `  skipped or partly read: ${h.skipped.length}`));
    for (const s of h.skipped.slice(0, 5)) out.push(`    ${safeText(s.path)}${s.line ? `:${s.line}` : ''}${s.offset !== undefined ? ` @${s.offset}` : ''}: ${safeText(s.reason)}`);
    if (h.skipped.length > 5) out.push(`    ... ${h.skipped.length - 5} more in the JSON report`);
  }
  return out.join('\n');
}

export function renderTerminal(report: { hosts: readonly HostResult[]; tool: { options: { since: string } } }, style: Style): string {
  return `${report.hosts.map((h) => hostSummary(h, report.tool.options.since, style)).join('\n\n')}\n`;
}
