// Test-only driver: runs a TextLogFormat and record rules over a file the way the engine does (directives,
// needle prefilter on the raw line, then match), so tests also catch a rule whose needles miss its own lines.
import { readFileSync } from 'node:fs';
import type { LogRecord } from '../../src/model.js';
import type { RawFinding } from '../../src/engine/types.js';
import type { TextLogFormat } from '../../src/parsers/types.js';
import type { RecordRule } from '../../src/rules/types.js';
import { hitToFinding } from '../../src/rules/finding.js';
import { builtinIocs, type IocStore } from '../../src/rules/iocs.js';

export interface DriveResult {
  records: LogRecord[];
  findings: RawFinding[];
  facts: Array<{ kind: string; value: string; origin: string; line: number }>;
}

/** `iocs`: the IOC store the rules read (and whose values some rules add to their needles, as the rule set does). */
export function driveText(format: TextLogFormat, text: string, rel: string, rules: readonly RecordRule[], iocs: IocStore = builtinIocs()): DriveResult {
  const ctx = { iocs };
  const needles = new Map(rules.map((r) => [r, [...r.needles, ...(r.iocNeedles?.(iocs) ?? [])].map((n) => n.toLowerCase())]));
  const parser = format.createParser(rel);
  const records: LogRecord[] = [];
  const findings: RawFinding[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    if (line.startsWith('#')) return parser.directive(line, lineNo);
    const rec = parser.parse(line, lineNo);
    if (!rec) return;
    records.push(rec);
    const low = line.toLowerCase();
    for (const rule of rules) {
      if (!rule.formats.includes(rec.format)) continue;
      const wanted = needles.get(rule) ?? [];
      if (wanted.length > 0 && !wanted.some((n) => low.includes(n))) continue;
      const res = rule.match(rec, ctx);
      if (!res) continue;
      for (const hit of Array.isArray(res) ? res : [res]) findings.push(hitToFinding(rule, hit, rec));
    }
  });
  return { records, findings, facts: parser.facts?.() ?? [] };
}

export function driveFile(format: TextLogFormat, path: string, rel: string, rules: readonly RecordRule[]): DriveResult {
  return driveText(format, readFileSync(path, 'utf8'), rel, rules);
}

export function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const it of items) out[key(it)] = (out[key(it)] ?? 0) + 1;
  return out;
}
