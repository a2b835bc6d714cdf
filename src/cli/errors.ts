/** An error a user caused or can fix (bad flag, missing file): printed as one line, exit code 2, no stack. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const EXIT = { CLEAN: 0, FINDINGS: 1, USAGE: 2 } as const;

/** Every message exhunt writes to stderr (errors and warnings) starts with this. */
export const ERROR_PREFIX = 'exhunt:';
