// The short human summary printed after a scan: verdict, counts by CVE, coverage, what was skipped.
import type { HostResult, ScanReport, Severity, Verdict } from '../model.js';
import { SEVERITIES } from '../model.js';
import { attackSpan } from './summary.js';

export interface Style {
  color: boolean;
}

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

function countBy<T>(items: T[], key: (t: T) => string[]): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const it of items) for (const k of key(it)) m.set(k, (m.get(k) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

function hostSummary(h: HostResult, style: Style): string {
  const out: string[] = [];
  const verdict = paint(style, VERDICT_COLOR[h.verdict], h.verdict.toUpperCase());
  out.push(`${paint(style, 'bold', safeText(h.name))}  ${verdict}`);
  for (const r of h.reasons) out.push(`  - ${safeText(r)}`);
  if (h.findings.length) {
    const sev = SEVERITIES.map((s: Severity) => [s, h.findings.filter((f) => f.severity === s).length] as const).filter(([, n]) => n > 0);
    out.push(`  findings: ${h.findings.length} (${sev.map(([s, n]) => `${s} ${n}`).join(', ')})`);
    const cves = countBy(h.findings, (f) => (f.cves.length ? f.cves : ['no CVE']));
    out.push(`  by CVE: ${cves.map(([c, n]) => `${c} ${n}`).join(', ')}`);
    const span = attackSpan(h);
    if (span.first) out.push(`  attack activity: ${day(span.first)} -> ${day(span.last)} UTC`);
  } else out.push('  findings: none');
  if (h.coverage.length) {
    out.push('  coverage:');
    for (const c of h.coverage) out.push(`    ${safeText(c.source).padEnd(24)} ${day(c.first)} -> ${day(c.last)}  (${c.files} file${c.files === 1 ? '' : 's'}, ${c.records} records)`);
  } else out.push('  coverage: no readable logs');
  const builds = h.facts.filter((f) => f.kind === 'build');
  if (builds.length) out.push(`  build: ${[...new Set(builds.map((b) => b.value))].slice(0, 3).map(safeText).join(', ')}`);
  out.push(`  files: ${h.stats.files_seen} seen, ${h.stats.files_scanned} read, ${h.stats.files_ignored} ignored as unrelated`);
  if (h.skipped.length) {
    out.push(paint(style, 'yellow', `  skipped or partly read: ${h.skipped.length}`));
    for (const s of h.skipped.slice(0, 5)) out.push(`    ${safeText(s.path)}${s.line ? `:${s.line}` : ''}${s.offset !== undefined ? ` @${s.offset}` : ''}: ${safeText(s.reason)}`);
    if (h.skipped.length > 5) out.push(`    ... ${h.skipped.length - 5} more in the JSON report`);
  }
  return out.join('\n');
}

export function renderTerminal(report: ScanReport, style: Style): string {
  return `${report.hosts.map((h) => hostSummary(h, style)).join('\n\n')}\n`;
}
