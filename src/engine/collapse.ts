// Indicator matches (`kind: ioc`) are context, not proof: one finding per indicator and file, with a count,
// instead of one per request line (an attacker IP can make thousands of requests).
import type { RawFinding } from './types.js';

const MAX_LINES = 20;

function key(f: RawFinding): string | null {
  if (f.kind !== 'ioc') return null;
  const what = f.evidence.ip ?? f.evidence.user_agent ?? f.client_ip ?? f.summary;
  return `${f.rule}\u0000${String(what)}\u0000${f.source.path}`;
}

export function collapseIocRepeats(findings: RawFinding[]): RawFinding[] {
  const groups = new Map<string, RawFinding[]>();
  const out: RawFinding[] = [];
  for (const f of findings) {
    const k = key(f);
    if (k === null) {
      out.push(f);
      continue;
    }
    const g = groups.get(k);
    if (g) g.push(f);
    else groups.set(k, [f]);
  }
  for (const g of groups.values()) {
    if (g.length === 1) {
      out.push(g[0]);
      continue;
    }
    g.sort((a, b) => (a.time ?? '~').localeCompare(b.time ?? '~') || (a.source.line ?? 0) - (b.source.line ?? 0));
    const first = g[0];
    const last = g[g.length - 1];
    const lines = g.map((f) => f.source.line).filter((l): l is number => l !== undefined);
    out.push({
      ...first,
      summary: `${first.summary} (${g.length} matching lines in this file, last ${last.time ?? 'undated'})`,
      evidence: { ...first.evidence, count: g.length, last_time: last.time, lines: lines.slice(0, MAX_LINES) },
    });
  }
  return out;
}
