// The scanners the engine runs, in order, for one rule set. Formats and rules come from src/rules/ruleset.ts.
import { readFileSync } from 'node:fs';
import { IocFileError, builtinIocs, parseIocFiles, type IocStore } from '../rules/iocs.js';
import { buildRuleSet, type RuleSet } from '../rules/ruleset.js';
import { readRuleFiles } from '../evidence/rule-files.js';
import { fileSweepScanner } from './scanners/files.js';
import { evtxScanner } from './scanners/evtx.js';
import { evtxCsvScanner } from './scanners/evtx-csv.js';
import { iisConfigScanner } from './scanners/iis-config.js';
import { exchangeConfigScanner } from './scanners/exchange-config.js';
import { textLogScanner, type PlanShare } from './scanners/textlog.js';
import { ReadBuffers } from '../evidence/file.js';
import type { ScanOptions, Scanner } from './types.js';

/**
 * A rule set and the scanners built for it: made once per scan, and once in each worker from the same options (so
 * once per thread).
 */
export interface Prepared {
  rules: RuleSet;
  scanners: Scanner[];
  /** Notes about --ioc values and --rules files that could not be used. */
  notes: string[];
  /** This thread's read buffers, lent from file to file (evidence/file.ts). */
  buffers: ReadBuffers;
  /** Closes what the scanners keep open (the text scanner's plan channel), at the end of the scan. */
  close(): void;
}

export function scannersFor(rules: RuleSet, plans?: PlanShare): Scanner[] {
  return [textLogScanner(rules.formats, rules.recordRules, rules.context, plans), evtxScanner, evtxCsvScanner, fileSweepScanner(), iisConfigScanner, exchangeConfigScanner];
}

/**
 * The shipped IOC lists plus the user's --ioc files (CSV or STIX 2.1), read here so the rules stay free of I/O.
 * Throws IocFileError naming a file that cannot be read or parsed.
 */
export function loadIocs(files: readonly string[], base: IocStore = builtinIocs()): { iocs: IocStore; notes: string[] } {
  const texts = files.map((name) => {
    try {
      return { name, text: readFileSync(name, 'utf8') };
    } catch (e) {
      throw new IocFileError(`${name}: cannot read IOC file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  });
  return parseIocFiles(texts, base);
}

/**
 * Loads what the options name (IOC files, Sigma rule files) and builds the rule set; throws IocFileError or
 * RuleFileError for a file that cannot be used at all (a Sigma rule it cannot read is a note).
 */
/** `plans`: the thread's plan channel when opened before (a worker's); else the text scanner opens one. */
export async function prepare(options: ScanOptions, plans?: PlanShare): Promise<Prepared> {
  const { iocs, notes } = loadIocs(options.iocFiles);
  const files = await readRuleFiles(options.ruleFiles ?? []);
  // The Sigma bridge brings the YAML parser: loaded only for --rules files (every worker builds its rule set too).
  const sigma = files.length ? (await import('../rules/sigma.js')).sigmaRules(files) : { rules: [], problems: [] };
  const rules = buildRuleSet({ iocs, yara: options.yaraRules, ruleFiles: sigma.rules });
  const scanners = scannersFor(rules, plans);
  return { rules, scanners, notes: [...notes, ...sigma.problems], buffers: new ReadBuffers(), close: () => scanners.forEach((s) => s.close?.()) };
}
