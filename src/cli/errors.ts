/** An error a user caused or can fix (bad flag, missing file): printed as one line, exit code 2, no stack. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * `scan`: FINDINGS = signs of attack on some host, EXPOSURE = only a vulnerable build or configuration found,
 * INSUFFICIENT = neither, but some host could not be judged (insufficient-evidence, or its build's security update
 * level unknown): "no evidence" is not "fine". `verify`: FINDINGS = the case does not verify. INCOMPLETE: `collect`
 * failed (disk full, write error) or `verify` met a case whose collection did not finish. A `collect` interrupted by
 * a signal exits 128 + its number (SIGINT 130).
 */
export const EXIT = { CLEAN: 0, FINDINGS: 1, USAGE: 2, EXPOSURE: 3, INCOMPLETE: 4, INSUFFICIENT: 4 } as const;

/** Every message exhunt writes to stderr (errors and warnings) starts with this. */
export const ERROR_PREFIX = 'exhunt:';
