// The fleet table: one line per host, worst first, for a terminal.
import type { ScanReport, Verdict } from '../model.js';
import { safeText } from './terminal.js';
import { VERDICT_ORDER, coverageSpan, hostDigest, shortDay, shortTime, verdictCounts, type HostDigest } from './summary.js';

const COLORS: Record<Verdict, string> = {
  compromised: '\x1b[1;31m',
  attempted: '\x1b[33m',
  suspicious: '\x1b[35m',
  'insufficient-evidence': '\x1b[36m',
  clean: '\x1b[32m',
};
const RESET = '\x1b[0m';


const HEADER = ['HOST', 'VERDICT', 'STAGE', 'CRIT', 'HIGH', 'MED', 'LOW', 'FIRST ATTACK', 'LAST ATTACK', 'LOGS COVER'];
const NUMERIC = new Set([3, 4, 5, 6]);

function row(host: HostDigest): string[] {
  const { counts, attack } = host;
  const span = coverageSpan(host.coverage);
  const coverText = span.first === null ? 'no logs' : `${shortDay(span.first)} → ${shortDay(span.last)}`;
  return [
    safeText(host.label ?? host.name),
    host.verdict,
    host.stage,
    String(counts.critical),
    String(counts.high),
    String(counts.medium),
    String(counts.low),
    shortTime(attack.first),
    shortTime(attack.last),
    coverText,
  ];
}

/** One line per host (worst verdict first, then by name) and a totals line. */
export function fleetTable(report: ScanReport, opts: { color: boolean }): string {
  return fleetTableOf(report.hosts.map(hostDigest), opts);
}

/** The fleet table from the hosts' digests (a streamed scan keeps only those). */
export function fleetTableOf(digests: readonly HostDigest[], opts: { color: boolean }): string {
  const hosts = [...digests].sort((a, b) => VERDICT_ORDER[a.verdict] - VERDICT_ORDER[b.verdict] || (a.label ?? a.name).localeCompare(b.label ?? b.name));
  const rows = hosts.map(row);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (cells: string[], verdict?: Verdict) =>
    cells
      .map((c, i) => {
        const padded = NUMERIC.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]);
        return opts.color && verdict && i === 1 ? `${COLORS[verdict]}${padded}${RESET}` : padded;
      })
      .join('  ')
      .trimEnd();
  const lines = [fmt(HEADER), ...rows.map((r, i) => fmt(r, hosts[i].verdict))];
  lines.push(`${digests.length} host${digests.length === 1 ? '' : 's'}: ${verdictCounts(digests) || 'none'}`);
  return `${lines.join('\n')}\n`;
}
