// Output formats for check results. Every server-supplied string is treated as hostile.
import { FAMILIES, FAMILY_IDS } from '../builds/table.js';
import { csvCell as quotedCell } from '../report/csv-cell.js';
import { header } from './http.js';
import type { CheckResult } from './check.js';

export const FORMATS = ['text', 'json', 'csv', 'ndjson'] as const;
export type Format = (typeof FORMATS)[number];

/** Control characters (terminal escapes) replaced so a server cannot rewrite the operator's screen. */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

export function textLine(r: CheckResult): string {
  const build = r.build ? ` build ${r.build}${r.build_source === 'owa-auth-path' ? ' (CU only: fingerprint gives no SU level)' : ''} ${r.product ?? ''} ${r.cu ?? ''}`.trimEnd() : '';
  const fe = r.fe_server ? ` FE ${r.fe_server}` : '';
  // The state is the ProxyLogon probe's answer: a reader of the line must not take `patched` for a safe build.
  const open = FAMILY_IDS.filter((id) => r.families?.[id] === 'vulnerable').map((id) => FAMILIES[id].name);
  const families = open.length ? ` — BUILD VULNERABLE to ${open.join(', ')}` : '';
  return printable(`${r.state.padEnd(12)} ${r.url || r.target}${build}${fe}${families} — ${r.reason}${kevText(r)}`);
}

/** The build is exposed: a family or a KEV CVE the fingerprinted build is vulnerable to. */
export function buildExposed(r: CheckResult): boolean {
  return FAMILY_IDS.some((id) => r.families?.[id] === 'vulnerable') || (r.kev ?? []).some((k) => k.state === 'vulnerable');
}

/** "; KEV exposed: CVE-… ; KEV unknown (CU only): CVE-…" from the fingerprinted build. */
function kevText(r: CheckResult): string {
  if (!r.kev || r.kev.length === 0) return '';
  const vuln = r.kev.filter((k) => k.state === 'vulnerable').map((k) => k.cve);
  const unknown = r.kev.filter((k) => k.state === 'unknown').map((k) => k.cve);
  return `${vuln.length ? `; KEV exposed: ${vuln.join(', ')}` : ''}${unknown.length ? `; KEV undecided${r.precision === 'cu' ? ' (CU only)' : ''}: ${unknown.join(', ')}` : ''}`;
}

export const CSV_COLUMNS = ['index', 'target', 'url', 'state', 'reason', 'build', 'build_source', 'product', 'cu', ...FAMILY_IDS, 'fe_server', 'probe_status', 'x_calculatedbetarget', 'seconds', 'kev_exposed'] as const;

export function csvHeader(): string {
  return CSV_COLUMNS.join(',');
}

export function csvRow(r: CheckResult, index: number): string {
  const probe = r.exchanges.find((x) => x.name === 'probe');
  const values: Array<string | number | null> = [
    index,
    r.target,
    r.url,
    r.state,
    r.reason,
    r.build,
    r.build_source,
    r.product,
    r.cu,
    ...FAMILY_IDS.map((id) => r.families?.[id] ?? null),
    r.fe_server,
    probe?.response?.status ?? null,
    probe?.response ? header(probe.response.headers, 'x-calculatedbetarget') : null,
    r.seconds,
    r.kev ? r.kev.filter((k) => k.state === 'vulnerable').map((k) => k.cve).join(' ') : null,
  ];
  return values.map(csvCell).join(',');
}

// Strings quoted, formula-defused (the report's rule) and then made printable; numbers and nulls bare.
function csvCell(v: string | number | null): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  return printable(quotedCell(v));
}
