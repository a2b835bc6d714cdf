// Library API: unauthenticated, non-destructive remote exposure checks of Exchange servers.
export { checkTarget, checkAll, decide, CHECK_STATES, PROBE_PATH, PROBE_COOKIE, DEFAULT_CHECK_OPTIONS, type CheckResult, type CheckState, type CheckOptions, type CheckAllOptions } from './check.js';
export { parseTarget, targetLines } from './targets.js';
export { TokenBucket, runPool } from './limits.js';
export { textLine, buildExposed, csvHeader, csvRow, printable, FORMATS, type Format } from './format.js';
export type { HttpRecord, Header } from './http.js';
