// Host rules: run once per host over all its findings and facts, after every file is scanned. They add findings
// that only the whole host can show (EXP-01), enrich findings with what other evidence holds (PL-30: is the written
// file in the evidence?), and fold repeats (IOC matches). No file access: the engine passes what they need.
import type { Fact, RawFinding } from '../model.js';
import type { RuleMeta } from './types.js';
import { EXPOSURE_RULE_META, exposureFindings } from './exposure.js';
import { CONFIG_RULES, configExposureFindings } from './config-exposure.js';
import { ADMIN_CHAIN, SSRF_FAMILY } from './chain.js';
import { BASELINE_BUILD } from './files/baseline-build.js';

export interface HostContext {
  facts: readonly Fact[];
  /** Start of the exposure window, ISO 8601. */
  since: string;
  /** The evidence path (relative, `/`-separated) of the file a Windows path names, or null when it is not there. */
  locate(winPath: string): string | null;
  /** Every evidence file's path (the server's path when the collection records it, else the evidence path). */
  paths: readonly string[];
}

export interface HostRule {
  /**
   * The rules whose findings this host rule makes, with the grades those findings take (the catalogue lists them);
   * enrichment and folding make none, and re-grading moves a finding only to a grade its own rule declares.
   */
  emits: readonly RuleMeta[];
  /** One sentence: what it does to the host's findings. */
  does: string;
  apply(findings: readonly RawFinding[], ctx: HostContext): RawFinding[];
}

/** PL-30 names a file the OAB generator wrote: say whether that file is in the evidence. */
const OAB_FILE_IN_EVIDENCE: HostRule = {
  emits: [],
  does: 'Adds file_in_evidence to each PL-30 finding: the evidence path of the written file, or null.',
  apply(findings, ctx) {
    return findings.map((f) => {
      if (f.rule !== 'PL-30' || typeof f.evidence.file !== 'string') return f;
      const hit = ctx.locate(f.evidence.file);
      return {
        ...f,
        summary: f.summary + (hit ? `; the file is in the evidence at ${hit}` : '; the file is not in the evidence'),
        evidence: { ...f.evidence, file_in_evidence: hit },
      };
    });
  },
};

/** EXP-01: the exposure of the builds the host ran during the window (src/rules/exposure.ts). */
const BUILD_EXPOSURE: HostRule = {
  emits: [EXPOSURE_RULE_META],
  does: 'Adds one exposure finding from the build facts (log headers, ExSetup.exe, a collector manifest).',
  apply: (findings, ctx) => [...findings, ...exposureFindings(ctx.facts, ctx.since)],
};

/** EXP-EP … EXP-IISMOD: configuration controls on / off / unknown (src/rules/config-exposure.ts). */
const CONFIG_EXPOSURE: HostRule = {
  emits: CONFIG_RULES,
  does: 'Adds one exposure finding per configuration control the evidence shows (applicationHost.config, collected cmdlet output, registry exports).',
  apply: (findings, ctx) => [...findings, ...configExposureFindings(ctx.facts)],
};

const MAX_LINES = 20;

function iocKey(f: RawFinding): string | null {
  if (f.kind !== 'ioc') return null;
  const what = f.evidence.ip ?? f.evidence.user_agent ?? f.client_ip ?? f.summary;
  return `${f.rule}\u0000${String(what)}\u0000${f.source.path}`;
}

/**
 * Indicator matches (`kind: ioc`) are context, not proof: one finding per indicator and file, with a count,
 * instead of one per request line (an attacker IP can make thousands of requests).
 */
const IOC_COLLAPSE: HostRule = {
  emits: [],
  does: 'Folds the IOC matches of one indicator in one file into one finding with a count and the first line numbers.',
  apply(findings) {
    const groups = new Map<string, RawFinding[]>();
    const out: RawFinding[] = [];
    for (const f of findings) {
      const k = iocKey(f);
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
  },
};

/** In order: enrichment first, then findings of the whole host, then folding. */
export const HOST_RULES: readonly HostRule[] = [OAB_FILE_IN_EVIDENCE, BASELINE_BUILD, BUILD_EXPOSURE, CONFIG_EXPOSURE, SSRF_FAMILY, ADMIN_CHAIN, IOC_COLLAPSE];

export function applyHostRules(rules: readonly HostRule[], findings: readonly RawFinding[], ctx: HostContext): { findings: RawFinding[]; failed: string[] } {
  const failed: string[] = [];
  let list = [...findings];
  for (const rule of rules) {
    // A rule's own error (a bug) costs this host that rule's findings, named in `failed`: never the host's other
    // results, nor the other hosts of the run.
    try {
      list = rule.apply(list, ctx);
    } catch (err) {
      failed.push(`host rule for ${rule.emits.map((r) => r.id).join(', ') || 'enrichment'} failed (${err instanceof Error ? err.message : String(err)}): its findings are missing for this host`);
    }
  }
  return { findings: list, failed };
}
