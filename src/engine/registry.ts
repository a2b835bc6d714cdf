// Every scanner the engine runs, in order. Formats and rules come from the rule set (src/rules/ruleset.ts).
import { RECORD_RULES, TEXT_FORMATS } from '../rules/ruleset.js';
import { fileSweepScanner } from './scanners/files.js';
import { evtxScanner } from './scanners/evtx.js';
import { iisConfigScanner } from './scanners/iis-config.js';
import { textLogScanner } from './scanners/textlog.js';
import type { Scanner } from './types.js';

// Re-exported for the benches (bench/lib.mjs) written before the rule set moved.
export { RECORD_RULES, TEXT_FORMATS } from '../rules/ruleset.js';

export const SCANNERS: Scanner[] = [textLogScanner(TEXT_FORMATS, RECORD_RULES), evtxScanner, fileSweepScanner, iisConfigScanner];
